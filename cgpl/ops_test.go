package cgpl

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestBinaryOperators(t *testing.T) {
	t0 := ltTime(2026, 11, 23, 14, 5, 0)
	ops := map[string]func(a, b Value) (Value, error){
		"+": Add, "-": Sub, "*": Mul, "/": Div, "%": Mod,
		"<": Less, "<=": LessEq, ">": Greater, ">=": GreaterEq,
	}
	cases := []struct {
		a    Value
		op   string
		b    Value
		want Value
		exc  string // substring of the exception message
	}{
		{Number(1), "+", Number(2), Number(3), ""},
		{Number(-2), "+", Number(1), Number(-1), ""},
		{Number(math.MaxInt64), "+", Number(1), Number(math.MinInt64), ""}, // wraps
		{String("Jim"), "+", String(" Smith"), String("Jim Smith"), ""},
		{String(""), "+", String(""), String(""), ""},
		{Data("ab"), "+", Data("c"), Data("abc"), ""},
		{t0, "+", Number(60), ltTime(2026, 11, 23, 14, 6, 0), ""},
		{Number(86400), "+", t0, ltTime(2026, 11, 24, 14, 5, 0), ""},
		{t0, "+", Number(math.MaxInt64), RemoteFuture, ""},
		{t0, "+", Number(math.MinInt64), RemotePast, ""},
		{RemotePast, "+", Number(5), RemotePast, ""},
		{ltTime(9999, 12, 31, 23, 59, 0), "+", Number(60), RemoteFuture, ""},
		{String("a"), "+", Number(1), nil, "+: cannot apply to string and number"},
		{Number(1), "+", String("a"), nil, "number and string"},
		{nil, "+", Number(1), nil, "null and number"},
		{t0, "+", t0, nil, "timestamp and timestamp"},
		{NewArray(), "+", NewArray(), nil, "array and array"},
		{String("a"), "+", Data("a"), nil, "string and datablock"},

		{Number(5), "-", Number(7), Number(-2), ""},
		{Number(math.MinInt64), "-", Number(1), Number(math.MaxInt64), ""},
		{t0, "-", Number(3600), ltTime(2026, 11, 23, 13, 5, 0), ""},
		{t0, "-", ltTime(2026, 11, 22, 14, 5, 0), Number(86400), ""},
		{ltTime(1970, 1, 1, 0, 0, 0), "-", t0, Number(-1795442700), ""},
		{t0, "-", Number(math.MinInt64), RemoteFuture, ""},
		{RemoteFuture, "-", t0, Number(math.MaxInt64), ""},
		{t0, "-", RemoteFuture, Number(math.MinInt64), ""},
		{RemotePast, "-", RemotePast, Number(0), ""},
		{ltTime(1, 1, 1, 0, 0, 0), "-", Number(1), RemotePast, ""},
		{String("b"), "-", String("a"), nil, "-: cannot apply to string and string"},
		{Number(1), "-", t0, nil, "number and timestamp"},

		{Number(6), "*", Number(7), Number(42), ""},
		{Number(-6), "*", Number(7), Number(-42), ""},
		{String("6"), "*", Number(7), nil, "*: cannot apply to string and number"},

		{Number(7), "/", Number(2), Number(3), ""},
		{Number(-7), "/", Number(2), Number(-3), ""}, // toward zero
		{Number(math.MinInt64), "/", Number(-1), Number(math.MinInt64), ""},
		{Number(7), "/", Number(0), nil, "division by zero"},
		{Number(7), "/", nil, nil, "/: cannot apply to number and null"},

		{Number(7), "%", Number(3), Number(1), ""},
		{Number(-7), "%", Number(3), Number(-1), ""},
		{Number(7), "%", Number(-3), Number(1), ""},
		{Number(7), "%", Number(0), nil, "%: division by zero"},
		{Data("x"), "%", Number(3), nil, "datablock and number"},

		{Number(1), "<", Number(2), Yes, ""},
		{Number(2), "<", Number(2), nil, ""},
		{Number(2), "<=", Number(2), Yes, ""},
		{Number(-1), ">", Number(-2), Yes, ""},
		{Number(3), ">=", Number(4), nil, ""},
		{String("B"), "<", String("a"), Yes, ""}, // byte-wise, case-sensitive
		{String("abc"), "<", String("abd"), Yes, ""},
		{String(""), "<", String("a"), Yes, ""},
		{String("é"), ">", String("z"), Yes, ""},
		{Data("\x00"), "<", Data("\x01"), Yes, ""},
		{t0, "<", ltTime(2027, 1, 1, 0, 0, 0), Yes, ""},
		{RemotePast, "<", ltTime(1, 1, 1, 0, 0, 0), Yes, ""},
		{RemoteFuture, ">", ltTime(9999, 1, 1, 0, 0, 0), Yes, ""},
		{RemoteFuture, ">=", RemoteFuture, Yes, ""},
		{ltIP("10.0.0.1", 0), "<", ltIP("10.0.0.2", 0), Yes, ""},
		{ltIP("10.0.0.1", 5060), ">", ltIP("10.0.0.1", 0), Yes, ""},
		{Number(1), "<", String("2"), nil, "comparison: cannot apply to number and string"},
		{nil, "<", nil, nil, "null and null"},
		{NewArray(), "<", NewArray(), nil, "array and array"},
		{NewDict(), ">", NewDict(), nil, "dictionary and dictionary"},
		{t0, "<", Number(1), nil, "timestamp and number"},
	}
	for _, c := range cases {
		got, err := ops[c.op](c.a, c.b)
		desc := ObjectToString(c.a) + " " + c.op + " " + ObjectToString(c.b)
		if c.exc != "" {
			var e *Exception
			if !errors.As(err, &e) || !strings.Contains(e.Msg, c.exc) {
				t.Errorf("%s: got %v, %v; want exception %q", desc, ObjectToString(got), err, c.exc)
			}
			continue
		}
		if err != nil || !Equals(got, c.want) {
			t.Errorf("%s = %s, %v; want %s", desc, ObjectToString(got), err, ObjectToString(c.want))
		}
	}
}

