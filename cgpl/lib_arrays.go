package cgpl

import "slices"

// This file holds the array functions (spec §4.7). The procedures
// (AddElement, InsertElement, RemoveElement, SortStrings) return null.

// AddElement appends x to an array, or adds x (a string: text; an XML
// object: a sub-element, shared) to an XML object; anything else raises.
func AddElement(target, x Value) error {
	switch t := target.(type) {
	case *Array:
		t.Elems = append(t.Elems, x)
		return nil
	case *XML:
		switch e := x.(type) {
		case String:
			if err := t.AddText(string(e)); err != nil {
				return Throw("AddElement: %v", err)
			}
		case *XML:
			if err := t.AddChild(e); err != nil {
				return Throw("AddElement: %v", err)
			}
		default:
			return Throw("AddElement: an XML object takes a string or an XML object, not %s", TypeName(x))
		}
		return nil
	}
	return Throw("AddElement: the target must be an array or an XML object, not %s", TypeName(target))
}

// InsertElement inserts x before index i (a number or a decimal string,
// 0..length; length appends); anything else raises.
func InsertElement(target, idx, x Value) error {
	a, ok := target.(*Array)
	if !ok {
		return Throw("InsertElement: the target must be an array, not %s", TypeName(target))
	}
	i, ok := opIndexNumber(idx)
	if !ok {
		return Throw("InsertElement: the index must be a number, not %s", TypeName(idx))
	}
	if i < 0 || i > int64(len(a.Elems)) {
		return Throw("InsertElement: index %d is out of range for an array of %d elements", i, len(a.Elems))
	}
	a.Elems = slices.Insert(a.Elems, int(i), x)
	return nil
}

// RemoveElement removes element i (a number or a decimal string) of an
// array; an index out of range removes nothing. A target that is not an
// array, or an index that is not a number, raises.
func RemoveElement(target, idx Value) error {
	a, ok := target.(*Array)
	if !ok {
		return Throw("RemoveElement: the target must be an array, not %s", TypeName(target))
	}
	i, ok := opIndexNumber(idx)
	if !ok {
		return Throw("RemoveElement: the index must be a number, not %s", TypeName(idx))
	}
	if i >= 0 && i < int64(len(a.Elems)) {
		a.Elems = slices.Delete(a.Elems, int(i), int(i)+1)
	}
	return nil
}

// Invert returns a new array with the elements of arr in reverse order;
// anything else raises.
func Invert(arr Value) (Value, error) {
	a, ok := arr.(*Array)
	if !ok {
		return nil, Throw("Invert: the argument must be an array, not %s", TypeName(arr))
	}
	r := &Array{Elems: slices.Clone(a.Elems)}
	slices.Reverse(r.Elems)
	return r, nil
}

// Find returns the index of the first element of arr equal (==) to x, or
// -1; -1 too when arr is not an array.
func Find(arr, x Value) Value {
	a, ok := arr.(*Array)
	if !ok {
		return Number(-1)
	}
	for i, e := range a.Elems {
		if Equals(e, x) {
			return Number(i)
		}
	}
	return Number(-1)
}

// SortStrings sorts an array of strings in place, case-insensitively
// (strings equal but for case keep a byte-wise order). A non-array, or an
// element that is not a string, raises.
func SortStrings(arr Value) error {
	a, ok := arr.(*Array)
	if !ok {
		return Throw("SortStrings: the argument must be an array, not %s", TypeName(arr))
	}
	for i, e := range a.Elems {
		if _, ok := e.(String); !ok {
			return Throw("SortStrings: element %d is %s, not a string", i, TypeName(e))
		}
	}
	// Ties are broken byte by byte, so only identical strings compare equal
	// and a stable sort would buy nothing.
	slices.SortFunc(a.Elems, func(x, y Value) int {
		sx, sy := string(x.(String)), string(y.(String))
		if c := compareFold(sx, sy); c != 0 {
			return c
		}
		switch {
		case sx < sy:
			return -1
		case sx > sy:
			return 1
		}
		return 0
	})
	return nil
}

func libArrays() []Pure {
	return []Pure{
		{Name: "NewArray", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) { return NewArray(), nil }},
		{Name: "AddElement", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) { return nil, AddElement(a[0], a[1]) }},
		{Name: "InsertElement", MinArgs: 3, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			return nil, InsertElement(a[0], a[1], a[2])
		}},
		{Name: "RemoveElement", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) {
			return nil, RemoveElement(a[0], a[1])
		}},
		{Name: "Invert", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return Invert(a[0]) }},
		{Name: "Find", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) { return Find(a[0], a[1]), nil }},
		{Name: "SortStrings", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return nil, SortStrings(a[0]) }},
	}
}
