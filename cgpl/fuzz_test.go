package cgpl

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to Parse and Check: they must not panic
// or hang, every error must have a position inside the input and a message,
// the error count must stay bounded, and a program that parses must print
// and walk. Seeded with testdata and, when present, the seed fixtures.
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s ./cgpl/
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.sppr")
	fixtures, _ := filepath.Glob(filepath.Join(synFixtureDir, "*.sppr"))
	for _, name := range append(seeds, fixtures...) {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(src)
		}
	}
	for _, s := range []string{
		"", "entry", "entry Main is", "entry Main {", "end;", "}", "\"", "/*", "\\",
		"entry Main is x = ((1; end;", "entry Main { if a { } else if b { } elif c { } else { } }",
		"entry Main is for i = 0 while i by i += 1 loop exitif i; end for; end;",
		"procedure M::P(a, b) external; entry Main is M::P(1, 2); x = spawn Main; end;",
		"\xff\xfe entry \x00", "var a = 1, b;", "entry Main is x = a ? b : c ? d : e; end;",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		prog, err := Parse("f.sppr", src)
		if prog == nil {
			t.Fatal("nil program")
		}
		lines := 1
		for _, c := range src {
			if c == '\n' {
				lines++
			}
		}
		if err != nil {
			var l ErrorList
			if !errors.As(err, &l) || len(l) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
			if len(l) > MaxParseErrors+1 {
				t.Fatalf("%d errors", len(l))
			}
			for i, e := range l {
				if e.Msg == "" || e.Pos.File != "f.sppr" || e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 {
					t.Fatalf("bad error %d: %#v (%d lines)", i, e, lines)
				}
				if i > 0 && e.Pos.Before(l[i-1].Pos) {
					t.Fatalf("errors not sorted: %v then %v", l[i-1].Pos, e.Pos)
				}
			}
			_ = l.Error()
		}
		// Check and the printer must cope with partial programs too.
		errs := Check(prog, func(name string) (int, int, bool) {
			if utf8.RuneCountInString(name)%2 == 0 {
				return 1, 2, true
			}
			return 0, -1, name != "x"
		})
		for _, e := range errs {
			if !e.Pos.IsValid() || e.Msg == "" {
				t.Fatalf("bad Check error %#v", e)
			}
		}
		_ = prog.String()
		if err == nil {
			Inspect(prog, func(n Node) bool {
				if !n.Position().IsValid() {
					t.Fatalf("%T without a position in a program that parsed", n)
				}
				return true
			})
		}
	})
}
