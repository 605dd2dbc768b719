package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// wantColumns is the documented CSV header.
var wantColumns = []string{"id", "call_id", "domain", "direction", "outcome", "created", "answered", "ended",
	"duration_seconds", "talk_seconds", "ring_seconds", "caller_account", "caller_number", "caller_name",
	"callee_account", "callee_number", "callee_name", "dialled", "route_kind", "route_target",
	"hangup_cause", "hangup_sip_code", "hangup_by", "recordings", "tags", "variables"}

// exportRecords are n records of pbx.test ending a minute apart, the
// newest last, with the awkward cases among them.
func exportRecords(n int) []cdr.Record {
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	recs := make([]cdr.Record, n)
	for i := range recs {
		end := base.Add(time.Duration(i) * time.Minute)
		r := cdr.Record{
			ID: fmt.Sprintf("r%03d", i), CallID: fmt.Sprintf("call-%d@host", i), Domain: "pbx.test",
			Direction: cdr.Inbound, Outcome: cdr.NoAnswer,
			Caller:  cdr.Party{Number: "+7916123456" + fmt.Sprint(i%10), Name: fmt.Sprintf("Caller %d", i)},
			Callee:  cdr.Party{Account: "operator", Number: "100"},
			Dialled: "100", Route: cdr.Route{Kind: "alias", Target: "operator"},
			Created: end.Add(-30 * time.Second), Ended: end,
			Hangup: cdr.Hangup{Cause: "NO_ANSWER", SIPCode: 480, By: cdr.BySystem},
		}
		if i%2 == 0 {
			r.Outcome = cdr.Answered
			r.Answered = end.Add(-20*time.Second + 250*time.Millisecond)
			r.Hangup = cdr.Hangup{Cause: "NORMAL_CLEARING", By: cdr.ByCallee}
		}
		recs[i] = r
	}
	recs[1].Caller.Name = `Ivanov, "Vanya"`
	recs[2].Caller.Name = "Иван Иванов"
	recs[2].Callee.Name = "Секретарь; приёмная"
	recs[2].Variables = map[string]string{"crm": "42", "lang": "ru"}
	recs[2].Tags = []string{"vip", "test"}
	recs[2].Recordings = []cdr.Recording{{File: "rec/a.wav", Started: recs[2].Answered}, {File: "rec/b.wav"}}
	recs[3].Caller.Name = "line one\nline two"
	recs[4].Caller.Name = `=HYPERLINK("http://evil.test","click")`
	recs[4].Caller.Number = "+7 (916) 123-45-67"
	recs[5].Tags = []string{"-test", "@here"}
	for i := range recs {
		recs[i].FillDurations()
	}
	return recs
}

// newestFirst returns recs in the order an export writes them.
func newestFirst(recs []cdr.Record) []cdr.Record {
	out := slices.Clone(recs)
	slices.SortFunc(out, func(a, b cdr.Record) int {
		if c := b.Ended.Compare(a.Ended); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

// wantRow is the CSV row of r as docs/api.md describes it, written out
// independently of the server's code.
func wantRow(r cdr.Record) []string {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04:05.999Z")
	}
	secs := func(d time.Duration) string { return fmt.Sprintf("%g", float64(d.Milliseconds())/1000) }
	code := ""
	if r.Hangup.SIPCode != 0 {
		code = fmt.Sprint(r.Hangup.SIPCode)
	}
	var files []string
	for _, f := range r.Recordings {
		files = append(files, f.File)
	}
	var vars []string
	for k, v := range r.Variables {
		vars = append(vars, k+"="+v)
	}
	slices.Sort(vars)
	formula := func(s string) string {
		if s == `=HYPERLINK("http://evil.test","click")` || s == "-test;@here" {
			return "'" + s
		}
		return s
	}
	return []string{r.ID, r.CallID, r.Domain, string(r.Direction), string(r.Outcome),
		ts(r.Created), ts(r.Answered), ts(r.Ended),
		secs(r.Durations.Total), secs(r.Durations.Talk), secs(r.Durations.Ring),
		r.Caller.Account, r.Caller.Number, formula(r.Caller.Name),
		r.Callee.Account, r.Callee.Number, r.Callee.Name,
		r.Dialled, r.Route.Kind, r.Route.Target,
		r.Hangup.Cause, code, r.Hangup.By,
		strings.Join(files, ";"), formula(strings.Join(r.Tags, ";")), strings.Join(vars, ";")}
}

func (e *env) put(recs ...cdr.Record) {
	e.t.Helper()
	if err := e.records.PutBatch(context.Background(), recs); err != nil {
		e.t.Fatal(err)
	}
}

// readCSV parses an export, checks its header and returns its rows.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, body)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], wantColumns) {
		t.Fatalf("CSV header = %q, want %q", rows[0], wantColumns)
	}
	return rows[1:]
}

