package cdr

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Op is a filter node's operator.
type Op string

const (
	OpAnd       Op = "and"       // all of Args
	OpOr        Op = "or"        // any of Args
	OpNot       Op = "not"       // not Args[0]
	OpText      Op = "text"      // Value is a word prefix in names, accounts, addresses, variables, tags
	OpDigits    Op = "digits"    // Value is a fragment (≥ 3 digits) of a number
	OpTime      Op = "time"      // From ≤ ended < To (either may be zero)
	OpDirection Op = "direction" // Value
	OpOutcome   Op = "outcome"   // Value
	OpDuration  Op = "duration"  // MinMs ≤ total duration ≤ MaxMs (either may be nil)
	OpDomain    Op = "domain"    // Value
	OpAccount   Op = "account"   // Value is the caller's or the callee's account
	OpRecording Op = "recording" // the call has at least one recording
	OpVar       Op = "var"       // variable Key equals Value
	OpTag       Op = "tag"       // Value is one of the tags
)

// MinDigits is the shortest digit fragment that can be searched: the number
// index is made of digit trigrams.
const MinDigits = 3

// Filter is a node of a filter tree; the API takes it as JSON, the CLI builds
// it with ParseQuery.
type Filter struct {
	Op    Op        `json:"op"`
	Args  []*Filter `json:"args,omitempty"`
	Key   string    `json:"key,omitempty"`
	Value string    `json:"value,omitempty"`
	From  time.Time `json:"from,omitzero"`
	To    time.Time `json:"to,omitzero"`
	MinMs *int64    `json:"minMs,omitempty"`
	MaxMs *int64    `json:"maxMs,omitempty"`
}

// ErrQuery is wrapped by every error about a query or a filter.
var ErrQuery = errors.New("bad query")

func qerr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrQuery, fmt.Sprintf(format, a...))
}

// maxDepth bounds a filter tree so that hostile input cannot exhaust the stack.
const maxDepth = 32

// Validate checks the tree: known operators, valid values, bounded depth.
func (f *Filter) Validate() error { return f.validate(0) }

func (f *Filter) validate(depth int) error {
	if f == nil {
		return qerr("empty filter")
	}
	if depth > maxDepth {
		return qerr("filter nested deeper than %d", maxDepth)
	}
	switch f.Op {
	case OpAnd, OpOr:
		if len(f.Args) == 0 {
			return qerr("%s needs at least one argument", f.Op)
		}
		for _, a := range f.Args {
			if err := a.validate(depth + 1); err != nil {
				return err
			}
		}
	case OpNot:
		if len(f.Args) != 1 {
			return qerr("not takes one argument, got %d", len(f.Args))
		}
		return f.Args[0].validate(depth + 1)
	case OpText:
		if strings.TrimSpace(f.Value) == "" {
			return qerr("empty text")
		}
	case OpDigits:
		if f.Value != Digits(f.Value) || len(f.Value) < MinDigits {
			return qerr("number fragment %q: give at least %d digits and digits only", f.Value, MinDigits)
		}
	case OpTime:
		if f.From.IsZero() && f.To.IsZero() {
			return qerr("time range needs from or to")
		}
		if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
			return qerr("time range: from %s is not before to %s", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
		}
	case OpDirection:
		if !validDirection(Direction(f.Value)) {
			return qerr("direction %q: want one of inbound, outbound, internal", f.Value)
		}
	case OpOutcome:
		if !validOutcome(Outcome(f.Value)) {
			return qerr("outcome %q: want one of %s", f.Value, outcomeList())
		}
	case OpDuration:
		if f.MinMs == nil && f.MaxMs == nil {
			return qerr("duration range needs a minimum or a maximum")
		}
		if (f.MinMs != nil && *f.MinMs < 0) || (f.MaxMs != nil && *f.MaxMs < 0) {
			return qerr("negative duration")
		}
		if f.MinMs != nil && f.MaxMs != nil && *f.MinMs > *f.MaxMs {
			return qerr("duration range: minimum above maximum")
		}
	case OpDomain, OpAccount, OpTag:
		if f.Value == "" {
			return qerr("empty %s", f.Op)
		}
	case OpRecording:
	case OpVar:
		if f.Key == "" {
			return qerr("variable filter needs a name (var:name=value)")
		}
	default:
		return qerr("unknown operator %q", f.Op)
	}
	return nil
}

