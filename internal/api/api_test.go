package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringo-pbx/ringo/internal/api"
	"github.com/ringo-pbx/ringo/internal/cdr"
	cdrsqlite "github.com/ringo-pbx/ringo/internal/cdr/sqlite"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/sip"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

const token = "test-token-0123456789"

type env struct {
	t   testing.TB
	h   http.Handler
	dir *directory.Directory
	db  *sqlite.DB
	// records is the call-record store behind /api/v1/cdr.
	records *cdrsqlite.DB
	api     *api.Server
	loc     *sip.Location
}

func newEnvToken(t testing.TB, tok string) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir, err := directory.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := sip.NewLocation(ctx, db, log)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sip.New(config.Default(), log, dir, loc, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	records, err := cdrsqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { records.Close() })
	a := api.New(tok, dir, loc, srv, log, prometheus.NewRegistry()).WithRecords(records)
	return &env{t: t, h: a.Handler(), dir: dir, db: db, records: records, api: a, loc: loc}
}

func newEnv(t testing.TB) *env { return newEnvToken(t, token) }

type resp struct {
	code int
	hdr  http.Header
	body []byte
}

// json decodes the body into v, failing the test when it is not JSON.
func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
}

func (e *env) do(method, path, body string) resp {
	return e.doAuth(method, path, body, "Bearer "+token)
}

func (e *env) doAuth(method, path, body, auth string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
}

// wantCode checks the status and, for errors, the JSON {"error": "..."} shape.
func wantCode(t *testing.T, r resp, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body %s", r.code, code, r.body)
	}
	if code == http.StatusNoContent {
		if len(r.body) != 0 {
			t.Fatalf("204 with body %q", r.body)
		}
		return
	}
	if ct := r.hdr.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if code >= 400 {
		var e map[string]any
		r.json(t, &e)
		msg, ok := e["error"].(string)
		if !ok || msg == "" || len(e) != 1 {
			t.Fatalf("error body %s, want {\"error\": \"...\"}", r.body)
		}
	}
}

const applyDoc = `{
  "domains": [
    {
      "name": "example.com",
      "main": true,
      "accounts": [
        {"name": "alice", "password": "Secret-1", "realName": "Alice", "aliases": ["100", "ali"],
         "workingHours": {"mon-fri": "09:00-18:00", "sat,sun": "off"},
         "settings": {"departments": ["a", "b"], "directoryDigits": 3}},
        {"name": "bob", "password": "Secret-2"},
        {"name": "carol"}
      ],
      "forwarders": {"sales": "alice", "remote": "dave@other.test"}
    },
    {"name": "other.test", "accounts": [{"name": "dave", "password": "Secret-3", "aliases": ["100"]}]}
  ]
}`

