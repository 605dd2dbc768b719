package directory_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store"
)

func boolp(b bool) *bool { return &b }

func TestDomainAdminRight(t *testing.T) {
	f := newFixture(t)
	f.domain("a.test", false)
	f.account("a.test", directory.AccountSpec{Name: "boss", Password: "pw", DomainAdmin: boolp(true), Settings: map[string]any{"k": "v"}})
	isAdmin := func(d *directory.Directory) bool {
		t.Helper()
		a, ok := d.Account("a.test", "boss")
		if !ok {
			t.Fatal("account boss@a.test not found")
		}
		return a.Prefs.DomainAdmin
	}
	if !isAdmin(f.dir) || !isAdmin(f.reopen()) {
		t.Fatal("domainAdmin: true was not kept")
	}

	// Leaving the key out keeps the right; so does replacing the settings.
	w := f.st.writes.Load()
	if changed, err := f.dir.PutAccount(f.ctx, "a.test", directory.AccountSpec{Name: "boss"}); err != nil || changed {
		t.Fatalf("update without the key = %v, %v; want unchanged", changed, err)
	}
	if f.st.writes.Load() != w {
		t.Fatal("an unchanged account was written")
	}
	f.account("a.test", directory.AccountSpec{Name: "boss", Settings: map[string]any{"domainAdmin": false}})
	if !isAdmin(f.dir) {
		t.Fatal("a settings key withdrew the right")
	}

	// false withdraws it, and that is a change.
	changed, err := f.dir.PutAccount(f.ctx, "a.test", directory.AccountSpec{Name: "boss", DomainAdmin: boolp(false)})
	if err != nil || !changed {
		t.Fatalf("withdrawing = %v, %v; want changed", changed, err)
	}
	if isAdmin(f.dir) || isAdmin(f.reopen()) {
		t.Fatal("domainAdmin: false did not withdraw the right")
	}

	// A settings key does not grant it either.
	f.account("a.test", directory.AccountSpec{Name: "sneaky", Settings: map[string]any{"domainAdmin": true}})
	if a, _ := f.dir.Account("a.test", "sneaky"); a.Prefs.DomainAdmin {
		t.Fatal("settings.domainAdmin granted the right")
	}
}

func TestDomainAdminFromYAML(t *testing.T) {
	const src = `
domains:
  - name: a.test
    accounts:
      - name: boss
        password: pw
        domainAdmin: true
      - name: clerk
        password: pw
`
	var doc directory.Doc
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	if _, err := f.dir.Apply(f.ctx, doc); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"boss": true, "clerk": false} {
		if a, _ := f.reopen().Account("a.test", name); a.Prefs.DomainAdmin != want {
			t.Errorf("%s: domainAdmin = %v, want %v", name, a.Prefs.DomainAdmin, want)
		}
	}
	rep, err := f.dir.Apply(f.ctx, doc)
	if err != nil || rep.Changed != 0 {
		t.Fatalf("re-apply = %+v, %v; want nothing changed", rep, err)
	}
}

func TestCheckPassword(t *testing.T) {
	const pw = "pässword:with:colons"
	md5 := digest.HA1(digest.MD5, "boss", "a.test", pw)
	sha := digest.HA1(digest.SHA256, "boss", "a.test", pw)
	tests := []struct {
		name     string
		acc      store.Account
		password string
		want     bool
	}{
		{"both hashes", store.Account{Name: "boss", Domain: "a.test", HA1MD5: md5, HA1SHA256: sha}, pw, true},
		{"MD5 only", store.Account{Name: "boss", Domain: "a.test", HA1MD5: md5}, pw, true},
		{"SHA-256 only", store.Account{Name: "boss", Domain: "a.test", HA1SHA256: sha}, pw, true},
		{"upper-case hex", store.Account{Name: "boss", Domain: "a.test", HA1MD5: strings.ToUpper(md5)}, pw, true},
		{"wrong password", store.Account{Name: "boss", Domain: "a.test", HA1MD5: md5, HA1SHA256: sha}, pw + "x", false},
		{"empty password", store.Account{Name: "boss", Domain: "a.test", HA1MD5: md5, HA1SHA256: sha}, "", false},
		{"no password set", store.Account{Name: "boss", Domain: "a.test"}, "", false},
		// The hash binds name and domain: the same password of another account does not match.
		{"other domain", store.Account{Name: "boss", Domain: "b.test", HA1MD5: md5, HA1SHA256: sha}, pw, false},
		{"other name", store.Account{Name: "clerk", Domain: "a.test", HA1MD5: md5}, pw, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := directory.CheckPassword(&tc.acc, tc.password); got != tc.want {
				t.Fatalf("CheckPassword = %v, want %v", got, tc.want)
			}
		})
	}
}
