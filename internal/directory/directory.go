// Package directory is Ringo's directory of domains, accounts, aliases and
// forwarders. It validates every change, keeps the password only as digest
// hashes, persists through store.Directory and serves lookups from memory,
// so the SIP hot path never touches the database.
package directory

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/store"
)

// Errors callers map to answers (HTTP 400/404/409).
var (
	ErrInvalid  = errors.New("invalid")
	ErrNotFound = store.ErrNotFound
	ErrConflict = store.ErrConflict
)

// storeNow is the current time at the precision the store keeps
// (milliseconds), so that what is served before and after a restart is the
// same, including the order of domains created within one millisecond.
func storeNow() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// maxForwardHops bounds alias/forwarder chains so a loop cannot hang routing.
const maxForwardHops = 10

// Directory is the in-memory view of the directory, written through to a store.
type Directory struct {
	st store.Directory

	mu      sync.RWMutex
	domains map[string]*domain
	// writeMu serialises changes so that validation and persistence see one order.
	writeMu sync.Mutex
}

type domain struct {
	d          store.Domain
	accounts   map[string]*store.Account
	aliases    map[string]string // alias -> account name
	forwarders map[string]string // name -> target address
}

// Open loads the directory from st.
func Open(ctx context.Context, st store.Directory) (*Directory, error) {
	d := &Directory{st: st, domains: map[string]*domain{}}
	doms, err := st.Domains(ctx)
	if err != nil {
		return nil, fmt.Errorf("load directory: %w", err)
	}
	for _, dm := range doms {
		d.domains[dm.Name] = newDomain(dm)
	}
	accs, err := st.Accounts(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("load directory: %w", err)
	}
	for i := range accs {
		a := accs[i]
		dm := d.domains[a.Domain]
		if dm == nil {
			continue
		}
		dm.accounts[a.Name] = &a
		for _, al := range a.Aliases {
			dm.aliases[al] = a.Name
		}
	}
	fws, err := st.Forwarders(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("load directory: %w", err)
	}
	for _, f := range fws {
		if dm := d.domains[f.Domain]; dm != nil {
			dm.forwarders[f.Name] = f.To
		}
	}
	return d, nil
}

func newDomain(d store.Domain) *domain {
	return &domain{d: d, accounts: map[string]*store.Account{}, aliases: map[string]string{}, forwarders: map[string]string{}}
}

