package media

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// PeerReport is what the peer's RTCP says, mostly about Ringo's stream.
type PeerReport struct {
	At time.Time `json:"at"`
	// From the peer's reception report about Ringo's SSRC.
	FractionLost float64 `json:"fractionLost"`
	TotalLost    int32   `json:"totalLost"`
	JitterMS     float64 `json:"jitterMs"`
	RTTMS        float64 `json:"rttMs,omitempty"`
	// From the peer's sender reports.
	SenderPackets uint32 `json:"senderPackets,omitempty"`
	SenderOctets  uint32 `json:"senderOctets,omitempty"`
	Bye           bool   `json:"bye,omitempty"`
}

type rtcpState struct {
	mu            sync.Mutex
	next          time.Time
	expectedPrior uint32
	receivedPrior uint64
	lsr           uint32 // middle 32 bits of the peer's last SR NTP time
	lsrAt         time.Time
	peer          PeerReport
	havePeer      bool
	latched       atomic.Bool
	buf           [512]byte // SR 52 + SDES ≤ 268 + BYE 8
}

// ntpTime converts t to the 64-bit NTP format (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	ns := t.UnixNano()
	sec := uint64(ns/1e9) + unixToNTP
	frac := uint64(ns%1e9) << 32 / 1e9
	return sec<<32 | frac
}

func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// nextInterval randomises the report interval (RFC 3550 §6.3.1).
func nextInterval(mean time.Duration) time.Duration {
	return mean/2 + time.Duration(rand.Int64N(int64(mean)))
}

func (s *Session) tickRTCP(p *sessionParams, now time.Time) {
	st := &s.rtcp
	st.mu.Lock()
	if st.next.IsZero() {
		// The first report goes out soon after media starts, then regularly.
		st.next = now.Add(nextInterval(s.opts.RTCPInterval) / 2)
	}
	if p == nil || now.Before(st.next) {
		st.mu.Unlock()
		return
	}
	st.next = now.Add(nextInterval(s.opts.RTCPInterval))
	s.sendRTCP(s.buildReport(now))
	st.mu.Unlock()
}

// buildReport writes a compound RTCP packet into the session's buffer: an
// SR (when Ringo has sent media) or RR, with a reception block for the
// current incoming source, then SDES CNAME (RFC 3550 §6.1). Written by
// hand rather than through pion/rtcp so that it does not allocate: the
// clock calls it for every session. Called with s.rtcp.mu held.
func (s *Session) buildReport(now time.Time) []byte {
	st := &s.rtcp
	b := st.buf[:0]
	ssrc := s.out.ssrc
	blocks := 0
	if s.recv.pub.valid.Load() {
		blocks = 1
	}
	ts, packets, octets, sent := s.out.senderInfo(now)
	if sent {
		b = appendRTCPHeader(b, blocks, rtcpSR, 1+5+6*blocks)
		b = binary.BigEndian.AppendUint32(b, ssrc)
		b = binary.BigEndian.AppendUint64(b, ntpTime(now))
		b = binary.BigEndian.AppendUint32(b, ts)
		b = binary.BigEndian.AppendUint32(b, packets)
		b = binary.BigEndian.AppendUint32(b, octets)
	} else {
		b = appendRTCPHeader(b, blocks, rtcpRR, 1+6*blocks)
		b = binary.BigEndian.AppendUint32(b, ssrc)
	}
	if blocks == 1 {
		ext := s.recv.pub.ext.Load()
		base := s.recv.pub.base.Load()
		received := s.recv.pub.received.Load()
		expected := ext - base + 1
		lost := int64(expected) - int64(received)
		expInt := expected - st.expectedPrior
		recvInt := received - st.receivedPrior
		st.expectedPrior, st.receivedPrior = expected, received
		var fraction uint32
		if lostInt := int64(expInt) - int64(recvInt); expInt > 0 && lostInt > 0 {
			fraction = uint32(lostInt << 8 / int64(expInt))
		}
		cum := uint32(min(max(lost, -(1<<23)), 1<<23-1)) & 0xffffff
		var lsr, dlsr uint32
		if st.lsr != 0 {
			lsr, dlsr = st.lsr, uint32(now.Sub(st.lsrAt)*65536/time.Second)
		}
		b = binary.BigEndian.AppendUint32(b, s.recv.pub.ssrc.Load())
		b = binary.BigEndian.AppendUint32(b, fraction<<24|cum)
		b = binary.BigEndian.AppendUint32(b, ext)
		b = binary.BigEndian.AppendUint32(b, s.recv.pub.jitter.Load())
		b = binary.BigEndian.AppendUint32(b, lsr)
		b = binary.BigEndian.AppendUint32(b, dlsr)
	}
	// SDES: one chunk with CNAME, ended by at least one null octet and
	// padded to a 32-bit boundary.
	cname := s.opts.CNAME
	chunk := 4 + 2 + len(cname) + 1
	chunk = (chunk + 3) &^ 3
	b = appendRTCPHeader(b, 1, rtcpSDES, chunk/4)
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = append(b, 1, byte(len(cname)))
	b = append(b, cname...)
	for range chunk - 4 - 2 - len(cname) {
		b = append(b, 0)
	}
	return b
}

