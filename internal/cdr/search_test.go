package cdr

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// show renders a filter compactly for comparisons.
func show(f *Filter) string {
	if f == nil {
		return "<nil>"
	}
	switch f.Op {
	case OpAnd, OpOr:
		s := make([]string, len(f.Args))
		for i, a := range f.Args {
			s[i] = show(a)
		}
		return string(f.Op) + "(" + strings.Join(s, " ") + ")"
	case OpNot:
		return "not(" + show(f.Args[0]) + ")"
	case OpTime:
		s := "time["
		if !f.From.IsZero() {
			s += f.From.Format(time.RFC3339)
		}
		s += ","
		if !f.To.IsZero() {
			s += f.To.Format(time.RFC3339)
		}
		return s + ")"
	case OpDuration:
		s := "dur["
		if f.MinMs != nil {
			s += itoa(*f.MinMs)
		}
		s += ","
		if f.MaxMs != nil {
			s += itoa(*f.MaxMs)
		}
		return s + "]"
	case OpVar:
		return "var:" + f.Key + "=" + f.Value
	case OpRecording:
		return "recording"
	}
	return string(f.Op) + ":" + f.Value
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "<nil>"},
		{"   ", "<nil>"},
		{"ivanov", "text:ivanov"},
		{"Иванов", "text:Иванов"},
		{"1234", "digits:1234"},
		{"+7-916-123.45", "digits:791612345"},
		{"tel:+7916", "digits:7916"},
		{"sips:bob@example.com", "text:sips:bob@example.com"},
		{"alice@example.com", "text:alice@example.com"},
		{"sip:bob@example.com", "text:sip:bob@example.com"},
		{`"ivan petrov"`, "text:ivan petrov"},
		{"ivanov 1234 outcome:noanswer direction:inbound from:2026-11-01 to:2026-11-23 dur>30 var:crm=42 -tag:test",
			"and(text:ivanov digits:1234 outcome:noanswer direction:inbound time[2026-11-01T00:00:00Z,) time[,2026-11-24T00:00:00Z) dur[30001,] var:crm=42 not(tag:test))"},
		{"a b OR c", "or(and(text:a text:b) text:c)"},
		{"a (b OR c)", "and(text:a or(text:b text:c))"},
		{"-(b OR c)", "not(or(text:b text:c))"},
		{`-"x y"`, "not(text:x y)"},
		{"outcome:busy,noanswer", "or(outcome:busy outcome:noanswer)"},
		{"outcome:missed", "or(outcome:busy outcome:noanswer outcome:cancelled)"},
		{"OUTCOME:Answered", "outcome:answered"},
		{"direction:inbound,internal", "or(direction:inbound direction:internal)"},
		{"from:2026-11-01T10:00:00+03:00", "time[2026-11-01T07:00:00Z,)"},
		{"to:2026-11-01T10:00:00Z", "time[,2026-11-01T10:00:00Z)"},
		{"dur>=30", "dur[30000,]"},
		{"dur<2m", "dur[,119999]"},
		{"dur<=1.5", "dur[,1500]"},
		{"domain:example.com account:alice", "and(domain:example.com account:alice)"},
		{"has:recording", "recording"},
		{"var:empty=", "var:empty="},
		{"-1234", "digits:1234"}, // a number with a dash is a number, not a negation
		{"-tag:x -ivanov", "and(not(tag:x) not(text:ivanov))"},
	} {
		f, err := ParseQuery(tc.in)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tc.in, err)
			continue
		}
		if got := show(f); got != tc.want {
			t.Errorf("ParseQuery(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"12", `number fragment "12": give at least 3 digits`},
		{"+7", `number fragment "+7": give at least 3 digits`},
		{"outcome:lost", `outcome "lost": want one of answered, busy`},
		{"direction:sideways", `direction "sideways": want one of inbound, outbound, internal`},
		{"from:yesterday", `from: "yesterday" is neither a date`},
		{"from:2026-11-05 to:2026-11-01", ""}, // two separate bounds: valid (matches nothing)
		{"dur>abc", "dur>abc: want a number of seconds"},
		{"dur<0", "dur<0 matches nothing"},
		{"var:crm", "var: want var:name=value"},
		{"var:=1", "var: want var:name=value"},
		{"has:video", "has: only has:recording"},
		{"colour:red", `unknown filter "colour:"`},
		{`"unterminated`, "unterminated quote"},
		{"(a b", "missing )"},
		{"a )", `unexpected ")"`},
		{"OR a", `expected a term before "OR"`},
		{"a OR", "expected a term at the end"},
		{"-", "nothing after -"},
		{`"!!"`, "has no letters or digits"},
		{"tag:", "empty tag"},
		{strings.Repeat("(", 40) + "a" + strings.Repeat(")", 40), "nested deeper than"},
		{strings.Repeat("x", 5000), "longer than 4096"},
	} {
		_, err := ParseQuery(tc.in)
		if tc.want == "" {
			if err != nil {
				t.Errorf("ParseQuery(%q): unexpected error %v", tc.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrQuery) {
			t.Errorf("ParseQuery(%q) error = %v, want one containing %q", tc.in, err, tc.want)
		}
	}
	if _, err := ParseQuery("a" + string([]byte{0xff})); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestFilterValidate(t *testing.T) {
	one := int64(1)
	zero := int64(0)
	for _, tc := range []struct {
		f    *Filter
		want string
	}{
		{&Filter{Op: "xor"}, `unknown operator "xor"`},
		{&Filter{Op: OpAnd}, "and needs at least one argument"},
		{&Filter{Op: OpNot, Args: []*Filter{{Op: OpRecording}, {Op: OpRecording}}}, "not takes one argument"},
		{&Filter{Op: OpDigits, Value: "12a4"}, "digits only"},
		{&Filter{Op: OpTime}, "needs from or to"},
		{&Filter{Op: OpTime, From: time.Unix(10, 0), To: time.Unix(5, 0)}, "is not before"},
		{&Filter{Op: OpDuration, MinMs: &one, MaxMs: &zero}, "minimum above maximum"},
		{&Filter{Op: OpVar, Value: "x"}, "needs a name"},
		{And(&Filter{Op: OpText, Value: " "}), "empty text"},
		{And(Or(Not(&Filter{Op: OpOutcome, Value: "answered"}))), ""},
	} {
		err := tc.f.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", show(tc.f), err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.f, err, tc.want)
		}
	}
}

func TestFilterJSON(t *testing.T) {
	f, err := ParseQuery("ivanov -outcome:busy dur>=10 from:2026-11-01")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var g Filter
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if show(f) != show(&g) {
		t.Errorf("JSON round trip: %s became %s (%s)", show(f), show(&g), b)
	}
}

func TestCursor(t *testing.T) {
	c := Cursor{Ended: time.UnixMilli(1763900000123).UTC(), ID: "call:1:2"}
	d, err := DecodeCursor(c.Encode())
	if err != nil || d != c {
		t.Fatalf("round trip: %+v, %v", d, err)
	}
	for _, bad := range []string{"!!", "", "eHl6", c.Encode() + "="} {
		if _, err := DecodeCursor(bad); !errors.Is(err, ErrQuery) {
			t.Errorf("DecodeCursor(%q) = %v, want a query error", bad, err)
		}
	}
}

func TestRecordJSONAndDurations(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	r := Record{ID: "c1", Domain: "example.com", Direction: Inbound, Outcome: Answered,
		Created: t0, Answered: t0.Add(5 * time.Second), Ended: t0.Add(65 * time.Second),
		Variables: map[string]string{"crm": "42"}, Legs: []Leg{{ID: "c1-a", Party: Party{Number: "+79161234567"}}}}
	r.FillDurations()
	if r.Durations != (Durations{Total: 65 * time.Second, Talk: time.Minute, Ring: 5 * time.Second}) {
		t.Errorf("durations %+v", r.Durations)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"durations":{"totalMs":65000,"talkMs":60000,"ringMs":5000,"holdMs":0}`) || strings.Contains(string(b), "bridged") {
		t.Errorf("JSON %s", b)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil || back.Durations != r.Durations || !back.Ended.Equal(r.Ended) || back.Legs[0].Party.Number != "+79161234567" {
		t.Errorf("round trip %+v, %v", back, err)
	}
	if err := (&Record{ID: "x", Domain: "d", Direction: "up", Outcome: Answered, Ended: t0}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad direction: %v", err)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"ivanov 1234 outcome:noanswer direction:inbound from:2026-11-01 to:2026-11-23 dur>30 var:crm=42 -tag:test",
		"a OR (b -c)", `"x y" -"z"`, "dur<=2m", "-(-(-a))", "outcome:missed,answered", "((", `"`, "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			if !errors.Is(err, ErrQuery) {
				t.Fatalf("ParseQuery(%q): error not wrapping ErrQuery: %v", s, err)
			}
			return
		}
		if q == nil {
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("ParseQuery(%q) returned an invalid filter: %v", s, err)
		}
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		var g Filter
		if err := json.Unmarshal(b, &g); err != nil || g.Validate() != nil {
			t.Fatalf("JSON round trip of %q: %v", s, err)
		}
	})
}

func TestNormalize(t *testing.T) {
	in := And(&Filter{Op: OpText, Value: "+7 (916) 123"}, Not(&Filter{Op: OpText, Value: "ivan"}), Or(&Filter{Op: OpText, Value: "12"}, &Filter{Op: OpText, Value: "101"}))
	before := show(in)
	got := show(in.Normalize())
	if want := `and(digits:7916123 not(text:ivan) or(text:12 digits:101))`; got != want {
		t.Errorf("Normalize: got %s, want %s", got, want)
	}
	if show(in) != before {
		t.Error("Normalize changed its input")
	}
	if (*Filter)(nil).Normalize() != nil {
		t.Error("nil filter")
	}
}
