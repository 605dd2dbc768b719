package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store"
)

// Word prefixes are expanded through the vocabulary; the answers must be
// those of a plain prefix search, whatever the expansion does.
func TestWordPrefixes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	mk := func(id, name string, i int) cdr.Record {
		return cdr.Record{ID: id, Domain: "example.com", Direction: cdr.Inbound, Outcome: cdr.Answered,
			Ended: end.Add(time.Duration(i) * time.Second), Caller: cdr.Party{Name: name}}
	}
	recs := []cdr.Record{mk("n1", "José Álvarez", 1), mk("n2", "Фёдор Ёлкин", 2), mk("n3", "John Smithson", 3), mk("n4", "O'Brien", 4)}
	// More words under "zz" than one expansion takes.
	for i := range maxExpand + 5 {
		recs = append(recs, mk(fmt.Sprintf("z%02d", i), fmt.Sprintf("zz%c%c", 'a'+i/26, 'a'+i%26), 10+i))
	}
	if err := db.PutBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// A batch that fails must not leave its words believed stored.
	bad := []cdr.Record{mk("q1", "Quentin", 100), mk("n1", "Duplicate", 101)}
	if err := db.PutBatch(ctx, bad); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	if err := db.PutBatch(ctx, []cdr.Record{mk("q2", "Quentin", 102)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    string
		want string
	}{
		{"jose", "n1"}, {"JOSÉ", "n1"}, {"alv", "n1"}, {"álvarez", "n1"},
		{"федор", "n2"}, {"ЁЛК", "n2"}, {"елкин", "n2"},
		{"smith", "n3"}, {"smithsonian", ""}, {"o'brien", "n4"}, {"brien", "n4"},
		{"quentin", "q2"}, {"zza", ""}, // counted below
	} {
		f, err := cdr.ParseQuery(c.q)
		if err != nil {
			t.Fatal(err)
		}
		p, err := db.Search(ctx, cdr.Query{Filter: f, Limit: 100})
		if err != nil {
			t.Fatalf("%q: %v", c.q, err)
		}
		var got []string
		for _, r := range p.Records {
			got = append(got, r.ID)
		}
		if c.q == "zza" {
			if len(got) != 26 {
				t.Errorf("zza: %d records, want 26", len(got))
			}
			continue
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%q: got %v, want %q", c.q, got, c.want)
		}
	}
	f, _ := cdr.ParseQuery("zz")
	if fc, err := db.Facets(ctx, cdr.Query{Filter: f}); err != nil || fc.Total != int64(maxExpand+5) {
		t.Errorf("zz (more words than an expansion): %d (%v), want %d", fc.Total, err, maxExpand+5)
	}
}
