package api

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store"
)

// principal is whom a request acts for: the server administrator (the bearer
// token) or the administrator of one domain. The zero value is neither and
// may do nothing, so a request that somehow skipped auth is refused.
type principal struct {
	server  bool
	domain  string // the domain administrator's domain, lower case
	account string
}

type principalKey struct{}

// who returns the request's principal, set by auth.
func who(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// sees reports whether p may see a call record.
func (p principal) sees(rec cdr.Record) bool {
	return p.server || (p.domain != "" && strings.EqualFold(rec.Domain, p.domain))
}

// confine restricts a call-record query to p's domain. A domain the query
// names itself is kept as a filter ANDed with p's, so asking for another
// domain finds nothing rather than everything.
func (p principal) confine(q *cdr.Query) {
	if p.server {
		return
	}
	if q.Domain != "" && !strings.EqualFold(q.Domain, p.domain) {
		q.Filter = andFilter(q.Filter, &cdr.Filter{Op: cdr.OpDomain, Value: q.Domain})
	}
	q.Domain = p.domain
}

// andFilter returns f AND g, extending a top-level AND rather than nesting it
// so that the store still sees the user's terms at the top.
func andFilter(f, g *cdr.Filter) *cdr.Filter {
	switch {
	case f == nil:
		return g
	case f.Op == cdr.OpAnd:
		return cdr.And(append(append([]*cdr.Filter(nil), f.Args...), g)...)
	}
	return cdr.And(f, g)
}

// scope is what a domain administrator may do with a route.
type scope int

const (
	// serverOnly routes answer 403 to a domain administrator.
	serverOnly scope = iota
	// ownDomain routes serve a domain administrator only when the {domain}
	// in the path is theirs.
	ownDomain
	// confined routes serve a domain administrator; the handler confines
	// what it answers with to their domain.
	confined
)

// allow enforces a route's scope for domain administrators.
func allow(sc scope, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := who(r)
		switch {
		case p.server:
		case p.domain == "":
			writeError(w, http.StatusForbidden, "not allowed")
			return
		case sc == confined:
		case sc == ownDomain && strings.ToLower(r.PathValue("domain")) == p.domain:
		default:
			forbid(w, p)
			return
		}
		h(w, r)
	})
}

func forbid(w http.ResponseWriter, p principal) {
	writeError(w, http.StatusForbidden, "the administrator of "+p.domain+" may manage only that domain")
}

// Answers to failed authentication. The Basic one is the same whether the
// account is unknown, the password wrong or the right missing, so that it
// tells nothing about which accounts exist.
const (
	msgBadToken = "missing or wrong bearer token"
	msgBadBasic = "wrong user name or password, or no domain administration right"
)

// auth admits the server administrator by bearer token and a domain
// administrator by HTTP Basic name@domain:password, and records which it was.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p principal
		msg := msgBadToken
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			// An empty configured token admits nobody (not "Bearer " with nothing).
			p.server = s.token != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.token)) == 1
		} else if user, password, ok := r.BasicAuth(); ok {
			msg = msgBadBasic
			p = s.domainAdmin(user, password)
		}
		if !p.server && p.domain == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringo"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="ringo", charset="UTF-8"`)
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// domainAdmin returns the principal of name@domain when password is its
// password and the account has the domainAdmin right, else the zero principal.
func (s *Server) domainAdmin(user, password string) principal {
	name, dom, _ := strings.Cut(user, "@")
	a, found := s.dir.Account(dom, name)
	if !found || name == "" || dom == "" {
		// Check against hashes no password has, so that an unknown account
		// costs what a wrong password does.
		found = false
		a = store.Account{Name: name, Domain: dom, HA1MD5: strings.Repeat("0", 32), HA1SHA256: strings.Repeat("0", 64)}
	}
	good := directory.CheckPassword(&a, password)
	if !found || !good || !a.Prefs.DomainAdmin {
		return principal{}
	}
	return principal{domain: a.Domain, account: a.Name}
}
