package cgpl

import (
	"bytes"
	"cmp"
	"math"
	"reflect"
	"strings"
	"time"
)

// This file holds the operators on values and element access (spec §3.2,
// §3.3). A type mismatch is a program exception naming both types.

// TypeName names the type of v for messages: "null", "string", "number",
// "datablock", "timestamp", "IP address", "array", "dictionary", "XML
// object", or the kind of a host handle.
func TypeName(v Value) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case String:
		return "string"
	case Number:
		return "number"
	case Data:
		return "datablock"
	case Time:
		return "timestamp"
	case IP:
		return "IP address"
	case *Array:
		return "array"
	case *Dict:
		return "dictionary"
	case *XML:
		return "XML object"
	case Handle:
		if x == nil {
			return "handle"
		}
		return x.HandleKind() + " handle"
	}
	return "unknown value"
}

func opMismatch(op string, a, b Value) error {
	return Throw("%s: cannot apply to %s and %s", op, TypeName(a), TypeName(b))
}

// Timestamps are kept in UTC with whole-second arithmetic; an instant before
// year 1 or after year 9999 becomes the remote past or remote future.
const (
	timeMinUnix = -62135596800 // 0001-01-01 00:00:00 GMT
	timeMaxUnix = 253402300799 // 9999-12-31 23:59:59 GMT
)

// TimeOf makes a CG/PL timestamp of a Go time: in UTC, saturated to the
// remote past or future outside years 1..9999.
func TimeOf(t time.Time) Time {
	s := t.Unix()
	switch {
	case s < timeMinUnix:
		return RemotePast
	case s > timeMaxUnix:
		return RemoteFuture
	}
	return Time{T: t.UTC()}
}

// timeAddSeconds moves an ordinary timestamp by n seconds, saturating.
func timeAddSeconds(t Time, n int64) Time {
	if t.Special != 0 {
		return t
	}
	s := t.T.Unix()
	r, ok := addOverflow(s, n)
	if !ok || r > timeMaxUnix {
		if n > 0 {
			return RemoteFuture
		}
		return RemotePast
	}
	if r < timeMinUnix {
		return RemotePast
	}
	return Time{T: time.Unix(r, int64(t.T.Nanosecond())).UTC()}
}

func addOverflow(a, b int64) (int64, bool) {
	r := a + b
	if (b > 0 && r < a) || (b < 0 && r > a) {
		return r, false
	}
	return r, true
}

// timeDiff is a - b in whole seconds; a special timestamp is infinitely far.
func timeDiff(a, b Time) int64 {
	if a.Special != 0 || b.Special != 0 {
		switch {
		case a.Special == b.Special:
			return 0
		case a.Special > b.Special:
			return math.MaxInt64
		}
		return math.MinInt64
	}
	d := a.T.Unix() - b.T.Unix() // both within years 1..9999: no overflow
	nd := a.T.Nanosecond() - b.T.Nanosecond()
	if nd < 0 && d > 0 {
		d--
	} else if nd > 0 && d < 0 {
		d++
	}
	return d
}

// Add is a + b: numbers add (wrapping on overflow), strings and datablocks
// concatenate, a timestamp plus a number of seconds (either order) is a
// timestamp.
func Add(a, b Value) (Value, error) {
	switch x := a.(type) {
	case Number:
		switch y := b.(type) {
		case Number:
			return x + y, nil
		case Time:
			return timeAddSeconds(y, int64(x)), nil
		}
	case String:
		if y, ok := b.(String); ok {
			return x + y, nil
		}
	case Data:
		if y, ok := b.(Data); ok {
			r := make(Data, 0, len(x)+len(y))
			return append(append(r, x...), y...), nil
		}
	case Time:
		if y, ok := b.(Number); ok {
			return timeAddSeconds(x, int64(y)), nil
		}
	}
	return nil, opMismatch("+", a, b)
}

// Sub is a - b: numbers subtract, a timestamp minus a number of seconds is a
// timestamp, a timestamp minus a timestamp is a number of seconds (the
// remote past and future count as infinitely far: the difference saturates).
func Sub(a, b Value) (Value, error) {
	switch x := a.(type) {
	case Number:
		if y, ok := b.(Number); ok {
			return x - y, nil
		}
	case Time:
		switch y := b.(type) {
		case Number:
			if y == math.MinInt64 {
				return timeAddSeconds(x, math.MaxInt64), nil
			}
			return timeAddSeconds(x, -int64(y)), nil
		case Time:
			return Number(timeDiff(x, y)), nil
		}
	}
	return nil, opMismatch("-", a, b)
}

