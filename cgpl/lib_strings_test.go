package cgpl

import (
	"math"
	"testing"
)

func TestSubstringAndRange(t *testing.T) {
	s := String("abcdef")
	n := func(i int64) Value { return Number(i) }
	ltRun(t, []ltCase{
		{fn: "Substring", args: []Value{s, n(0), n(3)}, want: String("abc")},
		{fn: "Substring", args: []Value{s, n(2), n(2)}, want: String("cd")},
		{fn: "Substring", args: []Value{s, n(4), n(10)}, want: String("ef")}, // truncated
		{fn: "Substring", args: []Value{s, n(0), n(0)}, want: String("")},
		{fn: "Substring", args: []Value{s, n(6), n(1)}, want: String("")}, // at the end
		{fn: "Substring", args: []Value{s, n(100), n(1)}, want: String("")},
		{fn: "Substring", args: []Value{s, n(-1), n(2)}, want: String("ef")},
		{fn: "Substring", args: []Value{s, n(-2), n(2)}, want: String("de")},
		{fn: "Substring", args: []Value{s, n(-1), n(1)}, want: String("f")},
		{fn: "Substring", args: []Value{s, n(-3), n(10)}, want: String("abcd")},
		{fn: "Substring", args: []Value{s, n(-6), n(1)}, want: String("a")},
		{fn: "Substring", args: []Value{s, n(-7), n(1)}, want: String("")},
		{fn: "Substring", args: []Value{s, n(math.MinInt64), n(1)}, want: String("")},
		{fn: "Substring", args: []Value{s, n(1), n(math.MaxInt64)}, want: String("bcdef")},
		{fn: "Substring", args: []Value{s, n(math.MaxInt64), n(math.MaxInt64)}, want: String("")},
		{fn: "Substring", args: []Value{String("привет"), n(0), n(3)}, want: String("п\xd1")}, // bytes
		{fn: "Substring", args: []Value{String(""), n(0), n(1)}, want: String("")},
		{fn: "Substring", args: []Value{s, n(0), n(-1)}, want: nil},
		{fn: "Substring", args: []Value{s, String("0"), n(1)}, want: nil},
		{fn: "Substring", args: []Value{s, n(0), nil}, want: nil},
		{fn: "Substring", args: []Value{Data("abc"), n(0), n(1)}, want: nil},
		{fn: "Substring", args: []Value{nil, n(0), n(1)}, want: nil},

		{fn: "Range", args: []Value{String("привет"), n(0), n(3)}, want: String("при")},
		{fn: "Range", args: []Value{String("привет"), n(-1), n(2)}, want: String("ет")},
		{fn: "Range", args: []Value{String("a🎉b"), n(1), n(1)}, want: String("🎉")},
		{fn: "Range", args: []Value{String("a\xffb"), n(1), n(2)}, want: String("\xffb")}, // a stray byte is one character
		{fn: "Range", args: []Value{String("abc"), n(5), n(1)}, want: String("")},
		{fn: "Range", args: []Value{String(""), n(0), n(1)}, want: String("")},
		{fn: "Range", args: []Value{String("abc"), n(0), n(-1)}, want: nil},
		{fn: "Range", args: []Value{Data("\x00\x01\x02\x03"), n(1), n(2)}, want: Data("\x01\x02")},
		{fn: "Range", args: []Value{Data("\x00\x01\x02\x03"), n(-1), n(1)}, want: Data("\x03")},
		{fn: "Range", args: []Value{Data("\x00"), n(4), n(1)}, want: Data{}},
		{fn: "Range", args: []Value{Number(1), n(0), n(1)}, want: nil},
	})
}

