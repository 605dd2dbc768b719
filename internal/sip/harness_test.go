package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

// testLog sends server logs to the test's log, shown only on failure.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// env is a running Ringo SIP endpoint with a provisioned domain.
type env struct {
	t    testing.TB
	srv  *Server
	loc  *Location
	dir  *directory.Directory
	addr string // udp host:port
	reg  *prometheus.Registry
	stop func()
	// records receives the record of every call that ends.
	records <-chan cdr.Record
	// journal receives "open ID outcome answered?" and "closed ID" lines.
	journal <-chan string
	// media is the engine calls are anchored on; rtpLo-rtpHi its ports.
	media        *media.Engine
	rtpLo, rtpHi int
}

const testDomain = "pbx.test"

func testDoc() directory.Doc {
	acc := func(name, pw string, aliases ...string) directory.AccountSpec {
		return directory.AccountSpec{Name: name, Password: pw, Aliases: &aliases}
	}
	return directory.Doc{Domains: []directory.DomainDoc{{
		DomainSpec: directory.DomainSpec{Name: testDomain, Main: true},
		Accounts: []directory.AccountSpec{
			acc("1001", "secret1001", "201"), acc("1002", "secret1002", "202"),
			acc("1003", "secret1003", "203"), acc("1004", "secret1004"),
		},
	}}}
}

func startEnv(t testing.TB, tweak func(*config.Config)) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dataDir := t.TempDir()
	st, err := sqlite.Open(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Apply(ctx, testDoc()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	loc, err := NewLocation(ctx, st, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.SIP.Addr = "127.0.0.1:0"
	cfg.Security.Algorithms = []string{"MD5", "SHA-256"}
	cfg.RTP.Ports = "41000-41999"
	if tweak != nil {
		tweak(&cfg)
	}
	reg := prometheus.NewRegistry()
	s, err := New(cfg, log, dir, loc, reg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{got: make(chan cdr.Record, 100)}
	s.SetRecorder(rec)
	jr := &journal{events: make(chan string, 100)}
	s.SetJournal(jr)
	lo, hi, err := config.PortRange(cfg.RTP.Ports)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := media.NewEngine(ctx, media.EngineConfig{BindAddr: netip.MustParseAddr("127.0.0.1"), PortMin: lo, PortMax: hi, ClockShards: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.SetMedia(eng)
	if err := s.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.Serve(ctx) }()
	go func() { defer wg.Done(); loc.Run(ctx) }()
	e := &env{t: t, srv: s, loc: loc, dir: dir, addr: s.Addrs()["udp"], reg: reg, records: rec.got, journal: jr.events, media: eng, rtpLo: lo, rtpHi: hi}
	e.stop = func() { cancel(); wg.Wait(); eng.Close(); st.Close() }
	t.Cleanup(e.stop)
	return e
}

// recorder collects call records as the CDR writer would store them.
type recorder struct{ got chan cdr.Record }

func (r *recorder) Write(_ context.Context, rec cdr.Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	select {
	case r.got <- rec:
	default:
	}
	return nil
}

// journal notes what the server journals about calls in progress.
type journal struct{ events chan string }

func (j *journal) Opened(r cdr.Record) {
	select {
	case j.events <- fmt.Sprintf("open %s %s %v", r.ID, r.Outcome, !r.Answered.IsZero()):
	default:
	}
}

func (j *journal) Closed(id string) {
	select {
	case j.events <- "closed " + id:
	default:
	}
}

// phone is a SIP user agent on its own UDP port, built on sipgo's dialog API.
type phone struct {
	t        *testing.T
	user     string
	pass     string
	addr     string
	port     int
	ua       *sipgo.UserAgent
	cl       *sipgo.Client
	dcc      *sipgo.DialogClientCache
	dsc      *sipgo.DialogServerCache
	server   string // Ringo's host:port
	instance string
	domain   string // the account's domain; testDomain when empty

	mu sync.Mutex
	// answer decides what an incoming INVITE gets; nil answers 200 at once.
	answer   func(s *sipgo.DialogServerSession) error
	incoming chan *sip.Request // every INVITE received (initial and re-INVITE)
	acks     chan *sip.Request
	byes     chan *sip.Request
	cancels  chan struct{}
	infos    chan *sip.Request // INFO requests, answered 200
}

const offerSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"

func answerSDP(port int) []byte {
	return []byte(strings.Replace(strings.Replace(offerSDP, "40000", fmt.Sprint(port), 1), "o=- 1 1", "o=- 2 2", 1))
}

func newPhone(t *testing.T, e *env, user, pass string) *phone {
	t.Helper()
	p := &phone{t: t, user: user, pass: pass, server: e.addr,
		incoming: make(chan *sip.Request, 16), acks: make(chan *sip.Request, 16), byes: make(chan *sip.Request, 16),
		cancels: make(chan struct{}, 16), infos: make(chan *sip.Request, 16)}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = conn.LocalAddr().String()
	p.port = conn.LocalAddr().(*net.UDPAddr).Port
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	p.ua = ua
	p.cl, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(p.port))
	if err != nil {
		t.Fatal(err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: p.port}}
	p.dcc = sipgo.NewDialogClientCache(p.cl, contact)
	p.dsc = sipgo.NewDialogServerCache(p.cl, contact)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		p.incoming <- req
		if to := req.To(); to != nil && to.Params.Has("tag") {
			// re-INVITE within a dialog: accept with the mirrored direction.
			body := strings.Replace(string(answerSDP(p.port)), "a=sendrecv", "a=recvonly", 1)
			tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", []byte(body)))
			return
		}
		s, err := p.dsc.ReadInvite(req, tx)
		if err != nil {
			t.Errorf("%s: read invite: %v", user, err)
			return
		}
		tx.OnCancel(func(*sip.Request) { p.cancels <- struct{}{} })
		p.mu.Lock()
		answer := p.answer
		p.mu.Unlock()
		if answer == nil {
			answer = func(s *sipgo.DialogServerSession) error {
				return s.Respond(200, "OK", answerSDP(p.port), sip.NewHeader("Content-Type", "application/sdp"))
			}
		}
		if err := answer(s); err != nil {
			t.Logf("%s: answer: %v", user, err)
		}
		<-tx.Done()
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		p.acks <- req
		p.dsc.ReadAck(req, tx)
	})
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		p.infos <- req
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		p.byes <- req
		if err := p.dsc.ReadBye(req, tx); err != nil {
			if err := p.dcc.ReadBye(req, tx); err != nil {
				tx.Respond(sip.NewResponseFromRequest(req, 481, "No Dialog", nil))
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go srv.ServeUDP(conn)
	t.Cleanup(func() { cancel(); conn.Close(); ua.Close() })
	_ = ctx
	return p
}

func (p *phone) setAnswer(f func(s *sipgo.DialogServerSession) error) {
	p.mu.Lock()
	p.answer = f
	p.mu.Unlock()
}

func (p *phone) dom() string {
	if p.domain != "" {
		return p.domain
	}
	return testDomain
}

func (p *phone) serverURI(user string) sip.Uri {
	host, port, _ := sip.ParseAddr(p.server)
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: port}
}

// request builds a request from this phone to Ringo.
func (p *phone) request(method sip.RequestMethod, ruri sip.Uri, expires int) *sip.Request {
	req := sip.NewRequest(method, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.dom()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.dom()}, Params: sip.NewParams()})
	ct := "<sip:" + p.user + "@" + p.addr + ">"
	if p.instance != "" {
		ct += `;+sip.instance="<` + p.instance + `>";reg-id=1`
	}
	req.AppendHeader(sip.NewHeader("Contact", ct))
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
	}
	return req
}

