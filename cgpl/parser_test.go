package cgpl

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var synUpdate = flag.Bool("update-parse", false, "rewrite the golden .err files in testdata/invalid")

// synTestBuiltins stands in for the library in Check tests: name → min, max
// arguments (max -1: no limit).
var synTestBuiltins = map[string][2]int{
	"acceptcall": {0, 0}, "playfile": {1, 2}, "readinput": {1, 1}, "isstring": {1, 1},
	"sendemail": {3, 5}, "mydomain": {0, 0}, "myemail": {0, 0}, "length": {1, 1},
	"substring": {3, 3}, "syslog": {1, 1}, "vars": {0, 0}, "newarray": {0, 0},
	"newdictionary": {0, 0}, "string": {1, 1}, "number": {1, 1}, "void": {1, 1},
	"removeelement": {2, 2}, "isdisconnected": {0, 0}, "proccall": {1, -1},
}

func synKnown(name string) (int, int, bool) {
	b, ok := synTestBuiltins[name]
	return b[0], b[1], ok
}

// synErrLines renders errors as "file:line:col: message" lines (no token,
// no hint).
func synErrLines(err error) string {
	if err == nil {
		return ""
	}
	var l ErrorList
	if !errors.As(err, &l) {
		return "not an ErrorList: " + err.Error()
	}
	var lines []string
	for _, e := range l {
		lines = append(lines, e.Pos.String()+": "+e.Msg)
	}
	return strings.Join(lines, "\n")
}

func synParseOK(t *testing.T, src string) *Program {
	t.Helper()
	prog, err := Parse("t.sppr", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%q):\n%v", src, err)
	}
	return prog
}

// synBody formats the statements of the first section, one per line.
func synBody(prog *Program) string {
	var lines []string
	for _, s := range prog.Sections[0].Body.Stmts {
		lines = append(lines, Format(s))
	}
	return strings.Join(lines, "\n")
}

