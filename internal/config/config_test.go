package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/config"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ringo.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultIsValid(t *testing.T) {
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadNoPath(t *testing.T) {
	c, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, config.Default()) {
		t.Fatalf("Load(\"\") = %+v, want the defaults", c)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	for _, content := range []string{"", "\n", "# only a comment\n", "---\n"} {
		c, err := config.Load(writeFile(t, content))
		if err != nil {
			t.Fatalf("Load(%q): %v", content, err)
		}
		if !reflect.DeepEqual(c, config.Default()) {
			t.Fatalf("Load(%q) = %+v, want the defaults", content, c)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestLoadOverridesDefaults(t *testing.T) {
	c, err := config.Load(writeFile(t, `
data: /var/lib/ringo
sip:
  addr: 127.0.0.1:5070
  hostnames: [pbx.example.com, pbx]
rtp:
  ports: 30000-30100
  anchor: false
  advertise: 203.0.113.7
security:
  failWindow: 2m30s
  algorithms: [SHA-256]
registrar:
  maxExpires: 7200
calls:
  ringTimeout: 45s
smtp:
  relay: mail.example.com:587
  startTLS: always
`))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Data = "/var/lib/ringo"
	want.SIP.Addr = "127.0.0.1:5070"
	want.SIP.Hostnames = []string{"pbx.example.com", "pbx"}
	want.RTP.Ports = "30000-30100"
	want.RTP.Anchor = false
	want.RTP.Advertise = "203.0.113.7"
	want.Security.FailWindow = 150 * time.Second
	want.Security.Algorithms = []string{"SHA-256"}
	want.Registrar.MaxExpires = 7200
	want.Calls.RingTimeout = 45 * time.Second
	want.SMTP.Relay, want.SMTP.StartTLS = "mail.example.com:587", "always"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Load =\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := map[string]string{
		"unknown top-level key":   "sipp:\n  addr: 1.2.3.4:5060\n",
		"unknown nested key":      "security:\n  failLimt: 3\n",
		"bad duration":            "security:\n  failWindow: 10x\n",
		"bare number duration":    "calls:\n  ringTimeout: 60\n",
		"duration as list":        "security:\n  blockFor: [1m]\n",
		"string for int":          "registrar:\n  minExpires: soon\n",
		"scalar for struct":       "sip: 5060\n",
		"not yaml":                "sip: [\n",
		"tab indentation garbage": "sip:\n\taddr: x\n",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, content)
			_, err := config.Load(p)
			if err == nil {
				t.Fatalf("Load(%q) succeeded", content)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*config.Config)
		want   string // substring of the error; "" means valid
	}{
		{"defaults", func(c *config.Config) {}, ""},
		{"port range ok single port", func(c *config.Config) { c.RTP.Ports = "10000-10000" }, ""},
		{"port range reversed", func(c *config.Config) { c.RTP.Ports = "20000-10000" }, "rtp.ports"},
		{"port range zero", func(c *config.Config) { c.RTP.Ports = "0-100" }, "rtp.ports"},
		{"port range too high", func(c *config.Config) { c.RTP.Ports = "10000-65536" }, "rtp.ports"},
		{"port range no dash", func(c *config.Config) { c.RTP.Ports = "10000" }, "rtp.ports"},
		{"port range words", func(c *config.Config) { c.RTP.Ports = "a-b" }, "rtp.ports"},
		{"port range empty", func(c *config.Config) { c.RTP.Ports = "" }, "rtp.ports"},
		{"rtp advertise ipv4", func(c *config.Config) { c.RTP.Advertise = "203.0.113.7" }, ""},
		{"rtp advertise ipv6", func(c *config.Config) { c.RTP.Advertise = "2001:db8::7" }, ""},
		{"rtp advertise host name", func(c *config.Config) { c.RTP.Advertise = "pbx.example.com" }, "rtp.advertise"},
		{"rtp advertise unspecified", func(c *config.Config) { c.RTP.Advertise = "0.0.0.0" }, "rtp.advertise"},
		{"failLimit 0", func(c *config.Config) { c.Security.FailLimit = 0 }, "failLimit"},
		{"failLimit negative", func(c *config.Config) { c.Security.FailLimit = -1 }, "failLimit"},
		{"nonce lifetime short", func(c *config.Config) { c.Security.NonceLifetime = time.Millisecond }, "nonceLifetime"},
		{"no algorithms", func(c *config.Config) { c.Security.Algorithms = nil }, "algorithms"},
		{"algorithm MD5 only", func(c *config.Config) { c.Security.Algorithms = []string{"MD5"} }, ""},
		{"algorithm SHA-256 first", func(c *config.Config) { c.Security.Algorithms = []string{"SHA-256", "MD5"} }, ""},
		{"algorithm SHA-512-256", func(c *config.Config) { c.Security.Algorithms = []string{"MD5", "SHA-512-256"} }, "SHA-512-256"},
		{"algorithm MD5-sess", func(c *config.Config) { c.Security.Algorithms = []string{"MD5-sess"} }, "MD5-sess"},
		{"algorithm lower case", func(c *config.Config) { c.Security.Algorithms = []string{"sha-256"} }, "sha-256"},
		{"minExpires 0", func(c *config.Config) { c.Registrar.MinExpires = 0 }, "registrar"},
		{"max below min", func(c *config.Config) { c.Registrar.MinExpires, c.Registrar.MaxExpires = 60, 30 }, "registrar"},
		{"default below min", func(c *config.Config) { c.Registrar.DefaultExpires = 10 }, "registrar"},
		{"default above max", func(c *config.Config) { c.Registrar.DefaultExpires = 7200 }, "registrar"},
		{"all expires equal", func(c *config.Config) {
			c.Registrar.MinExpires, c.Registrar.DefaultExpires, c.Registrar.MaxExpires = 60, 60, 60
		}, ""},
		{"maxContacts 0", func(c *config.Config) { c.Registrar.MaxContacts = 0 }, "maxContacts"},
		{"ringTimeout 0", func(c *config.Config) { c.Calls.RingTimeout = 0 }, "ringTimeout"},
		{"tls cert without key", func(c *config.Config) { c.SIP.TLSCert = "cert.pem" }, "tlsKey"},
		{"tls key without cert", func(c *config.Config) { c.SIP.TLSKey = "key.pem" }, "tlsCert"},
		{"tls cert and key", func(c *config.Config) { c.SIP.TLSCert, c.SIP.TLSKey = "cert.pem", "key.pem" }, ""},
		{"sip addr without port", func(c *config.Config) { c.SIP.Addr = "0.0.0.0" }, "sip.addr"},
		{"http addr empty", func(c *config.Config) { c.HTTP.Addr = "" }, "http.addr"},
		{"ipv6 addr", func(c *config.Config) { c.SIP.Addr = "[::1]:5060" }, ""},
		{"smtp relay", func(c *config.Config) { c.SMTP.Relay, c.SMTP.From = "mail.example.com:587", "PBX <pbx@example.com>" }, ""},
		{"smtp relay without port", func(c *config.Config) { c.SMTP.Relay = "mail.example.com" }, "smtp.relay"},
		{"smtp startTLS unknown", func(c *config.Config) { c.SMTP.StartTLS = "yes" }, "smtp.startTLS"},
		{"smtp timeout 0", func(c *config.Config) { c.SMTP.Timeout = 0 }, "smtp.timeout"},
		{"smtp from not an address", func(c *config.Config) { c.SMTP.From = "pbx" }, "smtp.from"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := config.Default()
	c.RTP.Ports = "x"
	c.Security.FailLimit = 0
	c.Security.Algorithms = []string{"CRC32"}
	c.SIP.TLSKey = "k"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	for _, want := range []string{"rtp.ports", "failLimit", "CRC32", "tlsCert"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, lacks %q", err, want)
		}
	}
}

func TestPortRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi int
		ok     bool
	}{
		{"10000-20000", 10000, 20000, true},
		{" 1 - 65535 ", 1, 65535, true},
		{"5060-5060", 5060, 5060, true},
		{"0-10", 0, 0, false},
		{"1-65536", 0, 0, false},
		{"20-10", 0, 0, false},
		{"-10", 0, 0, false},
		{"10-", 0, 0, false},
		{"10", 0, 0, false},
		{"1-2-3", 0, 0, false},
		{"a-b", 0, 0, false},
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"99999999999999999999-1", 0, 0, false},
	}
	for _, tc := range tests {
		lo, hi, err := config.PortRange(tc.in)
		if (err == nil) != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("PortRange(%q) = %d, %d, %v; want %d, %d, ok=%v", tc.in, lo, hi, err, tc.lo, tc.hi, tc.ok)
		}
	}
}

