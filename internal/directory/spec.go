package directory

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/internal/digest"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
	"github.com/ringo-pbx/ringo/internal/store"
)

// DomainSpec is what a user sets on a domain.
type DomainSpec struct {
	Name string `json:"name" yaml:"name"`
	Main bool   `json:"main,omitempty" yaml:"main,omitempty"`
	// DirectMedia allows (true) or forbids (false) direct media for calls
	// between the domain's accounts and those of domains that allow it too;
	// nil keeps the current value.
	DirectMedia *bool `json:"directMedia,omitempty" yaml:"directMedia,omitempty"`
}

// AccountSpec is what a user sets on an account. Nil pointers and empty
// strings leave an existing account's value as it is.
type AccountSpec struct {
	Name         string            `json:"name" yaml:"name"`
	Password     string            `json:"password,omitempty" yaml:"password,omitempty"`
	RealName     *string           `json:"realName,omitempty" yaml:"realName,omitempty"`
	Aliases      *[]string         `json:"aliases,omitempty" yaml:"aliases,omitempty"`
	Language     *string           `json:"language,omitempty" yaml:"language,omitempty"`
	Timezone     *string           `json:"timezone,omitempty" yaml:"timezone,omitempty"`
	WorkingHours map[string]string `json:"workingHours,omitempty" yaml:"workingHours,omitempty"`
	Rules        *[]store.Rule     `json:"rules,omitempty" yaml:"rules,omitempty"`
	Settings     map[string]any    `json:"settings,omitempty" yaml:"settings,omitempty"`
	// DomainAdmin grants (true) or withdraws (false) the right to manage the
	// account's domain through the admin API.
	DomainAdmin *bool `json:"domainAdmin,omitempty" yaml:"domainAdmin,omitempty"`
	// RecordCalls turns the recording of the account's calls on (true) or
	// off (false).
	RecordCalls *bool `json:"recordCalls,omitempty" yaml:"recordCalls,omitempty"`
}

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]{0,63}$`)
	domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	langRE   = regexp.MustCompile(`^[a-z][a-z_-]{0,31}$`)
	hoursRE  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`)
)

// Weekdays in order, as working-hours keys.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// CheckDomainName validates and lower-cases a domain name.
func CheckDomainName(s string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if len(n) > 253 || !domainRE.MatchString(n) {
		return "", fmt.Errorf("domain name %q: letters, digits, '-' and '.' only: %w", s, ErrInvalid)
	}
	return n, nil
}

// CheckName validates and lower-cases an account, alias or forwarder name.
func CheckName(what, s string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if !nameRE.MatchString(n) {
		return "", fmt.Errorf("%s name %q: 1-64 of a-z 0-9 . _ + -, starting with a letter or digit: %w", what, s, ErrInvalid)
	}
	return n, nil
}

func checkAddress(s string) error {
	user, dom, found := strings.Cut(s, "@")
	if _, err := CheckName("address", strings.TrimPrefix(user, "#")); err != nil {
		return err
	}
	if found {
		if _, err := CheckDomainName(dom); err != nil {
			return err
		}
	}
	return nil
}

// ParseWorkingHours expands keys such as "mon-fri" or "sat,sun" to one entry
// per weekday and checks the values ("09:00-18:00", several joined by ',',
// or "off").
func ParseWorkingHours(in map[string]string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for k, v := range in {
		days, err := expandDays(k)
		if err != nil {
			return nil, err
		}
		v = strings.ToLower(strings.ReplaceAll(v, " ", ""))
		if v != "off" {
			for _, span := range strings.Split(v, ",") {
				if !hoursRE.MatchString(span) {
					return nil, fmt.Errorf("working hours %s: %q is not HH:MM-HH:MM or off: %w", k, v, ErrInvalid)
				}
				if a, b, _ := strings.Cut(span, "-"); a >= b {
					return nil, fmt.Errorf("working hours %s: %q ends before it starts: %w", k, span, ErrInvalid)
				}
			}
		}
		for _, d := range days {
			if prev, dup := out[d]; dup && prev != v {
				return nil, fmt.Errorf("working hours: %s is given twice: %w", d, ErrInvalid)
			}
			out[d] = v
		}
	}
	return out, nil
}

