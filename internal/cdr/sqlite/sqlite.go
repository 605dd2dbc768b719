// Package sqlite is the embedded CDR engine on modernc.org/sqlite.
//
// Records live in their own database file (cdr.db, next to ringo.db) so that
// the call-end write load never queues behind the directory's writer. The
// file runs in WAL mode with synchronous=FULL: a committed batch survives a
// power cut, and the Writer's group commit makes that one fsync per batch
// rather than per call. One connection writes; a small pool reads, which WAL
// lets run beside the writer.
//
// Schema: a records table (indexed columns for the structured filters, the
// whole record with its legs as a JSON document), side tables for variables
// and tags (exact var:name=value and tag: filters), and two FTS5 tables keyed
// by the record's rowid:
//
//   - cdr_text, tokenizer unicode61 with diacritics removed: names,
//     accounts, addresses, numbers, route, variables, tags and the hangup
//     cause; words match by prefix and case-fold in Latin and Cyrillic
//     (ё is folded to е on both sides).
//   - cdr_digits, tokenizer trigram: the digits-only forms of the caller's,
//     callee's, dialled and legs' numbers, space-separated. A fragment of
//     three or more digits is a phrase of its trigrams, so "1234" finds
//     "+79161234567" through the index, anywhere in the number, never by a
//     scan. Word tokenizers cannot do this (a number is one token), and a
//     suffix table would miss infix fragments such as "7916" in the middle
//     of a dialled string.
//
// Why FTS5 trigram rather than a side table of digit trigrams (rows of
// (trigram, record) in a WITHOUT ROWID B-tree, a fragment answered by
// intersecting its trigrams' record lists and checking the digits with LIKE):
// both were measured on 200,000 generated records (this SQLite build, 3.54
// in modernc, has FTS5 and the trigram tokenizer). The FTS5 index took 2,675
// pages against 5,852 for the side table (plus the side table's copy of the
// digits), and answered every fragment faster: "1234" 0.66 ms against
// 0.99 ms, "79161" 0.96 ms against 2.8 ms, "916" (2,329 matches) 0.24 ms
// against 2.9 ms. FTS5 keeps each trigram's postings compressed and matches
// a phrase by positions inside SQLite, with no join. Both FTS tables are
// contentless (an empty content option) with contentless_delete=1, so the
// text is not stored twice and retention can still delete rows.
//
// A search has two plans, chosen per query. When some required full-text
// term is rare (fewer than sparseLimit matches, found by a bounded count),
// its matches drive the query: look them up, filter, sort by time. Otherwise
// the query walks the (ended, id) index newest first, testing each row
// against the terms' match lists, and stops at the end of the page. Either
// way only the page's keys are sorted and its documents read afterwards. On
// 200,000 records this took a common name from 34 ms to 6-9 ms while a rare
// fragment stays at 1-3 ms. The measured figures are in docs/benchmarks.md,
// "Call records search".
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store"
	"github.com/ringo-pbx/ringo/internal/store/sqlite/schema"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// migrations are applied in order; PRAGMA user_version records how many ran.
