package cdrtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store"
)

func testSearch(t *testing.T, h Harness) {
	e := fresh(t, h)
	put(t, e, Fixture()...)
	check(t, e, []searchCase{
		{q: "", want: []string{"r1", "r2", "r3", "r4", "r6", "r5"}},
		{q: "", domain: "example.com", want: []string{"r1", "r2", "r3", "r4", "r6"}},
		{q: "ivanov", want: []string{"r2", "r4", "r6", "r5"}}, // Latin: Bob Ivanov
		{q: "иванов", want: []string{"r1", "r2"}},
		{q: "ИВАН", want: []string{"r1", "r2"}},
		{q: "vanov", want: nil}, // words match by prefix, not inside
		{q: "пётр", want: []string{"r1", "r2"}},
		{q: "петр", want: []string{"r1", "r2"}}, // ё = е
		{q: "ПЁТР", want: []string{"r1", "r2"}},
		{q: "smi", want: []string{"r3", "r5"}},
		{q: `"john smith"`, want: []string{"r3", "r5"}},
		{q: `"john smi"`, want: []string{"r3", "r5"}}, // the last word of a phrase is a prefix
		{q: `"smith john"`, want: nil},
		{q: "john smith", want: []string{"r3", "r5"}},
		{q: "1234", want: []string{"r1", "r2", "r3", "r5"}},
		{q: "7916", want: []string{"r1", "r2"}},
		{q: "9999", want: nil},
		{q: "4567", want: []string{"r1", "r2"}},
		{q: "5551212", want: []string{"r6"}}, // leg number and dialled "8 (495) 555-12-12"
		{q: "84955551212", want: []string{"r6"}},
		{q: "+7-916-123", want: []string{"r1", "r2"}},
		{q: "gateway", want: []string{"r6"}},
		{q: "trunk.example.net", want: []string{"r1", "r2"}},
		{q: "1234 outcome:answered", want: []string{"r1", "r3", "r5"}},
		{q: "1234 -outcome:answered", want: []string{"r2"}},
		{q: "1234 outcome:noanswer direction:inbound", want: []string{"r2"}},
		{q: "outcome:missed", want: []string{"r2", "r4"}},
		{q: "direction:outbound OR tag:vip", want: []string{"r1", "r3", "r6"}},
		{q: "-tag:test direction:outbound", want: []string{"r6"}},
		{q: "dur>60", want: []string{"r1"}},
		{q: "dur>=30 dur<=60", want: []string{"r3", "r5"}},
		{q: "dur<30", want: []string{"r2", "r4", "r6"}},
		{q: "from:2026-11-23", want: []string{"r1", "r2", "r3", "r4", "r6"}},
		{q: "to:2026-11-22", want: []string{"r5"}},
		{q: "from:2026-11-23T11:25:00Z to:2026-11-23T11:50:30Z", want: []string{"r1", "r2", "r3"}},
		{q: "from:2026-11-23T11:40:00Z to:2026-11-23T11:50:00Z", want: []string{"r2"}}, // from inclusive, to exclusive
		{q: "var:crm=42", want: []string{"r1"}},
		{q: "var:crm=4", want: nil}, // variables match exactly
		{q: "var:CRM=42", want: nil},
		{q: "var:lang=ru var:crm=42", want: []string{"r1"}},
		{q: "var:crm=43 OR var:crm=42", want: []string{"r1", "r2"}},
		{q: "lang ru", want: []string{"r1"}}, // variables are text too
		{q: "vip", want: []string{"r1"}},
		{q: "tag:vip", want: []string{"r1"}},
		{q: "tag:vi", want: nil}, // tags match exactly
		{q: "has:recording", want: []string{"r1"}},
		{q: "-has:recording", want: []string{"r2", "r3", "r4", "r6", "r5"}},
		{q: "account:alice", want: []string{"r1", "r3", "r4"}},
		{q: "account:ali", want: nil},
		{q: "account:bob -outcome:busy", want: []string{"r2", "r6", "r5"}},
		{q: "domain:other.org", want: []string{"r5"}},
		{q: "domain:other.org", domain: "example.com", want: nil}, // the scope wins
		{q: "smith", domain: "example.com", want: []string{"r3"}},
		{q: "(alice OR smith) -(direction:outbound outcome:answered)", want: []string{"r1", "r4", "r5"}},
	})
}

