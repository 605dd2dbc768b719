package media

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

func memEngine(t *testing.T) (*Engine, *memNet) {
	n := newMemNet()
	e := newEngine(t, func(c *EngineConfig) { c.Listen = n.listen })
	return e, n
}

func TestSymmetricRTPLatching(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:4000")
	private := netip.MustParseAddrPort("10.0.0.5:4000")
	nat := netip.MustParseAddrPort("198.51.100.9:5555")
	rebound := netip.MustParseAddrPort("198.51.100.9:6666")

	tests := []struct {
		name      string
		sdp       netip.AddrPort
		from      netip.AddrPort
		toSDP     int // echoes sent to the SDP address before latching
		firstEcho int // index of the first packet whose echo reaches from
	}{
		{"public SDP address, NAT source: latch after 3", public, nat, 2, 2},
		{"private SDP address: latch at once", private, nat, 0, 0},
		{"source is the SDP address", public, public, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, n := memEngine(t)
			s := newSession(t, e, "leg")
			phone, err := n.endpoint(tt.from)
			if err != nil {
				t.Fatal(err)
			}
			defer phone.Close()
			s.SetRemote(muxParams(tt.sdp, Format{}, fmtPCMU))
			defer Echo(s).Stop()
			for i := range 4 {
				phone.WriteTo(rtpBytes(0, false, uint16(i), uint32(160*i), 9, []byte{byte(i)}), s.LocalAddr())
				if i < tt.firstEcho {
					continue
				}
				m := phone.recv(t)
				if got := m.Buf[rtpHeaderLen]; got != byte(i) {
					t.Fatalf("first echo at the source carries packet %d, want %d", got, i)
				}
				break
			}
			if got := n.sentTo(tt.sdp); tt.sdp != tt.from && got != tt.toSDP {
				t.Fatalf("%d echoes went to the SDP address, want %d", got, tt.toSDP)
			}
			if l := s.Describe().Latched; l != tt.from.String() {
				t.Fatalf("latched %q, want %v", l, tt.from)
			}
		})
	}

	t.Run("relatch after NAT rebinding, not on a stray packet", func(t *testing.T) {
		e, n := memEngine(t)
		s := newSession(t, e, "leg")
		first, _ := n.endpoint(nat)
		second, _ := n.endpoint(rebound)
		defer first.Close()
		defer second.Close()
		s.SetRemote(muxParams(private, Format{}, fmtPCMU))
		defer Echo(s).Stop()
		seq := uint16(0)
		send := func(c *memConn) {
			c.WriteTo(rtpBytes(0, false, seq, uint32(seq)*160, 9, []byte{byte(seq)}), s.LocalAddr())
			seq++
		}
		send(first)
		first.recv(t)
		// Stray packets from elsewhere, interrupted by the latched source: ignored.
		for range DefaultRelatchAfter - 1 {
			send(second)
		}
		send(first)
		first.recv(t)
		if f := s.Counters().Foreign; f != DefaultRelatchAfter-1 {
			t.Fatalf("foreign = %d", f)
		}
		// The source moved for good: after RelatchAfter packets in a row.
		for range DefaultRelatchAfter {
			send(second)
		}
		m := second.recv(t)
		if m.Buf[rtpHeaderLen] != byte(seq-1) {
			t.Fatalf("echo of packet %d, want %d", m.Buf[rtpHeaderLen], seq-1)
		}
		c := s.Counters()
		if c.Relatched != 1 || c.Foreign != 2*DefaultRelatchAfter-2 {
			t.Fatalf("counters %+v", c)
		}
		// A new remote address in SDP forgets the latch.
		s.SetRemote(muxParams(netip.MustParseAddrPort("10.9.9.9:1000"), Format{}, fmtPCMU))
		send(first)
		first.recv(t)
	})
}

