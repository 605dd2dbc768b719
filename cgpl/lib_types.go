package cgpl

import (
	"strings"
	"unsafe"
)

// This file holds the general functions (spec §4.1) and the type tests
// (§4.2).

// SameObject is Same(a, b): both null, both the true value "YES", or the same
// object. Arrays, dictionaries and handles are the same object when they are
// one reference; strings and datablocks when they share storage (so
// Same("J"+"ack", "Jack") is false while x = "..."; Same(x, x) is true).
// Numbers, timestamps and IP addresses carry no identity here: equal values
// are the same.
func SameObject(a, b Value) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case String:
		y, ok := b.(String)
		if !ok {
			return false
		}
		if x == Yes && y == Yes {
			return true
		}
		return len(x) == len(y) && (len(x) == 0 || unsafe.StringData(string(x)) == unsafe.StringData(string(y)))
	case Data:
		y, ok := b.(Data)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case Number, Time, IP:
		return Equals(a, b)
	case *Array:
		y, ok := b.(*Array)
		return ok && x == y
	case *Dict:
		y, ok := b.(*Dict)
		return ok && x == y
	case *XML:
		y, ok := b.(*XML)
		return ok && x == y
	case Handle:
		y, ok := b.(Handle)
		return ok && sameHandle(x, y)
	}
	return false
}

// CopyValue is Copy(x): a deep copy. Arrays, dictionaries and XML objects
// are copied with their elements (sharing and cycles are preserved in the
// copy), strings and datablocks get fresh storage, handles are returned as
// they are.
func CopyValue(v Value) Value {
	return copyValue(v, map[any]Value{})
}

func copyValue(v Value, done map[any]Value) Value {
	switch x := v.(type) {
	case String:
		return String(strings.Clone(string(x)))
	case Data:
		return append(Data{}, x...)
	case *Array:
		if c, ok := done[x]; ok {
			return c
		}
		c := &Array{Elems: make([]Value, len(x.Elems))}
		done[x] = c
		for i, e := range x.Elems {
			c.Elems[i] = copyValue(e, done)
		}
		return c
	case *Dict:
		if c, ok := done[x]; ok {
			return c
		}
		c := &Dict{keys: append([]string(nil), x.Keys()...), vals: make(map[string]Value, len(x.vals)), fold: x.fold}
		done[x] = c
		for _, k := range c.keys {
			c.vals[k] = copyValue(x.vals[k], done)
		}
		return c
	case *XML:
		return x.copyInto(done)
	}
	return v
}

// LengthOf is Length(x): bytes of a string or datablock, elements of an
// array, keys of a dictionary, 0 for anything else.
func LengthOf(v Value) Number {
	switch x := v.(type) {
	case String:
		return Number(len(x))
	case Data:
		return Number(len(x))
	case *Array:
		return Number(len(x.Elems))
	case *Dict:
		return Number(x.Len())
	}
	return 0
}

// ObjectClassOf is ObjectClass(x): STString, STNumber, STData, STDate,
// STIPAddress, STArray, STDictionary, STXML, the kind of a handle, null for
// null.
func ObjectClassOf(v Value) Value {
	switch x := v.(type) {
	case nil:
		return nil
	case String:
		return String("STString")
	case Number:
		return String("STNumber")
	case Data:
		return String("STData")
	case Time:
		return String("STDate")
	case IP:
		return String("STIPAddress")
	case *Array:
		return String("STArray")
	case *Dict:
		return String("STDictionary")
	case *XML:
		return String("STXML")
	case Handle:
		if x == nil {
			return nil
		}
		return String(x.HandleKind())
	}
	return nil
}

// isTaskHandle reports whether v is a handle of kind "Task".
func isTaskHandle(v Value) bool {
	h, ok := v.(Handle)
	return ok && h != nil && strings.EqualFold(h.HandleKind(), "Task")
}

func libTypes() []Pure {
	is := func(name string, test func(Value) bool) Pure {
		return Pure{Name: name, MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return Bool(test(a[0])), nil
		}}
	}
	return []Pure{
		{Name: "Same", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) {
			return Bool(SameObject(a[0], a[1])), nil
		}},
		{Name: "Copy", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return CopyValue(a[0]), nil
		}},
		{Name: "Length", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return LengthOf(a[0]), nil
		}},
		{Name: "Void", MinArgs: 1, MaxArgs: 1, Fn: func([]Value) (Value, error) { return nil, nil }},
		{Name: "ObjectClass", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return ObjectClassOf(a[0]), nil
		}},
		is("IsString", func(v Value) bool { _, ok := v.(String); return ok }),
		is("IsNumber", func(v Value) bool { _, ok := v.(Number); return ok }),
		is("IsDate", func(v Value) bool { _, ok := v.(Time); return ok }),
		is("IsIPAddress", func(v Value) bool { _, ok := v.(IP); return ok }),
		is("IsData", func(v Value) bool { _, ok := v.(Data); return ok }),
		is("IsArray", func(v Value) bool { _, ok := v.(*Array); return ok }),
		is("IsDictionary", func(v Value) bool { _, ok := v.(*Dict); return ok }),
		is("IsXML", func(v Value) bool { _, ok := v.(*XML); return ok }),
		is("IsTask", isTaskHandle),
	}
}
