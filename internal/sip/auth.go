package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store"
)

// nonces issues self-verifying nonces (issue time, a sequence number and
// an HMAC of both) and remembers, for each, the highest nonce-count used, so
// a captured Authorization cannot be replayed. The counts live in a fixed
// ring indexed by sequence number: memory stays constant whatever the rate,
// and a nonce whose slot has been reused by a newer one is simply stale
// (the client is re-challenged and answers at once).
type nonces struct {
	secret   [32]byte
	opaque   string
	lifetime time.Duration
	seq      atomic.Uint32
	macs     sync.Pool // of keyed HMAC-SHA256 hashes, reset per use
	// slots hold seq<<32 | (highest nc used + 1); 0 in the low half means unused.
	slots []atomic.Uint64
}

const (
	nonceRing = 1 << 20 // 8 MiB of counters
	nonceLen  = 8 + 4 + 16
)

func newNonces(lifetime time.Duration) *nonces {
	n := &nonces{lifetime: lifetime, slots: make([]atomic.Uint64, nonceRing)}
	rand.Read(n.secret[:])
	n.macs.New = func() any { return hmac.New(sha256.New, n.secret[:]) }
	var o [8]byte
	rand.Read(o[:])
	n.opaque = base64.RawURLEncoding.EncodeToString(o[:])
	return n
}

func (n *nonces) mac(head []byte, realm string, out []byte) {
	m := n.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(head)
	m.Write([]byte(realm))
	var sum [sha256.Size]byte
	copy(out, m.Sum(sum[:0]))
	n.macs.Put(m)
}

// issue returns a new nonce for realm.
func (n *nonces) issue(realm string, now time.Time) string {
	var raw [nonceLen]byte
	id := n.seq.Add(1)
	binary.BigEndian.PutUint64(raw[:8], uint64(now.UnixNano()))
	binary.BigEndian.PutUint32(raw[8:12], id)
	n.mac(raw[:12], realm, raw[12:])
	n.slots[id%nonceRing].Store(uint64(id) << 32)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

type nonceState int

const (
	nonceOK nonceState = iota
	nonceInvalid
	nonceStale
)

// check verifies a nonce's origin and age and returns its sequence number.
func (n *nonces) check(nonce, realm string, now time.Time) (nonceState, uint32) {
	var raw [nonceLen]byte
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != nonceLen {
		return nonceInvalid, 0
	}
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce)); err != nil {
		return nonceInvalid, 0
	}
	var mac [16]byte
	n.mac(raw[:12], realm, mac[:])
	if !hmac.Equal(mac[:], raw[12:]) {
		return nonceInvalid, 0
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	if now.Sub(issued) > n.lifetime || issued.After(now.Add(time.Minute)) {
		return nonceStale, 0
	}
	return nonceOK, binary.BigEndian.Uint32(raw[8:12])
}

// use records nonce-count nc for nonce id and reports whether it is fresh:
// greater than every count used before with that nonce, and the nonce's
// slot not yet taken by a newer one.
func (n *nonces) use(id, nc uint32) bool {
	slot := &n.slots[id%nonceRing]
	for {
		v := slot.Load()
		if uint32(v>>32) != id || uint64(nc)+1 <= v&0xffffffff {
			return false
		}
		if slot.CompareAndSwap(v, uint64(id)<<32|(uint64(nc)+1)) {
			return true
		}
	}
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
	state, nonceID := s.nonces.check(cred.Nonce, realm, now)
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
	if nc == math.MaxUint32 || !s.nonces.use(nonceID, nc) {
		if s.isRegisterRetransmission(req, &acc) {
			// Answered statelessly, so a retransmitted REGISTER comes here
			// again with the same credentials: it is the same request, not a replay.
			return &acc, true
		}
		// A replayed (or reordered) nonce-count: ask for fresh credentials.
		s.metrics.authFailures.WithLabelValues("replay").Inc()
		s.challenge(tx, req, status, realm, true, now)
		return nil, false
	}
	return &acc, true
}

// isRegisterRetransmission reports whether req repeats the REGISTER that
// produced a binding of acc (same Call-ID and CSeq).
func (s *Server) isRegisterRetransmission(req *sip.Request, acc *store.Account) bool {
	if req.Method != sip.REGISTER || req.CallID() == nil || req.CSeq() == nil {
		return false
	}
	for _, b := range s.loc.Lookup(acc.Name + "@" + acc.Domain) {
		if b.CallID == req.CallID().Value() && b.CSeq == req.CSeq().SeqNo {
			return true
		}
	}
	return false
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
	// A challenge is stateless too, also for INVITE: its ACK then matches
	// no transaction and is dropped, rather than parking a goroutine in the
	// transaction until it times out.
	tx.Terminate()
}
