package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/cdr/cdrtest"
	"github.com/ringo-pbx/ringo/internal/cdr/postgres/pgtest"
)

// pg is the test server: started by the first test that needs a database,
// stopped when the package's tests end.
var pg = pgtest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	closeBench()
	if err := pg.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "stop postgres:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// TestConformance runs the engine-independent suite, each test in a
// database of its own.
func TestConformance(t *testing.T) {
	cdrtest.Run(t, cdrtest.Harness{
		New: func(t *testing.T) cdrtest.Opener {
			dsn := pg.DB(t)
			return func(ctx context.Context) (cdrtest.Engine, error) { return Open(ctx, dsn) }
		},
		Parallel: true,
	})
}

func openDB(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrations: Open migrates once, however many processes open the
// database at the same time, and refuses a schema newer than it knows.
func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pg.DB(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(ctx, dsn)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Open: %v", err)
	}
	db := openDB(t, dsn)
	var v int
	if err := db.pool.QueryRow(ctx, "SELECT version FROM schema_version WHERE component = 'cdr'").Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	if _, err := db.pool.Exec(ctx, "UPDATE schema_version SET version = version + 1 WHERE component = 'cdr'"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// TestOpenErrors: a bad DSN or an unreachable server fails Open with the reason.
func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "postgres://%zz"); err == nil {
		t.Error("Open of a malformed DSN succeeded")
	}
	// A port nothing listens on: connect_timeout bounds the attempt.
	if _, err := Open(ctx, "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=5"); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("Open of an unreachable server: %v", err)
	}
}

// TestIndexesUsed: each index answers the searches it exists for, that is
// the SQL a filter renders matches the index's expression and operator
// class. Table scans are disabled for the check: on a table this small the
// planner would rightly prefer them.
func TestIndexesUsed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t, pg.DB(t))
	var recs []cdr.Record
	for i := range 1000 {
		r := cdrtest.Synth(i, cdrtest.T0)
		r.Domain = fmt.Sprintf("d%d.example", i%50)
		r.Caller.Name = fmt.Sprintf("Person%d Family%d", i, i%300)
		if i%100 == 0 {
			r.Variables, r.Tags = map[string]string{"crm": fmt.Sprint(i)}, []string{fmt.Sprintf("t%d", i)}
		}
		recs = append(recs, r)
	}
	if err := db.PutBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, "ANALYZE cdr_records"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ q, index string }{
		{"1234567", "cdr_records_digits"},
		{"person1234", "cdr_records_body"},
		{"var:crm=1200", "cdr_records_attrs"},
		{"tag:t1200", "cdr_records_attrs"},
		{"domain:d7.example", "cdr_records_domain"},
		{"", "cdr_records_ended"},
	} {
		f, err := cdr.ParseQuery(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var p params
		w, err := where(cdr.Query{Filter: f}, true, &p)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN SELECT r.data FROM cdr_records r"+w+" ORDER BY r.ended DESC, r.id DESC LIMIT 51", p...)
			if err != nil {
				return err
			}
			lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, tc.index) {
			t.Errorf("%q does not use %s:\n%s", tc.q, tc.index, plan)
		}
	}
}

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"John SMITH", []string{"john", "smith"}},
		{"Пётр ЁЛКИН", []string{"петр", "елкин"}},
		{"José Müller-Lüdenscheidt", []string{"jose", "muller", "ludenscheidt"}},
		{"sip:+79161234567@trunk.example.net", []string{"sip", "79161234567", "trunk", "example", "net"}},
		{"NORMAL_CLEARING", []string{"normal", "clearing"}},
		{"O'Brien", []string{"o", "brien"}},
		{"Йошкар-Ола", []string{"йошкар", "ола"}}, // й is a letter of its own, not и with a mark
		{" \t!?", nil},
		{"a\x00b\xffc", []string{"a", "b", "c"}},
		{strings.Repeat("x", maxLexeme+1) + " y", []string{"y"}},
	} {
		if got := words(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTSQuery(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"smi", "'smi':*", true},
		{"John Smi", "'john' <-> 'smi':*", true},
		{"trunk.example.net", "'trunk' <-> 'example' <-> 'net':*", true},
		{"'--'", "", false},
	} {
		got, ok := tsquery(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("tsquery(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestBodyBounded: a record with more words than a tsvector holds is
// stored whole; its first words are searchable as text, the words past the
// bound are not, and its variables still match exactly.
func TestBodyBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t, pg.DB(t))
	r := cdrtest.Fixture()[0]
	r.Variables = map[string]string{}
	for i := range 3000 {
		var b strings.Builder
		for j := range 60 {
			fmt.Fprintf(&b, "w%dx%d ", i, j)
		}
		r.Variables[fmt.Sprintf("v%04d", i)] = b.String()
	}
	if err := db.PutBatch(ctx, []cdr.Record{r}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    *cdr.Filter
		want int
	}{
		{&cdr.Filter{Op: cdr.OpText, Value: "иванов"}, 1},
		{&cdr.Filter{Op: cdr.OpText, Value: "w0x0"}, 1},
		{&cdr.Filter{Op: cdr.OpText, Value: "w2999x59"}, 0},
		{&cdr.Filter{Op: cdr.OpVar, Key: "v2999", Value: r.Variables["v2999"]}, 1},
	} {
		p, err := db.Search(ctx, cdr.Query{Filter: tc.f})
		if err != nil || len(p.Records) != tc.want {
			t.Errorf("search %s %s: %v, %v; want %d", tc.f.Op, tc.f.Value, cdrtest.IDs(p), err, tc.want)
		}
	}
	got, err := db.Get(ctx, r.ID)
	if err != nil || got.Variables["v2999"] != r.Variables["v2999"] {
		t.Errorf("Get: %v", err)
	}
}

// TestBodyOf: the text of a record is its words once each, without numbers
// and without what an address repeats.
func TestBodyOf(t *testing.T) {
	r := cdr.Record{Domain: "example.com",
		Caller:    cdr.Party{Number: "+79161234567", Name: "Иванов Пётр", Address: "sip:+79161234567@trunk.example.net"},
		Callee:    cdr.Party{Account: "alice", Number: "101", Name: "Alice O'Neil", Address: "sip:alice@example.com"},
		Route:     cdr.Route{Kind: "account", Target: "alice"},
		Variables: map[string]string{"lang": "ru", "crm": "42"},
		Tags:      []string{"vip"},
	}
	want := `'иванов':1 'петр':2 'trunk':3 'example':4 'net':5 'alice':6 'o':7 'neil':8 'crm':9 'lang':10 'ru':11 'vip':12`
	if got := bodyOf(&r); got != want {
		t.Errorf("bodyOf =\n%s\nwant\n%s", got, want)
	}
}
