// Package config holds Ringo's server settings (ringo.yaml) and their defaults.
//
// Settings are inert data: Load fills them from a file over the defaults,
// command-line flags override single fields, and Validate checks the result
// once before anything starts.
package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole server configuration.
type Config struct {
	// Data is the directory holding the embedded store and the admin token.
	Data      string    `yaml:"data"`
	SIP       SIP       `yaml:"sip"`
	HTTP      HTTP      `yaml:"http"`
	RTP       RTP       `yaml:"rtp"`
	Security  Security  `yaml:"security"`
	Registrar Registrar `yaml:"registrar"`
	Calls     Calls     `yaml:"calls"`
	SMTP      SMTP      `yaml:"smtp"`
	Records   Records   `yaml:"records"`
}

// Records are the call records (CDR).
type Records struct {
	// Enabled keeps a durable, searchable record of every call.
	Enabled bool `yaml:"enabled"`
	// DurableBye answers a BYE only once the call's record is durable, so no
	// ended call can lose its record in a crash; it costs the BYE a commit.
	DurableBye bool `yaml:"durableBye"`
	// Engine stores the records: RecordsSQLite (a file in Data) or
	// RecordsPostgres (the database DSN names).
	Engine string `yaml:"engine"`
	// DSN is the PostgreSQL connection string (postgres://… or libpq's
	// keyword=value form) when Engine is postgres.
	DSN string `yaml:"dsn"`
	// RetentionDays deletes records older than this many days, in the
	// background; 0 keeps them for ever.
	RetentionDays int `yaml:"retentionDays"`
}

// Call-record engines.
const (
	RecordsSQLite   = "sqlite"
	RecordsPostgres = "postgres"
)

// SIP is the SIP endpoint.
type SIP struct {
	// Addr is where UDP and TCP listen (host:port).
	Addr string `yaml:"addr"`
	// TLSAddr is where TLS listens when a certificate is configured.
	TLSAddr string `yaml:"tlsAddr"`
	TLSCert string `yaml:"tlsCert"`
	TLSKey  string `yaml:"tlsKey"`
	// Advertise is the host put in Via, Contact and Record-Route; by default
	// the listen address, or the first non-loopback address when that is 0.0.0.0.
	Advertise string `yaml:"advertise"`
	// Hostnames are names (besides IP literals) that address the main domain.
	Hostnames []string `yaml:"hostnames"`
	// MainDomain overrides the main domain (by default the first provisioned one).
	MainDomain string `yaml:"mainDomain"`
	// UserAgent is the Server/User-Agent header value; empty means none,
	// which gives scanners nothing to fingerprint.
	UserAgent string `yaml:"userAgent"`
}

// HTTP is the admin API listener.
type HTTP struct {
	Addr string `yaml:"addr"`
}

// RTP is call media.
type RTP struct {
	// Ports is the UDP range media sessions bind, "LO-HI"; each session
	// takes an even port for RTP and the odd one above it for RTCP.
	Ports string `yaml:"ports"`
	// Anchor relays call media through Ringo's own ports (the default);
	// false lets phones send media to each other directly.
	Anchor bool `yaml:"anchor"`
	// Advertise is the IP address written into SDP for Ringo's media; by
	// default sip.advertise when that is an IP address, else the SIP listen
	// address, or when that is 0.0.0.0 the local address of the route
	// towards each phone.
	Advertise string `yaml:"advertise"`
}

// Security holds the brute-force protection and digest settings.
type Security struct {
	// FailLimit authentication failures from one source within FailWindow block it for BlockFor.
	FailLimit  int           `yaml:"failLimit"`
	FailWindow time.Duration `yaml:"failWindow"`
	BlockFor   time.Duration `yaml:"blockFor"`
	// NonceLifetime bounds how long a digest nonce is accepted.
	NonceLifetime time.Duration `yaml:"nonceLifetime"`
	// Algorithms are the digest algorithms offered, in order of preference.
	Algorithms []string `yaml:"algorithms"`
}

// Registrar bounds registration lifetimes.
type Registrar struct {
	MinExpires     int `yaml:"minExpires"`
	MaxExpires     int `yaml:"maxExpires"`
	DefaultExpires int `yaml:"defaultExpires"`
	// MaxContacts is the most bindings one account may hold.
	MaxContacts int `yaml:"maxContacts"`
}

// Calls bounds call handling.
type Calls struct {
	// MaxActive calls at once; beyond it new INVITEs get 503 with Retry-After. 0 is unlimited.
	MaxActive int `yaml:"maxActive"`
	// MaxRate new calls per second (a token bucket with one second of burst);
	// beyond it new INVITEs get 503 with Retry-After. 0 is unlimited.
	MaxRate     int           `yaml:"maxRate"`
	RingTimeout time.Duration `yaml:"ringTimeout"`
	// DrainTimeout is how long SIGTERM lets existing calls finish.
	DrainTimeout time.Duration `yaml:"drainTimeout"`
}

