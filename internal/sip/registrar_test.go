package sip

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/store"
)

func TestRegisterDigest(t *testing.T) {
	e := startEnv(t, nil)
	p := newPhone(t, e, "1001", "secret1001")

	tests := []struct {
		name      string
		user, pw  string
		alg       string
		aor       string
		want      int
		wantBound bool
	}{
		{"md5", "1001", "secret1001", "MD5", "1001", 200, true},
		{"sha256", "1001", "secret1001", "SHA-256", "1001", 200, true},
		{"alias as address of record", "1001", "secret1001", "MD5", "201", 200, true},
		{"wrong password", "1001", "nope", "MD5", "1001", 403, false},
		{"unknown user", "9999", "x", "MD5", "9999", 403, false},
		{"someone else's address", "1002", "secret1002", "MD5", "1001", 403, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.loc.Update("1001@"+testDomain, nil, nil, true, 0)
			req := p.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"}, 120)
			req.ReplaceHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: tc.aor, Host: "127.0.0.1"}, Params: sip.NewParams()})
			req.SetDestination(e.addr)
			res := p.do(req)
			if res.StatusCode != 401 {
				t.Fatalf("first REGISTER: got %d, want 401", res.StatusCode)
			}
			p.authorize(req, res, tc.alg, tc.user, tc.pw)
			res = p.do(req)
			if res.StatusCode != tc.want {
				t.Fatalf("got %s, want %d", res.StartLine(), tc.want)
			}
			bound := len(e.loc.Lookup("1001@"+testDomain)) > 0
			if bound != tc.wantBound {
				t.Fatalf("bound = %v, want %v", bound, tc.wantBound)
			}
			if tc.want == 200 {
				ct := res.GetHeader("Contact")
				if ct == nil || !strings.Contains(ct.Value(), "expires=120") {
					t.Fatalf("200 lacks the binding with expires=120: %v", ct)
				}
			}
		})
	}
}

// TestChallengeSameForUnknownUser: a scanner cannot tell real accounts by their challenge.
func TestChallengeSameForUnknownUser(t *testing.T) {
	e := startEnv(t, nil)
	p := newPhone(t, e, "1001", "secret1001")
	shape := func(user string) string {
		req := p.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"}, 60)
		req.ReplaceHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}, Params: sip.NewParams()})
		req.SetDestination(e.addr)
		res := p.do(req)
		var parts []string
		parts = append(parts, res.StartLine())
		for _, h := range res.GetHeaders("WWW-Authenticate") {
			prm := challengeParams(h.Value())
			parts = append(parts, prm["realm"], prm["algorithm"], prm["qop"])
		}
		return strings.Join(parts, "|")
	}
	known, unknown := shape("1001"), shape("nobody")
	if known != unknown {
		t.Fatalf("challenge differs:\nknown:   %s\nunknown: %s", known, unknown)
	}
	if !strings.Contains(known, "MD5") || !strings.Contains(known, "SHA-256") || !strings.Contains(known, "auth") {
		t.Fatalf("challenge should offer MD5 and SHA-256 with qop=auth: %s", known)
	}
}

func TestRegisterExpiryUnregisterFetch(t *testing.T) {
	e := startEnv(t, nil)
	a := newPhone(t, e, "1002", "secret1002")
	b := newPhone(t, e, "1002", "secret1002")
	a.register(300)
	b.register(300)
	aor := "1002@" + testDomain
	if n := len(e.loc.Lookup(aor)); n != 2 {
		t.Fatalf("want 2 contacts, got %d", n)
	}

	// Fetch bindings: a REGISTER without Contact lists them.
	req := a.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: testDomain}, -1)
	req.RemoveHeader("Contact")
	req.SetDestination(e.addr)
	res := a.do(req)
	a.authorize(req, res, "MD5", "1002", "secret1002")
	res = a.do(req)
	if got := len(res.GetHeaders("Contact")); res.StatusCode != 200 || got != 2 {
		t.Fatalf("fetch: %s with %d contacts, want 200 with 2", res.StartLine(), got)
	}

	// Too brief.
	req = a.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: testDomain}, 5)
	req.SetDestination(e.addr)
	res = a.do(req)
	a.authorize(req, res, "MD5", "1002", "secret1002")
	res = a.do(req)
	if res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil {
		t.Fatalf("want 423 with Min-Expires, got %s", res.StartLine())
	}

	// Un-register one contact.
	a.register(0)
	bs := e.loc.Lookup(aor)
	if len(bs) != 1 || !strings.Contains(bs[0].Contact, b.addr) {
		t.Fatalf("after un-register want only %s, got %+v", b.addr, bs)
	}

	// Contact: * with Expires: 0 removes all.
	req = a.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: testDomain}, 0)
	req.ReplaceHeader(sip.NewHeader("Contact", "*"))
	req.SetDestination(e.addr)
	res = a.do(req)
	a.authorize(req, res, "MD5", "1002", "secret1002")
	if res = a.do(req); res.StatusCode != 200 {
		t.Fatalf("Contact: *: %s", res.StartLine())
	}
	if n := len(e.loc.Lookup(aor)); n != 0 {
		t.Fatalf("after Contact: * want 0 contacts, got %d", n)
	}
}

