package directory_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"alice", "alice", true},
		{"Alice", "alice", true},
		{"  bob  ", "bob", true},
		{"100", "100", true},
		{"a", "a", true},
		{"j.doe+sip_1-x", "j.doe+sip_1-x", true},
		{strings.Repeat("a", 64), strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), "", false},
		{"", "", false},
		{"   ", "", false},
		{".alice", "", false},
		{"-alice", "", false},
		{"_alice", "", false},
		{"+100", "", false},
		{"al ice", "", false},
		{"alice@example.com", "", false},
		{"al:ice", "", false},
		{"al\"ice", "", false},
		{"ålice", "", false},
		{"alice\n", "alice", true}, // TrimSpace removes the newline
		{"al\nice", "", false},
		{"#100", "", false},
	}
	for _, tc := range tests {
		got, err := directory.CheckName("account", tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("CheckName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckName(%q) = %q, want an error", tc.in, got)
		} else if !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("CheckName(%q) error %v is not ErrInvalid", tc.in, err)
		}
	}
}

func TestCheckDomainName(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	long := strings.Repeat(label63+".", 4) // 256 bytes with the dots
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"example.com", "example.com", true},
		{"Example.COM", "example.com", true},
		{" example.com ", "example.com", true},
		{"localhost", "localhost", true},
		{"a-b.c-d.e", "a-b.c-d.e", true},
		{"192.168.1.10", "192.168.1.10", true},
		{"xn--80ak6aa92e.com", "xn--80ak6aa92e.com", true},
		{label63 + ".com", label63 + ".com", true},
		{label63 + "a.com", "", false},
		{long[:len(long)-1], "", false},
		{"", "", false},
		{".", "", false},
		{"example.com.", "", false},
		{".example.com", "", false},
		{"example..com", "", false},
		{"-example.com", "", false},
		{"example-.com", "", false},
		{"exa_mple.com", "", false},
		{"exa mple.com", "", false},
		{"example.com:5060", "", false},
		{"[::1]", "", false},
		{"alice@example.com", "", false},
		{"пример.рф", "", false},
	}
	for _, tc := range tests {
		got, err := directory.CheckDomainName(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("CheckDomainName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckDomainName(%q) = %q, want an error", tc.in, got)
		} else if !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("CheckDomainName(%q) error %v is not ErrInvalid", tc.in, err)
		}
	}
}

