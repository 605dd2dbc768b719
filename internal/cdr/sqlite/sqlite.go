// Package sqlite is the embedded CDR engine on modernc.org/sqlite.
//
// Records live in their own database files (cdr.db, cdr-1.db, … next to
// ringo.db) so that the call-end write load never queues behind the
// directory's writer. Each file is a shard holding the records whose id
// hashes to it, with its own writer: SQLite writes one transaction at a time
// per file, so a batch is split between the shards and written on several
// cores at once, and a search runs on every shard at once and merges their
// pages. Each file runs in WAL mode with synchronous=FULL: a committed batch
// survives a power cut, and the Writer's group commit makes that one fsync
// per batch and shard rather than per call. A small pool of readers per
// shard runs beside its writer.
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
//   - rec: the id (unique: Get, and a duplicate is a conflict) and the
//     columns the duration and has:recording filters test, narrow so that a
//     filter scanning many records touches few pages. Outcome and direction
//     are in the seq itself (see below).
//   - rec_doc: the whole record with its legs as JSON, read only for the
//     records of the page being returned.
//   - rec_text, FTS5 with tokenizer unicode61 and diacritics removed, with
//     two columns. body: names, accounts, the parts of addresses not
//     already covered by a number or an account, the route, variables and
//     tags; words match by prefix and case-fold in Latin and Cyrillic (ё is
//     folded to е on both sides); numbers are left to rec_digits (a query
//     made of digits is a digit fragment, never a word). keys: exact-match
//     tokens for the account:, var:, tag: and domain: filters and the
//     domain scope of a domain administrator, so that they intersect with
//     words inside FTS5 and are written as a log-structured index rather
//     than as B-trees with a random page write per record.
//   - rec_words: the vocabulary of body, to expand a typed prefix into
//     whole words (see expand).
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
// A search is driven by one index: the full-text terms (words and exact
// keys in rec_text, digit fragments in rec_digits; with both, the rarer of
// the two, found by a bounded count), else the records themselves. The
// driver is walked newest first within the time range and every other
// condition is tested on the rows it yields, so a page costs in proportion
// to how far back its results lie, not to how many records match.
// Facets count every match through the same driver. The measured figures are
// in docs/benchmarks.md, "Call records search".
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// DB is the SQLite CDR store.
type DB struct {
	shards []*shard
}

var _ cdr.Store = (*DB)(nil)

// Options tune a store.
type Options struct {
	// Shards is the number of database files a new store is made of (2
	// when 0). An existing store keeps the number it was made with.
	Shards int
}

// Open opens (creating if needed) the store in dir.
func Open(ctx context.Context, dir string) (*DB, error) { return OpenWith(ctx, dir, Options{}) }

