package directory_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

// countingStore counts the writes that reach the store.
type countingStore struct {
	store.Directory
	writes atomic.Int64
}

func (c *countingStore) PutDomain(ctx context.Context, d store.Domain) error {
	c.writes.Add(1)
	return c.Directory.PutDomain(ctx, d)
}
func (c *countingStore) DeleteDomain(ctx context.Context, n string) error {
	c.writes.Add(1)
	return c.Directory.DeleteDomain(ctx, n)
}
func (c *countingStore) PutAccount(ctx context.Context, a store.Account) error {
	c.writes.Add(1)
	return c.Directory.PutAccount(ctx, a)
}
func (c *countingStore) DeleteAccount(ctx context.Context, d, n string) error {
	c.writes.Add(1)
	return c.Directory.DeleteAccount(ctx, d, n)
}
func (c *countingStore) PutForwarder(ctx context.Context, f store.Forwarder) error {
	c.writes.Add(1)
	return c.Directory.PutForwarder(ctx, f)
}
func (c *countingStore) DeleteForwarder(ctx context.Context, d, n string) error {
	c.writes.Add(1)
	return c.Directory.DeleteForwarder(ctx, d, n)
}

type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *sqlite.DB
	st  *countingStore
	dir *directory.Directory
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &countingStore{Directory: db}
	dir, err := directory.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: ctx, db: db, st: st, dir: dir}
}

