package cgpl

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Value is a CG/PL value. Its dynamic type is one of:
//
//	nil        null (also "false")
//	String     a string (bytes; Length and Substring count bytes)
//	Number     a 64-bit signed integer
//	Data       a datablock (raw bytes; never modified in place)
//	Time       a timestamp, including the "remote past" and "remote future"
//	IP         an IP address with an optional port
//	*Array     an array, shared by reference
//	*Dict      a dictionary with sorted string keys, shared by reference
//	*XML       an XML object (an element), shared by reference
//	Handle     an object of the host (a task, a call...)
//
// The canonical true value is the string "YES"; any non-null value is true.
type Value any

// String is a CG/PL string.
type String string

// Number is a CG/PL number.
type Number int64

// Data is a CG/PL datablock.
type Data []byte

// Yes is the canonical true value.
const Yes = String("YES")

// Truth reports whether v counts as true (anything but null).
func Truth(v Value) bool { return v != nil }

// Bool converts a Go bool to "YES" or null.
func Bool(b bool) Value {
	if b {
		return Yes
	}
	return nil
}

// Time is a CG/PL timestamp. The zero Special is an ordinary instant.
type Time struct {
	T       time.Time
	Special int8 // -1 remote past, +1 remote future, 0 an instant
}

// RemotePast and RemoteFuture are the two special timestamps.
var (
	RemotePast   = Time{Special: -1}
	RemoteFuture = Time{Special: 1}
)

// Before orders timestamps, the special ones at either end.
func (t Time) Before(u Time) bool {
	if t.Special != u.Special {
		return t.Special < u.Special
	}
	return t.Special == 0 && t.T.Before(u.T)
}

// IP is a CG/PL IP address, with a port when Port is not 0.
type IP struct {
	Addr netip.Addr
	Port uint16
}

// Array is a CG/PL array.
type Array struct {
	Elems []Value
}

// NewArray returns an array holding elems.
func NewArray(elems ...Value) *Array { return &Array{Elems: elems} }

// Dict is a CG/PL dictionary: string keys kept in sorted order. The order is
// established lazily, when Keys is asked for after a change, so that filling
// a dictionary costs O(1) per key rather than a sorted insert each.
type Dict struct {
	// keys holds every key, sorted unless dirty; after a removal it is nil
	// and rebuilt from vals. For a case-insensitive dictionary, folded keys.
	keys  []string
	dirty bool
	vals  map[string]Value
	// fold makes keys case-insensitive (SetCaseSensitive(d, null)).
	fold bool
}

// NewDict returns an empty, case-sensitive dictionary.
func NewDict() *Dict { return &Dict{vals: map[string]Value{}} }

func (d *Dict) norm(k string) string {
	if d.fold {
		return strings.ToLower(k)
	}
	return k
}

// Get returns the value of key k, or nil.
func (d *Dict) Get(k string) Value { return d.vals[d.norm(k)] }

// Set sets key k; setting nil removes the key.
func (d *Dict) Set(k string, v Value) {
	n := d.norm(k)
	_, exists := d.vals[n]
	if v == nil {
		if exists {
			delete(d.vals, n)
			d.keys, d.dirty = nil, true
		}
		return
	}
	if !exists && (d.keys != nil || !d.dirty) {
		d.keys = append(d.keys, n)
		d.dirty = true
	}
	d.vals[n] = v
}

// Keys returns the keys in order; the caller must not modify the slice.
func (d *Dict) Keys() []string {
	if d.dirty {
		if len(d.keys) != len(d.vals) {
			d.keys = make([]string, 0, len(d.vals))
			for k := range d.vals {
				d.keys = append(d.keys, k)
			}
		}
		slices.Sort(d.keys)
		d.dirty = false
	}
	return d.keys
}

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.vals) }

// SetCaseSensitive switches key matching; keys present are folded when it is turned off.
func (d *Dict) SetCaseSensitive(on bool) {
	if on == !d.fold {
		return
	}
	d.fold = !on
	if d.fold {
		// Re-insert in key order, so that when two keys fold together the
		// one sorting last (the lower-case one, for ASCII) wins every time.
		oldKeys, oldVals := d.Keys(), d.vals
		d.keys, d.vals = nil, map[string]Value{}
		for _, k := range oldKeys {
			d.Set(k, oldVals[k])
		}
	}
}

// Handle is an object of the host: a task, a call, a mailbox...
type Handle interface {
	// HandleKind names the kind of object, as ObjectClass reports it.
	HandleKind() string
}