func TestAuth(t *testing.T) {
	e := newEnv(t)
	for name, auth := range map[string]string{
		"missing":           "",
		"wrong":             "Bearer wrong-token",
		"prefix of token":   "Bearer " + token[:len(token)-1],
		"token plus suffix": "Bearer " + token + "x",
		"no scheme":         token,
		"basic scheme":      "Basic " + token,
		"empty bearer":      "Bearer ",
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/domains", "/api/v1/apply", "/api/v1/nope"} {
				method := "GET"
				if path == "/api/v1/apply" {
					method = "POST"
				}
				r := e.doAuth(method, path, "", auth)
				wantCode(t, r, http.StatusUnauthorized)
				if !strings.HasPrefix(r.hdr.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate = %q", r.hdr.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// An unauthenticated apply changed nothing.
	if n := len(e.dir.Domains()); n != 0 {
		t.Fatalf("%d domains after unauthenticated requests", n)
	}
	wantCode(t, e.do("GET", "/api/v1/domains", ""), http.StatusOK)
	wantCode(t, e.doAuth("GET", "/api/v1/domains", "", "Bearer  "+token+" "), http.StatusOK)
}

func TestEmptyTokenAdmitsNobody(t *testing.T) {
	e := newEnvToken(t, "")
	for _, auth := range []string{"", "Bearer ", "Bearer", "Bearer  "} {
		r := e.doAuth("GET", "/api/v1/domains", "", auth)
		wantCode(t, r, http.StatusUnauthorized)
	}
}

func TestHealthzAndMetricsWithoutToken(t *testing.T) {
	e := newEnv(t)
	r := e.doAuth("GET", "/healthz", "", "")
	wantCode(t, r, http.StatusOK)
	var h struct {
		Status        string `json:"status"`
		ActiveCalls   *int   `json:"activeCalls"`
		Registrations *int   `json:"registrations"`
	}
	r.json(t, &h)
	if h.Status != "ok" || h.ActiveCalls == nil || *h.ActiveCalls != 0 || h.Registrations == nil || *h.Registrations != 0 {
		t.Fatalf("healthz = %s", r.body)
	}
	if r := e.doAuth("GET", "/metrics", "", ""); r.code != http.StatusOK {
		t.Fatalf("/metrics = %d", r.code)
	}
}

func TestReadOnlyEndpoints(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{
		"/api/v1/calls":            "[]",
		"/api/v1/registrations":    "[]",
		"/api/v1/security/blocked": "{}",
		"/api/v1/domains":          "[]",
	} {
		r := e.do("GET", path, "")
		wantCode(t, r, http.StatusOK)
		if got := strings.TrimSpace(string(r.body)); got != want {
			t.Errorf("GET %s = %s, want %s", path, got, want)
		}
	}
	wantCode(t, e.do("GET", "/api/v1/nope", ""), http.StatusNotFound)
	wantCode(t, e.do("DELETE", "/api/v1/apply", ""), http.StatusNotFound)
	wantCode(t, e.do("GET", "/api/v1/calls/no-such-call", ""), http.StatusNotFound)
}

type report struct {
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	Items     []struct {
		Kind    string `json:"kind"`
		Name    string `json:"name"`
		Changed bool   `json:"changed"`
	} `json:"items"`
}

func TestApplyAndListAccounts(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/apply", applyDoc)
	wantCode(t, r, http.StatusOK)
	var rep report
	r.json(t, &rep)
	if rep.Changed != 8 || rep.Unchanged != 0 {
		t.Fatalf("first apply = %s", r.body)
	}
	r = e.do("POST", "/api/v1/apply", applyDoc)
	wantCode(t, r, http.StatusOK)
	rep = report{}
	r.json(t, &rep)
	if rep.Changed != 0 || rep.Unchanged != 8 {
		t.Fatalf("second apply = %s, want changed 0", r.body)
	}

	r = e.do("GET", "/api/v1/domains/example.com/accounts", "")
	wantCode(t, r, http.StatusOK)
	var accs []map[string]any
	r.json(t, &accs)
	var names []string
	for _, a := range accs {
		names = append(names, a["name"].(string))
	}
	if !slices.Equal(names, []string{"alice", "bob", "carol"}) {
		t.Fatalf("account names = %v", names)
	}
	if al, _ := json.Marshal(accs[0]["aliases"]); string(al) != `["100","ali"]` {
		t.Fatalf("alice aliases = %s", al)
	}
	if accs[0]["hasPassword"] != true || accs[2]["hasPassword"] != false {
		t.Fatalf("hasPassword: alice %v, carol %v", accs[0]["hasPassword"], accs[2]["hasPassword"])
	}
	noSecrets(t, r.body)

	r = e.do("GET", "/api/v1/domains/EXAMPLE.com/accounts/Alice", "")
	wantCode(t, r, http.StatusOK)
	noSecrets(t, r.body)
	var one map[string]any
	r.json(t, &one)
	if one["name"] != "alice" || one["realName"] != "Alice" {
		t.Fatalf("GET alice = %s", r.body)
	}

	r = e.do("GET", "/api/v1/domains/example.com/aliases", "")
	wantCode(t, r, http.StatusOK)
	if got := compact(t, r.body); got != `[{"alias":"100","account":"alice"},{"alias":"ali","account":"alice"}]` {
		t.Fatalf("aliases = %s", got)
	}
	r = e.do("GET", "/api/v1/domains/example.com/forwarders", "")
	wantCode(t, r, http.StatusOK)
	if got := compact(t, r.body); got != `[{"domain":"example.com","name":"remote","to":"dave@other.test"},{"domain":"example.com","name":"sales","to":"alice"}]` {
		t.Fatalf("forwarders = %s", got)
	}
	r = e.do("GET", "/api/v1/domains", "")
	wantCode(t, r, http.StatusOK)
	var doms []map[string]any
	r.json(t, &doms)
	if len(doms) != 2 || doms[0]["name"] != "example.com" || doms[0]["main"] != true {
		t.Fatalf("domains = %s", r.body)
	}

	// The stored HA1 is the digest of name:domain:password.
	a, _ := e.dir.Account("example.com", "alice")
	if a.HA1MD5 != digest.HA1(digest.MD5, "alice", "example.com", "Secret-1") {
		t.Fatal("HA1MD5 is not H(alice:example.com:Secret-1)")
	}
}

// noSecrets fails when a response shows a password or hash.
func noSecrets(t *testing.T, body []byte) {
	t.Helper()
	s := strings.ToLower(string(body))
	for _, bad := range []string{`"password"`, `"ha1`, "secret-", `"hash`} {
		if strings.Contains(s, bad) {
			t.Fatalf("response exposes %s: %s", bad, body)
		}
	}
}

// compact returns the JSON body without insignificant space, keys in the
// order the server wrote them.
func compact(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return buf.String()
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	wantCode(t, e.do("POST", "/api/v1/apply", applyDoc), http.StatusOK)
	tests := []struct {
		name, method, path, body string
		code                     int
	}{
		{"apply not JSON", "POST", "/api/v1/apply", `{"domains": [`, 400},
		{"apply garbage", "POST", "/api/v1/apply", `hello`, 400},
		{"apply empty body", "POST", "/api/v1/apply", ``, 400},
		{"apply unknown top field", "POST", "/api/v1/apply", `{"domain": []}`, 400},
		{"apply unknown nested field", "POST", "/api/v1/apply", `{"domains": [{"name": "a.test", "acounts": []}]}`, 400},
		{"apply unknown account field", "POST", "/api/v1/apply", `{"domains": [{"name": "a.test", "accounts": [{"name": "x", "pass": "y"}]}]}`, 400},
		{"apply wrong type domains", "POST", "/api/v1/apply", `{"domains": {}}`, 400},
		{"apply wrong type main", "POST", "/api/v1/apply", `{"domains": [{"name": "a.test", "main": "yes"}]}`, 400},
		{"apply wrong type aliases", "POST", "/api/v1/apply", `{"domains": [{"name": "a.test", "accounts": [{"name": "x", "aliases": "100"}]}]}`, 400},
		{"apply number name", "POST", "/api/v1/apply", `{"domains": [{"name": 5}]}`, 400},
		{"apply trailing data", "POST", "/api/v1/apply", `{"domains": []} {"domains": []}`, 400},
		{"apply array", "POST", "/api/v1/apply", `[]`, 400},
		{"apply invalid doc", "POST", "/api/v1/apply", `{"domains": [{"name": "bad domain"}]}`, 400},
		{"apply invalid hours", "POST", "/api/v1/apply", `{"domains": [{"name": "a.test", "accounts": [{"name": "x", "workingHours": {"mon": "18:00-09:00"}}]}]}`, 400},
		{"apply alias taken", "POST", "/api/v1/apply", `{"domains": [{"name": "example.com", "main": true, "accounts": [{"name": "bob", "aliases": ["100"]}]}]}`, 409},
		{"post domain unknown field", "POST", "/api/v1/domains", `{"name": "a.test", "primary": true}`, 400},
		{"post domain bad name", "POST", "/api/v1/domains", `{"name": "-a.test"}`, 400},
		{"put domain bad body", "PUT", "/api/v1/domains/a.test", `{"main": 1}`, 400},
		{"account bad JSON", "PUT", "/api/v1/domains/example.com/accounts/alice", `{`, 400},
		{"account name mismatch", "PUT", "/api/v1/domains/example.com/accounts/alice", `{"name": "bob"}`, 400},
		{"account bad alias", "PUT", "/api/v1/domains/example.com/accounts/alice", `{"aliases": ["a b"]}`, 400},
		{"account wrong type", "PUT", "/api/v1/domains/example.com/accounts/alice", `{"password": 1234}`, 400},
		{"account unknown domain", "PUT", "/api/v1/domains/nowhere.test/accounts/alice", `{}`, 404},
		{"post account no name", "POST", "/api/v1/domains/example.com/accounts", `{}`, 400},
		{"get unknown account", "GET", "/api/v1/domains/example.com/accounts/zed", ``, 404},
		{"get unknown domain", "GET", "/api/v1/domains/nowhere.test", ``, 404},
		{"accounts of unknown domain", "GET", "/api/v1/domains/nowhere.test/accounts", ``, 404},
		{"delete unknown account", "DELETE", "/api/v1/domains/example.com/accounts/zed", ``, 404},
		{"delete unknown domain", "DELETE", "/api/v1/domains/nowhere.test", ``, 404},
		{"alias unknown account", "POST", "/api/v1/domains/example.com/aliases", `{"alias": "300", "account": "zed"}`, 404},
		{"alias unknown domain", "POST", "/api/v1/domains/nowhere.test/aliases", `{"alias": "300", "account": "alice"}`, 404},
		{"alias bad JSON", "POST", "/api/v1/domains/example.com/aliases", `{"alias": 300, "account": "bob"}`, 400},
		{"alias unknown field", "POST", "/api/v1/domains/example.com/aliases", `{"alias": "300", "account": "bob", "x": 1}`, 400},
		{"alias invalid", "POST", "/api/v1/domains/example.com/aliases", `{"alias": "3 0", "account": "bob"}`, 400},
		{"alias equals own name", "POST", "/api/v1/domains/example.com/aliases", `{"alias": "bob", "account": "bob"}`, 400},
		{"alias of another account", "POST", "/api/v1/domains/example.com/aliases", `{"alias": "100", "account": "bob"}`, 409},
		{"alias is an account name", "POST", "/api/v1/domains/example.com/aliases", `{"alias": "carol", "account": "bob"}`, 409},
		{"alias is a forwarder", "POST", "/api/v1/domains/example.com/aliases", `{"alias": "sales", "account": "bob"}`, 409},
		{"delete unknown alias", "DELETE", "/api/v1/domains/example.com/aliases/999", ``, 404},
		{"forwarder name is an account", "PUT", "/api/v1/domains/example.com/forwarders/bob", `{"to": "alice"}`, 409},
		{"forwarder name is an alias", "PUT", "/api/v1/domains/example.com/forwarders/ali", `{"to": "bob"}`, 409},
		{"forwarder bad target", "PUT", "/api/v1/domains/example.com/forwarders/x", `{"to": "not valid"}`, 400},
		{"forwarder bad name", "PUT", "/api/v1/domains/example.com/forwarders/a%20b", `{"to": "bob"}`, 400},
		{"forwarder no body", "PUT", "/api/v1/domains/example.com/forwarders/x", ``, 400},
		{"forwarder unknown domain", "PUT", "/api/v1/domains/nowhere.test/forwarders/x", `{"to": "bob"}`, 404},
		{"delete unknown forwarder", "DELETE", "/api/v1/domains/example.com/forwarders/zed", ``, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, e.do(tc.method, tc.path, tc.body), tc.code)
		})
	}
	// None of the refused requests changed anything.
	r := e.do("POST", "/api/v1/apply", applyDoc)
	var rep report
	r.json(t, &rep)
	if rep.Changed != 0 {
		t.Fatalf("refused requests changed state: re-apply = %s", r.body)
	}
}

