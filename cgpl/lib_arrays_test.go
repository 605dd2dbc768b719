package cgpl

import (
	"regexp"
	"testing"
)

func TestArrayFunctions(t *testing.T) {
	sq := func() *Array { return ltV(t, "(#1,#4,#9,#16,#25)").(*Array) }
	procs := []struct {
		fn   string
		args func(a *Array) []Value
		want string // the array afterwards, or the exception
		exc  bool
	}{
		{"AddElement", func(a *Array) []Value { return []Value{a, String("test")} }, "(#1,#4,#9,#16,#25,test)", false},
		{"AddElement", func(a *Array) []Value { return []Value{a, nil} }, "(#1,#4,#9,#16,#25,#null#)", false},
		{"AddElement", func(a *Array) []Value { return []Value{a, a} }, "(#1,#4,#9,#16,#25,#null#)", false}, // itself: printed as #null#
		{"AddElement", func(*Array) []Value { return []Value{NewDict(), Number(1)} }, "AddElement: the target must be an array or an XML object, not dictionary", true},
		{"AddElement", func(*Array) []Value { return []Value{nil, Number(1)} }, "not null", true},
		{"InsertElement", func(a *Array) []Value { return []Value{a, Number(2), String("Jack")} }, "(#1,#4,Jack,#9,#16,#25)", false},
		{"InsertElement", func(a *Array) []Value { return []Value{a, String("0"), Number(0)} }, "(#0,#1,#4,#9,#16,#25)", false},
		{"InsertElement", func(a *Array) []Value { return []Value{a, Number(5), Number(36)} }, "(#1,#4,#9,#16,#25,#36)", false},
		{"InsertElement", func(a *Array) []Value { return []Value{a, Number(6), Number(36)} }, "InsertElement: index 6 is out of range for an array of 5 elements", true},
		{"InsertElement", func(a *Array) []Value { return []Value{a, Number(-1), Number(0)} }, "out of range", true},
		{"InsertElement", func(a *Array) []Value { return []Value{a, String("x"), Number(0)} }, "InsertElement: the index must be a number, not string", true},
		{"InsertElement", func(*Array) []Value { return []Value{String("s"), Number(0), Number(0)} }, "the target must be an array, not string", true},
		{"RemoveElement", func(a *Array) []Value { return []Value{a, Number(2)} }, "(#1,#4,#16,#25)", false},
		{"RemoveElement", func(a *Array) []Value { return []Value{a, String("4")} }, "(#1,#4,#9,#16)", false},
		{"RemoveElement", func(a *Array) []Value { return []Value{a, Number(5)} }, "(#1,#4,#9,#16,#25)", false}, // out of range: nothing
		{"RemoveElement", func(a *Array) []Value { return []Value{a, Number(-1)} }, "(#1,#4,#9,#16,#25)", false},
		{"RemoveElement", func(a *Array) []Value { return []Value{a, nil} }, "RemoveElement: the index must be a number, not null", true},
		{"RemoveElement", func(*Array) []Value { return []Value{Number(1), Number(0)} }, "the target must be an array, not number", true},
	}
	for _, p := range procs {
		a := sq()
		args := p.args(a)
		v, err := ltCall(t, p.fn, args...)
		if p.exc {
			if err == nil || !ltMatch(p.want, err.Error()) {
				t.Errorf("%s(%s): %v; want exception %q", p.fn, ltArgs(args), err, p.want)
			}
			continue
		}
		if err != nil || v != nil {
			t.Errorf("%s(%s) = %v, %v", p.fn, ltArgs(args), v, err)
		}
		if got := ObjectToString(a); got != p.want {
			t.Errorf("%s: array is %s, want %s", p.fn, got, p.want)
		}
	}

	orig := sq()
	inv, err := ltCall(t, "Invert", orig)
	if err != nil || ObjectToString(inv) != "(#25,#16,#9,#4,#1)" || ObjectToString(orig) != "(#1,#4,#9,#16,#25)" {
		t.Errorf("Invert = %s, %v; original now %s", ObjectToString(inv), err, ObjectToString(orig))
	}
	ltRun(t, []ltCase{
		{fn: "NewArray", want: NewArray()},
		{fn: "Invert", args: []Value{NewArray()}, want: NewArray()},
		{fn: "Invert", args: []Value{String("abc")}, exc: "^Invert: the argument must be an array, not string$"},
		{fn: "Find", args: []Value{sq(), Number(9)}, want: Number(2)},
		{fn: "Find", args: []Value{sq(), Number(10)}, want: Number(-1)},
		{fn: "Find", args: []Value{sq(), String("9")}, want: Number(-1)},
		{fn: "Find", args: []Value{ltV(t, "(a,(b,c),(b,c))"), ltV(t, "(b,c)")}, want: Number(1)},
		{fn: "Find", args: []Value{NewArray(Number(1), nil), nil}, want: Number(1)},
		{fn: "Find", args: []Value{ltV(t, "{a=b;}"), String("b")}, want: Number(-1)},
		{fn: "Find", args: []Value{nil, nil}, want: Number(-1)},
	})
	// NewArray gives a new array each time.
	a1, _ := ltCall(t, "NewArray")
	a2, _ := ltCall(t, "NewArray")
	if a1.(*Array) == a2.(*Array) {
		t.Error("NewArray returned the same array twice")
	}
}

func TestSortStrings(t *testing.T) {
	a := ltV(t, `(banana,Apple,cherry,apple,"Ёж","ёлка","яблоко",Banana,"",B)`).(*Array)
	if v, err := ltCall(t, "SortStrings", a); err != nil || v != nil {
		t.Fatalf("SortStrings: %v, %v", v, err)
	}
	// Case-insensitive by code point (я is U+044F, ё U+0451); equal but for
	// case: byte order.
	if got, want := ObjectToString(a), `("",Apple,apple,B,Banana,banana,cherry,"яблоко","Ёж","ёлка")`; got != want {
		t.Errorf("sorted: %s\nwant:   %s", got, want)
	}
	ltRun(t, []ltCase{
		{fn: "SortStrings", args: []Value{ltV(t, "(a,#1)")}, exc: "^SortStrings: element 1 is number, not a string$"},
		{fn: "SortStrings", args: []Value{NewDict()}, exc: "^SortStrings: the argument must be an array, not dictionary$"},
		{fn: "SortStrings", args: []Value{NewArray()}, want: nil},
	})
}

func ltMatch(pattern, s string) bool {
	ok, err := regexp.MatchString(pattern, s)
	return err == nil && ok
}
