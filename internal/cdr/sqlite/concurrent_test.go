package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// Batches written at once from several goroutines all land: a batch holds
// every shard's writer until it commits, so the writers must be taken in one
// order (two batches each holding one shard would wait for ever).
func TestConcurrentBatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := OpenWith(ctx, t.TempDir(), Options{Shards: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	const writers, batches, size = 4, 25, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				recs := make([]cdr.Record, size)
				for i := range recs {
					n := (w*batches+b)*size + i
					recs[i] = cdr.Record{ID: fmt.Sprintf("w%06d", n), Domain: "example.com", Direction: cdr.Inbound,
						Outcome: cdr.Answered, Ended: end.Add(time.Duration(n) * time.Millisecond), Caller: cdr.Party{Name: "Concurrent Caller"}}
				}
				if err := db.PutBatch(ctx, recs); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("concurrent batches did not finish: deadlock")
	}
	f, _ := cdr.ParseQuery("concurrent")
	if fc, err := db.Facets(ctx, cdr.Query{Filter: f}); err != nil || fc.Total != writers*batches*size {
		t.Errorf("%d records (%v), want %d", fc.Total, err, writers*batches*size)
	}
}
