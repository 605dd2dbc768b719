package cgpl

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestObjectToString(t *testing.T) {
	d := NewDict()
	d.Set("b", Number(2))
	d.Set("a key", String("x"))
	d.Set("A", NewArray())
	cases := []struct {
		v    Value
		want string
	}{
		{nil, "#null#"},
		{String("abc123"), "abc123"},
		{String("ABC"), "ABC"},
		{String(""), `""`},
		{String("a b"), `"a b"`},
		{String("a.b"), `"a.b"`},
		{String("#1"), `"#1"`},
		{String("q\"b\\s\r\n\tx"), `"q\"b\\s\r\n\tx"`},
		{String("\x00\x01\x1f\x7f"), `"\000\001\031\127"`},
		{String("привет"), `"привет"`},
		{String("\xff"), "\"\xff\""},
		{Number(0), "#0"},
		{Number(123), "#123"},
		{Number(-5), "#-5"},
		{Number(-9223372036854775808), "#-9223372036854775808"},
		{Data("Hello"), "[SGVsbG8=]"},
		{Data{}, "[]"},
		{Data(nil), "[]"},
		{ltTime(2008, 11, 5, 0, 0, 0), "#T05-11-2008_00:00:00"},
		{ltTime(2026, 11, 23, 14, 5, 9), "#T23-11-2026_14:05:09"},
		{Time{T: time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC)}, "#T02-01-2026_03:04:05.12"},
		{Time{T: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))}, "#T02-01-2026_02:04:05"},
		{RemotePast, "#TPAST"},
		{RemoteFuture, "#TFUTURE"},
		{ltIP("10.0.0.1", 5060), "#I[10.0.0.1]:5060"},
		{ltIP("10.0.0.1", 0), "#I[10.0.0.1]"},
		{ltIP("2001:db8::1", 5061), "#I[2001:db8::1]:5061"},
		{NewArray(), "()"},
		{NewArray(String("a"), Number(1), nil, NewArray()), "(a,#1,#null#,())"},
		{NewDict(), "{}"},
		{d, `{A=();"a key"=x;b=#2;}`},
		{&ltHandle{"Task"}, "#handle:Task#"},
		{&ltHandle{"we ird\"#"}, "#handle:weird#"},
		{Handle(nil), "#null#"},
		{struct{}{}, "#null#"},
	}
	for _, c := range cases {
		if got := ObjectToString(c.v); got != c.want {
			t.Errorf("ObjectToString(%#v) = %s, want %s", c.v, got, c.want)
		}
	}

	// A container that contains itself prints #null# where it recurs.
	a := NewArray(String("x"))
	a.Elems = append(a.Elems, a, a)
	if got := ObjectToString(a); got != "(x,#null#,#null#)" {
		t.Errorf("cyclic array: %s", got)
	}
	dd := NewDict()
	dd.Set("self", dd)
	if got := ObjectToString(dd); got != "{self=#null#;}" {
		t.Errorf("cyclic dictionary: %s", got)
	}
	// Shared, not cyclic: printed in full each time.
	s := NewArray(Number(1))
	if got := ObjectToString(NewArray(s, s)); got != "((#1),(#1))" {
		t.Errorf("shared array: %s", got)
	}
	// Nesting past MaxNesting is cut.
	deep := Value(String("x"))
	for range MaxNesting + 3 {
		deep = NewArray(deep)
	}
	out := ObjectToString(deep)
	if strings.Count(out, "(") != MaxNesting || !strings.Contains(out, "#null#") {
		t.Errorf("deep array printed with %d levels", strings.Count(out, "("))
	}
	if _, err := ToObject(out); err != nil {
		t.Errorf("the cut form does not parse: %v", err)
	}
	// The size limit.
	if _, err := ObjectToStringChecked(NewArray(String("0123456789")), 5); err == nil {
		t.Error("ObjectToStringChecked: no error past the limit")
	}
	if s, err := ObjectToStringChecked(NewArray(String("abc")), 100); err != nil || s != "(abc)" {
		t.Errorf("ObjectToStringChecked = %q, %v", s, err)
	}
	if s := ObjectToString(NewArray(String(strings.Repeat("y", MaxTextSize+10)), String("z"))); len(s) > MaxTextSize+20 {
		t.Errorf("ObjectToString output of %d bytes not cut short", len(s))
	}
}

