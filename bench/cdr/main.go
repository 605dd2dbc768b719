// Command cdr benchmarks a call-record engine: it fills a store with
// generated records (internal/cdr/cdrgen) and reports the ingest rate, the
// size on disk and the latency percentiles of a fixed query mix.
//
//	go run ./bench/cdr -engine sqlite -n 10000000 -dir /tmp/cdr10m
//
//	go run ./bench/cdr -engine postgres -dsn postgres://… -n 10000000 -dir /tmp/cdr10m-pg
//
// A second run with the same -dir and -n reuses the filled store (-reuse;
// for PostgreSQL, -dir only keeps that marker). bench/cdr/pg.sh starts a
// throwaway PostgreSQL server for the second form.
// See docs/benchmarks.md, "Call records search".
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/cdr/cdrgen"
	cdrpostgres "github.com/ringo-pbx/ringo/internal/cdr/postgres"
	cdrsqlite "github.com/ringo-pbx/ringo/internal/cdr/sqlite"
)

type engine interface {
	cdr.Store
}

func main() {
	var (
		engineName = flag.String("engine", "sqlite", "sqlite or postgres")
		dsn        = flag.String("dsn", "", "PostgreSQL connection string (engine postgres; the database must be empty for a new fill)")
		dir        = flag.String("dir", "", "directory of the store (default: a new temporary one, removed at the end)")
		n          = flag.Int("n", 1_000_000, "records to generate")
		batch      = flag.Int("batch", 1000, "records per PutBatch")
		writers    = flag.Int("writers", 1, "goroutines calling PutBatch at once")
		runs       = flag.Int("runs", 50, "runs of each query")
		reuse      = flag.Bool("reuse", true, "reuse a store in -dir that already holds n records")
		profile    = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	)
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cdr bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*engineName, *dsn, *dir, *n, *batch, *writers, *runs, *reuse); err != nil {
		fmt.Fprintln(os.Stderr, "cdr bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(engineName, dsn, dir string, n, batch, writers, runs int, reuse bool) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "ringo-cdr-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	marker := filepath.Join(dir, "bench-n")
	have, _ := os.ReadFile(marker)
	fresh := !reuse || strings.TrimSpace(string(have)) != strconv.Itoa(n)
	if fresh {
		// Start from an empty store, but never empty a directory this tool
		// did not fill.
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			if have == nil {
				return fmt.Errorf("%s is not empty and holds no bench-n marker: give an empty or new directory", dir)
			}
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var st engine
	switch engineName {
	case "sqlite":
		db, err := cdrsqlite.Open(ctx, dir)
		if err != nil {
			return err
		}
		st = db
	case "postgres":
		if dsn == "" {
			return fmt.Errorf("engine postgres needs -dsn")
		}
		db, err := cdrpostgres.Open(ctx, dsn)
		if err != nil {
			return err
		}
		st = db
	default:
		return fmt.Errorf("unknown engine %q", engineName)
	}
	defer st.Close()

	if fresh {
		if f, err := st.Facets(ctx, cdr.Query{}); err != nil || f.Total > 0 {
			return fmt.Errorf("the store is not empty (%d records, %v): give a new one", f.Total, err)
		}
		if err := ingest(ctx, st, n, batch, writers); err != nil {
			return err
		}
		if err := os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o644); err != nil {
			return err
		}
	} else {
		fmt.Printf("reusing %d records in %s\n", n, dir)
	}
	if a, ok := st.(interface{ Analyze(context.Context) error }); ok {
		if err := a.Analyze(ctx); err != nil {
			return err
		}
	}
	size := du(dir)
	if sz, ok := st.(interface {
		SizeOnDisk(context.Context) (int64, error)
	}); ok {
		var err error
		if size, err = sz.SizeOnDisk(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("size on disk: %.0f MiB (%.0f bytes/record)\n", float64(size)/(1<<20), float64(size)/float64(n))
	return queries(ctx, st, runs)
}

// ingest generates records on every core but one and stores them in
// batches from one goroutine, as the Writer does.
func ingest(ctx context.Context, st cdr.Store, n, batch, writers int) error {
	type job struct {
		i    int
		recs []cdr.Record
	}
	batches := make(chan job, 8)
	var wg sync.WaitGroup
	workers := 2
	next := make(chan int, 16)
	go func() {
		for i := 0; i < n; i += batch {
			next <- i
		}
		close(next)
	}()
	ready := make(map[int][]cdr.Record)
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rng := rand.New(rand.NewPCG(uint64(i), 2))
				recs := make([]cdr.Record, 0, batch)
				for j := i; j < i+batch && j < n; j++ {
					recs = append(recs, cdrgen.Record(rng, j, n))
				}
				mu.Lock()
				for len(ready) > 16 {
					cond.Wait()
				}
				ready[i] = recs
				cond.Broadcast()
				mu.Unlock()
			}
		}()
	}
	// Batches are stored in order, as calls end in time order.
	go func() {
		for i := 0; i < n; i += batch {
			mu.Lock()
			for ready[i] == nil {
				cond.Wait()
			}
			recs := ready[i]
			delete(ready, i)
			cond.Broadcast()
			mu.Unlock()
			batches <- job{i, recs}
		}
		close(batches)
	}()
	start := time.Now()
	cpu0 := cpuTime()
	last := start
	done := 0
	// writers goroutines store batches, as the Writer's committers do: one
	// batch is prepared while another commits.
	var (
		wmu   sync.Mutex
		werr  error
		wdone sync.WaitGroup
	)
	for range writers {
		wdone.Go(func() {
			for b := range batches {
				if err := st.PutBatch(ctx, b.recs); err != nil {
					wmu.Lock()
					werr = fmt.Errorf("ingest at %d: %w", b.i, err)
					wmu.Unlock()
					continue
				}
				wmu.Lock()
				done += len(b.recs)
				if time.Since(last) > 10*time.Second {
					last = time.Now()
					fmt.Printf("  %d records, %.0f records/s\n", done, float64(done)/time.Since(start).Seconds())
				}
				wmu.Unlock()
			}
		})
	}
	wdone.Wait()
	if werr != nil {
		return werr
	}
	wg.Wait()
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	fmt.Printf("ingest: %d records in %s: %.0f records/s (batches of %d, %d writers); CPU %s, %.1f µs of CPU per record (generation included)\n",
		n, el.Round(time.Millisecond), float64(n)/el.Seconds(), batch, writers, cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(n))
	return nil
}

