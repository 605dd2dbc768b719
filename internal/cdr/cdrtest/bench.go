package cdrtest

import (
	"context"
	"testing"

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
