// Package sqlite is the embedded CDR engine on modernc.org/sqlite.
//
// Records live in their own database file (cdr.db, next to ringo.db) so that
// the call-end write load never queues behind the directory's writer. The
// file runs in WAL mode with synchronous=FULL: a committed batch survives a
// power cut, and the Writer's group commit makes that one fsync per batch
// rather than per call. One connection writes; a small pool reads, which WAL
// lets run beside the writer.
//
// # Time-ordered keys
//
// Every table is keyed by the record's seq, which is its end time in
// milliseconds shifted left by seqBits, plus a counter for calls that end in
// the same millisecond. Rowid order is therefore time order, which is the
// order every search returns: the newest page of any query is read from the
// end of an index and the search stops when the page is full, whatever the
// number of matches; a time range is a rowid range, which both the B-trees
// and FTS5 seek to directly; and inserts append to the right edge of every
// B-tree, so that ingest does not slow down as the table grows. Records that
// end at the same millisecond sort by arrival.
//
// # Schema
//
//   - rec: the columns the structured filters test (domain, direction,
//     outcome, duration, has recording), narrow so that a filter scanning or
//     counting many records touches few pages; id is unique (Get, and a
//     duplicate is a conflict).
//   - rec_doc: the whole record with its legs as JSON, read only for the
//     records of the page being returned.
//   - rec_acc, rec_var, rec_tag: (key, seq) B-trees for the account, var:
//     and tag: filters, walked newest first.
//   - rec_text, FTS5 with tokenizer unicode61 and diacritics removed: names,
//     accounts, the parts of addresses not already covered by a number or an
//     account, the route, variables and tags. Words match by prefix and
//     case-fold in Latin and Cyrillic (ё is folded to е on both sides).
//     Numbers are left to rec_digits: a query made of digits is a digit
//     fragment, never a word, so indexing them twice would only cost.
//   - rec_digits, FTS5 with tokenizer trigram: the digits-only forms of the
//     caller's, callee's, dialled and legs' numbers, space-separated. A
//     fragment of three or more digits is a phrase of its trigrams, so
//     "1234" finds "+79161234567" through the index, anywhere in the number,
//     never by a scan. Word tokenizers cannot do this (a number is one
//     token), and a suffix table would miss infix fragments such as "7916"
//     in the middle of a dialled string.
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
// # Plans
//
// A search is driven by one index, chosen in this order: the full-text
// terms (when there are words and digit fragments, the rarer of the two,
// found by a bounded count), a var:, a tag:, an account:, else the records
// themselves. The driver is walked newest first within the time range and
// every other condition is tested on the rows it yields, so a page costs in
// proportion to how far back its results lie, not to how many records match.
// Facets count every match through the same driver. The measured figures are
// in docs/benchmarks.md, "Call records search".
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store"
	"github.com/ringo-pbx/ringo/internal/store/sqlite/schema"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// migrations are applied in order; PRAGMA user_version records how many ran.
// Never edit a released migration: append a new one. The first schema (the
// records, vars, tags, cdr_text and cdr_digits tables) is moved into the
// time-keyed tables of the third by moveLegacy.
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
	`CREATE TABLE rec (
		seq        INTEGER PRIMARY KEY,
		id         TEXT NOT NULL UNIQUE,
		domain     TEXT NOT NULL,
		direction  TEXT NOT NULL,
		outcome    TEXT NOT NULL,
		duration   INTEGER NOT NULL,
		has_rec    INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX rec_domain ON rec (domain, seq);
	CREATE TABLE rec_doc (
		seq  INTEGER PRIMARY KEY,
		data TEXT NOT NULL
	);
	CREATE TABLE rec_acc (
		acc TEXT NOT NULL,
		seq INTEGER NOT NULL,
		PRIMARY KEY (acc, seq)
	) WITHOUT ROWID;
	CREATE INDEX rec_acc_seq ON rec_acc (seq);
	CREATE TABLE rec_var (
		name  TEXT NOT NULL,
		value TEXT NOT NULL,
		seq   INTEGER NOT NULL,
		PRIMARY KEY (name, value, seq)
	) WITHOUT ROWID;
	CREATE INDEX rec_var_seq ON rec_var (seq);
	CREATE TABLE rec_tag (
		tag TEXT NOT NULL,
		seq INTEGER NOT NULL,
		PRIMARY KEY (tag, seq)
	) WITHOUT ROWID;
	CREATE INDEX rec_tag_seq ON rec_tag (seq);
	CREATE VIRTUAL TABLE rec_text USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
	CREATE VIRTUAL TABLE rec_digits USING fts5(digits, content='', contentless_delete=1, tokenize='trigram', detail='full');`,
}

