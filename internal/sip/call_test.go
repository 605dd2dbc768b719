package sip

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringo-pbx/ringo/internal/cdr"

	"github.com/ringo-pbx/ringo/internal/config"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCallByAliasAndByeFromCaller(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)

	s, err := caller.call(ctxT(t), "202", []byte(offerSDP))
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	inv := wait(t, callee.incoming, "INVITE at callee")
	e.checkAnchored(t, "callee's offer", inv.Body())
	if from := inv.From(); from.Address.User != "1001" || from.Address.Host != testDomain {
		t.Fatalf("callee sees caller as %s, want 1001@%s", from.Address.String(), testDomain)
	}
	e.checkAnchored(t, "caller's answer", s.InviteResponse.Body())
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	wait(t, callee.acks, "ACK at callee")
	if n := e.srv.ActiveCalls(); n != 1 {
		t.Fatalf("active calls = %d, want 1", n)
	}
	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	wait(t, callee.byes, "BYE at callee")
	waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "call to end")

	want := `
# HELP ringo_calls_total Calls ended, by outcome.
# TYPE ringo_calls_total counter
ringo_calls_total{outcome="answered"} 1
# HELP ringo_registrations Live registrar bindings.
# TYPE ringo_registrations gauge
ringo_registrations 1
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), "ringo_calls_total", "ringo_registrations"); err != nil {
		t.Fatal(err)
	}
}

// answeredCall sets up 1001 calling 1002 through Ringo, answered and ACKed.
func answeredCall(t *testing.T) (*env, *phone, *phone, *sipgo.DialogClientSession) {
	t.Helper()
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	s, err := caller.call(ctxT(t), "1002", []byte(offerSDP))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return e, caller, callee, s
}

// waitFor polls a condition that has no event to wait on.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestByeFromCallee(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	sessCh := make(chan *sipgo.DialogServerSession, 1)
	callee.setAnswer(func(s *sipgo.DialogServerSession) error {
		sessCh <- s
		return s.Respond(200, "OK", answerSDP(callee.port), sip.NewHeader("Content-Type", "application/sdp"))
	})
	s, err := caller.call(ctxT(t), "1002", []byte(offerSDP))
	if err != nil {
		t.Fatal(err)
	}
	s.Ack(ctxT(t))
	srvSess := wait(t, sessCh, "callee session")
	wait(t, callee.acks, "ACK at callee")
	if err := srvSess.Bye(ctxT(t)); err != nil {
		t.Fatalf("callee BYE: %v", err)
	}
	wait(t, caller.byes, "BYE at caller")
	waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "call to end")
}

func TestCallFailures(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.Calls.RingTimeout = 2 * time.Second })
	caller := newPhone(t, e, "1001", "secret1001")
	busy := newPhone(t, e, "1002", "secret1002")
	busy.register(300)
	busy.setAnswer(func(s *sipgo.DialogServerSession) error { return s.Respond(486, "Busy Here", nil) })
	silent := newPhone(t, e, "1003", "secret1003")
	silent.register(300)
	silent.setAnswer(func(s *sipgo.DialogServerSession) error { return s.Respond(180, "Ringing", nil) })

	for _, tc := range []struct {
		to   string
		want int
	}{
		{"nobody", 404},
		{"1004", 480}, // exists, not registered
		{"1002", 486},
		{"1003", 408}, // rings past the ring timeout
	} {
		t.Run(tc.to, func(t *testing.T) {
			_, err := caller.call(ctxT(t), tc.to, []byte(offerSDP))
			if got := statusOf(err); got != tc.want {
				t.Fatalf("got %d (%v), want %d", got, err, tc.want)
			}
		})
	}
	wait(t, silent.cancels, "CANCEL at the unanswered phone")
	waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "no active calls")
}

func TestCallerCancel(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	callee.setAnswer(func(s *sipgo.DialogServerSession) error { return s.Respond(180, "Ringing", nil) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ringing := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		ruri := caller.serverURI("1002")
		req := sip.NewRequest(sip.INVITE, ruri)
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
	cancel()
	err := wait(t, errc, "cancelled call to end")
	if err == nil {
		t.Fatal("cancelled call reported success")
	}
	wait(t, callee.cancels, "CANCEL at callee")
	waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "no active calls")
}

func TestForkFirstAnswerWins(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	desk := newPhone(t, e, "1002", "secret1002")
	mobile := newPhone(t, e, "1002", "secret1002")
	desk.register(300)
	mobile.register(300)
	release := make(chan struct{})
	desk.setAnswer(func(s *sipgo.DialogServerSession) error {
		s.Respond(180, "Ringing", nil)
		<-release
		return nil
	})
	mobile.setAnswer(func(s *sipgo.DialogServerSession) error {
		s.Respond(180, "Ringing", nil)
		wait(t, desk.incoming, "INVITE forked to the desk phone") // both ring before one answers
		return s.Respond(200, "OK", answerSDP(mobile.port), sip.NewHeader("Content-Type", "application/sdp"))
	})
	s, err := caller.call(ctxT(t), "1002", []byte(offerSDP))
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	e.checkAnchored(t, "caller's answer", s.InviteResponse.Body())
	// The callee's media session points at the phone that won.
	calls := e.srv.Calls()
	if len(calls) != 1 || len(calls[0].Legs) != 2 || calls[0].Legs[1].Remote != fmt.Sprintf("127.0.0.1:%d", mobile.port) {
		t.Fatalf("callee media should go to the mobile (port %d): %+v", mobile.port, calls)
	}
	wait(t, desk.cancels, "CANCEL to the losing fork")
	s.Ack(ctxT(t))
	s.Bye(ctxT(t))
	wait(t, mobile.byes, "BYE at the winner")
}

func TestReinvitePassedThrough(t *testing.T) {
	e, caller, callee, s := answeredCall(t)
	initial := wait(t, callee.incoming, "initial INVITE")
	wait(t, callee.acks, "initial ACK")

	hold := strings.Replace(offerSDP, "a=sendrecv", "a=sendonly", 1)
	re := sip.NewRequest(sip.INVITE, s.InviteResponse.Contact().Address)
	re.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	re.SetBody([]byte(hold))
	res, err := s.Do(ctxT(t), re)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("re-INVITE answer: %s\n%s", res.StartLine(), res.Body())
	}
	e.checkAnchored(t, "answer to the re-INVITE", res.Body())
	got := wait(t, callee.incoming, "re-INVITE at callee")
	if !strings.Contains(string(got.Body()), "a=sendonly") {
		t.Fatalf("callee got re-INVITE without the hold SDP:\n%s", got.Body())
	}
	e.checkAnchored(t, "re-INVITE at callee", got.Body())
	// The o= line keeps Ringo's session on the leg, one version on.
	if o1, o2 := originOf(t, initial.Body()), originOf(t, got.Body()); o1.SessionID != o2.SessionID || o2.SessionVersion != o1.SessionVersion+1 {
		t.Fatalf("re-offer origin %+v after %+v: want the same session, next version", o2, o1)
	}
	ack := sip.NewRequest(sip.ACK, s.InviteResponse.Contact().Address)
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(re.From()))
	ack.AppendHeader(sip.HeaderClone(re.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: re.CSeq().SeqNo, MethodName: sip.ACK})
	ack.SetDestination(e.addr)
	if err := caller.cl.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	reack := wait(t, callee.acks, "ACK of the re-INVITE at callee")
	if reack.CSeq().SeqNo != got.CSeq().SeqNo {
		t.Fatalf("ACK CSeq %d does not match the re-INVITE's %d", reack.CSeq().SeqNo, got.CSeq().SeqNo)
	}
	s.Bye(ctxT(t))
	wait(t, callee.byes, "BYE")
}

func TestGRUUReachesOneInstance(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	one := newPhone(t, e, "1002", "secret1002")
	one.instance = "urn:uuid:00000000-0000-0000-0000-000000000001"
	two := newPhone(t, e, "1002", "secret1002")
	two.instance = "urn:uuid:00000000-0000-0000-0000-000000000002"
	two.register(300)
	res := one.register(300)
	var gruu string
	for _, h := range res.GetHeaders("Contact") {
		if v := h.Value(); strings.Contains(v, one.instance) {
			_, after, ok := strings.Cut(v, `pub-gruu="`)
			if ok {
				gruu, _, _ = strings.Cut(after, `"`)
			}
		}
	}
	if !strings.Contains(gruu, ";gr="+one.instance) {
		t.Fatalf("no pub-gruu for the instance in %v", res.GetHeaders("Contact"))
	}
	var u sip.Uri
	if err := sip.ParseUri(gruu, &u); err != nil {
		t.Fatal(err)
	}
	host, port, _ := sip.ParseAddr(e.addr)
	u.Host, u.Port = host, port
	req := sip.NewRequest(sip.INVITE, u)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(offerSDP))
	s, err := caller.dcc.WriteInvite(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WaitAnswer(ctxT(t), sipgo.AnswerOptions{Username: "1001", Password: "secret1001"}); err != nil {
		t.Fatal(err)
	}
	wait(t, one.incoming, "INVITE at the GRUU's instance")
	select {
	case <-two.incoming:
		t.Fatal("the other instance rang too")
	default:
	}
	s.Ack(ctxT(t))
	s.Bye(ctxT(t))
}

