package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ringo-pbx/ringo/internal/cdr"
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
		if bench.n, bench.err = cdrtest.BenchN(); bench.err != nil {
			return
		}
		bench.dir, bench.err = os.MkdirTemp("", "cdr-bench-")
		if bench.err != nil {
			return
		}
		ctx := context.Background()
		if bench.db, bench.err = Open(ctx, bench.dir); bench.err != nil {
			return
		}
		if bench.rate, bench.err = cdrtest.Fill(ctx, bench.db, bench.n); bench.err != nil {
			return
		}
		for _, sh := range bench.db.shards {
			if _, bench.err = sh.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE"); bench.err != nil {
				return
			}
		}
		if st, err := os.Stat(filepath.Join(bench.dir, "cdr.db")); err == nil {
			bench.size = st.Size()
		}
		fmt.Fprintf(os.Stderr, "cdr bench: %d records, ingest %.0f records/s (batches of 1,000, generation included), %.1f MiB on disk\n",
			bench.n, bench.rate, float64(bench.size)/(1<<20))
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