// Mul is a * b on numbers (wrapping on overflow).
func Mul(a, b Value) (Value, error) {
	x, ok1 := a.(Number)
	y, ok2 := b.(Number)
	if !ok1 || !ok2 {
		return nil, opMismatch("*", a, b)
	}
	return x * y, nil
}

// Div is a / b on numbers, truncated toward zero; dividing by 0 raises.
func Div(a, b Value) (Value, error) {
	x, ok1 := a.(Number)
	y, ok2 := b.(Number)
	if !ok1 || !ok2 {
		return nil, opMismatch("/", a, b)
	}
	if y == 0 {
		return nil, Throw("/: division by zero")
	}
	return x / y, nil
}

// Mod is the remainder a % b on numbers (its sign is the sign of a);
// b == 0 raises.
func Mod(a, b Value) (Value, error) {
	x, ok1 := a.(Number)
	y, ok2 := b.(Number)
	if !ok1 || !ok2 {
		return nil, opMismatch("%", a, b)
	}
	if y == 0 {
		return nil, Throw("%%: division by zero")
	}
	return x % y, nil
}

// Neg is -a on a number.
func Neg(a Value) (Value, error) {
	x, ok := a.(Number)
	if !ok {
		return nil, Throw("unary -: cannot apply to %s", TypeName(a))
	}
	return -x, nil
}

// Not is the logical negation: "YES" for null, null for anything else.
func Not(a Value) Value { return Bool(a == nil) }

// And, Or and Xor combine truth values (the compiler short-circuits "and"
// and "or" itself; these are for already evaluated operands).
func And(a, b Value) Value { return Bool(a != nil && b != nil) }

// Or is true when either operand is true.
func Or(a, b Value) Value { return Bool(a != nil || b != nil) }

// Xor is true when exactly one operand is true.
func Xor(a, b Value) Value { return Bool((a != nil) != (b != nil)) }

// Compare orders a and b: numbers numerically, strings and datablocks
// byte-wise, timestamps in time (remote past first, remote future last), IP
// addresses by address then port. Other combinations raise an exception.
func Compare(a, b Value) (int, error) {
	switch x := a.(type) {
	case Number:
		if y, ok := b.(Number); ok {
			return cmp.Compare(x, y), nil
		}
	case String:
		if y, ok := b.(String); ok {
			return strings.Compare(string(x), string(y)), nil
		}
	case Data:
		if y, ok := b.(Data); ok {
			return bytes.Compare(x, y), nil
		}
	case Time:
		if y, ok := b.(Time); ok {
			switch {
			case x.Before(y):
				return -1, nil
			case y.Before(x):
				return 1, nil
			}
			return 0, nil
		}
	case IP:
		if y, ok := b.(IP); ok {
			if c := x.Addr.Compare(y.Addr); c != 0 {
				return c, nil
			}
			return cmp.Compare(x.Port, y.Port), nil
		}
	}
	return 0, opMismatch("comparison", a, b)
}

func opCompare(a, b Value, test func(int) bool) (Value, error) {
	c, err := Compare(a, b)
	if err != nil {
		return nil, err
	}
	return Bool(test(c)), nil
}

// Less is a < b ("YES" or null; see Compare).
func Less(a, b Value) (Value, error) { return opCompare(a, b, func(c int) bool { return c < 0 }) }

// LessEq is a <= b.
func LessEq(a, b Value) (Value, error) { return opCompare(a, b, func(c int) bool { return c <= 0 }) }

// Greater is a > b.
func Greater(a, b Value) (Value, error) { return opCompare(a, b, func(c int) bool { return c > 0 }) }

// GreaterEq is a >= b.
func GreaterEq(a, b Value) (Value, error) { return opCompare(a, b, func(c int) bool { return c >= 0 }) }

// Equal is a == b ("YES" or null). It accepts any operands: values of
// different types are unequal, two nulls are equal, arrays and dictionaries
// compare element by element (see Equals).
func Equal(a, b Value) Value { return Bool(Equals(a, b)) }

// NotEqual is a != b.
func NotEqual(a, b Value) Value { return Bool(!Equals(a, b)) }

// Equals reports structural equality. Containers that contain themselves
// compare without looping.
func Equals(a, b Value) bool {
	return opEquals(a, b, nil)
}

type opPair struct{ a, b any }