func TestDrainRefusesNewCalls(t *testing.T) {
	e, caller, _, s := answeredCall(t)
	drained := make(chan struct{})
	go func() { e.srv.Drain(ctxT(t)); close(drained) }()
	waitFor(t, func() bool { return e.srv.draining.Load() }, "draining")
	if _, err := caller.call(ctxT(t), "1002", []byte(offerSDP)); statusOf(err) != 503 {
		t.Fatalf("new call while draining: %v, want 503", err)
	}
	select {
	case <-drained:
		t.Fatal("drain returned with a call still up")
	default:
	}
	s.Bye(ctxT(t))
	wait(t, drained, "drain to finish after the last call")
}

// TestRetransmittedByeAfterEnd: a BYE retransmitted after the call ended
// (its 200 was lost) still gets 200, not 481.
func TestRetransmittedByeAfterEnd(t *testing.T) {
	e, caller, callee, s := answeredCall(t)
	bye := sip.NewRequest(sip.BYE, s.InviteResponse.Contact().Address)
	bye.AppendHeader(sip.HeaderClone(s.InviteRequest.From()))
	bye.AppendHeader(sip.HeaderClone(s.InviteResponse.To()))
	bye.AppendHeader(sip.HeaderClone(s.InviteRequest.CallID()))
	bye.AppendHeader(&sip.CSeqHeader{SeqNo: s.InviteRequest.CSeq().SeqNo + 1, MethodName: sip.BYE})
	bye.SetDestination(e.addr)
	for i := range 2 {
		res := caller.do(bye.Clone())
		if res.StatusCode != 200 {
			t.Fatalf("BYE #%d: %s", i+1, res.StartLine())
		}
	}
	wait(t, callee.byes, "BYE at callee")
	// A BYE for a dialog that never existed still gets 481.
	nope := sip.CallIDHeader("no-such-call")
	bye.ReplaceHeader(&nope)
	if res := caller.do(bye.Clone()); res.StatusCode != 481 {
		t.Fatalf("BYE for an unknown dialog: %s", res.StartLine())
	}
}