// Never edit a released migration: append a new one.
var migrations = []string{
	`CREATE TABLE records (
		seq        INTEGER PRIMARY KEY,
		id         TEXT NOT NULL UNIQUE,
		domain     TEXT NOT NULL,
		direction  TEXT NOT NULL,
		outcome    TEXT NOT NULL,
		created    INTEGER NOT NULL,
		ended      INTEGER NOT NULL,
		duration   INTEGER NOT NULL,
		caller_acc TEXT NOT NULL DEFAULT '',
		callee_acc TEXT NOT NULL DEFAULT '',
		has_rec    INTEGER NOT NULL DEFAULT 0,
		data       TEXT NOT NULL
	);
	CREATE INDEX records_ended ON records (ended, id);
	CREATE INDEX records_domain ON records (domain, ended, id);
	CREATE INDEX records_caller ON records (caller_acc, ended);
	CREATE INDEX records_callee ON records (callee_acc, ended);
	CREATE TABLE vars (
		rec   INTEGER NOT NULL REFERENCES records(seq) ON DELETE CASCADE,
		name  TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (name, value, rec)
	) WITHOUT ROWID;
	CREATE INDEX vars_rec ON vars (rec);
	CREATE TABLE tags (
		rec INTEGER NOT NULL REFERENCES records(seq) ON DELETE CASCADE,
		tag TEXT NOT NULL,
		PRIMARY KEY (tag, rec)
	) WITHOUT ROWID;
	CREATE INDEX tags_rec ON tags (rec);
	CREATE VIRTUAL TABLE cdr_text USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
	CREATE VIRTUAL TABLE cdr_digits USING fts5(digits, content='', contentless_delete=1, tokenize='trigram', detail='full');`,
	// The journal of calls in progress: a record as far as it is known, so
	// that a call open when Ringo died is recorded as interrupted.
	`CREATE TABLE open_calls (
		id      TEXT PRIMARY KEY,
		data    TEXT NOT NULL,
		updated INTEGER NOT NULL
	);`,
}

// DB is the SQLite CDR store.
type DB struct {
	w, r *sql.DB
}

var _ cdr.Store = (*DB)(nil)

