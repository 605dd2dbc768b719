package sqlite

import (
	"context"
	"strings"
	"testing"

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
