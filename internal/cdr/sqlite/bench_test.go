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

var (
	firstRu = []string{"Иван", "Пётр", "Сергей", "Анна", "Мария", "Ольга", "Дмитрий", "Елена", "Алексей", "Наталья"}
	lastRu  = []string{"Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков",
		"Морозов", "Волков", "Алексеев", "Лебедева", "Семенов", "Егоров", "Павлов", "Степанов", "Николаев", "Орлов"}
	firstEn = []string{"John", "Mary", "James", "Linda", "Robert", "Susan", "David", "Karen", "Paul", "Emma"}
	lastEn  = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark",
		"Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams"}
	outcomeMix = []cdr.Outcome{cdr.Answered, cdr.Answered, cdr.Answered, cdr.Answered, cdr.Answered, cdr.Answered,
		cdr.NoAnswer, cdr.NoAnswer, cdr.Busy, cdr.Cancelled, cdr.Failed, cdr.Voicemail, cdr.Diverted}
)

// benchEnd is the newest record's end; records spread over the year before.
var benchEnd = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func genRecord(rng *rand.Rand, i, n int) cdr.Record {
	end := benchEnd.Add(-time.Duration(n-i) * (365 * 24 * time.Hour / time.Duration(n)))
	var ext cdr.Party
	if rng.IntN(2) == 0 {
		ext = cdr.Party{Number: fmt.Sprintf("+79%09d", rng.IntN(1e9)), Name: firstRu[rng.IntN(len(firstRu))] + " " + lastRu[rng.IntN(len(lastRu))]}
	} else {
		ext = cdr.Party{Number: fmt.Sprintf("+44%010d", rng.IntN(1e10)), Name: firstEn[rng.IntN(len(firstEn))] + " " + lastEn[rng.IntN(len(lastEn))]}
	}
	ext.Address = "sip:" + ext.Number[1:] + "@trunk.example.net"
	acc := 100 + rng.IntN(200)
	local := cdr.Party{Account: "u" + strconv.Itoa(acc), Number: strconv.Itoa(acc), Name: lastEn[acc%len(lastEn)] + " " + strconv.Itoa(acc),
		Address: fmt.Sprintf("sip:u%d@example.com", acc)}
	r := cdr.Record{ID: fmt.Sprintf("c%08d", i), CallID: fmt.Sprintf("%016x@ringo", rng.Uint64()), Domain: "example.com", Ended: end}
	switch rng.IntN(10) {
	case 0, 1, 2, 3, 4, 5:
		r.Direction, r.Caller, r.Callee = cdr.Inbound, ext, local
	case 6, 7, 8:
		r.Direction, r.Caller, r.Callee = cdr.Outbound, local, ext
	default:
		other := 100 + rng.IntN(200)
		r.Direction, r.Caller = cdr.Internal, local
		r.Callee = cdr.Party{Account: "u" + strconv.Itoa(other), Number: strconv.Itoa(other), Name: lastEn[other%len(lastEn)]}
	}
	r.Dialled = r.Callee.Number
	r.Route = cdr.Route{Kind: "account", Target: r.Callee.Account}
	r.Outcome = outcomeMix[rng.IntN(len(outcomeMix))]
	ring := time.Duration(2+rng.IntN(25)) * time.Second
	r.Created = end.Add(-ring)
	if r.Outcome == cdr.Answered {
		talk := time.Duration(5+rng.IntN(600)) * time.Second
		r.Created = end.Add(-ring - talk)
		r.Answered = end.Add(-talk)
		r.Bridged = r.Answered
		if rng.IntN(3) == 0 {
			r.Recordings = []cdr.Recording{{File: r.ID + ".wav", Started: r.Answered}}
		}
		r.Hangup = cdr.Hangup{Cause: "NORMAL_CLEARING", By: cdr.ByCaller}
	} else {
		r.Hangup = cdr.Hangup{Cause: "NO_ANSWER", SIPCode: 480, By: cdr.BySystem}
	}
	if rng.IntN(4) == 0 {
		r.Variables = map[string]string{"crm": strconv.Itoa(rng.IntN(100000)), "lang": []string{"ru", "en"}[rng.IntN(2)]}
	}
	if rng.IntN(20) == 0 {
		r.Tags = []string{[]string{"vip", "test", "complaint", "sales"}[rng.IntN(4)]}
	}
	r.FillDurations()
	return r
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
			recs = append(recs, genRecord(rng, i, bench.n))
			if len(recs) == batch || i == bench.n-1 {
				if bench.err = bench.db.PutBatch(ctx, recs); bench.err != nil {
					return
				}
				recs = recs[:0]
			}
		}
		bench.rate = float64(bench.n) / time.Since(start).Seconds()
		if _, bench.err = bench.db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE"); bench.err != nil {
			return
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

func BenchmarkSearch(b *testing.B) {
	for _, bc := range []struct{ name, q string }{
		{"Digits", "4567"},
		{"DigitsMonth", "1234 from:2026-10-01 to:2026-10-31"},
		{"NameOutcome", "иванов outcome:noanswer"},
		{"Name", "smith"},
		{"DigitsDateOutcome", "916 from:2026-06-01 to:2026-11-23 outcome:answered"},
		{"Latest", ""},
		{"Var", "var:crm=4242"},
		{"DirectionDuration", "direction:inbound dur>300 -has:recording"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := benchDB(b)
			f, err := cdr.ParseQuery(bc.q)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var n int
			for b.Loop() {
				p, err := db.Search(ctx, cdr.Query{Filter: f})
				if err != nil {
					b.Fatal(err)
				}
				n = len(p.Records)
			}
			b.ReportMetric(float64(n), "hits")
		})
	}
	for _, bc := range []struct{ name, q string }{
		{"FacetsDigits", "1234"},
		{"FacetsNameMonth", "иванов from:2026-10-01 to:2026-10-31"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := benchDB(b)
			f, err := cdr.ParseQuery(bc.q)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var total int64
			for b.Loop() {
				fc, err := db.Facets(ctx, cdr.Query{Filter: f})
				if err != nil {
					b.Fatal(err)
				}
				total = fc.Total
			}
			b.ReportMetric(float64(total), "matches")
		})
	}
}

// BenchmarkWriter measures durable writes through the batching Writer from
// many goroutines (each Write waits for its commit), on a fresh database.
func BenchmarkWriter(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w := cdr.NewWriter(db, cdr.WriterOptions{MaxBatch: 512})
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
			r := genRecord(rng, i, 1_000_000)
			r.ID = fmt.Sprintf("w%09d", i)
			if err := w.Write(context.Background(), r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}