// testTextFolding: words fold case in Latin and Cyrillic, Latin diacritics
// and ё/е are ignored on both sides, and punctuation separates words.
func testTextFolding(t *testing.T, h Harness) {
	e := fresh(t, h)
	mk := func(id string, minutesAgo int, name string) cdr.Record {
		return Rec(id, minutesAgo, cdr.Inbound, cdr.NoAnswer, cdr.Party{Name: name}, cdr.Party{Account: "desk"}, 0)
	}
	put(t, e,
		mk("f1", 1, "José Müller"),
		mk("f2", 2, "Семён Щукин"),
		mk("f3", 3, "ЁЛКИН Артём"),
		mk("f4", 4, "Sean O'Brien"),
		mk("f5", 5, "Anna-Maria Łukasz"),
		mk("f6", 6, "Jose Muller"),
		mk("f7", 7, "Елкина Анна"),
	)
	check(t, e, []searchCase{
		{q: "jose", want: []string{"f1", "f6"}},
		{q: "JOSÉ", want: []string{"f1", "f6"}},
		{q: "muller", want: []string{"f1", "f6"}},
		{q: "Müll", want: []string{"f1", "f6"}},
		{q: `"josé müller"`, want: []string{"f1", "f6"}},
		{q: "семен", want: []string{"f2"}},
		{q: "СЕМЁН", want: []string{"f2"}},
		{q: "щук", want: []string{"f2"}},
		{q: "укин", want: nil},
		{q: "елкин", want: []string{"f3", "f7"}},
		{q: "ёлкин", want: []string{"f3", "f7"}},
		{q: "артем", want: []string{"f3"}},
		{q: "анна", want: []string{"f7"}},
		{q: "anna", want: []string{"f5"}},
		{q: "maria", want: []string{"f5"}},
		{q: "anna-maria", want: []string{"f5"}},
		{q: "o'brien", want: []string{"f4"}},
		{q: "brien", want: []string{"f4"}},
		{q: "desk", want: []string{"f1", "f2", "f3", "f4", "f5", "f6", "f7"}},
		{filter: &cdr.Filter{Op: cdr.OpText, Value: "  SEAN  "}, want: []string{"f4"}},
	})
}

// testDigitFragments: a fragment of three or more digits is found anywhere
// in any number of the record, never across two numbers, never in words.
func testDigitFragments(t *testing.T, h Harness) {
	e := fresh(t, h)
	a := Rec("d1", 1, cdr.Inbound, cdr.Answered, cdr.Party{Number: "+79161234567"}, cdr.Party{Account: "u101", Number: "101"}, time.Minute)
	b := Rec("d2", 2, cdr.Outbound, cdr.Answered, cdr.Party{Account: "u102", Number: "102"}, cdr.Party{Number: "0044 20 7946 0000"}, time.Minute)
	b.Dialled = "9-0044-20-7946-0000"
	c := Rec("d3", 3, cdr.Internal, cdr.NoAnswer, cdr.Party{Account: "u555", Name: "Room 4567"}, cdr.Party{Account: "u556"}, 0)
	put(t, e, a, b, c)
	check(t, e, []searchCase{
		{q: "916", want: []string{"d1"}},
		{q: "79161234567", want: []string{"d1"}},
		{q: "234", want: []string{"d1"}},
		{q: "567", want: []string{"d1"}}, // not "Room 4567": numbers only
		{q: "4567101", want: nil},        // not across caller and callee
		{q: "101", want: []string{"d1"}},
		{q: "794600", want: []string{"d2"}},
		{q: "90044", want: []string{"d2"}}, // only in the dialled string
		{q: "000", want: []string{"d2"}},
		{q: "u555", want: []string{"d3"}}, // a word, not a fragment
		{filter: &cdr.Filter{Op: cdr.OpDigits, Value: "4567"}, want: []string{"d1"}},
		// A number sent as a text term is a fragment too.
		{filter: &cdr.Filter{Op: cdr.OpText, Value: "+7 916"}, want: []string{"d1"}},
		{filter: cdr.Not(&cdr.Filter{Op: cdr.OpText, Value: "4567"}), want: []string{"d2", "d3"}},
		{q: `"20 7946"`, want: []string{"d2"}},
	})
	if _, err := cdr.ParseQuery("10"); !errors.Is(err, cdr.ErrQuery) {
		t.Errorf("a two-digit fragment parses: %v", err)
	}
}