func TestDomainsCRUD(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/domains", `{"name": "A.test"}`)
	wantCode(t, r, http.StatusOK)
	var out struct {
		Domain  map[string]any `json:"domain"`
		Changed bool           `json:"changed"`
	}
	r.json(t, &out)
	if out.Domain["name"] != "a.test" || !out.Changed {
		t.Fatalf("POST domain = %s", r.body)
	}
	r = e.do("PUT", "/api/v1/domains/a.test", "")
	wantCode(t, r, http.StatusOK)
	out.Changed = true
	r.json(t, &out)
	if out.Changed {
		t.Fatalf("PUT of an unchanged domain = %s", r.body)
	}
	r = e.do("PUT", "/api/v1/domains/b.test", `{"main": true}`)
	wantCode(t, r, http.StatusOK)
	r = e.do("GET", "/api/v1/domains/b.test", "")
	wantCode(t, r, http.StatusOK)
	var d map[string]any
	r.json(t, &d)
	if d["main"] != true {
		t.Fatalf("GET b.test = %s", r.body)
	}
	wantCode(t, e.do("DELETE", "/api/v1/domains/b.test", ""), http.StatusNoContent)
	wantCode(t, e.do("GET", "/api/v1/domains/b.test", ""), http.StatusNotFound)
}

