package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Message is one datagram for PacketConn's batch calls.
type Message struct {
	Buf  []byte         // read: buffer to fill; write: the datagram
	N    int            // read: bytes received
	Addr netip.AddrPort // read: sender; write: destination
}

// PacketConn is the UDP seam under a Session. The plain implementation
// makes one system call per datagram; a batched one (recvmmsg/sendmmsg,
// a shared SO_REUSEPORT socket) fits the same calls.
type PacketConn interface {
	// ReadBatch blocks until at least one datagram arrives and fills
	// ms[:n]; it fails with net.ErrClosed after Close.
	ReadBatch(ms []Message) (n int, err error)
	// WriteTo sends one datagram.
	WriteTo(b []byte, to netip.AddrPort) error
	// WriteBatch sends ms and returns how many were sent.
	WriteBatch(ms []Message) (int, error)
	LocalAddr() netip.AddrPort
	Close() error
}

// ListenFunc opens a PacketConn bound to addr.
type ListenFunc func(addr netip.AddrPort) (PacketConn, error)

// ListenUDP opens a plain UDP socket.
func ListenUDP(addr netip.AddrPort) (PacketConn, error) {
	c, err := net.ListenUDP(udpNetwork(addr.Addr()), net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	return &udpConn{c: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort()}, nil
}

func udpNetwork(a netip.Addr) string {
	if a.Is4() {
		return "udp4"
	}
	if a.Is6() && !a.IsUnspecified() {
		return "udp6"
	}
	return "udp"
}

type udpConn struct {
	c     *net.UDPConn
	local netip.AddrPort
}

func (u *udpConn) ReadBatch(ms []Message) (int, error) {
	if len(ms) == 0 {
		return 0, errors.New("media: ReadBatch with no messages")
	}
	n, from, err := u.c.ReadFromUDPAddrPort(ms[0].Buf)
	if err != nil {
		return 0, err
	}
	ms[0].N = n
	ms[0].Addr = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	return 1, nil
}

func (u *udpConn) WriteTo(b []byte, to netip.AddrPort) error {
	_, err := u.c.WriteToUDPAddrPort(b, to)
	return err
}

func (u *udpConn) WriteBatch(ms []Message) (int, error) {
	for i := range ms {
		if _, err := u.c.WriteToUDPAddrPort(ms[i].Buf, ms[i].Addr); err != nil {
			return i, fmt.Errorf("media: write to %v: %w", ms[i].Addr, err)
		}
	}
	return len(ms), nil
}

func (u *udpConn) LocalAddr() netip.AddrPort { return u.local }
func (u *udpConn) Close() error              { return u.c.Close() }
