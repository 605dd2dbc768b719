package sip

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	psdp "github.com/pion/sdp/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/media"
)

// checkAnchored asserts that an SDP names Ringo's media: the loopback
// address the test engine advertises and a port from its range.
func (e *env) checkAnchored(t *testing.T, what string, body []byte) netip.AddrPort {
	t.Helper()
	d, err := media.ParseSDP(body)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, body)
	}
	if d.Addr.Addr() != netip.MustParseAddr("127.0.0.1") || int(d.Addr.Port()) < e.rtpLo || int(d.Addr.Port()) > e.rtpHi {
		t.Fatalf("%s names %s, want 127.0.0.1 and a port in %d-%d:\n%s", what, d.Addr, e.rtpLo, e.rtpHi, body)
	}
	return d.Addr
}

func originOf(t *testing.T, body []byte) psdp.Origin {
	t.Helper()
	var s psdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	return s.Origin
}

// portsFree waits until every media port pair is back in the allocator.
func (e *env) portsFree(t *testing.T) {
	t.Helper()
	p := e.media.Ports()
	waitFor(t, func() bool { return p.Available() == p.Size() }, "media ports to be released")
}

// rtpPeer is a phone's media endpoint: a plain UDP socket.
type rtpPeer struct {
	conn *net.UDPConn
	port int
}

func newRTPPeer(t *testing.T) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rtpPeer{conn: conn, port: conn.LocalAddr().(*net.UDPAddr).Port}
}

// sdp is an offer or answer for this peer's port.
func (p *rtpPeer) sdp() []byte {
	return []byte(strings.Replace(offerSDP, "40000", fmt.Sprint(p.port), 1))
}

func (p *rtpPeer) send(t *testing.T, to netip.AddrPort, pkt *rtp.Packet) {
	t.Helper()
	b, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatal(err)
	}
}

// tryRecv returns the next RTP packet if one comes within d.
func (p *rtpPeer) tryRecv(d time.Duration) (*rtp.Packet, bool) {
	buf := make([]byte, 1500)
	for {
		p.conn.SetReadDeadline(time.Now().Add(d))
		n, err := p.conn.Read(buf)
		if err != nil {
			return nil, false
		}
		var pkt rtp.Packet
		if n >= 2 && buf[1] >= 192 && buf[1] <= 223 || pkt.Unmarshal(buf[:n]) != nil {
			continue // RTCP, or not RTP
		}
		return &pkt, true
	}
}

// recv returns the next RTP packet; the deadline only bounds a failing test.
func (p *rtpPeer) recv(t *testing.T) *rtp.Packet {
	t.Helper()
	buf := make([]byte, 1500)
	for {
		p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := p.conn.Read(buf)
		if err != nil {
			t.Fatalf("waiting for RTP on :%d: %v", p.port, err)
		}
		if n >= 2 && buf[1] >= 192 && buf[1] <= 223 {
			continue // RTCP
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			t.Fatalf("bad RTP on :%d: %v", p.port, err)
		}
		return &pkt
	}
}

// stream sends n packets from one peer to Ringo and checks the other peer
// receives them in order on one SSRC that is not the sender's, with the
// sequence numbers and timestamps continuous.
func stream(t *testing.T, from *rtpPeer, to netip.AddrPort, at *rtpPeer, n int) (sent int) {
	t.Helper()
	const ssrc = 0x1234abcd
	pkt := func(i int, payload []byte) *rtp.Packet {
		return &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(5000 + i),
			Timestamp: uint32(80000 + 160*i), SSRC: ssrc, Marker: i == 0}, Payload: payload}
	}
	// As a phone does, send every 20 ms until media flows: packets that
	// arrive before Ringo has set up the far side are lost, as on a real
	// call. The packets after the first that comes through are checked one
	// by one, in sequence with it.
	first := bytes.Repeat([]byte{0xee}, 160)
	deadline := time.Now().Add(5 * time.Second)
	for {
		from.send(t, to, pkt(sent, first))
		sent++
		if got, ok := at.tryRecv(20 * time.Millisecond); ok && bytes.Equal(got.Payload, first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no RTP from %v reached :%d", to, at.port)
		}
	}
	var ref *rtp.Packet
	for i := range n {
		payload := bytes.Repeat([]byte{byte(i + 1)}, 160)
		from.send(t, to, pkt(sent, payload))
		sent++
		got := at.recv(t)
		for bytes.Equal(got.Payload, first) {
			// A probe sent before the first one came through, still in
			// flight when it did.
			got = at.recv(t)
		}
		if !bytes.Equal(got.Payload, payload) || got.PayloadType != 0 {
			t.Fatalf("packet %d: PT %d payload %x…, want PT 0 payload %x…", i, got.PayloadType, got.Payload[:1], payload[:1])
		}
		if ref == nil {
			ref = got
			if got.SSRC == ssrc {
				t.Fatalf("relayed packet kept the sender's SSRC %08x", ssrc)
			}
			continue
		}
		if got.SSRC != ref.SSRC || got.SequenceNumber != ref.SequenceNumber+uint16(i) || got.Timestamp != ref.Timestamp+uint32(160*i) {
			t.Fatalf("packet %d: ssrc %08x seq %d ts %d after ssrc %08x seq %d ts %d: not continuous",
				i, got.SSRC, got.SequenceNumber, got.Timestamp, ref.SSRC, ref.SequenceNumber, ref.Timestamp)
		}
	}
	return sent
}

