package cgpl

import (
	"strings"
	"testing"
)

// synLexKinds tokenizes src and returns its kinds (without the final EOF).
func synLexKinds(t *testing.T, src string) []TokenKind {
	t.Helper()
	toks, errs := Tokenize("t.sppr", []byte(src))
	if len(errs) > 0 {
		t.Fatalf("Tokenize(%q): %v", src, errs)
	}
	var kinds []TokenKind
	for _, tk := range toks[:len(toks)-1] {
		kinds = append(kinds, tk.Kind)
	}
	if last := toks[len(toks)-1]; last.Kind != TokEOF {
		t.Fatalf("last token %v, want EOF", last.Kind)
	}
	return kinds
}

func TestLexAllSigns(t *testing.T) {
	src := `+ - * / % += -= *= /= %= &= |= ^= = == != ! < <= > >= & | ^ ? : ; , . ( ) [ ] { } ::`
	want := []TokenKind{TokPlus, TokMinus, TokStar, TokSlash, TokPercent,
		TokPlusEq, TokMinusEq, TokStarEq, TokSlashEq, TokPercentEq, TokAmpEq, TokPipeEq, TokCaretEq,
		TokAssign, TokEq, TokNe, TokBang, TokLt, TokLe, TokGt, TokGe, TokAmp, TokPipe, TokCaret,
		TokQuestion, TokColon, TokSemi, TokComma, TokDot, TokLParen, TokRParen,
		TokLBrack, TokRBrack, TokLBrace, TokRBrace, TokColonColon}
	got := synLexKinds(t, src)
	if len(got) != len(want) {
		t.Fatalf("got %d tokens %v, want %d", len(got), got, len(want))
	}
	fields := strings.Fields(src)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d (%s): got %v, want %v", i, fields[i], got[i], want[i])
		}
		if want[i].String() != fields[i] {
			t.Errorf("%v.String() = %q, want %q", want[i], want[i].String(), fields[i])
		}
	}
	// Signs may touch: longest match first.
	got = synLexKinds(t, "a+=-b==!c!=d<=>=e::f:g")
	want = []TokenKind{TokName, TokPlusEq, TokMinus, TokName, TokEq, TokBang, TokName, TokNe, TokName,
		TokLe, TokGe, TokName, TokColonColon, TokName, TokColon, TokName}
	if strings.Join(synKindStrings(got), " ") != strings.Join(synKindStrings(want), " ") {
		t.Errorf("touching signs: got %v, want %v", got, want)
	}
}

func synKindStrings(ks []TokenKind) []string {
	var s []string
	for _, k := range ks {
		s = append(s, k.String())
	}
	return s
}

func TestLexKeywords(t *testing.T) {
	words := "and by elif else end entry exitif external false for forward function if is not loop null or procedure return spawn stop then true var xor while"
	for _, w := range strings.Fields(words) {
		for _, spelling := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:]} {
			got := synLexKinds(t, spelling)
			if len(got) != 1 || !got[0].IsKeyword() || got[0].String() != w {
				t.Errorf("%q: got %v, want keyword %s", spelling, got, w)
			}
		}
	}
	if n := TokWhile - TokAnd + 1; int(n) != len(strings.Fields(words)) {
		t.Errorf("%d keyword kinds, %d keywords", n, len(strings.Fields(words)))
	}
	// Names that merely contain or extend keywords.
	for _, name := range []string{"ends", "iff", "loop1", "my_if", "Entry_", "x", "é", "имя", "nullx"} {
		toks, errs := Tokenize("", []byte(name))
		if len(errs) > 0 || toks[0].Kind != TokName || toks[0].Text != name || len(toks) != 2 {
			t.Errorf("%q: got %+v %v, want one name", name, toks, errs)
		}
	}
}

func TestLexLiterals(t *testing.T) {
	tests := []struct {
		src  string
		kind TokenKind
		str  string
		num  int64
	}{
		{`0`, TokNumber, "", 0},
		{`007`, TokNumber, "", 7},
		{`9223372036854775807`, TokNumber, "", 9223372036854775807},
		{`""`, TokString, "", 0},
		{`"abc"`, TokString, "abc", 0},
		{`"Вам надо"`, TokString, "Вам надо", 0},
		{`"a\"b"`, TokString, `a"b`, 0},
		{`"a\\b"`, TokString, `a\b`, 0},
		{`"\r\n\t\e"`, TokString, "\r\n\t\n", 0},
		{`"\065\066\000\255"`, TokString, "AB\x00\xff", 0},
		{`"\n123"`, TokString, "\n123", 0},
		{`"//not a comment"`, TokString, "//not a comment", 0},
		{`"/*no*/"`, TokString, "/*no*/", 0},
	}
	for _, tc := range tests {
		toks, errs := Tokenize("t", []byte(tc.src))
		if len(errs) > 0 {
			t.Errorf("%s: %v", tc.src, errs)
			continue
		}
		tk := toks[0]
		if tk.Kind != tc.kind || tk.Str != tc.str || tk.Num != tc.num || tk.Text != tc.src || len(toks) != 2 {
			t.Errorf("%s: got %v %q %d text %q, want %v %q %d", tc.src, tk.Kind, tk.Str, tk.Num, tk.Text, tc.kind, tc.str, tc.num)
		}
	}
}

