package cdr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/internal/store"
)

// JournalStore keeps the journal of calls in progress.
type JournalStore interface {
	// PutOpen upserts open calls and removes closed ones, in one transaction.
	PutOpen(ctx context.Context, open []Record, closed []string) error
	// OpenCalls returns the calls still in the journal.
	OpenCalls(ctx context.Context) ([]Record, error)
	// Touch marks every call in the journal as alive at at: a call open
	// when Ringo dies ends, in its interrupted record, at its last touch.
	Touch(ctx context.Context, at time.Time) error
}

// Journal records which calls are in progress, written behind in batches
// (at most every FlushEvery), so that a call open when Ringo dies is
// recorded as interrupted at the next start (see Recover). A record
// written for a call removes it from the journal in the same transaction.
type Journal struct {
	st  JournalStore
	log *slog.Logger
	// FlushEvery bounds how long an opened call may go unjournaled.
	FlushEvery time.Duration
	// TouchEvery is how often the open calls are marked alive: the error
	// on an interrupted call's end time.
	TouchEvery time.Duration

	mu     sync.Mutex
	open   map[string]Record
	closed map[string]bool
}

// NewJournal returns a journal over st; Run writes it.
func NewJournal(st JournalStore, log *slog.Logger) *Journal {
	return &Journal{st: st, log: log, FlushEvery: 100 * time.Millisecond, TouchEvery: 15 * time.Second,
		open: map[string]Record{}, closed: map[string]bool{}}
}

// Opened notes a call in progress (again, to update what is known of it).
func (j *Journal) Opened(r Record) {
	j.mu.Lock()
	j.open[r.ID] = r
	delete(j.closed, r.ID)
	j.mu.Unlock()
}

// Closed notes that a call ended (its record is on its way).
func (j *Journal) Closed(id string) {
	j.mu.Lock()
	delete(j.open, id)
	j.closed[id] = true
	j.mu.Unlock()
}

// Run writes the journal until ctx ends, then once more.
func (j *Journal) Run(ctx context.Context) {
	t := time.NewTicker(j.FlushEvery)
	defer t.Stop()
	touch := time.NewTicker(j.TouchEvery)
	defer touch.Stop()
	for {
		select {
		case <-ctx.Done():
			j.Flush(context.Background())
			return
		case <-t.C:
			j.Flush(ctx)
		case now := <-touch.C:
			j.Flush(ctx)
			if err := j.st.Touch(ctx, now); err != nil && ctx.Err() == nil {
				j.log.Error("marking open calls alive failed", "error", err)
			}
		}
	}
}

// Flush writes what changed since the last flush.
func (j *Journal) Flush(ctx context.Context) {
	j.mu.Lock()
	if len(j.open) == 0 && len(j.closed) == 0 {
		j.mu.Unlock()
		return
	}
	open := make([]Record, 0, len(j.open))
	for _, r := range j.open {
		open = append(open, r)
	}
	closed := make([]string, 0, len(j.closed))
	for id := range j.closed {
		closed = append(closed, id)
	}
	j.open, j.closed = map[string]Record{}, map[string]bool{}
	j.mu.Unlock()
	if err := j.st.PutOpen(ctx, open, closed); err != nil {
		j.log.Error("writing the journal of open calls failed; will retry", "error", err)
		j.mu.Lock()
		for _, r := range open {
			if _, newer := j.open[r.ID]; !newer && !j.closed[r.ID] {
				j.open[r.ID] = r
			}
		}
		for _, id := range closed {
			if _, reopened := j.open[id]; !reopened {
				j.closed[id] = true
			}
		}
		j.mu.Unlock()
	}
}

// Recover writes an interrupted record for every call left in the journal
// by a previous run, and returns how many it wrote. A call whose record was
// written after all (it ended just before the crash) is only taken out of
// the journal.
func Recover(ctx context.Context, st JournalStore, w *Writer) (int, error) {
	calls, err := st.OpenCalls(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range calls {
		r.Outcome = Interrupted
		r.Hangup = Hangup{Cause: "INTERRUPTED", By: BySystem}
		r.Durations = Durations{}
		r.FillDurations()
		switch err := w.Write(ctx, r); {
		case err == nil:
			n++
		case errors.Is(err, store.ErrConflict):
			if err := st.PutOpen(ctx, nil, []string{r.ID}); err != nil {
				return n, err
			}
		default:
			return n, fmt.Errorf("recover call %s: %w", r.ID, err)
		}
	}
	return n, nil
}