// anchoredCall sets up 1001 calling 1002, each phone with a media socket.
func anchoredCall(t *testing.T, e *env) (caller, callee *phone, a, b *rtpPeer, s *sipgo.DialogClientSession, toRingoA, toRingoB netip.AddrPort) {
	t.Helper()
	caller = newPhone(t, e, "1001", "secret1001")
	callee = newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	a, b = newRTPPeer(t), newRTPPeer(t)
	callee.setAnswer(func(s *sipgo.DialogServerSession) error {
		return s.Respond(200, "OK", b.sdp(), sip.NewHeader("Content-Type", "application/sdp"))
	})
	s, err := caller.call(ctxT(t), "1002", a.sdp())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	inv := wait(t, callee.incoming, "INVITE at callee")
	wait(t, callee.acks, "ACK at callee")
	toRingoB = e.checkAnchored(t, "callee's offer", inv.Body())
	toRingoA = e.checkAnchored(t, "caller's answer", s.InviteResponse.Body())
	if toRingoA == toRingoB {
		t.Fatalf("both legs got the same port %s", toRingoA)
	}
	return caller, callee, a, b, s, toRingoA, toRingoB
}

func TestAnchoredMediaFlowsBothWays(t *testing.T) {
	e := startEnv(t, nil)
	_, callee, a, b, s, toRingoA, toRingoB := anchoredCall(t, e)

	ab := stream(t, a, toRingoA, b, 5)
	ba := stream(t, b, toRingoB, a, 5)

	calls := e.srv.Calls()
	if len(calls) != 1 || calls[0].Media != "anchored" || len(calls[0].Legs) != 2 {
		t.Fatalf("calls: %+v", calls)
	}
	// Each leg received what its phone sent (a packet lost while the call
	// was set up is not counted) and sent what the other phone did.
	for _, l := range calls[0].Legs {
		in, out := ab, ba
		if l.Leg == "callee" {
			in, out = ba, ab
		}
		if l.PacketsIn > uint64(in) || l.PacketsIn < 5 || l.PacketsOut > uint64(out) || l.PacketsOut < 5 {
			t.Errorf("leg %s: %d in, %d out, want at most %d and %d (at least 5)", l.Leg, l.PacketsIn, l.PacketsOut, in, out)
		}
	}
	if got, want := calls[0].Legs[0].Remote, fmt.Sprintf("127.0.0.1:%d", a.port); got != want {
		t.Errorf("caller leg latched %s, want %s", got, want)
	}
	d, ok := e.srv.Call(calls[0].ID)
	if !ok || len(d.Sessions) != 2 || len(d.Sessions[0].Chain) == 0 || d.Sessions[1].Counters.PacketsIn < 5 {
		t.Fatalf("call detail: %+v", d)
	}
	if _, ok := e.srv.Call("nope"); ok {
		t.Fatal("Call found an unknown id")
	}
	received := calls[0].Legs[0].PacketsIn + calls[0].Legs[1].PacketsIn
	want := `
# HELP ringo_media_packets_received_total RTP packets received on media sessions.
# TYPE ringo_media_packets_received_total counter
ringo_media_packets_received_total ` + fmt.Sprint(received) + `
# HELP ringo_media_sessions Media sessions open (two per anchored call, one per echo call).
# TYPE ringo_media_sessions gauge
ringo_media_sessions 2
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), "ringo_media_packets_received_total", "ringo_media_sessions"); err != nil {
		t.Fatal(err)
	}

	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	wait(t, callee.byes, "BYE at callee")
	e.portsFree(t)
	// The counters of closed sessions stay in the totals.
	want = strings.Replace(want, "sessions 2", "sessions 0", 1)
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), "ringo_media_packets_received_total", "ringo_media_sessions"); err != nil {
		t.Fatal(err)
	}
}

func TestUnusableOfferGets488(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	for _, tc := range []struct{ name, sdp string }{
		{"no audio", strings.Replace(offerSDP, "m=audio", "m=video", 1)},
		{"no common codec", strings.Replace(strings.Replace(offerSDP, "RTP/AVP 0 101", "RTP/AVP 18", 1), "a=rtpmap:0 PCMU/8000\r\n", "", 1)},
		{"secure transport", strings.Replace(offerSDP, "RTP/AVP", "RTP/SAVP", 1)},
		{"malformed", "v=0\r\nthis is not SDP\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := caller.call(ctxT(t), "1002", []byte(tc.sdp))
			if got := statusOf(err); got != 488 {
				t.Fatalf("got %d (%v), want 488", got, err)
			}
			r := wait(t, e.records, "record of the refused call")
			if r.Outcome != cdr.Failed || r.Hangup.SIPCode != 488 {
				t.Fatalf("record: %+v", r)
			}
		})
	}
	select {
	case inv := <-callee.incoming:
		t.Fatalf("the callee rang for an unusable offer:\n%s", inv.Body())
	default:
	}
	e.portsFree(t)
	if n := e.srv.ActiveCalls(); n != 0 {
		t.Fatalf("%d active calls", n)
	}
}

// TestMediaReleasedOnEveryEnd: the ports of a call come back however it ends.
func TestMediaReleasedOnEveryEnd(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.Calls.RingTimeout = time.Second })
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	answer := func(s *sipgo.DialogServerSession) error {
		return s.Respond(200, "OK", answerSDP(callee.port), sip.NewHeader("Content-Type", "application/sdp"))
	}
	ring := func(s *sipgo.DialogServerSession) error { return s.Respond(180, "Ringing", nil) }
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"bye from caller", func(t *testing.T) {
			callee.setAnswer(answer)
			s, err := caller.call(ctxT(t), "1002", []byte(offerSDP))
			if err != nil {
				t.Fatal(err)
			}
			s.Ack(ctxT(t))
			if err := s.Bye(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			wait(t, callee.byes, "BYE at callee")
		}},
		{"bye from callee", func(t *testing.T) {
			sessCh := make(chan *sipgo.DialogServerSession, 1)
			callee.setAnswer(func(s *sipgo.DialogServerSession) error { sessCh <- s; return answer(s) })
			s, err := caller.call(ctxT(t), "1002", []byte(offerSDP))
			if err != nil {
				t.Fatal(err)
			}
			s.Ack(ctxT(t))
			srv := wait(t, sessCh, "callee session")
			wait(t, callee.acks, "ACK at callee")
			if err := srv.Bye(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			wait(t, caller.byes, "BYE at caller")
		}},
		{"busy", func(t *testing.T) {
			callee.setAnswer(func(s *sipgo.DialogServerSession) error { return s.Respond(486, "Busy Here", nil) })
			if _, err := caller.call(ctxT(t), "1002", []byte(offerSDP)); statusOf(err) != 486 {
				t.Fatalf("got %v, want 486", err)
			}
		}},
		{"callee answers with a codec never offered", func(t *testing.T) {
			callee.setAnswer(func(s *sipgo.DialogServerSession) error {
				// GSM: Ringo offered every codec it has, and not this one.
				bad := strings.Replace(string(answerSDP(callee.port)), "RTP/AVP 0 101", "RTP/AVP 3", 1)
				return s.Respond(200, "OK", []byte(bad), sip.NewHeader("Content-Type", "application/sdp"))
			})
			if _, err := caller.call(ctxT(t), "1002", []byte(offerSDP)); statusOf(err) != 488 {
				t.Fatalf("got %v, want 488", err)
			}
			wait(t, callee.byes, "BYE to the callee whose answer was unusable")
		}},
		{"no answer", func(t *testing.T) {
			callee.setAnswer(ring)
			if _, err := caller.call(ctxT(t), "1002", []byte(offerSDP)); statusOf(err) != 408 {
				t.Fatalf("got %v, want 408", err)
			}
			wait(t, callee.cancels, "CANCEL at callee")
		}},
		{"cancel", func(t *testing.T) {
			callee.setAnswer(ring)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ringing := make(chan struct{}, 1)
			errc := make(chan error, 1)
			go func() {
				req := sip.NewRequest(sip.INVITE, caller.serverURI("1002"))
				req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
				req.SetBody([]byte(offerSDP))
				s, err := caller.dcc.WriteInvite(ctx, req)
				if err != nil {
					errc <- err
					return
				}
				errc <- s.WaitAnswer(ctx, sipgo.AnswerOptions{Username: "1001", Password: "secret1001", OnResponse: func(r *sip.Response) error {
					if r.StatusCode == 180 {
						ringing <- struct{}{}
					}
					return nil
				}})
			}()
			wait(t, ringing, "180 at caller")
			if p := e.media.Ports(); p.Available() != p.Size()-2 {
				t.Fatalf("a ringing call holds %d port pairs, want 2", p.Size()-p.Available())
			}
			cancel()
			wait(t, errc, "cancelled call to end")
			wait(t, callee.cancels, "CANCEL at callee")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t)
			waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "call to end")
			e.portsFree(t)
		})
	}
}

// TestManyCallsLeakNothing: after many anchored calls, concurrent and
// ended every way, the port range is whole and no goroutine is left.
func TestManyCallsLeakNothing(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	one := func() {
		s, err := caller.call(ctxT(t), "1002", []byte(offerSDP))
		if err != nil {
			t.Error(err)
			return
		}
		s.Ack(ctxT(t))
		if err := s.Bye(ctxT(t)); err != nil {
			t.Error(err)
		}
	}
	drain := func() {
		for {
			select {
			case <-callee.incoming:
			case <-callee.acks:
			case <-callee.byes:
			default:
				return
			}
		}
	}
	one() // warm up the phones' and the server's long-lived goroutines
	waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "warm-up call to end")
	drain()
	base := runtime.NumGoroutine()

	const calls, parallel = 40, 8
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			one()
		}()
		drain()
	}
	wg.Wait()
	drain()
	waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "calls to end")
	e.portsFree(t)
	if n := len(e.media.Sessions()); n != 0 {
		t.Fatalf("%d media sessions left", n)
	}
	waitFor(t, func() bool { drain(); return runtime.NumGoroutine() <= base }, fmt.Sprintf("goroutines back to %d", base))
}

func TestEchoService(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	a := newRTPPeer(t)
	s, err := caller.call(ctxT(t), "echo", a.sdp())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	toRingo := e.checkAnchored(t, "echo's answer", s.InviteResponse.Body())
	stream(t, a, toRingo, a, 5)
	calls := e.srv.Calls()
	if len(calls) != 1 || calls[0].Media != "echo" || calls[0].To != "echo@"+testDomain || calls[0].State != "answered" {
		t.Fatalf("calls: %+v", calls)
	}
	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	r := wait(t, e.records, "record of the echo call")
	if r.Outcome != cdr.Answered || r.Route.Kind != "service" || r.Callee.Number != "echo" || r.Hangup.By != cdr.ByCaller {
		t.Fatalf("echo record: %+v", r)
	}
	e.portsFree(t)

	// A re-INVITE gets a new answer on the same port.
	s, err = caller.call(ctxT(t), "echo", a.sdp())
	if err != nil {
		t.Fatal(err)
	}
	s.Ack(ctxT(t))
	toRingo = e.checkAnchored(t, "echo's answer", s.InviteResponse.Body())
	re := sip.NewRequest(sip.INVITE, s.InviteResponse.Contact().Address)
	re.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	re.SetBody(a.sdp())
	res, err := s.Do(ctxT(t), re)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || e.checkAnchored(t, "echo's re-answer", res.Body()) != toRingo {
		t.Fatalf("re-INVITE to echo: %s\n%s", res.StartLine(), res.Body())
	}
	stream(t, a, toRingo, a, 3)
	// Drain ends the echo call from Ringo's side.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	e.srv.Drain(ctx)
	wait(t, caller.byes, "BYE from Ringo")
	e.portsFree(t)
}

func TestDirectMediaWhenNotAnchored(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.RTP.Anchor = false })
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	s, err := caller.call(ctxT(t), "1002", []byte(offerSDP))
	if err != nil {
		t.Fatal(err)
	}
	inv := wait(t, callee.incoming, "INVITE at callee")
	if string(inv.Body()) != offerSDP {
		t.Fatalf("callee got a different SDP offer:\n%s", inv.Body())
	}
	if got, want := string(s.InviteResponse.Body()), string(answerSDP(callee.port)); got != want {
		t.Fatalf("caller got a different SDP answer:\n%s", got)
	}
	if calls := e.srv.Calls(); len(calls) != 1 || calls[0].Media != "direct" || len(calls[0].Legs) != 0 {
		t.Fatalf("calls: %+v", calls)
	}
	s.Ack(ctxT(t))
	s.Bye(ctxT(t))
	wait(t, callee.byes, "BYE at callee")
}
