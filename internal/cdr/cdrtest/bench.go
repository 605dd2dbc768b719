package cdrtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
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

// BenchN is the number of records the engines' Go benchmarks generate:
// RINGO_CDR_BENCH_N, 200,000 by default.
func BenchN() (int, error) {
	s := os.Getenv("RINGO_CDR_BENCH_N")
	if s == "" {
		return 200_000, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("RINGO_CDR_BENCH_N: %w", err)
	}
	return n, nil
}

// Fill stores n cdrgen records in st in batches of 1,000 and returns the
// rate, generation included.
func Fill(ctx context.Context, st cdr.Store, n int) (recordsPerSecond float64, err error) {
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 1000
	start := time.Now()
	recs := make([]cdr.Record, 0, batch)
	for i := 0; i < n; i++ {
		recs = append(recs, cdrgen.Record(rng, i, n))
		if len(recs) == batch || i == n-1 {
			if err := st.PutBatch(ctx, recs); err != nil {
				return 0, err
			}
			recs = recs[:0]
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
