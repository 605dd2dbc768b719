// Package postgres is the CDR engine on PostgreSQL (pgx), for installations
// that keep their data in a PostgreSQL server or run several Ringo nodes
// against one record store. It implements the same cdr.Store and
// cdr.JournalStore as the embedded SQLite engine, with the same search
// semantics; the conformance suite in cdr/cdrtest holds both to them.
//
// Schema (migrations in code, applied at Open; the schema_version table
// records how many ran for the component "cdr"): a cdr_records table with a
// column per structured filter and the whole record as JSON, and the
// journal of calls in progress, cdr_open_calls.
//
//   - Text: body is a tsvector with a GIN index over what the SQLite engine
//     indexes as text (names, accounts, address parts, route, variables,
//     tags; numbers are left to digits). Its words are cut and folded in Go
//     (runs of letters and digits, lower case, Latin diacritics removed, ё
//     folded to е) rather than by to_tsvector, so that results depend
//     neither on the server's locale (lower() leaves Cyrillic alone under C)
//     nor on the unaccent extension, and match the SQLite engine's unicode61
//     tokenizer word for word. A term is a phrase of its words with the last
//     one a prefix ('john' <-> 'smi':*).
//   - Number fragments: digits holds the digits-only form of each number of
//     the record, space separated, under a pg_trgm GIN index (gin_trgm_ops);
//     a fragment of three or more digits is LIKE '%1234%', which the index
//     answers by its trigrams anywhere in a number, never by a scan, and
//     which cannot match across two numbers.
//   - Variables and tags: attrs is a jsonb document {"v": {name: value},
//     "t": [tags]} under one GIN index with jsonb_path_ops; var:crm=42 is
//     attrs @> '{"v":{"crm":"42"}}' and tag:vip attrs @> '{"t":["vip"]}'.
//     One column in the record's own row rather than side tables: no joins
//     in a search, nothing to cascade when retention deletes a record, and
//     jsonb_path_ops keeps one small hashed entry per name=value pair.
//   - Times are timestamptz truncated to the millisecond, the cursor's
//     resolution, so that a page boundary never falls inside a millisecond.
//     Records ending in the same millisecond sort by id, bytewise
//     (COLLATE "C"), as cdr.Cursor describes.
//
// PostgreSQL's planner chooses between driving a search from a GIN index and
// walking (ended, id) newest first, by its statistics; the SQLite engine
// makes that choice itself. body and digits keep statistics ten times finer
// than the default, which the planner needs to tell a rare fragment from a
// common one.
//
// A batch of records is one INSERT of unnested arrays, and removes the calls
// it records from the journal in the same statement, hence the same
// transaction.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store"
)

// migrations are applied in order, each in its own transaction. Never edit
// a released migration: append a new one.
var migrations = []string{
	`CREATE EXTENSION IF NOT EXISTS pg_trgm;
	CREATE TABLE cdr_records (
		id         text COLLATE "C" PRIMARY KEY,
		domain     text NOT NULL,
		direction  text NOT NULL,
		outcome    text NOT NULL,
		created    timestamptz NOT NULL,
		ended      timestamptz NOT NULL,
		duration   bigint NOT NULL,        -- total, in milliseconds
		caller_acc text NOT NULL,
		callee_acc text NOT NULL,
		has_rec    boolean NOT NULL,
		body       tsvector NOT NULL,
		digits     text NOT NULL,
		attrs      jsonb NOT NULL,
		data       text NOT NULL           -- the cdr.Record as JSON
	);
	CREATE INDEX cdr_records_ended ON cdr_records (ended, id);
	CREATE INDEX cdr_records_domain ON cdr_records (domain, ended, id);
	CREATE INDEX cdr_records_caller ON cdr_records (caller_acc, ended);
	CREATE INDEX cdr_records_callee ON cdr_records (callee_acc, ended);
	CREATE INDEX cdr_records_body ON cdr_records USING gin (body);
	CREATE INDEX cdr_records_digits ON cdr_records USING gin (digits gin_trgm_ops);
	CREATE INDEX cdr_records_attrs ON cdr_records USING gin (attrs jsonb_path_ops);
	-- Finer statistics for the two full-text columns: with the default, one
	-- sampled row more or less containing a rare digit fragment made the
	-- planner walk the whole time index instead of using the trigram index.
	ALTER TABLE cdr_records ALTER COLUMN digits SET STATISTICS 1000, ALTER COLUMN body SET STATISTICS 1000;
	CREATE TABLE cdr_open_calls (
		id      text COLLATE "C" PRIMARY KEY,
		data    text NOT NULL,
		updated timestamptz NOT NULL
	);`,
	// A block-range index of the end time: records arrive in time order, so
	// a date range is a few block ranges, and the planner intersects it with
	// a word or digit index in a few milliseconds where the B-tree's exact
	// bitmap of a month (850,000 rows at 10 million records) took 65 ms.
	`CREATE INDEX IF NOT EXISTS cdr_records_ended_brin ON cdr_records USING brin (ended);`,
}