func expandDays(key string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(strings.ToLower(strings.ReplaceAll(key, " ", "")), ",") {
		a, b, isRange := strings.Cut(part, "-")
		i, j := slices.Index(Weekdays, a), slices.Index(Weekdays, b)
		switch {
		case !isRange && i >= 0:
			out = append(out, a)
		case isRange && i >= 0 && j >= i:
			out = append(out, Weekdays[i:j+1]...)
		default:
			return nil, fmt.Errorf("working hours: %q is not a weekday, a range such as mon-fri, or a list: %w", key, ErrInvalid)
		}
	}
	return out, nil
}

var ruleKinds = []string{"always", "busy", "noanswer", "unregistered", "afterhours"}

func checkRules(rules []store.Rule) error {
	for i, r := range rules {
		if !slices.Contains(ruleKinds, r.Divert) {
			return fmt.Errorf("rule %d: divert %q: want one of %s: %w", i+1, r.Divert, strings.Join(ruleKinds, ", "), ErrInvalid)
		}
		if strings.TrimSpace(r.To) == "" {
			return fmt.Errorf("rule %d: divert %s needs 'to': %w", i+1, r.Divert, ErrInvalid)
		}
		if r.After != "" {
			if d, err := time.ParseDuration(r.After); err != nil || d <= 0 {
				return fmt.Errorf("rule %d: after %q is not a duration such as 20s: %w", i+1, r.After, ErrInvalid)
			}
		}
	}
	return nil
}

// build validates spec and merges it over old (nil for a new account).
func (spec AccountSpec) build(domainName string, old *store.Account) (store.Account, error) {
	name, err := CheckName("account", spec.Name)
	if err != nil {
		return store.Account{}, err
	}
	now := storeNow()
	a := store.Account{Domain: domainName, Name: name, Aliases: []string{}, Created: now, Updated: now}
	if old != nil {
		a = cloneAccount(old)
		a.Updated = now
	}
	if spec.Password != "" {
		if len(spec.Password) > 256 || strings.ContainsAny(spec.Password, "\r\n") {
			return a, fmt.Errorf("account %s: password must be one line of at most 256 bytes: %w", name, ErrInvalid)
		}
		a.HA1MD5 = digest.HA1(digest.MD5, name, domainName, spec.Password)
		a.HA1SHA256 = digest.HA1(digest.SHA256, name, domainName, spec.Password)
	}
	if spec.RealName != nil {
		if len(*spec.RealName) > 256 || strings.ContainsAny(*spec.RealName, "\r\n\"") {
			return a, fmt.Errorf("account %s: realName must be one line of at most 256 bytes without quotes: %w", name, ErrInvalid)
		}
		a.RealName = *spec.RealName
	}
	if spec.Aliases != nil {
		var als []string
		for _, s := range *spec.Aliases {
			al, err := CheckName("alias", s)
			if err != nil {
				return a, fmt.Errorf("account %s: %w", name, err)
			}
			if al == name {
				return a, fmt.Errorf("account %s: alias equals the account name: %w", name, ErrInvalid)
			}
			if !slices.Contains(als, al) {
				als = append(als, al)
			}
		}
		slices.Sort(als)
		if als == nil {
			als = []string{}
		}
		a.Aliases = als
	}
	if spec.Language != nil {
		if *spec.Language != "" && !langRE.MatchString(*spec.Language) {
			return a, fmt.Errorf("account %s: language %q: a folder name such as russian: %w", name, *spec.Language, ErrInvalid)
		}
		a.Prefs.Language = *spec.Language
	}
	if spec.Timezone != nil {
		if *spec.Timezone != "" {
			if _, err := time.LoadLocation(*spec.Timezone); err != nil {
				return a, fmt.Errorf("account %s: timezone %q: %v: %w", name, *spec.Timezone, err, ErrInvalid)
			}
		}
		a.Prefs.Timezone = *spec.Timezone
	}
	if spec.WorkingHours != nil {
		wh, err := ParseWorkingHours(spec.WorkingHours)
		if err != nil {
			return a, fmt.Errorf("account %s: %w", name, err)
		}
		a.Prefs.WorkingHours = wh
	}
	if spec.Rules != nil {
		if err := checkRules(*spec.Rules); err != nil {
			return a, fmt.Errorf("account %s: %w", name, err)
		}
		a.Prefs.Rules = slices.Clone(*spec.Rules)
	}
	if spec.Settings != nil {
		a.Prefs.Settings = spec.Settings
	}
	if spec.DomainAdmin != nil {
		a.Prefs.DomainAdmin = *spec.DomainAdmin
	}
	if spec.RecordCalls != nil {
		a.Prefs.RecordCalls = *spec.RecordCalls
	}
	return a, nil
}