func TestUnaryAndLogical(t *testing.T) {
	if v, err := Neg(Number(5)); err != nil || v != Number(-5) {
		t.Errorf("-5: %v %v", v, err)
	}
	if v, err := Neg(Number(math.MinInt64)); err != nil || v != Number(math.MinInt64) {
		t.Errorf("-MinInt64: %v %v", v, err)
	}
	if _, err := Neg(String("5")); err == nil || !strings.Contains(err.Error(), "unary -: cannot apply to string") {
		t.Errorf(`-"5": %v`, err)
	}
	if _, err := Neg(nil); err == nil {
		t.Error("-null: no exception")
	}
	truth := []struct {
		a, b          Value
		and, or, xor_ Value
	}{
		{nil, nil, nil, nil, nil},
		{Yes, nil, nil, Yes, Yes},
		{nil, Number(0), nil, Yes, Yes},
		{String(""), Number(0), Yes, Yes, nil}, // any non-null value is true
	}
	for _, c := range truth {
		if And(c.a, c.b) != c.and || Or(c.a, c.b) != c.or || Xor(c.a, c.b) != c.xor_ {
			t.Errorf("and/or/xor(%v, %v) = %v %v %v", c.a, c.b, And(c.a, c.b), Or(c.a, c.b), Xor(c.a, c.b))
		}
	}
	if Not(nil) != Yes || Not(Number(0)) != nil || Not(String("")) != nil {
		t.Error("Not")
	}
	if !Truth(Number(0)) || Truth(nil) {
		t.Error("Truth")
	}
}

