package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store"
)

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// The principals of the boundary tests: the server token and the
// administrators of example.com (alice) and other.test (dave).
var (
	asServer  = "Bearer " + token
	asExample = basic("alice@example.com", "Secret-1")
	asOther   = basic("dave@other.test", "Secret-3")
)

// newAdminEnv provisions applyDoc, makes alice and dave domain
// administrators and stores call records of both domains.
func newAdminEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	wantCode(t, e.do("POST", "/api/v1/apply", applyDoc), http.StatusOK)
	wantCode(t, e.do("PUT", "/api/v1/domains/example.com/accounts/alice", `{"domainAdmin": true}`), http.StatusOK)
	wantCode(t, e.do("PUT", "/api/v1/domains/other.test/accounts/dave", `{"domainAdmin": true}`), http.StatusOK)
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	rec := func(id, dom string, ago time.Duration, outcome cdr.Outcome) cdr.Record {
		r := cdr.Record{ID: id, Domain: dom, Direction: cdr.Inbound, Outcome: outcome,
			Caller:  cdr.Party{Number: "+79161234567", Name: "Ivanov"},
			Callee:  cdr.Party{Account: "operator"},
			Created: end.Add(-ago - time.Minute), Ended: end.Add(-ago)}
		r.FillDurations()
		return r
	}
	e.put(rec("ex1", "example.com", 0, cdr.Answered), rec("ex2", "example.com", time.Hour, cdr.Busy),
		rec("ot1", "other.test", 30*time.Minute, cdr.Answered))
	exp := time.Now().Add(time.Hour)
	e.loc.Update("alice@example.com", []store.Binding{{AOR: "alice@example.com", Contact: "sip:alice@192.0.2.1", Expires: exp}}, nil, false, 0)
	e.loc.Update("dave@other.test", []store.Binding{{AOR: "dave@other.test", Contact: "sip:dave@192.0.2.2", Expires: exp}}, nil, false, 0)
	return e
}

