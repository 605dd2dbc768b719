package sip

import (
	"context"
	"testing"

	"github.com/emiago/sipgo"

	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store"
)

// The called account's real-time rules send the call to a program or to
// another account, before its phones ring (always, after hours, when not
// registered) or after (busy, no answer).
func TestDivertRules(t *testing.T) {
	ring := func(s *sipgo.DialogServerSession) error { return s.Respond(180, "Ringing", nil) }
	busy := func(s *sipgo.DialogServerSession) error { return s.Respond(486, "Busy Here", nil) }
	tests := []struct {
		name     string
		rules    []store.Rule
		hours    map[string]string
		register bool                                     // 1002 has a phone
		answer   func(s *sipgo.DialogServerSession) error // 1002's phone
		wantApp  string                                   // "" when the call goes to 1003
		wantVia  string
	}{
		{"after hours to a program", []store.Rule{{Divert: "afterhours", To: "#callback"}}, map[string]string{"mon-sun": "off"}, true, nil, "callback", "rule afterhours"},
		{"always to another account", []store.Rule{{Divert: "always", To: "203"}}, nil, true, nil, "", ""},
		{"unregistered to a program", []store.Rule{{Divert: "unregistered", To: "#voicemail"}}, nil, false, nil, "voicemail", "rule unregistered"},
		{"busy to a program", []store.Rule{{Divert: "busy", To: "#voicemail"}}, nil, true, busy, "voicemail", "rule busy"},
		{"no answer to another account", []store.Rule{{Divert: "noanswer", To: "1003", After: "1s"}}, nil, true, ring, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t, nil)
			apps := &scriptApps{t: t}
			accepted := make(chan callapi.Mode, 1)
			apps.script = func(c callapi.Call, h *appEvents) {
				m := c.Mode()
				if err := c.Accept(context.Background()); err != nil {
					t.Errorf("accept: %v", err)
				}
				accepted <- m
			}
			e.srv.SetApps(apps)
			rules := tt.rules
			if _, err := e.dir.PutAccount(context.Background(), testDomain, directory.AccountSpec{Name: "1002", Rules: &rules, WorkingHours: tt.hours}); err != nil {
				t.Fatal(err)
			}
			caller := newPhone(t, e, "1001", "secret1001")
			callee := newPhone(t, e, "1002", "secret1002")
			other := newPhone(t, e, "1003", "secret1003")
			other.register(300)
			if tt.register {
				callee.register(300)
			}
			if tt.answer != nil {
				callee.setAnswer(tt.answer)
			}
			s, err := caller.call(ctxT(t), "1002", newRTPPeer(t).sdp())
			if err != nil {
				t.Fatal(err)
			}
			s.Ack(ctxT(t))
			if tt.wantApp != "" {
				if m := wait(t, accepted, "the program"); m != callapi.Incoming {
					t.Fatalf("the program found the call %v, want incoming", m)
				}
				apps.mu.Lock()
				got := apps.calls
				apps.mu.Unlock()
				if len(got) != 1 || got[0] != tt.wantApp+"#1002 "+tt.wantVia {
					t.Fatalf("programs started: %v", got)
				}
			} else {
				wait(t, other.incoming, "INVITE at 1003")
			}
			if tt.answer != nil && tt.wantApp == "" {
				wait(t, callee.cancels, "CANCEL at 1002's ringing phone")
			}
			s.Bye(ctxT(t))
			r := wait(t, e.records, "record")
			if r.Outcome != cdr.Diverted {
				t.Errorf("record outcome %s, want diverted: %+v", r.Outcome, r)
			}
			if tt.wantApp != "" && (r.Route.Kind != "app" || r.Route.Target != tt.wantApp+"#1002@"+testDomain) {
				t.Errorf("record route %+v", r.Route)
			}
			if tt.wantApp == "" && (r.Route.Kind != "rule" || r.Callee.Account != "1003") {
				t.Errorf("record route %+v callee %+v", r.Route, r.Callee)
			}
			e.portsFree(t)
		})
	}
}
