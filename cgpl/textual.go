package cgpl

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// This file holds the textual representation of values (spec §3.6), the
// format ObjectToString writes and ToObject reads:
//
//	string      abc123 (an atom: ASCII letters and digits) or "a \"quoted\"\n string"
//	number      #123, #-5
//	datablock   [SGVsbG8=]
//	array       (a,#2,"x y")
//	dictionary  {key=value;"other key"=(1,2);}
//	timestamp   #T23-11-2026_14:05:00 (DD-MM-YYYY_HH:MM:SS, GMT), #TPAST, #TFUTURE
//	IP address  #I[10.0.0.1]:5060, #I[::1] (no port)
//	XML object  <type attr="v">text<sub/></type> (its XML text)
//	null        #null#

// MaxNesting bounds the depth of nested arrays and dictionaries that
// ToObject and JSONToObject accept and that the printers descend into.
const MaxNesting = 500

// MaxTextSize bounds the text the library's printers (ObjectToString,
// ObjectToJSON, String) produce, so that a program cannot exhaust memory by
// printing a structure that shares sub-structures exponentially.
const MaxTextSize = 16 << 20

// textTimeLayout is the layout of a timestamp after "#T".
const textTimeLayout = "02-01-2006_15:04:05"

// TextError is a malformed textual representation.
type TextError struct {
	Offset int // byte offset in the input
	Msg    string
}

func (e *TextError) Error() string {
	return fmt.Sprintf("textual representation: at byte %d: %s", e.Offset, e.Msg)
}

// errTextTooLarge is returned by the bounded printers.
type errTextTooLarge struct{}

func (errTextTooLarge) Error() string {
	return fmt.Sprintf("the textual representation exceeds %d bytes", MaxTextSize)
}

// ObjectToString returns the textual representation of v. A container that
// contains itself is written as #null# where it recurs, so is anything
// nested deeper than MaxNesting, and host handles are written as
// #handle:Kind# (which ToObject rejects). Output past MaxTextSize is cut
// short; use ObjectToStringChecked to get an error instead.
func ObjectToString(v Value) string {
	p := textPrinter{boundedPrinter{limit: MaxTextSize}}
	p.value(v, 0)
	return p.b.String()
}

// ObjectToStringChecked is ObjectToString that fails, instead of cutting the
// text short, when it would exceed limit bytes.
func ObjectToStringChecked(v Value, limit int) (string, error) {
	p := textPrinter{boundedPrinter{limit: limit}}
	p.value(v, 0)
	if p.over {
		return "", errTextTooLarge{}
	}
	return p.b.String(), nil
}

type textPrinter struct{ boundedPrinter }

// boundedPrinter is what the textual and JSON printers share: an output
// size limit and cycle detection.
type boundedPrinter struct {
	b     strings.Builder
	limit int
	over  bool
	stack map[any]bool // containers being printed (cycle detection)
}

func (p *boundedPrinter) full() bool {
	if p.b.Len() > p.limit {
		p.over = true
	}
	return p.over
}

// list prints an array between open and close, or null for one nested too
// deeply or containing itself.
func (p *boundedPrinter) list(x *Array, depth int, open, close byte, null string, value func(Value, int)) {
	if depth >= MaxNesting || !p.enter(x) {
		p.b.WriteString(null)
		return
	}
	p.b.WriteByte(open)
	for i, e := range x.Elems {
		if i > 0 {
			p.b.WriteByte(',')
		}
		value(e, depth+1)
		if p.full() {
			break
		}
	}
	p.b.WriteByte(close)
	delete(p.stack, x)
}

func (p *boundedPrinter) enter(c any) bool {
	if p.stack == nil {
		p.stack = map[any]bool{}
	}
	if p.stack[c] {
		return false
	}
	p.stack[c] = true
	return true
}