// reopen loads a second Directory from the same database.
func (f *fixture) reopen() *directory.Directory {
	f.t.Helper()
	d, err := directory.Open(f.ctx, f.db)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) domain(name string, main bool) {
	f.t.Helper()
	if _, err := f.dir.PutDomain(f.ctx, directory.DomainSpec{Name: name, Main: main}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) account(dom string, spec directory.AccountSpec) {
	f.t.Helper()
	if _, err := f.dir.PutAccount(f.ctx, dom, spec); err != nil {
		f.t.Fatalf("PutAccount %s@%s: %v", spec.Name, dom, err)
	}
}

// snapshot is everything a Directory serves.
type snapshot struct {
	Domains    []store.Domain
	Accounts   map[string][]store.Account
	Forwarders map[string][]store.Forwarder
	Main       string
}

func snap(t *testing.T, d *directory.Directory) snapshot {
	t.Helper()
	s := snapshot{Domains: d.Domains(), Accounts: map[string][]store.Account{}, Forwarders: map[string][]store.Forwarder{}, Main: d.MainDomain()}
	for _, dm := range s.Domains {
		accs, err := d.Accounts(dm.Name)
		if err != nil {
			t.Fatal(err)
		}
		s.Accounts[dm.Name] = accs
		fws, err := d.Forwarders(dm.Name)
		if err != nil {
			t.Fatal(err)
		}
		s.Forwarders[dm.Name] = fws
	}
	return s
}

func TestPutAccountStoresOnlyHA1(t *testing.T) {
	f := newFixture(t)
	f.domain("Example.COM", false)
	const pw = "s3cret:with:colons"
	f.account("EXAMPLE.com", directory.AccountSpec{Name: "Alice", Password: pw})
	for _, d := range []*directory.Directory{f.dir, f.reopen()} {
		a, ok := d.Account("example.com", "alice")
		if !ok {
			t.Fatal("account alice@example.com not found")
		}
		if a.Name != "alice" || a.Domain != "example.com" {
			t.Fatalf("account stored as %s@%s, want lower case", a.Name, a.Domain)
		}
		if want := digest.H(digest.MD5, "alice:example.com:"+pw); a.HA1MD5 != want {
			t.Errorf("HA1MD5 = %s, want H(alice:example.com:pw) = %s", a.HA1MD5, want)
		}
		if want := digest.H(digest.SHA256, "alice:example.com:"+pw); a.HA1SHA256 != want {
			t.Errorf("HA1SHA256 = %s, want %s", a.HA1SHA256, want)
		}
		if strings.Contains(a.RealName+a.HA1MD5+a.HA1SHA256, pw) {
			t.Error("the password itself is stored")
		}
	}
	// Nothing in the database holds the password, in any column.
	accs, err := f.db.Accounts(f.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(accs) != 1 {
		t.Fatalf("accounts = %+v", accs)
	}
	if s := strings.Join([]string{accs[0].Name, accs[0].RealName, accs[0].HA1MD5, accs[0].HA1SHA256}, "|"); strings.Contains(s, pw) {
		t.Fatalf("password found in stored account %q", s)
	}
}

func TestPutAccountPartialUpdate(t *testing.T) {
	f := newFixture(t)
	f.domain("a.test", false)
	rules := []store.Rule{{Divert: "busy", To: "bob"}}
	f.account("a.test", directory.AccountSpec{
		Name: "alice", Password: "one", RealName: strp("Alice"), Aliases: &[]string{"101", "100"},
		Language: strp("english"), Timezone: strp("UTC"),
		WorkingHours: map[string]string{"mon-fri": "09:00-17:00"}, Rules: &rules,
		Settings: map[string]any{"k": "v"},
	})
	before, _ := f.dir.Account("a.test", "alice")
	if !slices.Equal(before.Aliases, []string{"100", "101"}) {
		t.Fatalf("aliases = %v, want sorted [100 101]", before.Aliases)
	}

	// A new password only.
	changed, err := f.dir.PutAccount(f.ctx, "a.test", directory.AccountSpec{Name: "alice", Password: "two"})
	if err != nil || !changed {
		t.Fatalf("password update = %v, %v", changed, err)
	}
	after, _ := f.dir.Account("a.test", "alice")
	if after.HA1MD5 != digest.HA1(digest.MD5, "alice", "a.test", "two") || after.HA1SHA256 != digest.HA1(digest.SHA256, "alice", "a.test", "two") {
		t.Fatal("password not updated")
	}
	if after.RealName != "Alice" || !slices.Equal(after.Aliases, before.Aliases) || !reflect.DeepEqual(after.Prefs, before.Prefs) {
		t.Fatalf("partial update changed other fields:\nbefore %+v\nafter  %+v", before, after)
	}
	if !after.Created.Equal(before.Created) {
		t.Fatalf("Created moved from %v to %v", before.Created, after.Created)
	}

	// An update with nothing set changes nothing, and writes nothing.
	w := f.st.writes.Load()
	changed, err = f.dir.PutAccount(f.ctx, "a.test", directory.AccountSpec{Name: "ALICE"})
	if err != nil || changed {
		t.Fatalf("empty update = %v, %v; want unchanged", changed, err)
	}
	if f.st.writes.Load() != w {
		t.Fatal("an unchanged account was written to the store")
	}

	// Explicit empty values clear.
	f.account("a.test", directory.AccountSpec{Name: "alice", RealName: strp(""), Aliases: &[]string{}, Language: strp("")})
	cleared, _ := f.dir.Account("a.test", "alice")
	if cleared.RealName != "" || len(cleared.Aliases) != 0 || cleared.Aliases == nil || cleared.Prefs.Language != "" {
		t.Fatalf("clearing failed: %+v", cleared)
	}
	if cleared.Prefs.Timezone != "UTC" || cleared.HA1MD5 != after.HA1MD5 {
		t.Fatalf("clearing touched other fields: %+v", cleared)
	}
	if _, ok := f.reopen().Account("a.test", "alice"); !ok {
		t.Fatal("account lost on reopen")
	}
	if got := snap(t, f.reopen()); !reflect.DeepEqual(got, snap(t, f.dir)) {
		t.Fatalf("reopened state differs:\n%+v\n%+v", got, snap(t, f.dir))
	}
}

func TestPutAccountUnknownDomain(t *testing.T) {
	f := newFixture(t)
	_, err := f.dir.PutAccount(f.ctx, "nowhere.test", directory.AccountSpec{Name: "alice"})
	if !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("PutAccount in a missing domain = %v, want ErrNotFound", err)
	}
}

func TestAliasUniqueness(t *testing.T) {
	f := newFixture(t)
	f.domain("a.test", false)
	f.domain("b.test", false)
	f.account("a.test", directory.AccountSpec{Name: "alice", Aliases: &[]string{"100"}})
	f.account("a.test", directory.AccountSpec{Name: "bob"})
	f.account("a.test", directory.AccountSpec{Name: "carol"})
	if _, err := f.dir.PutForwarder(f.ctx, "a.test", "sales", "alice"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		dom  string
		spec directory.AccountSpec
		err  error
	}{
		{"alias of another account", "a.test", directory.AccountSpec{Name: "bob", Aliases: &[]string{"100"}}, directory.ErrConflict},
		{"alias of another account, other case", "a.test", directory.AccountSpec{Name: "bob", Aliases: &[]string{"200", "100"}}, directory.ErrConflict},
		{"alias equal to another account's name", "a.test", directory.AccountSpec{Name: "bob", Aliases: &[]string{"carol"}}, directory.ErrConflict},
		{"alias equal to a forwarder", "a.test", directory.AccountSpec{Name: "bob", Aliases: &[]string{"sales"}}, directory.ErrConflict},
		{"new account named like an alias", "a.test", directory.AccountSpec{Name: "100"}, directory.ErrConflict},
		{"new account named like a forwarder", "a.test", directory.AccountSpec{Name: "sales"}, directory.ErrConflict},
		{"alias equal to own name", "a.test", directory.AccountSpec{Name: "bob", Aliases: &[]string{"bob"}}, directory.ErrInvalid},
		{"own alias again", "a.test", directory.AccountSpec{Name: "alice", Aliases: &[]string{"100", "101"}}, nil},
		{"same alias in another domain", "b.test", directory.AccountSpec{Name: "dave", Aliases: &[]string{"100"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snap(t, f.dir)
			_, err := f.dir.PutAccount(f.ctx, tc.dom, tc.spec)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("PutAccount = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("PutAccount = %v, want %v", err, tc.err)
			}
			if after := snap(t, f.dir); !reflect.DeepEqual(before, after) {
				t.Fatalf("a refused PutAccount changed the directory")
			}
		})
	}
	// The alias moves once its owner gives it up.
	f.account("a.test", directory.AccountSpec{Name: "alice", Aliases: &[]string{}})
	f.account("a.test", directory.AccountSpec{Name: "bob", Aliases: &[]string{"100"}})
	tg, err := f.dir.Resolve("100", "a.test")
	if err != nil || tg.Account == nil || tg.Account.Name != "bob" {
		t.Fatalf("Resolve(100) = %+v, %v; want bob", tg, err)
	}
	tg, err = f.dir.Resolve("100", "b.test")
	if err != nil || tg.Account == nil || tg.Account.Name != "dave" {
		t.Fatalf("Resolve(100@b.test) = %+v, %v; want dave", tg, err)
	}
	if got := snap(t, f.reopen()); !reflect.DeepEqual(got, snap(t, f.dir)) {
		t.Fatalf("reopened state differs")
	}
}

func TestSetAliases(t *testing.T) {
	f := newFixture(t)
	f.domain("a.test", false)
	f.account("a.test", directory.AccountSpec{Name: "alice", Password: "pw", RealName: strp("Alice")})
	if _, err := f.dir.SetAliases(f.ctx, "a.test", "ALICE", []string{"200", "100", "200"}); err != nil {
		t.Fatal(err)
	}
	a, _ := f.dir.Account("a.test", "alice")
	if !slices.Equal(a.Aliases, []string{"100", "200"}) || a.RealName != "Alice" || a.HA1MD5 == "" {
		t.Fatalf("after SetAliases: %+v", a)
	}
	if _, err := f.dir.SetAliases(f.ctx, "a.test", "alice", nil); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.dir.Account("a.test", "alice"); len(a.Aliases) != 0 {
		t.Fatalf("SetAliases(nil) left %v", a.Aliases)
	}
	if _, err := f.dir.Resolve("100", "a.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("removed alias still resolves: %v", err)
	}
	if _, err := f.dir.SetAliases(f.ctx, "a.test", "nobody", []string{"1"}); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("SetAliases on a missing account = %v", err)
	}
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	f.domain("a.test", true)
	f.domain("b.test", false)
	f.account("a.test", directory.AccountSpec{Name: "alice", Aliases: &[]string{"100"}})
	f.account("b.test", directory.AccountSpec{Name: "bob", Aliases: &[]string{"200"}})
	for _, fw := range [][3]string{
		{"a.test", "sales", "alice"},
		{"a.test", "support", "sales"},
		{"a.test", "remote", "200@B.TEST"},
		{"a.test", "ping", "pong"},
		{"a.test", "pong", "ping"},
		{"a.test", "self", "self"},
		{"a.test", "cross", "loop@b.test"},
		{"b.test", "loop", "cross@a.test"},
		{"a.test", "dangling", "nobody"},
		{"a.test", "away", "x@nowhere.test"},
	} {
		if _, err := f.dir.PutForwarder(f.ctx, fw[0], fw[1], fw[2]); err != nil {
			t.Fatalf("PutForwarder %v: %v", fw, err)
		}
	}
	tests := []struct {
		user, dom string
		account   string // "" when an error is expected
		via       []string
		err       error
	}{
		{"alice", "a.test", "alice@a.test", nil, nil},
		{"ALICE", "A.Test", "alice@a.test", nil, nil},
		{"100", "a.test", "alice@a.test", []string{"alias 100"}, nil},
		{"sales", "a.test", "alice@a.test", []string{"forwarder sales"}, nil},
		{"support", "a.test", "alice@a.test", []string{"forwarder support", "forwarder sales"}, nil},
		{"remote", "a.test", "bob@b.test", []string{"forwarder remote", "alias 200"}, nil},
		{"bob", "a.test", "", nil, directory.ErrNotFound},
		{"nobody", "a.test", "", nil, directory.ErrNotFound},
		{"alice", "nowhere.test", "", nil, directory.ErrNotFound},
		{"dangling", "a.test", "", nil, directory.ErrNotFound},
		{"away", "a.test", "", nil, directory.ErrNotFound},
		{"ping", "a.test", "", nil, directory.ErrInvalid},
		{"self", "a.test", "", nil, directory.ErrInvalid},
		{"cross", "a.test", "", nil, directory.ErrInvalid},
	}
	for _, tc := range tests {
		tg, err := f.dir.Resolve(tc.user, tc.dom)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("Resolve(%s@%s) = %+v, %v; want %v", tc.user, tc.dom, tg, err, tc.err)
			}
			continue
		}
		if err != nil || tg.Account == nil {
			t.Errorf("Resolve(%s@%s) = %+v, %v", tc.user, tc.dom, tg, err)
			continue
		}
		if got := tg.Account.Name + "@" + tg.Account.Domain; got != tc.account || !slices.Equal(tg.Via, tc.via) {
			t.Errorf("Resolve(%s@%s) = %s via %q; want %s via %q", tc.user, tc.dom, got, tg.Via, tc.account, tc.via)
		}
	}
	// The resolved account is a copy: changing it does not change the directory.
	tg, _ := f.dir.Resolve("100", "a.test")
	tg.Account.Aliases[0] = "999"
	if a, _ := f.dir.Account("a.test", "alice"); a.Aliases[0] != "100" {
		t.Fatal("Resolve returned the directory's own account")
	}
}