func FuzzPortRange(f *testing.F) {
	for _, s := range []string{"10000-20000", "1-65535", "0-1", "20-10", "+5-+6", " 7 - 8 ", "1-2-3", "", "-", "x-y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := config.PortRange(s)
		if err != nil {
			if lo != 0 || hi != 0 {
				t.Fatalf("PortRange(%q) failed but returned %d-%d", s, lo, hi)
			}
			return
		}
		if lo < 1 || hi > 65535 || lo > hi {
			t.Fatalf("PortRange(%q) = %d-%d, outside 1-65535 or reversed", s, lo, hi)
		}
		// The canonical form parses back to the same range.
		lo2, hi2, err := config.PortRange(fmt.Sprintf("%d-%d", lo, hi))
		if err != nil || lo2 != lo || hi2 != hi {
			t.Fatalf("PortRange(%d-%d) = %d, %d, %v after PortRange(%q)", lo, hi, lo2, hi2, err, s)
		}
	})
}

func TestRecordsRetention(t *testing.T) {
	for _, tc := range []struct {
		yaml    string
		days    int
		wantErr bool
	}{
		{"", 0, false},
		{"records:\n  retentionDays: 365\n", 365, false},
		{"records:\n  retentionDays: -1\n", -1, true},
	} {
		c, err := config.Load(writeFile(t, tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if c.Records.RetentionDays != tc.days {
			t.Errorf("%q: retentionDays %d, want %d", tc.yaml, c.Records.RetentionDays, tc.days)
		}
		if err := c.Validate(); (err != nil) != tc.wantErr || (err != nil && !strings.Contains(err.Error(), "records.retentionDays")) {
			t.Errorf("%q: Validate() = %v", tc.yaml, err)
		}
	}
}

func TestRecordsEngine(t *testing.T) {
	tests := []struct {
		name, yaml  string
		engine, dsn string
		wantErr     string // substring of Validate's error; "" means valid
	}{
		{"default", "", "sqlite", "", ""},
		{"sqlite", "records:\n  engine: sqlite\n", "sqlite", "", ""},
		{"postgres", "records:\n  engine: postgres\n  dsn: postgres://ringo@db.example.com/ringo\n", "postgres", "postgres://ringo@db.example.com/ringo", ""},
		{"postgres keyword form", "records:\n  engine: postgres\n  dsn: host=/run/postgresql dbname=ringo\n", "postgres", "host=/run/postgresql dbname=ringo", ""},
		{"postgres without dsn", "records:\n  engine: postgres\n", "postgres", "", "records.dsn"},
		{"postgres blank dsn", "records:\n  engine: postgres\n  dsn: \"  \"\n", "postgres", "  ", "records.dsn"},
		{"dsn without postgres", "records:\n  dsn: postgres://db/ringo\n", "sqlite", "postgres://db/ringo", "records.engine is sqlite"},
		{"unknown engine", "records:\n  engine: mysql\n", "mysql", "", `records.engine "mysql"`},
		{"engine case matters", "records:\n  engine: Postgres\n  dsn: postgres://db/ringo\n", "Postgres", "postgres://db/ringo", `records.engine "Postgres"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(writeFile(t, tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if c.Records.Engine != tc.engine || c.Records.DSN != tc.dsn {
				t.Fatalf("records.engine %q, dsn %q; want %q, %q", c.Records.Engine, c.Records.DSN, tc.engine, tc.dsn)
			}
			err = c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate() = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}