func opEquals(a, b Value, seen map[opPair]bool) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case String:
		y, ok := b.(String)
		return ok && x == y
	case Number:
		y, ok := b.(Number)
		return ok && x == y
	case Data:
		y, ok := b.(Data)
		return ok && bytes.Equal(x, y)
	case Time:
		y, ok := b.(Time)
		return ok && x.Special == y.Special && (x.Special != 0 || x.T.Equal(y.T))
	case IP:
		y, ok := b.(IP)
		return ok && x == y
	case *Array:
		y, ok := b.(*Array)
		if !ok || len(x.Elems) != len(y.Elems) {
			return false
		}
		if x == y {
			return true
		}
		if seen == nil {
			seen = map[opPair]bool{}
		}
		p := opPair{x, y}
		if seen[p] {
			return true // already being compared (a cycle) or found equal
		}
		seen[p] = true
		for i := range x.Elems {
			if !opEquals(x.Elems[i], y.Elems[i], seen) {
				return false
			}
		}
		return true
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		if x == y {
			return true
		}
		if seen == nil {
			seen = map[opPair]bool{}
		}
		p := opPair{x, y}
		if seen[p] {
			return true
		}
		seen[p] = true
		xk, yk := x.Keys(), y.Keys()
		for i, k := range xk {
			if yk[i] != k || !opEquals(x.vals[k], y.vals[k], seen) {
				return false
			}
		}
		return true
	case *XML:
		y, ok := b.(*XML)
		return ok && xmlEquals(x, y, seen)
	case Handle:
		y, ok := b.(Handle)
		return ok && sameHandle(x, y)
	}
	return false
}

// sameHandle compares two handles by identity without panicking on
// handle types that are not comparable.
func sameHandle(x, y Handle) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	tx, ty := reflect.TypeOf(x), reflect.TypeOf(y)
	if tx != ty || !tx.Comparable() {
		return false
	}
	return x == y
}

// opIndexNumber reads an index: a number, or a string holding a decimal
// number (as InsertElement and RemoveElement document).
func opIndexNumber(v Value) (int64, bool) {
	switch x := v.(type) {
	case Number:
		return int64(x), true
	case String:
		return parseDecimal(string(x))
	}
	return 0, false
}

// parseDecimal parses an optionally signed decimal int64, all of s.
func parseDecimal(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
		if s == "" {
			return 0, false
		}
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// Index is container[idx] (§3.3): an array element (null past the end), the
// idx-th key of a dictionary for a numeric idx, a dictionary element for a
// string idx. Indexing null gives null; indexing anything else raises.
func Index(container, idx Value) (Value, error) {
	switch c := container.(type) {
	case nil:
		return nil, nil
	case *Array:
		i, ok := opIndexNumber(idx)
		if !ok {
			return nil, Throw("[]: an array index must be a number, not %s", TypeName(idx))
		}
		if i < 0 || i >= int64(len(c.Elems)) {
			return nil, nil
		}
		return c.Elems[i], nil
	case *Dict:
		switch k := idx.(type) {
		case Number:
			if k < 0 || int64(k) >= int64(c.Len()) {
				return nil, nil
			}
			return String(c.Keys()[k]), nil
		case String:
			return c.Get(string(k)), nil
		}
		return nil, Throw("[]: a dictionary index must be a number or a string, not %s", TypeName(idx))
	}
	return nil, Throw("[]: cannot index %s", TypeName(container))
}

// SetIndex is container[idx] = v: it replaces an array element, appends when
// idx equals the array length, and raises further out. A string idx sets a
// dictionary element; a numeric idx on a dictionary raises (it names a key,
// not a value).
func SetIndex(container, idx, v Value) error {
	switch c := container.(type) {
	case *Array:
		i, ok := opIndexNumber(idx)
		if !ok {
			return Throw("[]=: an array index must be a number, not %s", TypeName(idx))
		}
		switch {
		case i >= 0 && i < int64(len(c.Elems)):
			c.Elems[i] = v
		case i == int64(len(c.Elems)):
			c.Elems = append(c.Elems, v)
		default:
			return Throw("[]=: index %d is out of range for an array of %d elements", i, len(c.Elems))
		}
		return nil
	case *Dict:
		if k, ok := idx.(String); ok {
			c.Set(string(k), v)
			return nil
		}
		if _, ok := idx.(Number); ok {
			return Throw("[]=: cannot assign through a numeric dictionary index (it reads the i-th key)")
		}
		return Throw("[]=: a dictionary index must be a string, not %s", TypeName(idx))
	}
	return Throw("[]=: cannot index %s", TypeName(container))
}

// Member is d.key: the element of a dictionary (null when missing). The
// member of null is null; of anything else, an exception.
func Member(d Value, key string) (Value, error) {
	switch c := d.(type) {
	case nil:
		return nil, nil
	case *Dict:
		return c.Get(key), nil
	}
	return nil, Throw(".%s: %s is not a dictionary", key, TypeName(d))
}

// SetMember is d.key = v; assigning null removes the key.
func SetMember(d Value, key string, v Value) error {
	c, ok := d.(*Dict)
	if !ok {
		return Throw(".%s=: %s is not a dictionary", key, TypeName(d))
	}
	c.Set(key, v)
	return nil
}