// Doc is the declarative provisioning document (`ringo apply -f`).
type Doc struct {
	Server  *ServerDoc  `json:"server,omitempty" yaml:"server,omitempty"`
	Domains []DomainDoc `json:"domains" yaml:"domains"`
}

// ServerDoc is what a Doc sets for the whole server.
type ServerDoc struct {
	Environment []EnvFile `json:"environment,omitempty" yaml:"environment,omitempty"`
}

// DomainDoc is one domain of a Doc.
type DomainDoc struct {
	DomainSpec  `yaml:",inline"`
	Accounts    []AccountSpec     `json:"accounts,omitempty" yaml:"accounts,omitempty"`
	Forwarders  map[string]string `json:"forwarders,omitempty" yaml:"forwarders,omitempty"`
	Environment []EnvFile         `json:"environment,omitempty" yaml:"environment,omitempty"`
}

// EnvFile is a file of an application environment (the server's or a
// domain's) in a Doc. The YAML names a local file, relative to the YAML
// file; `ringo apply` reads it and sends its content in Data (base64 in
// the JSON the API takes), so the server never reads the client's files.
type EnvFile struct {
	// File is the local file.
	File string `json:"file,omitempty" yaml:"file"`
	// Name is the file's name in the environment; File's base name by
	// default.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Lang is the language folder ("" for the root, English).
	Lang string `json:"lang,omitempty" yaml:"lang,omitempty"`
	Data []byte `json:"data" yaml:"-"`
}

// EnvName is the file's name in the environment.
func (f EnvFile) EnvName() string {
	if f.Name != "" {
		return f.Name
	}
	if f.File == "" {
		return ""
	}
	return filepath.Base(filepath.FromSlash(f.File))
}

// checkEnvironment checks the environment files of one layer (where names
// it in messages), each name given once.
func checkEnvironment(where string, files []EnvFile) []string {
	var errs []string
	seen := map[string]bool{}
	for _, f := range files {
		name := f.EnvName()
		// The whole list says "invalid" once.
		msg := func(err error) string { return strings.TrimSuffix(err.Error(), ": "+envir.ErrInvalid.Error()) }
		lang, err := envir.CheckLang(f.Lang)
		switch {
		case name == "":
			errs = append(errs, fmt.Sprintf("%s: an environment file needs file or name", where))
			continue
		case err != nil:
			errs = append(errs, fmt.Sprintf("%s: environment file %s: %s", where, name, msg(err)))
			continue
		}
		if err := envir.CheckName(name); err != nil {
			errs = append(errs, fmt.Sprintf("%s: environment %s", where, msg(err)))
			continue
		}
		switch ext := strings.ToLower(path.Ext(name)); {
		case ext == ".tar" || ext == ".tgz" || strings.HasSuffix(strings.ToLower(name), ".tar.gz"):
			errs = append(errs, fmt.Sprintf("%s: environment file %s is an archive; unpack it with `ringo env put`, or list its files", where, name))
		case f.Data == nil:
			errs = append(errs, fmt.Sprintf("%s: environment file %s: no content (a file to read, or data in JSON)", where, name))
		case len(f.Data) > envir.MaxFileSize:
			errs = append(errs, fmt.Sprintf("%s: environment file %s: larger than %d bytes", where, name, envir.MaxFileSize))
		}
		key := strings.ToLower(path.Join(lang, name))
		if seen[key] {
			errs = append(errs, fmt.Sprintf("%s: environment file %s appears twice", where, path.Join(lang, name)))
		}
		seen[key] = true
	}
	return errs
}

