package media

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
)

// DefaultPTime is the packetisation interval Ringo sends and asks for.
const DefaultPTime = 20 * time.Millisecond

// Preferences are what Ringo offers or accepts for one leg.
type Preferences struct {
	// Codecs in preference order.
	Codecs []Codec
	// PTime is the packet interval Ringo asks the peer for.
	PTime time.Duration
	// DTMF offers/accepts RFC 4733 telephone-event.
	DTMF bool
	// Direction is what Ringo wants: SendOnly or Inactive put the peer on hold.
	Direction Direction
	// RTCPMux offers/accepts RTCP on the RTP port (RFC 5761).
	RTCPMux bool
}

// DefaultPreferences returns a fresh copy of Ringo's defaults.
func DefaultPreferences() Preferences {
	return Preferences{Codecs: DefaultCodecs(), PTime: DefaultPTime, DTMF: true, RTCPMux: true}
}

// Restrict keeps only the preferred codecs that also appear in codecs, in
// the preference order. Offering a callee only what the caller offered
// keeps the call relayable without transcoding.
func (p Preferences) Restrict(codecs []Codec) Preferences {
	out := p
	out.Codecs = nil
	for _, c := range p.Codecs {
		for _, o := range codecs {
			if c.Same(o) {
				out.Codecs = append(out.Codecs, c)
				break
			}
		}
	}
	return out
}

// Endpoint is Ringo's side of one leg as written into SDP.
type Endpoint struct {
	Addr     netip.Addr // advertised address
	Port     uint16     // RTP port
	RTCPPort uint16     // 0 means Port+1
	// SessionID and Version fill the o= line; a re-offer in the same dialog
	// keeps SessionID and increments Version (RFC 3264 §8).
	SessionID uint64
	Version   uint64
}

// Description is a remote session description reduced to what the media
// engine needs, with the parsed SDP kept for anything else.
type Description struct {
	SDP *sdp.SessionDescription `json:"-"`
	// Audio is the index of the audio m-line in use.
	Audio     int              `json:"audio"`
	Proto     string           `json:"proto"`
	Addr      netip.AddrPort   `json:"addr"`
	RTCP      netip.AddrPort   `json:"rtcp"`
	Formats   []Format         `json:"formats"` // as offered, in order
	Fmtp      map[uint8]string `json:"fmtp,omitempty"`
	PTime     time.Duration    `json:"ptime"` // 0 when absent
	Direction Direction        `json:"direction"`
	RTCPMux   bool             `json:"rtcpMux"`
	// Hold is set by the RFC 2543 form of hold: c=0.0.0.0.
	Hold bool `json:"hold"`
}

// Codecs lists the offered audio codecs (not telephone-event), in order.
func (d *Description) Codecs() []Codec {
	var out []Codec
	for _, f := range d.Formats {
		if !f.IsDTMF() {
			out = append(out, f.Codec)
		}
	}
	return out
}

// Params is what one leg negotiated, from Ringo's point of view; a Session
// needs nothing else to send and receive.
type Params struct {
	Remote     netip.AddrPort `json:"remote"`
	RemoteRTCP netip.AddrPort `json:"remoteRtcp"`
	// Codecs are the common codecs in preference order; Ringo sends Codecs[0].
	Codecs []Format `json:"codecs"`
	// DTMF is the telephone-event format; HasDTMF says whether there is one.
	DTMF      Format        `json:"dtmf"`
	PTime     time.Duration `json:"ptime"`
	Direction Direction     `json:"direction"`
	RTCPMux   bool          `json:"rtcpMux"`
	Proto     string        `json:"proto"`
}

// HasDTMF reports whether telephone-event was negotiated.
func (p Params) HasDTMF() bool { return p.DTMF.Name != "" }

// Audio lists the negotiated codecs without payload types.
func (p Params) Audio() []Codec {
	out := make([]Codec, len(p.Codecs))
	for i, f := range p.Codecs {
		out[i] = f.Codec
	}
	return out
}