func (p *textPrinter) value(v Value, depth int) {
	if p.full() {
		return
	}
	switch x := v.(type) {
	case nil:
		p.b.WriteString("#null#")
	case String:
		textWriteString(&p.b, string(x))
	case Number:
		p.b.WriteByte('#')
		p.b.WriteString(strconv.FormatInt(int64(x), 10))
	case Data:
		p.b.WriteByte('[')
		p.b.WriteString(base64.StdEncoding.EncodeToString(x))
		p.b.WriteByte(']')
	case Time:
		p.b.WriteString("#T")
		p.b.WriteString(timeText(x))
	case IP:
		p.b.WriteString("#I")
		p.b.WriteString(ipText(x))
	case *Array:
		p.list(x, depth, '(', ')', "#null#", p.value)
	case *Dict:
		if depth >= MaxNesting || !p.enter(x) {
			p.b.WriteString("#null#")
			return
		}
		p.b.WriteByte('{')
		for _, k := range x.Keys() {
			textWriteString(&p.b, k)
			p.b.WriteByte('=')
			p.value(x.vals[k], depth+1)
			p.b.WriteByte(';')
			if p.full() {
				break
			}
		}
		p.b.WriteByte('}')
		delete(p.stack, x)
	case *XML:
		if depth >= MaxNesting {
			p.b.WriteString("#null#")
			return
		}
		p.xml(x, depth)
	case Handle:
		kind := "handle"
		if x != nil {
			kind = x.HandleKind()
		}
		p.b.WriteString("#handle:")
		for i := 0; i < len(kind); i++ {
			if textIsAtomByte(kind[i]) {
				p.b.WriteByte(kind[i])
			}
		}
		p.b.WriteByte('#')
	default:
		p.b.WriteString("#null#")
	}
}

// timeText is a timestamp as DD-MM-YYYY_HH:MM:SS (with a fraction of a
// second only when there is one), or PAST / FUTURE.
func timeText(t Time) string {
	switch {
	case t.Special < 0:
		return "PAST"
	case t.Special > 0:
		return "FUTURE"
	}
	u := t.T.UTC()
	s := u.Format(textTimeLayout)
	if ns := u.Nanosecond(); ns != 0 {
		f := strconv.Itoa(ns + 1e9)[1:]
		s += "." + strings.TrimRight(f, "0")
	}
	return s
}

// ipText is an IP address as [addr] or [addr]:port.
func ipText(ip IP) string {
	s := "[" + ip.Addr.String() + "]"
	if ip.Port != 0 {
		s += ":" + strconv.Itoa(int(ip.Port))
	}
	return s
}

func textIsAtomByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// textWriteString writes s as an atom when it is one, quoted otherwise.
func textWriteString(b *strings.Builder, s string) {
	atom := s != ""
	for i := 0; i < len(s) && atom; i++ {
		atom = textIsAtomByte(s[i])
	}
	if atom {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteByte('\\')
				b.WriteByte('0' + c/100)
				b.WriteByte('0' + c/10%10)
				b.WriteByte('0' + c%10)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// ToObject parses a textual representation (the whole of s: one value,
// with optional white space and // or /* */ comments around and between
// elements). "#null#" gives a nil Value and a nil error.
func ToObject(s string) (Value, error) {
	return toObject(s, nil)
}

// toObject is ToObject with a memory budget (nil: none) that the values it
// builds are charged against; it fails with errXMLMemory past it.
func toObject(s string, budget *int64) (Value, error) {
	p := textParser{s: s, budget: budget}
	p.skip()
	if p.err != nil {
		return nil, p.err
	}
	if p.i >= len(s) {
		return nil, p.fail("empty input: expected a value")
	}
	v := p.value(0)
	if p.err != nil {
		return nil, p.err
	}
	p.skip()
	if p.err != nil {
		return nil, p.err
	}
	if p.i < len(s) {
		return nil, p.fail("unexpected %s after the value", p.near())
	}
	return v, nil
}

type textParser struct {
	s      string
	i      int
	err    error
	budget *int64 // memory left to the task, when it counts
}

// use charges n bytes of what the parse builds to the budget.
func (p *textParser) use(n int) bool {
	if p.budget == nil {
		return true
	}
	*p.budget -= int64(n)
	if *p.budget < 0 {
		if p.err == nil {
			p.err = errXMLMemory
		}
		return false
	}
	return true
}

func (p *textParser) fail(format string, args ...any) error {
	if p.err == nil {
		p.err = &TextError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
	}
	return p.err
}

// near describes the input at the current position for a message.
func (p *textParser) near() string {
	if p.i >= len(p.s) {
		return "end of input"
	}
	c := p.s[p.i]
	if c >= 0x20 && c < 0x7f {
		return strconv.Quote(string(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// textIsParsedAtomByte: atoms are written with letters and digits only; on
// input a few more characters that cannot start or end another element are
// accepted too (host names, e-mail addresses, numbers with a unit).
func textIsParsedAtomByte(c byte) bool {
	if textIsAtomByte(c) || c >= 0x80 {
		return true
	}
	return strings.IndexByte("._-@+!$%&*?^|~:'", c) >= 0
}

// skip passes white space and comments.
func (p *textParser) skip() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			p.i++
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '/':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '*':
			end := strings.Index(p.s[p.i+2:], "*/")
			if end < 0 {
				p.fail("unterminated /* comment")
				return
			}
			p.i += 2 + end + 2
		default:
			return
		}
	}
}

func (p *textParser) value(depth int) Value {
	if p.i >= len(p.s) {
		p.fail("unexpected end of input: expected a value")
		return nil
	}
	switch c := p.s[p.i]; c {
	case '"':
		s, ok := p.quoted()
		if !ok || !p.use(16+len(s)) {
			return nil
		}
		return String(s)
	case '<':
		x, n, err := parseXMLPrefix(p.s[p.i:], depth, p.budget)
		if err != nil {
			if te, ok := err.(*TextError); ok {
				te.Offset += p.i
			}
			p.err = err
			return nil
		}
		p.i += n
		return x
	case '[':
		d := p.data()
		if d, ok := d.(Data); ok && !p.use(24+len(d)) {
			return nil
		}
		return d
	case '(':
		return p.array(depth)
	case '{':
		return p.dict(depth)
	case '#':
		return p.hash()
	default:
		if textIsParsedAtomByte(c) {
			a := p.atom()
			if !p.use(16 + len(a)) {
				return nil
			}
			return String(a)
		}
		p.fail("unexpected %s: expected a value", p.near())
		return nil
	}
}

func (p *textParser) atom() string {
	j := p.i
	for j < len(p.s) && textIsParsedAtomByte(p.s[j]) {
		// "//" and "/*" are not atom bytes, so comments end atoms by themselves.
		j++
	}
	a := p.s[p.i:j]
	p.i = j
	return a
}

// quoted parses a quoted string at p.i (which holds the opening quote).
func (p *textParser) quoted() (string, bool) {
	start := p.i
	p.i++
	var b []byte
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return string(b), true
		case '\\':
			if p.i+1 >= len(p.s) {
				p.i = start
				p.fail("unterminated string")
				return "", false
			}
			e := p.s[p.i+1]
			switch e {
			case '"', '\\':
				b = append(b, e)
			case 'r':
				b = append(b, '\r')
			case 'n', 'e':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			default:
				if e >= '0' && e <= '9' {
					if p.i+3 >= len(p.s) || !isDigit(p.s[p.i+2]) || !isDigit(p.s[p.i+3]) {
						p.fail(`\nnn escape needs three decimal digits`)
						return "", false
					}
					n := int(e-'0')*100 + int(p.s[p.i+2]-'0')*10 + int(p.s[p.i+3]-'0')
					if n > 255 {
						p.fail(`\%03d escape is not a byte (000-255)`, n)
						return "", false
					}
					b = append(b, byte(n))
					p.i += 4
					continue
				}
				p.fail(`unknown escape "\%c" in a string`, e)
				return "", false
			}
			p.i += 2
		default:
			b = append(b, c)
			p.i++
		}
	}
	p.i = start
	p.fail("unterminated string")
	return "", false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *textParser) data() Value {
	start := p.i
	end := strings.IndexByte(p.s[p.i:], ']')
	if end < 0 {
		p.fail("unterminated datablock: missing ]")
		return nil
	}
	body := p.s[p.i+1 : p.i+end]
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n', '\f', '\v':
			return -1
		}
		return r
	}, body)
	enc := base64.StdEncoding
	if len(clean)%4 != 0 && !strings.HasSuffix(clean, "=") {
		enc = base64.RawStdEncoding
	}
	d, err := enc.DecodeString(clean)
	if err != nil {
		p.fail("bad base64 in datablock: %v", err)
		return nil
	}
	p.i = start + end + 1
	if d == nil {
		d = []byte{}
	}
	return Data(d)
}

