package cgpl

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestObjectToJSON(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{nil, "null"},
		{String("a"), `"a"`},
		{String("q\"\\/\n\r\t\x01\x7f<&>"), `"q\"\\/\n\r\t\u0001\u007f<&>"`},
		{String("é🎉"), `"é🎉"`},
		{String("\xffx"), `"\ufffdx"`},
		{String("\u2028"), `"\u2028"`},
		{Number(-12), "-12"},
		{Data("Hello"), `"SGVsbG8="`},
		{ltTime(2008, 11, 5, 10, 20, 30), `"Wed, 05 Nov 2008 10:20:30 +0000"`},
		{Time{T: time.Date(2008, 11, 5, 10, 20, 30, 0, time.FixedZone("X", 3600))}, `"Wed, 05 Nov 2008 09:20:30 +0000"`},
		{RemotePast, `"#TPAST"`},
		{RemoteFuture, `"#TFUTURE"`},
		{ltIP("10.0.0.1", 5060), `"[10.0.0.1]:5060"`},
		{NewArray(), "[]"},
		{NewDict(), "{}"},
		{ltV(t, `(#1,a,#null#,(),{})`), `[1,"a",null,[],{}]`},
		{ltV(t, `{b=#2;a=(x);"k y"={};}`), `{"a":["x"],"b":2,"k y":{}}`},
		{&ltHandle{"Task"}, "null"},
	}
	for _, c := range cases {
		got, err := ObjectToJSON(c.v)
		if err != nil || got != c.want {
			t.Errorf("ObjectToJSON(%s) = %s, %v; want %s", ObjectToString(c.v), got, err, c.want)
		}
	}
	a := NewArray(Number(1))
	a.Elems = append(a.Elems, a)
	if got, _ := ObjectToJSON(a); got != "[1,null]" {
		t.Errorf("cyclic array: %s", got)
	}
	if _, err := objectToJSONLimit(NewArray(String("0123456789")), 4); err == nil {
		t.Error("no error past the size limit")
	}
}

func TestJSONToObject(t *testing.T) {
	cases := []struct {
		in   string
		want Value
	}{
		{"null", nil},
		{" true ", Yes},
		{"false", nil},
		{"0", Number(0)},
		{"-0", Number(0)},
		{"-42", Number(-42)},
		{"9223372036854775807", Number(9223372036854775807)},
		{"9223372036854775808", String("9223372036854775808")},
		{"1.5", String("1.5")},
		{"1e3", String("1e3")},
		{"2.0", String("2.0")},
		{`"a\"\\\/\b\f\n\r\t\u00e9\ud83c\udf89"`, String("a\"\\/\b\f\n\r\té🎉")},
		{`"\ud800"`, String("\uFFFD")},
		{"\"\xff\"", String("\uFFFD")},
		{"[]", NewArray()},
		{"{}", NewDict()},
		{`[1, "x", null, false, true, [2], {"k": "v"}]`, NewArray(Number(1), String("x"), nil, nil, Yes, NewArray(Number(2)), ltDict("k", String("v")))},
		{`{"b": 1, "a": {"c": []}, "n": null, "f": false}`, ltDict("a", ltDict("c", NewArray()), "b", Number(1))},
		{`{"a": 1, "a": 2}`, ltDict("a", Number(2))},
		{`{"": 0}`, ltDict("", Number(0))},
		{"\n\t[ 1 ,\n 2 ]\n", NewArray(Number(1), Number(2))},
	}
	for _, c := range cases {
		got, err := JSONToObject(c.in)
		if err != nil || !Equals(got, c.want) {
			t.Errorf("JSONToObject(%q) = %s, %v; want %s", c.in, ObjectToString(got), err, ObjectToString(c.want))
		}
	}
	bad := []string{
		"", "   ", "nul", "[1,]", "[1 2]", "{\"a\" 1}", "{1:2}", "{\"a\":}", "[", "{", `"abc`, "01",
		"1 2", "[] []", "'a'", "NaN", "{\"a\":1,}", "\"\x01\"",
		strings.Repeat("[", MaxNesting+1) + strings.Repeat("]", MaxNesting+1),
	}
	for _, s := range bad {
		v, err := JSONToObject(s)
		var je *JSONError
		if !errors.As(err, &je) || v != nil {
			t.Errorf("JSONToObject(%q) = %s, %v; want a JSONError", s, ObjectToString(v), err)
		} else if !strings.HasPrefix(err.Error(), "JSON: ") {
			t.Errorf("error text %q", err.Error())
		}
	}
	ok := strings.Repeat("[", MaxNesting) + strings.Repeat("]", MaxNesting)
	if _, err := JSONToObject(ok); err != nil {
		t.Errorf("%d levels: %v", MaxNesting, err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	values := []Value{
		nil, String(""), String("é \"q\" \\ \n \x01"), Number(-9223372036854775808), Number(9223372036854775807),
		NewArray(), NewDict(),
		ltV(t, `(#1,(#2,(#3,{a=(b,{c="d e";});})),"x y",#null#)`),
		ltV(t, `{list=(#1,#2);nested={deeper={x=y;};};""=empty;}`),
	}
	for _, v := range values {
		js, err := ObjectToJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := JSONToObject(js)
		if err != nil || !Equals(back, v) {
			t.Errorf("JSON round trip of %s via %s gave %s, %v", ObjectToString(v), js, ObjectToString(back), err)
		}
	}
}