const (
	rtcpSR   = 200
	rtcpRR   = 201
	rtcpSDES = 202
	rtcpBYE  = 203
)

// appendRTCPHeader writes a common header for a packet of words 32-bit
// words after the header.
func appendRTCPHeader(b []byte, count, pt, words int) []byte {
	return append(b, 0x80|byte(count), byte(pt), byte(words>>8), byte(words))
}

func (s *Session) sendRTCP(b []byte) {
	d := s.rtcpDest.Load()
	if d == nil || !d.IsValid() || d.Addr().IsUnspecified() {
		return
	}
	conn := s.rtcpConn
	if p := s.params.Load(); conn == nil || (p != nil && p.RTCPMux) {
		conn = s.rtpConn
	}
	if err := conn.WriteTo(b, *d); err != nil {
		s.c.sendErrors.Add(1)
		return
	}
	s.c.rtcpOut.Add(1)
}

// sendBye says goodbye when the session closes (RFC 3550 §6.6).
func (s *Session) sendBye() {
	if s.params.Load() == nil {
		return
	}
	s.rtcp.mu.Lock()
	b := s.buildReport(time.Now())
	b = appendRTCPHeader(b, 1, rtcpBYE, 1)
	b = binary.BigEndian.AppendUint32(b, s.out.ssrc)
	s.sendRTCP(b)
	s.rtcp.mu.Unlock()
}

func (s *Session) receiveRTCP(b []byte, from netip.AddrPort, now time.Time) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		s.c.malformed.Add(1)
		return
	}
	p := s.params.Load()
	if !s.acceptRTCPSource(from, p) {
		s.c.foreign.Add(1)
		return
	}
	s.c.rtcpIn.Add(1)
	st := &s.rtcp
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, pkt := range pkts {
		switch pkt := pkt.(type) {
		case *rtcp.SenderReport:
			st.lsr = uint32(pkt.NTPTime >> 16)
			st.lsrAt = now
			st.peer.SenderPackets, st.peer.SenderOctets = pkt.PacketCount, pkt.OctetCount
			st.peer.At, st.havePeer = now, true
			s.peerReports(pkt.Reports, now)
		case *rtcp.ReceiverReport:
			st.peer.At, st.havePeer = now, true
			s.peerReports(pkt.Reports, now)
		case *rtcp.Goodbye:
			st.peer.Bye, st.havePeer = true, true
		}
	}
}

// peerReports takes the block about Ringo's stream. Called with the lock held.
func (s *Session) peerReports(rs []rtcp.ReceptionReport, now time.Time) {
	st := &s.rtcp
	for _, r := range rs {
		if r.SSRC != s.out.ssrc {
			continue
		}
		st.peer.FractionLost = float64(r.FractionLost) / 256
		lost := int32(r.TotalLost<<8) >> 8 // 24-bit signed
		st.peer.TotalLost = lost
		s.out.mu.Lock()
		rate := s.out.rate
		s.out.mu.Unlock()
		if rate != 0 {
			st.peer.JitterMS = float64(r.Jitter) * 1000 / float64(rate)
		}
		if r.LastSenderReport != 0 {
			// RTT = now − LSR − DLSR, in 1/65536 s (RFC 3550 §6.4.1).
			rtt := ntpMiddle(now) - r.LastSenderReport - r.Delay
			if int32(rtt) >= 0 {
				st.peer.RTTMS = float64(rtt) * 1000 / 65536
			}
		}
	}
}

// acceptRTCPSource takes RTCP from the peer's SDP or latched RTP address
// and latches its port, which behind NAT is often not RTP port+1.
func (s *Session) acceptRTCPSource(from netip.AddrPort, p *sessionParams) bool {
	l := s.latched.Load()
	ok := p == nil || from.Addr() == p.Remote.Addr() || from.Addr() == p.RemoteRTCP.Addr() ||
		(l != nil && from.Addr() == l.Addr()) ||
		(l == nil && !p.trusted) // behind NAT, before any RTP: nothing to compare with
	if !ok {
		return false
	}
	if d := s.rtcpDest.Load(); d == nil || *d != from {
		a := from
		s.rtcpDest.Store(&a)
	}
	s.rtcp.latched.Store(true)
	return true
}

// peerReport returns the peer's last RTCP, if any.
func (s *Session) peerReport() (PeerReport, bool) {
	s.rtcp.mu.Lock()
	defer s.rtcp.mu.Unlock()
	return s.rtcp.peer, s.rtcp.havePeer
}