func TestLexComments(t *testing.T) {
	src := "a // line comment ; b\n/* block\n   comment */ c /**/d/* x */+//\ne /* // */ f"
	toks, errs := Tokenize("t", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, tk := range toks {
		got = append(got, tk.String()+"@"+tk.Pos.String())
	}
	want := "a@t:1:1 c@t:3:15 d@t:3:21 +@t:3:29 e@t:4:1 f@t:4:12 end of file@t:4:13"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestLexPositions(t *testing.T) {
	// Columns count runes; a tab is one column; CRLF ends a line; a BOM is skipped.
	src := "\ufeffx = \"é\u00e9\"; y\r\n\tz\n  имя.key"
	toks, errs := Tokenize("f.sppr", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []string{"f.sppr:1:1", "f.sppr:1:3", "f.sppr:1:5", "f.sppr:1:9", "f.sppr:1:11",
		"f.sppr:2:2", "f.sppr:3:3", "f.sppr:3:6", "f.sppr:3:7", "f.sppr:3:10"}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens, want %d", len(toks), len(want))
	}
	for i, tk := range toks {
		if tk.Pos.String() != want[i] {
			t.Errorf("token %d %q at %s, want %s", i, tk.Text, tk.Pos, want[i])
		}
	}
	// Unusual white space: form feed, vertical tab, no-break space, line separator.
	if got := synLexKinds(t, "a\f\vb\u00a0c\u2028d"); len(got) != 4 {
		t.Errorf("white space: %v", got)
	}
	if (Pos{}).String() != "-" || (Pos{Line: 2, Col: 3}).String() != "2:3" {
		t.Errorf("Pos.String of zero or file-less positions")
	}
}

func TestLexErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`x = "abc`, `t:1:5: unterminated string literal`},
		{"x = \"abc\ny", `t:1:5: unterminated string literal`},
		{`"a\qb"`, `t:1:3: unknown escape sequence`},
		{`"a\12"`, `t:1:3: invalid escape sequence`},
		{`"a\256"`, `t:1:3: invalid escape sequence`},
		{`"a\1x1"`, `t:1:3: invalid escape sequence`},
		{"a /* never closed\n\n", `t:1:3: unterminated comment`},
		{`12ab`, `t:1:1: malformed number 12ab`},
		{`1_000`, `t:1:1: malformed number 1_000`},
		{`9223372036854775808`, `t:1:1: number 9223372036854775808 is out of range`},
		{`a @ b`, `t:1:3: unexpected character '@' (U+0040)`},
		{`'a'`, "t:1:1: unexpected character '\\''\nt:1:3: unexpected character '\\''"},
		{"a \xff b", `t:1:3: invalid UTF-8 byte 0xff`},
		{"\"a\xffb\"", `t:1:3: invalid UTF-8 byte 0xff in string literal`},
		{"x\x00", `t:1:2: unexpected character '\x00' (U+0000)`},
	}
	for _, tc := range tests {
		_, errs := Tokenize("t", []byte(tc.src))
		var lines []string
		for _, e := range errs {
			lines = append(lines, e.Pos.String()+": "+e.Msg)
		}
		if got := strings.Join(lines, "\n"); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
	// The lexer carries on after an error.
	toks, errs := Tokenize("t", []byte("a @ # b \"x\\q\" 5"))
	if len(errs) != 3 || len(synLexKindsOf(toks)) != 4 {
		t.Errorf("recovery: %v tokens %v", errs, synLexKindsOf(toks))
	}
}

func synLexKindsOf(toks []Token) []TokenKind {
	var ks []TokenKind
	for _, tk := range toks {
		if tk.Kind != TokEOF {
			ks = append(ks, tk.Kind)
		}
	}
	return ks
}

func TestLexErrorLimit(t *testing.T) {
	_, errs := Tokenize("t", []byte(strings.Repeat("@", 1000)))
	if len(errs) != synMaxLexErrors {
		t.Errorf("%d errors, want %d", len(errs), synMaxLexErrors)
	}
}

func TestTokenHelpers(t *testing.T) {
	if TokPlusEq.BinaryOf() != TokPlus || TokCaretEq.BinaryOf() != TokCaret || TokAssign.BinaryOf() != TokIllegal {
		t.Error("BinaryOf")
	}
	if !TokAssign.IsAssignOp() || !TokPercentEq.IsAssignOp() || TokEq.IsAssignOp() {
		t.Error("IsAssignOp")
	}
	if LookupKeyword("ElIf") != TokElif || LookupKeyword("elifx") != TokName || LookupKeyword("a") != TokName {
		t.Error("LookupKeyword")
	}
	if (Token{Kind: TokEOF}).String() != "end of file" {
		t.Error("EOF token string")
	}
}
