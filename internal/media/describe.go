package media

import (
	"fmt"
	"strings"
	"time"
)

// SessionInfo describes a session, its processing chain and counters,
// for `ringo call show` and logs.
type SessionInfo struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	Local     string    `json:"local"`
	LocalRTCP string    `json:"localRtcp,omitempty"`
	Remote    string    `json:"remote,omitempty"` // from SDP
	Latched   string    `json:"latched,omitempty"`
	RTCPTo    string    `json:"rtcpTo,omitempty"`
	Direction string    `json:"direction,omitempty"`
	Codecs    []string  `json:"codecs,omitempty"`
	DTMF      string    `json:"dtmf,omitempty"`
	PTimeMS   int64     `json:"ptimeMs,omitempty"`
	RTCPMux   bool      `json:"rtcpMux"`
	SSRCOut   uint32    `json:"ssrcOut"`
	SSRCIn    uint32    `json:"ssrcIn,omitempty"`
	// Chain is the processing path of incoming packets, then outgoing.
	Chain    []string    `json:"chain"`
	Counters Counters    `json:"counters"`
	Peer     *PeerReport `json:"peer,omitempty"`
}

// Counters returns a snapshot of the session's counters.
func (s *Session) Counters() Counters {
	c := &s.c
	return Counters{
		PacketsIn: c.packetsIn.Load(), BytesIn: c.bytesIn.Load(),
		PacketsOut: c.packetsOut.Load(), BytesOut: c.bytesOut.Load(),
		Lost: max(s.recv.lost(), 0), Late: c.late.Load(), Duplicates: c.dups.Load(), Jumps: c.jumps.Load(),
		Malformed: c.malformed.Load(), Foreign: c.foreign.Load(), Relatched: c.relatched.Load(),
		Dropped: c.dropped.Load(), SendErrors: c.sendErrors.Load(),
		JitterMS: float64(s.recv.jitterDuration()) / float64(time.Millisecond),
		DTMFIn:   c.dtmfIn.Load(), DTMFOut: c.dtmfOut.Load(), DTMFDropped: c.dtmfDropped.Load(),
		RTCPIn: c.rtcpIn.Load(), RTCPOut: c.rtcpOut.Load(), SourceSwitch: c.switches.Load(), DecodeErrors: c.decodeErrors.Load(),
	}
}

// Describe reports the session as it is now; any goroutine may call it.
func (s *Session) Describe() SessionInfo {
	info := SessionInfo{
		ID: s.id, Name: s.name, Created: s.created,
		Local: s.rtpConn.LocalAddr().String(), SSRCOut: s.out.ssrc,
		Counters: s.Counters(),
	}
	if s.rtcpConn != nil {
		info.LocalRTCP = s.rtcpConn.LocalAddr().String()
	}
	if s.recv.pub.valid.Load() {
		info.SSRCIn = s.recv.pub.ssrc.Load()
	}
	in := "udp " + info.Local
	p, ok := s.Params()
	if ok {
		info.Remote = p.Remote.String()
		info.Direction = p.Direction.String()
		info.RTCPMux = p.RTCPMux
		info.PTimeMS = p.PTime.Milliseconds()
		for _, f := range p.Codecs {
			info.Codecs = append(info.Codecs, f.String())
		}
		if p.HasDTMF() {
			info.DTMF = p.DTMF.String()
		}
	}
	if l := s.latched.Load(); l != nil {
		info.Latched = l.String()
		in += " ← " + info.Latched + " (latched)"
	} else if ok {
		in += " ← " + info.Remote + " (from SDP)"
	}
	if d := s.rtcpDest.Load(); d != nil {
		info.RTCPTo = d.String()
	}
	info.Chain = append(info.Chain, in, "rtp stats (RFC 3550 loss, jitter)")
	if ok && p.HasDTMF() {
		info.Chain = append(info.Chain, fmt.Sprintf("dtmf %d (RFC 4733)", p.DTMF.PT))
	}
	if h := s.handler.Load(); h != nil {
		label := h.h.String()
		if f, isFwd := h.h.(*forwarder); isFwd {
			if op, ok2 := f.to.Params(); ok && ok2 {
				label += " (" + f.describeRoutes(p, op) + ")"
			}
		}
		info.Chain = append(info.Chain, label)
	}
	if pb := s.play.Load(); pb != nil {
		info.Chain = append(info.Chain, pb.String())
	}
	info.Chain = append(info.Chain, fmt.Sprintf("out ssrc %08x", s.out.ssrc),
		fmt.Sprintf("rtcp every ~%v", s.opts.RTCPInterval))
	if pr, ok := s.peerReport(); ok {
		info.Peer = &pr
	}
	return info
}

// String is the session's chain on one line.
func (s *Session) String() string {
	return s.name + ": " + strings.Join(s.Describe().Chain, " → ")
}
