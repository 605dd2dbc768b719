package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/cdr/cdrgen"
	"github.com/ringo-pbx/ringo/internal/cdr/cdrtest"
)

// The benchmark database is generated once per process:
//
//	RINGO_CDR_BENCH_N=200000 go test -run '^$' -bench . -benchtime 200x ./internal/cdr/sqlite/
var bench struct {
	once sync.Once
	db   *DB
	dir  string
	n    int
	rate float64
	size int64
	err  error
}

func benchDB(b *testing.B) *DB {
	bench.once.Do(func() {
		bench.n = 200_000
		if s := os.Getenv("RINGO_CDR_BENCH_N"); s != "" {
			bench.n, bench.err = strconv.Atoi(s)
			if bench.err != nil {
				return
			}
		}
		bench.dir, bench.err = os.MkdirTemp("", "cdr-bench-")
		if bench.err != nil {
			return
		}
		ctx := context.Background()
		if bench.db, bench.err = Open(ctx, bench.dir); bench.err != nil {
			return
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const batch = 1000
		start := time.Now()
		recs := make([]cdr.Record, 0, batch)
		for i := 0; i < bench.n; i++ {
			recs = append(recs, cdrgen.Record(rng, i, bench.n))
			if len(recs) == batch || i == bench.n-1 {
				if bench.err = bench.db.PutBatch(ctx, recs); bench.err != nil {
					return
				}
				recs = recs[:0]
			}
		}
		bench.rate = float64(bench.n) / time.Since(start).Seconds()
		for _, sh := range bench.db.shards {
			if _, bench.err = sh.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE"); bench.err != nil {
				return
			}
		}
		if st, err := os.Stat(filepath.Join(bench.dir, "cdr.db")); err == nil {
			bench.size = st.Size()
		}
		fmt.Fprintf(os.Stderr, "cdr bench: %d records, ingest %.0f records/s (batches of %d, generation included), %.1f MiB on disk\n",
			bench.n, bench.rate, batch, float64(bench.size)/(1<<20))
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.db
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.db != nil {
		bench.db.Close()
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// BenchmarkSearch runs the benchmark query mix (cdrgen.Mix).
func BenchmarkSearch(b *testing.B) {
	cdrtest.BenchmarkMix(b, func(b *testing.B) cdr.Store { return benchDB(b) })
}

// BenchmarkWriter measures durable writes through the batching Writer from
// many goroutines (each Write waits for its commit), on a fresh database.
func BenchmarkWriter(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cdrtest.BenchmarkWriter(b, db)
}
