package media

import (
	"strconv"
	"strings"
)

// Codec names a payload format as SDP does (rtpmap encoding name, RTP clock
// rate, channels). This small table only serves negotiation and relaying;
// encoding and decoding live in the codec package.
type Codec struct {
	Name      string `json:"name"`
	ClockRate uint32 `json:"clockRate"`
	Channels  uint8  `json:"channels,omitempty"` // 0 means 1
	// Fmtp is what Ringo writes in its own offers and answers.
	Fmtp string `json:"fmtp,omitempty"`
}

// Encoding names Ringo knows.
const (
	NamePCMU           = "PCMU"
	NamePCMA           = "PCMA"
	NameG722           = "G722"
	NameL16            = "L16"
	NameOpus           = "opus"
	NameTelephoneEvent = "telephone-event"
	NameCN             = "CN"
)

func (c Codec) channels() uint8 {
	if c.Channels == 0 {
		return 1
	}
	return c.Channels
}

// Same reports whether c and o are the same payload format; names compare
// case-insensitively (RFC 4855 §3).
func (c Codec) Same(o Codec) bool {
	return strings.EqualFold(c.Name, o.Name) && c.ClockRate == o.ClockRate && c.channels() == o.channels()
}

// IsDTMF reports whether c is RFC 4733 telephone-event.
func (c Codec) IsDTMF() bool { return strings.EqualFold(c.Name, NameTelephoneEvent) }

func (c Codec) String() string {
	s := c.Name + "/" + strconv.FormatUint(uint64(c.ClockRate), 10)
	if c.Channels > 1 {
		s += "/" + strconv.Itoa(int(c.Channels))
	}
	return s
}

// Format is a codec bound to the payload type one leg negotiated for it.
type Format struct {
	PT uint8 `json:"pt"`
	Codec
}

func (f Format) String() string { return strconv.Itoa(int(f.PT)) + " " + f.Codec.String() }

// staticCodec returns the RFC 3551 static assignment for pt, which applies
// when an offer omits a=rtpmap.
func staticCodec(pt uint8) (Codec, bool) {
	switch pt {
	case 0:
		return Codec{Name: NamePCMU, ClockRate: 8000}, true
	case 3:
		return Codec{Name: "GSM", ClockRate: 8000}, true
	case 4:
		return Codec{Name: "G723", ClockRate: 8000}, true
	case 8:
		return Codec{Name: NamePCMA, ClockRate: 8000}, true
	case 9:
		return Codec{Name: NameG722, ClockRate: 8000}, true
	case 10:
		return Codec{Name: NameL16, ClockRate: 44100, Channels: 2}, true
	case 11:
		return Codec{Name: NameL16, ClockRate: 44100}, true
	case 13:
		return Codec{Name: NameCN, ClockRate: 8000}, true
	case 18:
		return Codec{Name: "G729", ClockRate: 8000}, true
	}
	return Codec{}, false
}

// staticPT is the inverse of staticCodec for the codecs Ringo offers.
func staticPT(c Codec) (uint8, bool) {
	for _, pt := range []uint8{0, 8, 9, 13} {
		if s, _ := staticCodec(pt); s.Same(c) {
			return pt, true
		}
	}
	return 0, false
}

// DefaultCodecs is Ringo's codec preference: G.711 first because every
// phone has it and it relays and records without transcoding.
func DefaultCodecs() []Codec {
	return []Codec{
		{Name: NamePCMU, ClockRate: 8000},
		{Name: NamePCMA, ClockRate: 8000},
		{Name: NameG722, ClockRate: 8000},
		{Name: NameOpus, ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
	}
}
