package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store"
)

// nonces issues stateless, self-verifying nonces (a timestamp and its HMAC)
// and remembers the highest nonce-count seen for each, so a captured
// Authorization cannot be replayed. Two generations of counters rotate every
// lifetime, which bounds memory without a sweep.
type nonces struct {
	secret   [32]byte
	opaque   string
	lifetime time.Duration

	mu        sync.Mutex
	cur, prev map[[16]byte]uint32
	rotatedAt time.Time
}

func newNonces(lifetime time.Duration) *nonces {
	n := &nonces{lifetime: lifetime, cur: map[[16]byte]uint32{}, prev: map[[16]byte]uint32{}, rotatedAt: time.Now()}
	rand.Read(n.secret[:])
	var o [8]byte
	rand.Read(o[:])
	n.opaque = base64.RawURLEncoding.EncodeToString(o[:])
	return n
}

const nonceLen = 8 + 16

func (n *nonces) mac(ts []byte, realm string) [16]byte {
	m := hmac.New(sha256.New, n.secret[:])
	m.Write(ts)
	m.Write([]byte(realm))
	var out [16]byte
	copy(out[:], m.Sum(nil))
	return out
}

// issue returns a new nonce for realm.
func (n *nonces) issue(realm string, now time.Time) string {
	var raw [nonceLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(now.UnixNano()))
	mac := n.mac(raw[:8], realm)
	copy(raw[8:], mac[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

type nonceState int

const (
	nonceOK nonceState = iota
	nonceInvalid
	nonceStale
)

// check verifies a nonce's origin and age.
func (n *nonces) check(nonce, realm string, now time.Time) (nonceState, [16]byte) {
	var raw [nonceLen]byte
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != nonceLen {
		return nonceInvalid, [16]byte{}
	}
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce)); err != nil {
		return nonceInvalid, [16]byte{}
	}
	mac := n.mac(raw[:8], realm)
	if !hmac.Equal(mac[:], raw[8:]) {
		return nonceInvalid, mac
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	if now.Sub(issued) > n.lifetime || issued.After(now.Add(time.Minute)) {
		return nonceStale, mac
	}
	return nonceOK, mac
}

// use records nonce-count nc for a nonce and reports whether it is fresh
// (greater than every count seen before with that nonce).
func (n *nonces) use(key [16]byte, nc uint32, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Sub(n.rotatedAt) > n.lifetime {
		n.prev, n.cur = n.cur, make(map[[16]byte]uint32, len(n.cur))
		n.rotatedAt = now
	}
	last, seen := n.cur[key]
	if !seen {
		last, seen = n.prev[key]
	}
	if seen && nc <= last {
		return false
	}
	n.cur[key] = nc
	return true
}

// guard blocks a source address after repeated authentication failures.
type guard struct {
	limit  int
	window time.Duration
	block  time.Duration

	mu sync.Mutex
	m  map[netip.Addr]*guardEntry
}

type guardEntry struct {
	count        int
	first        time.Time
	blockedUntil time.Time
}

func newGuard(limit int, window, block time.Duration) *guard {
	return &guard{limit: limit, window: window, block: block, m: map[netip.Addr]*guardEntry{}}
}

// fail records a failure; it reports whether the source is now blocked.
func (g *guard) fail(ip netip.Addr, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.m[ip]
	if e == nil {
		if len(g.m) > 100000 {
			g.sweepLocked(now)
		}
		e = &guardEntry{first: now}
		g.m[ip] = e
	}
	if now.Sub(e.first) > g.window {
		e.count, e.first = 0, now
	}
	e.count++
	if e.count >= g.limit {
		e.blockedUntil = now.Add(g.block)
		return true
	}
	return false
}

func (g *guard) sweepLocked(now time.Time) {
	for ip, e := range g.m {
		if now.After(e.blockedUntil) && now.Sub(e.first) > g.window {
			delete(g.m, ip)
		}
	}
}

// blocked reports whether ip is blocked now.
func (g *guard) blocked(ip netip.Addr, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.m[ip]
	return e != nil && now.Before(e.blockedUntil)
}

// blockedList returns the blocked sources and until when.
func (g *guard) blockedList(now time.Time) map[string]time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]time.Time{}
	for ip, e := range g.m {
		if now.Before(e.blockedUntil) {
			out[ip.String()] = e.blockedUntil
		}
	}
	return out
}