func TestFindSubstring(t *testing.T) {
	all := String("A forest for all")
	f := String("for")
	ltRun(t, []ltCase{
		{fn: "FindSubstring", args: []Value{String("forest"), f}, want: Number(0)},
		{fn: "FindSubstring", args: []Value{String("A forest"), f}, want: Number(2)},
		{fn: "FindSubstring", args: []Value{all, f, Number(1)}, want: Number(2)},
		{fn: "FindSubstring", args: []Value{all, f, Number(4)}, want: Number(9)},
		{fn: "FindSubstring", args: []Value{all, f, Number(-3)}, want: Number(9)},
		{fn: "FindSubstring", args: []Value{all, f, Number(-5)}, want: Number(2)},
		{fn: "FindSubstring", args: []Value{all, f, Number(-1)}, want: Number(9)},
		{fn: "FindSubstring", args: []Value{all, f, Number(-4)}, want: Number(9)},
		{fn: "FindSubstring", args: []Value{String("abc"), String("c"), Number(-1)}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{String("abcabc"), String("abc"), Number(-1)}, want: Number(0)},
		{fn: "FindSubstring", args: []Value{String("abc"), String(""), Number(-1)}, want: Number(2)},
		{fn: "FindSubstring", args: []Value{all, f, Number(10)}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{all, f, Number(0)}, want: Number(2)},
		{fn: "FindSubstring", args: []Value{all, f, Number(16)}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{all, f, Number(17)}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{all, f, Number(-17)}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{all, String(""), Number(-16)}, want: Number(0)},
		{fn: "FindSubstring", args: []Value{all, f, Number(math.MinInt64)}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{all, f, Number(math.MaxInt64)}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{all, String("x")}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{all, String("")}, want: Number(0)},
		{fn: "FindSubstring", args: []Value{all, f, nil}, want: Number(2)},
		{fn: "FindSubstring", args: []Value{nil, f}, want: Number(-1)},
		{fn: "FindSubstring", args: []Value{all, Number(1)}, want: Number(-1)},
	})
}

