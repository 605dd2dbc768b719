package api

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// Export formats.
const (
	formatCSV   = "csv"
	formatJSONL = "jsonl"
)

// csvColumns are the columns of a CSV export, in order. They are part of
// the API (docs/api.md lists them): add new ones at the end.
func csvColumns() []string {
	return []string{"id", "call_id", "domain", "direction", "outcome",
		"created", "answered", "ended",
		"duration_seconds", "talk_seconds", "ring_seconds",
		"caller_account", "caller_number", "caller_name",
		"callee_account", "callee_number", "callee_name",
		"dialled", "route_kind", "route_target",
		"hangup_cause", "hangup_sip_code", "hangup_by",
		"recordings", "tags", "variables"}
}

// cdrExportRequest is the body of POST /cdr/export: which records (as for
// a search) and the format. There is no page: an export is every match.
type cdrExportRequest struct {
	cdrFilterRequest
	Format string `json:"format,omitempty"`
}

// cdrExport streams every record a query matches, newest first, as CSV or
// JSON lines. It walks the store's pages so that memory stays bounded by one
// page however many records match, flushes after each page, and stops when
// the client goes away.
func (s *Server) cdrExport(w http.ResponseWriter, r *http.Request) {
	if s.cdr == nil {
		writeError(w, http.StatusServiceUnavailable, "call records are not kept by this server")
		return
	}
	var req cdrExportRequest
	if r.Method == http.MethodPost {
		if err := decode(r, &req); err != nil {
			fail(w, err)
			return
		}
	} else {
		req.Query, req.Domain = r.URL.Query().Get("q"), r.URL.Query().Get("domain")
	}
	format, err := exportFormat(req.Format, r.URL.Query().Get("format"))
	if err != nil {
		fail(w, err)
		return
	}
	p := who(r)
	q, err := req.query(p)
	if err != nil {
		fail(w, err)
		return
	}
	q.Limit = s.exportPage
	ctx := r.Context()
	// The first page is read before anything is written, so that a bad
	// query or a failing store still gets a JSON error.
	page, err := s.cdr.Search(ctx, q)
	if err != nil {
		fail(w, err)
		return
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	var enc recordEncoder
	name := "ringo-cdr-" + time.Now().UTC().Format("20060102T150405Z")
	if format == formatCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		name += ".csv"
		enc = newCSVEncoder(bw)
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
		name += ".jsonl"
		enc = jsonlEncoder{json.NewEncoder(bw)}
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	for {
		for _, rec := range page.Records {
			// The store confines the query already; this keeps a domain
			// administrator's export confined even if an engine did not.
			if !p.sees(rec) {
				continue
			}
			if err := enc.encode(rec); err != nil {
				s.exportFailed(ctx, err)
				return
			}
		}
		if err := enc.flush(); err != nil {
			s.exportFailed(ctx, err)
			return
		}
		if err := bw.Flush(); err != nil {
			s.exportFailed(ctx, err)
			return
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			s.exportFailed(ctx, err)
			return
		}
		if page.Next == "" || ctx.Err() != nil {
			return
		}
		q.Cursor = page.Next
		if page, err = s.cdr.Search(ctx, q); err != nil {
			s.exportFailed(ctx, err)
			return
		}
	}
}

// exportFailed ends an export that has begun. When the client went away
// there is no one to tell; otherwise the connection is cut so that the
// client sees a truncated response rather than a short but well-formed file.
func (s *Server) exportFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	s.log.Error("call-record export failed", "err", err)
	panic(http.ErrAbortHandler)
}

// exportFormat picks the format from the body's and the URL's, csv by default.
func exportFormat(body, query string) (string, error) {
	if body != "" && query != "" && body != query {
		return "", fmt.Errorf("%w: format %q in the body differs from %q in the URL", errBadRequest, body, query)
	}
	f := cmp.Or(body, query, formatCSV)
	if f != formatCSV && f != formatJSONL {
		return "", fmt.Errorf("%w: format %q: want csv or jsonl", errBadRequest, f)
	}
	return f, nil
}

type recordEncoder interface {
	encode(cdr.Record) error
	flush() error
}

// jsonlEncoder writes a record per line, as GET /cdr/{id} answers it.
type jsonlEncoder struct{ enc *json.Encoder }

func (j jsonlEncoder) encode(r cdr.Record) error { return j.enc.Encode(r) }
func (j jsonlEncoder) flush() error              { return nil }

type csvEncoder struct {
	w   *csv.Writer
	row []string
}

func newCSVEncoder(w io.Writer) *csvEncoder {
	cols := csvColumns()
	e := &csvEncoder{w: csv.NewWriter(w), row: make([]string, 0, len(cols))}
	e.w.Write(cols) // an error sticks in the writer and surfaces at flush
	return e
}

func (e *csvEncoder) encode(r cdr.Record) error {
	return e.w.Write(csvRow(e.row[:0], r))
}

func (e *csvEncoder) flush() error {
	e.w.Flush()
	return e.w.Error()
}

// csvRow appends r's cells, in csvColumns' order, to row.
func csvRow(row []string, r cdr.Record) []string {
	files := make([]string, len(r.Recordings))
	for i, rec := range r.Recordings {
		files[i] = rec.File
	}
	keys := make([]string, 0, len(r.Variables))
	for k := range r.Variables {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vars := make([]string, len(keys))
	for i, k := range keys {
		vars[i] = k + "=" + r.Variables[k]
	}
	sipCode := ""
	if r.Hangup.SIPCode != 0 {
		sipCode = strconv.Itoa(r.Hangup.SIPCode)
	}
	row = append(row,
		r.ID, r.CallID, r.Domain, string(r.Direction), string(r.Outcome),
		csvTime(r.Created), csvTime(r.Answered), csvTime(r.Ended),
		csvSeconds(r.Durations.Total), csvSeconds(r.Durations.Talk), csvSeconds(r.Durations.Ring),
		r.Caller.Account, r.Caller.Number, r.Caller.Name,
		r.Callee.Account, r.Callee.Number, r.Callee.Name,
		r.Dialled, r.Route.Kind, r.Route.Target,
		r.Hangup.Cause, sipCode, r.Hangup.By,
		strings.Join(files, ";"), strings.Join(r.Tags, ";"), strings.Join(vars, ";"),
	)
	for i, c := range row {
		row[i] = defuse(c)
	}
	return row
}

// csvTime is RFC 3339 in UTC to the millisecond, "" for a zero time.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}

// csvSeconds is a duration in seconds, to the millisecond.
func csvSeconds(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Milliseconds())/1000, 'f', -1, 64)
}

// defuse keeps a spreadsheet from running a cell as a formula: names and
// variables come from callers, and a display name such as
// =HYPERLINK(...) would otherwise be live when the export is opened. A cell
// starting with = + - @ or a tab or CR gets a leading apostrophe, unless it
// is a phone number (+7 (916) 123-45-67), which no spreadsheet can run.
func defuse(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	digits := false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case strings.ContainsRune("+-(). ", c):
		default:
			return "'" + s
		}
	}
	if !digits {
		return "'" + s
	}
	return s
}