func TestToObject(t *testing.T) {
	cases := []struct {
		in   string
		want Value
	}{
		{"abc", String("abc")},
		{"  abc  ", String("abc")},
		{"123", String("123")}, // an atom, not a number
		{"#123", Number(123)},
		{"#-123", Number(-123)},
		{"#+7", Number(7)},
		{"#9223372036854775807", Number(9223372036854775807)},
		{`""`, String("")},
		{`"a\"b\\c\r\n\t\e"`, String("a\"b\\c\r\n\t\n")},
		{`"\000\065\255"`, String("\x00A\xff")},
		{"\"multi\nline\"", String("multi\nline")},
		{"example.com", String("example.com")}, // a lenient atom
		{"user@example.com", String("user@example.com")},
		{"10K", String("10K")},
		{"приветabc", String("приветabc")},
		{"[SGVsbG8=]", Data("Hello")},
		{"[SGVs\n bG8=]", Data("Hello")},
		{"[SGVsbG8]", Data("Hello")}, // padding optional
		{"[]", Data{}},
		{"#null#", nil},
		{"#T05-11-2008_00:00:00", ltTime(2008, 11, 5, 0, 0, 0)},
		{"#T5-1-2008_1:2:3", ltTime(2008, 1, 5, 1, 2, 3)},
		{"#T05-11-2008", ltTime(2008, 11, 5, 0, 0, 0)},
		{"#T29-02-2024_23:59:59", ltTime(2024, 2, 29, 23, 59, 59)},
		{"#T02-01-2026_03:04:05.5", Time{T: time.Date(2026, 1, 2, 3, 4, 5, 500000000, time.UTC)}},
		{"#TPAST", RemotePast},
		{"#TFUTURE", RemoteFuture},
		{"#I[10.0.0.1]:5060", ltIP("10.0.0.1", 5060)},
		{"#I[10.0.0.1]", ltIP("10.0.0.1", 0)},
		{"#I[::1]:0", ltIP("::1", 0)},
		{"#I[fe80::1%eth0]:5060", IP{Addr: ltIP("fe80::1", 0).Addr.WithZone("eth0"), Port: 5060}},
		{"()", NewArray()},
		{"( a , #1 , ( ) )", NewArray(String("a"), Number(1), NewArray())},
		{"(a,b,)", NewArray(String("a"), String("b"))}, // a trailing comma is allowed
		{"(#null#,#null#)", NewArray(nil, nil)},
		{"{}", NewDict()},
		{"{ a = b ; }", ltDict("a", String("b"))},
		{"{a=b}", ltDict("a", String("b"))}, // the last ";" is optional
		{`{"a key"=#1;"" = x;}`, ltDict("a key", Number(1), "", String("x"))},
		{"{a=#1;a=#2;}", ltDict("a", Number(2))}, // the last value wins
		{"{a=#null#;b=c;}", ltDict("b", String("c"))},
		{"// comment\n(a, /* inner */ b) // trailing", NewArray(String("a"), String("b"))},
		{"{\n  k = v; // why\n  /* block\n comment */ n = #1;\n}", ltDict("k", String("v"), "n", Number(1))},
		{"(a//c\n,b)", NewArray(String("a"), String("b"))},
	}
	for _, c := range cases {
		got, err := ToObject(c.in)
		if err != nil {
			t.Errorf("ToObject(%q): %v", c.in, err)
			continue
		}
		if !Equals(got, c.want) {
			t.Errorf("ToObject(%q) = %s, want %s", c.in, ObjectToString(got), ObjectToString(c.want))
		}
	}
}

func ltDict(kv ...any) *Dict {
	d := NewDict()
	for i := 0; i < len(kv); i += 2 {
		d.Set(kv[i].(string), kv[i+1])
	}
	return d
}

