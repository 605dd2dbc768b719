package cgpl

import "testing"

func TestNumberFunctions(t *testing.T) {
	t1, t2 := ltTime(2020, 1, 1, 0, 0, 0), ltTime(2021, 1, 1, 0, 0, 0)
	ltRun(t, []ltCase{
		{fn: "Min", args: []Value{Number(3), Number(-2)}, want: Number(-2)},
		{fn: "Min", args: []Value{Number(3), Number(3)}, want: Number(3)},
		{fn: "Max", args: []Value{Number(3), Number(-2)}, want: Number(3)},
		{fn: "Min", args: []Value{String("b"), String("a")}, want: String("a")},
		{fn: "Max", args: []Value{String("b"), String("a")}, want: String("b")},
		{fn: "Min", args: []Value{t1, t2}, want: t1},
		{fn: "Max", args: []Value{t1, RemoteFuture}, want: RemoteFuture},
		{fn: "Min", args: []Value{Number(1), String("1")}, exc: "^Min: comparison: cannot apply to number and string$"},
		{fn: "Max", args: []Value{nil, Number(1)}, exc: "^Max: comparison: cannot apply to null and number$"},
		{fn: "Max", args: []Value{NewArray(), NewArray()}, exc: "array and array"},
	})
	seen := map[Value]bool{}
	for range 50 {
		v, err := ltCall(t, "RandomNumber")
		n, ok := v.(Number)
		if err != nil || !ok || n < 0 {
			t.Fatalf("RandomNumber() = %v, %v", v, err)
		}
		seen[v] = true
	}
	if len(seen) < 45 {
		t.Errorf("RandomNumber: only %d distinct values of 50", len(seen))
	}
}