func TestForwarders(t *testing.T) {
	f := newFixture(t)
	f.domain("a.test", false)
	f.account("a.test", directory.AccountSpec{Name: "alice", Aliases: &[]string{"100"}})
	put := func(name, to string) (bool, error) { return f.dir.PutForwarder(f.ctx, "a.test", name, to) }
	if ch, err := put("Sales", " Alice "); err != nil || !ch {
		t.Fatalf("PutForwarder = %v, %v", ch, err)
	}
	if ch, err := put("sales", "alice"); err != nil || ch {
		t.Fatalf("same forwarder again = %v, %v; want unchanged", ch, err)
	}
	for _, bad := range []struct{ name, to string }{{"alice", "bob"}, {"100", "bob"}} {
		if _, err := put(bad.name, bad.to); !errors.Is(err, directory.ErrConflict) {
			t.Errorf("forwarder %s = %v, want ErrConflict", bad.name, err)
		}
	}
	for _, bad := range []struct{ name, to string }{{"x y", "bob"}, {"ok", ""}, {"ok", "a b"}, {"ok", "bob@bad domain"}, {"ok", "@a.test"}} {
		if _, err := put(bad.name, bad.to); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("forwarder %q -> %q = %v, want ErrInvalid", bad.name, bad.to, err)
		}
	}
	if _, err := f.dir.PutForwarder(f.ctx, "nowhere.test", "x", "y"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("forwarder in a missing domain = %v", err)
	}
	fws, _ := f.dir.Forwarders("a.test")
	if want := []store.Forwarder{{Domain: "a.test", Name: "sales", To: "alice"}}; !reflect.DeepEqual(fws, want) {
		t.Fatalf("Forwarders = %+v, want %+v", fws, want)
	}
	if err := f.dir.DeleteForwarder(f.ctx, "a.test", "SALES"); err != nil {
		t.Fatal(err)
	}
	if err := f.dir.DeleteForwarder(f.ctx, "a.test", "sales"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
	if fws, _ := f.reopen().Forwarders("a.test"); len(fws) != 0 {
		t.Fatalf("deleted forwarder back after reopen: %+v", fws)
	}
}