func (p *phone) do(req *sip.Request) *sip.Response {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.cl.Do(ctx, req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", p.user, req.Method, err)
	}
	return res
}

// authorize adds credentials answering a 401/407 challenge, for the
// challenge with the given algorithm.
func (p *phone) authorize(req *sip.Request, chal *sip.Response, alg, user, pass string) {
	p.t.Helper()
	hdr, out := "WWW-Authenticate", "Authorization"
	if chal.StatusCode == 407 {
		hdr, out = "Proxy-Authenticate", "Proxy-Authorization"
	}
	for _, h := range chal.GetHeaders(hdr) {
		params := challengeParams(h.Value())
		if params["algorithm"] != alg {
			continue
		}
		c := digest.Credentials{Username: user, Realm: params["realm"], Nonce: params["nonce"], URI: req.Recipient.String(),
			Algorithm: alg, QOP: "auth", NC: "00000001", CNonce: "0a4f113b", Opaque: params["opaque"]}
		c.Response = digest.Expected(c, string(req.Method), digest.HA1(alg, user, params["realm"], pass))
		req.RemoveHeader(out)
		req.AppendHeader(sip.NewHeader(out, fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s", opaque="%s"`,
			c.Username, c.Realm, c.Nonce, c.URI, c.Response, alg, c.NC, c.CNonce, c.Opaque)))
		req.RemoveHeader("Via")
		if cs := req.CSeq(); cs != nil {
			cs.SeqNo++
		}
		return
	}
	p.t.Fatalf("no %s challenge for %s in %s", hdr, alg, chal.Short())
}

func challengeParams(v string) map[string]string {
	out := map[string]string{}
	_, rest, _ := strings.Cut(v, " ")
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			out[strings.ToLower(k)] = strings.Trim(val, `"`)
		}
	}
	return out
}

// register registers the phone's contact and fails the test unless it gets 200.
func (p *phone) register(expires int) *sip.Response {
	p.t.Helper()
	req := p.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: p.dom()}, expires)
	req.SetDestination(p.server)
	req.AppendHeader(sip.NewHeader("Supported", "gruu, path, outbound"))
	res := p.do(req)
	if res.StatusCode != 401 {
		p.t.Fatalf("%s REGISTER without credentials: got %d, want 401", p.user, res.StatusCode)
	}
	p.authorize(req, res, "MD5", p.user, p.pass)
	res = p.do(req)
	if res.StatusCode != 200 {
		p.t.Fatalf("%s REGISTER: got %s", p.user, res.StartLine())
	}
	return res
}

// call invites user through Ringo, authenticating; it returns the session
// once answered, or the error (an *sipgo.ErrDialogResponse for a failure answer).
func (p *phone) call(ctx context.Context, user string, body []byte) (*sipgo.DialogClientSession, error) {
	ruri := p.serverURI(user)
	req := sip.NewRequest(sip.INVITE, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.dom()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: testDomain}, Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: "127.0.0.1", Port: p.port}})
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	s, err := p.dcc.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := s.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.user, Password: p.pass}); err != nil {
		return s, err
	}
	return s, nil
}

func statusOf(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode
	}
	return 0
}

// wait returns the next value from ch or fails after a generous bound.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

var _ = io.Discard