// TestDomainAdminBoundaries runs every endpoint as each principal, in order
// on a fresh server per principal, and checks the status.
func TestDomainAdminBoundaries(t *testing.T) {
	tests := []struct {
		method, path, body string
		server, example    int
		other              int
	}{
		{"GET", "/api/v1/domains", "", 200, 200, 200},
		{"POST", "/api/v1/domains", `{"name": "new.test"}`, 200, 403, 403},
		{"GET", "/api/v1/domains/example.com", "", 200, 200, 403},
		{"GET", "/api/v1/domains/Other.Test", "", 200, 403, 200},
		{"GET", "/api/v1/domains/nowhere.test", "", 404, 403, 403},
		{"PUT", "/api/v1/domains/example.com", `{"main": true}`, 200, 403, 403},
		{"GET", "/api/v1/domains/example.com/accounts", "", 200, 200, 403},
		{"GET", "/api/v1/domains/other.test/accounts", "", 200, 403, 200},
		{"GET", "/api/v1/domains/EXAMPLE.com/accounts/bob", "", 200, 200, 403},
		{"GET", "/api/v1/domains/other.test/accounts/dave", "", 200, 403, 200},
		{"PUT", "/api/v1/domains/example.com/accounts/bob", `{"realName": "Bob B"}`, 200, 200, 403},
		{"PUT", "/api/v1/domains/other.test/accounts/dave", `{"realName": "Dave D"}`, 200, 403, 200},
		{"POST", "/api/v1/domains/example.com/accounts", `{"name": "erin", "password": "pw"}`, 200, 200, 403},
		{"POST", "/api/v1/domains/other.test/accounts", `{"name": "frank"}`, 200, 403, 200},
		// Granting or withdrawing the right is the server administrator's.
		{"PUT", "/api/v1/domains/example.com/accounts/bob", `{"domainAdmin": true}`, 200, 403, 403},
		{"PUT", "/api/v1/domains/example.com/accounts/erin", `{"domainAdmin": false}`, 200, 200, 403},
		{"POST", "/api/v1/domains/example.com/accounts", `{"name": "gina", "domainAdmin": true}`, 200, 403, 403},
		{"GET", "/api/v1/domains/example.com/aliases", "", 200, 200, 403},
		{"POST", "/api/v1/domains/example.com/aliases", `{"alias": "300", "account": "bob"}`, 200, 200, 403},
		{"POST", "/api/v1/domains/other.test/aliases", `{"alias": "300", "account": "dave"}`, 200, 403, 200},
		{"DELETE", "/api/v1/domains/example.com/aliases/300", "", 204, 204, 403},
		{"DELETE", "/api/v1/domains/other.test/aliases/300", "", 204, 403, 204},
		{"GET", "/api/v1/domains/example.com/forwarders", "", 200, 200, 403},
		{"GET", "/api/v1/domains/other.test/forwarders", "", 200, 403, 200},
		{"PUT", "/api/v1/domains/example.com/forwarders/help", `{"to": "bob"}`, 200, 200, 403},
		{"PUT", "/api/v1/domains/other.test/forwarders/help", `{"to": "dave"}`, 200, 403, 200},
		{"DELETE", "/api/v1/domains/example.com/forwarders/help", "", 204, 204, 403},
		{"DELETE", "/api/v1/domains/other.test/forwarders/help", "", 204, 403, 204},
		{"DELETE", "/api/v1/domains/example.com/accounts/erin", "", 204, 204, 403},
		{"DELETE", "/api/v1/domains/other.test/accounts/frank", "", 204, 403, 204},
		{"POST", "/api/v1/apply", applyDoc, 200, 403, 403},
		{"GET", "/api/v1/registrations", "", 200, 200, 200},
		{"GET", "/api/v1/registrations?domain=example.com", "", 200, 200, 403},
		{"GET", "/api/v1/registrations?domain=other.test", "", 200, 403, 200},
		{"GET", "/api/v1/calls", "", 200, 403, 403},
		{"GET", "/api/v1/calls/x", "", 404, 403, 403},
		{"GET", "/api/v1/security/blocked", "", 200, 403, 403},
		{"GET", "/api/v1/cdr/search?q=ivanov&facets=1", "", 200, 200, 200},
		{"POST", "/api/v1/cdr/search", `{"query": "ivanov", "facets": true}`, 200, 200, 200},
		{"GET", "/api/v1/cdr/export", "", 200, 200, 200},
		{"POST", "/api/v1/cdr/export", `{"format": "jsonl"}`, 200, 200, 200},
		{"GET", "/api/v1/cdr/ex1", "", 200, 200, 404},
		{"GET", "/api/v1/cdr/ot1", "", 200, 404, 200},
		{"GET", "/api/v1/cdr/nope", "", 404, 404, 404},
		{"GET", "/debug/pprof/", "", 200, 403, 403},
		{"GET", "/debug/pprof/heap", "", 200, 403, 403},
		// 0: not run as the server, a profile takes seconds.
		{"GET", "/debug/pprof/profile", "", 0, 403, 403},
		{"GET", "/debug/pprof/trace", "", 0, 403, 403},
		{"GET", "/api/v1/nope", "", 404, 404, 404},
		{"DELETE", "/api/v1/domains/example.com", "", 204, 403, 403},
		{"DELETE", "/api/v1/domains/other.test", "", 204, 403, 403},
	}
	for _, p := range []struct {
		name, auth string
		want       func(server, example, other int) int
	}{
		{"server token", asServer, func(s, _, _ int) int { return s }},
		{"admin of example.com", asExample, func(_, e, _ int) int { return e }},
		{"admin of other.test", asOther, func(_, _, o int) int { return o }},
	} {
		t.Run(p.name, func(t *testing.T) {
			e := newAdminEnv(t)
			for _, tc := range tests {
				want := p.want(tc.server, tc.example, tc.other)
				if want == 0 {
					continue
				}
				r := e.doAuth(tc.method, tc.path, tc.body, p.auth)
				if r.code != want {
					t.Errorf("%s %s = %d, want %d (%s)", tc.method, tc.path, r.code, want, r.body)
					continue
				}
				if r.code >= 400 {
					wantCode(t, r, r.code) // the JSON error shape
				}
			}
		})
	}
}