// component is this schema's row in schema_version.
const component = "cdr"

// migrateLock serialises the migrations of Ringo processes opening one
// database at once (a pg_advisory_xact_lock key: "ringocdr").
const migrateLock = 0x72696e676f636472

// DB is the PostgreSQL CDR store.
type DB struct {
	pool *pgxpool.Pool
}

var (
	_ cdr.Store        = (*DB)(nil)
	_ cdr.JournalStore = (*DB)(nil)
)

// Open connects to the database dsn names (a libpq keyword/value string or
// a postgres:// URL; passwords may also come from PGPASSWORD or ~/.pgpass)
// and migrates it. The role needs to create tables, and the pg_trgm
// extension unless it is already installed in the database.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("cdr postgres: %w", err)
	}
	// Plan every search with its values: a cached generic plan cannot see
	// how selective a digit fragment or a date range is, and at 10 million
	// records it chose a full sort of a common fragment's matches (0.6 s)
	// over walking the time index (15 ms).
	// JIT compilation costs more than these short queries take.
	for k, v := range map[string]string{"plan_cache_mode": "force_custom_plan", "jit": "off"} {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cdr postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cdr postgres: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	db := &DB{pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cdr postgres: migrate: %w", err)
	}
	return db, nil
}

// Close closes the connections.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// migrate applies the migrations the database has not seen. A database
// newer than the binary is an error rather than a silent downgrade.
func (db *DB) migrate(ctx context.Context) error {
	for {
		done, err := db.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

func (db *DB) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		component text PRIMARY KEY,
		version   integer NOT NULL
	)`); err != nil {
		return false, err
	}
	var version int
	err = tx.QueryRow(ctx, "SELECT version FROM schema_version WHERE component = $1", component).Scan(&version)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, err
	}
	switch {
	case version > len(migrations):
		return false, fmt.Errorf("database schema version %d is newer than this binary (%d)", version, len(migrations))
	case version == len(migrations):
		return true, tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, migrations[version]); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && strings.Contains(pe.Message, "pg_trgm") {
			err = fmt.Errorf("%w (the pg_trgm extension comes with PostgreSQL's contrib modules, e.g. the postgresql-contrib package; a superuser can run CREATE EXTENSION pg_trgm in this database)", err)
		}
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_version (component, version) VALUES ($1, $2)
		ON CONFLICT (component) DO UPDATE SET version = excluded.version`, component, version+1); err != nil {
		return false, err
	}
	return false, tx.Commit(ctx)
}

// ms truncates t to the millisecond, the resolution of stored times and cursors.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// attrs is the jsonb document of a record's variables and tags.
type attrs struct {
	V map[string]string `json:"v,omitempty"`
	T []string          `json:"t,omitempty"`
}

func attrsOf(r *cdr.Record) ([]byte, error) {
	// jsonb refuses NUL (\u0000) in strings; the record's JSON keeps them.
	a := attrs{T: make([]string, len(r.Tags))}
	if len(r.Variables) > 0 {
		a.V = make(map[string]string, len(r.Variables))
		for k, v := range r.Variables {
			a.V[clean(k)] = clean(v)
		}
	}
	for i, t := range r.Tags {
		a.T[i] = clean(t)
	}
	return json.Marshal(a)
}

