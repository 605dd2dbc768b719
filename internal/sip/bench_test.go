package sip

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/store"
)

// fakeTx is a server transaction that records the response: it lets the
// benchmarks run a handler without the network.
type fakeTx struct {
	res  *sip.Response
	done chan struct{}
}

func newFakeTx() *fakeTx                             { return &fakeTx{done: make(chan struct{})} }
func (f *fakeTx) Terminate()                         {}
func (f *fakeTx) OnTerminate(sip.FnTxTerminate) bool { return true }
func (f *fakeTx) Done() <-chan struct{}              { return f.done }
func (f *fakeTx) Err() error                         { return nil }
func (f *fakeTx) Respond(res *sip.Response) error    { f.res = res; return nil }
func (f *fakeTx) Acks() <-chan *sip.Request          { return nil }
func (f *fakeTx) OnCancel(sip.FnTxCancel) bool       { return true }

// registerRequest builds an authenticated REGISTER for user, answering nonce.
func registerRequest(user, pass, nonce string, nc int) *sip.Request {
	ruri := sip.Uri{Scheme: "sip", Host: testDomain}
	req := sip.NewRequest(sip.REGISTER, ruri)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: 5070, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: testDomain}, Params: sip.NewParams()}
	from.Params.Add("tag", "t1")
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: testDomain}, Params: sip.NewParams()})
	cid := sip.CallIDHeader("reg-" + user)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: uint32(nc), MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: 5070}})
	req.AppendHeader(sip.NewHeader("Expires", "3600"))
	c := digest.Credentials{Username: user, Realm: testDomain, Nonce: nonce, URI: ruri.String(), Algorithm: "MD5",
		QOP: "auth", NC: fmt.Sprintf("%08x", nc), CNonce: "abc"}
	c.Response = digest.Expected(c, "REGISTER", digest.HA1("MD5", user, testDomain, pass))
	req.AppendHeader(sip.NewHeader("Authorization", fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="abc"`,
		c.Username, c.Realm, c.Nonce, c.URI, c.Response, c.NC)))
	req.SetSource("127.0.0.1:5070")
	req.SetTransport("UDP")
	return req
}

// BenchmarkRegisterHandler: one authenticated REGISTER through the
// registrar (nonce check, digest verification, location update, 200 built),
// without the parser and the network.
func BenchmarkRegisterHandler(b *testing.B) {
	e := startEnv(b, nil)
	nonce := e.srv.nonces.issue(testDomain, time.Now())
	reqs := make([]*sip.Request, b.N)
	for i := range reqs {
		reqs[i] = registerRequest("1001", "secret1001", nonce, i+1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := newFakeTx()
		e.srv.onRegister(reqs[i], tx)
		if tx.res == nil || tx.res.StatusCode != 200 {
			b.Fatalf("REGISTER %d: %v", i, tx.res.StartLine())
		}
	}
}

func BenchmarkNonceIssueCheckUse(b *testing.B) {
	n := newNonces(time.Minute)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		nonce := n.issue(testDomain, now)
		st, id := n.check(nonce, testDomain, now)
		if st != nonceOK || !n.use(id, 1) {
			b.Fatal("nonce refused")
		}
	}
}

func BenchmarkLocationLookup(b *testing.B) {
	loc := &Location{aors: map[string][]store.Binding{}, dirty: map[bindingKey]store.Binding{},
		gone: map[bindingKey]store.Binding{}, kick: make(chan struct{}, 1), nowFn: time.Now}
	exp := time.Now().Add(time.Hour)
	for i := range 10000 {
		aor := fmt.Sprintf("u%d@%s", i, testDomain)
		loc.Update(aor, []store.Binding{{AOR: aor, Contact: fmt.Sprintf("sip:u%d@192.0.2.1:%d", i, 5060+i%1000), Expires: exp}}, nil, false, 10)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(loc.Lookup(fmt.Sprintf("u%d@%s", i%10000, testDomain))) != 1 {
			b.Fatal("missing binding")
		}
	}
}

// BenchmarkBindingMemory reports the live heap per registered binding, as a
// phone registers it (contact, source, Call-ID, User-Agent, instance).
func BenchmarkBindingMemory(b *testing.B) {
	loc := &Location{aors: map[string][]store.Binding{}, dirty: map[bindingKey]store.Binding{},
		gone: map[bindingKey]store.Binding{}, kick: make(chan struct{}, 1), nowFn: time.Now}
	exp := time.Now().Add(time.Hour)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range b.N {
		aor := fmt.Sprintf("user%06d@%s", i, "company.example")
		loc.Update(aor, []store.Binding{{
			AOR: aor, Contact: fmt.Sprintf("sip:user%06d@10.%d.%d.%d:5060;transport=udp", i, i>>16&255, i>>8&255, i&255),
			Source: fmt.Sprintf("203.0.113.%d:%d", i&255, 1024+i%60000), Transport: "UDP", Expires: exp,
			CallID: fmt.Sprintf("%032x@10.0.0.1", i), CSeq: 42, UserAgent: "Yealink SIP-T46U 108.86.0.70",
			Instance: fmt.Sprintf("<urn:uuid:00000000-0000-0000-0000-%012d>", i),
		}}, nil, false, 10)
		if i%4096 == 0 {
			loc.dirty = map[bindingKey]store.Binding{} // written behind in production
		}
	}
	loc.dirty, loc.gone = nil, nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "B/binding")
	runtime.KeepAlive(loc)
}