// OpenWith opens (creating if needed) the store in dir with opts.
func OpenWith(ctx context.Context, dir string, opts Options) (*DB, error) {
	n := opts.Shards
	if n <= 0 {
		n = 2
	}
	if _, err := os.Stat(filepath.Join(dir, "cdr.db")); err == nil {
		// An existing store: its shards are the files there are.
		n = 1
		for {
			if _, err := os.Stat(shardPath(dir, n)); err != nil {
				break
			}
			n++
		}
	}
	db := &DB{}
	for i := range n {
		s, err := openShard(ctx, i, shardPath(dir, i))
		if err != nil {
			db.Close()
			return nil, err
		}
		db.shards = append(db.shards, s)
	}
	if err := db.moveLegacy(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return db, nil
}

func shardPath(dir string, i int) string {
	if i == 0 {
		return filepath.Join(dir, "cdr.db")
	}
	return filepath.Join(dir, "cdr-"+strconv.Itoa(i)+".db")
}

// Close closes the store.
func (db *DB) Close() error {
	var errs []error
	for _, s := range db.shards {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// shardOf is the index of the shard that holds the record with id.
func (db *DB) shardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(len(db.shards)))
}

// each runs f on every shard at once and joins their errors.
func (db *DB) each(f func(s *shard) error) error {
	if len(db.shards) == 1 {
		return f(db.shards[0])
	}
	errs := make([]error, len(db.shards))
	var wg sync.WaitGroup
	for i, s := range db.shards {
		wg.Go(func() { errs[i] = f(s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PutBatch stores recs: each shard's part in one transaction, the shards at
// once. The journal of open calls lives in the first shard.
func (db *DB) PutBatch(ctx context.Context, recs []cdr.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ps := prepare(recs)
	parts := make([][]prepared, len(db.shards))
	ids := make([]string, 0, len(recs))
	for _, p := range ps {
		if p.err != nil {
			return fmt.Errorf("put record %s: %w", p.r.ID, p.err)
		}
		i := db.shardOf(p.r.ID)
		parts[i] = append(parts[i], p)
		ids = append(ids, p.r.ID)
	}
	// A batch is all or nothing: every shard writes its part, and none
	// commits until all have written theirs without error; then they commit
	// at once. Only then do the calls leave the journal of open calls: a
	// crash in between leaves a call both recorded and journaled, which
	// Recover resolves, rather than neither.
	n := len(db.shards)
	errs := make([]error, n)
	insErrs := make([]error, n)
	var inserted, done sync.WaitGroup
	inserted.Add(n)
	allInserted := func() error {
		inserted.Wait()
		for _, err := range insErrs {
			if err != nil {
				return errAborted
			}
		}
		return nil
	}
	txs := make([]*sql.Tx, n)
	for i, s := range db.shards {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			for _, tx := range txs[:i] {
				tx.Rollback()
			}
			return fmt.Errorf("put %d records: %w", len(recs), err)
		}
		txs[i] = tx
	}
	for i, s := range db.shards {
		done.Go(func() {
			errs[i] = s.put(ctx, txs[i], parts[i], nil, func(err error) { insErrs[i] = err; inserted.Done() }, allInserted)
		})
	}
	done.Wait()
	// The error to report is the one that aborted the batch.
	for _, err := range errs {
		if err != nil && !errors.Is(err, errAborted) {
			return err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return db.shards[0].closeJournal(ctx, ids)
}

// errAborted is a shard's error when another shard's part of the batch failed.
var errAborted = errors.New("aborted: another part of the batch failed")

// Get returns the record with id.
func (db *DB) Get(ctx context.Context, id string) (cdr.Record, error) {
	return db.shards[db.shardOf(id)].get(ctx, id)
}

// PutOpen journals calls in progress (upserting by id) and removes ids in
// closed from the journal, in one transaction.
func (db *DB) PutOpen(ctx context.Context, open []cdr.Record, closed []string) error {
	return db.shards[0].putOpen(ctx, open, closed)
}

// Touch marks every journaled call as alive at at.
func (db *DB) Touch(ctx context.Context, at time.Time) error {
	if _, err := db.shards[0].w.ExecContext(ctx, "UPDATE open_calls SET updated = ?", at.UnixMilli()); err != nil {
		return fmt.Errorf("touch open calls: %w", err)
	}
	return nil
}

// OpenCalls returns the journal: calls that were in progress and have no record.
func (db *DB) OpenCalls(ctx context.Context) ([]cdr.Record, error) {
	return db.shards[0].openCalls(ctx)
}

// DeleteEndedBefore deletes at most max records that ended before t, oldest
// first: the oldest max of all shards, each shard's share in one
// transaction.
func (db *DB) DeleteEndedBefore(ctx context.Context, t time.Time, max int) (int, error) {
	if max <= 0 {
		return 0, nil
	}
	type old struct{ seq, shard int64 }
	var all []old
	for i, s := range db.shards {
		seqs, err := s.oldest(ctx, seqOf(t), max)
		if err != nil {
			return 0, fmt.Errorf("delete records: %w", err)
		}
		for _, q := range seqs {
			all = append(all, old{q, int64(i)})
		}
	}
	slices.SortFunc(all, func(a, b old) int {
		if a.seq != b.seq {
			return cmp.Compare(a.seq, b.seq)
		}
		return cmp.Compare(a.shard, b.shard) // the reverse of (seq, shard) newest first
	})
	cut := make([]int64, len(db.shards))
	for i := range cut {
		cut[i] = -1
	}
	for _, o := range all[:min(max, len(all))] {
		cut[o.shard] = o.seq
	}
	total := 0
	for i, s := range db.shards {
		if cut[i] < 0 {
			continue
		}
		n, err := s.deleteThrough(ctx, cut[i])
		total += n
		if err != nil {
			return total, fmt.Errorf("delete records: %w", err)
		}
	}
	return total, nil
}

// Search returns one page of q's results, newest first: each shard's page
// at once, merged by (seq, shard).
func (db *DB) Search(ctx context.Context, q cdr.Query) (cdr.Page, error) {
	q.Filter = q.Filter.Normalize()
	if q.Filter != nil {
		if err := q.Filter.Validate(); err != nil {
			return cdr.Page{}, err
		}
	}
	limit := q.PageLimit()
	// A cursor is the last record shown: its shard and seq bound every
	// shard's page (records after it in (seq, shard) order).
	before := make([]int64, len(db.shards))
	for i := range before {
		before[i] = 1<<63 - 1
	}
	if q.Cursor != "" {
		c, err := cdr.DecodeCursor(q.Cursor)
		if err != nil {
			return cdr.Page{}, err
		}
		at := db.shardOf(c.ID)
		seq, ok, err := db.shards[at].seqOfID(ctx, c.ID)
		if err != nil {
			return cdr.Page{}, fmt.Errorf("search records: %w", err)
		}
		for i := range before {
			switch {
			case !ok: // the record is gone (retention): resume at its time
				before[i] = seqOf(c.Ended)
			case i < at:
				before[i] = seq + 1
			default:
				before[i] = seq
			}
		}
	}
	pages := make([][]hit, len(db.shards))
	if err := db.each(func(s *shard) error {
		h, err := s.page(ctx, q, before[s.i], limit+1)
		for j := range h {
			h[j].shard = s.i
		}
		pages[s.i] = h
		return err
	}); err != nil {
		if errors.Is(err, cdr.ErrQuery) {
			return cdr.Page{}, err
		}
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	all := slices.Concat(pages...)
	slices.SortFunc(all, func(a, b hit) int {
		if a.seq != b.seq {
			if a.seq > b.seq {
				return -1
			}
			return 1
		}
		return b.shard - a.shard
	})
	var pg cdr.Page
	for i := 0; i < len(all) && i < limit; i++ {
		pg.Records = append(pg.Records, all[i].r)
	}
	if len(all) > limit {
		last := pg.Records[limit-1]
		pg.Next = cdr.Cursor{Ended: last.Ended, ID: last.ID}.Encode()
	}
	return pg, nil
}

// Facets counts q's matches by outcome and by direction.
func (db *DB) Facets(ctx context.Context, q cdr.Query) (cdr.Facets, error) {
	q.Filter = q.Filter.Normalize()
	if q.Filter != nil {
		if err := q.Filter.Validate(); err != nil {
			return cdr.Facets{}, err
		}
	}
	per := make([]cdr.Facets, len(db.shards))
	if err := db.each(func(s *shard) error {
		per[s.i] = cdr.Facets{Outcome: map[cdr.Outcome]int64{}, Direction: map[cdr.Direction]int64{}}
		return s.facets(ctx, q, &per[s.i])
	}); err != nil {
		if errors.Is(err, cdr.ErrQuery) {
			return cdr.Facets{}, err
		}
		return cdr.Facets{}, fmt.Errorf("facet records: %w", err)
	}
	f := cdr.Facets{Outcome: map[cdr.Outcome]int64{}, Direction: map[cdr.Direction]int64{}}
	for _, p := range per {
		f.Total += p.Total
		for k, v := range p.Outcome {
			f.Outcome[k] += v
		}
		for k, v := range p.Direction {
			f.Direction[k] += v
		}
	}
	return f, nil
}

// moveLegacy moves records of the first schema (tables in the first shard)
// into the time-keyed tables of their shards, then drops the old tables.
// A move cut short is resumed at the next start: records already moved are
// skipped.
func (db *DB) moveLegacy(ctx context.Context) error {
	first := db.shards[0]
	var n int
	if err := first.w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'").Scan(&n); err != nil {
		return fmt.Errorf("move records: %w", err)
	}
	if n == 0 {
		return nil
	}
	last := int64(-1)
	for {
		recs, next, err := first.legacyChunk(ctx, last)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			break
		}
		last = next
		var fresh []cdr.Record
		for _, r := range recs {
			if _, ok, err := db.shards[db.shardOf(r.ID)].seqOfIDw(ctx, r.ID); err != nil {
				return fmt.Errorf("move records: %w", err)
			} else if !ok {
				fresh = append(fresh, r)
			}
		}
		ps := prepare(fresh)
		parts := make([][]prepared, len(db.shards))
		for _, p := range ps {
			if p.err != nil {
				return fmt.Errorf("move record %s: %w", p.r.ID, p.err)
			}
			i := db.shardOf(p.r.ID)
			parts[i] = append(parts[i], p)
		}
		for i, s := range db.shards {
			if len(parts[i]) > 0 {
				if err := s.put(ctx, nil, parts[i], nil, nil, nil); err != nil {
					return fmt.Errorf("move records: %w", err)
				}
			}
		}
	}
	if _, err := first.w.ExecContext(ctx, `DROP TABLE vars; DROP TABLE tags; DROP TABLE cdr_text; DROP TABLE cdr_digits; DROP TABLE records;`); err != nil {
		return fmt.Errorf("move records: drop old tables: %w", err)
	}
	return nil
}

// SizeOnDisk is the size of the shards' files with their write-ahead logs.
func (db *DB) SizeOnDisk(ctx context.Context) (int64, error) {
	var n int64
	for _, s := range db.shards {
		for _, p := range []string{s.path, s.path + "-wal"} {
			if fi, err := os.Stat(p); err == nil {
				n += fi.Size()
			} else if !errors.Is(err, os.ErrNotExist) {
				return 0, err
			}
		}
	}
	return n, nil
}