// testFilterTree: filter trees built directly (as the API takes them), with
// not and or at every level.
func testFilterTree(t *testing.T, h Harness) {
	e := fresh(t, h)
	put(t, e, Fixture()...)
	text := func(v string) *cdr.Filter { return &cdr.Filter{Op: cdr.OpText, Value: v} }
	digits := func(v string) *cdr.Filter { return &cdr.Filter{Op: cdr.OpDigits, Value: v} }
	op := func(o cdr.Op, v string) *cdr.Filter { return &cdr.Filter{Op: o, Value: v} }
	ms := func(n int64) *int64 { return &n }
	check(t, e, []searchCase{
		{filter: cdr.Or(text("alice"), digits("4955")), want: []string{"r1", "r3", "r4", "r6"}},
		{filter: cdr.Not(cdr.Or(op(cdr.OpOutcome, "answered"), op(cdr.OpOutcome, "busy"))), want: []string{"r2", "r6"}},
		{filter: cdr.And(cdr.Not(text("ivanov")), op(cdr.OpDirection, "inbound")), want: []string{"r1"}},
		{filter: cdr.Not(cdr.Not(op(cdr.OpTag, "vip"))), want: []string{"r1"}},
		{filter: cdr.Or(cdr.And(&cdr.Filter{Op: cdr.OpVar, Key: "crm", Value: "42"}, &cdr.Filter{Op: cdr.OpRecording}), op(cdr.OpTag, "test")), want: []string{"r1", "r3"}},
		{filter: cdr.Not(digits("1234")), want: []string{"r4", "r6"}},
		{filter: cdr.Or(cdr.Not(text("smith")), op(cdr.OpDomain, "other.org")), want: []string{"r1", "r2", "r4", "r6", "r5"}},
		{filter: cdr.Not(op(cdr.OpAccount, "bob")), want: []string{"r1", "r3"}},
		{filter: cdr.Not(&cdr.Filter{Op: cdr.OpDuration, MinMs: ms(30000)}), want: []string{"r2", "r4", "r6"}},
		{filter: cdr.Not(&cdr.Filter{Op: cdr.OpVar, Key: "crm", Value: "42"}), want: []string{"r2", "r3", "r4", "r6", "r5"}},
		{filter: cdr.Not(op(cdr.OpTag, "vip")), want: []string{"r2", "r3", "r4", "r6", "r5"}},
		{filter: cdr.And(
			cdr.Or(text("alice"), text("bob")),
			cdr.Not(cdr.Or(op(cdr.OpDirection, "internal"), op(cdr.OpOutcome, "failed"))),
			&cdr.Filter{Op: cdr.OpTime, From: T0.Add(-35 * time.Minute)},
		), want: []string{"r1", "r2", "r3"}},
		{filter: cdr.And(cdr.Or(text("иванов"), digits("4420")), cdr.Not(cdr.And(op(cdr.OpOutcome, "answered"), op(cdr.OpDirection, "inbound")))), want: []string{"r2", "r3"}},
		{filter: cdr.Or(cdr.And(text("alice"), text("smith")), cdr.And(digits("555"), cdr.Not(text("gateway")))), want: []string{"r3"}},
		{filter: cdr.And(text("gateway"), cdr.Not(text("gateway"))), want: nil},
		{filter: cdr.Or(text("gateway"), cdr.Not(text("gateway"))), want: []string{"r1", "r2", "r3", "r4", "r6", "r5"}},
		{filter: cdr.Or(op(cdr.OpDomain, "other.org"), cdr.And(text("smith"), cdr.Not(op(cdr.OpDomain, "other.org")))), want: []string{"r3", "r5"}},
	})
}