// readJSONL returns the lines of an export, checking each is one record.
func readJSONL(t *testing.T, body []byte) []string {
	t.Helper()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r cdr.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q is not a record: %v", sc.Text(), err)
		}
		lines = append(lines, sc.Text())
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		t.Fatalf("export does not end with a newline")
	}
	return lines
}

func ids(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out
}

func recIDs(recs []cdr.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func TestCDRExportCSV(t *testing.T) {
	e := newEnv(t)
	e.api.SetExportPage(3) // 11 records: four pages, the last one short
	recs := exportRecords(11)
	e.put(recs...)

	r := e.do("GET", "/api/v1/cdr/export", "")
	if r.code != http.StatusOK {
		t.Fatalf("export = %d %s", r.code, r.body)
	}
	if ct := r.hdr.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	disp, params, err := mime.ParseMediaType(r.hdr.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || !strings.HasPrefix(params["filename"], "ringo-cdr-") || !strings.HasSuffix(params["filename"], ".csv") {
		t.Fatalf("Content-Disposition %q", r.hdr.Get("Content-Disposition"))
	}
	rows := readCSV(t, r.body)
	want := newestFirst(recs)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %q", len(rows), len(want), ids(rows))
	}
	for i, w := range want {
		if !slices.Equal(rows[i], wantRow(w)) {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], wantRow(w))
		}
	}
	// Spot checks of what the CSV quoting must get right.
	byID := map[string][]string{}
	for _, row := range rows {
		byID[row[0]] = row
	}
	for id, want := range map[string]string{"r001": `Ivanov, "Vanya"`, "r002": "Иван Иванов", "r003": "line one\nline two"} {
		if got := byID[id][13]; got != want {
			t.Errorf("%s caller_name = %q, want %q", id, got, want)
		}
	}
	if got := byID["r002"][25]; got != "crm=42;lang=ru" {
		t.Errorf("variables = %q", got)
	}
	if got := byID["r004"][12]; got != "+7 (916) 123-45-67" {
		t.Errorf("a phone number was altered: %q", got)
	}

	// A query narrows the export; the same filter as a POST body does too.
	r = e.do("GET", "/api/v1/cdr/export?q="+url.QueryEscape("outcome:answered dur<1m"), "")
	if r.code != http.StatusOK {
		t.Fatalf("export with a query = %d %s", r.code, r.body)
	}
	var answered []cdr.Record
	for _, w := range want {
		if w.Outcome == cdr.Answered {
			answered = append(answered, w)
		}
	}
	if got := ids(readCSV(t, r.body)); !slices.Equal(got, recIDs(answered)) {
		t.Fatalf("answered export = %v, want %v", got, recIDs(answered))
	}
	r = e.do("POST", "/api/v1/cdr/export", `{"filter":{"op":"outcome","value":"answered"}}`)
	if got := ids(readCSV(t, r.body)); r.code != http.StatusOK || !slices.Equal(got, recIDs(answered)) {
		t.Fatalf("POST export = %d %v, want %v", r.code, got, recIDs(answered))
	}
	r = e.do("GET", "/api/v1/cdr/export?q=nobody", "")
	if rows := readCSV(t, r.body); r.code != http.StatusOK || len(rows) != 0 {
		t.Fatalf("empty export = %d %q", r.code, rows)
	}
}

