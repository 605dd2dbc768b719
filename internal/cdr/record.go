// Package cdr keeps call detail records: one durable Record per call with its
// legs, a search over them (full text, digit fragments of numbers and
// structured filters combined in a small filter tree), a batching Writer that
// makes each record durable before Write returns, and an in-process event per
// record written.
//
// Engines implement Store: the embedded engine is cdr/sqlite, and cdr/postgres
// (tsvector + pg_trgm) serves clusters; both pass the suite in cdr/cdrtest.
// Their package docs say why each indexes the way it does.
package cdr

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Direction of a call as seen by Ringo.
type Direction string

const (
	Inbound  Direction = "inbound"  // from outside (a trunk or a foreign domain) to a local party
	Outbound Direction = "outbound" // from a local party to outside
	Internal Direction = "internal" // between parties of the same Ringo
)

// Directions lists every valid direction.
var Directions = []Direction{Inbound, Outbound, Internal}

// Outcome is how a call ended.
type Outcome string

const (
	Answered    Outcome = "answered"
	Busy        Outcome = "busy"
	NoAnswer    Outcome = "noanswer"
	Cancelled   Outcome = "cancelled"
	Failed      Outcome = "failed"
	Voicemail   Outcome = "voicemail"
	Diverted    Outcome = "diverted"
	Interrupted Outcome = "interrupted" // the call was open when Ringo stopped
)

// Outcomes lists every valid outcome.
var Outcomes = []Outcome{Answered, Busy, NoAnswer, Cancelled, Failed, Voicemail, Diverted, Interrupted}

// Who hung up.
const (
	ByCaller = "caller"
	ByCallee = "callee"
	BySystem = "system"
)

// Party is one end of a call.
type Party struct {
	Account string `json:"account,omitempty"` // local account name (in the record's domain)
	Number  string `json:"number,omitempty"`  // as signalled, e.g. +79161234567
	Name    string `json:"name,omitempty"`    // display name
	Address string `json:"address,omitempty"` // SIP URI or ip:port it came from
}

// Route is what the dialled number routed to.
type Route struct {
	// Kind is account, alias, rule, app (a #app task), flow, trunk or none.
	Kind   string `json:"kind,omitempty"`
	Target string `json:"target,omitempty"`
}

// Hangup is why and by whom the call ended.
type Hangup struct {
	Cause   string `json:"cause,omitempty"`   // e.g. NORMAL_CLEARING, USER_BUSY
	SIPCode int    `json:"sipCode,omitempty"` // final response or 0 for BYE
	By      string `json:"by,omitempty"`      // caller, callee, system
}

// Recording is one recording file of a call.
type Recording struct {
	File    string    `json:"file"`
	Started time.Time `json:"started,omitzero"`
}

// Durations of a call. They marshal as whole milliseconds.
type Durations struct {
	Total time.Duration // created → ended
	Talk  time.Duration // answered → ended, minus nothing
	Ring  time.Duration // created → answered (or ended when unanswered)
	Hold  time.Duration // time on hold within talk
}

type durationsJSON struct {
	Total int64 `json:"totalMs"`
	Talk  int64 `json:"talkMs"`
	Ring  int64 `json:"ringMs"`
	Hold  int64 `json:"holdMs"`
}

// MarshalJSON writes the durations as milliseconds. It is written by hand:
// every record stored goes through it, and reflection made it half of the
// cost of encoding a record.
func (d Durations) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, `{"totalMs":`...)
	b = strconv.AppendInt(b, d.Total.Milliseconds(), 10)
	b = append(b, `,"talkMs":`...)
	b = strconv.AppendInt(b, d.Talk.Milliseconds(), 10)
	b = append(b, `,"ringMs":`...)
	b = strconv.AppendInt(b, d.Ring.Milliseconds(), 10)
	b = append(b, `,"holdMs":`...)
	b = strconv.AppendInt(b, d.Hold.Milliseconds(), 10)
	return append(b, '}'), nil
}

// UnmarshalJSON reads durations written by MarshalJSON.
func (d *Durations) UnmarshalJSON(b []byte) error {
	var j durationsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	ms := time.Millisecond
	*d = Durations{time.Duration(j.Total) * ms, time.Duration(j.Talk) * ms, time.Duration(j.Ring) * ms, time.Duration(j.Hold) * ms}
	return nil
}

// Leg is one SIP dialog of a call (the A leg, each B leg forked or bridged).
type Leg struct {
	ID       string    `json:"id"`
	CallID   string    `json:"callId,omitempty"`
	Parent   string    `json:"parent,omitempty"`  // leg that created this one
	Bridged  string    `json:"bridged,omitempty"` // leg this one was bridged to
	Party    Party     `json:"party"`
	Created  time.Time `json:"created,omitzero"`
	Answered time.Time `json:"answered,omitzero"`
	Ended    time.Time `json:"ended,omitzero"`
	Outcome  Outcome   `json:"outcome,omitempty"`
	Hangup   Hangup    `json:"hangup,omitzero"`
}