// What a domain administrator is shown is their domain's only; the server
// token sees everything.
func TestDomainAdminSeesOwnDomain(t *testing.T) {
	e := newAdminEnv(t)
	domains := func(auth string) []string {
		t.Helper()
		r := e.doAuth("GET", "/api/v1/domains", "", auth)
		wantCode(t, r, http.StatusOK)
		var ds []store.Domain
		r.json(t, &ds)
		var names []string
		for _, d := range ds {
			names = append(names, d.Name)
		}
		return names
	}
	registrations := func(auth, query string) []string {
		t.Helper()
		r := e.doAuth("GET", "/api/v1/registrations"+query, "", auth)
		wantCode(t, r, http.StatusOK)
		var bs []store.Binding
		r.json(t, &bs)
		var aors []string
		for _, b := range bs {
			aors = append(aors, b.AOR)
		}
		return aors
	}
	search := func(auth, method, path, body string) ([]string, int64) {
		t.Helper()
		r := e.doAuth(method, path, body, auth)
		wantCode(t, r, http.StatusOK)
		var page struct {
			Records []cdr.Record `json:"records"`
			Facets  *cdr.Facets  `json:"facets"`
		}
		r.json(t, &page)
		var total int64 = -1
		if page.Facets != nil {
			total = page.Facets.Total
		}
		return recIDs(page.Records), total
	}
	export := func(auth, path string) []string {
		t.Helper()
		r := e.doAuth("GET", path, "", auth)
		if r.code != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, r.code, r.body)
		}
		return ids(readCSV(t, r.body))
	}

	if got := domains(asServer); !slices.Equal(got, []string{"example.com", "other.test"}) {
		t.Errorf("server sees domains %v", got)
	}
	if got := domains(asExample); !slices.Equal(got, []string{"example.com"}) {
		t.Errorf("admin of example.com sees domains %v", got)
	}
	if got := registrations(asServer, ""); !slices.Equal(got, []string{"alice@example.com", "dave@other.test"}) {
		t.Errorf("server sees registrations %v", got)
	}
	if got := registrations(asExample, ""); !slices.Equal(got, []string{"alice@example.com"}) {
		t.Errorf("admin of example.com sees registrations %v", got)
	}
	if got := registrations(asOther, "?domain=OTHER.test"); !slices.Equal(got, []string{"dave@other.test"}) {
		t.Errorf("admin of other.test sees registrations %v", got)
	}

	cdrCases := []struct {
		name, method, path, body string
		server, example          []string
	}{
		{"everything", "GET", "/api/v1/cdr/search?facets=1", "", []string{"ex1", "ot1", "ex2"}, []string{"ex1", "ex2"}},
		{"a word in every domain", "GET", "/api/v1/cdr/search?q=ivanov&facets=1", "", []string{"ex1", "ot1", "ex2"}, []string{"ex1", "ex2"}},
		{"a number", "POST", "/api/v1/cdr/search", `{"query": "1234", "facets": true}`, []string{"ex1", "ot1", "ex2"}, []string{"ex1", "ex2"}},
		{"another domain in the query", "GET", "/api/v1/cdr/search?facets=1&q=domain:other.test", "", []string{"ot1"}, nil},
		{"another domain OR anything", "GET", "/api/v1/cdr/search?facets=1&q=" + strings.ReplaceAll("domain:other.test OR ivanov", " ", "%20"), "", []string{"ex1", "ot1", "ex2"}, []string{"ex1", "ex2"}},
		{"another domain as a filter", "POST", "/api/v1/cdr/search", `{"filter": {"op": "domain", "value": "other.test"}, "facets": true}`, []string{"ot1"}, nil},
		{"another domain as the domain", "POST", "/api/v1/cdr/search", `{"domain": "other.test", "facets": true}`, []string{"ot1"}, nil},
		{"another domain as the domain, GET", "GET", "/api/v1/cdr/search?domain=other.test&facets=1", "", []string{"ot1"}, nil},
		{"own domain as the domain", "POST", "/api/v1/cdr/search", `{"domain": "example.com", "facets": true}`, []string{"ex1", "ex2"}, []string{"ex1", "ex2"}},
		{"negated own domain", "GET", "/api/v1/cdr/search?facets=1&q=-domain:example.com", "", []string{"ot1"}, nil},
	}
	for _, tc := range cdrCases {
		t.Run(tc.name, func(t *testing.T) {
			for auth, want := range map[string][]string{asServer: tc.server, asExample: tc.example} {
				got, total := search(auth, tc.method, tc.path, tc.body)
				if !slices.Equal(got, want) || total != int64(len(want)) {
					t.Errorf("%s: records %v (facets total %d), want %v", auth[:6], got, total, want)
				}
			}
		})
	}

	if got := export(asServer, "/api/v1/cdr/export"); !slices.Equal(got, []string{"ex1", "ot1", "ex2"}) {
		t.Errorf("server exports %v", got)
	}
	if got := export(asExample, "/api/v1/cdr/export"); !slices.Equal(got, []string{"ex1", "ex2"}) {
		t.Errorf("admin of example.com exports %v", got)
	}
	if got := export(asOther, "/api/v1/cdr/export"); !slices.Equal(got, []string{"ot1"}) {
		t.Errorf("admin of other.test exports %v", got)
	}
	if got := export(asExample, "/api/v1/cdr/export?q=domain:other.test"); len(got) != 0 {
		t.Errorf("admin of example.com exports %v of other.test", got)
	}
	if got := export(asExample, "/api/v1/cdr/export?domain=other.test"); len(got) != 0 {
		t.Errorf("admin of example.com exports %v of other.test", got)
	}

	// Another domain's record is answered exactly as a missing one.
	other, missing := e.doAuth("GET", "/api/v1/cdr/ot1", "", asExample), e.doAuth("GET", "/api/v1/cdr/ot2", "", asExample)
	if other.code != http.StatusNotFound || strings.ReplaceAll(string(other.body), "ot1", "ot2") != string(missing.body) {
		t.Errorf("another domain's record: %d %s; a missing one: %d %s", other.code, other.body, missing.code, missing.body)
	}

	// Nothing a refused request asked for happened.
	for _, req := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/domains/other.test/accounts/dave", `{"realName": "Hacked"}`},
		{"PUT", "/api/v1/domains/example.com/accounts/bob", `{"domainAdmin": true}`},
		{"DELETE", "/api/v1/domains/other.test", ""},
		{"POST", "/api/v1/apply", `{"domains": [{"name": "evil.test"}]}`},
	} {
		wantCode(t, e.doAuth(req.method, req.path, req.body, asExample), http.StatusForbidden)
	}
	if d, _ := e.dir.Account("other.test", "dave"); d.RealName == "Hacked" {
		t.Error("dave was changed by the administrator of example.com")
	}
	if b, _ := e.dir.Account("example.com", "bob"); b.Prefs.DomainAdmin {
		t.Error("the administrator of example.com granted the right")
	}
	if _, ok := e.dir.Domain("other.test"); !ok {
		t.Error("other.test was deleted by the administrator of example.com")
	}
	if _, ok := e.dir.Domain("evil.test"); ok {
		t.Error("the administrator of example.com applied a document")
	}

	// The account JSON shows the right.
	r := e.do("GET", "/api/v1/domains/example.com/accounts/alice", "")
	var acc struct {
		Prefs struct {
			DomainAdmin bool `json:"domainAdmin"`
		} `json:"prefs"`
	}
	r.json(t, &acc)
	if !acc.Prefs.DomainAdmin {
		t.Errorf("alice's JSON does not show the right: %s", r.body)
	}
	noSecrets(t, r.body)
}

