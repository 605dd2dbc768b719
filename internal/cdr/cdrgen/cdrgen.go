// Package cdrgen generates realistic call records for benchmarks and load
// tests of the call-record engines.
package cdrgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

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

// End is the newest record's end; records spread over the year before.
var End = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

// Record returns the i-th of n records spread over the year before End:
// Russian and English names, +7 and +44 numbers, 300 local accounts, a
// realistic outcome mix, variables on a quarter and tags on 1/20 of the
// records, a recording on a third of the answered calls. The same rng seed
// and i give the same record.
func Record(rng *rand.Rand, i, n int) cdr.Record {
	end := End.Add(-time.Duration(n-i) * (365 * 24 * time.Hour / time.Duration(n)))
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

// Query is one query of the benchmark mix: a compact query (cdr.ParseQuery)
// run for one page of results, or for its facet counts.
type Query struct {
	Name   string
	Q      string
	Facets bool
}

// Mix is the fixed query mix of the call-record benchmarks, over records
// from Record: what an administrator types most, and the facets of it.
var Mix = []Query{
	{"digit fragment", "4567", false},
	{"digit fragment, one month", "1234 from:2026-10-01 to:2026-11-01", false},
	{"name (Cyrillic)", "иванов", false},
	{"name + outcome", "иванов outcome:noanswer", false},
	{"common name", "smith", false},
	{"fragment + date range + outcome", "916 from:2026-06-01 to:2026-11-23 outcome:answered", false},
	{"latest page, no filter", "", false},
	{"variable", "var:crm=4242", false},
	{"direction + duration + no recording", "direction:inbound dur>300 -has:recording", false},
	{"facets: digit fragment", "1234", true},
	{"facets: name, one month", "иванов from:2026-10-01 to:2026-11-01", true},
	{"facets: one day", "from:2026-11-20 to:2026-11-21", true},
}

// Run runs q on st once and returns how many records it found (the page's
// size, or the facets' total).
func (q Query) Run(ctx context.Context, st cdr.Store, f *cdr.Filter) (int64, error) {
	if q.Facets {
		fc, err := st.Facets(ctx, cdr.Query{Filter: f})
		return fc.Total, err
	}
	p, err := st.Search(ctx, cdr.Query{Filter: f})
	return int64(len(p.Records)), err
}
