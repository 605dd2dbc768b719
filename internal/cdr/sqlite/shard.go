package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
		duration   INTEGER NOT NULL,
		has_rec    INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE rec_doc (
		seq  INTEGER PRIMARY KEY,
		data TEXT NOT NULL
	);
	CREATE TABLE rec_words (
		folded TEXT NOT NULL,
		word   TEXT NOT NULL,
		PRIMARY KEY (folded, word)
	) WITHOUT ROWID;
	CREATE VIRTUAL TABLE rec_text USING fts5(body, keys, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
	CREATE VIRTUAL TABLE rec_digits USING fts5(digits, content='', contentless_delete=1, tokenize='trigram', detail='full');
	-- Merge 16 segments of a level at a time rather than 4: half the
	-- rewriting of the index as it grows, and searches were not slower.
	INSERT INTO rec_text (rec_text, rank) VALUES ('automerge', 16);
	INSERT INTO rec_digits (rec_digits, rank) VALUES ('automerge', 16);`,
}

// A seq is ms<<seqBits | slot<<codeBits | outcome<<2 | direction: the end
// time in milliseconds, a slot for records that end in the same
// millisecond, and the outcome and direction, which facets and those
// filters then read from the key alone, without a lookup per match.
const (
	seqBits  = 12
	codeBits = 5 // outcome (3 bits, 8 outcomes) and direction (2 bits)
	slots    = 1 << (seqBits - codeBits)
)

func seqOf(t time.Time) int64 { return max(t.UnixMilli(), 0) << seqBits }

// codeOf is the outcome and direction part of r's seq.
func codeOf(r *cdr.Record) int64 {
	return int64(slices.Index(cdr.Outcomes, r.Outcome))<<2 | int64(slices.Index(cdr.Directions, r.Direction))
}

func slotOf(seq int64) int64 { return seq >> codeBits & (slots - 1) }

// outcomeSQL and directionSQL test a seq column's code.
func outcomeSQL(key string) string   { return "((" + key + " >> 2) & 7) = ?" }
func directionSQL(key string) string { return "(" + key + " & 3) = ?" }

// shard is one database file of the store, with its own writer.
type shard struct {
	i    int
	path string
	w, r *sql.DB

	// known caches words already in rec_words, so that a batch inserts
	// only new ones; it is cleared when it grows past knownMax.
	mu    sync.Mutex
	known map[string]struct{}
}

const knownMax = 1 << 18

// openShard opens (creating if needed) the database file at path and
// migrates it.
func openShard(ctx context.Context, i int, path string) (*shard, error) {
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
	s := &shard{i: i, path: path, w: w, known: map[string]struct{}{}}
	if err := schema.Migrate(ctx, w, migrations); err != nil {
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

func (s *shard) close() error { return errors.Join(s.r.Close(), s.w.Close()) }

// put stores ps in one transaction. closing, if not nil, are ids to remove
// from the journal of open calls in the same transaction. inserted, if not
// nil, is told once how the inserts went, before the commit; the commit
// then waits for beforeCommit, if not nil, and does not happen if it fails.
//
// tx, if not nil, is a transaction already begun on s's writer: a batch
// over several shards begins its transactions in shard order before any
// writes, so that two batches can never each hold one shard's writer while
// waiting for the other's.
func (s *shard) put(ctx context.Context, tx *sql.Tx, ps []prepared, closing []string, inserted func(error), beforeCommit func() error) error {
	added, tx, err := s.stage(ctx, tx, ps, closing)
	if inserted != nil {
		inserted(err)
	}
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if beforeCommit != nil {
		if err := beforeCommit(); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put %d records: commit: %w", len(ps), err)
	}
	// Only committed words are known: a rolled-back batch's words would
	// otherwise never be written and prefix searches would miss them.
	s.mu.Lock()
	if len(s.known)+len(added) > knownMax {
		clear(s.known)
	}
	for _, w := range added {
		s.known[w] = struct{}{}
	}
	s.mu.Unlock()
	return nil
}

// prepared is a record with what its rows need, computed before the
// transaction (and on several cores for a large batch).
type prepared struct {
	r          *cdr.Record
	data       []byte
	text, keys string
	words      []string
	digits     string
	err        error
}

func prepare(recs []cdr.Record) []prepared {
	out := make([]prepared, len(recs))
	one := func(i int) {
		r := &recs[i]
		out[i].r = r
		if out[i].err = r.Validate(); out[i].err != nil {
			return
		}
		out[i].data = r.AppendJSON(make([]byte, 0, 1024))
		out[i].text, out[i].words = textOf(r)
		out[i].keys, out[i].digits = keysOf(r), r.Numbers()
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

// insert writes ps's rows in tx, giving each record its seq, and returns the
// words it added to the vocabulary.
func (s *shard) insert(ctx context.Context, tx *sql.Tx, ps []prepared) (added []string, err error) {
	var last int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), -1) FROM rec").Scan(&last); err != nil {
		return nil, fmt.Errorf("put %d records: %w", len(ps), err)
	}
	var older *sql.Stmt
	defer func() {
		if older != nil {
			older.Close()
		}
	}()
	ins := map[string]*inserter{
		"rec": newInserter(tx, "INSERT INTO rec (seq, id, duration, has_rec) VALUES ", 4),
		"doc": newInserter(tx, "INSERT INTO rec_doc (seq, data) VALUES ", 2),
	}
	defer func() {
		for _, in := range ins {
			in.close()
		}
	}()
	// Each table's rows go in chunk by chunk; rec goes first so that a
	// duplicate id fails before anything else is written for it.
	order := []string{"rec", "doc"}
	seqs := make([]int64, len(ps))
	for i := range ps {
		p := &ps[i]
		r := p.r
		// The record's slot: the next one in its millisecond (counted from
		// the newest record, or looked up for an older one); a full
		// millisecond spills into the next.
		ms := seqOf(r.Ended) >> seqBits
		var slot int64
		switch {
		case ms > last>>seqBits || last < 0:
		case ms == last>>seqBits:
			slot = slotOf(last) + 1
		default:
			if older == nil {
				var err error
				if older, err = tx.PrepareContext(ctx, "SELECT coalesce(max(seq), -1) FROM rec WHERE seq BETWEEN ? AND ?"); err != nil {
					return nil, fmt.Errorf("put record %s: %w", r.ID, err)
				}
			}
			// Rows of this batch not yet flushed must be visible to the lookup.
			for _, t := range order {
				if err := ins[t].flush(ctx); err != nil {
					return nil, putErr(ctx, tx, ps, err)
				}
			}
			for {
				var m int64
				if err := older.QueryRowContext(ctx, ms<<seqBits, ms<<seqBits|(1<<seqBits-1)).Scan(&m); err != nil {
					return nil, fmt.Errorf("put record %s: %w", r.ID, err)
				}
				if m < 0 {
					slot = 0
					break
				}
				if slot = slotOf(m) + 1; slot < slots {
					break
				}
				ms++
			}
		}
		for slot >= slots {
			ms, slot = ms+1, 0
		}
		seq := ms<<seqBits | slot<<codeBits | codeOf(r)
		last = max(last, seq)
		seqs[i] = seq
		if err := ins["rec"].add(ctx, seq, r.ID, r.Durations.Total.Milliseconds(), len(r.Recordings) > 0); err != nil {
			return nil, putErr(ctx, tx, ps, err)
		}
		if err := ins["doc"].add(ctx, seq, p.data); err != nil {
			return nil, putErr(ctx, tx, ps, err)
		}
	}
	for _, t := range order {
		if err := ins[t].flush(ctx); err != nil {
			return nil, putErr(ctx, tx, ps, err)
		}
	}
	// New words go into the vocabulary that expands word prefixes.
	words := newInserter(tx, "INSERT OR IGNORE INTO rec_words (folded, word) VALUES ", 2)
	defer words.close()
	s.mu.Lock()
	if s.known == nil {
		s.known = map[string]struct{}{}
	}
	for i := range ps {
		for _, w := range ps[i].words {
			if _, ok := s.known[w]; !ok && !slices.Contains(added, w) {
				added = append(added, w)
			}
		}
	}
	s.mu.Unlock()
	for _, w := range added {
		if err := words.add(ctx, foldWord(w), w); err != nil {
			return nil, fmt.Errorf("put %d records: vocabulary: %w", len(ps), err)
		}
	}
	if err := words.flush(ctx); err != nil {
		return nil, fmt.Errorf("put %d records: vocabulary: %w", len(ps), err)
	}
	// The full-text rows go last and one per statement. A statement that
	// writes several rows opens a statement savepoint, and FTS5 writes its
	// pending terms out as a new segment at every savepoint of a transaction
	// it is part of: with multi-row inserts, or any such statement after the
	// first FTS write, every chunk became a tiny segment to merge later.
	for _, f := range []struct {
		q    string
		args func(p *prepared) []any
	}{
		{"INSERT INTO rec_text (rowid, body, keys) VALUES (?, ?, ?)", func(p *prepared) []any {
			if p.text == "" && p.keys == "" {
				return nil
			}
			return []any{p.text, p.keys}
		}},
		{"INSERT INTO rec_digits (rowid, digits) VALUES (?, ?)", func(p *prepared) []any {
			if p.digits == "" {
				return nil
			}
			return []any{p.digits}
		}},
	} {
		st, err := tx.PrepareContext(ctx, f.q)
		if err != nil {
			return nil, fmt.Errorf("put %d records: %w", len(ps), err)
		}
		for i := range ps {
			if a := f.args(&ps[i]); a != nil {
				if _, err := st.ExecContext(ctx, append([]any{seqs[i]}, a...)...); err != nil {
					st.Close()
					return nil, fmt.Errorf("put record %s: %w", ps[i].r.ID, err)
				}
			}
		}
		st.Close()
	}
	return added, nil
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

// putOpen journals calls in progress (upserting by id) and removes ids in
// closed from the journal, in one transaction.
func (s *shard) putOpen(ctx context.Context, open []cdr.Record, closed []string) error {
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

// openCalls returns the journal: calls that were in progress and have no record.
func (s *shard) openCalls(ctx context.Context) ([]cdr.Record, error) {
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

// get returns the record with id.
func (s *shard) get(ctx context.Context, id string) (cdr.Record, error) {
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

// oldest returns the seqs of the (at most max) oldest records below seq
// bound.
func (s *shard) oldest(ctx context.Context, bound int64, max int) ([]int64, error) {
	rows, err := s.w.QueryContext(ctx, "SELECT seq FROM rec WHERE seq < ? ORDER BY seq LIMIT ?", bound, max)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var q int64
		if err := rows.Scan(&q); err != nil {
			return nil, err
		}
		seqs = append(seqs, q)
	}
	return seqs, rows.Err()
}

// deleteThrough deletes the records with seq ≤ cut, in one transaction, and
// returns how many. Keys are time-ordered, so they are one seq range at the
// start of every table: the writer holds the lock only for the rows it
// removes.
func (s *shard) deleteThrough(ctx context.Context, cut int64) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT seq FROM rec WHERE seq <= ?", cut)
	if err != nil {
		return 0, err
	}
	var seqs []int64
	for rows.Next() {
		var q int64
		if err := rows.Scan(&q); err != nil {
			rows.Close()
			return 0, err
		}
		seqs = append(seqs, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, q := range []string{"rec", "rec_doc"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+q+" WHERE seq <= ?", cut); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	// The full-text tables are contentless: their rows go one by one, by
	// rowid (contentless_delete).
	for _, table := range []string{"rec_text", "rec_digits"} {
		st, err := tx.PrepareContext(ctx, "DELETE FROM "+table+" WHERE rowid = ?")
		if err != nil {
			return 0, fmt.Errorf("%s: %w", table, err)
		}
		for _, q := range seqs {
			if _, err := st.ExecContext(ctx, q); err != nil {
				st.Close()
				return 0, fmt.Errorf("%s: %w", table, err)
			}
		}
		st.Close()
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(seqs), nil
}

// ftsPhrase quotes s as an FTS5 string.
func ftsPhrase(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// maxExpand is the most vocabulary words a word prefix expands to; a shorter
// prefix with more words is searched as a prefix.
const maxExpand = 48

// expand returns the FTS5 query of each word-prefix term in f. A prefix
// becomes the OR of the vocabulary's words that begin with it, matched as
// whole words: FTS5 reads such an OR lazily, newest first, and stops at the
// page's end, where a prefix query first merges the postings of every word
// it matches (5 ms for "smith" in a million records, growing with them;
// the OR takes 0.2 ms). A term of several words, or a prefix of more than
// maxExpand words, stays a prefix query.
func (s *shard) expand(ctx context.Context, f *cdr.Filter, out map[*cdr.Filter]string) error {
	if f == nil {
		return nil
	}
	for _, a := range f.Args {
		if err := s.expand(ctx, a, out); err != nil {
			return err
		}
	}
	if f.Op != cdr.OpText {
		return nil
	}
	prefix := "body : " + ftsPhrase(fold.Replace(f.Value)) + "*"
	out[f] = prefix
	if t := tokens(f.Value); len(t) != 1 || t[0] != strings.ToLower(strings.TrimSpace(f.Value)) {
		return nil
	}
	lo := foldWord(f.Value)
	rows, err := s.r.QueryContext(ctx, "SELECT word FROM rec_words WHERE folded >= ? AND folded < ? LIMIT ?", lo, lo+"\U0010FFFF", maxExpand+1)
	if err != nil {
		return fmt.Errorf("expand %q: %w", f.Value, err)
	}
	defer rows.Close()
	var words []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return fmt.Errorf("expand %q: %w", f.Value, err)
		}
		words = append(words, ftsPhrase(w))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("expand %q: %w", f.Value, err)
	}
	if len(words) > 0 && len(words) <= maxExpand {
		out[f] = "body : (" + strings.Join(words, " OR ") + ")"
	}
	return nil
}

// ftsMatch is the FTS5 query of a term that a full-text table answers:
// digits in rec_digits, words and exact keys in their columns of rec_text.
// Word prefixes come expanded in words.
func ftsMatch(f *cdr.Filter, words map[*cdr.Filter]string) string {
	switch f.Op {
	case cdr.OpDigits:
		return ftsPhrase(f.Value)
	case cdr.OpAccount:
		return "keys : " + keyToken(keyAccount, f.Value)
	case cdr.OpVar:
		return "keys : " + keyToken(keyVar, varKey(f.Key, f.Value))
	case cdr.OpTag:
		return "keys : " + keyToken(keyTag, f.Value)
	case cdr.OpDomain:
		return "keys : " + keyToken(keyDomain, f.Value)
	}
	if m, ok := words[f]; ok {
		return m
	}
	return "body : " + ftsPhrase(fold.Replace(f.Value)) + "*"
}

// ftsTable is the full-text table that answers op, "" for none.
func ftsTable(op cdr.Op) string {
	switch op {
	case cdr.OpDigits:
		return "rec_digits"
	case cdr.OpText, cdr.OpAccount, cdr.OpVar, cdr.OpTag, cdr.OpDomain:
		return "rec_text"
	}
	return ""
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

// plan builds q's plan over records with seq < before (q.Cursor is not
// read here: the DB turns it into before for each shard).
func (s *shard) plan(ctx context.Context, q cdr.Query, before int64) (*plan, error) {
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
	words := map[*cdr.Filter]string{}
	if err := s.expand(ctx, q.Filter, words); err != nil {
		return nil, err
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
		case cdr.OpText, cdr.OpAccount, cdr.OpVar, cdr.OpTag, cdr.OpDomain:
			match[cdr.OpText] = append(match[cdr.OpText], ftsMatch(t, words))
		case cdr.OpDigits:
			match[cdr.OpDigits] = append(match[cdr.OpDigits], ftsMatch(t, words))
		default:
			rest = append(rest, t)
		}
	}
	// A domain scope is one more exact key for the full-text index to match.
	if q.Domain != "" {
		match[cdr.OpText] = append(match[cdr.OpText], "keys : "+keyToken(keyDomain, q.Domain))
	}
	hi = min(hi, before)
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
	needRec := false
	if drive != "" {
		table := ftsTable(drive)
		p.from, p.key = table+" d", "d.rowid"
		p.add("d."+table+" MATCH ?", strings.Join(match[drive], " AND "))
	} else {
		p.from, p.key = "rec r", "r.seq"
	}
	if lo > 0 {
		p.add(p.key+" >= ?", lo)
	}
	if hi < 1<<63-1 {
		p.add(p.key+" < ?", hi)
	}
	if other != "" {
		table := ftsTable(other)
		m := strings.Join(match[other], " AND ")
		n, err := s.count(ctx, other, match, lo, hi)
		if err != nil {
			return nil, err
		}
		if n < sparseLimit {
			// "+": a test on each row the driver yields, not a second driver.
			p.add("+"+p.key+" IN (SELECT rowid FROM "+table+" WHERE "+table+" MATCH ? AND rowid >= ? AND rowid < ?)", m, lo, hi)
		} else {
			p.add("EXISTS (SELECT 1 FROM "+table+" x WHERE x."+table+" MATCH ? AND x.rowid = "+p.key+")", m)
		}
	}
	for _, t := range rest {
		c, a, rec := sqlOf(t, words, p.key)
		p.add(c, a...)
		needRec = needRec || rec
	}
	// The records table joins only for conditions on its columns.
	if drive != "" && needRec {
		p.from += " CROSS JOIN rec r ON r.seq = d.rowid"
	}
	return p, nil
}

// count counts the matches of op's terms in [lo, hi), up to sparseLimit.
func (s *shard) count(ctx context.Context, op cdr.Op, match map[cdr.Op][]string, lo, hi int64) (int, error) {
	table := ftsTable(op)
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM (SELECT rowid FROM %s WHERE %[1]s MATCH ? AND rowid >= ? AND rowid < ? LIMIT %d)", table, sparseLimit)
	if err := s.r.QueryRowContext(ctx, q, strings.Join(match[op], " AND "), lo, hi).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s matches: %w", op, err)
	}
	return n, nil
}

// sqlOf renders a condition that no index drives, on the seq column key or
// on the records r; rec reports whether it reads r.
func sqlOf(f *cdr.Filter, words map[*cdr.Filter]string, key string) (cond string, args []any, rec bool) {
	switch f.Op {
	case cdr.OpAnd, cdr.OpOr:
		parts := make([]string, len(f.Args))
		for i, a := range f.Args {
			c, aa, r := sqlOf(a, words, key)
			parts[i], args, rec = c, append(args, aa...), rec || r
		}
		return "(" + strings.Join(parts, " "+strings.ToUpper(string(f.Op))+" ") + ")", args, rec
	case cdr.OpNot:
		c, a, r := sqlOf(f.Args[0], words, key)
		return "NOT " + c, a, r
	case cdr.OpText, cdr.OpDigits, cdr.OpAccount, cdr.OpVar, cdr.OpTag, cdr.OpDomain:
		table := ftsTable(f.Op)
		return "+" + key + " IN (SELECT rowid FROM " + table + " WHERE " + table + " MATCH ?)", []any{ftsMatch(f, words)}, false
	case cdr.OpTime:
		var c []string
		if !f.From.IsZero() {
			c, args = append(c, key+" >= ?"), append(args, seqOf(f.From))
		}
		if !f.To.IsZero() {
			c, args = append(c, key+" < ?"), append(args, seqOf(f.To))
		}
		return "(" + strings.Join(c, " AND ") + ")", args, false
	case cdr.OpDirection:
		return directionSQL(key), []any{slices.Index(cdr.Directions, cdr.Direction(f.Value))}, false
	case cdr.OpOutcome:
		return outcomeSQL(key), []any{slices.Index(cdr.Outcomes, cdr.Outcome(f.Value))}, false
	case cdr.OpDuration:
		var c []string
		if f.MinMs != nil {
			c, args = append(c, "r.duration >= ?"), append(args, *f.MinMs)
		}
		if f.MaxMs != nil {
			c, args = append(c, "r.duration <= ?"), append(args, *f.MaxMs)
		}
		return "(" + strings.Join(c, " AND ") + ")", args, true
	case cdr.OpRecording:
		return "r.has_rec = 1", nil, true
	}
	panic("cdr/sqlite: unvalidated filter " + string(f.Op))
}

// page returns up to limit records of q's results with seq < before,
// newest first, with their seqs.
func (s *shard) page(ctx context.Context, q cdr.Query, before int64, limit int) ([]hit, error) {
	p, err := s.plan(ctx, q, before)
	if err != nil {
		return nil, err
	}
	// The page's keys are found first, and only then are its documents read.
	rows, err := s.r.QueryContext(ctx, "WITH page AS MATERIALIZED (SELECT "+p.key+" AS seq FROM "+p.from+p.where()+
		" ORDER BY "+p.key+" DESC LIMIT ?) SELECT p.seq, d.data FROM page p CROSS JOIN rec_doc d ON d.seq = p.seq ORDER BY p.seq DESC",
		append(p.args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var h hit
		var data string
		if err := rows.Scan(&h.seq, &data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &h.r); err != nil {
			return nil, fmt.Errorf("record %d: %w", h.seq, err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// hit is one search result of a shard.
type hit struct {
	seq   int64
	shard int
	r     cdr.Record
}

// seqOfID returns the seq of the record with id, or ok=false.
func (s *shard) seqOfID(ctx context.Context, id string) (seq int64, ok bool, err error) {
	switch err := s.r.QueryRowContext(ctx, "SELECT seq FROM rec WHERE id = ?", id).Scan(&seq); {
	case err == nil:
		return seq, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	default:
		return 0, false, err
	}
}

// facets counts q's matches by outcome and by direction into f.
func (s *shard) facets(ctx context.Context, q cdr.Query, f *cdr.Facets) error {
	p, err := s.plan(ctx, q, 1<<63-1)
	if err != nil {
		return err
	}
	// One pass of sums over the outcome and direction in each match's key:
	// no lookup of the record, and no GROUP BY (which sorts every match).
	cols := make([]string, 0, len(cdr.Outcomes)+len(cdr.Directions)+1)
	args := make([]any, 0, cap(cols)+len(p.args))
	cols = append(cols, "count(*)")
	for i := range cdr.Outcomes {
		cols, args = append(cols, "coalesce(sum("+outcomeSQL(p.key)+"), 0)"), append(args, i)
	}
	for i := range cdr.Directions {
		cols, args = append(cols, "coalesce(sum("+directionSQL(p.key)+"), 0)"), append(args, i)
	}
	n := make([]int64, len(cols))
	dst := make([]any, len(cols))
	for i := range n {
		dst[i] = &n[i]
	}
	if err := s.r.QueryRowContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+p.from+p.where(), append(args, p.args...)...).Scan(dst...); err != nil {
		return err
	}
	f.Total += n[0]
	for i, o := range cdr.Outcomes {
		if v := n[1+i]; v > 0 {
			f.Outcome[o] += v
		}
	}
	for i, d := range cdr.Directions {
		if v := n[1+len(cdr.Outcomes)+i]; v > 0 {
			f.Direction[d] += v
		}
	}
	return nil
}

// stage begins a transaction and writes ps and the journal's closing ids in
// it, leaving the commit to the caller.
func (s *shard) stage(ctx context.Context, tx *sql.Tx, ps []prepared, closing []string) ([]string, *sql.Tx, error) {
	if tx == nil {
		var err error
		if tx, err = s.w.BeginTx(ctx, nil); err != nil {
			return nil, nil, fmt.Errorf("put %d records: %w", len(ps), err)
		}
	}
	if len(closing) > 0 {
		idj, _ := json.Marshal(closing)
		if _, err := tx.ExecContext(ctx, "DELETE FROM open_calls WHERE id IN (SELECT value FROM json_each(?))", string(idj)); err != nil {
			tx.Rollback()
			return nil, nil, fmt.Errorf("put %d records: close journal: %w", len(ps), err)
		}
	}
	var added []string
	if len(ps) > 0 {
		var err error
		if added, err = s.insert(ctx, tx, ps); err != nil {
			tx.Rollback()
			return nil, nil, err
		}
	}
	return added, tx, nil
}

// seqOfIDw is seqOfID on the writer, which sees the writer's own commits
// at once.
func (s *shard) seqOfIDw(ctx context.Context, id string) (seq int64, ok bool, err error) {
	switch err := s.w.QueryRowContext(ctx, "SELECT seq FROM rec WHERE id = ?", id).Scan(&seq); {
	case err == nil:
		return seq, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	default:
		return 0, false, err
	}
}

// legacyChunk reads up to 1,000 records of the first schema after seq last.
func (s *shard) legacyChunk(ctx context.Context, last int64) ([]cdr.Record, int64, error) {
	rows, err := s.w.QueryContext(ctx, "SELECT seq, data FROM records WHERE seq > ? ORDER BY seq LIMIT 1000", last)
	if err != nil {
		return nil, last, fmt.Errorf("move records: %w", err)
	}
	defer rows.Close()
	var recs []cdr.Record
	for rows.Next() {
		var data string
		var r cdr.Record
		if err := rows.Scan(&last, &data); err != nil {
			return nil, last, fmt.Errorf("move records: %w", err)
		}
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return nil, last, fmt.Errorf("move record %d: %w", last, err)
		}
		recs = append(recs, r)
	}
	return recs, last, rows.Err()
}

// closeJournal removes ids from the journal of open calls.
func (s *shard) closeJournal(ctx context.Context, ids []string) error {
	idj, _ := json.Marshal(ids)
	if _, err := s.w.ExecContext(ctx, "DELETE FROM open_calls WHERE id IN (SELECT value FROM json_each(?))", string(idj)); err != nil {
		return fmt.Errorf("put %d records: close journal: %w", len(ids), err)
	}
	return nil
}