// Domains lists domains, the main one first.
func (d *Directory) Domains() []store.Domain {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]store.Domain, 0, len(d.domains))
	for _, dm := range d.domains {
		out = append(out, dm.d)
	}
	slices.SortFunc(out, func(a, b store.Domain) int {
		if a.Main != b.Main {
			if a.Main {
				return -1
			}
			return 1
		}
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Domain returns a domain by name.
func (d *Directory) Domain(name string) (store.Domain, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	dm, ok := d.domains[strings.ToLower(name)]
	if !ok {
		return store.Domain{}, false
	}
	return dm.d, true
}

// MainDomain is the domain marked main, else the first provisioned; "" when there is none.
func (d *Directory) MainDomain() string {
	doms := d.Domains()
	if len(doms) == 0 {
		return ""
	}
	return doms[0].Name
}

// Account returns an account by exact name (not alias).
func (d *Directory) Account(domainName, name string) (store.Account, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	dm, ok := d.domains[strings.ToLower(domainName)]
	if !ok {
		return store.Account{}, false
	}
	a, ok := dm.accounts[strings.ToLower(name)]
	if !ok {
		return store.Account{}, false
	}
	return cloneAccount(a), true
}

func cloneAccount(a *store.Account) store.Account {
	c := *a
	c.Aliases = slices.Clone(a.Aliases)
	return c
}

// Accounts lists a domain's accounts by name.
func (d *Directory) Accounts(domainName string) ([]store.Account, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	dm, ok := d.domains[strings.ToLower(domainName)]
	if !ok {
		return nil, fmt.Errorf("domain %s: %w", domainName, ErrNotFound)
	}
	out := make([]store.Account, 0, len(dm.accounts))
	for _, a := range dm.accounts {
		out = append(out, cloneAccount(a))
	}
	slices.SortFunc(out, func(a, b store.Account) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Forwarders lists a domain's forwarders.
func (d *Directory) Forwarders(domainName string) ([]store.Forwarder, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	dm, ok := d.domains[strings.ToLower(domainName)]
	if !ok {
		return nil, fmt.Errorf("domain %s: %w", domainName, ErrNotFound)
	}
	out := make([]store.Forwarder, 0, len(dm.forwarders))
	for n, to := range dm.forwarders {
		out = append(out, store.Forwarder{Domain: dm.d.Name, Name: n, To: to})
	}
	slices.SortFunc(out, func(a, b store.Forwarder) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Target is what an address resolves to.
type Target struct {
	// Account is set when the address reaches a local account.
	Account *store.Account
	// Via lists the rewrites applied, e.g. ["alias 200", "forwarder sales"].
	Via []string
}

// Resolve maps user@domain to an account through aliases and forwarders.
func (d *Directory) Resolve(user, domainName string) (Target, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var t Target
	user, domainName = strings.ToLower(user), strings.ToLower(domainName)
	for hop := 0; hop < maxForwardHops; hop++ {
		dm, ok := d.domains[domainName]
		if !ok {
			return t, fmt.Errorf("domain %s: %w", domainName, ErrNotFound)
		}
		if a, ok := dm.accounts[user]; ok {
			c := cloneAccount(a)
			t.Account = &c
			return t, nil
		}
		if acc, ok := dm.aliases[user]; ok {
			t.Via = append(t.Via, "alias "+user)
			user = acc
			continue
		}
		if to, ok := dm.forwarders[user]; ok {
			t.Via = append(t.Via, "forwarder "+user)
			u, dn, found := strings.Cut(to, "@")
			user = u
			if found {
				domainName = strings.ToLower(dn)
			}
			continue
		}
		return t, fmt.Errorf("%s@%s: %w", user, domainName, ErrNotFound)
	}
	return t, fmt.Errorf("%s@%s: forwarding loop: %w", user, domainName, ErrInvalid)
}

// PutDomain creates or updates a domain. It reports whether anything changed.
func (d *Directory) PutDomain(ctx context.Context, spec DomainSpec) (bool, error) {
	name, err := CheckDomainName(spec.Name)
	if err != nil {
		return false, err
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	d.mu.RLock()
	old, exists := d.domains[name]
	d.mu.RUnlock()
	now := storeNow()
	nd := store.Domain{Name: name, Main: spec.Main, Created: now, Updated: now}
	if exists {
		nd.Prefs = old.d.Prefs
	}
	if spec.DirectMedia != nil {
		nd.Prefs.DirectMedia = *spec.DirectMedia
	}
	if exists {
		if old.d.Main == nd.Main && old.d.Prefs == nd.Prefs {
			return false, nil
		}
		nd.Created = old.d.Created
	}
	if err := d.st.PutDomain(ctx, nd); err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if nd.Main {
		for _, dm := range d.domains {
			dm.d.Main = false
		}
	}
	if exists {
		old.d = nd
	} else {
		d.domains[name] = newDomain(nd)
	}
	return true, nil
}

// DeleteDomain removes a domain and everything in it.
func (d *Directory) DeleteDomain(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if err := d.st.DeleteDomain(ctx, name); err != nil {
		return err
	}
	d.mu.Lock()
	delete(d.domains, name)
	d.mu.Unlock()
	return nil
}

// PutAccount creates or updates an account. Fields left empty in spec keep
// their current value for an existing account, so a partial update (say, a
// new password) does not wipe the rest. It reports whether anything changed.
func (d *Directory) PutAccount(ctx context.Context, domainName string, spec AccountSpec) (bool, error) {
	domainName = strings.ToLower(domainName)
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	d.mu.RLock()
	dm, ok := d.domains[domainName]
	var old *store.Account
	var aliasOwner map[string]string
	var forwarders map[string]string
	if ok {
		old = dm.accounts[strings.ToLower(spec.Name)]
		aliasOwner = maps(dm.aliases)
		forwarders = maps(dm.forwarders)
	}
	accountsNames := map[string]bool{}
	if ok {
		for n := range dm.accounts {
			accountsNames[n] = true
		}
	}
	d.mu.RUnlock()
	if !ok {
		return false, fmt.Errorf("domain %s: %w", domainName, ErrNotFound)
	}
	na, err := spec.build(domainName, old)
	if err != nil {
		return false, err
	}
	for _, al := range na.Aliases {
		if owner, taken := aliasOwner[al]; taken && owner != na.Name {
			return false, fmt.Errorf("alias %s@%s already belongs to %s: %w", al, domainName, owner, ErrConflict)
		}
		if accountsNames[al] && al != na.Name {
			return false, fmt.Errorf("alias %s@%s is an account name: %w", al, domainName, ErrConflict)
		}
		if _, f := forwarders[al]; f {
			return false, fmt.Errorf("alias %s@%s is a forwarder: %w", al, domainName, ErrConflict)
		}
	}
	if owner, taken := aliasOwner[na.Name]; taken && owner != na.Name {
		return false, fmt.Errorf("account name %s@%s is an alias of %s: %w", na.Name, domainName, owner, ErrConflict)
	}
	if _, f := forwarders[na.Name]; f {
		return false, fmt.Errorf("account name %s@%s is a forwarder: %w", na.Name, domainName, ErrConflict)
	}
	if old != nil && sameAccount(old, &na) {
		return false, nil
	}
	if err := d.st.PutAccount(ctx, na); err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dm = d.domains[domainName]
	if dm == nil { // deleted meanwhile
		return false, fmt.Errorf("domain %s: %w", domainName, ErrNotFound)
	}
	if old != nil {
		for _, al := range old.Aliases {
			delete(dm.aliases, al)
		}
	}
	for _, al := range na.Aliases {
		dm.aliases[al] = na.Name
	}
	dm.accounts[na.Name] = &na
	return true, nil
}

func maps(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// sameAccount compares what a user can set, ignoring timestamps.
func sameAccount(a, b *store.Account) bool {
	if a.Name != b.Name || a.RealName != b.RealName || a.HA1MD5 != b.HA1MD5 || a.HA1SHA256 != b.HA1SHA256 ||
		!slices.Equal(a.Aliases, b.Aliases) {
		return false
	}
	pa, _ := json.Marshal(a.Prefs)
	pb, _ := json.Marshal(b.Prefs)
	return string(pa) == string(pb)
}

// SetAliases replaces an account's aliases.
func (d *Directory) SetAliases(ctx context.Context, domainName, name string, aliases []string) (bool, error) {
	a, ok := d.Account(domainName, name)
	if !ok {
		return false, fmt.Errorf("account %s@%s: %w", name, domainName, ErrNotFound)
	}
	if aliases == nil {
		aliases = []string{}
	}
	return d.PutAccount(ctx, domainName, AccountSpec{Name: a.Name, Aliases: &aliases})
}

// DeleteAccount removes an account and its aliases.
func (d *Directory) DeleteAccount(ctx context.Context, domainName, name string) error {
	domainName, name = strings.ToLower(domainName), strings.ToLower(name)
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if err := d.st.DeleteAccount(ctx, domainName, name); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if dm := d.domains[domainName]; dm != nil {
		if a := dm.accounts[name]; a != nil {
			for _, al := range a.Aliases {
				delete(dm.aliases, al)
			}
		}
		delete(dm.accounts, name)
	}
	return nil
}

// PutForwarder creates or updates a forwarder name@domain → to.
func (d *Directory) PutForwarder(ctx context.Context, domainName, name, to string) (bool, error) {
	domainName = strings.ToLower(domainName)
	n, err := CheckName("forwarder", name)
	if err != nil {
		return false, err
	}
	to = strings.ToLower(strings.TrimSpace(to))
	if err := checkAddress(to); err != nil {
		return false, fmt.Errorf("forwarder %s: %w", n, err)
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	d.mu.RLock()
	dm, ok := d.domains[domainName]
	var cur string
	var exists, clash bool
	if ok {
		cur, exists = dm.forwarders[n]
		_, acc := dm.accounts[n]
		_, al := dm.aliases[n]
		clash = acc || al
	}
	d.mu.RUnlock()
	if !ok {
		return false, fmt.Errorf("domain %s: %w", domainName, ErrNotFound)
	}
	if clash {
		return false, fmt.Errorf("forwarder %s@%s: name is taken by an account or alias: %w", n, domainName, ErrConflict)
	}
	if exists && cur == to {
		return false, nil
	}
	if err := d.st.PutForwarder(ctx, store.Forwarder{Domain: domainName, Name: n, To: to}); err != nil {
		return false, err
	}
	d.mu.Lock()
	if dm := d.domains[domainName]; dm != nil {
		dm.forwarders[n] = to
	}
	d.mu.Unlock()
	return true, nil
}

// DeleteForwarder removes a forwarder.
func (d *Directory) DeleteForwarder(ctx context.Context, domainName, name string) error {
	domainName, name = strings.ToLower(domainName), strings.ToLower(name)
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if err := d.st.DeleteForwarder(ctx, domainName, name); err != nil {
		return err
	}
	d.mu.Lock()
	if dm := d.domains[domainName]; dm != nil {
		delete(dm.forwarders, name)
	}
	d.mu.Unlock()
	return nil
}

// HA1 returns the account's stored HA1 for alg ("" when it has no password).
func HA1(a *store.Account, alg string) string {
	if strings.EqualFold(alg, digest.SHA256) {
		return a.HA1SHA256
	}
	return a.HA1MD5
}

// CheckPassword reports whether password is the account's, by recomputing
// its digest HA1 (MD5, and SHA-256 when the account has one) and comparing
// in constant time. An account without a password matches nothing.
func CheckPassword(a *store.Account, password string) bool {
	ok := 0
	if a.HA1MD5 != "" {
		got := digest.HA1(digest.MD5, a.Name, a.Domain, password)
		ok |= subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(a.HA1MD5)))
	}
	if a.HA1SHA256 != "" {
		got := digest.HA1(digest.SHA256, a.Name, a.Domain, password)
		ok |= subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(a.HA1SHA256)))
	}
	return ok == 1
}
