package cdr

import (
	"context"
	"log/slog"
	"time"
)

// Deleter is the part of a Store that retention uses.
type Deleter interface {
	DeleteEndedBefore(ctx context.Context, t time.Time, max int) (int, error)
}

// Retention deletes records older than Keep, in the background.
type Retention struct {
	Store Deleter
	Log   *slog.Logger
	// Keep is how long records are kept; 0 or less keeps them for ever.
	Keep time.Duration
	// Every is how often old records are looked for (an hour when 0).
	Every time.Duration
	// Chunk is the most records deleted per transaction (2,000 when 0):
	// small enough that writers and searches wait at most one chunk.
	Chunk int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Run deletes old records now and then every Every until ctx ends.
func (r *Retention) Run(ctx context.Context) {
	if r.Keep <= 0 {
		return
	}
	every := r.Every
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := r.Once(ctx); err != nil && ctx.Err() == nil && r.Log != nil {
			r.Log.Warn("call records retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once deletes every record that ended before now−Keep, chunk by chunk, and
// returns how many it deleted. Between chunks it yields the database to
// other work.
func (r *Retention) Once(ctx context.Context) (int, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	chunk := r.Chunk
	if chunk <= 0 {
		chunk = 2000
	}
	cut := now().Add(-r.Keep)
	total := 0
	for {
		n, err := r.Store.DeleteEndedBefore(ctx, cut, chunk)
		total += n
		if err != nil || n < chunk {
			if total > 0 && r.Log != nil {
				r.Log.Info("call records retention", "deleted", total, "before", cut.UTC().Format(time.RFC3339))
			}
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
