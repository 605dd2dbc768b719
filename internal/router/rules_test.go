package router

import (
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/store"
)

func TestWithinHours(t *testing.T) {
	moscow := &store.Account{Prefs: store.Prefs{Timezone: "Europe/Moscow", WorkingHours: map[string]string{
		"mon": "09:00-13:00,14:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00",
		"fri": "09:00-17:00", "sat": "off",
	}}}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		acc  *store.Account
		now  string
		want bool
	}{
		{moscow, "2026-11-23T06:30:00Z", true},  // Monday 09:30 in Moscow
		{moscow, "2026-11-23T05:59:00Z", false}, // Monday 08:59
		{moscow, "2026-11-23T10:30:00Z", false}, // Monday 13:30, lunch
		{moscow, "2026-11-23T14:59:00Z", true},  // Monday 17:59
		{moscow, "2026-11-23T15:00:00Z", false}, // Monday 18:00: the span ends
		{moscow, "2026-11-27T14:30:00Z", false}, // Friday 17:30
		{moscow, "2026-11-28T08:00:00Z", false}, // Saturday: off
		{moscow, "2026-11-29T08:00:00Z", false}, // Sunday: not listed
		{moscow, "2026-11-22T22:00:00Z", false}, // Sunday 22:00 UTC is Monday 01:00 in Moscow
		{&store.Account{}, "2026-11-29T03:00:00Z", true},
	}
	for _, tt := range tests {
		if got := WithinHours(tt.acc, at(tt.now)); got != tt.want {
			t.Errorf("%s: within hours %v, want %v", tt.now, got, tt.want)
		}
	}
}

func TestRules(t *testing.T) {
	night := map[string]string{"mon": "09:00-18:00"}
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	monday20 := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	acc := func(wh map[string]string, rules ...store.Rule) *store.Account {
		return &store.Account{Prefs: store.Prefs{Timezone: "UTC", WorkingHours: wh, Rules: rules}}
	}
	tests := []struct {
		name       string
		acc        *store.Account
		now        time.Time
		registered bool
		want       string // "" for none
	}{
		{"no rules", acc(nil), monday20, true, ""},
		{"after hours, in hours", acc(night, store.Rule{Divert: AfterHours, To: "#callback"}), monday10, true, ""},
		{"after hours, at night", acc(night, store.Rule{Divert: AfterHours, To: "#callback"}), monday20, true, "#callback"},
		{"always", acc(nil, store.Rule{Divert: Always, To: "operator"}), monday10, true, "operator"},
		{"the first matching rule wins", acc(night, store.Rule{Divert: AfterHours, To: "#callback"}, store.Rule{Divert: Always, To: "operator"}), monday20, true, "#callback"},
		{"unregistered, registered", acc(nil, store.Rule{Divert: Unregistered, To: "#voicemail"}), monday10, true, ""},
		{"unregistered", acc(nil, store.Rule{Divert: Unregistered, To: "#voicemail"}), monday10, false, "#voicemail"},
		{"no answer with no phone fires at once", acc(nil, store.Rule{Divert: NoAnswer, To: "#voicemail", After: "20s"}), monday10, false, "#voicemail"},
		{"busy is not decided before ringing", acc(nil, store.Rule{Divert: Busy, To: "#voicemail"}), monday10, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Before(tt.acc, tt.now, tt.registered)
			if tt.want == "" && ok || tt.want != "" && (!ok || got.String() != tt.want) {
				t.Fatalf("Before = %v %v, want %q", got, ok, tt.want)
			}
		})
	}
	a := acc(nil, store.Rule{Divert: Busy, To: "#voicemail"}, store.Rule{Divert: NoAnswer, To: "petrov", After: "15s"})
	if got, ok := OnBusy(a); !ok || got.App != "voicemail" {
		t.Errorf("OnBusy = %v %v", got, ok)
	}
	if got, after, ok := OnNoAnswer(a); !ok || got.Address != "petrov" || after != 15*time.Second {
		t.Errorf("OnNoAnswer = %v %v %v", got, after, ok)
	}
	if _, _, ok := OnNoAnswer(acc(nil)); ok {
		t.Error("OnNoAnswer without a rule")
	}
}