func TestToObjectMalformed(t *testing.T) {
	cases := []struct {
		in, msg string
	}{
		{"", "empty input"},
		{"   // only a comment", "empty input"},
		{"a b", `unexpected "b" after the value`},
		{"(a", `unexpected end of input in an array`},
		{"(a b)", `unexpected "b" in an array`},
		{"(,)", `unexpected ","`},
		{"(a,,b)", `unexpected ","`},
		{")", `unexpected ")"`},
		{"{a}", `expected "="`},
		{"{a=}", `unexpected "}"`},
		{"{a=b c=d}", `expected ";" or "}"`},
		{"{=b;}", "expected a key"},
		{"{(a)=b;}", "expected a key"},
		{"{a=b;", "unterminated dictionary"},
		{`"abc`, "unterminated string"},
		{`"abc\`, "unterminated string"},
		{`"\q"`, `unknown escape "\q"`},
		{`"\12"`, "three decimal digits"},
		{`"\256"`, "not a byte"},
		{"[SGVsbG8", "unterminated datablock"},
		{"[S*Vs]", "bad base64"},
		{"[SGVsbG8==]", "bad base64"},
		{"#", `after "#"`},
		{"#abc", `after "#"`},
		{"#-", `after "#"`},
		{"#null", `after "#"`},
		{"#99999999999999999999", "out of range"},
		{"#T", "bad timestamp"},
		{"#T31-02-2020_00:00:00", "bad timestamp"},
		{"#T01-13-2020", "bad timestamp"},
		{"#T01-01-20", "bad timestamp"},
		{"#T01-01-2020_24:00:00", "bad timestamp"},
		{"#T01-01-2020_", "bad timestamp"},
		{"#T01-01-2020_10:00", "bad timestamp"},
		{"#T01-01-2020_10:00:00.", "bad timestamp"},
		{"#T00-01-2020", "bad timestamp"},
		{"#T01-01-0000", "bad timestamp"},
		{"#TNOW", "bad timestamp"},
		{"#I10.0.0.1", `expected "["`},
		{"#I[10.0.0.1", "missing ]"},
		{"#I[10.0.0.256]", "bad IP address"},
		{"#I[10.0.0.1]:", "bad port"},
		{"#I[10.0.0.1]:65536", "bad port"},
		{"#handle:Task#", `after "#"`},
		{"/* open", "unterminated /* comment"},
		{"(a /* open", "unterminated /* comment"},
		{"<a><b></a>", "bad XML: <b> is closed by </a>"},
		{"(<a>,b)", "bad XML"},
		{"\x00", "byte 0x00"},
		{strings.Repeat("(", MaxNesting+1) + strings.Repeat(")", MaxNesting+1), "nesting deeper than"},
		{strings.Repeat("{a=", MaxNesting+1) + "b" + strings.Repeat(";}", MaxNesting+1), "nesting deeper than"},
	}
	for _, c := range cases {
		v, err := ToObject(c.in)
		var te *TextError
		if !errors.As(err, &te) {
			t.Errorf("ToObject(%q) = %s, %v; want a TextError", c.in, ObjectToString(v), err)
			continue
		}
		if !strings.Contains(te.Msg, c.msg) {
			t.Errorf("ToObject(%q): %q does not say %q", c.in, te.Msg, c.msg)
		}
		if te.Offset < 0 || te.Offset > len(c.in) {
			t.Errorf("ToObject(%q): offset %d out of the input", c.in, te.Offset)
		}
		if !strings.HasPrefix(err.Error(), "textual representation: at byte ") {
			t.Errorf("error text %q", err.Error())
		}
	}
	// Exactly MaxNesting levels are fine.
	ok := strings.Repeat("(", MaxNesting) + strings.Repeat(")", MaxNesting)
	if _, err := ToObject(ok); err != nil {
		t.Errorf("%d levels: %v", MaxNesting, err)
	}
}

func TestTextualRoundTrip(t *testing.T) {
	inner := NewDict()
	inner.Set("Content-Type", String("text/plain"))
	inner.Set("body", Data("\x00\x01binary\xff"))
	inner.Set("when", ltTime(1999, 12, 31, 23, 59, 59))
	inner.Set("", String("empty key"))
	values := []Value{
		nil,
		String("plain"),
		String(""),
		String("with \"quotes\", \\backslashes\\, \r\n\t and \x01\x7f"),
		String("UTF-8: привет, 日本語, emoji 🎉"),
		String("\xff\xfe invalid UTF-8"),
		Number(0), Number(-1), Number(9223372036854775807), Number(-9223372036854775808),
		Data{}, Data("\x00\xff"),
		RemotePast, RemoteFuture, ltTime(1, 1, 1, 0, 0, 0), ltTime(9999, 12, 31, 23, 59, 59),
		Time{T: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		ltIP("192.168.1.1", 0), ltIP("2001:db8::ff", 65535), ltIP("::ffff:10.1.2.3", 5060),
		NewArray(),
		NewDict(),
		NewArray(nil, String("a"), NewArray(NewArray(Number(1))), inner),
		ltDict("list", NewArray(Number(1), Number(2)), "nested", ltDict("deeper", ltDict("x", RemoteFuture)), "ip", ltIP("::1", 1)),
	}
	for _, v := range values {
		text := ObjectToString(v)
		back, err := ToObject(text)
		if err != nil {
			t.Errorf("ToObject(ObjectToString(%#v)) = %q: %v", v, text, err)
			continue
		}
		if !Equals(back, v) {
			t.Errorf("round trip of %s gave %s", text, ObjectToString(back))
		}
		if again := ObjectToString(back); again != text {
			t.Errorf("printed form changed: %s then %s", text, again)
		}
	}
}