func TestAccountsCRUD(t *testing.T) {
	e := newEnv(t)
	wantCode(t, e.do("POST", "/api/v1/domains", `{"name": "a.test"}`), http.StatusOK)
	r := e.do("POST", "/api/v1/domains/a.test/accounts", `{"name": "Alice", "password": "pw", "aliases": ["100"]}`)
	wantCode(t, r, http.StatusOK)
	noSecrets(t, r.body)
	var out struct {
		Account map[string]any `json:"account"`
		Changed bool           `json:"changed"`
	}
	r.json(t, &out)
	if out.Account["name"] != "alice" || out.Account["hasPassword"] != true || !out.Changed {
		t.Fatalf("POST account = %s", r.body)
	}
	// Partial update through PUT keeps the password and aliases.
	r = e.do("PUT", "/api/v1/domains/a.test/accounts/alice", `{"realName": "Alice L"}`)
	wantCode(t, r, http.StatusOK)
	out = struct {
		Account map[string]any `json:"account"`
		Changed bool           `json:"changed"`
	}{}
	r.json(t, &out)
	if out.Account["realName"] != "Alice L" || out.Account["hasPassword"] != true || !out.Changed {
		t.Fatalf("PUT account = %s", r.body)
	}
	if al, _ := json.Marshal(out.Account["aliases"]); string(al) != `["100"]` {
		t.Fatalf("aliases after partial update = %s", al)
	}
	wantCode(t, e.do("DELETE", "/api/v1/domains/a.test/accounts/ALICE", ""), http.StatusNoContent)
	wantCode(t, e.do("GET", "/api/v1/domains/a.test/accounts/alice", ""), http.StatusNotFound)
	r = e.do("GET", "/api/v1/domains/a.test/aliases", "")
	wantCode(t, r, http.StatusOK)
	if strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("aliases after deleting their account = %s", r.body)
	}
}

