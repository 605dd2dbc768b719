package cgpl

import "testing"

func TestDictionaryFunctions(t *testing.T) {
	d1, _ := ltCall(t, "NewDictionary")
	d2, _ := ltCall(t, "NewDictionary")
	if d1.(*Dict) == d2.(*Dict) || d1.(*Dict).Len() != 0 {
		t.Fatal("NewDictionary does not return a new empty dictionary")
	}
	d := ltV(t, `{Alpha=#1;alpha=#2;Beta=#3;}`).(*Dict)
	if v, err := ltCall(t, "SetCaseSensitive", d, nil); err != nil || v != nil {
		t.Fatalf("SetCaseSensitive: %v, %v", v, err)
	}
	// "Alpha" and "alpha" fold together: the one sorting last wins.
	if got := ObjectToString(d); got != "{alpha=#2;beta=#3;}" {
		t.Errorf("case-insensitive dictionary: %s", got)
	}
	if v, _ := Member(d, "BETA"); v != Number(3) {
		t.Errorf("d.BETA = %v", v)
	}
	if err := SetMember(d, "GAMMA", Number(4)); err != nil {
		t.Fatal(err)
	}
	if v, _ := Member(d, "gamma"); v != Number(4) {
		t.Errorf("d.gamma = %v", v)
	}
	if _, err := ltCall(t, "SetCaseSensitive", d, Yes); err != nil {
		t.Fatal(err)
	}
	if v, _ := Member(d, "GAMMA"); v != nil {
		t.Errorf("case-sensitive again, d.GAMMA = %v", v)
	}
	ltRun(t, []ltCase{
		{fn: "SetCaseSensitive", args: []Value{NewArray(), nil}, exc: "^SetCaseSensitive: the target must be a dictionary, not array$"},
		{fn: "SetCaseSensitive", args: []Value{nil, Yes}, exc: "not null"},
		{fn: "Length", args: []Value{ltV(t, "{a=b;c=d;}")}, want: Number(2)},
	})
	// Copy keeps case-insensitivity.
	c := CopyValue(d).(*Dict)
	c.SetCaseSensitive(false)
	d.SetCaseSensitive(false)
	if v, _ := Member(CopyValue(d), "ALPHA"); v != Number(2) {
		t.Errorf("copy of a case-insensitive dictionary: %v", v)
	}
}
