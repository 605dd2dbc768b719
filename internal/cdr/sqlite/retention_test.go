package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// Retention deletes old records chunk by chunk while a writer keeps adding
// new ones and searches run: nothing new is lost, nothing old is left.
func TestRetentionBesideWriters(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	mk := func(i int, ended time.Time) cdr.Record {
		return cdr.Record{ID: fmt.Sprintf("r%05d", i), Domain: "example.com", Direction: cdr.Inbound, Outcome: cdr.Answered,
			Ended: ended, Caller: cdr.Party{Number: fmt.Sprintf("+7916%07d", i), Name: "Иван Петров"}, Callee: cdr.Party{Account: "u100"},
			Variables: map[string]string{"k": "v"}, Tags: []string{"t"}}
	}
	var old []cdr.Record
	for i := range 3000 {
		old = append(old, mk(i, now.Add(-100*24*time.Hour).Add(time.Duration(i)*time.Second)))
	}
	if err := db.PutBatch(ctx, old); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { // new records arrive during retention
		for b := range 10 {
			var recs []cdr.Record
			for i := range 100 {
				recs = append(recs, mk(10000+b*100+i, now.Add(time.Duration(b*100+i)*time.Millisecond)))
			}
			if err := db.PutBatch(ctx, recs); err != nil {
				t.Error(err)
				return
			}
		}
	})
	ret := &cdr.Retention{Store: db, Keep: 90 * 24 * time.Hour, Chunk: 700, Now: func() time.Time { return now }}
	n, err := ret.Once(ctx)
	wg.Wait()
	if err != nil || n != 3000 {
		t.Fatalf("retention deleted %d (%v), want 3000", n, err)
	}
	for _, q := range []string{"", "петров", "7916", "var:k=v", "tag:t", "account:u100"} {
		f, _ := cdr.ParseQuery(q)
		fc, err := db.Facets(ctx, cdr.Query{Filter: f})
		if err != nil || fc.Total != 1000 {
			t.Errorf("%q after retention: %d records (%v), want the 1000 new ones", q, fc.Total, err)
		}
	}
	if _, err := db.Get(ctx, "r00000"); err == nil {
		t.Error("an old record is still there")
	}
	// A record of the deleted period written afterwards is not matched by
	// the deleted records' index entries.
	late := mk(20000, now.Add(-100*24*time.Hour))
	late.Caller = cdr.Party{Number: "+15550001111", Name: "Late Caller"}
	if err := db.PutBatch(ctx, []cdr.Record{late}); err != nil {
		t.Fatal(err)
	}
	f, _ := cdr.ParseQuery("петров")
	if fc, _ := db.Facets(ctx, cdr.Query{Filter: f}); fc.Total != 1000 {
		t.Errorf("петров after a late record: %d, want 1000", fc.Total)
	}
}