func TestAliases(t *testing.T) {
	e := newEnv(t)
	wantCode(t, e.do("POST", "/api/v1/apply", applyDoc), http.StatusOK)
	r := e.do("POST", "/api/v1/domains/example.com/aliases", `{"alias": "200", "account": "Bob"}`)
	wantCode(t, r, http.StatusOK)
	var out struct {
		Changed bool `json:"changed"`
	}
	r.json(t, &out)
	if !out.Changed {
		t.Fatalf("POST alias = %s", r.body)
	}
	// Same alias again: no change, no conflict with itself.
	r = e.do("POST", "/api/v1/domains/example.com/aliases", `{"alias": "200", "account": "bob"}`)
	wantCode(t, r, http.StatusOK)
	r.json(t, &out)
	if out.Changed {
		t.Fatalf("repeated POST alias = %s", r.body)
	}
	// Taken by bob now: carol cannot have it.
	wantCode(t, e.do("POST", "/api/v1/domains/example.com/aliases", `{"alias": "200", "account": "carol"}`), http.StatusConflict)
	// The same alias in another domain is fine.
	wantCode(t, e.do("POST", "/api/v1/domains/other.test/aliases", `{"alias": "200", "account": "dave"}`), http.StatusOK)
	if tg, err := e.dir.Resolve("200", "example.com"); err != nil || tg.Account.Name != "bob" {
		t.Fatalf("Resolve(200) = %+v, %v", tg, err)
	}
	wantCode(t, e.do("DELETE", "/api/v1/domains/example.com/aliases/200", ""), http.StatusNoContent)
	wantCode(t, e.do("DELETE", "/api/v1/domains/example.com/aliases/200", ""), http.StatusNotFound)
	// Freed: carol can have it now.
	wantCode(t, e.do("POST", "/api/v1/domains/example.com/aliases", `{"alias": "200", "account": "carol"}`), http.StatusOK)
	if a, _ := e.dir.Account("example.com", "alice"); !slices.Equal(a.Aliases, []string{"100", "ali"}) {
		t.Fatalf("alice's aliases changed: %v", a.Aliases)
	}
}