// TestCallRecords: every call that reaches the callee's phones ends with a
// record of its parties, outcome, times and who hung up.
func TestCallRecords(t *testing.T) {
	e, caller, callee, s := answeredCall(t)
	wait(t, callee.acks, "ACK at callee")
	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	r := wait(t, e.records, "record of the answered call")
	want := []string{"open " + r.ID + " interrupted false", "open " + r.ID + " interrupted true", "closed " + r.ID}
	for _, w := range want {
		if got := wait(t, e.journal, "journal: "+w); got != w {
			t.Fatalf("journal: got %q, want %q", got, w)
		}
	}
	if r.Outcome != cdr.Answered || r.Hangup.By != cdr.ByCaller || r.Caller.Account != "1001" || r.Callee.Account != "1002" ||
		r.Dialled != "1002" || r.Domain != testDomain || r.Answered.IsZero() || r.Durations.Talk <= 0 || r.Durations.Total < r.Durations.Talk {
		t.Fatalf("answered call record: %+v", r)
	}

	busy := newPhone(t, e, "1003", "secret1003")
	busy.register(300)
	busy.setAnswer(func(s *sipgo.DialogServerSession) error { return s.Respond(486, "Busy Here", nil) })
	if _, err := caller.call(ctxT(t), "203", []byte(offerSDP)); statusOf(err) != 486 {
		t.Fatalf("call to busy: %v", err)
	}
	r = wait(t, e.records, "record of the busy call")
	if r.Outcome != cdr.Busy || r.Hangup.SIPCode != 486 || r.Hangup.By != cdr.ByCallee || r.Route.Kind != "alias" ||
		r.Dialled != "203" || !r.Answered.IsZero() {
		t.Fatalf("busy call record: %+v", r)
	}

	// Calls refused before any phone rang are recorded too.
	for _, tc := range []struct {
		to      string
		code    int
		outcome cdr.Outcome
		account string
	}{{"nobody", 404, cdr.Failed, ""}, {"1004", 480, cdr.NoAnswer, "1004"}} {
		if _, err := caller.call(ctxT(t), tc.to, []byte(offerSDP)); statusOf(err) != tc.code {
			t.Fatalf("call to %s: %v", tc.to, err)
		}
		r = wait(t, e.records, "record of the call to "+tc.to)
		if r.Outcome != tc.outcome || r.Hangup.SIPCode != tc.code || r.Callee.Account != tc.account || r.Dialled != tc.to {
			t.Fatalf("call to %s: record %+v", tc.to, r)
		}
	}
}