func TestDeleteAccountAndDomain(t *testing.T) {
	f := newFixture(t)
	f.domain("a.test", true)
	f.domain("b.test", false)
	f.account("a.test", directory.AccountSpec{Name: "alice", Aliases: &[]string{"100"}})
	f.account("a.test", directory.AccountSpec{Name: "bob"})
	if _, err := f.dir.PutForwarder(f.ctx, "a.test", "sales", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.dir.DeleteAccount(f.ctx, "a.test", "ALICE"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.Resolve("100", "a.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("alias of a deleted account resolves: %v", err)
	}
	// The freed alias can be used again.
	f.account("a.test", directory.AccountSpec{Name: "bob", Aliases: &[]string{"100"}})
	if err := f.dir.DeleteAccount(f.ctx, "a.test", "alice"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("second DeleteAccount = %v", err)
	}
	if err := f.dir.DeleteDomain(f.ctx, "A.TEST"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.dir.Domain("a.test"); ok {
		t.Fatal("deleted domain still served")
	}
	if _, err := f.dir.Accounts("a.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("Accounts of a deleted domain = %v", err)
	}
	if got := f.dir.MainDomain(); got != "b.test" {
		t.Fatalf("MainDomain after deleting the main one = %q, want b.test", got)
	}
	if err := f.dir.DeleteDomain(f.ctx, "a.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("second DeleteDomain = %v", err)
	}
	// Re-creating the domain starts empty: nothing survived in the store.
	f.domain("a.test", false)
	if accs, _ := f.dir.Accounts("a.test"); len(accs) != 0 {
		t.Fatalf("re-created domain has accounts %+v", accs)
	}
	re := f.reopen()
	if accs, _ := re.Accounts("a.test"); len(accs) != 0 {
		t.Fatalf("store kept accounts of the deleted domain: %+v", accs)
	}
	if fws, _ := re.Forwarders("a.test"); len(fws) != 0 {
		t.Fatalf("store kept forwarders of the deleted domain: %+v", fws)
	}
}

func TestMainDomain(t *testing.T) {
	f := newFixture(t)
	if got := f.dir.MainDomain(); got != "" {
		t.Fatalf("MainDomain of an empty directory = %q", got)
	}
	f.domain("first.test", false)
	f.domain("second.test", false)
	if got := f.dir.MainDomain(); got != "first.test" {
		t.Fatalf("MainDomain without a main flag = %q, want the first created", got)
	}
	if got := f.reopen().MainDomain(); got != "first.test" {
		t.Fatalf("reopened MainDomain = %q, want first.test", got)
	}
	f.domain("second.test", true)
	if got := f.dir.MainDomain(); got != "second.test" {
		t.Fatalf("MainDomain = %q, want the main one", got)
	}
	f.domain("third.test", true)
	if got := f.dir.MainDomain(); got != "third.test" {
		t.Fatalf("MainDomain = %q, want third.test", got)
	}
	var mains []string
	for _, d := range f.dir.Domains() {
		if d.Main {
			mains = append(mains, d.Name)
		}
	}
	if !slices.Equal(mains, []string{"third.test"}) {
		t.Fatalf("main domains = %v, want only third.test", mains)
	}
	if got := snap(t, f.reopen()); !reflect.DeepEqual(got, snap(t, f.dir)) {
		t.Fatalf("reopened state differs:\n%+v\n%+v", got, snap(t, f.dir))
	}
	if ch, err := f.dir.PutDomain(f.ctx, directory.DomainSpec{Name: "bad name"}); !errors.Is(err, directory.ErrInvalid) || ch {
		t.Fatalf("PutDomain(bad name) = %v, %v", ch, err)
	}
}

// Domains created back to back (likely within one millisecond, the
// precision the store keeps) are served in the same order before and after a
// restart, and MainDomain does not change across it.
func TestDomainOrderSurvivesReopen(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"zeta.test", "alpha.test", "mu.test", "beta.test"} {
		f.domain(n, false)
	}
	live, re := snap(t, f.dir), snap(t, f.reopen())
	if !reflect.DeepEqual(live, re) {
		t.Fatalf("state differs after reopen:\nlive     %+v\nreopened %+v", live, re)
	}
}

func testDoc() directory.Doc {
	rules := []store.Rule{{Divert: "noanswer", To: "bob", After: "20s"}}
	return directory.Doc{Domains: []directory.DomainDoc{
		{
			DomainSpec: directory.DomainSpec{Name: "Example.com", Main: true},
			Accounts: []directory.AccountSpec{
				{Name: "alice", Password: "pw1", RealName: strp("Alice"), Aliases: &[]string{"100", "ali"},
					Language: strp("english"), Timezone: strp("UTC"),
					WorkingHours: map[string]string{"mon-fri": "09:00-13:00,14:00-18:00", "sat,sun": "off"},
					Rules:        &rules, Settings: map[string]any{"departments": []any{"a", "b"}, "directoryDigits": 3.0}},
				{Name: "Bob", Password: "pw2"},
			},
			Forwarders: map[string]string{"sales": "alice", "remote": "carol@other.test", "support": "100"},
		},
		{
			DomainSpec: directory.DomainSpec{Name: "other.test"},
			Accounts:   []directory.AccountSpec{{Name: "carol", Aliases: &[]string{"100"}}},
		},
	}}
}

func TestApplyIdempotent(t *testing.T) {
	f := newFixture(t)
	rep, err := f.dir.Apply(f.ctx, testDoc())
	if err != nil {
		t.Fatal(err)
	}
	// 2 domains, 3 accounts, 3 forwarders.
	if rep.Changed != 8 || rep.Unchanged != 0 || len(rep.Items) != 8 {
		t.Fatalf("first apply report = %+v", rep)
	}
	first := snap(t, f.reopen())
	if !reflect.DeepEqual(first, snap(t, f.dir)) {
		t.Fatalf("live state differs from the store:\nlive  %+v\nstore %+v", snap(t, f.dir), first)
	}
	w := f.st.writes.Load()
	rep, err = f.dir.Apply(f.ctx, testDoc())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed != 0 || rep.Unchanged != 8 {
		t.Fatalf("second apply report = %+v, want nothing changed", rep)
	}
	for _, it := range rep.Items {
		if it.Changed {
			t.Errorf("second apply changed %s %s", it.Kind, it.Name)
		}
	}
	if n := f.st.writes.Load() - w; n != 0 {
		t.Fatalf("second apply wrote %d times to the store", n)
	}
	if second := snap(t, f.reopen()); !reflect.DeepEqual(first, second) {
		t.Fatalf("store changed by the second apply:\nfirst  %+v\nsecond %+v", first, second)
	}

	// What the document says is what is served.
	if got := f.dir.MainDomain(); got != "example.com" {
		t.Fatalf("MainDomain = %q", got)
	}
	tg, err := f.dir.Resolve("remote", "example.com")
	if err != nil || tg.Account == nil || tg.Account.Name != "carol" || tg.Account.Domain != "other.test" {
		t.Fatalf("Resolve(remote) = %+v, %v", tg, err)
	}
	tg, err = f.dir.Resolve("support", "example.com")
	if err != nil || tg.Account == nil || tg.Account.Name != "alice" {
		t.Fatalf("Resolve(support) = %+v, %v", tg, err)
	}
	a, _ := f.dir.Account("example.com", "alice")
	if a.Prefs.WorkingHours["wed"] != "09:00-13:00,14:00-18:00" || a.Prefs.WorkingHours["sun"] != "off" || len(a.Prefs.WorkingHours) != 7 {
		t.Fatalf("working hours = %v", a.Prefs.WorkingHours)
	}
	b, _ := f.dir.Account("example.com", "bob")
	if b.HA1MD5 != digest.HA1(digest.MD5, "bob", "example.com", "pw2") {
		t.Fatal("bob's HA1 is not H(bob:example.com:pw2)")
	}

	// A changed document changes just what differs.
	doc := testDoc()
	doc.Domains[0].Accounts[1].Password = "pw3"
	rep, err = f.dir.Apply(f.ctx, doc)
	if err != nil || rep.Changed != 1 {
		t.Fatalf("apply with a new password = %+v, %v; want one change", rep, err)
	}
}

const yamlDoc = `
domains:
  - name: example.com
    main: true
    accounts:
      - name: alice
        password: secret
        realName: Alice Liddell
        aliases: ["100", ali]
        workingHours:
          mon-fri: 09:00-18:00
          sat,sun: "off"
        rules:
          - {divert: noanswer, to: bob, after: 20s}
        settings:
          departments: [a, b]
          directoryDigits: 3
          nested: {x: 1, y: [true, null]}
      - name: bob
    forwarders:
      sales: alice
  - name: other.test
`

func TestApplyYAMLIdempotent(t *testing.T) {
	f := newFixture(t)
	decode := func() directory.Doc {
		var doc directory.Doc
		dec := yaml.NewDecoder(strings.NewReader(yamlDoc))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc := decode()
	if len(doc.Domains) != 2 || doc.Domains[0].Name != "example.com" || !doc.Domains[0].Main || len(doc.Domains[0].Accounts) != 2 {
		t.Fatalf("YAML decoded to %+v", doc)
	}
	rep, err := f.dir.Apply(f.ctx, doc)
	if err != nil || rep.Changed != 5 {
		t.Fatalf("first apply = %+v, %v", rep, err)
	}
	first := snap(t, f.reopen())
	w := f.st.writes.Load()
	for i := 0; i < 2; i++ {
		// Once on the live directory, once on a reopened one (whose
		// settings came back from JSON).
		d := f.dir
		if i == 1 {
			d = f.reopen()
		}
		rep, err = d.Apply(f.ctx, decode())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Changed != 0 {
			t.Fatalf("apply %d of the same YAML changed %d items: %+v", i+2, rep.Changed, rep.Items)
		}
	}
	if f.st.writes.Load() != w {
		t.Fatal("re-applying the same YAML wrote to the store")
	}
	if second := snap(t, f.reopen()); !reflect.DeepEqual(first, second) {
		t.Fatalf("store changed:\n%+v\n%+v", first, second)
	}
	a, _ := f.dir.Account("example.com", "alice")
	if got := a.Prefs.Settings["departments"]; !reflect.DeepEqual(got, []any{"a", "b"}) {
		t.Fatalf("settings.departments = %#v", got)
	}
}

func TestApplyRefusesInvalidDocWithoutChanges(t *testing.T) {
	f := newFixture(t)
	doc := testDoc()
	doc.Domains[1].Accounts = append(doc.Domains[1].Accounts, directory.AccountSpec{Name: "bad name"})
	if _, err := f.dir.Apply(f.ctx, doc); !errors.Is(err, directory.ErrInvalid) {
		t.Fatalf("Apply of an invalid doc = %v, want ErrInvalid", err)
	}
	if n := f.st.writes.Load(); n != 0 {
		t.Fatalf("an invalid doc caused %d store writes", n)
	}
	if len(f.dir.Domains()) != 0 {
		t.Fatal("an invalid doc created domains")
	}
}

// A document naming its domain with surrounding spaces or capitals applies
// like the canonical name (Check accepts it, so Apply must too).
func TestApplyNormalisesDomainName(t *testing.T) {
	f := newFixture(t)
	doc := directory.Doc{Domains: []directory.DomainDoc{{
		DomainSpec: directory.DomainSpec{Name: " Example.COM "},
		Accounts:   []directory.AccountSpec{{Name: "alice"}},
		Forwarders: map[string]string{"sales": "alice"},
	}}}
	if err := doc.Check(); err != nil {
		t.Fatal(err)
	}
	rep, err := f.dir.Apply(f.ctx, doc)
	if err != nil {
		t.Fatalf("Apply = %v", err)
	}
	if rep.Changed != 3 {
		t.Fatalf("report = %+v", rep)
	}
	for _, it := range rep.Items {
		if strings.ContainsAny(it.Name, " ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("report item %q not canonical", it.Name)
		}
	}
	if tg, err := f.dir.Resolve("sales", "example.com"); err != nil || tg.Account == nil {
		t.Fatalf("Resolve = %+v, %v", tg, err)
	}
}

// A document that cannot converge (applying it twice would change things
// again) is refused by Check.
func TestDocCheckRefusesNonConvergentDocs(t *testing.T) {
	tests := map[string]directory.Doc{
		"two main domains": {Domains: []directory.DomainDoc{
			{DomainSpec: directory.DomainSpec{Name: "a.test", Main: true}},
			{DomainSpec: directory.DomainSpec{Name: "b.test", Main: true}},
		}},
		"forwarder twice in different case": {Domains: []directory.DomainDoc{{
			DomainSpec: directory.DomainSpec{Name: "a.test"},
			Forwarders: map[string]string{"Sales": "alice", "sales": "bob"},
		}}},
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := doc.Check(); !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("Check() = %v, want ErrInvalid", err)
			}
			// Had it been accepted, a second apply would not be a no-op.
			f := newFixture(t)
			if _, err := f.dir.Apply(f.ctx, doc); err == nil {
				rep, _ := f.dir.Apply(f.ctx, doc)
				t.Fatalf("Apply accepted it; second report %+v", rep)
			}
		})
	}
}

