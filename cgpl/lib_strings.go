package cgpl

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the string functions (spec §4.3).

// cutRange applies the Substring rules to a sequence of n units: it returns
// the [start, end) units to keep, or ok=false when the arguments are bad.
// A negative from counts from the end: the piece ends -1-from units before
// the end (from = -1 keeps the last unit).
func cutRange(n int64, fromV, lenV Value) (start, end int64, ok bool) {
	from, ok1 := fromV.(Number)
	length, ok2 := lenV.(Number)
	if !ok1 || !ok2 || length < 0 {
		return 0, 0, false
	}
	f, l := int64(from), int64(length)
	if f >= 0 {
		if f >= n {
			return 0, 0, true
		}
		start = f
		end = n
		if l < n-f {
			end = f + l
		}
		return start, end, true
	}
	back := -1 - f // units skipped at the end; f < 0 so no overflow
	if back >= n {
		return 0, 0, true
	}
	end = n - back
	start = 0
	if l < end {
		start = end - l
	}
	return start, end, true
}

// Substring is Substring(str, from, len), counting bytes; null when str is
// not a string, from not a number or len not a non-negative number.
func Substring(str, from, length Value) Value {
	s, ok := str.(String)
	if !ok {
		return nil
	}
	start, end, ok := cutRange(int64(len(s)), from, length)
	if !ok {
		return nil
	}
	return s[start:end]
}

// RangeOf is Range(str, from, len): Substring counting characters (UTF-8
// sequences; a byte that is not part of one counts as one character) in a
// string, or bytes in a datablock (giving a datablock).
func RangeOf(str, from, length Value) Value {
	switch s := str.(type) {
	case String:
		// offsets[i] is the byte offset of character i; offsets[n] = len(s).
		offsets := make([]int, 0, len(s)+1)
		for i := 0; i < len(s); {
			offsets = append(offsets, i)
			_, size := utf8.DecodeRuneInString(string(s[i:]))
			i += size
		}
		offsets = append(offsets, len(s))
		start, end, ok := cutRange(int64(len(offsets)-1), from, length)
		if !ok {
			return nil
		}
		return s[offsets[start]:offsets[end]]
	case Data:
		start, end, ok := cutRange(int64(len(s)), from, length)
		if !ok {
			return nil
		}
		return append(Data{}, s[start:end]...)
	}
	return nil
}

// FindSubstring is FindSubstring(str, sub [, offset]): the byte position of
// sub in str, or -1. A positive offset skips that many leading bytes; a
// negative one finds the last match ending at least -offset bytes before
// the end (the vendor text says "ignores the last -1-offset bytes", but its
// examples need -offset).
// Arguments of the wrong type give -1 (a missing or non-number offset
// counts as 0).
func FindSubstring(str, sub, offset Value) Value {
	s, ok1 := str.(String)
	t, ok2 := sub.(String)
	if !ok1 || !ok2 {
		return Number(-1)
	}
	off, _ := offset.(Number)
	n := int64(len(s))
	if off >= 0 {
		if int64(off) > n {
			return Number(-1)
		}
		i := strings.Index(string(s[off:]), string(t))
		if i < 0 {
			return Number(-1)
		}
		return Number(int64(off) + int64(i))
	}
	// The vendor's examples (offset -3 finds "for" ending 2 bytes before
	// the end, -5 does not find it ending 4 bytes before) show that the
	// match must end -offset bytes before the end of str.
	if int64(off) < -n {
		return Number(-1)
	}
	return Number(strings.LastIndex(string(s[:n+int64(off)]), string(t)))
}

// mapLetters applies f to each character of s, copying bytes that are not
// valid UTF-8 unchanged.
func mapLetters(s string, f func(rune) rune) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[i])
		} else {
			b.WriteRune(f(r))
		}
		i += size
	}
	return b.String()
}