func TestLocationExpires(t *testing.T) {
	e := startEnv(t, nil)
	now := time.Now()
	e.loc.nowFn = func() time.Time { return now }
	e.loc.Update("x@"+testDomain, []store.Binding{
		{AOR: "x@" + testDomain, Contact: "sip:a@127.0.0.1:1", Expires: now.Add(10 * time.Second)},
		{AOR: "x@" + testDomain, Contact: "sip:b@127.0.0.1:2", Expires: now.Add(20 * time.Second)},
	}, nil, false, 0)
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{{0, 2}, {10 * time.Second, 1}, {15 * time.Second, 1}, {20 * time.Second, 0}} {
		e.loc.nowFn = func() time.Time { return now.Add(tc.after) }
		if got := len(e.loc.Lookup("x@" + testDomain)); got != tc.want {
			t.Errorf("after %v: %d bindings, want %d", tc.after, got, tc.want)
		}
	}
}

func TestMaxContactsDropsSoonestExpiring(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.Registrar.MaxContacts = 2 })
	now := time.Now()
	aor := "y@" + testDomain
	for i := range 3 {
		e.loc.Update(aor, []store.Binding{{AOR: aor, Contact: fmt.Sprintf("sip:%d@127.0.0.1", i), Expires: now.Add(time.Duration(100-i) * time.Second)}}, nil, false, 2)
	}
	bs := e.loc.Lookup(aor)
	if len(bs) != 2 {
		t.Fatalf("want 2, got %d", len(bs))
	}
	for _, b := range bs {
		if b.Contact == "sip:2@127.0.0.1" {
			t.Fatalf("the soonest-expiring binding should have been dropped: %+v", bs)
		}
	}
}

func TestRegistrationsSurviveRestart(t *testing.T) {
	e := startEnv(t, nil)
	p := newPhone(t, e, "1001", "secret1001")
	p.register(300)
	e.loc.Flush(context.Background())
	loc2, err := NewLocation(context.Background(), e.loc.st, e.srv.log)
	if err != nil {
		t.Fatal(err)
	}
	bs := loc2.Lookup("1001@" + testDomain)
	if len(bs) != 1 || !strings.Contains(bs[0].Contact, p.addr) || bs[0].Source == "" {
		t.Fatalf("reloaded bindings: %+v", bs)
	}
}

func TestNonceReplayIsRechallenged(t *testing.T) {
	e := startEnv(t, nil)
	p := newPhone(t, e, "1001", "secret1001")
	req := p.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: testDomain}, 60)
	req.SetDestination(e.addr)
	res := p.do(req)
	p.authorize(req, res, "MD5", "1001", "secret1001")
	if res := p.do(req.Clone()); res.StatusCode != 200 {
		t.Fatalf("first use: %s", res.StartLine())
	}
	// A retransmission (same Call-ID and CSeq) is the same request: 200 again.
	retrans := req.Clone()
	retrans.RemoveHeader("Via")
	if res := p.do(retrans); res.StatusCode != 200 {
		t.Fatalf("retransmission: got %s, want 200", res.StartLine())
	}
	// A replay of the credentials in a changed request (the digest does not
	// cover CSeq or Contact) is refused with a fresh challenge.
	req.RemoveHeader("Via")
	req.CSeq().SeqNo++
	req.ReplaceHeader(sip.NewHeader("Contact", "<sip:attacker@192.0.2.66:5060>"))
	res = p.do(req)
	if res.StatusCode != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("replay: got %s, want 401 stale", res.StartLine())
	}
	for _, b := range e.loc.Lookup("1001@" + testDomain) {
		if strings.Contains(b.Contact, "attacker") {
			t.Fatalf("the replay registered %s", b.Contact)
		}
	}
}