// ParseSDP parses a remote offer or answer and picks its audio stream.
// Failures are *SDPError.
func ParseSDP(raw []byte) (*Description, error) {
	var s sdp.SessionDescription
	if err := s.Unmarshal(raw); err != nil {
		return nil, sdpErr(ErrMalformedSDP, err.Error())
	}
	var firstErr error
	for i, m := range s.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		d, err := describeAudio(&s, i)
		if err == nil {
			return d, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, sdpErr(ErrNoAudio, "no audio m-line with a port")
}

func usableProto(protos []string) bool {
	p := strings.Join(protos, "/")
	return p == "RTP/AVP" || p == "RTP/AVPF"
}

func describeAudio(s *sdp.SessionDescription, idx int) (*Description, error) {
	m := s.MediaDescriptions[idx]
	d := &Description{SDP: s, Audio: idx, Proto: strings.Join(m.MediaName.Protos, "/"), Fmtp: map[uint8]string{}}
	if !usableProto(m.MediaName.Protos) {
		return nil, sdpErr(ErrUnsupportedTransport, d.Proto)
	}
	port := m.MediaName.Port.Value
	if port < 1 || port > 65535 {
		return nil, sdpErr(ErrMalformedSDP, fmt.Sprintf("audio port %d", port))
	}
	ci := m.ConnectionInformation
	if ci == nil {
		ci = s.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return nil, sdpErr(ErrMalformedSDP, "no connection address for audio")
	}
	ip, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		return nil, sdpErr(ErrMalformedSDP, "connection address "+strconv.Quote(ci.Address.Address))
	}
	ip = ip.Unmap()
	d.Hold = ip.IsUnspecified()
	d.Addr = netip.AddrPortFrom(ip, uint16(port))
	d.RTCP = netip.AddrPortFrom(ip, uint16(port+1))
	if port == 65535 {
		d.RTCP = d.Addr
	}

	rtpmap := map[uint8]Codec{}
	d.Direction = SendRecv
	for _, a := range s.Attributes {
		if dir, ok := parseDirection(a.Key); ok {
			d.Direction = dir
		}
	}
	for _, a := range m.Attributes {
		if dir, ok := parseDirection(a.Key); ok {
			d.Direction = dir
			continue
		}
		switch a.Key {
		case "rtpmap":
			pt, c, ok := parseRtpmap(a.Value)
			if ok {
				rtpmap[pt] = c
			}
		case "fmtp":
			if ptStr, params, ok := strings.Cut(a.Value, " "); ok {
				if pt, err := strconv.ParseUint(ptStr, 10, 7); err == nil {
					d.Fmtp[uint8(pt)] = strings.TrimSpace(params)
				}
			}
		case "ptime":
			if ms, err := strconv.ParseFloat(strings.TrimSpace(a.Value), 64); err == nil && ms > 0 && ms <= 1000 {
				d.PTime = time.Duration(ms * float64(time.Millisecond))
			}
		case "rtcp-mux":
			d.RTCPMux = true
		case "rtcp":
			if rtcp, ok := parseRTCPAttr(a.Value, ip); ok {
				d.RTCP = rtcp
			}
		}
	}
	for _, f := range m.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return nil, sdpErr(ErrMalformedSDP, "payload type "+strconv.Quote(f))
		}
		c, ok := rtpmap[uint8(pt)]
		if !ok {
			if c, ok = staticCodec(uint8(pt)); !ok {
				continue // a dynamic type without rtpmap cannot be identified
			}
		}
		c.Fmtp = d.Fmtp[uint8(pt)]
		d.Formats = append(d.Formats, Format{PT: uint8(pt), Codec: c})
	}
	if d.RTCPMux {
		d.RTCP = d.Addr
	}
	return d, nil
}

// parseRtpmap reads "96 opus/48000/2".
func parseRtpmap(v string) (uint8, Codec, bool) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return 0, Codec{}, false
	}
	pt, err := strconv.ParseUint(ptStr, 10, 7)
	if err != nil {
		return 0, Codec{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || parts[0] == "" {
		return 0, Codec{}, false
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || rate == 0 {
		return 0, Codec{}, false
	}
	c := Codec{Name: parts[0], ClockRate: uint32(rate)}
	if len(parts) > 2 {
		ch, err := strconv.ParseUint(parts[2], 10, 8)
		if err != nil || ch == 0 {
			return 0, Codec{}, false
		}
		c.Channels = uint8(ch)
	}
	return uint8(pt), c, true
}

// parseRTCPAttr reads RFC 3605 "a=rtcp:PORT [IN IP4 ADDR]".
func parseRTCPAttr(v string, def netip.Addr) (netip.AddrPort, bool) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, false
	}
	ip := def
	if len(f) == 4 {
		if a, err := netip.ParseAddr(f[3]); err == nil {
			ip = a.Unmap()
		}
	}
	return netip.AddrPortFrom(ip, uint16(port)), true
}