func TestParseStatements(t *testing.T) {
	tests := []struct{ name, basic, c, want string }{
		{"empty", ";", ";", "(empty)"},
		{"null", "null;", "null;", "(null)"},
		{"stop", "stop;", "STOP;", "(stop)"},
		{"return", "return;", "return;", "(return)"},
		{"var", "var a, B = 1 + 2;", "var a, b = 1 + 2;", "(var a (= b (+ 1 2)))"},
		{"assign ops",
			"x = 1; x += 2; x -= 3; x *= 4; x /= 5; x %= 6; x &= 7; x |= 8; x ^= 9;",
			"x = 1; x += 2; x -= 3; x *= 4; x /= 5; x %= 6; x &= 7; x |= 8; x ^= 9;",
			"(= x 1)\n(+= x 2)\n(-= x 3)\n(*= x 4)\n(/= x 5)\n(%= x 6)\n(&= x 7)\n(|= x 8)\n(^= x 9)"},
		{"targets",
			`a[1] = 2; d.Key = 3; d.(k) = 4; Vars().x[0].y = 5;`,
			`a[1] = 2; d.Key = 3; d.(k) = 4; Vars().x[0].y = 5;`,
			"(= (index a 1) 2)\n(= (member d \"Key\") 3)\n(= (member d k) 4)\n(= (member (index (member (call vars) \"x\") 0) \"y\") 5)"},
		{"calls",
			`f(); F(1, "a"); x.m(1); M::p(2); Vars().list.sort();`,
			`f(); F(1, "a"); x.m(1); M::p(2); Vars().list.sort();`,
			"(call f)\n(call f 1 \"a\")\n(method x m 1)\n(call m::p 2)\n(method (member (call vars) \"list\") sort)"},
		{"if", "if a then x = 1; end if;", "if a { x = 1; }",
			"(if a\n  (then\n    (= x 1)))"},
		{"if bare end", "if a then x = 1; end;", "if (a) { x = 1; }",
			"(if a\n  (then\n    (= x 1)))"},
		{"if else", "if a then x = 1; else x = 2; y = 3; end if;", "if a { x = 1; } else { x = 2; y = 3; }",
			"(if a\n  (then\n    (= x 1))\n  (else\n    (= x 2)\n    (= y 3)))"},
		{"if elif else",
			"if a then x = 1; elif b then x = 2; elif c then else x = 4; end if;",
			"if a { x = 1; } elif b { x = 2; } else if c { } else { x = 4; }",
			"(if a\n  (then\n    (= x 1))\n  (elif b\n    (= x 2))\n  (elif c)\n  (else\n    (= x 4)))"},
		{"empty if", "if a then end if;", "if a {}", "(if a\n  (then))"},
		{"loop", "loop x = 1; exitif x; end loop;", "loop { x = 1; exitif x; }",
			"(loop\n  (= x 1)\n  (exitif x))"},
		{"while", "while i < 3 loop i += 1; end loop;", "while (i < 3) { i += 1; }",
			"(while (< i 3)\n  (+= i 1))"},
		{"while end while", "while i < 3 loop i += 1; end while;", "while i < 3 { i += 1; }",
			"(while (< i 3)\n  (+= i 1))"},
		{"for", "for i = 0 while i < 3 by i += 1 loop f(i); end loop;", "for i = 0 while i < 3 by i += 1 { f(i); }",
			"(for (= i 0) (< i 3) (+= i 1)\n  (call f i))"},
		{"for parts", "for while x loop end for;", "for while x { }", "(for _ x _)"},
		{"nested",
			"if a then loop exitif b; while c loop exitif d; end loop; end loop; end if;",
			"if a { loop { exitif b; while c { exitif d; } } }",
			"(if a\n  (then\n    (loop\n      (exitif b)\n      (while c\n        (exitif d)))))"},
		{"spawn", "t = spawn W(1); spawn W;", "t = spawn W(1); spawn W;",
			"(= t (spawn w 1))\n(spawn w)"},
		{"comments", "x = /* two */ 2; // done", "x = /* two */ 2; // done", "(= x 2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := synParseOK(t, "entry Main is\n"+tc.basic+"\nend;\n")
			c := synParseOK(t, "entry Main {\n"+tc.c+"\n}\n")
			if got := synBody(b); got != tc.want {
				t.Errorf("Basic %q:\n got %s\nwant %s", tc.basic, got, tc.want)
			}
			if got := synBody(c); got != tc.want {
				t.Errorf("C %q:\n got %s\nwant %s", tc.c, got, tc.want)
			}
			if b.Sections[0].Syntax != SyntaxBasic || c.Sections[0].Syntax != SyntaxC {
				t.Errorf("syntax: %v %v", b.Sections[0].Syntax, c.Sections[0].Syntax)
			}
		})
	}
	// A nested block is C-style only.
	c := synParseOK(t, "entry Main { { x = 1; { } } }")
	if got := synBody(c); got != "(block\n  (= x 1)\n  (block))" {
		t.Errorf("block: %s", got)
	}
}

