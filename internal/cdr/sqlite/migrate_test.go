package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/store/sqlite/schema"
)

// A database of the first schema keeps its records, searchable, after Open.
func TestMoveLegacyRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := sql.Open("sqlite", schema.DSN(filepath.Join(dir, "cdr.db"), "journal_mode(WAL)"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Migrate(ctx, old, migrations[:2]); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	want := []cdr.Record{
		{ID: "a1", Domain: "example.com", Direction: cdr.Inbound, Outcome: cdr.Answered, Ended: end,
			Caller: cdr.Party{Number: "+79161234567", Name: "Пётр Иванов"}, Callee: cdr.Party{Account: "u100"},
			Variables: map[string]string{"crm": "42"}},
		{ID: "a2", Domain: "example.com", Direction: cdr.Internal, Outcome: cdr.Busy, Ended: end.Add(time.Minute),
			Caller: cdr.Party{Account: "u101", Name: "John Smith"}, Callee: cdr.Party{Account: "u100"}, Tags: []string{"vip"}},
	}
	for i, r := range want {
		data, _ := json.Marshal(r)
		if _, err := old.ExecContext(ctx, `INSERT INTO records (seq, id, domain, direction, outcome, created, ended, duration, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`, i+1, r.ID, r.Domain, r.Direction, r.Outcome, r.Ended.UnixMilli(), r.Ended.UnixMilli(), string(data)); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"", []string{"a2", "a1"}},
		{"иванов", []string{"a1"}},
		{"1234", []string{"a1"}},
		{"account:u100", []string{"a2", "a1"}},
		{"var:crm=42", []string{"a1"}},
		{"tag:vip", []string{"a2"}},
	} {
		f, err := cdr.ParseQuery(c.q)
		if err != nil {
			t.Fatal(err)
		}
		p, err := db.Search(ctx, cdr.Query{Filter: f})
		if err != nil {
			t.Fatalf("%q: %v", c.q, err)
		}
		var got []string
		for _, r := range p.Records {
			got = append(got, r.ID)
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%q after the move: got %v, want %v", c.q, got, c.want)
		}
	}
	var n int
	if err := db.shards[0].w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name IN ('records', 'cdr_text', 'vars')").Scan(&n); err != nil || n != 0 {
		t.Errorf("old tables left: %d (%v)", n, err)
	}
}