// Negotiate picks, from a remote offer or answer, the codecs Ringo also
// has (in Ringo's order), telephone-event, ptime, direction and rtcp-mux.
func Negotiate(d *Description, prefs Preferences) (Params, error) {
	p := Params{
		Remote:     d.Addr,
		RemoteRTCP: d.RTCP,
		PTime:      d.PTime,
		Proto:      d.Proto,
		RTCPMux:    d.RTCPMux && prefs.RTCPMux,
	}
	if p.PTime == 0 {
		p.PTime = DefaultPTime
	}
	for _, want := range prefs.Codecs {
		for _, f := range d.Formats {
			if !f.IsDTMF() && f.Same(want) && !hasPT(p.Codecs, f.PT) {
				f.Fmtp = want.Fmtp
				p.Codecs = append(p.Codecs, f)
				break
			}
		}
	}
	if len(p.Codecs) == 0 {
		return Params{}, sdpErr(ErrNoCommonCodec, "offered "+formatList(d.Formats))
	}
	if prefs.DTMF {
		p.DTMF = pickDTMF(d.Formats, p.Codecs[0].ClockRate)
		p.DTMF.Fmtp = "0-15"
	}
	remote := d.Direction
	if d.Hold {
		// c=0.0.0.0: the peer must not be sent to, whatever it says.
		remote = remote.Intersect(SendOnly)
	}
	p.Direction = remote.Reverse().Intersect(prefs.Direction)
	if !p.RTCPMux && d.RTCPMux {
		p.RemoteRTCP = netip.AddrPortFrom(d.Addr.Addr(), d.Addr.Port()+1)
	}
	return p, nil
}

func hasPT(fs []Format, pt uint8) bool {
	for _, f := range fs {
		if f.PT == pt {
			return true
		}
	}
	return false
}

// pickDTMF prefers telephone-event at the audio codec's clock rate
// (RFC 4733 §2.1), then 8000 Hz, then any.
func pickDTMF(fs []Format, rate uint32) Format {
	var best Format
	score := 0
	for _, f := range fs {
		if !f.IsDTMF() {
			continue
		}
		s := 1
		switch f.ClockRate {
		case rate:
			s = 3
		case 8000:
			s = 2
		}
		if s > score {
			best, score = f, s
		}
	}
	return best
}

func formatList(fs []Format) string {
	if len(fs) == 0 {
		return "nothing recognisable"
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, ", ")
}

// Answer negotiates a remote offer and writes Ringo's answer for ep. It
// keeps one m-line per offered m-line (RFC 3264 §6): the chosen audio
// stream gets ep's port, every other stream is refused with port 0.
func Answer(offer *Description, prefs Preferences, ep Endpoint) ([]byte, Params, error) {
	p, err := Negotiate(offer, prefs)
	if err != nil {
		return nil, Params{}, err
	}
	s := newDescription(ep)
	for i, m := range offer.SDP.MediaDescriptions {
		if i != offer.Audio {
			s.MediaDescriptions = append(s.MediaDescriptions, refusedMedia(m))
			continue
		}
		formats := p.Codecs
		if p.HasDTMF() {
			formats = append(formats[:len(formats):len(formats)], p.DTMF)
		}
		s.MediaDescriptions = append(s.MediaDescriptions, audioMedia(ep, offer.Proto, formats, p.Direction, p.RTCPMux, prefs.PTime))
	}
	out, err := s.Marshal()
	if err != nil {
		return nil, Params{}, fmt.Errorf("media: writing answer: %w", err)
	}
	return out, p, nil
}

// Offer writes Ringo's own offer for ep from prefs. Codecs without a static
// payload type get dynamic ones from 96; telephone-event is offered at
// 8000 Hz (101) and, when Opus is offered, at 48000 Hz too.
func Offer(prefs Preferences, ep Endpoint) ([]byte, error) {
	if len(prefs.Codecs) == 0 {
		return nil, sdpErr(ErrNoCommonCodec, "nothing to offer")
	}
	var formats []Format
	next := uint8(96)
	take := func() uint8 {
		for next == 101 || next == 110 {
			next++
		}
		pt := next
		next++
		return pt
	}
	rates := map[uint32]bool{}
	for _, c := range prefs.Codecs {
		pt, ok := staticPT(c)
		if !ok {
			pt = take()
		}
		formats = append(formats, Format{PT: pt, Codec: c})
		rates[c.ClockRate] = true
	}
	if prefs.DTMF {
		for _, te := range []Format{
			{PT: 101, Codec: Codec{Name: NameTelephoneEvent, ClockRate: 8000, Fmtp: "0-15"}},
			{PT: 110, Codec: Codec{Name: NameTelephoneEvent, ClockRate: 48000, Fmtp: "0-15"}},
		} {
			if te.ClockRate == 8000 || rates[te.ClockRate] {
				formats = append(formats, te)
			}
		}
	}
	s := newDescription(ep)
	s.MediaDescriptions = append(s.MediaDescriptions, audioMedia(ep, "RTP/AVP", formats, prefs.Direction, prefs.RTCPMux, prefs.PTime))
	out, err := s.Marshal()
	if err != nil {
		return nil, fmt.Errorf("media: writing offer: %w", err)
	}
	return out, nil
}