// ToUpperCase / ToLowerCase: a string with its letters converted (Unicode
// case mapping); null for anything else.
func caseMap(v Value, f func(rune) rune) Value {
	s, ok := v.(String)
	if !ok {
		return nil
	}
	return String(mapLetters(string(s), f))
}

// IsWhiteSpaces: a string of only space, tab, CR and LF (the empty string
// included).
func isWhiteSpaces(v Value) bool {
	s, ok := v.(String)
	if !ok {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}

// FindRegEx is FindRegEx(str, picture): the picture, a POSIX extended
// regular expression, must match the whole string. The result is null
// when it does not (or when the picture is bad), otherwise an array: the
// string, then each group's text ("" for a group that matched nothing).
// A picture that POSIX syntax rejects is tried with Go (Perl-like) syntax,
// still with leftmost-longest matching.
func FindRegEx(str, picture Value) Value {
	s, ok1 := str.(String)
	pic, ok2 := picture.(String)
	if !ok1 || !ok2 {
		return nil
	}
	if _, err := regexp.CompilePOSIX(string(pic)); err != nil {
		if _, err := regexp.Compile(string(pic)); err != nil {
			return nil
		}
		re, err := regexp.Compile(`^(?:` + string(pic) + `)$`)
		if err != nil {
			return nil
		}
		re.Longest()
		m := re.FindStringSubmatch(string(s))
		if m == nil {
			return nil
		}
		return regexResult(s, m[1:])
	}
	re, err := regexp.CompilePOSIX("^(" + string(pic) + ")$")
	if err != nil {
		return nil
	}
	m := re.FindStringSubmatch(string(s))
	if m == nil {
		return nil
	}
	return regexResult(s, m[2:])
}

func regexResult(s String, groups []string) Value {
	a := NewArray(s)
	for _, g := range groups {
		a.Elems = append(a.Elems, String(g))
	}
	return a
}

// EmailUserPart: the part before the first "@" (the whole string without
// one); null for a non-string.
func emailUserPart(v Value) Value {
	s, ok := v.(String)
	if !ok {
		return nil
	}
	if i := strings.IndexByte(string(s), '@'); i >= 0 {
		return s[:i]
	}
	return s
}

// EmailDomainPart: the part after the first "@"; null without one.
func emailDomainPart(v Value) Value {
	s, ok := v.(String)
	if !ok {
		return nil
	}
	if i := strings.IndexByte(string(s), '@'); i >= 0 {
		return s[i+1:]
	}
	return nil
}

// SIPURIToEmail turns a SIP URI ("sip:user@host:port;params", optionally
// inside "Name <...>") into "user@host"; null when it is no SIP URI.
func SIPURIToEmail(v Value) Value {
	s, ok := v.(String)
	if !ok {
		return nil
	}
	u := strings.TrimSpace(string(s))
	if i := strings.IndexByte(u, '<'); i >= 0 {
		j := strings.IndexByte(u[i:], '>')
		if j < 0 {
			return nil
		}
		u = u[i+1 : i+j]
	}
	lower := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lower, "sip:"):
		u = u[4:]
	case strings.HasPrefix(lower, "sips:"):
		u = u[5:]
	default:
		return nil
	}
	user, host := "", u
	if at := strings.LastIndexByte(u, '@'); at >= 0 {
		user, host = u[:at], u[at+1:]
		if k := strings.IndexByte(user, ':'); k >= 0 { // user:password
			user = user[:k]
		}
		if k := strings.IndexByte(user, ';'); k >= 0 { // user parameters
			user = user[:k]
		}
		if uu, err := url.PathUnescape(user); err == nil {
			user = uu
		}
	}
	if k := strings.IndexAny(host, ";?"); k >= 0 {
		host = host[:k]
	}
	if strings.HasPrefix(host, "[") {
		if k := strings.IndexByte(host, ']'); k >= 0 {
			host = host[:k+1]
		}
	} else if k := strings.IndexByte(host, ':'); k >= 0 {
		host = host[:k]
	}
	if host == "" || strings.ContainsAny(host, " \t\r\n<>\"@") || strings.ContainsAny(user, " \t\r\n<>\"@") {
		return nil
	}
	if user == "" {
		return String(host)
	}
	return String(user + "@" + host)
}