func TestEqual(t *testing.T) {
	a := NewArray(Number(1))
	a.Elems = append(a.Elems, a) // contains itself
	b := NewArray(Number(1))
	b.Elems = append(b.Elems, b)
	c := NewArray(Number(2))
	c.Elems = append(c.Elems, c)
	h := &ltHandle{"Task"}
	cases := []struct {
		a, b Value
		want bool
	}{
		{nil, nil, true},
		{nil, String(""), false},
		{String("a"), String("a"), true},
		{String("a"), String("A"), false},
		{String("1"), Number(1), false},
		{Number(1), Number(1), true},
		{Data("x"), Data("x"), true},
		{Data("x"), String("x"), false},
		{Data{}, Data(nil), true},
		{ltTime(2020, 1, 1, 0, 0, 0), ltTime(2020, 1, 1, 0, 0, 0), true},
		{RemotePast, RemotePast, true},
		{RemotePast, RemoteFuture, false},
		{ltIP("::1", 5060), ltIP("::1", 5060), true},
		{ltIP("::1", 5060), ltIP("::1", 0), false},
		{ltV(t, "(a,(b,{c=#1;}))"), ltV(t, "(a,(b,{c=#1;}))"), true},
		{ltV(t, "(a,(b,{c=#1;}))"), ltV(t, "(a,(b,{c=#2;}))"), false},
		{ltV(t, "(a,b)"), ltV(t, "(a)"), false},
		{ltV(t, "{a=b;}"), ltV(t, "{a=b;c=d;}"), false},
		{ltV(t, "{a=b;}"), ltV(t, "{A=b;}"), false},
		{ltV(t, "()"), ltV(t, "{}"), false},
		{a, a, true},
		{a, b, true},
		{a, c, false},
		{h, h, true},
		{h, &ltHandle{"Task"}, false},
		{ltSliceHandle{1}, ltSliceHandle{1}, false}, // not comparable: no panic
		{h, nil, false},
	}
	for _, c := range cases {
		if got := Equals(c.a, c.b); got != c.want {
			t.Errorf("Equals(%s, %s) = %v", ObjectToString(c.a), ObjectToString(c.b), got)
		}
		if got := Equals(c.b, c.a); got != c.want {
			t.Errorf("Equals(%s, %s) = %v (reversed)", ObjectToString(c.b), ObjectToString(c.a), got)
		}
		if (Equal(c.a, c.b) != nil) != c.want || (NotEqual(c.a, c.b) != nil) == c.want {
			t.Errorf("Equal/NotEqual(%s, %s)", ObjectToString(c.a), ObjectToString(c.b))
		}
	}
}

func TestIndexAndMember(t *testing.T) {
	arr := ltV(t, "(a,b,c)").(*Array)
	dict := ltV(t, `{one=#1;two=four;three=#9;}`).(*Dict)
	reads := []struct {
		c, idx Value
		want   Value
		exc    string
	}{
		{arr, Number(0), String("a"), ""},
		{arr, Number(2), String("c"), ""},
		{arr, Number(3), nil, ""},
		{arr, Number(-1), nil, ""},
		{arr, String("1"), String("b"), ""}, // a decimal string works as an index
		{arr, String("x"), nil, "array index must be a number, not string"},
		{arr, nil, nil, "not null"},
		{dict, Number(0), String("one"), ""}, // keys in sorted order: one, three, two
		{dict, Number(1), String("three"), ""},
		{dict, Number(2), String("two"), ""},
		{dict, Number(3), nil, ""},
		{dict, Number(-1), nil, ""},
		{dict, String("two"), String("four"), ""},
		{dict, String("five"), nil, ""},
		{dict, Yes, nil, ""}, // the key "YES"
		{dict, NewArray(), nil, "dictionary index must be a number or a string, not array"},
		{nil, Number(0), nil, ""},
		{String("abc"), Number(0), nil, "cannot index string"},
		{Number(1), Number(0), nil, "cannot index number"},
	}
	for _, r := range reads {
		got, err := Index(r.c, r.idx)
		if r.exc != "" {
			if err == nil || !strings.Contains(err.Error(), r.exc) {
				t.Errorf("%s[%s]: %v; want exception %q", ObjectToString(r.c), ObjectToString(r.idx), err, r.exc)
			}
			continue
		}
		if err != nil || !Equals(got, r.want) {
			t.Errorf("%s[%s] = %s, %v; want %s", ObjectToString(r.c), ObjectToString(r.idx), ObjectToString(got), err, ObjectToString(r.want))
		}
	}

	// Writes.
	a := NewArray()
	for i, s := range []string{"x", "y"} {
		if err := SetIndex(a, Number(i), String(s)); err != nil { // appends at len
			t.Fatal(err)
		}
	}
	if err := SetIndex(a, Number(0), String("z")); err != nil {
		t.Fatal(err)
	}
	if err := SetIndex(a, String("1"), nil); err != nil { // null elements are allowed
		t.Fatal(err)
	}
	if got := ObjectToString(a); got != "(z,#null#)" {
		t.Errorf("array after writes: %s", got)
	}
	for _, bad := range []struct {
		c, idx Value
		exc    string
	}{
		{a, Number(3), "index 3 is out of range for an array of 2 elements"},
		{a, Number(-1), "out of range"},
		{a, Yes, "array index must be a number"},
		{dict, Number(0), "cannot assign through a numeric dictionary index"},
		{dict, Data("k"), "dictionary index must be a string"},
		{nil, Number(0), "cannot index null"},
		{String("s"), Number(0), "cannot index string"},
	} {
		if err := SetIndex(bad.c, bad.idx, Number(1)); err == nil || !strings.Contains(err.Error(), bad.exc) {
			t.Errorf("%s[%s] = 1: %v; want %q", ObjectToString(bad.c), ObjectToString(bad.idx), err, bad.exc)
		}
	}
	d := NewDict()
	if err := SetIndex(d, String("k"), Number(1)); err != nil {
		t.Fatal(err)
	}
	if err := SetMember(d, "Content-Type", String("text")); err != nil {
		t.Fatal(err)
	}
	if got := ObjectToString(d); got != `{"Content-Type"=text;k=#1;}` {
		t.Errorf("dict after writes: %s", got)
	}
	if v, err := Member(d, "k"); err != nil || v != Number(1) {
		t.Errorf("d.k = %v, %v", v, err)
	}
	if v, err := Member(d, "K"); err != nil || v != nil { // case-sensitive by default
		t.Errorf("d.K = %v, %v", v, err)
	}
	if err := SetMember(d, "k", nil); err != nil || d.Len() != 1 { // null removes
		t.Errorf("d.k = null: %v, len %d", err, d.Len())
	}
	if err := SetMember(d, "absent", nil); err != nil || d.Len() != 1 {
		t.Errorf("removing an absent key: %v", err)
	}
	if v, err := Member(nil, "x"); err != nil || v != nil {
		t.Errorf("null.x = %v, %v", v, err)
	}
	if _, err := Member(NewArray(), "x"); err == nil || !strings.Contains(err.Error(), ".x: array is not a dictionary") {
		t.Errorf("array.x: %v", err)
	}
	if err := SetMember(nil, "x", Number(1)); err == nil || !strings.Contains(err.Error(), "null is not a dictionary") {
		t.Errorf("null.x = 1: %v", err)
	}
	// Case-insensitive dictionaries.
	ci := ltV(t, "{Alpha=#1;beta=#2;}").(*Dict)
	ci.SetCaseSensitive(false)
	if v, _ := Member(ci, "ALPHA"); v != Number(1) {
		t.Errorf("case-insensitive member: %v", v)
	}
	if v, _ := Index(ci, String("BETA")); v != Number(2) {
		t.Errorf("case-insensitive index: %v", v)
	}
}