// Change is one line of an apply report.
type Change struct {
	Kind    string `json:"kind"` // domain, account, forwarder
	Name    string `json:"name"`
	Changed bool   `json:"changed"`
}

// Report summarises an apply.
type Report struct {
	Changed   int      `json:"changed"`
	Unchanged int      `json:"unchanged"`
	Items     []Change `json:"items"`
}

// Check validates a whole document without changing anything, reporting
// every problem found rather than the first.
func (doc *Doc) Check() error {
	var errs []string
	seen := map[string]bool{}
	var mains []string
	if doc.Server != nil {
		errs = append(errs, checkEnvironment("server", doc.Server.Environment)...)
	}
	for _, dd := range doc.Domains {
		dn, err := CheckDomainName(dd.Name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if seen[dn] {
			errs = append(errs, fmt.Sprintf("domain %s appears twice", dn))
		}
		seen[dn] = true
		if dd.Main {
			mains = append(mains, dn)
		}
		names := map[string]bool{}
		for _, as := range dd.Accounts {
			a, err := as.build(dn, nil)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", dn, err))
				continue
			}
			if names[a.Name] {
				errs = append(errs, fmt.Sprintf("%s: account %s appears twice", dn, a.Name))
			}
			names[a.Name] = true
		}
		fnames := map[string]bool{}
		for n, to := range dd.Forwarders {
			if fn, err := CheckName("forwarder", n); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", dn, err))
			} else if err := checkAddress(strings.ToLower(to)); err != nil {
				errs = append(errs, fmt.Sprintf("%s: forwarder %s: %v", dn, n, err))
			} else if fnames[fn] {
				errs = append(errs, fmt.Sprintf("%s: forwarder %s appears twice", dn, fn))
			} else {
				fnames[fn] = true
			}
		}
		errs = append(errs, checkEnvironment(dn, dd.Environment)...)
	}
	if len(mains) > 1 {
		errs = append(errs, fmt.Sprintf("only one domain can be main, not %s", strings.Join(mains, ", ")))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(errs, "; "), ErrInvalid)
	}
	return nil
}

// Apply upserts a document: domains, then their accounts, then forwarders.
// Applying the same document twice changes nothing the second time. The
// environment files are checked here but stored by the caller, which holds
// the environments.
func (d *Directory) Apply(ctx context.Context, doc Doc) (Report, error) {
	var rep Report
	if err := doc.Check(); err != nil {
		return rep, err
	}
	note := func(kind, name string, changed bool) {
		rep.Items = append(rep.Items, Change{Kind: kind, Name: name, Changed: changed})
		if changed {
			rep.Changed++
		} else {
			rep.Unchanged++
		}
	}
	for _, dd := range doc.Domains {
		changed, err := d.PutDomain(ctx, dd.DomainSpec)
		if err != nil {
			return rep, err
		}
		dn, _ := CheckDomainName(dd.Name) // checked above
		note("domain", dn, changed)
		for _, as := range dd.Accounts {
			changed, err := d.PutAccount(ctx, dn, as)
			if err != nil {
				return rep, err
			}
			note("account", strings.ToLower(as.Name)+"@"+dn, changed)
		}
		fnames := make([]string, 0, len(dd.Forwarders))
		for n := range dd.Forwarders {
			fnames = append(fnames, n)
		}
		slices.Sort(fnames)
		for _, n := range fnames {
			changed, err := d.PutForwarder(ctx, dn, n, dd.Forwarders[n])
			if err != nil {
				return rep, err
			}
			note("forwarder", strings.ToLower(n)+"@"+dn, changed)
		}
	}
	return rep, nil
}
