package media

import (
	"fmt"
	"strings"

	"github.com/pion/rtp"
)

// Bridge is a running relay; Stop detaches it.
type Bridge struct {
	fwd []*forwarder
}

// Relay forwards media between a and b. A packet in a codec both legs
// negotiated passes without decoding: it is renumbered onto the receiving
// leg's outgoing stream (SSRC, sequence, timestamp) and its payload type
// mapped to the one that leg uses for the same codec; RFC 4733 events pass
// as events. A packet in a codec the other leg lacks is transcoded, packet
// by packet, into that leg's first codec. Both legs must have their Params
// and each must send something the other can take. Call Relay again after
// a re-INVITE only if the legs changed; new Params are picked up by
// themselves.
func Relay(a, b *Session) (*Bridge, error) {
	pa, oka := a.Params()
	pb, okb := b.Params()
	if !oka || !okb {
		return nil, fmt.Errorf("media: relay %s-%s: %w", a.name, b.name, ErrNoRemote)
	}
	if !shareCodec(pa, pb) && (!canTranscode(pa, pb) || !canTranscode(pb, pa)) {
		return nil, fmt.Errorf("media: relay %s (%s) - %s (%s): %w",
			a.name, formatList(pa.Codecs), b.name, formatList(pb.Codecs), ErrCodecMismatch)
	}
	fa, fb := &forwarder{from: a, to: b, label: "relay"}, &forwarder{from: b, to: a, label: "relay"}
	a.SetHandler(fa)
	b.SetHandler(fb)
	return &Bridge{fwd: []*forwarder{fa, fb}}, nil
}

// Echo sends everything s receives back to it on s's own outgoing stream
// (own SSRC, sequence numbers and timestamps): a media loopback test.
func Echo(s *Session) *Bridge {
	f := &forwarder{from: s, to: s, label: "echo"}
	s.SetHandler(f)
	return &Bridge{fwd: []*forwarder{f}}
}

// Stop detaches the bridge from its sessions.
func (br *Bridge) Stop() {
	for _, f := range br.fwd {
		f.from.clearHandler(f)
	}
}

func shareCodec(a, b Params) bool {
	for _, x := range a.Codecs {
		for _, y := range b.Codecs {
			if x.Same(y.Codec) {
				return true
			}
		}
	}
	return false
}

// ptRoute says how one incoming payload type leaves on the other leg.
type ptRoute struct {
	pt   uint8
	rate uint32 // 0: not forwarded
}

// forwarder is the Handler a relay installs on the receiving session. It
// runs only on that session's read goroutine, so its cache needs no lock.
type forwarder struct {
	from, to *Session
	label    string

	inP, outP *sessionParams // the params the table was built for
	table     [128]ptRoute
	tc        *transcoder // built on the first packet that needs it
}

func (f *forwarder) String() string {
	return f.label + " → " + f.to.name
}

// routes rebuilds the payload-type table when either leg's params change.
func (f *forwarder) routes(in, out *sessionParams) *[128]ptRoute {
	if in == f.inP && out == f.outP {
		return &f.table
	}
	f.inP, f.outP = in, out
	f.table = [128]ptRoute{}
	add := func(src Format, dst []Format) {
		for _, d := range dst {
			if src.Same(d.Codec) {
				f.table[src.PT&0x7f] = ptRoute{pt: d.PT, rate: d.ClockRate}
				return
			}
		}
	}
	for _, c := range in.Codecs {
		add(c, out.Codecs)
	}
	if in.HasDTMF() && out.HasDTMF() {
		// Events relay as events when both legs use the same clock rate
		// for them; otherwise their durations would be wrong.
		add(in.DTMF, []Format{out.DTMF})
	}
	return &f.table
}

// HandleRTP renumbers the packet in place and sends it: no copy, no
// allocation.
func (f *forwarder) HandleRTP(from *Session, p *rtp.Packet, raw []byte) {
	to := f.to
	out := to.params.Load()
	if !to.canSend(out) {
		from.c.dropped.Add(1)
		return
	}
	in := from.params.Load()
	if in == nil {
		from.c.dropped.Add(1)
		return
	}
	r := f.routes(in, out)[p.PayloadType&0x7f]
	if r.rate == 0 {
		if !f.transcode(from, to, in, out, p) {
			from.c.dropped.Add(1)
		}
		return
	}
	key := from.id<<32 | uint64(from.inGen)
	seq, ts, switched := to.out.mapIn(key, p.SequenceNumber, p.Timestamp, r.rate, len(p.Payload), from.rxNow)
	if switched {
		to.c.switches.Add(1)
	}
	patchHeader(raw, p.Marker || switched, r.pt, seq, ts, to.out.ssrc)
	to.writeRTP(raw)
}

// describeRoutes lists the payload-type mapping for Describe.
func (f *forwarder) describeRoutes(in, out Params) string {
	var parts []string
	for _, c := range in.Codecs {
		for _, d := range out.Codecs {
			if c.Same(d.Codec) {
				parts = append(parts, fmt.Sprintf("%s %d→%d", c.Name, c.PT, d.PT))
			}
		}
	}
	for _, c := range in.Codecs {
		if !hasCodec(out.Codecs, c.Codec) && len(out.Codecs) > 0 {
			o := out.Codecs[0]
			parts = append(parts, fmt.Sprintf("%s %d⇒%s %d transcoded", c.Name, c.PT, o.Name, o.PT))
		}
	}
	if in.HasDTMF() && out.HasDTMF() && in.DTMF.Same(out.DTMF.Codec) {
		parts = append(parts, fmt.Sprintf("%s %d→%d", NameTelephoneEvent, in.DTMF.PT, out.DTMF.PT))
	}
	return strings.Join(parts, ", ")
}
