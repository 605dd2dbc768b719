package sqlite

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// TestJournalRecoversInterruptedCalls: calls journaled as open and never
// recorded (Ringo died) become interrupted records at the next start; a call
// that was recorded leaves the journal.
func TestJournalRecoversInterruptedCalls(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db := open(t, dir)
	j := cdr.NewJournal(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	w := cdr.NewWriter(db, cdr.WriterOptions{})
	if err := w.Write(ctx, done); err != nil {
		t.Fatal(err)
	}
	j.Closed("ended")
	// "lost" was opened and closed between flushes: it never reaches the store.
	j.Opened(mk("lost"))
	j.Closed("lost")
	j.Flush(ctx)
	w.Close()
	db.Close() // Ringo dies here

	db = open(t, dir)
	calls, err := db.OpenCalls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("journal after restart: %+v", calls)
	}
	w = cdr.NewWriter(db, cdr.WriterOptions{})
	defer w.Close()
	n, err := cdr.Recover(ctx, db, w)
	if err != nil || n != 2 {
		t.Fatalf("Recover: %d, %v", n, err)
	}
	for _, id := range []string{"ringing", "talking"} {
		r, err := db.Get(ctx, id)
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
	if r, err := db.Get(ctx, "ended"); err != nil || r.Outcome != cdr.Answered {
		t.Fatalf("the ended call's record changed: %+v %v", r, err)
	}
	if calls, _ := db.OpenCalls(ctx); len(calls) != 0 {
		t.Fatalf("journal not emptied: %+v", calls)
	}
	// Recovering again finds nothing.
	if n, err := cdr.Recover(ctx, db, w); n != 0 || err != nil {
		t.Fatalf("second Recover: %d, %v", n, err)
	}
}