// EmailToSIPURI turns an e-mail address ("user@domain", optionally inside
// "Name <...>" or after "mailto:") into "sip:user@domain"; null when it is
// not an address.
func EmailToSIPURI(v Value) Value {
	s, ok := v.(String)
	if !ok {
		return nil
	}
	e := strings.TrimSpace(string(s))
	if i := strings.IndexByte(e, '<'); i >= 0 {
		j := strings.IndexByte(e[i:], '>')
		if j < 0 {
			return nil
		}
		e = e[i+1 : i+j]
	}
	if len(e) >= 7 && strings.EqualFold(e[:7], "mailto:") {
		e = e[7:]
	}
	if e == "" || strings.ContainsAny(e, " \t\r\n<>\"") || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") || strings.Count(e, "@") > 1 {
		return nil
	}
	return String("sip:" + e)
}

// PhoneNumberToSIPURI is the conversion of PhoneNumberToSIPURI(num) given
// the current Domain (the runtime, which knows the Domain, registers the
// function itself): it keeps the digits and a leading "+", and gives
// "sip:digits@domain"; null for a non-string or a string without digits.
func PhoneNumberToSIPURI(num Value, domain string) Value {
	s, ok := num.(String)
	if !ok {
		return nil
	}
	var b strings.Builder
	for i, r := range strings.TrimSpace(string(s)) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		}
	}
	d := strings.TrimPrefix(b.String(), "+")
	if d == "" {
		return nil
	}
	if domain == "" {
		return String("sip:" + b.String())
	}
	return String("sip:" + b.String() + "@" + domain)
}

// compareFold compares case-insensitively, character by character after
// mapping each to lower case.
func compareFold(a, b string) int {
	// ASCII fast path: fold and compare bytes until a non-ASCII byte.
	for a != "" && b != "" && a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
		ca, cb := a[0], b[0]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	for a != "" && b != "" {
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[sa:], b[sb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func libStrings() []Pure {
	return []Pure{
		{Name: "String", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return StringOf(a[0]) }},
		{Name: "Substring", MinArgs: 3, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			return Substring(a[0], a[1], a[2]), nil
		}},
		{Name: "Range", MinArgs: 3, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			return RangeOf(a[0], a[1], a[2]), nil
		}},
		{Name: "FindSubstring", MinArgs: 2, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			var off Value
			if len(a) > 2 {
				off = a[2]
			}
			return FindSubstring(a[0], a[1], off), nil
		}},
		{Name: "EOL", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) { return String("\n"), nil }},
		{Name: "CRLF", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) { return String("\r\n"), nil }},
		{Name: "ToUpperCase", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return caseMap(a[0], unicode.ToUpper), nil
		}},
		{Name: "ToLowerCase", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return caseMap(a[0], unicode.ToLower), nil
		}},
		{Name: "IsDigit", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			s, ok := a[0].(String)
			return Bool(ok && len(s) == 1 && isDigit(s[0])), nil
		}},
		{Name: "IsWhiteSpaces", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return Bool(isWhiteSpaces(a[0])), nil
		}},
		{Name: "FindRegEx", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) {
			return FindRegEx(a[0], a[1]), nil
		}},
		{Name: "EmailUserPart", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return emailUserPart(a[0]), nil
		}},
		{Name: "EmailDomainPart", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return emailDomainPart(a[0]), nil
		}},
		{Name: "SIPURIToEmail", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return SIPURIToEmail(a[0]), nil
		}},
		{Name: "EmailToSIPURI", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return EmailToSIPURI(a[0]), nil
		}},
	}
}