func TestSourceBlockedAfterFailures(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.Security.FailLimit = 3 })
	p := newPhone(t, e, "1001", "secret1001")
	for i := range 3 {
		req := p.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: testDomain}, 60)
		req.SetDestination(e.addr)
		res := p.do(req)
		p.authorize(req, res, "MD5", "1001", fmt.Sprintf("guess%d", i))
		if res = p.do(req); res.StatusCode != 403 {
			t.Fatalf("guess %d: %s, want 403", i, res.StartLine())
		}
	}
	if _, blocked := e.srv.Blocked()["127.0.0.1"]; !blocked {
		t.Fatalf("127.0.0.1 should be blocked: %v", e.srv.Blocked())
	}
	// Even the right password now gets no answer at all.
	req := p.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: testDomain}, 60)
	req.SetDestination(e.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if res, err := p.cl.Do(ctx, req); err == nil {
		t.Fatalf("blocked source got an answer: %s", res.StartLine())
	}
}

func TestMalformedAndUnsupported(t *testing.T) {
	e := startEnv(t, nil)
	conn, err := net.Dial("udp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exchange := func(msg string) string {
		t.Helper()
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no answer to %q: %v", strings.SplitN(msg, "\r\n", 2)[0], err)
		}
		return strings.SplitN(string(buf[:n]), "\r\n", 2)[0]
	}
	local := conn.LocalAddr().String()
	req := func(method, extra string) string {
		return method + " sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + sip.GenerateTagN(10) + "\r\n" +
			"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: " + sip.GenerateTagN(10) + "\r\n" + extra +
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	}
	// Garbage is dropped (nothing to answer to), and the server goes on.
	conn.Write([]byte("\x00\x01garbage\r\n\r\n"))
	conn.Write([]byte("INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n"))
	cases := []struct{ msg, want string }{
		{req("OPTIONS", "CSeq: 1 OPTIONS\r\n"), "SIP/2.0 200"},
		{req("SUBSCRIBE", "CSeq: 1 SUBSCRIBE\r\n"), "SIP/2.0 501"},
		{req("FOO", "CSeq: 1 FOO\r\n"), "SIP/2.0 405"},
		{req("INVITE", ""), "SIP/2.0 400"}, // no CSeq
		{req("INVITE", "CSeq: 1 INVITE\r\n"), "SIP/2.0 407"},
		{req("BYE", "CSeq: 2 BYE\r\n"), "SIP/2.0 481"},
	}
	for _, tc := range cases {
		if got := exchange(tc.msg); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: got %q, want %s", strings.SplitN(tc.msg, " ", 2)[0], got, tc.want)
		}
	}
}

// TestPathRoutesThroughProxy: a phone registered through an edge proxy that
// added Path is reached through that proxy, with the Path as Route.
func TestPathRoutesThroughProxy(t *testing.T) {
	e := startEnv(t, nil)
	proxy := newPhone(t, e, "proxy", "")
	proxy.setAnswer(func(s *sipgo.DialogServerSession) error { return s.Respond(486, "Busy Here", nil) })
	p := newPhone(t, e, "1002", "secret1002")
	req := p.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: testDomain}, 300)
	pathURI := "<sip:" + proxy.addr + ";lr>"
	req.AppendHeader(sip.NewHeader("Path", pathURI))
	req.AppendHeader(sip.NewHeader("Supported", "path"))
	req.ReplaceHeader(sip.NewHeader("Contact", "<sip:1002@10.9.9.9:5060>")) // behind the proxy, unreachable directly
	req.SetDestination(e.addr)
	res := p.do(req)
	p.authorize(req, res, "MD5", "1002", "secret1002")
	if res = p.do(req); res.StatusCode != 200 || res.GetHeader("Path") == nil {
		t.Fatalf("REGISTER with Path: %s (Path echoed: %v)", res.StartLine(), res.GetHeader("Path"))
	}
	caller := newPhone(t, e, "1001", "secret1001")
	if _, err := caller.call(ctxT(t), "1002", []byte(offerSDP)); statusOf(err) != 486 {
		t.Fatalf("call: %v, want the proxy's 486", err)
	}
	inv := wait(t, proxy.incoming, "INVITE at the proxy")
	if got := inv.Recipient.String(); got != "sip:1002@10.9.9.9:5060" {
		t.Fatalf("Request-URI %s, want the registered contact", got)
	}
	if r := inv.GetHeader("Route"); r == nil || !strings.Contains(r.Value(), proxy.addr) {
		t.Fatalf("INVITE without the Path as Route: %v", r)
	}
}