func TestForwardersPutDelete(t *testing.T) {
	e := newEnv(t)
	wantCode(t, e.do("POST", "/api/v1/apply", applyDoc), http.StatusOK)
	var out struct {
		Changed bool `json:"changed"`
	}
	r := e.do("PUT", "/api/v1/domains/example.com/forwarders/Support", `{"to": "Bob"}`)
	wantCode(t, r, http.StatusOK)
	r.json(t, &out)
	if !out.Changed {
		t.Fatalf("PUT forwarder = %s", r.body)
	}
	r = e.do("PUT", "/api/v1/domains/example.com/forwarders/support", `{"to": "bob"}`)
	wantCode(t, r, http.StatusOK)
	r.json(t, &out)
	if out.Changed {
		t.Fatalf("repeated PUT forwarder = %s", r.body)
	}
	if tg, err := e.dir.Resolve("support", "example.com"); err != nil || tg.Account.Name != "bob" {
		t.Fatalf("Resolve(support) = %+v, %v", tg, err)
	}
	r = e.do("PUT", "/api/v1/domains/example.com/forwarders/support", `{"to": "dave@other.test"}`)
	wantCode(t, r, http.StatusOK)
	r.json(t, &out)
	if !out.Changed {
		t.Fatalf("retargeted forwarder = %s", r.body)
	}
	if tg, err := e.dir.Resolve("support", "example.com"); err != nil || tg.Account.Name != "dave" || tg.Account.Domain != "other.test" {
		t.Fatalf("Resolve(support) = %+v, %v", tg, err)
	}
	wantCode(t, e.do("DELETE", "/api/v1/domains/example.com/forwarders/SUPPORT", ""), http.StatusNoContent)
	wantCode(t, e.do("DELETE", "/api/v1/domains/example.com/forwarders/support", ""), http.StatusNotFound)
	r = e.do("GET", "/api/v1/domains/example.com/forwarders", "")
	wantCode(t, r, http.StatusOK)
	if strings.Contains(string(r.body), "support") {
		t.Fatalf("deleted forwarder listed: %s", r.body)
	}
}

func TestDeleteDomainCascades(t *testing.T) {
	e := newEnv(t)
	wantCode(t, e.do("POST", "/api/v1/apply", applyDoc), http.StatusOK)
	wantCode(t, e.do("DELETE", "/api/v1/domains/example.com", ""), http.StatusNoContent)
	for _, p := range []string{"/api/v1/domains/example.com", "/api/v1/domains/example.com/accounts",
		"/api/v1/domains/example.com/aliases", "/api/v1/domains/example.com/forwarders", "/api/v1/domains/example.com/accounts/alice"} {
		wantCode(t, e.do("GET", p, ""), http.StatusNotFound)
	}
	// The other domain is untouched.
	wantCode(t, e.do("GET", "/api/v1/domains/other.test/accounts/dave", ""), http.StatusOK)
	// Re-created, the domain is empty, in memory and in the store.
	wantCode(t, e.do("PUT", "/api/v1/domains/example.com", ""), http.StatusOK)
	for _, p := range []string{"/api/v1/domains/example.com/accounts", "/api/v1/domains/example.com/aliases", "/api/v1/domains/example.com/forwarders"} {
		r := e.do("GET", p, "")
		wantCode(t, r, http.StatusOK)
		if strings.TrimSpace(string(r.body)) != "[]" {
			t.Fatalf("GET %s after re-creating = %s", p, r.body)
		}
	}
	accs, err := e.db.Accounts(context.Background(), "example.com")
	if err != nil || len(accs) != 0 {
		t.Fatalf("store accounts of re-created domain = %+v, %v", accs, err)
	}
	fws, err := e.db.Forwarders(context.Background(), "example.com")
	if err != nil || len(fws) != 0 {
		t.Fatalf("store forwarders of re-created domain = %+v, %v", fws, err)
	}
	// The alias 100 of the deleted alice is free again.
	wantCode(t, e.do("PUT", "/api/v1/domains/example.com/accounts/zoe", `{"aliases": ["100"]}`), http.StatusOK)
}