func TestReopenSameState(t *testing.T) {
	f := newFixture(t)
	if _, err := f.dir.Apply(f.ctx, testDoc()); err != nil {
		t.Fatal(err)
	}
	f.account("other.test", directory.AccountSpec{Name: "dave", Password: "x", Aliases: &[]string{"400"}})
	if _, err := f.dir.SetAliases(f.ctx, "example.com", "bob", []string{"300"}); err != nil {
		t.Fatal(err)
	}
	if err := f.dir.DeleteForwarder(f.ctx, "example.com", "sales"); err != nil {
		t.Fatal(err)
	}
	live := snap(t, f.dir)
	re := f.reopen()
	if got := snap(t, re); !reflect.DeepEqual(got, live) {
		t.Fatalf("reopened state differs:\nlive     %+v\nreopened %+v", live, got)
	}
	for _, c := range []struct{ user, dom, want string }{{"300", "example.com", "bob"}, {"400", "other.test", "dave"}, {"ali", "example.com", "alice"}} {
		tg, err := re.Resolve(c.user, c.dom)
		if err != nil || tg.Account == nil || tg.Account.Name != c.want {
			t.Errorf("reopened Resolve(%s@%s) = %+v, %v", c.user, c.dom, tg, err)
		}
	}
	if _, err := re.Resolve("sales", "example.com"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("deleted forwarder resolves after reopen: %v", err)
	}
}

