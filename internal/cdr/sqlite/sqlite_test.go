package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func open(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// fixture is a small set of records with known contents.
func fixture() []cdr.Record {
	rec := func(id string, minutesAgo int, dir cdr.Direction, out cdr.Outcome, caller, callee cdr.Party, talk time.Duration) cdr.Record {
		end := t0.Add(-time.Duration(minutesAgo) * time.Minute)
		r := cdr.Record{ID: id, CallID: id + "@host", Domain: "example.com", Direction: dir, Outcome: out,
			Caller: caller, Callee: callee, Dialled: callee.Number, Created: end.Add(-talk - 10*time.Second), Ended: end}
		if out == cdr.Answered {
			r.Answered = end.Add(-talk)
		}
		r.FillDurations()
		return r
	}
	ivanov := cdr.Party{Number: "+79161234567", Name: "Иванов Пётр", Address: "sip:+79161234567@trunk.example.net"}
	smith := cdr.Party{Number: "+442071234999", Name: "John Smith"}
	alice := cdr.Party{Account: "alice", Number: "101", Name: "Alice Martin", Address: "sip:alice@example.com"}
	bob := cdr.Party{Account: "bob", Number: "102", Name: "Bob Ivanov", Address: "sip:bob@example.com"}
	recs := []cdr.Record{
		rec("r1", 10, cdr.Inbound, cdr.Answered, ivanov, alice, 2*time.Minute),
		rec("r2", 20, cdr.Inbound, cdr.NoAnswer, ivanov, bob, 0),
		rec("r3", 30, cdr.Outbound, cdr.Answered, alice, smith, 20*time.Second),
		rec("r4", 40, cdr.Internal, cdr.Busy, alice, bob, 0),
		rec("r5", 60*24*3, cdr.Inbound, cdr.Answered, smith, bob, 45*time.Second),
		rec("r6", 50, cdr.Outbound, cdr.Failed, bob, cdr.Party{Number: "8 (495) 555-12-12"}, 0),
	}
	recs[0].Variables = map[string]string{"crm": "42", "lang": "ru"}
	recs[0].Recordings = []cdr.Recording{{File: "r1.wav", Started: t0}}
	recs[0].Tags = []string{"vip"}
	recs[1].Variables = map[string]string{"crm": "43"}
	recs[2].Tags = []string{"test"}
	recs[4].Domain = "other.org"
	recs[5].Legs = []cdr.Leg{{ID: "r6-b", Parent: "r6-a", Party: cdr.Party{Number: "+74955551212", Name: "Gateway Moscow"}}}
	return recs
}

func ids(p cdr.Page) []string {
	var s []string
	for _, r := range p.Records {
		s = append(s, r.ID)
	}
	return s
}

// bothPlans runs a test with the planner's choice and with every full-text
// term forced to the time-index walk.
func bothPlans(t *testing.T, test func(t *testing.T)) {
	for _, limit := range []int{2000, 0} {
		t.Run(fmt.Sprintf("sparseLimit=%d", limit), func(t *testing.T) {
			defer func(old int) { sparseLimit = old }(sparseLimit)
			sparseLimit = limit
			test(t)
		})
	}
}

func TestSearch(t *testing.T) { bothPlans(t, testSearch) }

func TestPaginationStable(t *testing.T) { bothPlans(t, testPaginationStable) }

func testSearch(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	defer db.Close()
	if err := db.PutBatch(ctx, fixture()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q      string
		domain string
		want   []string
	}{
		{"", "", []string{"r1", "r2", "r3", "r4", "r6", "r5"}},
		{"", "example.com", []string{"r1", "r2", "r3", "r4", "r6"}},
		{"ivanov", "", []string{"r2", "r4", "r6", "r5"}}, // Latin: Bob Ivanov
		{"иванов", "", []string{"r1", "r2"}},
		{"ИВАН", "", []string{"r1", "r2"}},
		{"пётр", "", []string{"r1", "r2"}},
		{"петр", "", []string{"r1", "r2"}}, // diacritics removed: ё = е
		{"smi", "", []string{"r3", "r5"}},
		{`"john smith"`, "", []string{"r3", "r5"}},
		{`"smith john"`, "", nil},
		{"1234", "", []string{"r1", "r2", "r3", "r5"}},
		{"7916", "", []string{"r1", "r2"}},
		{"9999", "", nil},
		{"4567", "", []string{"r1", "r2"}},
		{"5551212", "", []string{"r6"}}, // leg number and dialled "8 (495) 555-12-12"
		{"84955551212", "", []string{"r6"}},
		{"gateway", "", []string{"r6"}},
		{"trunk.example.net", "", []string{"r1", "r2"}},
		{"1234 outcome:answered", "", []string{"r1", "r3", "r5"}},
		{"1234 -outcome:answered", "", []string{"r2"}},
		{"1234 outcome:noanswer direction:inbound", "", []string{"r2"}},
		{"outcome:missed", "", []string{"r2", "r4"}},
		{"direction:outbound OR tag:vip", "", []string{"r1", "r3", "r6"}},
		{"-tag:test direction:outbound", "", []string{"r6"}},
		{"dur>60", "", []string{"r1"}},
		{"dur>=30 dur<=60", "", []string{"r3", "r5"}},
		{"from:2026-11-23", "", []string{"r1", "r2", "r3", "r4", "r6"}},
		{"to:2026-11-22", "", []string{"r5"}},
		{"from:2026-11-23T11:25:00Z to:2026-11-23T11:50:30Z", "", []string{"r1", "r2", "r3"}},
		{"var:crm=42", "", []string{"r1"}},
		{"var:crm=4", "", nil},
		{"lang ru", "", []string{"r1"}}, // variables are text too
		{"ПЁТР", "", []string{"r1", "r2"}},
		{"vip", "", []string{"r1"}},
		{"has:recording", "", []string{"r1"}},
		{"-has:recording", "", []string{"r2", "r3", "r4", "r6", "r5"}},
		{"account:alice", "", []string{"r1", "r3", "r4"}},
		{"account:bob -outcome:busy", "", []string{"r2", "r6", "r5"}},
		{"domain:other.org", "", []string{"r5"}},
		{"domain:other.org", "example.com", nil}, // the scope wins
		{"smith", "example.com", []string{"r3"}},
		{"(alice OR smith) -(direction:outbound outcome:answered)", "", []string{"r1", "r4", "r5"}},
	} {
		f, err := cdr.ParseQuery(tc.q)
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		p, err := db.Search(ctx, cdr.Query{Filter: f, Domain: tc.domain})
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		if got := ids(p); !slices.Equal(got, tc.want) {
			t.Errorf("search %q (domain %q) = %v, want %v", tc.q, tc.domain, got, tc.want)
		}
		if p.Next != "" {
			t.Errorf("search %q: next page on a short result", tc.q)
		}
	}

	// Round trip of a whole record.
	got, err := db.Get(ctx, "r6")
	if err != nil || got.Legs[0].Party.Name != "Gateway Moscow" || !got.Ended.Equal(fixture()[5].Ended) {
		t.Errorf("Get r6 = %+v, %v", got, err)
	}
	if _, err := db.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get nope: %v", err)
	}
	// A duplicate id is a conflict, and the batch is all or nothing.
	extra := fixture()[1]
	extra.ID = "r7"
	if err := db.PutBatch(ctx, []cdr.Record{extra, fixture()[0]}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := db.Get(ctx, "r7"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("r7 written by a failed batch: %v", err)
	}
	// Invalid filters and cursors are query errors.
	if _, err := db.Search(ctx, cdr.Query{Filter: &cdr.Filter{Op: "xor"}}); !errors.Is(err, cdr.ErrQuery) {
		t.Errorf("bad filter: %v", err)
	}
	if _, err := db.Search(ctx, cdr.Query{Cursor: "%%%"}); !errors.Is(err, cdr.ErrQuery) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestFacets(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	defer db.Close()
	if err := db.PutBatch(ctx, fixture()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q, domain string
		want      cdr.Facets
	}{
		{"", "", cdr.Facets{Total: 6,
			Outcome:   map[cdr.Outcome]int64{cdr.Answered: 3, cdr.NoAnswer: 1, cdr.Busy: 1, cdr.Failed: 1},
			Direction: map[cdr.Direction]int64{cdr.Inbound: 3, cdr.Outbound: 2, cdr.Internal: 1}}},
		{"1234", "example.com", cdr.Facets{Total: 3,
			Outcome:   map[cdr.Outcome]int64{cdr.Answered: 2, cdr.NoAnswer: 1},
			Direction: map[cdr.Direction]int64{cdr.Inbound: 2, cdr.Outbound: 1}}},
		{"9999", "", cdr.Facets{Outcome: map[cdr.Outcome]int64{}, Direction: map[cdr.Direction]int64{}}},
	} {
		f, err := cdr.ParseQuery(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Facets(ctx, cdr.Query{Filter: f, Domain: tc.domain, Cursor: "ignored"})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("facets %q = %v, want %v", tc.q, got, tc.want)
		}
	}
}

func synth(i int, end time.Time) cdr.Record {
	r := cdr.Record{ID: fmt.Sprintf("p%05d", i), Domain: "example.com", Direction: cdr.Inbound, Outcome: cdr.Answered,
		Caller: cdr.Party{Number: fmt.Sprintf("+7916%07d", i), Name: "Load Test"}, Callee: cdr.Party{Account: "alice"},
		Created: end.Add(-time.Minute), Answered: end.Add(-30 * time.Second), Ended: end}
	r.FillDurations()
	return r
}

// TestPaginationStable pages through a query while new records (newer than,
// tied with and older than the pages already read) are written: every record
// present at the start is seen exactly once, and none twice.
func testPaginationStable(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	defer db.Close()
	var initial []cdr.Record
	for i := range 500 {
		// Groups of 5 share an end time: ties are broken by id.
		initial = append(initial, synth(i, t0.Add(-time.Duration(i/5)*time.Second)))
	}
	if err := db.PutBatch(ctx, initial); err != nil {
		t.Fatal(err)
	}
	f, _ := cdr.ParseQuery("load 7916")
	seen := map[string]int{}
	q := cdr.Query{Filter: f, Limit: 37}
	next := 500
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		p, err := db.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var prev *cdr.Record
		for i := range p.Records {
			r := &p.Records[i]
			seen[r.ID]++
			if prev != nil && (r.Ended.After(prev.Ended) || (r.Ended.Equal(prev.Ended) && r.ID >= prev.ID)) {
				t.Fatalf("order: %s after %s", r.ID, prev.ID)
			}
			prev = r
		}
		var add []cdr.Record
		for _, end := range []time.Time{t0.Add(time.Hour), p.Records[len(p.Records)-1].Ended, t0.Add(-time.Hour)} {
			add = append(add, synth(next, end))
			next++
		}
		if err := db.PutBatch(ctx, add); err != nil {
			t.Fatal(err)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	for _, r := range initial {
		if seen[r.ID] != 1 {
			t.Errorf("%s seen %d times", r.ID, seen[r.ID])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", id, n)
		}
	}
}

// TestWriterDurable writes from many goroutines through one Writer; every
// Write that returned nil is in the database after reopening it, in far
// fewer transactions than records, and each was published once.
func TestWriterDurable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	counting := &countingStore{Store: db}
	w := cdr.NewWriter(counting, cdr.WriterOptions{MaxBatch: 64, MaxDelay: 2 * time.Millisecond})
	sub := w.Events.Subscribe(5000)
	slow := w.Events.Subscribe(1) // never read: must not block anyone
	const writers, each = 16, 100
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- w.Write(ctx, synth(g*each+i, t0.Add(-time.Duration(i)*time.Second)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A duplicate fails alone; the rest of its batch is written.
	var dupWG sync.WaitGroup
	results := make([]error, 3)
	for i, r := range []cdr.Record{synth(5, t0), synth(90001, t0), synth(90002, t0)} {
		dupWG.Add(1)
		go func() { defer dupWG.Done(); results[i] = w.Write(ctx, r) }()
	}
	dupWG.Wait()
	if !errors.Is(results[0], store.ErrConflict) || results[1] != nil || results[2] != nil {
		t.Errorf("duplicate in a batch: %v", results)
	}
	if err := w.Write(ctx, cdr.Record{ID: "bad"}); !errors.Is(err, cdr.ErrInvalid) {
		t.Errorf("invalid record: %v", err)
	}
	w.Close()
	if err := w.Write(ctx, synth(99999, t0)); !errors.Is(err, cdr.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	db.Close()

	total := writers*each + 2
	if n := counting.batches(); n >= writers*each/2 {
		t.Errorf("%d transactions for %d records: not batched", n, total)
	}
	t.Logf("%d records in %d transactions", total, counting.batches())

	db = open(t, dir)
	defer db.Close()
	facets, err := db.Facets(ctx, cdr.Query{})
	if err != nil || facets.Total != int64(total) {
		t.Fatalf("after reopen: %d records, %v; want %d", facets.Total, err, total)
	}
	got := map[string]bool{}
	for len(sub.C) > 0 {
		r := <-sub.C
		if got[r.ID] {
			t.Errorf("event for %s twice", r.ID)
		}
		got[r.ID] = true
	}
	if len(got) != total || sub.Dropped() != 0 {
		t.Errorf("%d events (%d dropped), want %d", len(got), sub.Dropped(), total)
	}
	if slow.Dropped() != int64(total-1) {
		t.Errorf("slow subscriber dropped %d, want %d", slow.Dropped(), total-1)
	}
	sub.Close()
	if _, ok := <-sub.C; ok {
		t.Error("closed subscription still open")
	}
}

type countingStore struct {
	cdr.Store
	mu sync.Mutex
	n  int
}

func (c *countingStore) PutBatch(ctx context.Context, recs []cdr.Record) error {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Store.PutBatch(ctx, recs)
}

func (c *countingStore) batches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