func TestParseWorkingHours(t *testing.T) {
	const day = "09:00-18:00"
	tests := []struct {
		name string
		in   map[string]string
		want map[string]string // nil with wantErr false means nil result
		err  bool
	}{
		{name: "nil", in: nil, want: nil},
		{name: "empty", in: map[string]string{}, want: nil},
		{name: "one day", in: map[string]string{"mon": day}, want: map[string]string{"mon": day}},
		{
			name: "range mon-fri",
			in:   map[string]string{"mon-fri": day},
			want: map[string]string{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
		},
		{
			name: "list sat,sun off",
			in:   map[string]string{"mon-fri": day, "sat,sun": "off"},
			want: map[string]string{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": "off", "sun": "off"},
		},
		{
			name: "whole week range",
			in:   map[string]string{"mon-sun": "off"},
			want: map[string]string{"mon": "off", "tue": "off", "wed": "off", "thu": "off", "fri": "off", "sat": "off", "sun": "off"},
		},
		{
			name: "range and list mixed",
			in:   map[string]string{"mon-tue,fri": "08:00-12:00"},
			want: map[string]string{"mon": "08:00-12:00", "tue": "08:00-12:00", "fri": "08:00-12:00"},
		},
		{
			name: "one-day range",
			in:   map[string]string{"wed-wed": day},
			want: map[string]string{"wed": day},
		},
		{
			name: "several spans",
			in:   map[string]string{"mon": "09:00-13:00,14:00-18:00"},
			want: map[string]string{"mon": "09:00-13:00,14:00-18:00"},
		},
		{
			name: "case and spaces normalised",
			in:   map[string]string{" Mon - Wed ": " 09:00 - 13:00 , 14:00-18:00 ", "SAT": "OFF"},
			want: map[string]string{"mon": "09:00-13:00,14:00-18:00", "tue": "09:00-13:00,14:00-18:00", "wed": "09:00-13:00,14:00-18:00", "sat": "off"},
		},
		{
			name: "until midnight",
			in:   map[string]string{"fri": "18:00-24:00"},
			want: map[string]string{"fri": "18:00-24:00"},
		},
		{
			name: "same day twice with the same hours",
			in:   map[string]string{"mon-fri": day, "fri": day},
			want: map[string]string{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
		},
		{name: "same day twice with different hours", in: map[string]string{"mon-fri": day, "fri": "09:00-15:00"}, err: true},
		{name: "same day twice off and hours", in: map[string]string{"sat,sun": "off", "sun": day}, err: true},
		{name: "reversed range", in: map[string]string{"fri-mon": day}, err: true},
		{name: "unknown day", in: map[string]string{"monday": day}, err: true},
		{name: "empty key", in: map[string]string{"": day}, err: true},
		{name: "trailing comma in key", in: map[string]string{"mon,": day}, err: true},
		{name: "open range", in: map[string]string{"mon-": day}, err: true},
		{name: "three-part range", in: map[string]string{"mon-wed-fri": day}, err: true},
		{name: "empty value", in: map[string]string{"mon": ""}, err: true},
		{name: "reversed span", in: map[string]string{"mon": "18:00-09:00"}, err: true},
		{name: "empty span", in: map[string]string{"mon": "09:00-09:00"}, err: true},
		{name: "second span reversed", in: map[string]string{"mon": "09:00-13:00,18:00-14:00"}, err: true},
		{name: "hour 24 start", in: map[string]string{"mon": "24:00-24:00"}, err: true},
		{name: "hour 25", in: map[string]string{"mon": "09:00-25:00"}, err: true},
		{name: "minute 60", in: map[string]string{"mon": "09:60-18:00"}, err: true},
		{name: "24:30", in: map[string]string{"mon": "09:00-24:30"}, err: true},
		{name: "single digit hour", in: map[string]string{"mon": "9:00-18:00"}, err: true},
		{name: "no end", in: map[string]string{"mon": "09:00"}, err: true},
		{name: "trailing comma in value", in: map[string]string{"mon": "09:00-13:00,"}, err: true},
		{name: "words", in: map[string]string{"mon": "always"}, err: true},
		{name: "off with spans", in: map[string]string{"mon": "off,09:00-10:00"}, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := directory.ParseWorkingHours(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("ParseWorkingHours(%v) = %v, want an error", tc.in, got)
				}
				if !errors.Is(err, directory.ErrInvalid) {
					t.Fatalf("error %v is not ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWorkingHours(%v): %v", tc.in, err)
			}
			if !maps.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("ParseWorkingHours(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRulesValidation(t *testing.T) {
	tests := []struct {
		name  string
		rules []store.Rule
		ok    bool
	}{
		{"none", nil, true},
		{"every kind", []store.Rule{
			{Divert: "always", To: "bob"},
			{Divert: "busy", To: "voicemail"},
			{Divert: "noanswer", To: "bob@b.test", After: "20s"},
			{Divert: "unregistered", To: "#200"},
			{Divert: "afterhours", To: "carol"},
		}, true},
		{"unknown kind", []store.Rule{{Divert: "sometimes", To: "bob"}}, false},
		{"kind case matters", []store.Rule{{Divert: "Busy", To: "bob"}}, false},
		{"empty kind", []store.Rule{{To: "bob"}}, false},
		{"no target", []store.Rule{{Divert: "busy"}}, false},
		{"blank target", []store.Rule{{Divert: "busy", To: "  "}}, false},
		{"bad after", []store.Rule{{Divert: "noanswer", To: "bob", After: "twenty"}}, false},
		{"zero after", []store.Rule{{Divert: "noanswer", To: "bob", After: "0s"}}, false},
		{"negative after", []store.Rule{{Divert: "noanswer", To: "bob", After: "-5s"}}, false},
		{"second rule bad", []store.Rule{{Divert: "busy", To: "bob"}, {Divert: "never", To: "bob"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules := tc.rules
			doc := directory.Doc{Domains: []directory.DomainDoc{{
				DomainSpec: directory.DomainSpec{Name: "a.test"},
				Accounts:   []directory.AccountSpec{{Name: "alice", Rules: &rules}},
			}}}
			err := doc.Check()
			if tc.ok != (err == nil) {
				t.Fatalf("Check with rules %+v = %v, want ok=%v", tc.rules, err, tc.ok)
			}
			if err != nil && !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func strp(s string) *string { return &s }

func TestAccountSpecValidation(t *testing.T) {
	tests := []struct {
		name string
		spec directory.AccountSpec
		ok   bool
	}{
		{"name only", directory.AccountSpec{Name: "alice"}, true},
		{"bad name", directory.AccountSpec{Name: "al ice"}, false},
		{"password with newline", directory.AccountSpec{Name: "alice", Password: "a\nb"}, false},
		{"password too long", directory.AccountSpec{Name: "alice", Password: strings.Repeat("x", 257)}, false},
		{"password 256", directory.AccountSpec{Name: "alice", Password: strings.Repeat("x", 256)}, true},
		{"real name with quote", directory.AccountSpec{Name: "alice", RealName: strp(`A "B"`)}, false},
		{"real name", directory.AccountSpec{Name: "alice", RealName: strp("Alice Liddell")}, true},
		{"alias equals name", directory.AccountSpec{Name: "alice", Aliases: &[]string{"Alice"}}, false},
		{"bad alias", directory.AccountSpec{Name: "alice", Aliases: &[]string{"a b"}}, false},
		{"language", directory.AccountSpec{Name: "alice", Language: strp("russian")}, true},
		{"bad language", directory.AccountSpec{Name: "alice", Language: strp("../etc")}, false},
		{"timezone", directory.AccountSpec{Name: "alice", Timezone: strp("UTC")}, true},
		{"bad timezone", directory.AccountSpec{Name: "alice", Timezone: strp("Mars/Olympus")}, false},
		{"bad working hours", directory.AccountSpec{Name: "alice", WorkingHours: map[string]string{"mon": "late"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := directory.Doc{Domains: []directory.DomainDoc{{
				DomainSpec: directory.DomainSpec{Name: "a.test"},
				Accounts:   []directory.AccountSpec{tc.spec},
			}}}
			err := doc.Check()
			if tc.ok != (err == nil) {
				t.Fatalf("Check = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestDocCheckReportsEveryError(t *testing.T) {
	doc := directory.Doc{Domains: []directory.DomainDoc{
		{DomainSpec: directory.DomainSpec{Name: "bad domain"}},
		{
			DomainSpec: directory.DomainSpec{Name: "a.test"},
			Accounts: []directory.AccountSpec{
				{Name: "alice"},
				{Name: "ALICE"},
				{Name: "b@d"},
				{Name: "carol", WorkingHours: map[string]string{"someday": "09:00-10:00"}},
			},
			Forwarders: map[string]string{"sales": "not an address", "-x": "alice"},
		},
		{DomainSpec: directory.DomainSpec{Name: "A.test"}},
	}}
	err := doc.Check()
	if err == nil {
		t.Fatal("Check() = nil")
	}
	if !errors.Is(err, directory.ErrInvalid) {
		t.Fatalf("Check() = %v, not ErrInvalid", err)
	}
	for _, want := range []string{
		`"bad domain"`,
		"account alice appears twice",
		`"b@d"`,
		"someday",
		"forwarder sales",
		`"-x"`,
		"domain a.test appears twice",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v\nlacks %q", err, want)
		}
	}
}

func TestDocCheckValid(t *testing.T) {
	doc := directory.Doc{Domains: []directory.DomainDoc{
		{
			DomainSpec: directory.DomainSpec{Name: "a.test", Main: true},
			Accounts:   []directory.AccountSpec{{Name: "alice", Password: "x", Aliases: &[]string{"100"}}, {Name: "bob"}},
			Forwarders: map[string]string{"sales": "alice", "ext": "carol@B.test", "ivr": "#100"},
		},
		{DomainSpec: directory.DomainSpec{Name: "b.test"}},
	}}
	if err := doc.Check(); err != nil {
		t.Fatalf("Check() = %v", err)
	}
	if err := (&directory.Doc{}).Check(); err != nil {
		t.Fatalf("empty Doc: Check() = %v", err)
	}
}

func TestHA1Select(t *testing.T) {
	a := &store.Account{HA1MD5: "m", HA1SHA256: "s"}
	for alg, want := range map[string]string{"MD5": "m", "md5": "m", "": "m", "SHA-256": "s", "sha-256": "s"} {
		if got := directory.HA1(a, alg); got != want {
			t.Errorf("HA1(%q) = %q, want %q", alg, got, want)
		}
	}
}
