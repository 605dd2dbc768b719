package cgpl

import (
	"crypto/rand"
	"encoding/binary"
)

// This file holds the number functions (spec §4.4) and Min / Max (§4.1).

// randomNumber is a uniformly random integer in 0..2^63-1.
func randomNumber() Number {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead)
	return Number(binary.BigEndian.Uint64(b[:]) >> 1)
}

// MinOf is Min(a, b): a if a < b, otherwise b (types compared as by "<";
// values that "<" cannot compare raise).
func MinOf(a, b Value) (Value, error) {
	c, err := Compare(a, b)
	if err != nil {
		return nil, Throw("Min: %s", err.(*Exception).Msg)
	}
	if c < 0 {
		return a, nil
	}
	return b, nil
}

// MaxOf is Max(a, b): a if a > b, otherwise b.
func MaxOf(a, b Value) (Value, error) {
	c, err := Compare(a, b)
	if err != nil {
		return nil, Throw("Max: %s", err.(*Exception).Msg)
	}
	if c > 0 {
		return a, nil
	}
	return b, nil
}

func libNumbers() []Pure {
	return []Pure{
		{Name: "Number", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return NumberOf(a[0]), nil }},
		{Name: "RandomNumber", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) { return randomNumber(), nil }},
		{Name: "Min", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) { return MinOf(a[0], a[1]) }},
		{Name: "Max", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) { return MaxOf(a[0], a[1]) }},
	}
}