// putSQL inserts a batch of records from parallel arrays and takes the calls
// it records out of the journal: one statement, so one transaction.
const putSQL = `WITH ins AS (
	INSERT INTO cdr_records (id, domain, direction, outcome, created, ended, duration, caller_acc, callee_acc, has_rec, body, digits, attrs, data)
	SELECT u.id, u.domain, u.direction, u.outcome, u.created, u.ended, u.duration, u.caller_acc, u.callee_acc, u.has_rec,
		u.body::tsvector, u.digits, u.attrs::jsonb, u.data
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::int8[],
		$8::text[], $9::text[], $10::bool[], $11::text[], $12::text[], $13::text[], $14::text[])
		AS u(id, domain, direction, outcome, created, ended, duration, caller_acc, callee_acc, has_rec, body, digits, attrs, data)
	RETURNING id)
DELETE FROM cdr_open_calls WHERE id IN (SELECT id FROM ins)`

// PutBatch stores recs in one transaction.
func (db *DB) PutBatch(ctx context.Context, recs []cdr.Record) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(recs)
	var (
		id, domain, direction, outcome = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		created, ended                 = make([]time.Time, n), make([]time.Time, n)
		duration                       = make([]int64, n)
		callerAcc, calleeAcc           = make([]string, n), make([]string, n)
		hasRec                         = make([]bool, n)
		body, digits, attrsJSON, data  = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	)
	for i := range recs {
		r := &recs[i]
		if err := r.Validate(); err != nil {
			return fmt.Errorf("put record %s: %w", r.ID, err)
		}
		d := r.AppendJSON(make([]byte, 0, 1024))
		a, err := attrsOf(r)
		if err != nil {
			return fmt.Errorf("put record %s: %w", r.ID, err)
		}
		id[i], domain[i], direction[i], outcome[i] = clean(r.ID), clean(r.Domain), string(r.Direction), string(r.Outcome)
		created[i], ended[i], duration[i] = ms(r.Created), ms(r.Ended), r.Durations.Total.Milliseconds()
		callerAcc[i], calleeAcc[i], hasRec[i] = clean(r.Caller.Account), clean(r.Callee.Account), len(r.Recordings) > 0
		body[i], digits[i], attrsJSON[i], data[i] = bodyOf(r), r.Numbers(), string(a), string(d)
	}
	_, err := db.pool.Exec(ctx, putSQL, id, domain, direction, outcome, created, ended, duration, callerAcc, calleeAcc, hasRec, body, digits, attrsJSON, data)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation: the id
			return fmt.Errorf("put %d records: %s: %w", n, pe.Detail, store.ErrConflict)
		}
		return fmt.Errorf("put %d records: %w", n, err)
	}
	return nil
}