func FuzzApplyBody(f *testing.F) {
	f.Add([]byte(applyDoc))
	f.Add([]byte(`{"domains": [{"name": "a.test", "main": true, "accounts": [{"name": "x", "aliases": ["1", "2"], "rules": [{"divert": "busy", "to": "y"}]}], "forwarders": {"f": "x"}}]}`))
	f.Add([]byte(`{"domains": [{"name": "a.test", "accounts": [{"name": "x", "aliases": ["y"]}, {"name": "y"}]}]}`))
	f.Add([]byte(`{"domains": [{"name": "a.test", "accounts": [{"name": "x"}], "forwarders": {"x": "y"}}]}`))
	f.Add([]byte(`{"domains": [{"name": " B.test ", "accounts": [{"name": "q", "timezone": "UTC", "workingHours": {"mon": "off"}}]}]}`))
	f.Add([]byte(`{"domains": null}`))
	f.Add([]byte(`{"domains": [{"name": "a.test", "accounts": [{"name": "x", "settings": {"n": 1e308, "s": "\u0000"}}]}]}`))
	f.Add([]byte(`{"domains": [{}]}`))
	f.Add([]byte(`{`))
	f.Add([]byte(``))
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/apply", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST /api/v1/apply %q = %d %s", body, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("body %q is not JSON", rec.Body)
		}
		if rec.Code == http.StatusOK {
			var rep report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rep.Changed+rep.Unchanged != len(rep.Items) {
				t.Fatalf("report %s", rec.Body)
			}
		} else {
			var m map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m["error"] == "" {
				t.Fatalf("error body %s", rec.Body)
			}
		}
	})
}

// Nothing but /healthz and /metrics answers 200 without the token; in
// particular no profiling endpoint is public.
func TestNoOtherPublicEndpoints(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/", "/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap", "/api", "/api/v1/domains", "/api/v1/registrations"} {
		if r := e.doAuth("GET", p, "", ""); r.code == http.StatusOK {
			t.Errorf("GET %s without a token = 200", p)
		}
	}
}

func TestCDRSearch(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	recs := []cdr.Record{
		{ID: "c1", Domain: "pbx.test", Direction: cdr.Internal, Caller: cdr.Party{Account: "ivanov", Number: "+79161234567"},
			Callee: cdr.Party{Account: "petrov"}, Created: now.Add(-time.Minute), Ended: now, Outcome: cdr.Answered},
		{ID: "c2", Domain: "pbx.test", Direction: cdr.Internal, Caller: cdr.Party{Account: "petrov", Number: "202"},
			Callee: cdr.Party{Account: "ivanov"}, Created: now, Ended: now.Add(time.Minute), Outcome: cdr.Busy},
	}
	for i := range recs {
		recs[i].FillDurations()
	}
	if err := e.records.PutBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Records []cdr.Record `json:"records"`
		Facets  *cdr.Facets  `json:"facets"`
	}
	r := e.do("GET", "/api/v1/cdr/search?q=1234&facets=1", "")
	wantCode(t, r, 200)
	r.json(t, &page)
	if len(page.Records) != 1 || page.Records[0].ID != "c1" || page.Facets == nil || page.Facets.Total != 1 {
		t.Fatalf("digit search: %s", r.body)
	}
	r = e.do("POST", "/api/v1/cdr/search", `{"query":"ivanov outcome:busy"}`)
	wantCode(t, r, 200)
	r.json(t, &page)
	if len(page.Records) != 1 || page.Records[0].ID != "c2" {
		t.Fatalf("name and outcome: %s", r.body)
	}
	wantCode(t, e.do("GET", "/api/v1/cdr/search?q=outcome:nonsense", ""), 400)
	wantCode(t, e.do("GET", "/api/v1/cdr/search?limit=-1", ""), 400)
	wantCode(t, e.do("POST", "/api/v1/cdr/search", `{"query":"x","filter":{"op":"and"}}`), 400)
	wantCode(t, e.do("GET", "/api/v1/cdr/c1", ""), 200)
	wantCode(t, e.do("GET", "/api/v1/cdr/nope", ""), 404)
	wantCode(t, e.doAuth("GET", "/api/v1/cdr/search?q=1234", "", ""), 401)
}
