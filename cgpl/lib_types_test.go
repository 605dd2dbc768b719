package cgpl

import (
	"strings"
	"testing"
)

func TestTypeTests(t *testing.T) {
	values := []Value{nil, String("s"), Number(1), ltTime(2020, 1, 1, 0, 0, 0), ltIP("::1", 0), Data("d"), NewArray(), NewDict(), &ltHandle{"Task"}, &ltHandle{"Mailbox"}}
	tests := map[string]int{ // the index in values that passes each test (-1: none)
		"IsString": 1, "IsNumber": 2, "IsDate": 3, "IsIPAddress": 4, "IsData": 5,
		"IsArray": 6, "IsDictionary": 7, "IsTask": 8, "IsXML": -1,
	}
	for fn, yes := range tests {
		for i, v := range values {
			got, err := ltCall(t, fn, v)
			if err != nil || (got != nil) != (i == yes) {
				t.Errorf("%s(%s) = %v, %v", fn, ObjectToString(v), got, err)
			}
			if got != nil && got != Yes {
				t.Errorf("%s returned %v, not YES", fn, got)
			}
		}
	}
	classes := []Value{nil, String("STString"), String("STNumber"), String("STDate"), String("STIPAddress"), String("STData"),
		String("STArray"), String("STDictionary"), String("Task"), String("Mailbox")}
	for i, v := range values {
		if got, _ := ltCall(t, "ObjectClass", v); !Equals(got, classes[i]) {
			t.Errorf("ObjectClass(%s) = %v, want %v", ObjectToString(v), got, classes[i])
		}
	}
	if got := ObjectClassOf(Handle(nil)); got != nil {
		t.Errorf("ObjectClass of a nil handle = %v", got)
	}
	ltRun(t, []ltCase{
		{fn: "Length", args: []Value{String("привет")}, want: Number(12)}, // bytes
		{fn: "Length", args: []Value{String("")}, want: Number(0)},
		{fn: "Length", args: []Value{Data("abc")}, want: Number(3)},
		{fn: "Length", args: []Value{ltV(t, "(a,b,(c,d))")}, want: Number(3)},
		{fn: "Length", args: []Value{ltV(t, "{a=b;}")}, want: Number(1)},
		{fn: "Length", args: []Value{nil}, want: Number(0)},
		{fn: "Length", args: []Value{Number(12345)}, want: Number(0)},
		{fn: "Length", args: []Value{RemotePast}, want: Number(0)},
		{fn: "Length", args: []Value{&ltHandle{"Task"}}, want: Number(0)},
		{fn: "Void", args: []Value{Number(1)}, want: nil},
		{fn: "Void", args: []Value{nil}, want: nil},
	})
}

func TestSame(t *testing.T) {
	x := String("my " + strings.Repeat("string", 1)) // built at run time, like a program's strings
	y := String(strings.Clone(string(x)))
	z := x
	arr := NewArray()
	h := &ltHandle{"Task"}
	isTrue, _ := ltCall(t, "IsString", String("a"))
	built, _ := Add(String("J"), String("ack"))
	cases := []struct {
		a, b Value
		want bool
	}{
		{built, String("Jack"), false}, // the vendor's example
		{x, y, false},
		{x, x, true},
		{x, z, true},
		{nil, nil, true},
		{isTrue, Yes, true}, // both true-values
		{Yes, String(strings.Clone("YES")), true},
		{nil, String(""), false},
		{arr, arr, true},
		{arr, NewArray(), false},
		{NewDict(), NewDict(), false},
		{Number(5), Number(5), true}, // no identity for numbers
		{Number(5), String("5"), false},
		{RemotePast, RemotePast, true},
		{ltIP("::1", 1), ltIP("::1", 1), true},
		{Data("ab"), Data("ab"), false},
		{h, h, true},
		{h, &ltHandle{"Task"}, false},
		{ltSliceHandle{}, ltSliceHandle{}, false},
	}
	for _, c := range cases {
		got, err := ltCall(t, "Same", c.a, c.b)
		if err != nil || (got != nil) != c.want {
			t.Errorf("Same(%s, %s) = %v, %v", ObjectToString(c.a), ObjectToString(c.b), got, err)
		}
	}
	d := Data("xy")
	if !SameObject(d, d) || SameObject(d, d[:1]) {
		t.Error("Same on datablocks")
	}
}

func TestCopy(t *testing.T) {
	inner := NewArray(String("x"))
	src := ltDict("a", inner, "b", inner, "s", String("str"), "d", Data("dd"), "n", Number(1), "h", &ltHandle{"Task"})
	src.Set("self", src)
	v, err := ltCall(t, "Copy", src)
	if err != nil {
		t.Fatal(err)
	}
	c := v.(*Dict)
	if c == src || !Equals(c, src) {
		t.Fatalf("Copy: %s", ObjectToString(c))
	}
	ca, cb := c.Get("a").(*Array), c.Get("b").(*Array)
	if ca == inner || ca != cb {
		t.Error("Copy: the inner array is not copied once and shared in the copy")
	}
	if c.Get("self") != c {
		t.Error("Copy: the cycle does not point to the copy")
	}
	if SameObject(c.Get("s"), src.Get("s")) || SameObject(c.Get("d"), src.Get("d")) {
		t.Error("Copy: strings and datablocks keep their storage")
	}
	if c.Get("h") != src.Get("h") {
		t.Error("Copy: a handle is not kept")
	}
	ca.Elems[0] = String("changed")
	if inner.Elems[0] != String("x") {
		t.Error("Copy: changing the copy changed the original")
	}
	ltRun(t, []ltCase{
		{fn: "Copy", args: []Value{nil}, want: nil},
		{fn: "Copy", args: []Value{Number(3)}, want: Number(3)},
		{fn: "Copy", args: []Value{RemoteFuture}, want: RemoteFuture},
		{fn: "Copy", args: []Value{ltV(t, "(a,(b,{c=#1;}))")}, want: ltV(t, "(a,(b,{c=#1;}))")},
	})
}
