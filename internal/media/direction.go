package media

import "fmt"

// Direction is an SDP media direction (RFC 3264 §5.1), seen from the side
// that states it. The zero value is sendrecv.
type Direction uint8

// Directions.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

func dirOf(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// CanSend reports whether media flows out in this direction.
func (d Direction) CanSend() bool { return d == SendRecv || d == SendOnly }

// CanRecv reports whether media flows in in this direction.
func (d Direction) CanRecv() bool { return d == SendRecv || d == RecvOnly }

// Reverse is the direction the other side sees: their sendonly is our recvonly.
func (d Direction) Reverse() Direction { return dirOf(d.CanRecv(), d.CanSend()) }

// Intersect is what both d and o allow.
func (d Direction) Intersect(o Direction) Direction {
	return dirOf(d.CanSend() && o.CanSend(), d.CanRecv() && o.CanRecv())
}

func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// MarshalText writes the SDP attribute name, for JSON.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func parseDirection(attr string) (Direction, bool) {
	switch attr {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return SendRecv, false
}