func outcomeList() string {
	s := make([]string, len(Outcomes))
	for i, o := range Outcomes {
		s[i] = string(o)
	}
	return strings.Join(s, ", ") + ", missed"
}

// And, Or and Not build filter nodes.
func And(args ...*Filter) *Filter { return &Filter{Op: OpAnd, Args: args} }
func Or(args ...*Filter) *Filter  { return &Filter{Op: OpOr, Args: args} }
func Not(arg *Filter) *Filter     { return &Filter{Op: OpNot, Args: []*Filter{arg}} }

// Query is one search.
type Query struct {
	// Filter may be nil: every record.
	Filter *Filter
	// Domain, when set, confines the search to one domain whatever the filter
	// says: a domain administrator's searches carry it.
	Domain string
	// Limit is the page size (DefaultLimit when 0, at most MaxLimit).
	Limit int
	// Cursor is Page.Next of the previous page, or "" for the first.
	Cursor string
}

const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// PageLimit returns the effective page size.
func (q Query) PageLimit() int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}

// Page is one page of results, newest first.
type Page struct {
	Records []Record `json:"records"`
	// Next is the cursor of the following page, "" on the last.
	Next string `json:"next,omitempty"`
}

// Facets are counts over every record a query matches (ignoring the cursor).
type Facets struct {
	Total     int64               `json:"total"`
	Outcome   map[Outcome]int64   `json:"outcome"`
	Direction map[Direction]int64 `json:"direction"`
}

// Store is what a CDR engine provides.
type Store interface {
	// PutBatch stores records in one transaction; they are durable when it
	// returns nil. A record whose id exists fails with store.ErrConflict.
	PutBatch(ctx context.Context, recs []Record) error
	// Get returns one record by id (store.ErrNotFound if none).
	Get(ctx context.Context, id string) (Record, error)
	Search(ctx context.Context, q Query) (Page, error)
	Facets(ctx context.Context, q Query) (Facets, error)
	// DeleteEndedBefore deletes at most max records that ended before t, oldest first, in one short transaction, and returns how many it deleted.
	// Times compare to the millisecond; max ≤ 0 deletes nothing.
	DeleteEndedBefore(ctx context.Context, t time.Time, max int) (int, error)
	Close() error
}

// Normalize returns f with every text term that is a number (digits and
// + ( ) - .) turned into a digit fragment: numbers are searched by fragment,
// never as words, whether the term came from ParseQuery or from a filter
// tree sent to the API. f itself is not changed.
func (f *Filter) Normalize() *Filter {
	if f == nil {
		return nil
	}
	g := *f
	if len(f.Args) > 0 {
		g.Args = make([]*Filter, len(f.Args))
		for i, a := range f.Args {
			g.Args[i] = a.Normalize()
		}
	}
	if g.Op == OpText && isNumberish(strings.ReplaceAll(g.Value, " ", "")) && len(Digits(g.Value)) >= MinDigits {
		g.Op, g.Value = OpDigits, Digits(g.Value)
	}
	return &g
}

// Cursor is the position after the last record of a page: records sort by
// Ended descending; records that end in the same millisecond come in an
// order each engine keeps stable (by id, or by arrival). It travels as an
// opaque string. If the cursor's record is deleted (retention) before the
// next page is asked for, that page starts before the record's millisecond.
type Cursor struct {
	Ended time.Time
	ID    string
}

// Encode returns the opaque form: base64url of "<ended unix ms>:<id>".
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Ended.UnixMilli(), 10) + ":" + c.ID))
}

// DecodeCursor parses Cursor.Encode's form.
func DecodeCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, qerr("malformed cursor")
	}
	ms, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return Cursor{}, qerr("malformed cursor")
	}
	return Cursor{Ended: time.UnixMilli(n).UTC(), ID: id}, nil
}

