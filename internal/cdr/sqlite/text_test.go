package sqlite

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"John Smith", []string{"john", "smith"}},
		{"sip:u100@trunk.example.net", []string{"sip", "u100", "trunk", "example", "net"}},
		{"+7 (916) 123-45-67 x12a", []string{"x12a"}},
		{"Фёдор  Ёлкин-Петров", []string{"фёдор", "ёлкин", "петров"}},
		{"José Müller O'Brien", []string{"josé", "müller", "o", "brien"}},
		{"smith SMITH Smith", []string{"smith"}},
		{"a\u00a0b\u2028c", []string{"a", "b", "c"}},
		{"٣٤٥ abc", []string{"٣٤٥", "abc"}}, // only ASCII digits make a number (Digits keeps those)
		{"\xff\xfeab", []string{"ab"}},
	} {
		got := tokens(c.in)
		// The reference: split on what is neither a letter nor a number,
		// lower-case, drop ASCII-digit-only words.
		var ref []string
		for _, w := range strings.FieldsFunc(c.in, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
			w = strings.ToLower(w)
			if strings.Trim(w, "0123456789") != "" && !slices.Contains(ref, w) {
				ref = append(ref, w)
			}
		}
		if !slices.Equal(got, c.want) || !slices.Equal(got, ref) {
			t.Errorf("tokens(%q) = %q, want %q (reference %q)", c.in, got, c.want, ref)
		}
	}
}
