// Package cdrtest is the conformance suite of call-record engines: every
// engine (cdr/sqlite, cdr/postgres) runs it from its own tests, so that both
// search, page, count, journal and expire records the same way.
//
//	func TestConformance(t *testing.T) {
//		cdrtest.Run(t, cdrtest.Harness{New: func(t *testing.T) cdrtest.Opener { … }})
//	}
package cdrtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// Engine is what the suite tests.
type Engine interface {
	cdr.Store
	cdr.JournalStore
}

// Opener opens a store. Called again after the store is closed, it opens
// the same data: the suite checks what survives a restart.
type Opener func(ctx context.Context) (Engine, error)

// Harness is how the suite gets stores.
type Harness struct {
	// New makes a new, empty store for one test and returns its opener.
	New func(t *testing.T) Opener
	// Parallel runs the tests in parallel with each other: only for engines
	// whose stores are independent and that no test knob of the caller's
	// changes while the suite runs.
	Parallel bool
}

// Run runs every test of the suite as a subtest of t.
func Run(t *testing.T, h Harness) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, h Harness)
	}{
		{"Search", testSearch},
		{"TextFolding", testTextFolding},
		{"DigitFragments", testDigitFragments},
		{"FilterTree", testFilterTree},
		{"DomainIsolation", testDomainIsolation},
		{"Facets", testFacets},
		{"Get", testGet},
		{"Conflict", testConflict},
		{"Invalid", testInvalid},
		{"QueryErrors", testQueryErrors},
		{"PageLimit", testPageLimit},
		{"PaginationStable", testPaginationStable},
		{"Retention", testRetention},
		{"RetentionReusedKeys", testRetentionReusedKeys},
		{"Journal", testJournal},
		{"JournalRecovery", testJournalRecovery},
		{"WriterDurable", testWriterDurable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if h.Parallel {
				t.Parallel()
			}
			tc.test(t, h)
		})
	}
}

// T0 is the fixture's "now": every fixture time is fixed, so results are too.
var T0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// onceClosed lets a test close a store early and the cleanup close it again.
type onceClosed struct {
	Engine
	once sync.Once
	err  error
}

func (o *onceClosed) Close() error {
	o.once.Do(func() { o.err = o.Engine.Close() })
	return o.err
}

// open opens a store with op, closed when the test ends.
func open(t *testing.T, op Opener) Engine {
	t.Helper()
	e, err := op(context.Background())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	o := &onceClosed{Engine: e}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return o
}

// fresh opens a new, empty store.
func fresh(t *testing.T, h Harness) Engine {
	t.Helper()
	return open(t, h.New(t))
}

func put(t *testing.T, e Engine, recs ...cdr.Record) {
	t.Helper()
	if err := e.PutBatch(context.Background(), recs); err != nil {
		t.Fatalf("put: %v", err)
	}
}

// Rec builds a record that ended minutesAgo before T0, with a ring of 10 s
// and, when answered, talk long.
func Rec(id string, minutesAgo int, dir cdr.Direction, out cdr.Outcome, caller, callee cdr.Party, talk time.Duration) cdr.Record {
	end := T0.Add(-time.Duration(minutesAgo) * time.Minute)
	r := cdr.Record{ID: id, CallID: id + "@host", Domain: "example.com", Direction: dir, Outcome: out,
		Caller: caller, Callee: callee, Dialled: callee.Number, Created: end.Add(-talk - 10*time.Second), Ended: end}
	if out == cdr.Answered {
		r.Answered = end.Add(-talk)
	}
	r.FillDurations()
	return r
}

// Fixture is a small set of records with known contents: r1…r6, newest
// first but r5 (three days old, in other.org).
func Fixture() []cdr.Record {
	ivanov := cdr.Party{Number: "+79161234567", Name: "Иванов Пётр", Address: "sip:+79161234567@trunk.example.net"}
	smith := cdr.Party{Number: "+442071234999", Name: "John Smith"}
	alice := cdr.Party{Account: "alice", Number: "101", Name: "Alice Martin", Address: "sip:alice@example.com"}
	bob := cdr.Party{Account: "bob", Number: "102", Name: "Bob Ivanov", Address: "sip:bob@example.com"}
	recs := []cdr.Record{
		Rec("r1", 10, cdr.Inbound, cdr.Answered, ivanov, alice, 2*time.Minute),
		Rec("r2", 20, cdr.Inbound, cdr.NoAnswer, ivanov, bob, 0),
		Rec("r3", 30, cdr.Outbound, cdr.Answered, alice, smith, 20*time.Second),
		Rec("r4", 40, cdr.Internal, cdr.Busy, alice, bob, 0),
		Rec("r5", 60*24*3, cdr.Inbound, cdr.Answered, smith, bob, 45*time.Second),
		Rec("r6", 50, cdr.Outbound, cdr.Failed, bob, cdr.Party{Number: "8 (495) 555-12-12"}, 0),
	}
	recs[0].Variables = map[string]string{"crm": "42", "lang": "ru"}
	recs[0].Recordings = []cdr.Recording{{File: "r1.wav", Started: T0}}
	recs[0].Tags = []string{"vip"}
	recs[1].Variables = map[string]string{"crm": "43"}
	recs[2].Tags = []string{"test"}
	recs[4].Domain = "other.org"
	recs[5].Legs = []cdr.Leg{{ID: "r6-b", Parent: "r6-a", Party: cdr.Party{Number: "+74955551212", Name: "Gateway Moscow"}}}
	return recs
}

// Synth is the i-th of a series of similar records ending at end.
func Synth(i int, end time.Time) cdr.Record {
	r := cdr.Record{ID: fmt.Sprintf("p%05d", i), Domain: "example.com", Direction: cdr.Inbound, Outcome: cdr.Answered,
		Caller: cdr.Party{Number: fmt.Sprintf("+7916%07d", i), Name: "Load Test"}, Callee: cdr.Party{Account: "alice"},
		Created: end.Add(-time.Minute), Answered: end.Add(-30 * time.Second), Ended: end}
	r.FillDurations()
	return r
}

// IDs lists a page's record ids in order.
func IDs(p cdr.Page) []string {
	var s []string
	for _, r := range p.Records {
		s = append(s, r.ID)
	}
	return s
}

// searchCase is a query (in ParseQuery's form, or a filter tree) and the
// ids it must return, newest first.
type searchCase struct {
	q      string
	filter *cdr.Filter
	domain string
	want   []string
}

func (c searchCase) name() string {
	if c.filter != nil {
		b, _ := json.Marshal(c.filter)
		return string(b)
	}
	return fmt.Sprintf("%q", c.q)
}

// check runs each case as a search (one page: each result set is short).
func check(t *testing.T, e Engine, cases []searchCase) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range cases {
		f := tc.filter
		if f == nil {
			var err error
			if f, err = cdr.ParseQuery(tc.q); err != nil {
				t.Fatalf("%s: %v", tc.name(), err)
			}
		}
		p, err := e.Search(ctx, cdr.Query{Filter: f, Domain: tc.domain})
		if err != nil {
			t.Errorf("search %s: %v", tc.name(), err)
			continue
		}
		if got := IDs(p); !slices.Equal(got, tc.want) {
			t.Errorf("search %s (domain %q) = %v, want %v", tc.name(), tc.domain, got, tc.want)
		}
		if p.Next != "" {
			t.Errorf("search %s: next page on a short result", tc.name())
		}
	}
}