// ParseQuery parses the compact query form used by the CLI and the API:
//
//	ivanov 1234 outcome:noanswer direction:inbound from:2026-11-01 to:2026-11-23 dur>30 var:crm=42 -tag:test
//
// Terms separated by spaces must all hold; OR between terms makes either do
// (AND binds tighter: "a b OR c" is "(a b) OR c"); parentheses group; a
// leading "-" negates a term or a group. A term is:
//
//   - a word: a prefix of a word in names, accounts, addresses, variables
//     and tags, case-folded (Latin and Cyrillic); "quoted words" match as a
//     phrase; numbers are not words (a term of digits is a number fragment);
//   - a number fragment: at least 3 digits, optionally with + ( ) - . inside,
//     found anywhere in the caller's, callee's or dialled number;
//   - outcome:X[,Y…] (answered, busy, noanswer, cancelled, failed, voicemail,
//     diverted, interrupted; missed = busy,noanswer,cancelled);
//   - direction:X[,Y…] (inbound, outbound, internal);
//   - from:T, to:T with T a date (2026-11-01; to: includes that whole day, in
//     UTC) or an RFC 3339 time (to: exclusive);
//   - dur>N, dur>=N, dur<N, dur<=N with N seconds or a Go duration (90s, 2m);
//   - domain:D, account:A, tag:T, var:NAME=VALUE, has:recording.
func ParseQuery(s string) (*Filter, error) {
	p := &parser{}
	if err := p.lex(s); err != nil {
		return nil, err
	}
	if len(p.toks) == 0 {
		return nil, nil
	}
	f, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, qerr("unexpected %q", p.toks[p.pos].s)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

type token struct {
	s      string
	quoted bool
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) lex(s string) error {
	if len(s) > 4096 {
		return qerr("query longer than 4096 bytes")
	}
	if !utf8.ValidString(s) {
		return qerr("query is not valid UTF-8")
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			p.toks = append(p.toks, token{s: s[i : i+1]})
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return qerr("unterminated quote")
			}
			p.toks = append(p.toks, token{s: s[i+1 : i+1+j], quoted: true})
			i += j + 2
		case c == '-' && i+1 < len(s) && s[i+1] == '"':
			p.toks = append(p.toks, token{s: "-"})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()\"", rune(s[j])) {
				j++
			}
			if j == i { // a lone '"' handled above; cannot happen
				j = i + 1
			}
			p.toks = append(p.toks, token{s: s[i:j]})
			i = j
		}
	}
	return nil
}

func (p *parser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *parser) or(depth int) (*Filter, error) {
	if depth > maxDepth {
		return nil, qerr("query nested deeper than %d", maxDepth)
	}
	var alts []*Filter
	for {
		f, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		alts = append(alts, f)
		t, ok := p.peek()
		if !ok || t.quoted || t.s != "OR" {
			break
		}
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return Or(alts...), nil
}

func (p *parser) and(depth int) (*Filter, error) {
	var all []*Filter
	for {
		t, ok := p.peek()
		if !ok || (!t.quoted && (t.s == ")" || t.s == "OR")) {
			break
		}
		f, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		all = append(all, f)
	}
	switch len(all) {
	case 0:
		if t, ok := p.peek(); ok {
			return nil, qerr("expected a term before %q", t.s)
		}
		return nil, qerr("expected a term at the end")
	case 1:
		return all[0], nil
	}
	return And(all...), nil
}

func (p *parser) unary(depth int) (*Filter, error) {
	if depth > maxDepth {
		return nil, qerr("query nested deeper than %d", maxDepth)
	}
	t, _ := p.peek()
	p.pos++
	if t.quoted {
		return textTerm(t.s)
	}
	switch {
	case t.s == "(":
		f, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c, ok := p.peek(); !ok || c.quoted || c.s != ")" {
			return nil, qerr("missing )")
		}
		p.pos++
		return f, nil
	case t.s == "-":
		if _, ok := p.peek(); !ok {
			return nil, qerr("nothing after -")
		}
		f, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return Not(f), nil
	case strings.HasPrefix(t.s, "-") && len(t.s) > 1 && !isNumberish(t.s):
		p.toks[p.pos-1].s = t.s[1:]
		p.pos--
		f, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return Not(f), nil
	}
	return term(t.s)
}

func isNumberish(s string) bool {
	d := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			d++
		case strings.ContainsRune("+()-.", c):
		default:
			return false
		}
	}
	return d > 0
}

