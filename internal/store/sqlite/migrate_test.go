package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/ringo-pbx/ringo/internal/store"
	"github.com/ringo-pbx/ringo/internal/store/sqlite/schema"
)

// A database of the first schema (domains without prefs) keeps its
// domains and accounts after Open, and takes domain settings from then on.
func TestMigrateDomainPrefs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := sql.Open("sqlite", schema.DSN(filepath.Join(dir, "ringo.db"), "journal_mode(WAL)", "foreign_keys(1)"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Migrate(ctx, old, migrations[:1]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO domains (name, main, created, updated) VALUES ('a.test', 1, 1000, 1000), ('b.test', 0, 2000, 2000)`,
		`INSERT INTO accounts (domain, name, prefs, created, updated) VALUES ('a.test', 'alice', '{"recordCalls":true}', 1000, 1000)`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	doms, err := db.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(doms) != 2 || doms[0].Name != "a.test" || !doms[0].Main || doms[1].Name != "b.test" ||
		doms[0].Prefs != (store.DomainPrefs{}) || doms[1].Prefs != (store.DomainPrefs{}) {
		t.Fatalf("domains after migration: %+v", doms)
	}
	accs, err := db.Accounts(ctx, "a.test")
	if err != nil || len(accs) != 1 || !accs[0].Prefs.RecordCalls {
		t.Fatalf("accounts after migration: %+v, %v", accs, err)
	}

	b := doms[1]
	b.Prefs.DirectMedia = true
	if err := db.PutDomain(ctx, b); err != nil {
		t.Fatal(err)
	}
	doms, err = db.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !doms[1].Prefs.DirectMedia || doms[0].Prefs.DirectMedia || !doms[0].Main {
		t.Fatalf("domains after setting b.test's prefs: %+v", doms)
	}
}
