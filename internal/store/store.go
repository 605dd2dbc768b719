// Package store defines Ringo's persistence: the records it keeps and the
// small interfaces an engine implements. The embedded SQLite engine lives in
// store/sqlite; a PostgreSQL engine implements the same interfaces for a
// cluster. Callers see only these types, never SQL.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors shared by every engine.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Domain is a mail-style domain: accounts are addressed as name@domain.
type Domain struct {
	Name string `json:"name"`
	// Main marks the domain that requests addressed to the server's IP
	// address or host name belong to.
	Main    bool        `json:"main"`
	Prefs   DomainPrefs `json:"prefs"`
	Created time.Time   `json:"created"`
	Updated time.Time   `json:"updated"`
}

// DomainPrefs are a domain's settings, kept as one document so that later
// settings add keys without a schema change.
type DomainPrefs struct {
	// DirectMedia lets calls between two accounts of domains that both
	// allow it keep their media between the phones rather than through
	// Ringo, when nothing needs Ringo in the media path.
	DirectMedia bool `json:"directMedia,omitempty"`
}

// Account is a user (or a PBX service such as "pbx") of a domain.
type Account struct {
	Domain   string `json:"domain"`
	Name     string `json:"name"`
	RealName string `json:"realName,omitempty"`
	// HA1 digests of the password: H(name:domain:password). The password
	// itself is never stored.
	HA1MD5    string    `json:"-"`
	HA1SHA256 string    `json:"-"`
	Aliases   []string  `json:"aliases"`
	Prefs     Prefs     `json:"prefs"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// Prefs are an account's preferences. They are kept as one document so that
// later features add keys without a schema change.
type Prefs struct {
	Language string `json:"language,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// WorkingHours maps a weekday ("mon".."sun") to "HH:MM-HH:MM[,HH:MM-HH:MM]".
	WorkingHours map[string]string `json:"workingHours,omitempty"`
	Rules        []Rule            `json:"rules,omitempty"`
	Settings     map[string]any    `json:"settings,omitempty"`
	// DomainAdmin lets the account manage its own domain through the admin
	// API. It is a typed field rather than a key of Settings because
	// Settings are free-form data for programs running as the account, which
	// must not be able to grant a right; being part of Prefs it needs no
	// schema change in any engine.
	DomainAdmin bool `json:"domainAdmin,omitempty"`
	// RecordCalls records the account's anchored calls, made or received,
	// to a stereo WAV file listed in the call's record. Typed for the same
	// reason as DomainAdmin: recording is a policy, not a program setting.
	RecordCalls bool `json:"recordCalls,omitempty"`
}

// Rule is one real-time rule: divert the signal when a condition holds.
type Rule struct {
	Divert string `json:"divert"` // always, busy, noanswer, unregistered, afterhours
	To     string `json:"to"`
	After  string `json:"after,omitempty"` // for noanswer, a duration such as "20s"
}

// Forwarder forwards name@domain to another address.
type Forwarder struct {
	Domain string `json:"domain"`
	Name   string `json:"name"`
	To     string `json:"to"`
}

// Binding is one registered contact of an address of record.
type Binding struct {
	AOR     string    `json:"aor"` // name@domain
	Contact string    `json:"contact"`
	Expires time.Time `json:"expiresAt"`
	// Source is the ip:port the REGISTER came from, and Transport its
	// transport: requests to this contact are sent there (NAT traversal).
	Source    string   `json:"source"`
	Transport string   `json:"transport"`
	Path      []string `json:"path,omitempty"`
	Instance  string   `json:"instance,omitempty"` // +sip.instance
	RegID     string   `json:"regId,omitempty"`
	CallID    string   `json:"callId"`
	CSeq      uint32   `json:"cseq"`
	Q         float64  `json:"q,omitempty"`
	UserAgent string   `json:"userAgent,omitempty"`
}

// Directory persists domains, accounts (with their aliases) and forwarders.
type Directory interface {
	Domains(ctx context.Context) ([]Domain, error)
	PutDomain(ctx context.Context, d Domain) error
	DeleteDomain(ctx context.Context, name string) error
	Accounts(ctx context.Context, domain string) ([]Account, error)
	// PutAccount inserts or replaces an account and its aliases.
	PutAccount(ctx context.Context, a Account) error
	DeleteAccount(ctx context.Context, domain, name string) error
	Forwarders(ctx context.Context, domain string) ([]Forwarder, error)
	PutForwarder(ctx context.Context, f Forwarder) error
	DeleteForwarder(ctx context.Context, domain, name string) error
}

// Locations persists registrar bindings.
type Locations interface {
	Bindings(ctx context.Context) ([]Binding, error)
	// SaveBindings upserts put and removes del (by AOR and Contact) in one transaction.
	SaveBindings(ctx context.Context, put, del []Binding) error
}

// Store is everything an engine provides.
type Store interface {
	Directory
	Locations
	Close() error
}