func textTerm(s string) (*Filter, error) {
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		return nil, qerr("%q has no letters or digits to search for", s)
	}
	return &Filter{Op: OpText, Value: s}, nil
}

func term(s string) (*Filter, error) {
	if strings.HasPrefix(s, "dur") && len(s) > 3 && (s[3] == '<' || s[3] == '>') {
		return durTerm(s)
	}
	if k, v, ok := strings.Cut(s, ":"); ok && k != "" && !strings.ContainsAny(k, "@/") {
		switch strings.ToLower(k) {
		case "outcome":
			return listTerm(OpOutcome, v, func(x string) []string {
				if x == "missed" {
					return []string{string(Busy), string(NoAnswer), string(Cancelled)}
				}
				return []string{x}
			})
		case "direction":
			return listTerm(OpDirection, v, func(x string) []string { return []string{x} })
		case "from", "to":
			t, day, err := parseTime(v)
			if err != nil {
				return nil, qerr("%s: %q is neither a date (2026-11-01) nor an RFC 3339 time", k, v)
			}
			if strings.EqualFold(k, "from") {
				return &Filter{Op: OpTime, From: t}, nil
			}
			if day {
				t = t.AddDate(0, 0, 1)
			}
			return &Filter{Op: OpTime, To: t}, nil
		case "domain":
			return &Filter{Op: OpDomain, Value: v}, nil
		case "account":
			return &Filter{Op: OpAccount, Value: v}, nil
		case "tag":
			return &Filter{Op: OpTag, Value: v}, nil
		case "var":
			name, val, ok := strings.Cut(v, "=")
			if !ok || name == "" {
				return nil, qerr("var: want var:name=value, got %q", s)
			}
			return &Filter{Op: OpVar, Key: name, Value: val}, nil
		case "sip", "sips", "tel":
			if isNumberish(v) {
				return term(v)
			}
			return textTerm(s)
		case "has":
			if v != "recording" {
				return nil, qerr("has: only has:recording is known, got %q", s)
			}
			return &Filter{Op: OpRecording}, nil
		default:
			if !strings.Contains(k, ".") { // host:port and the like are searched as text
				return nil, qerr("unknown filter %q: known are outcome, direction, from, to, dur, domain, account, tag, var, has", k+":")
			}
		}
	}
	if isNumberish(s) {
		d := Digits(s)
		if len(d) < MinDigits {
			return nil, qerr("number fragment %q: give at least %d digits", s, MinDigits)
		}
		return &Filter{Op: OpDigits, Value: d}, nil
	}
	return textTerm(s)
}

func listTerm(op Op, v string, expand func(string) []string) (*Filter, error) {
	var alts []*Filter
	for _, x := range strings.Split(v, ",") {
		for _, y := range expand(strings.ToLower(x)) {
			alts = append(alts, &Filter{Op: op, Value: y})
		}
	}
	for _, a := range alts {
		if err := a.Validate(); err != nil {
			return nil, err
		}
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return Or(alts...), nil
}

func parseTime(v string) (time.Time, bool, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	return t.UTC(), false, err
}

func durTerm(s string) (*Filter, error) {
	rest := s[3:]
	op := rest[:1]
	rest = rest[1:]
	if strings.HasPrefix(rest, "=") {
		op += "="
		rest = rest[1:]
	}
	var d time.Duration
	if n, err := strconv.ParseFloat(rest, 64); err == nil && n >= 0 && n < 1e9 {
		d = time.Duration(n * float64(time.Second))
	} else if d, err = time.ParseDuration(rest); err != nil || d < 0 {
		return nil, qerr("%s: want a number of seconds or a duration such as 90s or 2m after %s", s, "dur"+op)
	}
	ms := d.Milliseconds()
	f := &Filter{Op: OpDuration}
	switch op {
	case ">":
		ms++
		f.MinMs = &ms
	case ">=":
		f.MinMs = &ms
	case "<":
		if ms == 0 {
			return nil, qerr("%s matches nothing", s)
		}
		ms--
		f.MaxMs = &ms
	case "<=":
		f.MaxMs = &ms
	}
	return f, nil
}