func sourceIP(src string) netip.Addr {
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// dummyHA1 keeps the work done for an unknown user equal to a known one.
var dummyHA1 = map[string]string{
	digest.MD5:    digest.HA1(digest.MD5, "nobody", "nowhere", "x"),
	digest.SHA256: digest.HA1(digest.SHA256, "nobody", "nowhere", "x"),
}

// authenticate checks the request's credentials for realm (a domain name).
// On success it returns the account. Otherwise it has already answered:
// a challenge when there are no usable credentials (the same for known and
// unknown users), 403 for wrong ones, 400 for malformed ones.
func (s *Server) authenticate(req *sip.Request, tx sip.ServerTransaction, realm string, proxy bool) (*store.Account, bool) {
	hdr, status := "Authorization", 401
	if proxy {
		hdr, status = "Proxy-Authorization", 407
	}
	now := time.Now()
	var cred digest.Credentials
	var found bool
	for _, h := range req.GetHeaders(hdr) {
		c, err := digest.Parse(h.Value())
		if err != nil {
			s.metrics.authFailures.WithLabelValues("malformed").Inc()
			s.respond(tx, req, 400, "Bad Request: "+err.Error(), nil)
			return nil, false
		}
		if strings.EqualFold(c.Realm, realm) {
			cred, found = c, true
			break
		}
	}
	if !found {
		s.challenge(tx, req, status, realm, false, now)
		return nil, false
	}
	if !s.algAllowed(cred.Algorithm) {
		s.challenge(tx, req, status, realm, false, now)
		return nil, false
	}
	state, key := s.nonces.check(cred.Nonce, realm, now)
	switch state {
	case nonceInvalid:
		s.challenge(tx, req, status, realm, false, now)
		return nil, false
	case nonceStale:
		s.challenge(tx, req, status, realm, true, now)
		return nil, false
	}
	alg := strings.ToUpper(cred.Algorithm)
	acc, ok := s.dir.Account(realm, cred.Username)
	ha1 := ""
	if ok {
		ha1 = directory.HA1(&acc, alg)
	}
	if ha1 == "" {
		ok = false
		ha1 = dummyHA1[alg]
	}
	if !digest.Verify(cred, string(req.Method), ha1) || !ok {
		s.metrics.authFailures.WithLabelValues("wrong").Inc()
		ip := sourceIP(req.Source())
		if ip.IsValid() && s.guard.fail(ip, now) {
			s.log.Warn("blocking source after repeated authentication failures", "source", ip.String(), "for", s.guard.block.String())
			s.metrics.blocked.Inc()
		}
		s.log.Info("authentication failed", "method", req.Method, "user", cred.Username, "realm", realm, "source", req.Source())
		s.respond(tx, req, 403, "Forbidden", nil)
		return nil, false
	}
	nc := uint32(0)
	if cred.NC != "" {
		v, err := strconv.ParseUint(cred.NC, 16, 32)
		if err != nil {
			s.respond(tx, req, 400, "Bad Request: nc", nil)
			return nil, false
		}
		nc = uint32(v)
	}
	if !s.nonces.use(key, nc, now) {
		// A replayed (or reordered) nonce-count: ask for fresh credentials.
		s.metrics.authFailures.WithLabelValues("replay").Inc()
		s.challenge(tx, req, status, realm, true, now)
		return nil, false
	}
	return &acc, true
}

func (s *Server) algAllowed(alg string) bool {
	for _, a := range s.cfg.Security.Algorithms {
		if strings.EqualFold(a, alg) {
			return true
		}
	}
	return false
}

func (s *Server) challenge(tx sip.ServerTransaction, req *sip.Request, status int, realm string, stale bool, now time.Time) {
	hdr, reason := "WWW-Authenticate", "Unauthorized"
	if status == 407 {
		hdr, reason = "Proxy-Authenticate", "Proxy Authentication Required"
	}
	nonce := s.nonces.issue(realm, now)
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	for _, alg := range s.cfg.Security.Algorithms {
		res.AppendHeader(sip.NewHeader(hdr, digest.Challenge(realm, nonce, s.nonces.opaque, alg, stale)))
	}
	s.send(tx, res)
}