func TestParseExpressions(t *testing.T) {
	tests := []struct{ src, want string }{
		{`-2 + 1`, `(+ (neg 2) 1)`},
		{`a + b * c`, `(+ a (* b c))`},
		{`a * b + c`, `(+ (* a b) c)`},
		{`(a + b) * c`, `(* (+ a b) c)`},
		{`a - b - c`, `(- (- a b) c)`},
		{`a / b % c * d`, `(* (% (/ a b) c) d)`},
		{`a < b + 1`, `(< a (+ b 1))`},
		{`a == b < c`, `(< (== a b) c)`},
		{`a != b >= c <= d > e`, `(> (<= (>= (!= a b) c) d) e)`},
		{`a and b or c and d`, `(or (and a b) (and c d))`},
		{`a or b xor c and d`, `(or a (xor b (and c d)))`},
		{`a and b xor c or d`, `(or (xor (and a b) c) d)`},
		{`a & b | c ^ d`, `(| (& a b) (^ c d))`},
		{`a and b & c`, `(& (and a b) c)`},
		{`a == 1 or b == 2`, `(or (== a 1) (== b 2))`},
		{`not a == b`, `(== (not a) b)`},
		{`!a`, `(not a)`},
		{`NOT not a`, `(not (not a))`},
		{`- -a`, `(neg (neg a))`},
		{`-x.y`, `(neg (member x "y"))`},
		{`a ? b : c ? d : e`, `(? a b (? c d e))`},
		{`a ? b ? c : d : e`, `(? a (? b c d) e)`},
		{`a or b ? c + 1 : d`, `(? (or a b) (+ c 1) d)`},
		{`d.key`, `(member d "key")`},
		{`d.Key()`, `(method d key)`},
		{`d.key(1, 2)`, `(method d key 1 2)`},
		{`d.(x)`, `(member d x)`},
		{`d.("Content-Type")`, `(member d "Content-Type")`},
		{`d.end`, `(member d "end")`},
		{`a[1][i + 1]`, `(index (index a 1) (+ i 1))`},
		{`f(x).y[0].z(1)`, `(method (index (member (call f x) "y") 0) z 1)`},
		{`Billing::Balance(1)`, `(call billing::balance 1)`},
		{`"a\tb\"\\"`, `"a\tb\"\\"`},
		{`null`, `null`},
		{`TRUE`, `true`},
		{`false`, `false`},
		{`123`, `123`},
		{`spawn Worker(1)`, `(spawn worker 1)`},
		{`length(myName) > 10`, `(> (call length myname) 10)`},
	}
	for _, tc := range tests {
		prog := synParseOK(t, "entry Main is\n  x = "+tc.src+";\nend;\n")
		got := Format(prog.Sections[0].Body.Stmts[0].(*AssignStmt).Value)
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

func TestParseNamesAndPositions(t *testing.T) {
	prog := synParseOK(t, "entry Main is\n  MyVar = Vars().Key;\n  Billing::Charge(MyVar);\nend;\nprocedure Billing::Charge(Amount) external;\n")
	main := prog.Lookup("MAIN")
	if main == nil || main.Name != "Main" || main.LName != "main" || main.Pos.String() != "t.sppr:1:1" {
		t.Fatalf("Lookup(MAIN) = %+v", main)
	}
	a := main.Body.Stmts[0].(*AssignStmt)
	id := a.Target.(*Ident)
	if id.Name != "MyVar" || id.LName != "myvar" || id.Pos.String() != "t.sppr:2:3" || a.OpPos.String() != "t.sppr:2:9" {
		t.Errorf("ident %+v op at %v", id, a.OpPos)
	}
	m := a.Value.(*MemberExpr)
	if m.Name != "Key" || m.Pos.String() != "t.sppr:2:18" || StartPos(m).String() != "t.sppr:2:11" {
		t.Errorf("member %+v start %v", m, StartPos(m))
	}
	call := main.Body.Stmts[1].(*CallStmt).Call.(*CallExpr)
	if call.Module != "Billing" || call.LModule != "billing" || call.Name != "Charge" || call.LName != "charge" {
		t.Errorf("qualified call %+v", call)
	}
	ext := prog.Lookup("billing::CHARGE")
	if ext == nil || !ext.External || ext.Body != nil || ext.QualName() != "Billing::Charge" || ext.Params[0].LName != "amount" {
		t.Errorf("external %+v", ext)
	}
	if main.End.String() != "t.sppr:4:1" {
		t.Errorf("end at %v", main.End)
	}
	// Every node has a position.
	Inspect(prog, func(n Node) bool {
		if !n.Position().IsValid() {
			t.Errorf("%T has no position", n)
		}
		return true
	})
}

func TestParseForwardLookup(t *testing.T) {
	prog := synParseOK(t, "function F(x) forward;\nfunction F(x) is return x; end;\n")
	if f := prog.Lookup("f"); f == nil || f.Body == nil {
		t.Errorf("Lookup prefers the definition: %+v", f)
	}
	if prog.Lookup("g") != nil {
		t.Error("Lookup(g) found something")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"missing then",
			"entry Main is\n  if x > 1\n    stop;\n  end if;\nend;\n",
			`t.sppr:3:5: expected "then" after the if condition`},
		{"end loop for an if",
			"entry Main is\n  if x > 1 then\n    stop;\n  end loop;\nend;\n",
			`t.sppr:4:7: "end loop" does not match the if at 2:3`},
		{"end if for a section",
			"entry Main is\n  stop;\nend if;\n",
			`t.sppr:3:5: "end if" does not match the entry Main at 1:1`},
		{"unterminated string",
			"entry Main is\n  SysLog(\"hello);\n  SysLog(\"world\");\nend;\n",
			`t.sppr:2:10: unterminated string literal`},
		{"exitif outside a loop",
			"entry Main is\n  exitif x;\n  loop exitif y; end loop;\nend;\nprocedure P() { if a { exitif b; } }\n",
			"t.sppr:2:3: exitif outside a loop\nt.sppr:5:24: exitif outside a loop"},
		{"several errors",
			"entry Main is\n  x = 1 +;\n  if x > 1\n    stop;\n  end loop;\n  exitif y;\n  z = 3\n  w = (4;\nend;\n",
			"t.sppr:2:10: expected an expression\n" +
				"t.sppr:4:5: expected \"then\" after the if condition\n" +
				"t.sppr:5:7: \"end loop\" does not match the if at 3:3\n" +
				"t.sppr:6:3: exitif outside a loop\n" +
				"t.sppr:7:8: missing \";\" after 3\n" +
				"t.sppr:8:9: expected \")\""},
		{"end of file in a section",
			"entry Main is\n  x = 1;\n",
			`t.sppr:3:1: expected "end" to close the entry Main at 1:1, found end of file`},
		{"missing brace",
			"entry Main {\n  loop {\n    x = 1;\n}\n",
			`t.sppr:5:1: expected "}" to close the entry Main at 1:1, found end of file`},
		{"else without if",
			"entry Main is\n  x = 1;\n  else\n  y = 2;\nend;\n",
			`t.sppr:3:3: "else" without a matching if`},
		{"elif after else",
			"entry Main is\n  if a then\n  else\n  elif b then\n  end if;\nend;\n",
			`t.sppr:4:3: "elif" after else`},
		{"entry with parameters",
			"entry Main(a) is\nend;\n",
			`t.sppr:1:11: an entry takes no parameters`},
		{"assign to a call",
			"entry Main is\n  f(x) = 1;\nend;\n",
			`t.sppr:2:3: cannot assign to this expression`},
		{"comparison as a statement",
			"entry Main is\n  x == 1;\nend;\n",
			`t.sppr:2:3: this expression is not a statement`},
		{"two names",
			"entry Main is\n  x y = 1;\nend;\n",
			`t.sppr:2:5: unexpected y`},
		{"statement at top level",
			"x = 1;\nentry Main is\nend;\n",
			`t.sppr:1:1: expected entry, procedure, function or var`},
		{"missing end before the next section",
			"entry Main is\n  stop;\nprocedure P() is\nend;\n",
			`t.sppr:3:1: expected "end" to close the entry Main at 1:1`},
		{"module on a definition",
			"procedure M::P() is\nend;\n",
			`t.sppr:1:14: a section defined in this file cannot have a module qualifier`},
		{"reserved word as a name",
			"entry Main is\n  var if = 1;\nend;\n",
			`t.sppr:2:7: expected a variable name`},
		{"Basic form in a C section",
			"entry Main {\n  if a then x = 1; end if;\n}\n",
			`t.sppr:2:8: Basic-style "then" in a C-style section`},
		{"C form in a Basic section",
			"entry Main is\n  while a { x = 1; }\nend;\n",
			`t.sppr:2:11: C-style "{" in a Basic section`},
		{"qualified name without a call",
			"entry Main is\n  x = M::f;\nend;\n",
			`t.sppr:2:11: expected "(" after M::f`},
		{"missing colon",
			"entry Main is\n  x = a ? b;\nend;\n",
			`t.sppr:2:12: expected ":" in the conditional expression`},
		{"equals in a condition",
			"entry Main is\n  if a = 1 then end if;\nend;\n",
			`t.sppr:2:8: expected "then" after the if condition`},
		{"lexical errors",
			"entry Main is\n  a = \"x\\q\";\n  b = 1a;\nend;\n",
			"t.sppr:2:9: unknown escape sequence\nt.sppr:3:7: malformed number 1a"},
		{"end keyword on the next line",
			"entry Main is\n  if a then\n  end\n  if;\nend\nentry;\nentry Next is\nend\nentry Last is\nend;\n",
			`t.sppr:8:4: missing ";" after "end"`},
		{"for part not an assignment",
			"entry Main is\n  for f(i) while i loop end loop;\nend;\n",
			`t.sppr:2:7: the initial part of a for must be an assignment`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := Parse("t.sppr", []byte(tc.src))
			if got := synErrLines(err); got != tc.want {
				t.Errorf("errors:\n got %s\nwant %s", got, tc.want)
			}
			if prog == nil {
				t.Error("no partial program")
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	big := func(s string, n int) string { return strings.Repeat(s, n) }
	tests := []struct{ name, src string }{
		{"parentheses", "entry Main is x = " + big("(", 20000) + "1" + big(")", 20000) + "; end;"},
		{"unary", "entry Main is x = " + big("-", 20000) + "1; end;"},
		{"not", "entry Main is x = " + big("not ", 20000) + "1; end;"},
		{"chain", "entry Main is x = 1" + big(" + 1", 20000) + "; end;"},
		{"postfix", "entry Main is x = a" + big(".b", 20000) + "; end;"},
		{"index", "entry Main is x = a" + big("[", 20000) + "; end;"},
		{"calls", "entry Main is x = " + big("f(", 20000) + "; end;"},
		{"ternary", "entry Main is x = " + big("a ? b : ", 20000) + "c; end;"},
		{"ifs", "entry Main is " + big("if a then ", 2000) + big("end if; ", 2000) + "end;"},
		{"blocks", "entry Main { " + big("{ ", 20000) + big("} ", 20000) + "}"},
		{"loops", "entry Main { " + big("loop { ", 20000) + "}"},
	}
	for _, tc := range tests {
		_, err := Parse("t.sppr", []byte(tc.src))
		if got := synErrLines(err); !strings.Contains(got, "nesting too deep") {
			t.Errorf("%s: %s", tc.name, got)
		}
	}
	// Just under the limit is fine.
	src := "entry Main is x = " + big("(", MaxParseNesting-2) + "1" + big(")", MaxParseNesting-2) + "; end;"
	if _, err := Parse("t.sppr", []byte(src)); err != nil {
		t.Errorf("%d parentheses: %v", MaxParseNesting-2, err)
	}
	// Too many errors: the parser stops.
	_, err := Parse("t.sppr", []byte("entry Main is\n"+big("x = ;\n", 1000)+"end;\n"))
	var l ErrorList
	if !errors.As(err, &l) || len(l) != MaxParseErrors+1 || !strings.HasPrefix(l[len(l)-1].Msg, "too many errors") {
		t.Errorf("error limit: %d errors, last %v", len(l), l[len(l)-1])
	}
}

func TestErrorListFormat(t *testing.T) {
	l := ErrorList{
		{Pos: Pos{"b.sppr", 1, 1}, Msg: "later file"},
		{Pos: Pos{"a.sppr", 2, 5}, Msg: "second", Token: "tok", Hint: "try this"},
		{Pos: Pos{"a.sppr", 1, 9}, Msg: "first"},
		{Pos: Pos{"a.sppr", 2, 5}, Msg: "second", Token: "tok", Hint: "try this"},
	}
	l.Sort()
	want := "a.sppr:1:9: first\na.sppr:2:5: second (near \"tok\")\n\thint: try this\nb.sppr:1:1: later file"
	if got := l.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if ErrorList(nil).Err() != nil {
		t.Error("empty list is a non-nil error")
	}
	if synTokenText(strings.Repeat("é", 30)) != strings.Repeat("é", 24)+"…" || synTokenText("a\nb") != "a…" {
		t.Error("synTokenText")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"clean", "entry Main is\n  SysLog(Substring(\"abc\", 0, 1).length());\n  F(1);\n  x = F(2);\nend;\nfunction F(x) is return x; end;\n", ""},
		{"unknown", "entry Main is\n  Nope(1);\n  x = Nada();\nend;\n",
			"t.sppr:2:3: unknown procedure Nope\nt.sppr:3:7: unknown function Nada"},
		{"builtin arity", "entry Main is\n  SysLog();\n  x = Substring(\"a\", 1);\n  PlayFile(1, 2, 3);\n  ProcCall();\nend;\n",
			"t.sppr:2:3: SysLog takes 1 argument, got 0\nt.sppr:3:7: Substring takes 3 arguments, got 2\nt.sppr:4:3: PlayFile takes 1 to 2 arguments, got 3\nt.sppr:5:3: ProcCall takes at least 1 argument, got 0"},
		{"method arity", "entry Main is\n  x = \"a\".length(1);\nend;\n",
			"t.sppr:2:11: length takes 1 argument, got 2"},
		{"section arity", "entry Main is\n  P(1);\nend;\nprocedure P(a, b) is end;\n",
			"t.sppr:2:3: procedure P takes 2 arguments, got 1"},
		{"procedure as function", "entry Main is\n  x = P();\nend;\nprocedure P() is end;\n",
			"t.sppr:2:7: procedure P used in an expression"},
		{"entry called", "entry Main is\n  Main();\nend;\n",
			"t.sppr:2:3: entry Main cannot be called"},
		{"return value", "entry Main is\n  return 1;\nend;\nprocedure P() { return 2; }\nfunction F() { return; }\n",
			"t.sppr:2:3: return with a value in entry Main\nt.sppr:4:17: return with a value in procedure P"},
		{"duplicates", "procedure P(a, A) is end;\nprocedure p() is end;\nentry Main is end;\nentry MAIN is end;\n",
			"t.sppr:1:16: duplicate parameter A in procedure P (also at 1:13)\nt.sppr:2:11: procedure p is already defined at 1:1\nt.sppr:4:7: entry MAIN is already defined at 3:1"},
		{"forward", "function F(x) forward;\nprocedure G() forward;\nfunction G() is end;\nfunction H(a, b) forward;\nfunction H(a) is end;\n",
			"t.sppr:1:10: forward-declared function F is never defined\nt.sppr:3:10: G is a function here but a procedure at 2:1\nt.sppr:5:10: function H has 1 parameter here but 2 at 4:1"},
		{"external", "procedure X(a) external;\nprocedure X(a) is end;\nentry Main is\n  M::Q(1);\nend;\n",
			"t.sppr:2:11: procedure X is both defined in this file and declared external (at 1:1)\nt.sppr:4:3: unknown M::Q"},
		{"spawn", "entry Main is\n  spawn P;\n  spawn Ghost;\n  spawn Main(1, 2);\nend;\nprocedure P() is end;\n",
			"t.sppr:2:9: spawn needs an entry; P is a procedure\nt.sppr:3:9: spawn of unknown entry Ghost\nt.sppr:4:9: spawn passes at most one parameter, got 2"},
		{"sections shadow builtins", "entry Main is\n  SysLog(1, 2);\nend;\nprocedure SysLog(a, b) is end;\n", ""},
		{"task vars", "var a = Nope();\nentry Main is end;\n", "t.sppr:1:9: unknown function Nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prog := synParseOK(t, tc.src)
			errs := Check(prog, synKnown)
			if got := synErrLines(errs.Err()); got != tc.want {
				t.Errorf("Check:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	// Without a library every built-in is unknown.
	prog := synParseOK(t, "entry Main is SysLog(1); end;")
	if got := synErrLines(Check(prog, nil).Err()); got != "t.sppr:1:15: unknown procedure SysLog" {
		t.Errorf("nil known: %s", got)
	}
}

// TestTestdata parses every program in testdata/valid (Parse and Check must
// be clean), checks that the .basic/.c twins print the same, and compares
// the errors for testdata/invalid with the golden .err files (parse errors,
// or Check errors when the file parses; go test -run TestTestdata -update-parse rewrites them).
func TestTestdata(t *testing.T) {
	valid, _ := filepath.Glob("testdata/valid/*.sppr")
	if len(valid) < 5 {
		t.Fatalf("only %d valid programs", len(valid))
	}
	printed := map[string]string{}
	for _, f := range valid {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := Parse(filepath.Base(f), src)
		if err != nil {
			t.Errorf("%s:\n%v", f, err)
			continue
		}
		if errs := Check(prog, synKnown); len(errs) > 0 {
			t.Errorf("%s: Check:\n%v", f, errs)
		}
		printed[filepath.Base(f)] = prog.String()
	}
	pairs := 0
	for name, basic := range printed {
		stem, ok := strings.CutSuffix(name, ".basic.sppr")
		if !ok {
			continue
		}
		c, ok := printed[stem+".c.sppr"]
		if !ok {
			t.Errorf("%s has no C-style twin", name)
			continue
		}
		pairs++
		if basic != c {
			t.Errorf("%s: the two syntaxes differ:\nBasic:\n%s\nC:\n%s", stem, basic, c)
		}
	}
	if pairs < 2 {
		t.Errorf("%d twin pairs", pairs)
	}

	invalid, _ := filepath.Glob("testdata/invalid/*.sppr")
	for _, f := range invalid {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := Parse(filepath.Base(f), src)
		if err == nil {
			err = Check(prog, synKnown).Err()
		}
		if err == nil {
			t.Errorf("%s: no errors", f)
			continue
		}
		got := err.Error() + "\n"
		golden := strings.TrimSuffix(f, ".sppr") + ".err"
		if *synUpdate {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("%s: %v (run go test -run TestTestdata -update-parse to create it)", f, err)
			continue
		}
		if got != string(want) {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", f, got, want)
		}
	}
}

// synFixtureDir is where the seed article's programs live, outside the
// repository (../shared/fixtures from the repository root).
const synFixtureDir = "../../shared/fixtures"

func synFixture(t *testing.T, name string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(synFixtureDir, name))
	if err != nil {
		if os.IsNotExist(err) {
			t.Skipf("seed fixtures not available (%s is absent, as on a fresh clone): %v", synFixtureDir, err)
		}
		t.Fatal(err)
	}
	return src
}

func TestSeedFixtures(t *testing.T) {
	for _, name := range []string{"callback.sppr", "myname-basic.sppr", "myname-c.sppr"} {
		t.Run(name, func(t *testing.T) {
			prog, err := Parse(name, synFixture(t, name))
			if err != nil {
				t.Fatalf("Parse:\n%v", err)
			}
			if errs := Check(prog, synKnown); len(errs) > 0 {
				t.Errorf("Check:\n%v", errs)
			}
			if main := prog.Lookup("main"); main == nil || main.Kind != EntrySection {
				t.Fatalf("no entry Main")
			}
			text := prog.String()
			var wants []string
			switch name {
			case "callback.sppr":
				wants = []string{
					`(if (!= (call acceptcall) null)`,
					`(exitif (or (not (call isstring input)) (== input "#")))`,
					`(= accumulator (+ accumulator input))`,
					`(call sendemail (+ "CallbackMailer@" (call mydomain)) (+ "Вам надо перезвонить на номер:" accumulator) (call myemail) null "")`,
				}
			case "myname-basic.sppr":
				wants = []string{`(= myname (+ (+ "Jim" " ") "Smith"))`, `(> (call length myname) 10)`, `(+ (call substring myname 0 8) "..")`}
			case "myname-c.sppr":
				wants = []string{`(= myname (+ (+ "Jim" " ") "Smith"))`, `(> (method myname length) 10)`, `(+ (method myname substring 0 8) "..")`}
			}
			for _, w := range wants {
				if !strings.Contains(text, w) {
					t.Errorf("missing %s in\n%s", w, text)
				}
			}
		})
	}
}
