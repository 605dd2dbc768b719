package cgpl

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// runes (Unicode code points) from the start of the line, so a tab counts as
// one column. The zero Pos means "no position".
type Pos struct {
	File      string
	Line, Col int
}

// IsValid reports whether p is a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats p as "file:line:col" ("line:col" when there is no file
// name, "-" for the zero Pos).
func (p Pos) String() string {
	switch {
	case !p.IsValid():
		return "-"
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Before reports whether p comes before q (file name, then line, then column).
func (p Pos) Before(q Pos) bool { return synComparePos(p, q) < 0 }

func synComparePos(p, q Pos) int {
	if c := cmp.Compare(p.File, q.File); c != 0 {
		return c
	}
	if c := cmp.Compare(p.Line, q.Line); c != 0 {
		return c
	}
	return cmp.Compare(p.Col, q.Col)
}

// Error is one compile-time error: where, what, the source text of the token
// it was found at (may be empty, e.g. at end of file) and an optional hint.
type Error struct {
	Pos   Pos
	Msg   string
	Token string
	Hint  string
}

// Error formats e as `file:line:col: message (near "tok")`, followed by a
// second line "\thint: ..." when there is a hint.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Token != "" {
		fmt.Fprintf(&b, " (near %q)", e.Token)
	}
	if e.Hint != "" {
		b.WriteString("\n\thint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ErrorList is a list of compile-time errors. Parse and Check return it
// sorted by position and without duplicates.
type ErrorList []*Error

// Error lists the errors one per line (a hint adds an indented line).
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l as an error, or nil when l is empty (so that a nil ErrorList
// never becomes a non-nil error interface).
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sort orders the errors by position, then by message, and removes exact
// duplicates (same position and message).
func (l *ErrorList) Sort() {
	slices.SortStableFunc(*l, func(a, b *Error) int {
		if c := synComparePos(a.Pos, b.Pos); c != 0 {
			return c
		}
		return cmp.Compare(a.Msg, b.Msg)
	})
	*l = slices.CompactFunc(*l, func(a, b *Error) bool {
		return a.Pos == b.Pos && a.Msg == b.Msg
	})
}

// synTokenText shortens a token's source text for an error message.
func synTokenText(s string) string {
	const max = 24
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + "…"
	}
	if n := 0; len(s) > max {
		for i := range s {
			if n == max {
				return s[:i] + "…"
			}
			n++
		}
	}
	return s
}
