package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringo-pbx/ringo/internal/api"
	"github.com/ringo-pbx/ringo/internal/cdr"
	cdrsqlite "github.com/ringo-pbx/ringo/internal/cdr/sqlite"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/sip"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

const testToken = "cli-test-token-0123456789"

// apiServer runs the admin API over real stores with two domains, a domain
// administrator of each (boss@a.test, chief@b.test, password "pw") and call
// records of both, and returns its URL.
func apiServer(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir, err := directory.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	name := "Ivanov, \"Vanya\""
	_, err = dir.Apply(ctx, directory.Doc{Domains: []directory.DomainDoc{
		{DomainSpec: directory.DomainSpec{Name: "a.test"}, Accounts: []directory.AccountSpec{
			{Name: "boss", Password: "pw", DomainAdmin: &yes}, {Name: "clerk", Password: "pw"}}},
		{DomainSpec: directory.DomainSpec{Name: "b.test"}, Accounts: []directory.AccountSpec{
			{Name: "chief", Password: "pw", DomainAdmin: &yes}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := sip.NewLocation(ctx, db, log)
	if err != nil {
		t.Fatal(err)
	}
	sipSrv, err := sip.New(config.Default(), log, dir, loc, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	records, err := cdrsqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { records.Close() })
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var recs []cdr.Record
	for i, d := range []struct {
		id, domain string
		outcome    cdr.Outcome
	}{{"a1", "a.test", cdr.Answered}, {"b1", "b.test", cdr.Answered}, {"a2", "a.test", cdr.Busy}, {"a3", "a.test", cdr.Answered}} {
		r := cdr.Record{ID: d.id, Domain: d.domain, Direction: cdr.Internal, Outcome: d.outcome,
			Caller: cdr.Party{Account: "clerk", Name: name}, Callee: cdr.Party{Account: "boss", Name: "Начальник"},
			Created: end.Add(-time.Duration(i)*time.Hour - time.Minute), Ended: end.Add(-time.Duration(i) * time.Hour)}
		r.FillDurations()
		recs = append(recs, r)
	}
	if err := records.PutBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(testToken, dir, loc, sipSrv, log, prometheus.NewRegistry()).WithRecords(records).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// runCLIErr runs the command line in-process and returns stdout and the
// error it ends with, if any, as main would print it.
func runCLIErr(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	root := rootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	if err := root.Execute(); err != nil {
		return out.String() + "ringo: " + err.Error(), 1
	}
	return out.String(), 0
}

func csvIDs(t *testing.T, data string) []string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 || rows[0][0] != "id" {
		t.Fatalf("not a CSV export (%v): %q", err, data)
	}
	var ids []string
	for _, r := range rows[1:] {
		ids = append(ids, r[0])
		if r[0] != "" && r[13] != "Ivanov, \"Vanya\"" {
			t.Fatalf("caller_name %q", r[13])
		}
	}
	return ids
}

func TestCDRExportCommand(t *testing.T) {
	url := apiServer(t)
	t.Setenv("RINGO_TOKEN", "")
	t.Setenv("RINGO_PASSWORD", "")
	dir := t.TempDir()
	srv := []string{"--server", url + "/", "--token", testToken}

	out, code := runCLIErr(t, append(srv, "cdr", "export")...)
	if got := csvIDs(t, out); code != 0 || !slices.Equal(got, []string{"a1", "b1", "a2", "a3"}) {
		t.Fatalf("export to stdout: exit %d, ids %v", code, got)
	}

	file := filepath.Join(dir, "answered.csv")
	out, code = runCLIErr(t, append(srv, "cdr", "export", "clerk", "--outcome", "answered", "--to", "2026-11-23", "-o", file)...)
	if code != 0 || out != "" {
		t.Fatalf("export to a file: exit %d, output %q", code, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := csvIDs(t, string(data)); !slices.Equal(got, []string{"a1", "b1", "a3"}) {
		t.Fatalf("answered export = %v", got)
	}

	// An OR in the query does not swallow the flags' filters.
	out, code = runCLIErr(t, append(srv, "cdr", "export", "account:nobody OR clerk", "--outcome", "busy")...)
	if got := csvIDs(t, out); code != 0 || !slices.Equal(got, []string{"a2"}) {
		t.Fatalf("OR query with --outcome: exit %d, ids %v", code, got)
	}

	out, code = runCLIErr(t, append(srv, "cdr", "export", "--format", "jsonl", "--direction", "internal")...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 4 {
		t.Fatalf("jsonl export: exit %d, %q", code, out)
	}
	var rec cdr.Record
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec.ID != "a1" || rec.Callee.Name != "Начальник" {
		t.Fatalf("first line %q: %+v, %v", lines[0], rec, err)
	}

	// A refused export leaves no file, not even a partial one.
	bad := filepath.Join(dir, "bad.csv")
	out, code = runCLIErr(t, append(srv, "cdr", "export", "outcome:nonsense", "-o", bad)...)
	if code == 0 || !strings.Contains(out, "400") {
		t.Fatalf("bad query: exit %d, output %q", code, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("files left after a failed export: %v", entries)
	}
	if out, code = runCLIErr(t, append(srv, "cdr", "export", "--format", "xml")...); code == 0 || !strings.Contains(out, "--format") {
		t.Fatalf("--format xml: exit %d, output %q", code, out)
	}
}

func TestDomainAdminCLI(t *testing.T) {
	url := apiServer(t)
	t.Setenv("RINGO_TOKEN", testToken) // --user takes precedence over the token in the environment
	tests := []struct {
		name     string
		password string
		args     []string
		wantCode int
		want     string // a substring of the output
		wantNot  string
	}{
		{"own domain's accounts", "pw", []string{"--user", "boss@a.test", "account", "list", "a.test"}, 0, "clerk@a.test", ""},
		{"user in any case", "pw", []string{"--user", "BOSS@A.test", "account", "list", "a.test"}, 0, "boss@a.test", ""},
		{"only own domain listed", "pw", []string{"--user", "boss@a.test", "domain", "list"}, 0, "a.test", "b.test"},
		{"other domain refused", "pw", []string{"--user", "boss@a.test", "account", "list", "b.test"}, 1, "403", ""},
		{"no domain creation", "pw", []string{"--user", "boss@a.test", "domain", "add", "c.test"}, 1, "403", ""},
		{"own records only", "pw", []string{"--user", "chief@b.test", "cdr", "search", "clerk"}, 0, "b1", "a1"},
		{"own export only", "pw", []string{"--user", "chief@b.test", "cdr", "export"}, 0, "b1", "a1"},
		{"changes in own domain", "pw", []string{"--user", "boss@a.test", "alias", "add", "200", "clerk@a.test"}, 0, "", ""},
		{"wrong password", "nope", []string{"--user", "boss@a.test", "domain", "list"}, 1, "401", ""},
		{"account without the right", "pw", []string{"--user", "clerk@a.test", "domain", "list"}, 1, "401", ""},
		{"no password", "", []string{"--user", "boss@a.test", "domain", "list"}, 1, "RINGO_PASSWORD", ""},
		{"not an address", "pw", []string{"--user", "boss", "domain", "list"}, 1, "NAME@DOMAIN", ""},
		{"token and user", "pw", []string{"--user", "boss@a.test", "--token", testToken, "domain", "list"}, 1, "not both", ""},
		{"the token still sees everything", "", []string{"domain", "list"}, 0, "b.test", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RINGO_PASSWORD", tc.password)
			out, code := runCLIErr(t, append([]string{"--server", url}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(out, tc.want) || (tc.wantNot != "" && strings.Contains(out, tc.wantNot)) {
				t.Fatalf("ringo %s: exit %d, output %q; want exit %d with %q and without %q",
					strings.Join(tc.args, " "), code, out, tc.wantCode, tc.want, tc.wantNot)
			}
		})
	}
	// The alias added by the domain administrator is there.
	out, _ := runCLIErr(t, "--server", url, "alias", "list", "a.test")
	if !strings.Contains(out, "200@a.test") {
		t.Fatalf("alias list = %q", out)
	}
}

// An export cut off by the server is an error, and leaves no file.
func TestCDRExportCommandTruncated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		io.WriteString(w, "id,call_id\nr1,c1\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "cut.csv")
	out, code := runCLIErr(t, "--server", srv.URL, "--token", "x", "cdr", "export", "-o", file)
	if code == 0 || !strings.Contains(out, "unexpected EOF") {
		t.Fatalf("truncated export: exit %d, output %q", code, out)
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 0 {
		t.Fatalf("files left after a truncated export: %v", entries)
	}
}
