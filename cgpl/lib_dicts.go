package cgpl

// This file holds the dictionary functions (spec §4.8); element access is
// Index / Member in ops.go.

// SetCaseSensitive makes a dictionary's keys case-sensitive (flag not null)
// or case-insensitive (flag null; keys present are folded to lower case, and
// when two keys fold together the value of the one sorting last, e.g. "a"
// rather than "A", is kept); a target that is not a dictionary raises.
func SetCaseSensitive(target, flag Value) error {
	d, ok := target.(*Dict)
	if !ok {
		return Throw("SetCaseSensitive: the target must be a dictionary, not %s", TypeName(target))
	}
	d.SetCaseSensitive(flag != nil)
	return nil
}

func libDicts() []Pure {
	return []Pure{
		{Name: "NewDictionary", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) { return NewDict(), nil }},
		{Name: "SetCaseSensitive", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) {
			return nil, SetCaseSensitive(a[0], a[1])
		}},
	}
}
