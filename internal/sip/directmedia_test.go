package sip

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/media"
)

// A call between two accounts keeps its media between the phones only when
// both accounts' domains allow direct media and nothing needs Ringo in the
// media path: the callee then gets the caller's own address, and Ringo's
// otherwise.
func TestDirectMediaPerDomain(t *testing.T) {
	data := t.TempDir()
	e := startEnv(t, func(c *config.Config) { c.Data = data })
	ctx := context.Background()
	// 3001@lan.test, reached from pbx.test through a forwarder.
	if _, err := e.dir.PutDomain(ctx, directory.DomainSpec{Name: "lan.test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.PutAccount(ctx, "lan.test", directory.AccountSpec{Name: "3001", Password: "secret3001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.PutForwarder(ctx, testDomain, "3001", "3001@lan.test"); err != nil {
		t.Fatal(err)
	}
	caller := newPhone(t, e, "1001", "secret1001")
	local := newPhone(t, e, "1002", "secret1002")
	local.register(300)
	far := newPhone(t, e, "3001", "secret3001")
	far.domain = "lan.test"
	far.register(300)

	tests := []struct {
		name                 string
		pbxDirect, lanDirect bool
		record               bool // 1002 has its calls recorded
		dial                 string
		callee               *phone // nil for a service
		want                 string // the call's media in the API
	}{
		{"one domain that allows", true, false, false, "1002", local, mediaDirect},
		{"one domain that does not", false, true, false, "1002", local, mediaAnchored},
		{"two domains that allow", true, true, false, "3001", far, mediaDirect},
		{"the callee's domain does not", true, false, false, "3001", far, mediaAnchored},
		{"the caller's domain does not", false, true, false, "3001", far, mediaAnchored},
		{"the callee records its calls", true, true, true, "1002", local, mediaAnchored},
		{"a service", true, true, false, "echo", nil, "echo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, d := range []struct {
				spec   directory.DomainSpec
				direct bool
			}{{directory.DomainSpec{Name: testDomain, Main: true}, tt.pbxDirect}, {directory.DomainSpec{Name: "lan.test"}, tt.lanDirect}} {
				d.spec.DirectMedia = &d.direct
				if _, err := e.dir.PutDomain(ctx, d.spec); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.dir.PutAccount(ctx, testDomain, directory.AccountSpec{Name: "1002", RecordCalls: &tt.record}); err != nil {
				t.Fatal(err)
			}
			a := newRTPPeer(t)
			s, err := caller.call(ctxT(t), tt.dial, a.sdp())
			if err != nil {
				t.Fatal(err)
			}
			if calls := e.srv.Calls(); len(calls) != 1 || calls[0].Media != tt.want {
				t.Fatalf("calls: %+v, want media %s", calls, tt.want)
			}
			if tt.callee == nil {
				e.checkAnchored(t, "the service's answer", s.InviteResponse.Body())
			} else {
				inv := wait(t, tt.callee.incoming, "INVITE at callee")
				d, err := media.ParseSDP(inv.Body())
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == mediaDirect {
					if want := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", a.port)); d.Addr != want {
						t.Fatalf("callee's offer names %s, want the caller's %s:\n%s", d.Addr, want, inv.Body())
					}
					if got, want := string(s.InviteResponse.Body()), string(answerSDP(tt.callee.port)); got != want {
						t.Fatalf("caller got another SDP than the callee's answer:\n%s", got)
					}
				} else {
					e.checkAnchored(t, "callee's offer", inv.Body())
					e.checkAnchored(t, "caller's answer", s.InviteResponse.Body())
				}
			}
			if err := s.Ack(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if tt.callee != nil {
				wait(t, tt.callee.acks, "ACK at callee")
			}
			if err := s.Bye(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if tt.callee != nil {
				wait(t, tt.callee.byes, "BYE at callee")
			}
			r := wait(t, e.records, "the call's record")
			if r.Outcome != cdr.Answered || r.Hangup.By != cdr.ByCaller {
				t.Fatalf("record: %+v", r)
			}
			waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "call to end")
			e.portsFree(t)
		})
	}
}