// AcceptAnswer reads the peer's answer to Ringo's offer. The answerer's
// payload types are the ones to send with (RFC 3264 §5.1).
func AcceptAnswer(raw []byte, prefs Preferences) (Params, error) {
	d, err := ParseSDP(raw)
	if err != nil {
		return Params{}, err
	}
	return Negotiate(d, prefs)
}

func addrType(a netip.Addr) string {
	if a.Is4() {
		return "IP4"
	}
	return "IP6"
}

func newDescription(ep Endpoint) *sdp.SessionDescription {
	addr := ep.Addr.String()
	return &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "ringo", SessionID: ep.SessionID, SessionVersion: ep.Version,
			NetworkType: "IN", AddressType: addrType(ep.Addr), UnicastAddress: addr,
		},
		SessionName: "ringo",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType(ep.Addr), Address: &sdp.Address{Address: addr},
		},
		TimeDescriptions: []sdp.TimeDescription{{}},
	}
}

func refusedMedia(m *sdp.MediaDescription) *sdp.MediaDescription {
	formats := m.MediaName.Formats
	if len(formats) > 1 {
		formats = formats[:1]
	}
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: m.MediaName.Media, Protos: m.MediaName.Protos, Formats: formats,
	}}
}

func audioMedia(ep Endpoint, proto string, formats []Format, dir Direction, mux bool, ptime time.Duration) *sdp.MediaDescription {
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media:  "audio",
		Port:   sdp.RangedPort{Value: int(ep.Port)},
		Protos: strings.Split(proto, "/"),
	}}
	for _, f := range formats {
		addFormat(md, f)
	}
	if ptime > 0 {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("ptime", strconv.FormatInt(ptime.Milliseconds(), 10)))
	}
	md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(dir.String()))
	if mux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
	} else if ep.RTCPPort != 0 && ep.RTCPPort != ep.Port+1 {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp", strconv.Itoa(int(ep.RTCPPort))))
	}
	return md
}

func addFormat(md *sdp.MediaDescription, f Format) {
	pt := strconv.Itoa(int(f.PT))
	md.MediaName.Formats = append(md.MediaName.Formats, pt)
	md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", pt+" "+f.Codec.String()))
	if f.Fmtp != "" {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", pt+" "+f.Fmtp))
	}
}

// Rewrite points a description at ep while keeping everything else (codecs,
// attributes): the connection and origin addresses become ep.Addr, the
// audio stream's port ep.Port, and streams Ringo does not carry are refused
// with port 0. It is for passing one leg's offer or answer on to the other
// leg of an anchored call. When ep has a SessionID the origin becomes
// Ringo's (session ID and version from ep): the peer has seen Ringo's o=
// line on this leg, and a re-offer must keep it but for the version
// (RFC 3264 §8).
func Rewrite(raw []byte, ep Endpoint) ([]byte, error) {
	d, err := ParseSDP(raw)
	if err != nil {
		return nil, err
	}
	s := d.SDP
	addr := ep.Addr.String()
	s.Origin.AddressType, s.Origin.UnicastAddress = addrType(ep.Addr), addr
	if ep.SessionID != 0 {
		s.Origin.Username, s.Origin.SessionID, s.Origin.SessionVersion = "ringo", ep.SessionID, ep.Version
	}
	if d.Hold {
		addr = "0.0.0.0"
		if ep.Addr.Is6() {
			addr = "::"
		}
	}
	s.ConnectionInformation = &sdp.ConnectionInformation{
		NetworkType: "IN", AddressType: addrType(ep.Addr), Address: &sdp.Address{Address: addr},
	}
	for i, m := range s.MediaDescriptions {
		m.ConnectionInformation = nil
		if i != d.Audio {
			if m.MediaName.Port.Value != 0 {
				s.MediaDescriptions[i] = refusedMedia(m)
			}
			continue
		}
		m.MediaName.Port = sdp.RangedPort{Value: int(ep.Port)}
		attrs := m.Attributes[:0]
		for _, a := range m.Attributes {
			switch a.Key {
			case "rtcp", "candidate", "ice-ufrag", "ice-pwd", "ice-options", "end-of-candidates",
				"ssrc", "ssrc-group":
				continue // they name the other leg's transport and stream, which Ringo renumbers
			}
			attrs = append(attrs, a)
		}
		if ep.RTCPPort != 0 && ep.RTCPPort != ep.Port+1 && !d.RTCPMux {
			attrs = append(attrs, sdp.NewAttribute("rtcp", strconv.Itoa(int(ep.RTCPPort))))
		}
		m.Attributes = attrs
	}
	out, err := s.Marshal()
	if err != nil {
		return nil, fmt.Errorf("media: rewriting SDP: %w", err)
	}
	return out, nil
}