func TestTypeName(t *testing.T) {
	cases := map[string]Value{
		"null": nil, "string": String(""), "number": Number(0), "datablock": Data{},
		"timestamp": RemotePast, "IP address": IP{}, "array": NewArray(), "dictionary": NewDict(),
		"Task handle": &ltHandle{"Task"},
	}
	for want, v := range cases {
		if got := TypeName(v); got != want {
			t.Errorf("TypeName(%T) = %q, want %q", v, got, want)
		}
	}
	if got := TypeName(struct{}{}); got != "unknown value" {
		t.Errorf("TypeName(struct) = %q", got)
	}
}

func TestTimeHelpers(t *testing.T) {
	if got := TimeOf(time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)); got != RemotePast {
		t.Errorf("TimeOf(year 0) = %v", got)
	}
	if got := TimeOf(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); got != RemoteFuture {
		t.Errorf("TimeOf(year 10000) = %v", got)
	}
	local := time.Date(2026, 1, 1, 12, 0, 0, 0, time.FixedZone("X", 7200))
	if got := TimeOf(local); got.T.Location() != time.UTC || got.T.Hour() != 10 {
		t.Errorf("TimeOf(+02:00) = %v", got.T)
	}
	// Differences round toward zero to whole seconds.
	a := Time{T: time.Date(2026, 1, 1, 0, 0, 10, 100, time.UTC)}
	b := Time{T: time.Date(2026, 1, 1, 0, 0, 0, 200, time.UTC)}
	if d := timeDiff(a, b); d != 9 {
		t.Errorf("10s-100ns minus 200ns = %d", d)
	}
	if d := timeDiff(b, a); d != -9 {
		t.Errorf("reverse = %d", d)
	}
}

func TestParseDecimal(t *testing.T) {
	cases := []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"+42", 42, true}, {"-42", -42, true},
		{"9223372036854775807", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"99999999999999999999999", 0, false}, {"", 0, false}, {"-", 0, false}, {"+", 0, false},
		{"1a", 0, false}, {" 1", 0, false}, {"1.0", 0, false},
	}
	for _, c := range cases {
		if n, ok := parseDecimal(c.in); n != c.n || ok != c.ok {
			t.Errorf("parseDecimal(%q) = %d, %v", c.in, n, ok)
		}
	}
}
