package postgres

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/cdr/cdrtest"
)

// The benchmark database is generated once per process, with the same
// records and queries as the SQLite engine's benchmark:
//
//	RINGO_CDR_BENCH_N=200000 go test -run '^$' -bench . -benchtime 200x ./internal/cdr/postgres/
//
// It runs on the throwaway cluster (fsync off) unless RINGO_TEST_POSTGRES
// names a server: ingest figures are only comparable on a server that syncs.
var bench struct {
	once sync.Once
	db   *DB
	drop func(context.Context) error
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
		var dsn string
		dsn, bench.drop = pg.Create(b)
		ctx := context.Background()
		if bench.db, bench.err = Open(ctx, dsn); bench.err != nil {
			return
		}
		if bench.rate, bench.err = cdrtest.Fill(ctx, bench.db, bench.n); bench.err != nil {
			return
		}
		// As after autovacuum has run: the GIN pending lists merged, the statistics fresh.
		if _, bench.err = bench.db.pool.Exec(ctx, "VACUUM ANALYZE cdr_records"); bench.err != nil {
			return
		}
		var table, index int64
		if bench.err = bench.db.pool.QueryRow(ctx, `SELECT pg_total_relation_size('cdr_records'), pg_indexes_size('cdr_records')`).Scan(&bench.size, &index); bench.err != nil {
			return
		}
		table = bench.size - index
		fmt.Fprintf(os.Stderr, "cdr bench: %d records, ingest %.0f records/s (batches of 1,000, generation included), %.1f MiB on disk (%.1f MiB table and TOAST, %.1f MiB indexes)\n",
			bench.n, bench.rate, float64(bench.size)/(1<<20), float64(table)/(1<<20), float64(index)/(1<<20))
		rows, err := bench.db.pool.Query(ctx, `SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = 'cdr_records'::regclass ORDER BY 2 DESC`)
		if err != nil {
			bench.err = err
			return
		}
		for rows.Next() {
			var name string
			var size int64
			if bench.err = rows.Scan(&name, &size); bench.err != nil {
				rows.Close()
				return
			}
			fmt.Fprintf(os.Stderr, "cdr bench:   %-22s %6.1f MiB\n", name, float64(size)/(1<<20))
		}
		rows.Close()
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.db
}

// closeBench drops the benchmark database (TestMain calls it).
func closeBench() {
	if bench.db != nil {
		bench.db.Close()
	}
	if bench.drop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := bench.drop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// BenchmarkSearch runs the benchmark query mix (cdrgen.Mix).
func BenchmarkSearch(b *testing.B) {
	cdrtest.BenchmarkMix(b, func(b *testing.B) cdr.Store { return benchDB(b) })
}

// BenchmarkWriter measures durable writes through the batching Writer from
// many goroutines (each Write waits for its commit), on a fresh database.
func BenchmarkWriter(b *testing.B) {
	db, err := Open(context.Background(), pg.DB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cdrtest.BenchmarkWriter(b, db)
}