// Open opens (creating if needed) dir/cdr.db and migrates it.
func Open(ctx context.Context, dir string) (*DB, error) {
	path := filepath.Join(dir, "cdr.db")
	dsn := func(extra ...string) string {
		return schema.DSN(path, append([]string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(FULL)"}, extra...)...)
	}
	w, err := sql.Open("sqlite", dsn())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	s := &DB{w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r = r
	return s, nil
}

func (s *DB) migrate(ctx context.Context) error { return schema.Migrate(ctx, s.w, migrations) }

// Close closes the database.
func (s *DB) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// fold maps ё to е, as Russian text is commonly written both ways;
// unicode61's remove_diacritics covers Latin letters only.
var fold = strings.NewReplacer("ё", "е", "Ё", "Е")

// textOf is what cdr_text indexes for r.
func textOf(r *cdr.Record) string {
	var b strings.Builder
	add := func(ss ...string) {
		for _, s := range ss {
			if s != "" {
				b.WriteString(s)
				b.WriteByte(' ')
			}
		}
	}
	party := func(p cdr.Party) { add(p.Account, p.Number, p.Name, p.Address) }
	party(r.Caller)
	party(r.Callee)
	add(r.Dialled, r.Route.Target, r.Hangup.Cause)
	for _, l := range r.Legs {
		party(l.Party)
	}
	keys := make([]string, 0, len(r.Variables))
	for k := range r.Variables {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(k, r.Variables[k])
	}
	add(r.Tags...)
	return fold.Replace(b.String())
}

// digitsOf is what cdr_digits indexes for r: each distinct number once.
func digitsOf(r *cdr.Record) string {
	var seen []string
	add := func(s string) {
		if d := cdr.Digits(s); len(d) >= cdr.MinDigits && !slices.Contains(seen, d) {
			seen = append(seen, d)
		}
	}
	add(r.Caller.Number)
	add(r.Callee.Number)
	add(r.Dialled)
	for _, l := range r.Legs {
		add(l.Party.Number)
	}
	return strings.Join(seen, " ")
}

// PutBatch stores recs in one transaction.
func (s *DB) PutBatch(ctx context.Context, recs []cdr.Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put %d records: %w", len(recs), err)
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	prep := func(q string) (*sql.Stmt, error) {
		if st, ok := stmts[q]; ok {
			return st, nil
		}
		st, err := tx.PrepareContext(ctx, q)
		if err == nil {
			stmts[q] = st
		}
		return st, err
	}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for i := range recs {
		r := &recs[i]
		if err := r.Validate(); err != nil {
			return err
		}
		if err := s.put(ctx, prep, r); err != nil {
			var se *sqlite.Error
			if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
				err = store.ErrConflict
			}
			return fmt.Errorf("put record %s: %w", r.ID, err)
		}
		// The call has its record now: it is no longer open.
		if _, err := tx.ExecContext(ctx, "DELETE FROM open_calls WHERE id = ?", r.ID); err != nil {
			return fmt.Errorf("put record %s: %w", r.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put %d records: commit: %w", len(recs), err)
	}
	return nil
}

// PutOpen journals calls in progress (upserting by id) and removes ids in
// closed from the journal, in one transaction.
func (s *DB) PutOpen(ctx context.Context, open []cdr.Record, closed []string) error {
	if len(open) == 0 && len(closed) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal open calls: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	for i := range open {
		data, err := json.Marshal(&open[i])
		if err != nil {
			return fmt.Errorf("journal open call %s: %w", open[i].ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO open_calls (id, data, updated) VALUES (?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET data = excluded.data, updated = excluded.updated`, open[i].ID, string(data), now); err != nil {
			return fmt.Errorf("journal open call %s: %w", open[i].ID, err)
		}
	}
	for _, id := range closed {
		if _, err := tx.ExecContext(ctx, "DELETE FROM open_calls WHERE id = ?", id); err != nil {
			return fmt.Errorf("journal closed call %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal open calls: %w", err)
	}
	return nil
}

// OpenCalls returns the journal: calls that were in progress and have no record.
func (s *DB) OpenCalls(ctx context.Context) ([]cdr.Record, error) {
	rows, err := s.w.QueryContext(ctx, "SELECT data, updated FROM open_calls ORDER BY updated")
	if err != nil {
		return nil, fmt.Errorf("read open calls: %w", err)
	}
	defer rows.Close()
	var out []cdr.Record
	for rows.Next() {
		var data string
		var updated int64
		if err := rows.Scan(&data, &updated); err != nil {
			return nil, fmt.Errorf("read open calls: %w", err)
		}
		var r cdr.Record
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return nil, fmt.Errorf("read open calls: %w", err)
		}
		if r.Ended.IsZero() {
			r.Ended = time.UnixMilli(updated).UTC() // last known alive
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *DB) put(ctx context.Context, prep func(string) (*sql.Stmt, error), r *cdr.Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	st, err := prep(`INSERT INTO records (id, domain, direction, outcome, created, ended, duration, caller_acc, callee_acc, has_rec, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, r.ID, r.Domain, string(r.Direction), string(r.Outcome), r.Created.UnixMilli(), r.Ended.UnixMilli(),
		r.Durations.Total.Milliseconds(), r.Caller.Account, r.Callee.Account, len(r.Recordings) > 0, data)
	if err != nil {
		return err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if st, err = prep("INSERT INTO cdr_text (rowid, body) VALUES (?, ?)"); err != nil {
		return err
	}
	if _, err := st.ExecContext(ctx, seq, textOf(r)); err != nil {
		return err
	}
	if d := digitsOf(r); d != "" {
		if st, err = prep("INSERT INTO cdr_digits (rowid, digits) VALUES (?, ?)"); err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, seq, d); err != nil {
			return err
		}
	}
	for k, v := range r.Variables {
		if st, err = prep("INSERT OR IGNORE INTO vars (rec, name, value) VALUES (?, ?, ?)"); err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, seq, k, v); err != nil {
			return err
		}
	}
	for _, t := range r.Tags {
		if st, err = prep("INSERT OR IGNORE INTO tags (rec, tag) VALUES (?, ?)"); err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, seq, t); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the record with id.
func (s *DB) Get(ctx context.Context, id string) (cdr.Record, error) {
	var data string
	err := s.r.QueryRowContext(ctx, "SELECT data FROM records WHERE id = ?", id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return cdr.Record{}, fmt.Errorf("get record %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return cdr.Record{}, fmt.Errorf("get record %s: %w", id, err)
	}
	var r cdr.Record
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return cdr.Record{}, fmt.Errorf("get record %s: %w", id, err)
	}
	return r, nil
}

// where renders q's filter, domain scope and (with cursor) position as SQL
// over records r.
func where(q cdr.Query, cursor, dense bool) (string, []any, error) {
	var conds []string
	var args []any
	if q.Filter != nil {
		if err := q.Filter.Validate(); err != nil {
			return "", nil, err
		}
		c, a := sqlOf(q.Filter, dense)
		conds, args = append(conds, c), append(args, a...)
	}
	if q.Domain != "" {
		conds, args = append(conds, "r.domain = ?"), append(args, q.Domain)
	}
	if cursor && q.Cursor != "" {
		c, err := cdr.DecodeCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, "(r.ended, r.id) < (?, ?)"), append(args, c.Ended.UnixMilli(), c.ID)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// ftsPhrase quotes s as an FTS5 string.
func ftsPhrase(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqlOf renders f. With dense, full-text terms are written so that SQLite
// cannot drive the query from them ("+r.seq IN …"): it walks records_ended
// newest first and tests each row against the FTS matches (a bloom filter
// and a list), stopping at the page's end.
// ftsMatch is the FTS5 query of a text or digits term.
func ftsMatch(f *cdr.Filter) string {
	if f.Op == cdr.OpDigits {
		return ftsPhrase(f.Value)
	}
	return ftsPhrase(fold.Replace(f.Value)) + "*"
}

// sparseLimit is the number of matches under which a full-text term drives
// a search (look up its matches, sort them by time); at or above it the
// search walks the time index instead. Measured on 200,000 records: a rare
// fragment ("4567", ~100 matches) takes 1.2 ms driven and 6.8 ms walked; a
// common name ("smith", ~14,000) 34 ms driven and 1.2 ms walked.
var sparseLimit = 2000 // a variable so that tests can force either plan

// dense reports whether no required full-text term of f is rare, counting
// each term's matches up to sparseLimit (a bounded count: well under 2 ms).
func (s *DB) dense(ctx context.Context, f *cdr.Filter) (bool, error) {
	if f == nil {
		return false, nil
	}
	terms := []*cdr.Filter{f}
	if f.Op == cdr.OpAnd {
		terms = f.Args
	}
	seen := false
	for _, t := range terms {
		table := map[cdr.Op]string{cdr.OpText: "cdr_text", cdr.OpDigits: "cdr_digits"}[t.Op]
		if table == "" {
			continue
		}
		seen = true
		var n int
		q := fmt.Sprintf("SELECT count(*) FROM (SELECT rowid FROM %s WHERE %[1]s MATCH ? LIMIT %d)", table, sparseLimit)
		if err := s.r.QueryRowContext(ctx, q, ftsMatch(t)).Scan(&n); err != nil {
			return false, err
		}
		if n < sparseLimit {
			return false, nil
		}
	}
	return seen, nil
}

func sqlOf(f *cdr.Filter, dense bool) (string, []any) {
	seq := "r.seq"
	if dense {
		seq = "+r.seq"
	}
	switch f.Op {
	case cdr.OpAnd, cdr.OpOr:
		parts := make([]string, len(f.Args))
		var args []any
		for i, a := range f.Args {
			c, aa := sqlOf(a, dense)
			parts[i], args = c, append(args, aa...)
		}
		return "(" + strings.Join(parts, " "+strings.ToUpper(string(f.Op))+" ") + ")", args
	case cdr.OpNot:
		c, a := sqlOf(f.Args[0], dense)
		return "NOT " + c, a
	case cdr.OpText:
		return seq + " IN (SELECT rowid FROM cdr_text WHERE cdr_text MATCH ?)", []any{ftsMatch(f)}
	case cdr.OpDigits:
		return seq + " IN (SELECT rowid FROM cdr_digits WHERE cdr_digits MATCH ?)", []any{ftsMatch(f)}
	case cdr.OpTime:
		var c []string
		var a []any
		if !f.From.IsZero() {
			c, a = append(c, "r.ended >= ?"), append(a, f.From.UnixMilli())
		}
		if !f.To.IsZero() {
			c, a = append(c, "r.ended < ?"), append(a, f.To.UnixMilli())
		}
		return "(" + strings.Join(c, " AND ") + ")", a
	case cdr.OpDirection:
		return "r.direction = ?", []any{f.Value}
	case cdr.OpOutcome:
		return "r.outcome = ?", []any{f.Value}
	case cdr.OpDuration:
		var c []string
		var a []any
		if f.MinMs != nil {
			c, a = append(c, "r.duration >= ?"), append(a, *f.MinMs)
		}
		if f.MaxMs != nil {
			c, a = append(c, "r.duration <= ?"), append(a, *f.MaxMs)
		}
		return "(" + strings.Join(c, " AND ") + ")", a
	case cdr.OpDomain:
		return "r.domain = ?", []any{f.Value}
	case cdr.OpAccount:
		return "(r.caller_acc = ? OR r.callee_acc = ?)", []any{f.Value, f.Value}
	case cdr.OpRecording:
		return "r.has_rec = 1", nil
	case cdr.OpVar:
		return "r.seq IN (SELECT rec FROM vars WHERE name = ? AND value = ?)", []any{f.Key, f.Value}
	case cdr.OpTag:
		return "r.seq IN (SELECT rec FROM tags WHERE tag = ?)", []any{f.Value}
	}
	panic("cdr/sqlite: unvalidated filter " + string(f.Op))
}

// Search returns one page of q's results, newest first.
func (s *DB) Search(ctx context.Context, q cdr.Query) (cdr.Page, error) {
	if q.Filter != nil {
		if err := q.Filter.Validate(); err != nil {
			return cdr.Page{}, err
		}
	}
	dense, err := s.dense(ctx, q.Filter)
	if err != nil {
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	w, args, err := where(q, true, dense)
	if err != nil {
		return cdr.Page{}, err
	}
	limit := q.PageLimit()
	// The page's keys are found and sorted first, and only then are the
	// page's documents read: sorting whole documents costs more than the search.
	rows, err := s.r.QueryContext(ctx, "SELECT data FROM records WHERE seq IN (SELECT r.seq FROM records r"+w+
		" ORDER BY r.ended DESC, r.id DESC LIMIT ?) ORDER BY ended DESC, id DESC", append(args, limit+1)...)
	if err != nil {
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	defer rows.Close()
	var p cdr.Page
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return cdr.Page{}, fmt.Errorf("search records: %w", err)
		}
		var r cdr.Record
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return cdr.Page{}, fmt.Errorf("search records: %w", err)
		}
		p.Records = append(p.Records, r)
	}
	if err := rows.Err(); err != nil {
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	if len(p.Records) > limit {
		p.Records = p.Records[:limit]
		last := p.Records[limit-1]
		p.Next = cdr.Cursor{Ended: last.Ended, ID: last.ID}.Encode()
	}
	return p, nil
}

// Facets counts q's matches by outcome and by direction.
func (s *DB) Facets(ctx context.Context, q cdr.Query) (cdr.Facets, error) {
	w, args, err := where(q, false, false)
	if err != nil {
		return cdr.Facets{}, err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT r.outcome, r.direction, count(*) FROM records r"+w+" GROUP BY r.outcome, r.direction", args...)
	if err != nil {
		return cdr.Facets{}, fmt.Errorf("facet records: %w", err)
	}
	defer rows.Close()
	f := cdr.Facets{Outcome: map[cdr.Outcome]int64{}, Direction: map[cdr.Direction]int64{}}
	for rows.Next() {
		var o, d string
		var n int64
		if err := rows.Scan(&o, &d, &n); err != nil {
			return cdr.Facets{}, fmt.Errorf("facet records: %w", err)
		}
		f.Outcome[cdr.Outcome(o)] += n
		f.Direction[cdr.Direction(d)] += n
		f.Total += n
	}
	if err := rows.Err(); err != nil {
		return cdr.Facets{}, fmt.Errorf("facet records: %w", err)
	}
	return f, nil
}
