package sip

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store"
)

// scriptApps runs a Go function as the program of every app call: the SIP
// side of the call-control contract, without a language in between.
type scriptApps struct {
	t      *testing.T
	script func(c callapi.Call, h *appEvents)
	mu     sync.Mutex
	calls  []string // "app#owner via"
}

type appEvents struct {
	digits chan byte
	gone   chan string
}

func (h *appEvents) Digit(d byte)               { h.digits <- d }
func (h *appEvents) Disconnected(reason string) { h.gone <- reason }

func (a *scriptApps) StartCall(app string, owner *store.Account, c callapi.Call, via string) error {
	if app == "missing" {
		return errors.New("no such program")
	}
	a.mu.Lock()
	a.calls = append(a.calls, app+"#"+owner.Name+" "+via)
	a.mu.Unlock()
	h := &appEvents{digits: make(chan byte, 16), gone: make(chan string, 1)}
	c.SetHandler(h)
	go a.script(c, h)
	return nil
}

func TestAppCalls(t *testing.T) {
	type result struct{ err error }
	tests := []struct {
		name string
		run  func(t *testing.T, e *env, apps *scriptApps, caller, callee *phone)
	}{
		{"accept, digits, the caller hangs up", func(t *testing.T, e *env, apps *scriptApps, caller, _ *phone) {
			got := make(chan string, 4)
			apps.script = func(c callapi.Call, h *appEvents) {
				if c.Mode() != callapi.Incoming {
					got <- "mode " + c.Mode().String()
				}
				if err := c.Accept(context.Background()); err != nil {
					got <- "accept: " + err.Error()
					return
				}
				if c.Session() == nil || c.Mode() != callapi.Connected {
					got <- "no session after accept"
				}
				got <- "digit " + string(<-h.digits)
				got <- "gone " + <-h.gone
			}
			peer := newRTPPeer(t)
			s, err := caller.call(ctxT(t), "menu%231002", peer.sdp())
			if err != nil {
				t.Fatal(err)
			}
			s.Ack(ctxT(t))
			toRingo := e.checkAnchored(t, "caller's 200", s.InviteResponse.Body())
			digit(t, peer, toRingo, '5')
			if g := wait(t, got, "the digit at the program"); g != "digit 5" {
				t.Fatal(g)
			}
			if err := s.Bye(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if g := wait(t, got, "the hang-up at the program"); g != "gone hangup" {
				t.Fatal(g)
			}
			r := wait(t, e.records, "record")
			if r.Route.Kind != "app" || r.Route.Target != "menu#1002@"+testDomain || r.Outcome != cdr.Answered || r.DTMF != "5" {
				t.Fatalf("record %+v", r)
			}
		}},
		{"reject", func(t *testing.T, e *env, apps *scriptApps, caller, _ *phone) {
			apps.script = func(c callapi.Call, h *appEvents) { c.Reject(486, "Busy Here") }
			if _, err := caller.call(ctxT(t), "menu%231002", newRTPPeer(t).sdp()); statusOf(err) != 486 {
				t.Fatalf("got %v, want 486", err)
			}
			if r := wait(t, e.records, "record"); r.Outcome != cdr.Busy || r.Route.Kind != "app" {
				t.Fatalf("record %+v", r)
			}
		}},
		{"no such program", func(t *testing.T, e *env, apps *scriptApps, caller, _ *phone) {
			if _, err := caller.call(ctxT(t), "missing%231002", newRTPPeer(t).sdp()); statusOf(err) != 404 {
				t.Fatalf("got %v, want 404", err)
			}
		}},
		{"redirect to an account", func(t *testing.T, e *env, apps *scriptApps, caller, callee *phone) {
			res := make(chan result, 1)
			apps.script = func(c callapi.Call, h *appEvents) {
				res <- result{c.Redirect(context.Background(), "203")} // 1003's alias
			}
			peer, far := newRTPPeer(t), newRTPPeer(t)
			callee.setAnswer(func(s *sipgo.DialogServerSession) error {
				return s.Respond(200, "OK", far.sdp(), sip.NewHeader("Content-Type", "application/sdp"))
			})
			s, err := caller.call(ctxT(t), "menu%231002", peer.sdp())
			if err != nil {
				t.Fatal(err)
			}
			s.Ack(ctxT(t))
			if r := wait(t, res, "redirect"); r.err != nil {
				t.Fatal(r.err)
			}
			inv := wait(t, callee.incoming, "INVITE at 1003")
			toRingoB := e.checkAnchored(t, "callee's INVITE", inv.Body())
			toRingoA := e.checkAnchored(t, "caller's 200", s.InviteResponse.Body())
			stream(t, peer, toRingoA, far, 3)
			stream(t, far, toRingoB, peer, 3)
			s.Bye(ctxT(t))
			wait(t, callee.byes, "BYE at 1003")
			if r := wait(t, e.records, "record"); r.Callee.Account != "1003" || r.Outcome != cdr.Answered {
				t.Fatalf("record %+v", r)
			}
		}},
		{"transfer after answering", func(t *testing.T, e *env, apps *scriptApps, caller, callee *phone) {
			res := make(chan result, 2)
			apps.script = func(c callapi.Call, h *appEvents) {
				if err := c.Accept(context.Background()); err != nil {
					res <- result{err}
					return
				}
				<-h.digits // the caller chooses
				res <- result{c.Transfer(context.Background(), "1003")}
				res <- result{errors.New("mode " + c.Mode().String())}
			}
			peer, far := newRTPPeer(t), newRTPPeer(t)
			callee.setAnswer(func(s *sipgo.DialogServerSession) error {
				return s.Respond(200, "OK", far.sdp(), sip.NewHeader("Content-Type", "application/sdp"))
			})
			s, err := caller.call(ctxT(t), "menu%231002", peer.sdp())
			if err != nil {
				t.Fatal(err)
			}
			s.Ack(ctxT(t))
			toRingoA := e.checkAnchored(t, "caller's 200", s.InviteResponse.Body())
			digit(t, peer, toRingoA, '1')
			inv := wait(t, callee.incoming, "INVITE at 1003")
			toRingoB := e.checkAnchored(t, "callee's INVITE", inv.Body())
			if r := wait(t, res, "transfer"); r.err != nil {
				t.Fatal(r.err)
			}
			if r := wait(t, res, "mode"); r.err.Error() != "mode disconnected" {
				t.Fatalf("after the transfer the program sees %v", r.err)
			}
			wait(t, callee.acks, "ACK at 1003")
			stream(t, peer, toRingoA, far, 3)
			stream(t, far, toRingoB, peer, 3)
			s.Bye(ctxT(t))
			wait(t, callee.byes, "BYE at 1003")
			if r := wait(t, e.records, "record"); r.Callee.Account != "1003" || r.Outcome != cdr.Answered || r.Route.Kind != "app" {
				t.Fatalf("record %+v", r)
			}
		}},
		{"transfer to a busy phone", func(t *testing.T, e *env, apps *scriptApps, caller, callee *phone) {
			res := make(chan result, 2)
			apps.script = func(c callapi.Call, h *appEvents) {
				c.Accept(context.Background())
				res <- result{c.Transfer(context.Background(), "1003")}
				res <- result{errors.New("mode " + c.Mode().String())}
				<-h.gone
			}
			callee.setAnswer(func(s *sipgo.DialogServerSession) error { return s.Respond(486, "Busy Here", nil) })
			peer := newRTPPeer(t)
			s, err := caller.call(ctxT(t), "menu%231002", peer.sdp())
			if err != nil {
				t.Fatal(err)
			}
			s.Ack(ctxT(t))
			if r := wait(t, res, "transfer"); r.err == nil || r.err.Error() != "486 Busy Here" {
				t.Fatalf("transfer: %v, want 486 Busy Here", r.err)
			}
			if r := wait(t, res, "mode"); r.err.Error() != "mode connected" {
				t.Fatalf("after a failed transfer the program sees %v", r.err)
			}
			s.Bye(ctxT(t))
			if r := wait(t, e.records, "record"); r.Callee.Account != "1002" || r.Outcome != cdr.Answered {
				t.Fatalf("record %+v", r)
			}
		}},
		{"the caller cancels while the program decides", func(t *testing.T, e *env, apps *scriptApps, caller, _ *phone) {
			gone := make(chan string, 1)
			apps.script = func(c callapi.Call, h *appEvents) {
				c.Provision(context.Background(), false)
				gone <- <-h.gone
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { _, err := caller.call(ctx, "menu%231002", newRTPPeer(t).sdp()); done <- err }()
			deadline := time.Now().Add(5 * time.Second)
			for len(e.srv.Calls()) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			if g := wait(t, gone, "disconnect at the program"); g != "hangup" {
				t.Fatal(g)
			}
			<-done
			if r := wait(t, e.records, "record"); r.Outcome != cdr.Cancelled {
				t.Fatalf("record %+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t, nil)
			apps := &scriptApps{t: t}
			e.srv.SetApps(apps)
			caller := newPhone(t, e, "1001", "secret1001")
			callee := newPhone(t, e, "1003", "secret1003")
			callee.register(300)
			tt.run(t, e, apps, caller, callee)
			e.portsFree(t)
		})
	}
}

// digit sends one RFC 4733 digit.
func digit(t *testing.T, p *rtpPeer, to netip.AddrPort, d byte) {
	t.Helper()
	seq := uint16(500)
	sendDigit(t, p, to, d, &seq, 8000)
}