func TestRTCPReportsAndParsing(t *testing.T) {
	e, n := memEngine(t)
	s, err := e.NewSession(SessionOptions{Name: "leg", RTCPInterval: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	phoneAddr := netip.MustParseAddrPort("10.0.0.7:7000")
	phoneRTCPAddr := netip.MustParseAddrPort("10.0.0.7:7001")
	phone, _ := n.endpoint(phoneAddr)
	phoneRTCP, _ := n.endpoint(phoneRTCPAddr)
	p := muxParams(phoneAddr, Format{}, fmtPCMU)
	p.RTCPMux, p.RemoteRTCP = false, phoneRTCPAddr
	s.SetRemote(p)
	defer Echo(s).Stop()

	// 10 packets with 3 missing.
	for _, seq := range []uint16{1, 2, 3, 5, 6, 8, 9, 11, 12, 13} {
		phone.WriteTo(rtpBytes(0, false, seq, uint32(seq)*160, 0x5151, make([]byte, 160)), s.LocalAddr())
		phone.recv(t)
	}
	// The peer's SR about Ringo's stream.
	ntp := ntpTime(time.Now())
	sr := &rtcp.SenderReport{SSRC: 0x5151, NTPTime: ntp, PacketCount: 10, OctetCount: 1600,
		Reports: []rtcp.ReceptionReport{{SSRC: s.SSRC(), FractionLost: 64, TotalLost: 2, Jitter: 80}}}
	b, _ := rtcp.Marshal([]rtcp.Packet{sr})
	rtcpLocal := netip.AddrPortFrom(s.LocalAddr().Addr(), s.LocalAddr().Port()+1)
	phoneRTCP.WriteTo(b, rtcpLocal)

	// Wait for a report from Ringo that reflects both.
	for {
		m := phoneRTCP.recv(t)
		pkts, err := rtcp.Unmarshal(m.Buf)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := pkts[0].(*rtcp.SenderReport)
		if !ok {
			t.Fatalf("first packet %T, want an SR since Ringo sent media", pkts[0])
		}
		if _, ok := pkts[1].(*rtcp.SourceDescription); !ok {
			t.Fatalf("second packet %T, want SDES", pkts[1])
		}
		if len(got.Reports) != 1 || got.Reports[0].LastSenderReport == 0 {
			continue // an earlier report, before the peer's SR arrived
		}
		rr := got.Reports[0]
		if got.SSRC != s.SSRC() || got.PacketCount != 10 || rr.SSRC != 0x5151 || rr.TotalLost != 3 ||
			rr.LastSequenceNumber != 13 || rr.LastSenderReport != uint32(ntp>>16) {
			t.Fatalf("report %+v / %+v", got, rr)
		}
		break
	}
	// The counter moves just after the datagram leaves.
	waitFor(t, "rtcpOut", func() bool { return s.Counters().RTCPOut > 0 })
	info := s.Describe()
	if info.Peer == nil || info.Peer.TotalLost != 2 || info.Peer.FractionLost != 0.25 || info.Peer.JitterMS != 10 {
		t.Fatalf("peer report %+v", info.Peer)
	}
	if info.Counters.Lost != 3 || info.Counters.RTCPIn != 1 {
		t.Fatalf("counters %+v", info.Counters)
	}
	// RTCP from an unrelated address is not taken.
	stranger, _ := n.endpoint(netip.MustParseAddrPort("203.0.113.77:9"))
	defer stranger.Close()
	stranger.WriteTo(b, rtcpLocal)
	waitFor(t, "foreign RTCP", func() bool { return s.Counters().Foreign == 1 })

	// Closing says BYE.
	s.Close()
	for {
		m := phoneRTCP.recv(t)
		pkts, _ := rtcp.Unmarshal(m.Buf)
		if _, ok := pkts[len(pkts)-1].(*rtcp.Goodbye); ok {
			break
		}
	}
}

func TestSessionLifecycle(t *testing.T) {
	goroutineLeakCheck(t)
	e := newEngine(t, func(c *EngineConfig) { c.PortMin, c.PortMax = 44000, 44003 })
	a, err := e.NewSession(SessionOptions{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.NewSession(SessionOptions{Name: "b", RTCPMux: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.NewSession(SessionOptions{}); !errors.Is(err, ErrPortsExhausted) {
		t.Fatalf("third session: %v, want ErrPortsExhausted", err)
	}
	if ep := a.Endpoint(); ep.Port%2 != 0 || ep.RTCPPort != ep.Port+1 || ep.Addr != loopback {
		t.Fatalf("endpoint %+v", ep)
	}
	if ep := b.Endpoint(); ep.RTCPPort != 0 {
		t.Fatalf("muxed endpoint %+v", ep)
	}
	if got := len(e.Sessions()); got != 2 {
		t.Fatalf("%d sessions", got)
	}
	if err := a.SendDTMF("1", 0); !errors.Is(err, ErrNoRemote) {
		t.Fatalf("SendDTMF before SetRemote: %v", err)
	}
	port := a.Endpoint().Port
	a.Close()
	a.Close()
	if err := a.SetRemote(muxParams(netip.AddrPortFrom(loopback, 9), Format{}, fmtPCMU)); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetRemote after Close: %v", err)
	}
	c, err := e.NewSession(SessionOptions{Name: "c"})
	if err != nil {
		t.Fatalf("port not returned on Close: %v", err)
	}
	if c.Endpoint().Port != port {
		t.Fatalf("got port %d, want the freed %d", c.Endpoint().Port, port)
	}
	e.Close()
	if _, err := e.NewSession(SessionOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after engine close: %v", err)
	}
	select {
	case <-b.Done():
	default:
		t.Fatal("engine close left a session open")
	}
}

func TestReceiveCountsLossLateDuplicates(t *testing.T) {
	e := newEngine(t)
	s := newSession(t, e, "leg")
	phone := newPeer(t)
	s.SetRemote(muxParams(phone.addr, Format{}, fmtPCMU))
	got := make(chan uint16, 16)
	s.SetHandler(handlerFunc(func(_ *Session, seq uint16) { got <- seq }))
	// 1 2 4 3 3 6 (5 lost, 3 late, 3 duplicated), then a malformed datagram.
	for _, seq := range []uint16{1, 2, 4, 3, 3, 6} {
		phone.send(s.LocalAddr(), rtpBytes(0, false, seq, uint32(seq)*160, 77, make([]byte, 160)))
	}
	phone.send(s.LocalAddr(), []byte{0x80})
	for _, want := range []uint16{1, 2, 4, 3, 6} {
		if seq := <-got; seq != want {
			t.Fatalf("handler got %d, want %d", seq, want)
		}
	}
	waitFor(t, "malformed", func() bool { return s.Counters().Malformed == 1 })
	c := s.Counters()
	if c.PacketsIn != 6 || c.Late != 1 || c.Duplicates != 1 || c.Lost != 1 {
		t.Fatalf("counters %+v", c)
	}
}

type handlerFunc func(s *Session, seq uint16)

func (f handlerFunc) HandleRTP(s *Session, p *rtp.Packet, _ []byte) { f(s, p.SequenceNumber) }
func (f handlerFunc) String() string                                { return "test handler" }

func TestRoutable(t *testing.T) {
	for addr, want := range map[string]bool{
		"203.0.113.5": true, "2001:db8::1": true, "8.8.8.8": true,
		"10.1.2.3": false, "192.168.1.2": false, "172.16.0.1": false, "100.64.1.1": false,
		"127.0.0.1": false, "0.0.0.0": false, "169.254.1.1": false, "fd00::2": false, "fe80::1": false,
	} {
		if got := routable(netip.MustParseAddr(addr)); got != want {
			t.Errorf("routable(%s) = %v", addr, got)
		}
	}
}