func TestStringFunctions(t *testing.T) {
	ltRun(t, []ltCase{
		{fn: "EOL", want: String("\n")},
		{fn: "CRLF", want: String("\r\n")},
		{fn: "ToUpperCase", args: []Value{String("abc Жук é")}, want: String("ABC ЖУК É")},
		{fn: "ToUpperCase", args: []Value{String("a\xffb")}, want: String("A\xffB")},
		{fn: "ToUpperCase", args: []Value{Number(1)}, want: nil},
		{fn: "ToLowerCase", args: []Value{String("ABC Жук")}, want: String("abc жук")},
		{fn: "ToLowerCase", args: []Value{String("")}, want: String("")},
		{fn: "ToLowerCase", args: []Value{nil}, want: nil},
		{fn: "IsDigit", args: []Value{String("7")}, want: Yes},
		{fn: "IsDigit", args: []Value{String("0")}, want: Yes},
		{fn: "IsDigit", args: []Value{String("77")}, want: nil},
		{fn: "IsDigit", args: []Value{String("a")}, want: nil},
		{fn: "IsDigit", args: []Value{String("")}, want: nil},
		{fn: "IsDigit", args: []Value{Number(7)}, want: nil},
		{fn: "IsWhiteSpaces", args: []Value{String(" \t\r\n")}, want: Yes},
		{fn: "IsWhiteSpaces", args: []Value{String("")}, want: Yes},
		{fn: "IsWhiteSpaces", args: []Value{String(" x ")}, want: nil},
		{fn: "IsWhiteSpaces", args: []Value{String("\v")}, want: nil},
		{fn: "IsWhiteSpaces", args: []Value{nil}, want: nil},

		{fn: "FindRegEx", args: []Value{String("abc"), String("a(b)c")}, want: ltV(t, "(abc,b)")},
		{fn: "FindRegEx", args: []Value{String("user@example.com"), String("([^@]+)@(.+)")}, want: ltV(t, `("user@example.com",user,"example.com")`)},
		{fn: "FindRegEx", args: []Value{String("abc"), String("b")}, want: nil}, // the whole string must match
		{fn: "FindRegEx", args: []Value{String("abc"), String(".*b.*")}, want: ltV(t, "(abc)")},
		{fn: "FindRegEx", args: []Value{String("ab"), String("a|ab")}, want: ltV(t, "(ab)")},
		{fn: "FindRegEx", args: []Value{String("a"), String("(a)|(b)")}, want: ltV(t, `(a,a,"")`)},
		{fn: "FindRegEx", args: []Value{String("xyyz"), String("x(y+)(y*)z")}, want: ltV(t, `(xyyz,yy,"")`)}, // leftmost-longest
		{fn: "FindRegEx", args: []Value{String("123"), String(`\d+`)}, want: ltV(t, "(123)")},                // Perl syntax as a fallback
		{fn: "FindRegEx", args: []Value{String("12a"), String(`(\d+)(?:a)`)}, want: ltV(t, "(\"12a\",\"12\")")},
		{fn: "FindRegEx", args: []Value{String("a"), String("a)(b")}, want: nil},
		{fn: "FindRegEx", args: []Value{String("a"), String("(")}, want: nil},
		{fn: "FindRegEx", args: []Value{String(""), String("")}, want: ltV(t, `("")`)},
		{fn: "FindRegEx", args: []Value{Number(1), String("1")}, want: nil},
		{fn: "FindRegEx", args: []Value{String("1"), nil}, want: nil},

		{fn: "EmailUserPart", args: []Value{String("jim@example.com")}, want: String("jim")},
		{fn: "EmailUserPart", args: []Value{String("a@b@c")}, want: String("a")},
		{fn: "EmailUserPart", args: []Value{String("postmaster")}, want: String("postmaster")},
		{fn: "EmailUserPart", args: []Value{String("@x")}, want: String("")},
		{fn: "EmailUserPart", args: []Value{Number(1)}, want: nil},
		{fn: "EmailDomainPart", args: []Value{String("jim@example.com")}, want: String("example.com")},
		{fn: "EmailDomainPart", args: []Value{String("a@b@c")}, want: String("b@c")},
		{fn: "EmailDomainPart", args: []Value{String("postmaster")}, want: nil},
		{fn: "EmailDomainPart", args: []Value{nil}, want: nil},

		{fn: "SIPURIToEmail", args: []Value{String("sip:jim@example.com")}, want: String("jim@example.com")},
		{fn: "SIPURIToEmail", args: []Value{String("SIPS:jim@example.com:5061;transport=tls?x=y")}, want: String("jim@example.com")},
		{fn: "SIPURIToEmail", args: []Value{String(`"Jim" <sip:jim:secret@example.com;lr>;tag=1`)}, want: String("jim@example.com")},
		{fn: "SIPURIToEmail", args: []Value{String("sip:j%20m@example.com")}, want: nil}, // a space is no e-mail
		{fn: "SIPURIToEmail", args: []Value{String("sip:j%41m@[2001:db8::1]:5060")}, want: String("jAm@[2001:db8::1]")},
		{fn: "SIPURIToEmail", args: []Value{String("sip:+123;phone-context=x@example.com")}, want: String("+123@example.com")},
		{fn: "SIPURIToEmail", args: []Value{String("sip:example.com")}, want: String("example.com")},
		{fn: "SIPURIToEmail", args: []Value{String("tel:+123")}, want: nil},
		{fn: "SIPURIToEmail", args: []Value{String("jim@example.com")}, want: nil},
		{fn: "SIPURIToEmail", args: []Value{String("sip:")}, want: nil},
		{fn: "SIPURIToEmail", args: []Value{String("<sip:jim@example.com")}, want: nil},
		{fn: "SIPURIToEmail", args: []Value{Number(1)}, want: nil},
		{fn: "EmailToSIPURI", args: []Value{String("jim@example.com")}, want: String("sip:jim@example.com")},
		{fn: "EmailToSIPURI", args: []Value{String("Jim <jim@example.com>")}, want: String("sip:jim@example.com")},
		{fn: "EmailToSIPURI", args: []Value{String("mailto:jim@example.com")}, want: String("sip:jim@example.com")},
		{fn: "EmailToSIPURI", args: []Value{String("postmaster")}, want: String("sip:postmaster")},
		{fn: "EmailToSIPURI", args: []Value{String("jim smith@example.com")}, want: nil},
		{fn: "EmailToSIPURI", args: []Value{String("@example.com")}, want: nil},
		{fn: "EmailToSIPURI", args: []Value{String("jim@")}, want: nil},
		{fn: "EmailToSIPURI", args: []Value{String("a@b@c")}, want: nil},
		{fn: "EmailToSIPURI", args: []Value{String("")}, want: nil},
		{fn: "EmailToSIPURI", args: []Value{String("<jim@example.com")}, want: nil},
		{fn: "EmailToSIPURI", args: []Value{nil}, want: nil},
	})
}

func TestPhoneNumberToSIPURI(t *testing.T) {
	cases := []struct {
		num    Value
		domain string
		want   Value
	}{
		{String("+1 (555) 010-2030"), "example.com", String("sip:+15550102030@example.com")},
		{String("8-800-555"), "example.com", String("sip:8800555@example.com")},
		{String("1+2"), "d", String("sip:12@d")},
		{String("123"), "", String("sip:123")},
		{String("+"), "d", nil},
		{String("abc"), "d", nil},
		{Number(123), "d", nil},
	}
	for _, c := range cases {
		if got := PhoneNumberToSIPURI(c.num, c.domain); !Equals(got, c.want) {
			t.Errorf("PhoneNumberToSIPURI(%s, %q) = %s", ObjectToString(c.num), c.domain, ObjectToString(got))
		}
	}
}