func TestCDRExportJSONLines(t *testing.T) {
	e := newEnv(t)
	e.api.SetExportPage(4)
	recs := exportRecords(9)
	e.put(recs...)
	want := newestFirst(recs)
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/api/v1/cdr/export?format=jsonl", ""},
		{"POST", "/api/v1/cdr/export", `{"format":"jsonl"}`},
		{"POST", "/api/v1/cdr/export?format=jsonl", `{"query":"operator"}`},
	} {
		r := e.do(req.method, req.path, req.body)
		if r.code != http.StatusOK || r.hdr.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("%s %s = %d %q %s", req.method, req.path, r.code, r.hdr.Get("Content-Type"), r.body)
		}
		if _, p, _ := mime.ParseMediaType(r.hdr.Get("Content-Disposition")); !strings.HasSuffix(p["filename"], ".jsonl") {
			t.Fatalf("Content-Disposition %q", r.hdr.Get("Content-Disposition"))
		}
		lines := readJSONL(t, r.body)
		if len(lines) != len(want) {
			t.Fatalf("%s %s: %d lines, want %d", req.method, req.path, len(lines), len(want))
		}
		for i, w := range want {
			// Each line is what GET /cdr/{id} answers, on one line.
			one := e.do("GET", "/api/v1/cdr/"+w.ID, "")
			if got, want := lines[i], compact(t, one.body); got != want {
				t.Errorf("line %d:\n got %s\nwant %s", i, got, want)
			}
			var back cdr.Record
			json.Unmarshal([]byte(lines[i]), &back)
			if back.Caller.Name != w.Caller.Name || !back.Ended.Equal(w.Ended) || back.Durations != w.Durations {
				t.Errorf("line %d decodes to %+v, want %+v", i, back, w)
			}
		}
	}
}

func TestCDRExportBadRequests(t *testing.T) {
	e := newEnv(t)
	e.put(exportRecords(6)...)
	tests := []struct{ name, method, path, body string }{
		{"unknown format", "GET", "/api/v1/cdr/export?format=xlsx", ""},
		{"unknown format in body", "POST", "/api/v1/cdr/export", `{"format":"xml"}`},
		{"formats differ", "POST", "/api/v1/cdr/export?format=csv", `{"format":"jsonl"}`},
		{"bad query", "GET", "/api/v1/cdr/export?q=outcome:nonsense", ""},
		{"unbalanced query", "GET", "/api/v1/cdr/export?q=(ivanov", ""},
		{"query and filter", "POST", "/api/v1/cdr/export", `{"query":"x","filter":{"op":"tag","value":"x"}}`},
		{"invalid filter", "POST", "/api/v1/cdr/export", `{"filter":{"op":"and"}}`},
		{"no page in an export", "POST", "/api/v1/cdr/export", `{"limit":10}`},
		{"not JSON", "POST", "/api/v1/cdr/export", `{`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, e.do(tc.method, tc.path, tc.body), http.StatusBadRequest)
		})
	}
	wantCode(t, e.doAuth("GET", "/api/v1/cdr/export", "", ""), http.StatusUnauthorized)
}

// hookStore runs a hook before each Search, numbered from 1.
type hookStore struct {
	cdr.Store
	mu       sync.Mutex
	searches int
	before   func(n int) error
}

func (h *hookStore) Search(ctx context.Context, q cdr.Query) (cdr.Page, error) {
	h.mu.Lock()
	h.searches++
	n := h.searches
	h.mu.Unlock()
	if err := h.before(n); err != nil {
		return cdr.Page{}, err
	}
	return h.Store.Search(ctx, q)
}