// PutOpen journals calls in progress (upserting by id) and removes ids in
// closed from the journal, in one transaction. An id both opened and closed
// ends up closed.
func (db *DB) PutOpen(ctx context.Context, open []cdr.Record, closed []string) error {
	if len(open) == 0 && len(closed) == 0 {
		return nil
	}
	gone := make(map[string]bool, len(closed))
	closedIDs := make([]string, len(closed))
	for i, id := range closed {
		closedIDs[i] = clean(id)
		gone[closedIDs[i]] = true
	}
	// One row per id (the last given wins): an upsert cannot touch a row twice.
	idx := map[string]int{}
	var ids, data []string
	for i := range open {
		id := clean(open[i].ID)
		if gone[id] {
			continue
		}
		d, err := json.Marshal(&open[i])
		if err != nil {
			return fmt.Errorf("journal open call %s: %w", open[i].ID, err)
		}
		if j, ok := idx[id]; ok {
			data[j] = string(d)
			continue
		}
		idx[id] = len(ids)
		ids, data = append(ids, id), append(data, string(d))
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO cdr_open_calls (id, data, updated)
				SELECT u.id, u.data, $3 FROM unnest($1::text[], $2::text[]) AS u(id, data)
				ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated = excluded.updated`, ids, data, ms(time.Now())); err != nil {
				return err
			}
		}
		if len(closedIDs) > 0 {
			if _, err := tx.Exec(ctx, "DELETE FROM cdr_open_calls WHERE id = ANY($1::text[])", closedIDs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal open calls: %w", err)
	}
	return nil
}

// Touch marks every journaled call as alive at at.
func (db *DB) Touch(ctx context.Context, at time.Time) error {
	if _, err := db.pool.Exec(ctx, "UPDATE cdr_open_calls SET updated = $1", ms(at)); err != nil {
		return fmt.Errorf("touch open calls: %w", err)
	}
	return nil
}

// OpenCalls returns the journal: calls that were in progress and have no record.
func (db *DB) OpenCalls(ctx context.Context) ([]cdr.Record, error) {
	rows, err := db.pool.Query(ctx, "SELECT data, updated FROM cdr_open_calls ORDER BY updated, id")
	if err != nil {
		return nil, fmt.Errorf("read open calls: %w", err)
	}
	defer rows.Close()
	var out []cdr.Record
	for rows.Next() {
		var data []byte
		var updated time.Time
		if err := rows.Scan(&data, &updated); err != nil {
			return nil, fmt.Errorf("read open calls: %w", err)
		}
		var r cdr.Record
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("read open calls: %w", err)
		}
		if r.Ended.IsZero() {
			r.Ended = updated.UTC() // last known alive
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read open calls: %w", err)
	}
	return out, nil
}

// Get returns the record with id.
func (db *DB) Get(ctx context.Context, id string) (cdr.Record, error) {
	var data []byte
	err := db.pool.QueryRow(ctx, "SELECT data FROM cdr_records WHERE id = $1", clean(id)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return cdr.Record{}, fmt.Errorf("get record %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return cdr.Record{}, fmt.Errorf("get record %s: %w", id, err)
	}
	var r cdr.Record
	if err := json.Unmarshal(data, &r); err != nil {
		return cdr.Record{}, fmt.Errorf("get record %s: %w", id, err)
	}
	return r, nil
}

// DeleteEndedBefore deletes at most max records that ended before t, oldest
// first, in one statement.
func (db *DB) DeleteEndedBefore(ctx context.Context, t time.Time, max int) (int, error) {
	if max <= 0 {
		return 0, nil
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM cdr_records WHERE id IN (
		SELECT id FROM cdr_records WHERE ended < $1 ORDER BY ended, id LIMIT $2)`, ms(t), max)
	if err != nil {
		return 0, fmt.Errorf("delete records ended before %s: %w", t.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// params collects a statement's arguments as SQL renders them.
type params []any

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// where renders q's filter, domain scope and (with cursor) position as SQL
// over cdr_records r.
func where(q cdr.Query, cursor bool, p *params) (string, error) {
	var conds []string
	if q.Filter != nil {
		if err := q.Filter.Validate(); err != nil {
			return "", err
		}
		c, err := sqlOf(q.Filter, p)
		if err != nil {
			return "", err
		}
		conds = append(conds, c)
	}
	if q.Domain != "" {
		conds = append(conds, "r.domain = "+p.add(clean(q.Domain)))
	}
	if cursor && q.Cursor != "" {
		c, err := cdr.DecodeCursor(q.Cursor)
		if err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("(r.ended, r.id) < (%s, %s)", p.add(c.Ended), p.add(clean(c.ID))))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

func sqlOf(f *cdr.Filter, p *params) (string, error) {
	switch f.Op {
	case cdr.OpAnd, cdr.OpOr:
		parts := make([]string, len(f.Args))
		for i, a := range f.Args {
			c, err := sqlOf(a, p)
			if err != nil {
				return "", err
			}
			parts[i] = c
		}
		return "(" + strings.Join(parts, " "+strings.ToUpper(string(f.Op))+" ") + ")", nil
	case cdr.OpNot:
		c, err := sqlOf(f.Args[0], p)
		return "NOT " + c, err
	case cdr.OpText:
		q, ok := tsquery(f.Value)
		if !ok {
			return "false", nil
		}
		return "r.body @@ " + p.add(q) + "::tsquery", nil
	case cdr.OpDigits:
		return "r.digits LIKE " + p.add("%"+f.Value+"%"), nil
	case cdr.OpTime:
		var c []string
		if !f.From.IsZero() {
			c = append(c, "r.ended >= "+p.add(ms(f.From)))
		}
		if !f.To.IsZero() {
			c = append(c, "r.ended < "+p.add(ms(f.To)))
		}
		return "(" + strings.Join(c, " AND ") + ")", nil
	case cdr.OpDirection:
		return "r.direction = " + p.add(f.Value), nil
	case cdr.OpOutcome:
		return "r.outcome = " + p.add(f.Value), nil
	case cdr.OpDuration:
		var c []string
		if f.MinMs != nil {
			c = append(c, "r.duration >= "+p.add(*f.MinMs))
		}
		if f.MaxMs != nil {
			c = append(c, "r.duration <= "+p.add(*f.MaxMs))
		}
		return "(" + strings.Join(c, " AND ") + ")", nil
	case cdr.OpDomain:
		return "r.domain = " + p.add(clean(f.Value)), nil
	case cdr.OpAccount:
		a := p.add(clean(f.Value))
		return "(r.caller_acc = " + a + " OR r.callee_acc = " + a + ")", nil
	case cdr.OpRecording:
		return "r.has_rec", nil
	case cdr.OpVar:
		b, err := json.Marshal(attrs{V: map[string]string{clean(f.Key): clean(f.Value)}})
		if err != nil {
			return "", err
		}
		return "r.attrs @> " + p.add(string(b)) + "::jsonb", nil
	case cdr.OpTag:
		b, err := json.Marshal(attrs{T: []string{clean(f.Value)}})
		if err != nil {
			return "", err
		}
		return "r.attrs @> " + p.add(string(b)) + "::jsonb", nil
	}
	return "", fmt.Errorf("%w: unknown operator %q", cdr.ErrQuery, f.Op)
}

// Search returns one page of q's results, newest first.
func (db *DB) Search(ctx context.Context, q cdr.Query) (cdr.Page, error) {
	q.Filter = q.Filter.Normalize()
	var p params
	w, err := where(q, true, &p)
	if err != nil {
		return cdr.Page{}, err
	}
	limit := q.PageLimit()
	rows, err := db.pool.Query(ctx, "SELECT r.data FROM cdr_records r"+w+" ORDER BY r.ended DESC, r.id DESC LIMIT "+p.add(limit+1), p...)
	if err != nil {
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	defer rows.Close()
	var page cdr.Page
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return cdr.Page{}, fmt.Errorf("search records: %w", err)
		}
		var r cdr.Record
		if err := json.Unmarshal(data, &r); err != nil {
			return cdr.Page{}, fmt.Errorf("search records: %w", err)
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return cdr.Page{}, fmt.Errorf("search records: %w", err)
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		last := page.Records[limit-1]
		page.Next = cdr.Cursor{Ended: last.Ended, ID: last.ID}.Encode()
	}
	return page, nil
}

// Facets counts q's matches by outcome and by direction.
func (db *DB) Facets(ctx context.Context, q cdr.Query) (cdr.Facets, error) {
	q.Filter = q.Filter.Normalize()
	var p params
	w, err := where(q, false, &p)
	if err != nil {
		return cdr.Facets{}, err
	}
	rows, err := db.pool.Query(ctx, "SELECT r.outcome, r.direction, count(*) FROM cdr_records r"+w+" GROUP BY r.outcome, r.direction", p...)
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

// SizeOnDisk is the space the records and the journal take, with their
// indexes and TOAST.
func (db *DB) SizeOnDisk(ctx context.Context) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT pg_total_relation_size('cdr_records') + pg_total_relation_size('cdr_open_calls')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("records size: %w", err)
	}
	return n, nil
}

// Analyze refreshes the planner's statistics, as autovacuum does after
// enough writes; a bulk load should call it before searching.
func (db *DB) Analyze(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, "ANALYZE cdr_records"); err != nil {
		return fmt.Errorf("analyze records: %w", err)
	}
	return nil
}