// Record is the durable record of one call.
type Record struct {
	ID        string    `json:"id"`               // Ringo call id, unique
	CallID    string    `json:"callId,omitempty"` // SIP Call-ID of the A leg
	Domain    string    `json:"domain"`
	Direction Direction `json:"direction"`
	Caller    Party     `json:"caller"`
	Callee    Party     `json:"callee"`
	Dialled   string    `json:"dialled,omitempty"`
	Route     Route     `json:"route,omitzero"`

	Created   time.Time `json:"created"`
	Answered  time.Time `json:"answered,omitzero"`
	Bridged   time.Time `json:"bridged,omitzero"`
	Ended     time.Time `json:"ended"`
	Durations Durations `json:"durations"`

	Outcome Outcome `json:"outcome"`
	Hangup  Hangup  `json:"hangup,omitzero"`

	DTMF       string            `json:"dtmf,omitempty"`
	Variables  map[string]string `json:"variables,omitempty"`
	Recordings []Recording       `json:"recordings,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Legs       []Leg             `json:"legs,omitempty"`
}

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid record")

// FillDurations computes Total, Talk and Ring from the times when they are zero.
func (r *Record) FillDurations() {
	if r.Created.IsZero() || r.Ended.IsZero() {
		return
	}
	if r.Durations.Total == 0 {
		r.Durations.Total = r.Ended.Sub(r.Created)
	}
	if r.Durations.Talk == 0 && !r.Answered.IsZero() {
		r.Durations.Talk = r.Ended.Sub(r.Answered)
	}
	if r.Durations.Ring == 0 {
		end := r.Ended
		if !r.Answered.IsZero() {
			end = r.Answered
		}
		r.Durations.Ring = end.Sub(r.Created)
	}
}

// Validate reports whether the record can be stored.
func (r *Record) Validate() error {
	switch {
	case r.ID == "":
		return fmt.Errorf("%w: empty id", ErrInvalid)
	case r.Domain == "":
		return fmt.Errorf("%w %s: empty domain", ErrInvalid, r.ID)
	case r.Ended.IsZero():
		return fmt.Errorf("%w %s: no end time", ErrInvalid, r.ID)
	case !validDirection(r.Direction):
		return fmt.Errorf("%w %s: direction %q", ErrInvalid, r.ID, r.Direction)
	case !validOutcome(r.Outcome):
		return fmt.Errorf("%w %s: outcome %q", ErrInvalid, r.ID, r.Outcome)
	}
	return nil
}

func validDirection(d Direction) bool {
	for _, v := range Directions {
		if v == d {
			return true
		}
	}
	return false
}

func validOutcome(o Outcome) bool {
	for _, v := range Outcomes {
		if v == o {
			return true
		}
	}
	return false
}

// Digits returns the decimal digits of s, e.g. "79161234567" for "+7 (916) 123-45-67".
func Digits(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// Searchable lists the strings a word search finds r by, for every engine
// to index alike: accounts, names, the parts of addresses that repeat
// neither the account nor the record's domain, the route, variables and
// tags. Numbers are left to digit-fragment search.
func (r *Record) Searchable() []string {
	var out []string
	party := func(p Party) {
		out = append(out, p.Account, p.Name)
		if p.Address == "" {
			return
		}
		// sip:user@host: the user part is usually the number or the
		// account, and the host the record's own domain.
		addr := p.Address
		if i := strings.IndexByte(addr, ':'); i >= 0 && !strings.ContainsAny(addr[:i], "@.") {
			addr = addr[i+1:]
		}
		user, host, ok := strings.Cut(addr, "@")
		if !ok {
			user, host = "", addr
		}
		if user != p.Account {
			out = append(out, user)
		}
		if host != r.Domain {
			out = append(out, host)
		}
	}
	party(r.Caller)
	party(r.Callee)
	out = append(out, r.Route.Target)
	for _, l := range r.Legs {
		party(l.Party)
	}
	keys := make([]string, 0, len(r.Variables))
	for k := range r.Variables {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k, r.Variables[k])
	}
	return append(out, r.Tags...)
}

// Numbers is the digits-only form of each distinct number of r (caller,
// callee, dialled, legs) of at least MinDigits digits, space separated, as
// every engine indexes them for digit-fragment search: separate, so that a
// fragment cannot match across two numbers.
func (r *Record) Numbers() string {
	var seen []string
	add := func(s string) {
		if d := Digits(s); len(d) >= MinDigits && !slices.Contains(seen, d) {
			seen = append(seen, d)
		}
	}
	add(r.Caller.Number)
	add(r.Callee.Number)
	add(r.Dialled)
	for _, l := range r.Legs {
		add(l.Party.Number)
	}
	return strings.Join(seen, " ")
}