func (p *textParser) array(depth int) Value {
	if depth >= MaxNesting {
		p.fail("nesting deeper than %d", MaxNesting)
		return nil
	}
	p.i++ // (
	a := NewArray()
	for {
		p.skip()
		if p.err != nil {
			return nil
		}
		if p.i < len(p.s) && p.s[p.i] == ')' {
			p.i++
			return a
		}
		v := p.value(depth + 1)
		if p.err != nil || !p.use(16) {
			return nil
		}
		a.Elems = append(a.Elems, v)
		p.skip()
		if p.err != nil {
			return nil
		}
		switch {
		case p.i < len(p.s) && p.s[p.i] == ',':
			p.i++
		case p.i < len(p.s) && p.s[p.i] == ')':
		default:
			p.fail("unexpected %s in an array: expected \",\" or \")\"", p.near())
			return nil
		}
	}
}

func (p *textParser) dict(depth int) Value {
	if depth >= MaxNesting {
		p.fail("nesting deeper than %d", MaxNesting)
		return nil
	}
	p.i++ // {
	d := NewDict()
	for {
		p.skip()
		if p.err != nil {
			return nil
		}
		if p.i >= len(p.s) {
			p.fail("unterminated dictionary: missing }")
			return nil
		}
		c := p.s[p.i]
		if c == '}' {
			p.i++
			return d
		}
		var key string
		switch {
		case c == '"':
			k, ok := p.quoted()
			if !ok {
				return nil
			}
			key = k
		case textIsParsedAtomByte(c):
			key = p.atom()
		default:
			p.fail("unexpected %s in a dictionary: expected a key", p.near())
			return nil
		}
		p.skip()
		if p.err != nil {
			return nil
		}
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			p.fail("unexpected %s after dictionary key %q: expected \"=\"", p.near(), key)
			return nil
		}
		p.i++
		p.skip()
		if p.err != nil {
			return nil
		}
		v := p.value(depth + 1)
		if p.err != nil || !p.use(32+len(key)) {
			return nil
		}
		d.Set(key, v)
		p.skip()
		if p.err != nil {
			return nil
		}
		switch {
		case p.i < len(p.s) && p.s[p.i] == ';':
			p.i++
		case p.i < len(p.s) && p.s[p.i] == '}':
		default:
			p.fail("unexpected %s in a dictionary: expected \";\" or \"}\"", p.near())
			return nil
		}
	}
}

// hash parses #null#, #123, #T..., #I[...].
func (p *textParser) hash() Value {
	rest := p.s[p.i+1:]
	switch {
	case strings.HasPrefix(rest, "null#"):
		p.i += 6
		return nil
	case strings.HasPrefix(rest, "T"):
		p.i += 2
		return p.timestamp()
	case strings.HasPrefix(rest, "I"):
		p.i += 2
		return p.ipAddress()
	}
	j := p.i + 1
	if j < len(p.s) && (p.s[j] == '-' || p.s[j] == '+') {
		j++
	}
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	lit := p.s[p.i+1 : j]
	if lit == "" || lit == "-" || lit == "+" {
		p.fail("unexpected %q after \"#\": expected a number, T, I or null#", firstBytes(rest, 8))
		return nil
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		p.fail("number #%s is out of range", lit)
		return nil
	}
	p.i = j
	return Number(n)
}