// seqBits is how many low bits of a seq count records that end in the same
// millisecond: 4,096 per millisecond is far above any call rate.
const seqBits = 12

func seqOf(t time.Time) int64 { return max(t.UnixMilli(), 0) << seqBits }

// DB is the SQLite CDR store.
type DB struct {
	w, r *sql.DB
}

var _ cdr.Store = (*DB)(nil)

// Open opens (creating if needed) dir/cdr.db and migrates it.
func Open(ctx context.Context, dir string) (*DB, error) {
	path := filepath.Join(dir, "cdr.db")
	dsn := func(extra ...string) string {
		return schema.DSN(path, append([]string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)"}, extra...)...)
	}
	// The writer keeps the right edge of every index in its cache (64 MiB):
	// appends then rarely read a page back from the file.
	w, err := sql.Open("sqlite", dsn("cache_size(-65536)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	s := &DB{w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	// Readers map the file: searches then read pages without a system call.
	r, err := sql.Open("sqlite", dsn("query_only(1)", "mmap_size(1073741824)", "cache_size(-16384)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r = r
	return s, nil
}

func (s *DB) migrate(ctx context.Context) error {
	if err := schema.Migrate(ctx, s.w, migrations); err != nil {
		return err
	}
	return s.moveLegacy(ctx)
}

// moveLegacy moves records of the first schema into the time-keyed tables,
// in one transaction, and drops the old tables.
func (s *DB) moveLegacy(ctx context.Context) error {
	var n int
	if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'").Scan(&n); err != nil {
		return fmt.Errorf("move records: %w", err)
	}
	if n == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("move records: %w", err)
	}
	defer tx.Rollback()
	last := int64(-1)
	for {
		rows, err := tx.QueryContext(ctx, "SELECT seq, data FROM records WHERE seq > ? ORDER BY seq LIMIT 1000", last)
		if err != nil {
			return fmt.Errorf("move records: %w", err)
		}
		var recs []cdr.Record
		for rows.Next() {
			var data string
			var r cdr.Record
			if err := rows.Scan(&last, &data); err != nil {
				rows.Close()
				return fmt.Errorf("move records: %w", err)
			}
			if err := json.Unmarshal([]byte(data), &r); err != nil {
				rows.Close()
				return fmt.Errorf("move record %d: %w", last, err)
			}
			recs = append(recs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("move records: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		if err := s.insert(ctx, tx, prepare(recs)); err != nil {
			return fmt.Errorf("move records: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE vars; DROP TABLE tags; DROP TABLE cdr_text; DROP TABLE cdr_digits; DROP TABLE records;`); err != nil {
		return fmt.Errorf("move records: drop old tables: %w", err)
	}
	return tx.Commit()
}

// Close closes the database.
func (s *DB) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// fold maps ё to е, as Russian text is commonly written both ways;
// unicode61's remove_diacritics covers Latin letters only.
var fold = strings.NewReplacer("ё", "е", "Ё", "Е")

// textOf is what rec_text indexes for r: every searchable word once, without
// the numbers (rec_digits has them) and without what an address repeats.
func textOf(r *cdr.Record) string {
	var b strings.Builder
	seen := make([]string, 0, 16)
	add := func(ss ...string) {
		for _, s := range ss {
			if s == "" || slices.Contains(seen, s) {
				continue
			}
			seen = append(seen, s)
			b.WriteString(s)
			b.WriteByte(' ')
		}
	}
	party := func(p cdr.Party) {
		add(p.Account, p.Name)
		if p.Address == "" {
			return
		}
		// sip:user@host: the user part is usually the number or the
		// account, and the host the record's own domain.
		addr := p.Address
		if i := strings.IndexByte(addr, ':'); i >= 0 && !strings.ContainsAny(addr[:i], "@.") {
			addr = addr[i+1:]
		}
		user, host, ok := strings.Cut(addr, "@")
		if !ok {
			user, host = "", addr
		}
		if user != "" && user != p.Account && cdr.Digits(user) != user {
			add(user)
		}
		if host != "" && host != r.Domain {
			add(host)
		}
	}
	party(r.Caller)
	party(r.Callee)
	if cdr.Digits(r.Route.Target) != r.Route.Target {
		add(r.Route.Target)
	}
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

// digitsOf is what rec_digits indexes for r: each distinct number once.
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

// prepared is a record with what its rows need, computed before the
// transaction (and on several cores for a large batch).
type prepared struct {
	r            *cdr.Record
	data         []byte
	text, digits string
	err          error
}

func prepare(recs []cdr.Record) []prepared {
	out := make([]prepared, len(recs))
	one := func(i int) {
		r := &recs[i]
		out[i].r = r
		if out[i].err = r.Validate(); out[i].err != nil {
			return
		}
		out[i].data, out[i].err = json.Marshal(r)
		out[i].text, out[i].digits = textOf(r), digitsOf(r)
	}
	workers := min(runtime.GOMAXPROCS(0), len(recs)/128)
	if workers < 2 {
		for i := range recs {
			one(i)
		}
		return out
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(recs); i += workers {
				one(i)
			}
		})
	}
	wg.Wait()
	return out
}

// PutBatch stores recs in one transaction.
func (s *DB) PutBatch(ctx context.Context, recs []cdr.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ps := prepare(recs)
	for _, p := range ps {
		if p.err != nil {
			return fmt.Errorf("put record %s: %w", p.r.ID, p.err)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put %d records: %w", len(recs), err)
	}
	defer tx.Rollback()
	// The calls have their records now: they are no longer open.
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	idj, _ := json.Marshal(ids)
	if _, err := tx.ExecContext(ctx, "DELETE FROM open_calls WHERE id IN (SELECT value FROM json_each(?))", string(idj)); err != nil {
		return fmt.Errorf("put %d records: close journal: %w", len(recs), err)
	}
	if err := s.insert(ctx, tx, ps); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put %d records: commit: %w", len(recs), err)
	}
	return nil
}

// chunk is how many records one multi-row INSERT carries: per-statement
// overhead dominates single-row inserts.
const chunk = 64

// inserter accumulates rows of one table and writes them chunk by chunk.
type inserter struct {
	tx    *sql.Tx
	head  string // INSERT INTO t (a, b) VALUES
	tuple string // (?, ?)
	cols  int
	args  []any
	stmts map[int]*sql.Stmt
}

func newInserter(tx *sql.Tx, head string, cols int) *inserter {
	return &inserter{tx: tx, head: head, tuple: "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")", cols: cols, stmts: map[int]*sql.Stmt{}}
}

func (in *inserter) add(ctx context.Context, vals ...any) error {
	in.args = append(in.args, vals...)
	if len(in.args) >= chunk*in.cols {
		return in.flush(ctx)
	}
	return nil
}

func (in *inserter) flush(ctx context.Context) error {
	n := len(in.args) / in.cols
	if n == 0 {
		return nil
	}
	st := in.stmts[n]
	if st == nil {
		var err error
		q := in.head + strings.TrimSuffix(strings.Repeat(in.tuple+", ", n), ", ")
		if st, err = in.tx.PrepareContext(ctx, q); err != nil {
			return err
		}
		in.stmts[n] = st
	}
	_, err := st.ExecContext(ctx, in.args...)
	in.args = in.args[:0]
	return err
}

func (in *inserter) close() {
	for _, st := range in.stmts {
		st.Close()
	}
}

// insert writes ps's rows in tx, giving each record its seq.
func (s *DB) insert(ctx context.Context, tx *sql.Tx, ps []prepared) error {
	var last int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), -1) FROM rec").Scan(&last); err != nil {
		return fmt.Errorf("put %d records: %w", len(ps), err)
	}
	var older *sql.Stmt
	defer func() {
		if older != nil {
			older.Close()
		}
	}()
	ins := map[string]*inserter{
		"rec":    newInserter(tx, "INSERT INTO rec (seq, id, domain, direction, outcome, duration, has_rec) VALUES ", 7),
		"doc":    newInserter(tx, "INSERT INTO rec_doc (seq, data) VALUES ", 2),
		"acc":    newInserter(tx, "INSERT OR IGNORE INTO rec_acc (acc, seq) VALUES ", 2),
		"var":    newInserter(tx, "INSERT OR IGNORE INTO rec_var (name, value, seq) VALUES ", 3),
		"tag":    newInserter(tx, "INSERT OR IGNORE INTO rec_tag (tag, seq) VALUES ", 2),
	}
	defer func() {
		for _, in := range ins {
			in.close()
		}
	}()
	// Each table's rows go in chunk by chunk; rec goes first so that a
	// duplicate id fails before anything else is written for it.
	order := []string{"rec", "doc", "acc", "var", "tag"}
	seqs := make([]int64, len(ps))
	for i := range ps {
		p := &ps[i]
		r := p.r
		base := seqOf(r.Ended)
		var seq int64
		switch {
		case base > last:
			seq = base
		case last>>seqBits == base>>seqBits && last&(1<<seqBits-1) < 1<<seqBits-1:
			seq = last + 1
		default: // a record older than the newest: find a free slot in its millisecond
			if older == nil {
				var err error
				if older, err = tx.PrepareContext(ctx, "SELECT coalesce(max(seq), -1) FROM rec WHERE seq BETWEEN ? AND ?"); err != nil {
					return fmt.Errorf("put record %s: %w", r.ID, err)
				}
			}
			// Rows of this batch not yet flushed must be visible to the lookup.
			for _, t := range order {
				if err := ins[t].flush(ctx); err != nil {
					return putErr(ctx, tx, ps, err)
				}
			}
			var m int64
			if err := older.QueryRowContext(ctx, base, base|(1<<seqBits-1)).Scan(&m); err != nil {
				return fmt.Errorf("put record %s: %w", r.ID, err)
			}
			switch {
			case m < 0:
				seq = base
			case m&(1<<seqBits-1) < 1<<seqBits-1:
				seq = m + 1
			default:
				return fmt.Errorf("put record %s: more than %d records end in its millisecond", r.ID, 1<<seqBits)
			}
		}
		last = max(last, seq)
		seqs[i] = seq
		if err := ins["rec"].add(ctx, seq, r.ID, r.Domain, string(r.Direction), string(r.Outcome), r.Durations.Total.Milliseconds(), len(r.Recordings) > 0); err != nil {
			return putErr(ctx, tx, ps, err)
		}
		if err := ins["doc"].add(ctx, seq, p.data); err != nil {
			return putErr(ctx, tx, ps, err)
		}
		for _, a := range []string{r.Caller.Account, r.Callee.Account} {
			if a != "" {
				if err := ins["acc"].add(ctx, a, seq); err != nil {
					return putErr(ctx, tx, ps, err)
				}
			}
		}
		for k, v := range r.Variables {
			if err := ins["var"].add(ctx, k, v, seq); err != nil {
				return putErr(ctx, tx, ps, err)
			}
		}
		for _, t := range r.Tags {
			if err := ins["tag"].add(ctx, t, seq); err != nil {
				return putErr(ctx, tx, ps, err)
			}
		}
	}
	for _, t := range order {
		if err := ins[t].flush(ctx); err != nil {
			return putErr(ctx, tx, ps, err)
		}
	}
	// The full-text rows go last and one per statement. A statement that
	// writes several rows opens a statement savepoint, and FTS5 writes its
	// pending terms out as a new segment at every savepoint of a transaction
	// it is part of: with multi-row inserts, or any such statement after the
	// first FTS write, every chunk became a tiny segment to merge later.
	for _, f := range []struct {
		q   string
		val func(p *prepared) string
	}{
		{"INSERT INTO rec_text (rowid, body) VALUES (?, ?)", func(p *prepared) string { return p.text }},
		{"INSERT INTO rec_digits (rowid, digits) VALUES (?, ?)", func(p *prepared) string { return p.digits }},
	} {
		st, err := tx.PrepareContext(ctx, f.q)
		if err != nil {
			return fmt.Errorf("put %d records: %w", len(ps), err)
		}
		for i := range ps {
			if v := f.val(&ps[i]); v != "" {
				if _, err := st.ExecContext(ctx, seqs[i], v); err != nil {
					st.Close()
					return fmt.Errorf("put record %s: %w", ps[i].r.ID, err)
				}
			}
		}
		st.Close()
	}
	return nil
}

// putErr says what a failed insert was about. A multi-row insert fails as a
// whole, so for a duplicate id the batch is searched for the one to name:
// an id repeated in the batch or one already stored (the failed statement
// wrote nothing).
func putErr(ctx context.Context, tx *sql.Tx, ps []prepared, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return fmt.Errorf("put %d records: %w", len(ps), err)
	}
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		var n int
		if seen[p.r.ID] || tx.QueryRowContext(ctx, "SELECT count(*) FROM rec WHERE id = ?", p.r.ID).Scan(&n) == nil && n > 0 {
			return fmt.Errorf("put record %s: %w", p.r.ID, store.ErrConflict)
		}
		seen[p.r.ID] = true
	}
	return fmt.Errorf("put %d records: %w", len(ps), store.ErrConflict)
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

// Get returns the record with id.
func (s *DB) Get(ctx context.Context, id string) (cdr.Record, error) {
	var data string
	err := s.r.QueryRowContext(ctx, "SELECT d.data FROM rec r CROSS JOIN rec_doc d ON d.seq = r.seq WHERE r.id = ?", id).Scan(&data)
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

// DeleteEndedBefore deletes at most max records that ended before t, oldest
// first, in one transaction. Keys are time-ordered, so the records to delete
// are one seq range at the start of every table: the writer holds the lock
// only for the rows it removes.
func (s *DB) DeleteEndedBefore(ctx context.Context, t time.Time, max int) (int, error) {
	if max <= 0 {
		return 0, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("delete records: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT seq FROM rec WHERE seq < ? ORDER BY seq LIMIT ?", seqOf(t), max)
	if err != nil {
		return 0, fmt.Errorf("delete records: %w", err)
	}
	var seqs []int64
	for rows.Next() {
		var q int64
		if err := rows.Scan(&q); err != nil {
			rows.Close()
			return 0, fmt.Errorf("delete records: %w", err)
		}
		seqs = append(seqs, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("delete records: %w", err)
	}
	if len(seqs) == 0 {
		return 0, nil
	}
	cut := seqs[len(seqs)-1]
	for _, q := range []string{"rec", "rec_doc", "rec_acc", "rec_var", "rec_tag"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+q+" WHERE seq <= ?", cut); err != nil {
			return 0, fmt.Errorf("delete records from %s: %w", q, err)
		}
	}
	for _, table := range []string{"rec_text", "rec_digits"} {
		st, err := tx.PrepareContext(ctx, "DELETE FROM "+table+" WHERE rowid = ?")
		if err != nil {
			return 0, fmt.Errorf("delete records from %s: %w", table, err)
		}
		for _, q := range seqs {
			if _, err := st.ExecContext(ctx, q); err != nil {
				st.Close()
				return 0, fmt.Errorf("delete records from %s: %w", table, err)
			}
		}
		st.Close()
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("delete records: %w", err)
	}
	return len(seqs), nil
}

// ftsPhrase quotes s as an FTS5 string.
func ftsPhrase(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// ftsMatch is the FTS5 query of a text or digits term.
func ftsMatch(f *cdr.Filter) string {
	if f.Op == cdr.OpDigits {
		return ftsPhrase(f.Value)
	}
	return ftsPhrase(fold.Replace(f.Value)) + "*"
}

// sparseLimit is the number of matches under which a full-text term that
// does not drive a search is tested through its whole match list (read once);
// at or above it, each candidate row is probed in the index instead. It also
// bounds the counts that pick the rarer of words and digit fragments.
var sparseLimit = 2000 // a variable so that tests can force either way

// plan is how a search runs: the driver walked newest first, and the
// conditions tested on the rows it yields.
type plan struct {
	from  string // FROM clause, driver first
	key   string // the driver's seq column
	conds []string
	args  []any
}

func (p *plan) where() string {
	if len(p.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(p.conds, " AND ")
}

func (p *plan) add(cond string, args ...any) {
	p.conds, p.args = append(p.conds, cond), append(p.args, args...)
}

// driverTable is the FTS table of a text or digits term.
func driverTable(op cdr.Op) string {
	if op == cdr.OpDigits {
		return "rec_digits"
	}
	return "rec_text"
}

// plan builds q's plan. With cursor, the position of q.Cursor bounds it.
func (s *DB) plan(ctx context.Context, q cdr.Query, cursor bool) (*plan, error) {
	var terms []*cdr.Filter
	if q.Filter != nil {
		if err := q.Filter.Validate(); err != nil {
			return nil, err
		}
		var flat func(f *cdr.Filter)
		flat = func(f *cdr.Filter) {
			if f.Op == cdr.OpAnd {
				for _, a := range f.Args {
					flat(a)
				}
				return
			}
			terms = append(terms, f)
		}
		flat(q.Filter)
	}
	lo, hi := int64(0), int64(1<<63-1)
	var rest []*cdr.Filter
	match := map[cdr.Op][]string{}
	for _, t := range terms {
		switch t.Op {
		case cdr.OpTime:
			if !t.From.IsZero() {
				lo = max(lo, seqOf(t.From))
			}
			if !t.To.IsZero() {
				hi = min(hi, seqOf(t.To))
			}
		case cdr.OpText, cdr.OpDigits:
			match[t.Op] = append(match[t.Op], ftsMatch(t))
		default:
			rest = append(rest, t)
		}
	}
	if cursor && q.Cursor != "" {
		c, err := cdr.DecodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		at := seqOf(c.Ended)
		var seq int64
		switch err := s.r.QueryRowContext(ctx, "SELECT seq FROM rec WHERE id = ?", c.ID).Scan(&seq); {
		case err == nil:
			at = seq
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
		hi = min(hi, at)
	}
	p := &plan{}
	// The full-text driver: words and digit fragments each combine into one
	// FTS5 query; with both, the rarer one drives.
	var drive, other cdr.Op
	switch {
	case match[cdr.OpText] != nil && match[cdr.OpDigits] != nil:
		nt, err := s.count(ctx, cdr.OpText, match, lo, hi)
		if err != nil {
			return nil, err
		}
		nd, err := s.count(ctx, cdr.OpDigits, match, lo, hi)
		if err != nil {
			return nil, err
		}
		drive, other = cdr.OpText, cdr.OpDigits
		if nd < nt {
			drive, other = other, drive
		}
	case match[cdr.OpText] != nil:
		drive = cdr.OpText
	case match[cdr.OpDigits] != nil:
		drive = cdr.OpDigits
	}
	if drive != "" {
		table := driverTable(drive)
		p.from, p.key = table+" d CROSS JOIN rec r ON r.seq = d.rowid", "d.rowid"
		p.add("d."+table+" MATCH ?", strings.Join(match[drive], " AND "))
	} else {
		// Otherwise the first exact-key filter drives, else the records.
		for i, t := range rest {
			var from string
			var conds []string
			var args []any
			switch t.Op {
			case cdr.OpVar:
				from, conds, args = "rec_var d CROSS JOIN rec r ON r.seq = d.seq", []string{"d.name = ?", "d.value = ?"}, []any{t.Key, t.Value}
			case cdr.OpTag:
				from, conds, args = "rec_tag d CROSS JOIN rec r ON r.seq = d.seq", []string{"d.tag = ?"}, []any{t.Value}
			case cdr.OpAccount:
				from, conds, args = "rec_acc d CROSS JOIN rec r ON r.seq = d.seq", []string{"d.acc = ?"}, []any{t.Value}
			default:
				continue
			}
			p.from, p.key = from, "d.seq"
			p.conds, p.args = conds, args
			rest = slices.Delete(slices.Clone(rest), i, i+1)
			break
		}
		if p.from == "" {
			p.from, p.key = "rec r", "r.seq"
		}
	}
	if lo > 0 {
		p.add(p.key+" >= ?", lo)
	}
	if hi < 1<<63-1 {
		p.add(p.key+" < ?", hi)
	}
	if other != "" {
		table := driverTable(other)
		m := strings.Join(match[other], " AND ")
		n, err := s.count(ctx, other, match, lo, hi)
		if err != nil {
			return nil, err
		}
		if n < sparseLimit {
			p.add("r.seq IN (SELECT rowid FROM "+table+" WHERE "+table+" MATCH ? AND rowid >= ? AND rowid < ?)", m, lo, hi)
		} else {
			p.add("EXISTS (SELECT 1 FROM "+table+" x WHERE x."+table+" MATCH ? AND x.rowid = r.seq)", m)
		}
	}
	for _, t := range rest {
		c, a := sqlOf(t)
		p.add(c, a...)
	}
	if q.Domain != "" {
		p.add("r.domain = ?", q.Domain)
	}
	return p, nil
}

// count counts the matches of op's terms in [lo, hi), up to sparseLimit.
func (s *DB) count(ctx context.Context, op cdr.Op, match map[cdr.Op][]string, lo, hi int64) (int, error) {
	table := driverTable(op)
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM (SELECT rowid FROM %s WHERE %[1]s MATCH ? AND rowid >= ? AND rowid < ? LIMIT %d)", table, sparseLimit)
	if err := s.r.QueryRowContext(ctx, q, strings.Join(match[op], " AND "), lo, hi).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s matches: %w", op, err)
	}
	return n, nil
}

// sqlOf renders a condition on the records r that no index drives.
func sqlOf(f *cdr.Filter) (string, []any) {
	switch f.Op {
	case cdr.OpAnd, cdr.OpOr:
		parts := make([]string, len(f.Args))
		var args []any
		for i, a := range f.Args {
			c, aa := sqlOf(a)
			parts[i], args = c, append(args, aa...)
		}
		return "(" + strings.Join(parts, " "+strings.ToUpper(string(f.Op))+" ") + ")", args
	case cdr.OpNot:
		c, a := sqlOf(f.Args[0])
		return "NOT " + c, a
	case cdr.OpText, cdr.OpDigits:
		table := driverTable(f.Op)
		return "r.seq IN (SELECT rowid FROM " + table + " WHERE " + table + " MATCH ?)", []any{ftsMatch(f)}
	case cdr.OpTime:
		var c []string
		var a []any
		if !f.From.IsZero() {
			c, a = append(c, "r.seq >= ?"), append(a, seqOf(f.From))
		}
		if !f.To.IsZero() {
			c, a = append(c, "r.seq < ?"), append(a, seqOf(f.To))
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
		return "EXISTS (SELECT 1 FROM rec_acc WHERE acc = ? AND seq = r.seq)", []any{f.Value}
	case cdr.OpRecording:
		return "r.has_rec = 1", nil
	case cdr.OpVar:
		return "EXISTS (SELECT 1 FROM rec_var WHERE name = ? AND value = ? AND seq = r.seq)", []any{f.Key, f.Value}
	case cdr.OpTag:
		return "EXISTS (SELECT 1 FROM rec_tag WHERE tag = ? AND seq = r.seq)", []any{f.Value}
	}
	panic("cdr/sqlite: unvalidated filter " + string(f.Op))
}

// Search returns one page of q's results, newest first.
func (s *DB) Search(ctx context.Context, q cdr.Query) (cdr.Page, error) {
	p, err := s.plan(ctx, q, true)
	if err != nil {
		if errors.Is(err, cdr.ErrQuery) {
			return cdr.Page{}, err
		}
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	limit := q.PageLimit()
	// The page's keys are found first, and only then are its documents read.
	rows, err := s.r.QueryContext(ctx, "WITH page AS MATERIALIZED (SELECT "+p.key+" AS seq FROM "+p.from+p.where()+
		" ORDER BY "+p.key+" DESC LIMIT ?) SELECT d.data FROM page p CROSS JOIN rec_doc d ON d.seq = p.seq ORDER BY p.seq DESC",
		append(p.args, limit+1)...)
	if err != nil {
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	defer rows.Close()
	var pg cdr.Page
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return cdr.Page{}, fmt.Errorf("search records: %w", err)
		}
		var r cdr.Record
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return cdr.Page{}, fmt.Errorf("search records: %w", err)
		}
		pg.Records = append(pg.Records, r)
	}
	if err := rows.Err(); err != nil {
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	if len(pg.Records) > limit {
		pg.Records = pg.Records[:limit]
		last := pg.Records[limit-1]
		pg.Next = cdr.Cursor{Ended: last.Ended, ID: last.ID}.Encode()
	}
	return pg, nil
}

// Facets counts q's matches by outcome and by direction.
func (s *DB) Facets(ctx context.Context, q cdr.Query) (cdr.Facets, error) {
	p, err := s.plan(ctx, q, false)
	if err != nil {
		if errors.Is(err, cdr.ErrQuery) {
			return cdr.Facets{}, err
		}
		return cdr.Facets{}, fmt.Errorf("facet records: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT r.outcome, r.direction, count(*) FROM "+p.from+p.where()+" GROUP BY r.outcome, r.direction", p.args...)
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
