package cdrtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store"
)

// testRetention: DeleteEndedBefore deletes only records that ended before
// the cut, oldest first, at most max at a time, and searches, facets and
// every index forget them.
func testRetention(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	cut := T0.Add(-24 * time.Hour)
	mk := func(id string, end time.Time, caller cdr.Party) cdr.Record {
		r := Rec(id, 0, cdr.Inbound, cdr.Answered, caller, cdr.Party{Account: "desk", Number: "200"}, time.Minute)
		d := end.Sub(r.Ended)
		r.Created, r.Answered, r.Ended = r.Created.Add(d), r.Answered.Add(d), end
		return r
	}
	old1 := mk("old1", cut.Add(-5*24*time.Hour), cdr.Party{Number: "+35312345001", Name: "Zebulon Quarry"})
	old1.Variables, old1.Tags = map[string]string{"case": "z1"}, []string{"archived"}
	old2 := mk("old2", cut.Add(-4*24*time.Hour), cdr.Party{Name: "Numberless Nora"}) // no number of its own
	old3 := mk("old3", cut.Add(-time.Millisecond), cdr.Party{Number: "+35312345003", Name: "Yolanda Quarry"})
	edge := mk("edge", cut, cdr.Party{Number: "+35312345004", Name: "Xavier Quarry"}) // not before the cut
	recent := mk("recent", T0, cdr.Party{Number: "+35312345005", Name: "Walter Quarry"})
	put(t, e, recent, old3, edge, old1, old2) // not in time order

	del := func(max int, want int) {
		t.Helper()
		n, err := e.DeleteEndedBefore(ctx, cut, max)
		if err != nil || n != want {
			t.Fatalf("DeleteEndedBefore(cut, %d) = %d, %v; want %d", max, n, err, want)
		}
	}
	present := func(want ...string) {
		t.Helper()
		for _, id := range []string{"old1", "old2", "old3", "edge", "recent"} {
			_, err := e.Get(ctx, id)
			switch {
			case slices.Contains(want, id) && err != nil:
				t.Errorf("%s: %v, want it kept", id, err)
			case !slices.Contains(want, id) && !errors.Is(err, store.ErrNotFound):
				t.Errorf("%s: %v, want it deleted", id, err)
			}
		}
		f, err := e.Facets(ctx, cdr.Query{})
		if err != nil || f.Total != int64(len(want)) || f.Outcome[cdr.Answered] != int64(len(want)) || f.Direction[cdr.Inbound] != int64(len(want)) {
			t.Errorf("facets: %+v, %v; want %d records", f, err, len(want))
		}
	}
	del(0, 0)
	del(-1, 0)
	present("old1", "old2", "old3", "edge", "recent")
	del(2, 2) // the two oldest
	present("old3", "edge", "recent")
	del(10, 1)
	present("edge", "recent")
	del(10, 0)
	present("edge", "recent")
	check(t, e, []searchCase{
		{q: "", want: []string{"recent", "edge"}},
		{q: "quarry", want: []string{"recent", "edge"}},
		{q: "zebulon", want: nil},
		{q: "nora", want: nil},
		{q: "yolanda", want: nil},
		{q: "353123450", want: []string{"recent", "edge"}},
		{q: "35312345001", want: nil},
		{q: "var:case=z1", want: nil},
		{q: "tag:archived", want: nil},
		{q: "archived", want: nil},
		{q: "account:desk", want: []string{"recent", "edge"}},
		{q: "-zebulon", want: []string{"recent", "edge"}},
	})
	// Everything else goes too when the cut moves.
	n, err := e.DeleteEndedBefore(ctx, T0.Add(time.Hour), 1000)
	if err != nil || n != 2 {
		t.Fatalf("DeleteEndedBefore(all) = %d, %v; want 2", n, err)
	}
	present()

	// Many records, deleted a bounded number at a time, oldest first.
	var many []cdr.Record
	for i := range 250 {
		many = append(many, Synth(i, T0.Add(-time.Duration(250-i)*time.Minute)))
	}
	put(t, e, many...)
	for _, step := range []struct{ max, want, left int }{{100, 100, 150}, {100, 100, 50}, {100, 40, 10}, {100, 0, 10}} {
		n, err := e.DeleteEndedBefore(ctx, T0.Add(-10*time.Minute), step.max)
		if err != nil || n != step.want {
			t.Fatalf("DeleteEndedBefore(max %d) = %d, %v; want %d", step.max, n, err, step.want)
		}
		p, err := e.Search(ctx, cdr.Query{Limit: cdr.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) != step.left || p.Records[len(p.Records)-1].ID != fmt.Sprintf("p%05d", 250-step.left) {
			t.Fatalf("after deleting %d: %d left, oldest %s; want %d, oldest p%05d", step.want, len(p.Records), p.Records[len(p.Records)-1].ID, step.left, 250-step.left)
		}
	}
}

// testRetentionReusedKeys: a record stored after another was deleted, and
// ending in the same millisecond, must not inherit any of the deleted
// record's words, numbers, variables or tags (an engine keyed by time could
// give it the deleted record's key).
func testRetentionReusedKeys(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	end := T0.Add(-48 * time.Hour)
	gone := Rec("gone", 0, cdr.Inbound, cdr.Answered, cdr.Party{Account: "ghost", Number: "+35398765432", Name: "Zebulon Quarry", Address: "sip:zq@far.example.net"},
		cdr.Party{Account: "desk"}, time.Minute)
	gone.Variables, gone.Tags = map[string]string{"case": "z1"}, []string{"archived"}
	newer := Rec("newer", 0, cdr.Inbound, cdr.Answered, cdr.Party{Name: "Someone Else"}, cdr.Party{Account: "desk"}, time.Minute)
	for _, r := range []*cdr.Record{&gone, &newer} {
		d := end.Sub(r.Ended)
		r.Created, r.Answered, r.Ended = r.Created.Add(d), r.Answered.Add(d), end
	}
	newer.Ended = newer.Ended.Add(time.Hour)
	put(t, e, gone, newer)
	if n, err := e.DeleteEndedBefore(ctx, end.Add(time.Millisecond), 10); err != nil || n != 1 {
		t.Fatalf("DeleteEndedBefore = %d, %v; want 1", n, err)
	}
	heir := gone
	heir.ID = "heir"
	heir.Caller = cdr.Party{Name: "Plain Heir"}
	heir.Variables, heir.Tags = nil, nil
	put(t, e, heir)
	check(t, e, []searchCase{
		{q: "zebulon", want: nil},
		{q: "far.example.net", want: nil},
		{q: "98765", want: nil},
		{q: "var:case=z1", want: nil},
		{q: "tag:archived", want: nil},
		{q: "account:ghost", want: nil},
		{q: "heir", want: []string{"heir"}},
		{q: "account:desk", want: []string{"newer", "heir"}},
	})
}

// testJournal: PutOpen upserts and removes, a record takes its call out of
// the journal, and an open call with no end time gets its last update's.
func testJournal(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	call := func(id, dialled string) cdr.Record {
		return cdr.Record{ID: id, Domain: "pbx.test", Direction: cdr.Internal, Caller: cdr.Party{Account: "1001"}, Dialled: dialled,
			Created: T0, Outcome: cdr.Interrupted}
	}
	journal := func() map[string]cdr.Record {
		t.Helper()
		calls, err := e.OpenCalls(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]cdr.Record{}
		for _, c := range calls {
			m[c.ID] = c
		}
		return m
	}
	if j := journal(); len(j) != 0 {
		t.Fatalf("new journal: %v", j)
	}
	before := time.Now().Add(-time.Second)
	if err := e.PutOpen(ctx, []cdr.Record{call("a", "201"), call("b", "202"), call("c", "203")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.PutOpen(ctx, []cdr.Record{call("a", "301")}, []string{"b", "never-opened"}); err != nil {
		t.Fatal(err)
	}
	// Opened and closed in one flush: closed.
	if err := e.PutOpen(ctx, []cdr.Record{call("d", "204")}, []string{"d"}); err != nil {
		t.Fatal(err)
	}
	if err := e.PutOpen(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	j := journal()
	if len(j) != 2 || j["a"].Dialled != "301" || j["c"].Dialled != "203" {
		t.Fatalf("journal = %+v, want a (updated) and c", j)
	}
	if end := j["a"].Ended; end.Before(before) || end.After(time.Now().Add(time.Second)) {
		t.Errorf("open call's end = %s, want about now (its last update)", end)
	}
	// Touch marks the open calls alive: their end is the last touch.
	touched := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := e.Touch(ctx, touched); err != nil {
		t.Fatal(err)
	}
	if j := journal(); !j["a"].Ended.Equal(touched) || !j["c"].Ended.Equal(touched) {
		t.Errorf("after Touch(%s): a ends %s, c ends %s", touched, j["a"].Ended, j["c"].Ended)
	}
	ended := call("c", "203")
	ended.Outcome, ended.Ended = cdr.Answered, T0.Add(time.Minute)
	ended.FillDurations()
	put(t, e, ended)
	if j := journal(); len(j) != 1 || j["a"].ID != "a" {
		t.Fatalf("journal after c's record = %+v, want a only", j)
	}
	// A failed batch leaves the journal alone.
	dup := call("a", "301")
	dup.ID, dup.Ended, dup.Outcome = "c", T0, cdr.Answered
	again := call("a", "301")
	again.Ended, again.Outcome = T0, cdr.Answered
	if err := e.PutBatch(ctx, []cdr.Record{again, dup}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("batch with a duplicate: %v", err)
	}
	if j := journal(); len(j) != 1 {
		t.Fatalf("journal after a failed batch = %+v, want a", j)
	}
}

// testJournalRecovery: calls journaled as open and never recorded (Ringo
// died) become interrupted records at the next start; a call that was
// recorded leaves the journal.
func testJournalRecovery(t *testing.T, h Harness) {
	op := h.New(t)
	ctx := context.Background()
	e := open(t, op)
	j := cdr.NewJournal(e, slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Now().Add(-time.Minute).UTC()
	mk := func(id string) cdr.Record {
		return cdr.Record{ID: id, Domain: "pbx.test", Direction: cdr.Internal, Caller: cdr.Party{Account: "1001"},
			Callee: cdr.Party{Account: "1002"}, Dialled: "202", Created: start, Outcome: cdr.Interrupted}
	}
	j.Opened(mk("ringing"))
	answered := mk("talking")
	answered.Answered = start.Add(5 * time.Second)
	j.Opened(answered)
	j.Opened(mk("ended"))
	j.Flush(ctx)

	// "ended" ends normally: its record removes it from the journal.
	done := mk("ended")
	done.Outcome, done.Ended = cdr.Answered, time.Now().UTC()
	done.FillDurations()
	w := cdr.NewWriter(e, cdr.WriterOptions{})
	if err := w.Write(ctx, done); err != nil {
		t.Fatal(err)
	}
	j.Closed("ended")
	// "lost" was opened and closed between flushes: it never reaches the store.
	j.Opened(mk("lost"))
	j.Closed("lost")
	j.Flush(ctx)
	w.Close()
	if err := e.Close(); err != nil { // Ringo dies here
		t.Fatal(err)
	}

	e = open(t, op)
	calls, err := e.OpenCalls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range calls {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"ringing", "talking"}) {
		t.Fatalf("journal after restart: %v", ids)
	}
	w = cdr.NewWriter(e, cdr.WriterOptions{})
	defer w.Close()
	n, err := cdr.Recover(ctx, e, w)
	if err != nil || n != 2 {
		t.Fatalf("Recover: %d, %v", n, err)
	}
	for _, id := range []string{"ringing", "talking"} {
		r, err := e.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Outcome != cdr.Interrupted || r.Ended.IsZero() || r.Hangup.By != cdr.BySystem || r.Durations.Total <= 0 {
			t.Fatalf("%s: %+v", id, r)
		}
		if id == "talking" && r.Durations.Talk <= 0 {
			t.Fatalf("talking: no talk time: %+v", r.Durations)
		}
	}
	if r, err := e.Get(ctx, "ended"); err != nil || r.Outcome != cdr.Answered {
		t.Fatalf("the ended call's record changed: %+v %v", r, err)
	}
	if _, err := e.Get(ctx, "lost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lost: %v, want no record", err)
	}
	if calls, _ := e.OpenCalls(ctx); len(calls) != 0 {
		t.Fatalf("journal not emptied: %+v", calls)
	}
	// Recovering again finds nothing.
	if n, err := cdr.Recover(ctx, e, w); n != 0 || err != nil {
		t.Fatalf("second Recover: %d, %v", n, err)
	}
	// A call journaled again after its record was written (it ended just
	// before a crash) is only taken out of the journal.
	if err := e.PutOpen(ctx, []cdr.Record{mk("ended")}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := cdr.Recover(ctx, e, w); n != 0 || err != nil {
		t.Fatalf("Recover of a recorded call: %d, %v", n, err)
	}
	if r, err := e.Get(ctx, "ended"); err != nil || r.Outcome != cdr.Answered {
		t.Fatalf("the ended call's record changed: %+v %v", r, err)
	}
	if calls, _ := e.OpenCalls(ctx); len(calls) != 0 {
		t.Fatalf("journal not emptied: %+v", calls)
	}
}

// testWriterDurable writes from many goroutines through one Writer; every
// Write that returned nil is in the store after reopening it, in far fewer
// transactions than records, and each was published once.
func testWriterDurable(t *testing.T, h Harness) {
	ctx := context.Background()
	op := h.New(t)
	e := open(t, op)
	counting := &countingStore{Store: e}
	w := cdr.NewWriter(counting, cdr.WriterOptions{MaxBatch: 64, MaxDelay: 2 * time.Millisecond})
	sub := w.Events.Subscribe(5000)
	slow := w.Events.Subscribe(1) // never read: must not block anyone
	const writers, each = 16, 100
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				errs <- w.Write(ctx, Synth(g*each+i, T0.Add(-time.Duration(i)*time.Second)))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A duplicate fails alone; the rest of its batch is written.
	results := make([]error, 3)
	for i, r := range []cdr.Record{Synth(5, T0), Synth(90001, T0), Synth(90002, T0)} {
		wg.Go(func() { results[i] = w.Write(ctx, r) })
	}
	wg.Wait()
	if !errors.Is(results[0], store.ErrConflict) || results[1] != nil || results[2] != nil {
		t.Errorf("duplicate in a batch: %v", results)
	}
	if err := w.Write(ctx, cdr.Record{ID: "bad"}); !errors.Is(err, cdr.ErrInvalid) {
		t.Errorf("invalid record: %v", err)
	}
	w.Close()
	if err := w.Write(ctx, Synth(99999, T0)); !errors.Is(err, cdr.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	total := writers*each + 2
	if n := counting.batches(); n >= writers*each/2 {
		t.Errorf("%d transactions for %d records: not batched", n, total)
	}
	t.Logf("%d records in %d transactions", total, counting.batches())

	e = open(t, op)
	facets, err := e.Facets(ctx, cdr.Query{})
	if err != nil || facets.Total != int64(total) {
		t.Fatalf("after reopen: %d records, %v; want %d", facets.Total, err, total)
	}
	for _, id := range []string{"p00000", "p01599", "p90001", "p90002"} {
		if _, err := e.Get(ctx, id); err != nil {
			t.Errorf("after reopen: %s: %v", id, err)
		}
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
