package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// TestPlansWalkNewestFirst checks the property the engine's speed rests on:
// every search shape walks its driver in time order and stops at the page's
// end, never collecting and sorting all matches.
func TestPlansWalkNewestFirst(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"", "4567", "smith", "иванов outcome:noanswer", "1234 from:2026-10-01 to:2026-11-01",
		"var:crm=42", "tag:vip", "account:u100", "direction:inbound dur>300 -has:recording", "smith 4567",
		"domain:example.com",
	} {
		f, err := cdr.ParseQuery(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		p, err := db.shards[0].plan(ctx, cdr.Query{Filter: f, Domain: "example.com"}, 1<<63-1)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		rows, err := db.shards[0].r.QueryContext(ctx, "EXPLAIN QUERY PLAN SELECT "+p.key+" FROM "+p.from+p.where()+" ORDER BY "+p.key+" DESC LIMIT 51", p.args...)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if s := strings.Join(plan, "; "); strings.Contains(s, "TEMP B-TREE") {
			t.Errorf("%q sorts its matches: %s", q, s)
		} else {
			t.Logf("%q: %s", q, s)
		}
	}
}

// Without a domain scope, full-text queries filtered by outcome or
// direction, and their facets, never read the records table: the outcome
// and direction are in the key.
func TestPlansKeyOnly(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"иванов outcome:noanswer", "4567 direction:inbound from:2026-10-01", "smith -outcome:answered"} {
		f, _ := cdr.ParseQuery(q)
		p, err := db.shards[0].plan(ctx, cdr.Query{Filter: f}, 1<<63-1)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(p.from, " rec r") {
			t.Errorf("%q joins the records: %s", q, p.from)
		}
	}
}

// More records than a millisecond has slots, all ending in it, are all
// kept, found and counted.
func TestFullMillisecond(t *testing.T) {
	ctx := context.Background()
	db, err := OpenWith(ctx, t.TempDir(), Options{Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var recs []cdr.Record
	for i := range 3*slots + 7 {
		o := cdr.Outcomes[i%len(cdr.Outcomes)]
		recs = append(recs, cdr.Record{ID: fmt.Sprintf("m%04d", i), Domain: "example.com", Direction: cdr.Directions[i%3],
			Outcome: o, Ended: end, Caller: cdr.Party{Name: "Same Millisecond"}})
	}
	// Half now, half later: the second half is older than the newest record
	// when a newer one is written in between.
	if err := db.PutBatch(ctx, recs[:len(recs)/2]); err != nil {
		t.Fatal(err)
	}
	newer := cdr.Record{ID: "newer", Domain: "example.com", Direction: cdr.Inbound, Outcome: cdr.Answered, Ended: end.Add(time.Second)}
	if err := db.PutBatch(ctx, []cdr.Record{newer}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutBatch(ctx, recs[len(recs)/2:]); err != nil {
		t.Fatal(err)
	}
	f, _ := cdr.ParseQuery("millisecond")
	fc, err := db.Facets(ctx, cdr.Query{Filter: f})
	if err != nil || fc.Total != int64(len(recs)) {
		t.Fatalf("%d records (%v), want %d", fc.Total, err, len(recs))
	}
	for i, o := range cdr.Outcomes {
		want := int64(0)
		for j := range recs {
			if j%len(cdr.Outcomes) == i {
				want++
			}
		}
		if fc.Outcome[o] != want {
			t.Errorf("outcome %s: %d, want %d", o, fc.Outcome[o], want)
		}
	}
	seen := map[string]bool{}
	q := cdr.Query{Filter: f, Limit: 50}
	for {
		p, err := db.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if seen[r.ID] {
				t.Fatalf("%s twice", r.ID)
			}
			seen[r.ID] = true
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(seen) != len(recs) {
		t.Errorf("paged through %d records, want %d", len(seen), len(recs))
	}
}