func queries(ctx context.Context, st cdr.Store, runs int) error {
	lat := make([][]time.Duration, len(cdrgen.Mix))
	hits := make([]int64, len(cdrgen.Mix))
	filters := make([]*cdr.Filter, len(cdrgen.Mix))
	for i, m := range cdrgen.Mix {
		f, err := cdr.ParseQuery(m.Q)
		if err != nil {
			return fmt.Errorf("%q: %w", m.Q, err)
		}
		filters[i] = f
	}
	rng := rand.New(rand.NewPCG(3, 4))
	order := make([]int, 0, len(cdrgen.Mix)*runs)
	for r := 0; r < runs; r++ {
		for i := range cdrgen.Mix {
			order = append(order, i)
		}
	}
	rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	// One warm-up pass: the first touch of each index reads it from disk.
	for i := range cdrgen.Mix {
		if _, err := cdrgen.Mix[i].Run(ctx, st, filters[i]); err != nil {
			return err
		}
	}
	for _, i := range order {
		t := time.Now()
		h, err := cdrgen.Mix[i].Run(ctx, st, filters[i])
		if err != nil {
			return fmt.Errorf("%q: %w", cdrgen.Mix[i].Q, err)
		}
		lat[i] = append(lat[i], time.Since(t))
		hits[i] = h
	}
	fmt.Printf("\n| Query | compact form | results | p50 | p95 | p99 |\n|---|---|---:|---:|---:|---:|\n")
	for i, m := range cdrgen.Mix {
		l := lat[i]
		slices.Sort(l)
		fmt.Printf("| %s | `%s` | %d | %s | %s | %s |\n", m.Name, m.Q, hits[i], ms(pct(l, 50)), ms(pct(l, 95)), ms(pct(l, 99)))
	}
	return nil
}

func pct(l []time.Duration, p int) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := (len(l)*p + 99) / 100
	return l[min(max(i-1, 0), len(l)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// cpuTime is the process's user+system CPU time: on a shared machine it
// varies less than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func du(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