// Every way Basic authentication can fail gets the same 401, and a domain
// administrator's name and password work in any letter case of the address.
func TestDomainAdminAuthFailures(t *testing.T) {
	e := newAdminEnv(t)
	// carol has the right but no password; bob has a password but not the right.
	wantCode(t, e.do("PUT", "/api/v1/domains/example.com/accounts/carol", `{"domainAdmin": true}`), http.StatusOK)
	failures := map[string]string{
		"wrong password":             basic("alice@example.com", "Secret-2"),
		"empty password":             basic("alice@example.com", ""),
		"password of another domain": basic("alice@other.test", "Secret-1"),
		"no right":                   basic("bob@example.com", "Secret-2"),
		"unknown account":            basic("zed@example.com", "Secret-1"),
		"unknown domain":             basic("alice@nowhere.test", "Secret-1"),
		"no domain":                  basic("alice", "Secret-1"),
		"empty name":                 basic("@example.com", "Secret-1"),
		"no password set":            basic("carol@example.com", ""),
		"no password set, any given": basic("carol@example.com", "x"),
		"the token as a password":    basic("alice@example.com", token),
		"not base64":                 "Basic !!!",
	}
	paths := []struct{ method, path string }{
		{"GET", "/api/v1/domains/example.com/accounts"},
		{"GET", "/api/v1/cdr/search"},
		{"GET", "/api/v1/cdr/export"},
		{"POST", "/api/v1/apply"},
		{"GET", "/debug/pprof/"},
	}
	var first []byte
	for name, auth := range failures {
		t.Run(name, func(t *testing.T) {
			for _, p := range paths {
				r := e.doAuth(p.method, p.path, "", auth)
				wantCode(t, r, http.StatusUnauthorized)
				if vals := r.hdr.Values("WWW-Authenticate"); len(vals) != 2 || !strings.HasPrefix(vals[0], "Bearer") || !strings.HasPrefix(vals[1], "Basic") {
					t.Fatalf("WWW-Authenticate = %q", vals)
				}
				if name == "not base64" {
					continue // not Basic credentials at all: the bearer answer
				}
				if first == nil {
					first = r.body
				}
				if string(r.body) != string(first) {
					t.Fatalf("answer %s differs from %s: it tells failures apart", r.body, first)
				}
			}
		})
	}
	var msg map[string]string
	json.Unmarshal(first, &msg)
	if strings.Contains(msg["error"], "alice") || strings.Contains(msg["error"], "example.com") {
		t.Fatalf("401 names the account: %s", first)
	}

	for _, user := range []string{"alice@example.com", "ALICE@Example.COM"} {
		wantCode(t, e.doAuth("GET", "/api/v1/domains/example.com/accounts", "", basic(user, "Secret-1")), http.StatusOK)
	}
	// A changed password takes effect at once; so does withdrawing the right.
	wantCode(t, e.do("PUT", "/api/v1/domains/example.com/accounts/alice", `{"password": "New-1"}`), http.StatusOK)
	wantCode(t, e.doAuth("GET", "/api/v1/domains", "", asExample), http.StatusUnauthorized)
	wantCode(t, e.doAuth("GET", "/api/v1/domains", "", basic("alice@example.com", "New-1")), http.StatusOK)
	wantCode(t, e.do("PUT", "/api/v1/domains/example.com/accounts/alice", `{"domainAdmin": false}`), http.StatusOK)
	wantCode(t, e.doAuth("GET", "/api/v1/domains", "", basic("alice@example.com", "New-1")), http.StatusUnauthorized)
	// The server token still works, and Basic works on a server with no token.
	wantCode(t, e.do("GET", "/api/v1/domains", ""), http.StatusOK)
	noToken := newEnvToken(t, "")
	ctx := context.Background()
	if _, err := noToken.dir.PutDomain(ctx, directory.DomainSpec{Name: "a.test"}); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := noToken.dir.PutAccount(ctx, "a.test", directory.AccountSpec{Name: "boss", Password: "pw", DomainAdmin: &yes}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, noToken.doAuth("GET", "/api/v1/domains/a.test/accounts", "", "Bearer "), http.StatusUnauthorized)
	wantCode(t, noToken.doAuth("GET", "/api/v1/domains/a.test/accounts", "", basic("boss@a.test", "pw")), http.StatusOK)
}