// SMTP is the outgoing mail relay, which programs' e-mail (SendEMail,
// SubmitEMail, voicemail) goes through.
type SMTP struct {
	// Relay is the SMTP server's host:port; empty sends no mail.
	Relay string `yaml:"relay"`
	// From is the sender of messages that name none.
	From string `yaml:"from"`
	// Username and Password authenticate to the relay; the password is
	// sent only encrypted, or to a relay on loopback.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// StartTLS is auto (encrypt when the relay offers it), always or never.
	StartTLS string `yaml:"startTLS"`
	// Timeout bounds one submission, from dialling to the relay's answer.
	Timeout time.Duration `yaml:"timeout"`
}

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		Data: "./ringo-data",
		SIP:  SIP{Addr: "0.0.0.0:5060", TLSAddr: "0.0.0.0:5061"},
		HTTP: HTTP{Addr: "127.0.0.1:8080"},
		RTP:  RTP{Ports: "10000-20000", Anchor: true},
		Security: Security{
			FailLimit:     10,
			FailWindow:    time.Minute,
			BlockFor:      10 * time.Minute,
			NonceLifetime: 5 * time.Minute,
			// SHA-256 is verified whenever offered, but offering it by default
			// breaks clients that reject a 401 carrying any challenge they do
			// not know (Debian's baresip 1.0 does), as it does Asterisk's and
			// FreeSWITCH's users; both default to MD5 too.
			Algorithms: []string{"MD5"},
		},
		Registrar: Registrar{MinExpires: 30, MaxExpires: 3600, DefaultExpires: 3600, MaxContacts: 10},
		Calls:     Calls{RingTimeout: 60 * time.Second, DrainTimeout: 30 * time.Second},
		SMTP:      SMTP{StartTLS: "auto", Timeout: 30 * time.Second},
		Records:   Records{Enabled: true, Engine: RecordsSQLite},
	}
}

// Load reads a YAML file over the defaults. Unknown keys are an error, so a
// typo in a setting is caught at start rather than silently ignored.
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		return c, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// PortRange parses "LO-HI".
func PortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("port range %q: want LO-HI", s)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("port range %q: want LO-HI within 1-65535", s)
	}
	return lo, hi, nil
}

// Validate checks the settings once, before anything listens.
func (c *Config) Validate() error {
	var errs []error
	for name, addr := range map[string]string{"sip.addr": c.SIP.Addr, "http.addr": c.HTTP.Addr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, addr, err))
		}
	}
	if (c.SIP.TLSCert == "") != (c.SIP.TLSKey == "") {
		errs = append(errs, errors.New("sip.tlsCert and sip.tlsKey go together"))
	}
	if _, _, err := PortRange(c.RTP.Ports); err != nil {
		errs = append(errs, fmt.Errorf("rtp.ports: %w", err))
	}
	if a := c.RTP.Advertise; a != "" {
		if ip, err := netip.ParseAddr(a); err != nil || ip.IsUnspecified() || ip.Zone() != "" {
			errs = append(errs, fmt.Errorf("rtp.advertise %q: want the IP address phones reach Ringo's media at", a))
		}
	}
	if c.Security.FailLimit < 1 {
		errs = append(errs, errors.New("security.failLimit must be at least 1"))
	}
	if c.Security.FailWindow <= 0 || c.Security.BlockFor <= 0 {
		errs = append(errs, errors.New("security.failWindow and security.blockFor must be positive"))
	}
	if c.Security.NonceLifetime < time.Second {
		errs = append(errs, errors.New("security.nonceLifetime must be at least 1s"))
	}
	if len(c.Security.Algorithms) == 0 {
		errs = append(errs, errors.New("security.algorithms: offer at least one digest algorithm"))
	}
	for _, a := range c.Security.Algorithms {
		if a != "MD5" && a != "SHA-256" {
			errs = append(errs, fmt.Errorf("security.algorithms: %q is not MD5 or SHA-256", a))
		}
	}
	r := c.Registrar
	if r.MinExpires < 1 || r.MaxExpires < r.MinExpires || r.DefaultExpires < r.MinExpires || r.DefaultExpires > r.MaxExpires {
		errs = append(errs, errors.New("registrar: want 1 <= minExpires <= defaultExpires <= maxExpires"))
	}
	if r.MaxContacts < 1 {
		errs = append(errs, errors.New("registrar.maxContacts must be at least 1"))
	}
	if c.Calls.RingTimeout <= 0 {
		errs = append(errs, errors.New("calls.ringTimeout must be positive"))
	}
	if c.Records.RetentionDays < 0 {
		errs = append(errs, fmt.Errorf("records.retentionDays %d: want 0 (keep for ever) or more", c.Records.RetentionDays))
	}
	if a := c.SMTP.Relay; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("smtp.relay %q: want host:port: %w", a, err))
		}
	}
	switch c.SMTP.StartTLS {
	case "auto", "always", "never":
	default:
		errs = append(errs, fmt.Errorf("smtp.startTLS %q: want auto, always or never", c.SMTP.StartTLS))
	}
	if c.SMTP.Timeout <= 0 {
		errs = append(errs, errors.New("smtp.timeout must be positive"))
	}
	if f := c.SMTP.From; f != "" {
		if _, err := mail.ParseAddress(f); err != nil {
			errs = append(errs, fmt.Errorf("smtp.from %q: %w", f, err))
		}
	}
	switch c.Records.Engine {
	case RecordsSQLite, "":
		if c.Records.DSN != "" {
			errs = append(errs, errors.New("records.dsn is set but records.engine is sqlite: set records.engine: postgres to use it"))
		}
	case RecordsPostgres:
		if strings.TrimSpace(c.Records.DSN) == "" {
			errs = append(errs, errors.New("records.engine postgres needs records.dsn, e.g. postgres://ringo@db.example.com/ringo"))
		}
	default:
		errs = append(errs, fmt.Errorf("records.engine %q: want sqlite or postgres", c.Records.Engine))
	}
	return errors.Join(errs...)
}