func (h *hookStore) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.searches
}

func TestCDRExportRecordAddedMeanwhile(t *testing.T) {
	e := newEnv(t)
	e.api.SetExportPage(3)
	recs := exportRecords(8)
	e.put(recs...)
	newest, oldest := recs[0], recs[0]
	newest.ID, newest.Ended = "added-newest", recs[7].Ended.Add(time.Hour)
	oldest.ID, oldest.Ended = "added-oldest", recs[0].Ended.Add(-time.Hour)
	newest.Created, oldest.Created = newest.Ended.Add(-time.Minute), oldest.Ended.Add(-time.Minute)
	hs := &hookStore{Store: e.records, before: func(n int) error {
		if n == 2 { // after the first page went out
			return e.records.PutBatch(context.Background(), []cdr.Record{newest, oldest})
		}
		return nil
	}}
	e.api.WithRecords(hs)

	r := e.do("GET", "/api/v1/cdr/export?format=jsonl", "")
	if r.code != http.StatusOK {
		t.Fatalf("export = %d %s", r.code, r.body)
	}
	var got []string
	for _, l := range readJSONL(t, r.body) {
		var rec cdr.Record
		json.Unmarshal([]byte(l), &rec)
		got = append(got, rec.ID)
	}
	// The walk goes by (ended, id) from where the last page stopped: what
	// is added ahead of it is not exported, what is added behind it is,
	// and nothing comes twice.
	want := append(recIDs(newestFirst(recs)), oldest.ID)
	if !slices.Equal(got, want) {
		t.Fatalf("exported %v, want %v", got, want)
	}
	if hs.count() != 3 {
		t.Fatalf("%d store searches for 9 records in pages of 3, want 3", hs.count())
	}
}

func TestCDRExportStopsWhenClientGoes(t *testing.T) {
	e := newEnv(t)
	e.api.SetExportPage(2)
	e.put(exportRecords(10)...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := &hookStore{Store: e.records, before: func(n int) error {
		if n == 2 {
			cancel() // the client hangs up while the second page is read
		}
		return nil
	}}
	e.api.WithRecords(hs)
	req := httptest.NewRequest("GET", "/api/v1/cdr/export", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if hs.count() != 2 {
		t.Fatalf("%d store searches after the client went away during the second, want 2", hs.count())
	}
	if rows := readCSV(t, rec.Body.Bytes()); len(rows) > 4 {
		t.Fatalf("%d rows written after the client went away", len(rows))
	}
}

// A store failing after the export began cuts the response, so that the
// client cannot take a truncated export for a complete one.
func TestCDRExportStoreFailureTruncates(t *testing.T) {
	e := newEnv(t)
	e.api.SetExportPage(2)
	e.put(exportRecords(6)...)
	e.api.WithRecords(&hookStore{Store: e.records, before: func(n int) error {
		if n == 2 {
			return errors.New("disk on fire")
		}
		return nil
	}})
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/cdr/export", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || err == nil {
		t.Fatalf("export over a failing store = %d, read error %v; want 200 and a cut body", res.StatusCode, err)
	}
	if !strings.HasPrefix(string(body), strings.Join(wantColumns, ",")+"\n") {
		t.Fatalf("body %q does not start with the header", body)
	}

	srv.Close() // waits for the handler, which read the store field

	// A failure on the first page is an ordinary JSON error.
	e.api.WithRecords(&hookStore{Store: e.records, before: func(int) error { return errors.New("disk on fire") }})
	wantCode(t, e.do("GET", "/api/v1/cdr/export", ""), http.StatusInternalServerError)
}

func TestCDRExportWithoutRecords(t *testing.T) {
	e := newEnv(t)
	e.api.WithRecords(nil)
	wantCode(t, e.do("GET", "/api/v1/cdr/export", ""), http.StatusServiceUnavailable)
}
