package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/store"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

// schemaVersion is the number of migrations this binary knows. Bump it when
// appending a migration: the test pins that user_version tracks the list.
const schemaVersion = 2

func open(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// raw opens the database file directly, bypassing the store.
func raw(t *testing.T, dir string) *sql.DB {
	t.Helper()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ringo.db")+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	if err := db.PutDomain(ctx, store.Domain{Name: "example.com", Main: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening runs no migration again (CREATE TABLE would fail) and keeps the data.
	for i := 0; i < 2; i++ {
		db2, err := sqlite.Open(ctx, dir)
		if err != nil {
			t.Fatalf("reopen %d: %v", i+1, err)
		}
		doms, err := db2.Domains(ctx)
		db2.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(doms) != 1 || doms[0].Name != "example.com" || !doms[0].Main {
			t.Fatalf("reopen %d: domains = %+v", i+1, doms)
		}
	}
	r := raw(t, dir)
	if v := userVersion(t, r); v != schemaVersion {
		t.Fatalf("user_version = %d, want %d (the number of migrations)", v, schemaVersion)
	}
	want := []string{"accounts", "aliases", "bindings", "domains", "forwarders"}
	if got := tables(t, r); !reflect.DeepEqual(got, want) {
		t.Fatalf("tables = %v, want %v", got, want)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	db.Close()
	r := raw(t, dir)
	if _, err := r.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if db, err := sqlite.Open(context.Background(), dir); err == nil {
		db.Close()
		t.Fatal("Open accepted a database with a newer schema version")
	}
}

func TestWALAndForeignKeys(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	// A forwarder of a domain that does not exist violates the foreign key:
	// the pragma is in force on the store's connection.
	err := db.PutForwarder(ctx, store.Forwarder{Domain: "nowhere.test", Name: "x", To: "y"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutForwarder to a missing domain = %v, want ErrConflict", err)
	}
	err = db.PutAccount(ctx, store.Account{Domain: "nowhere.test", Name: "x"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutAccount in a missing domain = %v, want ErrConflict", err)
	}
}

func TestPutDomainMainExclusive(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	for i, n := range []string{"a.test", "b.test", "c.test"} {
		ts := t0.Add(time.Duration(i) * time.Second)
		if err := db.PutDomain(ctx, store.Domain{Name: n, Main: n == "a.test", Created: ts, Updated: ts}); err != nil {
			t.Fatal(err)
		}
	}
	mains := func() []string {
		doms, err := db.Domains(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range doms {
			if d.Main {
				out = append(out, d.Name)
			}
		}
		return out
	}
	if got := mains(); !slices.Equal(got, []string{"a.test"}) {
		t.Fatalf("main domains = %v, want [a.test]", got)
	}
	if err := db.PutDomain(ctx, store.Domain{Name: "c.test", Main: true, Created: t0, Updated: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := mains(); !slices.Equal(got, []string{"c.test"}) {
		t.Fatalf("main domains = %v, want [c.test]", got)
	}
	// Setting a non-main domain non-main does not clear the main one.
	if err := db.PutDomain(ctx, store.Domain{Name: "b.test", Main: false, Created: t0, Updated: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := mains(); !slices.Equal(got, []string{"c.test"}) {
		t.Fatalf("main domains = %v, want [c.test]", got)
	}
	doms, err := db.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Ordered by creation; an update keeps Created and moves Updated.
	if len(doms) != 3 || doms[0].Name != "a.test" || doms[1].Name != "b.test" || doms[2].Name != "c.test" {
		t.Fatalf("domains = %+v", doms)
	}
	if c := doms[2]; !c.Created.Equal(t0.Add(2*time.Second)) || !c.Updated.Equal(t0.Add(time.Hour)) {
		t.Fatalf("c.test created %v updated %v", c.Created, c.Updated)
	}
}

func TestAccountRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	ts := time.UnixMilli(1_700_000_000_123).UTC()
	for _, n := range []string{"a.test", "b.test"} {
		if err := db.PutDomain(ctx, store.Domain{Name: n, Created: ts, Updated: ts}); err != nil {
			t.Fatal(err)
		}
	}
	alice := store.Account{
		Domain: "a.test", Name: "alice", RealName: "Alice Liddell",
		HA1MD5: "md5hash", HA1SHA256: "sha256hash",
		Aliases: []string{"100", "al"},
		Prefs: store.Prefs{
			Language: "english", Timezone: "UTC",
			WorkingHours: map[string]string{"mon": "09:00-18:00"},
			Rules:        []store.Rule{{Divert: "noanswer", To: "bob", After: "20s"}},
			Settings:     map[string]any{"k": "v", "n": 3.0, "list": []any{"a", "b"}},
		},
		Created: ts, Updated: ts,
	}
	bob := store.Account{Domain: "a.test", Name: "bob", Aliases: []string{}, Created: ts, Updated: ts}
	// The same alias in another domain is no conflict.
	other := store.Account{Domain: "b.test", Name: "carol", Aliases: []string{"100"}, Created: ts, Updated: ts}
	for _, a := range []store.Account{bob, alice, other} {
		if err := db.PutAccount(ctx, a); err != nil {
			t.Fatalf("PutAccount %s: %v", a.Name, err)
		}
	}
	check := func(db *sqlite.DB) {
		t.Helper()
		got, err := db.Accounts(ctx, "a.test")
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Account{alice, bob}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Accounts(a.test) =\n%+v\nwant\n%+v", got, want)
		}
		all, err := db.Accounts(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Account{alice, bob, other}; !reflect.DeepEqual(all, want) {
			t.Fatalf("Accounts(\"\") =\n%+v\nwant\n%+v", all, want)
		}
	}
	check(db)
	db.Close()
	check(open(t, dir))
}

func TestAccountAliases(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	if err := db.PutDomain(ctx, store.Domain{Name: "a.test"}); err != nil {
		t.Fatal(err)
	}
	put := func(name string, aliases ...string) error {
		return db.PutAccount(ctx, store.Account{Domain: "a.test", Name: name, Aliases: aliases})
	}
	aliasesOf := func(name string) []string {
		accs, err := db.Accounts(ctx, "a.test")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accs {
			if a.Name == name {
				return a.Aliases
			}
		}
		t.Fatalf("no account %s", name)
		return nil
	}
	if err := put("alice", "100", "101"); err != nil {
		t.Fatal(err)
	}
	// An alias of another account is a conflict, and the failed write
	// leaves the store as it was (one transaction).
	if err := put("bob", "200", "101"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taking alice's alias = %v, want ErrConflict", err)
	}
	accs, _ := db.Accounts(ctx, "a.test")
	if len(accs) != 1 {
		t.Fatalf("failed PutAccount left accounts %+v", accs)
	}
	// Replacing an account replaces its aliases.
	if err := put("alice", "102"); err != nil {
		t.Fatal(err)
	}
	if got := aliasesOf("alice"); !slices.Equal(got, []string{"102"}) {
		t.Fatalf("alice aliases = %v, want [102]", got)
	}
	// 101 is free again.
	if err := put("bob", "101"); err != nil {
		t.Fatal(err)
	}
	if got := aliasesOf("bob"); !slices.Equal(got, []string{"101"}) {
		t.Fatalf("bob aliases = %v", got)
	}
	if err := db.DeleteAccount(ctx, "a.test", "bob"); err != nil {
		t.Fatal(err)
	}
	// Deleting the account freed its alias.
	if err := put("alice", "101", "102"); err != nil {
		t.Fatalf("alias of a deleted account is still taken: %v", err)
	}
	if err := db.DeleteAccount(ctx, "a.test", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting a missing account = %v, want ErrNotFound", err)
	}
}

func count(t *testing.T, r *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := r.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeleteDomainCascades(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	for _, n := range []string{"a.test", "b.test"} {
		if err := db.PutDomain(ctx, store.Domain{Name: n}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutAccount(ctx, store.Account{Domain: n, Name: "alice", Aliases: []string{"100", "101"}}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutForwarder(ctx, store.Forwarder{Domain: n, Name: "sales", To: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteDomain(ctx, "a.test"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDomain(ctx, "a.test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteDomain = %v, want ErrNotFound", err)
	}
	db.Close()
	r := raw(t, dir)
	for table, want := range map[string]int{"domains": 1, "accounts": 1, "aliases": 2, "forwarders": 1} {
		if n := count(t, r, table); n != want {
			t.Errorf("%s rows after deleting a.test = %d, want %d", table, n, want)
		}
	}
	for _, table := range []string{"accounts", "aliases", "forwarders"} {
		var n int
		if err := r.QueryRow("SELECT count(*) FROM " + table + " WHERE domain = 'a.test'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s keeps %d rows of the deleted domain", table, n)
		}
	}
}

func TestForwarders(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	for _, n := range []string{"a.test", "b.test"} {
		if err := db.PutDomain(ctx, store.Domain{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []store.Forwarder{
		{Domain: "a.test", Name: "sales", To: "alice"},
		{Domain: "a.test", Name: "info", To: "bob@b.test"},
		{Domain: "b.test", Name: "sales", To: "carol"},
		{Domain: "a.test", Name: "sales", To: "dave"}, // upsert
	} {
		if err := db.PutForwarder(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Forwarders(ctx, "a.test")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Forwarder{{Domain: "a.test", Name: "info", To: "bob@b.test"}, {Domain: "a.test", Name: "sales", To: "dave"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Forwarders(a.test) = %+v, want %+v", got, want)
	}
	all, err := db.Forwarders(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("Forwarders(\"\") = %+v", all)
	}
	if err := db.DeleteForwarder(ctx, "a.test", "sales"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteForwarder(ctx, "a.test", "sales"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteForwarder = %v, want ErrNotFound", err)
	}
	got, _ = db.Forwarders(ctx, "a.test")
	if len(got) != 1 || got[0].Name != "info" {
		t.Fatalf("after delete: %+v", got)
	}
}

func TestBindings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	// Far from now in both directions, so the test does not depend on timing.
	future := time.Now().Add(24 * time.Hour).Truncate(time.Millisecond).UTC()
	past := time.Now().Add(-24 * time.Hour).Truncate(time.Millisecond).UTC()
	b1 := store.Binding{AOR: "alice@a.test", Contact: "<sip:alice@10.0.0.1:5060>", Expires: future, Source: "10.0.0.1:5060",
		Transport: "udp", Path: []string{"<sip:edge>"}, Instance: "<urn:uuid:1>", RegID: "1", CallID: "c1", CSeq: 1, Q: 0.5, UserAgent: "ua"}
	b2 := store.Binding{AOR: "alice@a.test", Contact: "<sip:alice@10.0.0.2:5060>", Expires: future, Source: "10.0.0.2:5060", Transport: "tcp", CallID: "c2", CSeq: 7}
	gone := store.Binding{AOR: "bob@a.test", Contact: "<sip:bob@10.0.0.3>", Expires: past, CallID: "c3"}
	if err := db.SaveBindings(ctx, []store.Binding{b1, b2, gone}, nil); err != nil {
		t.Fatal(err)
	}
	sorted := func(bs []store.Binding) []store.Binding {
		slices.SortFunc(bs, func(a, b store.Binding) int {
			if a.AOR != b.AOR {
				if a.AOR < b.AOR {
					return -1
				}
				return 1
			}
			if a.Contact < b.Contact {
				return -1
			}
			if a.Contact > b.Contact {
				return 1
			}
			return 0
		})
		return bs
	}
	got, err := db.Bindings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Binding{b1, b2}; !reflect.DeepEqual(sorted(got), want) {
		t.Fatalf("Bindings =\n%+v\nwant\n%+v", got, want)
	}
	// Upsert b1 (refresh), delete b2.
	b1.CSeq, b1.Source = 2, "10.0.0.9:5060"
	if err := db.SaveBindings(ctx, []store.Binding{b1}, []store.Binding{{AOR: b2.AOR, Contact: b2.Contact}}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Bindings(ctx)
	if want := []store.Binding{b1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after upsert/delete Bindings = %+v, want %+v", got, want)
	}
	// Expiring b1 by saving it with a past expiry drops it, also from disk.
	b1.Expires = past
	if err := db.SaveBindings(ctx, []store.Binding{b1}, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Bindings(ctx)
	if len(got) != 0 {
		t.Fatalf("expired binding returned: %+v", got)
	}
	db.Close()
	if n := count(t, raw(t, dir), "bindings"); n != 0 {
		t.Fatalf("%d expired binding rows left on disk", n)
	}
	// Deleting something absent is not an error; empty saves are fine.
	db = open(t, dir)
	if err := db.SaveBindings(ctx, nil, []store.Binding{{AOR: "x", Contact: "y"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveBindings(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestBindingsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	b := store.Binding{AOR: "alice@a.test", Contact: "<sip:alice@h>", Expires: time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC(), CallID: "c"}
	if err := db.SaveBindings(ctx, []store.Binding{b}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	got, err := open(t, dir).Bindings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []store.Binding{b}) {
		t.Fatalf("Bindings after reopen = %+v, want %+v", got, b)
	}
}
