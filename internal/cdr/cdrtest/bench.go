package cdrtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/cdr/cdrgen"
)

// BenchmarkMix runs every query of cdrgen.Mix as a sub-benchmark on the
// store that open returns (filled by the caller with cdrgen records).
func BenchmarkMix(b *testing.B, open func(b *testing.B) cdr.Store) {
	for _, q := range cdrgen.Mix {
		b.Run(q.Name, func(b *testing.B) {
			st := open(b)
			f, err := cdr.ParseQuery(q.Q)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var n int64
			for b.Loop() {
				if n, err = q.Run(ctx, st, f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "results")
		})
	}
}

// BenchmarkWriter measures durable writes to st through the batching Writer
// from many goroutines, each Write waiting for its commit.
func BenchmarkWriter(b *testing.B, st cdr.Store) {
	w := cdr.NewWriter(st, cdr.WriterOptions{MaxBatch: 512})
	defer w.Close()
	var mu sync.Mutex
	seed := uint64(0)
	next := 0
	b.SetParallelism(32) // 64 writers on 2 cores: call ends arrive concurrently
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		seed++
		rng := rand.New(rand.NewPCG(seed, 7))
		mu.Unlock()
		for pb.Next() {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			r := cdrgen.Record(rng, i, 1_000_000)
			r.ID = fmt.Sprintf("w%09d", i)
			if err := w.Write(context.Background(), r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}
