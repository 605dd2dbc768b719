// Package router decides where a call to an account goes: the account's
// real-time rules (divert always, if busy, if no answer, when not
// registered, after hours) evaluated against its working hours in its
// time zone.
package router

import (
	"fmt"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/internal/store"
)

// Divert kinds, as rules name them.
const (
	Always       = "always"
	Busy         = "busy"
	NoAnswer     = "noanswer"
	Unregistered = "unregistered"
	AfterHours   = "afterhours"
)

// DefaultNoAnswer is how long a "noanswer" rule without "after" lets the
// phones ring.
const DefaultNoAnswer = 20 * time.Second

// Target is where a rule sends a call: a program of the account (App,
// from "#app") or an address (Address).
type Target struct {
	Kind    string // the rule's divert kind
	App     string
	Address string
}

func (t Target) String() string {
	if t.App != "" {
		return "#" + t.App
	}
	return t.Address
}

func targetOf(r store.Rule) Target {
	to := strings.TrimSpace(r.To)
	if app, ok := strings.CutPrefix(to, "#"); ok {
		return Target{Kind: r.Divert, App: app}
	}
	return Target{Kind: r.Divert, Address: to}
}

// Before is the first rule that diverts a call before any phone rings:
// always; after hours, when now is outside the account's working hours;
// unregistered, when the account has no registered phone. ok is false
// when the call goes to the account's phones.
func Before(a *store.Account, now time.Time, registered bool) (Target, bool) {
	for _, r := range a.Prefs.Rules {
		switch r.Divert {
		case Always:
			return targetOf(r), true
		case AfterHours:
			if !WithinHours(a, now) {
				return targetOf(r), true
			}
		case Unregistered:
			if !registered {
				return targetOf(r), true
			}
		case NoAnswer:
			// With no phone to ring, no answer is certain at once.
			if !registered {
				return targetOf(r), true
			}
		}
	}
	return Target{}, false
}

// OnBusy is the rule for a call every phone of the account refused as
// busy (486, 600, 603).
func OnBusy(a *store.Account) (Target, bool) {
	for _, r := range a.Prefs.Rules {
		if r.Divert == Busy {
			return targetOf(r), true
		}
	}
	return Target{}, false
}

// IsBusy reports whether a final status means busy for the busy rule.
func IsBusy(code int) bool { return code == 486 || code == 600 || code == 603 }

// OnNoAnswer is the rule for a call still ringing after the returned
// time, or after failing as unanswered (408, 480).
func OnNoAnswer(a *store.Account) (Target, time.Duration, bool) {
	for _, r := range a.Prefs.Rules {
		if r.Divert != NoAnswer {
			continue
		}
		after := DefaultNoAnswer
		if r.After != "" {
			if d, err := time.ParseDuration(r.After); err == nil && d > 0 {
				after = d
			}
		}
		return targetOf(r), after, true
	}
	return Target{}, 0, false
}

// WithinHours reports whether now falls in the account's working hours,
// in its time zone (the server's when it has none or an unknown one). An
// account without working hours works all the time; a weekday missing
// from them, or "off", is not worked.
func WithinHours(a *store.Account, now time.Time) bool {
	wh := a.Prefs.WorkingHours
	if len(wh) == 0 {
		return true
	}
	if tz := a.Prefs.Timezone; tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			now = now.In(loc)
		}
	}
	spans := wh[weekdays[now.Weekday()]]
	if spans == "" || spans == "off" {
		return false
	}
	mins := now.Hour()*60 + now.Minute()
	for _, span := range strings.Split(spans, ",") {
		from, to, err := parseSpan(span)
		if err != nil {
			continue
		}
		if mins >= from && mins < to {
			return true
		}
	}
	return false
}

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseSpan reads "HH:MM-HH:MM" as minutes of the day; 24:00 ends a day.
func parseSpan(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("working hours %q: want HH:MM-HH:MM", s)
	}
	if from, err = minutes(a); err != nil {
		return 0, 0, err
	}
	if to, err = minutes(b); err != nil {
		return 0, 0, err
	}
	return from, to, nil
}

func minutes(s string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || h == 24 && m != 0 {
		return 0, fmt.Errorf("working hours: %q is not HH:MM", s)
	}
	return h*60 + m, nil
}