// testDomainIsolation: a query scoped to a domain sees that domain's records
// only, whatever its filter says (an or, a not, a domain: term) and whatever
// the other domains hold.
func testDomainIsolation(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	var recs []cdr.Record
	for i, d := range []string{"a.example", "b.example", "c.example"} {
		for j, r := range Fixture() {
			r.ID = fmt.Sprintf("%s-%s", d[:1], r.ID)
			r.Domain = d
			r.Ended = r.Ended.Add(-time.Duration(i) * time.Second)
			if j == 4 { // r5 of every domain gets the same tag and variable
				r.Tags, r.Variables = []string{"vip"}, map[string]string{"crm": "42"}
			}
			recs = append(recs, r)
		}
	}
	put(t, e, recs...)
	all := []string{"a-r1", "a-r2", "a-r3", "a-r4", "a-r6", "a-r5"}
	check(t, e, []searchCase{
		{q: "", domain: "a.example", want: all},
		{q: "ivanov", domain: "b.example", want: []string{"b-r2", "b-r4", "b-r6", "b-r5"}},
		{q: "1234", domain: "c.example", want: []string{"c-r1", "c-r2", "c-r3", "c-r5"}},
		{q: "var:crm=42", domain: "a.example", want: []string{"a-r1", "a-r5"}},
		{q: "tag:vip", domain: "b.example", want: []string{"b-r1", "b-r5"}},
		{q: "domain:b.example OR smith", domain: "a.example", want: []string{"a-r3", "a-r5"}},
		{q: "-domain:a.example", domain: "a.example", want: nil},
		{q: "-domain:b.example", domain: "a.example", want: all},
		{q: "domain:b.example", domain: "a.example", want: nil},
		{q: "domain:b.example gateway", want: []string{"b-r6"}},
		{q: "gateway", want: []string{"a-r6", "b-r6", "c-r6"}},
		{q: "account:alice OR 4955", domain: "c.example", want: []string{"c-r1", "c-r3", "c-r4", "c-r6"}},
		{q: "", domain: "nowhere.example", want: nil},
	})
	// Paging through a scope stays in it.
	var seen []string
	q := cdr.Query{Domain: "b.example", Limit: 4}
	for range 10 {
		p, err := e.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, IDs(p)...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if want := []string{"b-r1", "b-r2", "b-r3", "b-r4", "b-r6", "b-r5"}; !slices.Equal(seen, want) {
		t.Errorf("pages of b.example = %v, want %v", seen, want)
	}
	f, err := e.Facets(ctx, cdr.Query{Domain: "c.example", Filter: must(cdr.ParseQuery("domain:a.example OR outcome:answered"))})
	if err != nil {
		t.Fatal(err)
	}
	if f.Total != 3 || f.Outcome[cdr.Answered] != 3 {
		t.Errorf("facets in c.example of answered or in a.example = %+v, want 3 answered", f)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func testFacets(t *testing.T, h Harness) {
	e := fresh(t, h)
	put(t, e, Fixture()...)
	ctx := context.Background()
	empty := cdr.Facets{Outcome: map[cdr.Outcome]int64{}, Direction: map[cdr.Direction]int64{}}
	for _, tc := range []struct {
		q, domain string
		want      cdr.Facets
	}{
		{"", "", cdr.Facets{Total: 6,
			Outcome:   map[cdr.Outcome]int64{cdr.Answered: 3, cdr.NoAnswer: 1, cdr.Busy: 1, cdr.Failed: 1},
			Direction: map[cdr.Direction]int64{cdr.Inbound: 3, cdr.Outbound: 2, cdr.Internal: 1}}},
		{"1234", "example.com", cdr.Facets{Total: 3,
			Outcome:   map[cdr.Outcome]int64{cdr.Answered: 2, cdr.NoAnswer: 1},
			Direction: map[cdr.Direction]int64{cdr.Inbound: 2, cdr.Outbound: 1}}},
		{"ivanov OR alice", "", cdr.Facets{Total: 6,
			Outcome:   map[cdr.Outcome]int64{cdr.Answered: 3, cdr.NoAnswer: 1, cdr.Busy: 1, cdr.Failed: 1},
			Direction: map[cdr.Direction]int64{cdr.Inbound: 3, cdr.Outbound: 2, cdr.Internal: 1}}},
		{"-outcome:answered -direction:internal", "", cdr.Facets{Total: 2,
			Outcome:   map[cdr.Outcome]int64{cdr.NoAnswer: 1, cdr.Failed: 1},
			Direction: map[cdr.Direction]int64{cdr.Inbound: 1, cdr.Outbound: 1}}},
		{"var:crm=42", "", cdr.Facets{Total: 1,
			Outcome:   map[cdr.Outcome]int64{cdr.Answered: 1},
			Direction: map[cdr.Direction]int64{cdr.Inbound: 1}}},
		{"9999", "", empty},
		{"", "nowhere.example", empty},
	} {
		f, err := cdr.ParseQuery(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		// The cursor does not narrow facets, even a malformed one.
		got, err := e.Facets(ctx, cdr.Query{Filter: f, Domain: tc.domain, Cursor: "ignored", Limit: 1})
		if err != nil {
			t.Fatalf("facets %q: %v", tc.q, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("facets %q = %v, want %v", tc.q, got, tc.want)
		}
	}
}

// testGet: a record comes back whole, legs and all.
func testGet(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	recs := Fixture()
	r := &recs[5]
	r.Answered, r.Bridged = r.Ended.Add(-5*time.Second), r.Ended.Add(-4*time.Second)
	r.Route = cdr.Route{Kind: "trunk", Target: "moscow-gw"}
	r.Hangup = cdr.Hangup{Cause: "NORMAL_CLEARING", SIPCode: 200, By: cdr.ByCallee}
	r.DTMF = "12#"
	r.Variables = map[string]string{"odd": "a\"b'c\\d\x00e", "пусто": ""}
	r.Recordings = []cdr.Recording{{File: "a.wav", Started: r.Answered}, {File: "b.wav"}}
	r.Legs = append(r.Legs, cdr.Leg{ID: "r6-c", CallID: "x@y", Parent: "r6-a", Bridged: "r6-a",
		Created: r.Created, Answered: r.Answered, Ended: r.Ended.Add(123 * time.Microsecond), Outcome: cdr.Answered,
		Hangup: cdr.Hangup{Cause: "X", By: cdr.ByCaller}})
	put(t, e, recs...)
	for _, want := range recs {
		got, err := e.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get %s: %v", want.ID, err)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("Get %s:\n got %s\nwant %s", want.ID, gj, wj)
		}
	}
	if _, err := e.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get nope: %v, want store.ErrNotFound", err)
	}
	// Variables match exactly, odd characters and empty values included.
	check(t, e, []searchCase{
		{filter: &cdr.Filter{Op: cdr.OpVar, Key: "odd", Value: "a\"b'c\\d\x00e"}, want: []string{"r6"}},
		{filter: &cdr.Filter{Op: cdr.OpVar, Key: "пусто", Value: ""}, want: []string{"r6"}},
		{filter: &cdr.Filter{Op: cdr.OpVar, Key: "crm", Value: ""}, want: nil},
	})
}

// testConflict: a duplicate id fails the whole batch with store.ErrConflict,
// whether it repeats a stored record or one of the same batch.
func testConflict(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	put(t, e, Fixture()...)
	extra := Fixture()[1]
	extra.ID = "r7"
	if err := e.PutBatch(ctx, []cdr.Record{extra, Fixture()[0]}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("batch with a stored id: %v, want store.ErrConflict", err)
	}
	twice := Fixture()[2]
	twice.ID = "r8"
	if err := e.PutBatch(ctx, []cdr.Record{twice, extra, twice}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("batch with an id twice: %v, want store.ErrConflict", err)
	}
	for _, id := range []string{"r7", "r8"} {
		if _, err := e.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s written by a failed batch: %v", id, err)
		}
	}
	f, err := e.Facets(ctx, cdr.Query{})
	if err != nil || f.Total != 6 {
		t.Errorf("after failed batches: %d records, %v; want 6", f.Total, err)
	}
	// The store goes on.
	put(t, e, extra)
	if _, err := e.Get(ctx, "r7"); err != nil {
		t.Errorf("r7 after a retry: %v", err)
	}
}

// testInvalid: a record that cannot be stored fails its batch with
// cdr.ErrInvalid and nothing of the batch is written.
func testInvalid(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	good := Fixture()[0]
	for _, bad := range []cdr.Record{
		{ID: "", Domain: "example.com", Direction: cdr.Inbound, Outcome: cdr.Answered, Ended: T0},
		{ID: "x", Domain: "", Direction: cdr.Inbound, Outcome: cdr.Answered, Ended: T0},
		{ID: "x", Domain: "example.com", Direction: cdr.Inbound, Outcome: cdr.Answered},
		{ID: "x", Domain: "example.com", Direction: "sideways", Outcome: cdr.Answered, Ended: T0},
		{ID: "x", Domain: "example.com", Direction: cdr.Inbound, Outcome: "maybe", Ended: T0},
	} {
		if err := e.PutBatch(ctx, []cdr.Record{good, bad}); !errors.Is(err, cdr.ErrInvalid) {
			t.Errorf("batch with %+v: %v, want cdr.ErrInvalid", bad, err)
		}
	}
	if _, err := e.Get(ctx, good.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s written by an invalid batch: %v", good.ID, err)
	}
	if err := e.PutBatch(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func testQueryErrors(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	put(t, e, Fixture()...)
	for _, q := range []cdr.Query{
		{Filter: &cdr.Filter{Op: "xor"}},
		{Filter: &cdr.Filter{Op: cdr.OpDigits, Value: "12"}},
		{Filter: &cdr.Filter{Op: cdr.OpDigits, Value: "12a4"}},
		{Filter: &cdr.Filter{Op: cdr.OpText, Value: " "}},
		{Filter: cdr.Not(nil)},
		{Filter: &cdr.Filter{Op: cdr.OpNot}},
		{Filter: cdr.And()},
		{Filter: &cdr.Filter{Op: cdr.OpTime}},
		{Filter: &cdr.Filter{Op: cdr.OpOutcome, Value: "missed"}},
		{Filter: &cdr.Filter{Op: cdr.OpVar, Value: "x"}},
		{Filter: cdr.Or(&cdr.Filter{Op: cdr.OpTag, Value: "vip"}, &cdr.Filter{Op: "bogus"})},
	} {
		if _, err := e.Search(ctx, q); !errors.Is(err, cdr.ErrQuery) {
			b, _ := json.Marshal(q.Filter)
			t.Errorf("search %s: %v, want cdr.ErrQuery", b, err)
		}
		if _, err := e.Facets(ctx, q); !errors.Is(err, cdr.ErrQuery) {
			b, _ := json.Marshal(q.Filter)
			t.Errorf("facets %s: %v, want cdr.ErrQuery", b, err)
		}
	}
	for _, c := range []string{"%%%", "bm8tY29sb24", cdr.Cursor{Ended: T0}.Encode()} {
		if _, err := e.Search(ctx, cdr.Query{Cursor: c}); !errors.Is(err, cdr.ErrQuery) {
			t.Errorf("cursor %q: %v, want cdr.ErrQuery", c, err)
		}
	}
}

// testPageLimit: pages hold Limit records (DefaultLimit when 0), and Next
// is empty exactly on the last page.
func testPageLimit(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	var recs []cdr.Record
	for i := range cdr.DefaultLimit + 1 {
		recs = append(recs, Synth(i, T0.Add(-time.Duration(i)*time.Second)))
	}
	put(t, e, recs...)
	for _, tc := range []struct {
		limit, want int
		next        bool
	}{
		{0, cdr.DefaultLimit, true},
		{-3, cdr.DefaultLimit, true},
		{cdr.DefaultLimit + 1, cdr.DefaultLimit + 1, false},
		{cdr.DefaultLimit + 2, cdr.DefaultLimit + 1, false},
		{cdr.MaxLimit * 2, cdr.DefaultLimit + 1, false},
		{1, 1, true},
	} {
		p, err := e.Search(ctx, cdr.Query{Limit: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) != tc.want || (p.Next != "") != tc.next {
			t.Errorf("limit %d: %d records, next %q; want %d, next %v", tc.limit, len(p.Records), p.Next, tc.want, tc.next)
		}
		if len(p.Records) > 0 && p.Records[0].ID != "p00000" {
			t.Errorf("limit %d: first %s, want the newest", tc.limit, p.Records[0].ID)
		}
	}
	// The last page's cursor leads to an empty page.
	p, err := e.Search(ctx, cdr.Query{Limit: cdr.DefaultLimit})
	if err != nil {
		t.Fatal(err)
	}
	p, err = e.Search(ctx, cdr.Query{Limit: cdr.DefaultLimit, Cursor: p.Next})
	if err != nil || !slices.Equal(IDs(p), []string{fmt.Sprintf("p%05d", cdr.DefaultLimit)}) || p.Next != "" {
		t.Errorf("second page: %v next %q, %v", IDs(p), p.Next, err)
	}
}

// testPaginationStable pages through a query while new records (newer than,
// tied with and older than the pages already read) are written: every record
// present at the start is seen exactly once, in order, and none twice.
func testPaginationStable(t *testing.T, h Harness) {
	e := fresh(t, h)
	ctx := context.Background()
	var initial []cdr.Record
	for i := range 500 {
		// Groups of 5 share an end time.
		initial = append(initial, Synth(i, T0.Add(-time.Duration(i/5)*time.Second)))
	}
	put(t, e, initial...)
	f := must(cdr.ParseQuery("load 7916"))
	seen := map[string]int{}
	q := cdr.Query{Filter: f, Limit: 37}
	next := 500
	var prev *cdr.Record
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		p, err := e.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Records {
			r := &p.Records[i]
			seen[r.ID]++
			if prev != nil && r.Ended.After(prev.Ended) {
				t.Fatalf("order: %s (%s) after %s (%s)", r.ID, r.Ended, prev.ID, prev.Ended)
			}
			prev = r
		}
		var add []cdr.Record
		for _, end := range []time.Time{T0.Add(time.Hour), p.Records[len(p.Records)-1].Ended, T0.Add(-time.Hour)} {
			add = append(add, Synth(next, end))
			next++
		}
		put(t, e, add...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	for _, r := range initial {
		if seen[r.ID] != 1 {
			t.Errorf("%s seen %d times", r.ID, seen[r.ID])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", id, n)
		}
	}
}
