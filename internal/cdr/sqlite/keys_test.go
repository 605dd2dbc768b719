package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// Exact keys live in rec_text beside the words: they must match exactly and
// never leak into word searches.
func TestExactKeys(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	long := strings.Repeat("x", 300)
	recs := []cdr.Record{
		{ID: "k1", Caller: cdr.Party{Account: "u100"}, Variables: map[string]string{"crm": "a b=c", "note": long}, Tags: []string{"VIP"}},
		{ID: "k2", Caller: cdr.Party{Account: "u1000"}, Variables: map[string]string{"crm": "a b"}, Tags: []string{"vip"}},
		{ID: "k3", Caller: cdr.Party{Account: "ivan.petrov", Name: "Ivan Petrov"}},
	}
	for i := range recs {
		recs[i].Domain, recs[i].Direction, recs[i].Outcome, recs[i].Ended = "example.com", cdr.Internal, cdr.Answered, end.Add(time.Duration(i)*time.Minute)
	}
	if err := db.PutBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    *cdr.Filter
		want string
	}{
		{&cdr.Filter{Op: cdr.OpAccount, Value: "u100"}, "k1"},
		{&cdr.Filter{Op: cdr.OpAccount, Value: "u1000"}, "k2"},
		{&cdr.Filter{Op: cdr.OpAccount, Value: "ivan.petrov"}, "k3"},
		{&cdr.Filter{Op: cdr.OpAccount, Value: "ivan"}, ""},
		{&cdr.Filter{Op: cdr.OpVar, Key: "crm", Value: "a b=c"}, "k1"},
		{&cdr.Filter{Op: cdr.OpVar, Key: "crm", Value: "a b"}, "k2"},
		{&cdr.Filter{Op: cdr.OpVar, Key: "note", Value: long}, "k1"},
		{&cdr.Filter{Op: cdr.OpTag, Value: "VIP"}, "k1"},
		{&cdr.Filter{Op: cdr.OpTag, Value: "vip"}, "k2"},
		// The hex of "u100" begins a75: a word search must not see it.
		{&cdr.Filter{Op: cdr.OpText, Value: "a75"}, ""},
		{&cdr.Filter{Op: cdr.OpText, Value: "petrov"}, "k3"},
		{cdr.Not(&cdr.Filter{Op: cdr.OpAccount, Value: "u100"}), "k3 k2"},
	} {
		p, err := db.Search(ctx, cdr.Query{Filter: c.f})
		if err != nil {
			t.Fatalf("%+v: %v", c.f, err)
		}
		var got []string
		for _, r := range p.Records {
			got = append(got, r.ID)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s %s=%s: got %v, want %q", c.f.Op, c.f.Key, c.f.Value, got, c.want)
		}
	}
}