func firstBytes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (p *textParser) timestamp() Value {
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, "PAST"):
		p.i += 4
		return RemotePast
	case strings.HasPrefix(rest, "FUTURE"):
		p.i += 6
		return RemoteFuture
	}
	j := 0
	for j < len(rest) && (isDigit(rest[j]) || strings.IndexByte("-_:.", rest[j]) >= 0) {
		j++
	}
	t, ok := parseTextTime(rest[:j])
	if !ok {
		p.fail("bad timestamp #T%s: expected DD-MM-YYYY_HH:MM:SS, PAST or FUTURE", firstBytes(rest[:j], 40))
		return nil
	}
	p.i += j
	return t
}

// parseTextTime parses DD-MM-YYYY, optionally followed by _HH:MM:SS and a
// fraction of a second (or a space instead of "_").
func parseTextTime(s string) (Time, bool) {
	date, clock := s, ""
	if k := strings.IndexAny(s, "_ "); k >= 0 {
		date, clock = s[:k], s[k+1:]
		if clock == "" {
			return Time{}, false
		}
	}
	dp := strings.Split(date, "-")
	if len(dp) != 3 || len(dp[2]) != 4 || len(dp[0]) == 0 || len(dp[0]) > 2 || len(dp[1]) == 0 || len(dp[1]) > 2 {
		return Time{}, false
	}
	day, ok1 := smallNumber(dp[0])
	mon, ok2 := smallNumber(dp[1])
	year, ok3 := smallNumber(dp[2])
	if !ok1 || !ok2 || !ok3 {
		return Time{}, false
	}
	var hh, mm, ss, ns int
	if clock != "" {
		frac := ""
		if k := strings.IndexByte(clock, '.'); k >= 0 {
			clock, frac = clock[:k], clock[k+1:]
			if frac == "" || len(frac) > 9 {
				return Time{}, false
			}
			f, ok := smallNumber(frac)
			if !ok {
				return Time{}, false
			}
			ns = f
			for n := len(frac); n < 9; n++ {
				ns *= 10
			}
		}
		cp := strings.Split(clock, ":")
		if len(cp) != 3 {
			return Time{}, false
		}
		var ok [3]bool
		hh, ok[0] = smallNumber(cp[0])
		mm, ok[1] = smallNumber(cp[1])
		ss, ok[2] = smallNumber(cp[2])
		if !ok[0] || !ok[1] || !ok[2] || len(cp[0]) > 2 || len(cp[1]) > 2 || len(cp[2]) > 2 || hh > 23 || mm > 59 || ss > 59 {
			return Time{}, false
		}
	}
	return validDate(year, mon, day, hh, mm, ss, ns)
}

// validDate builds a timestamp of the given fields if they name a real date
// in years 1..9999.
func validDate(year, mon, day, hh, mm, ss, ns int) (Time, bool) {
	if year < 1 || year > 9999 || mon < 1 || mon > 12 || day < 1 {
		return Time{}, false
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, ss, ns, time.UTC)
	if t.Day() != day || t.Month() != time.Month(mon) || t.Year() != year {
		return Time{}, false
	}
	return Time{T: t}, true
}

// smallNumber parses 1-9 decimal digits.
func smallNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func (p *textParser) ipAddress() Value {
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		p.fail("bad IP address: expected \"[\" after #I")
		return nil
	}
	end := strings.IndexByte(p.s[p.i:], ']')
	if end < 0 {
		p.fail("bad IP address: missing ]")
		return nil
	}
	addr, err := netip.ParseAddr(p.s[p.i+1 : p.i+end])
	if err != nil {
		p.fail("bad IP address %q", firstBytes(p.s[p.i+1:p.i+end], 60))
		return nil
	}
	p.i += end + 1
	ip := IP{Addr: addr}
	if p.i < len(p.s) && p.s[p.i] == ':' {
		j := p.i + 1
		for j < len(p.s) && isDigit(p.s[j]) {
			j++
		}
		port, ok := smallNumber(p.s[p.i+1 : j])
		if !ok || port > 65535 {
			p.fail("bad port number after #I[%s]", addr)
			return nil
		}
		ip.Port = uint16(port)
		p.i = j
	}
	return ip
}