// Writers and readers at once: run with -race. The end state is what the
// writers wrote, whatever the interleaving.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	f.domain("a.test", true)
	const n = 8
	errs := make(chan error, 2*n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			f.dir.Resolve("u1", "a.test")
			f.dir.Accounts("a.test")
			f.dir.MainDomain()
		}
	}()
	for i := 0; i < n; i++ {
		go func() {
			name := string(rune('a'+i)) + "user"
			_, err := f.dir.PutAccount(f.ctx, "a.test", directory.AccountSpec{Name: name, Password: "pw", Aliases: &[]string{"10" + string(rune('0'+i))}})
			errs <- err
			_, err = f.dir.PutForwarder(f.ctx, "a.test", "fw"+name, name)
			errs <- err
		}()
	}
	for i := 0; i < 2*n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	<-done
	accs, _ := f.dir.Accounts("a.test")
	fws, _ := f.dir.Forwarders("a.test")
	if len(accs) != n || len(fws) != n {
		t.Fatalf("%d accounts and %d forwarders, want %d each", len(accs), len(fws), n)
	}
	for i := 0; i < n; i++ {
		tg, err := f.dir.Resolve("10"+string(rune('0'+i)), "a.test")
		if err != nil || tg.Account.Name != string(rune('a'+i))+"user" {
			t.Fatalf("alias %d resolves to %+v, %v", i, tg, err)
		}
	}
	if got := snap(t, f.reopen()); !reflect.DeepEqual(got, snap(t, f.dir)) {
		t.Fatal("reopened state differs after concurrent writes")
	}
}
