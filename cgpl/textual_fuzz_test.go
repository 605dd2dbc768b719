package cgpl

import "testing"

// FuzzToObject: ToObject never panics, and what it accepts prints to a
// form that parses back to an equal value printing the same way.
func FuzzToObject(f *testing.F) {
	for _, s := range []string{
		"abc", `"a\"b\\c\r\n\t\e\001"`, "#123", "#-5", "[SGVsbG8=]", "(a,#1,(b))",
		"{a=b;\"c d\"=(#1,#2);}", "#T05-11-2008_00:00:00", "#TPAST", "#TFUTURE",
		"#T02-01-2026_03:04:05.5", "#I[10.0.0.1]:5060", "#I[::1]", "#null#",
		"// c\n( a , /* x */ b , )", "{a=b}", "example.com", "[SGVs bG8]", "(((())))",
		"{k={k={k=();};};}", "\"\xff\"",
		"<a x=\"1\">t<b/></a>", "(<a/>,{k=<p:b xmlns:p=\"u\"/>;})", "<a>\n <b/>\n</a>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ToObject(s)
		if err != nil {
			if v != nil {
				t.Fatalf("ToObject(%q) gave both a value and %v", s, err)
			}
			return
		}
		text := ObjectToString(v)
		back, err := ToObject(text)
		if err != nil {
			t.Fatalf("ToObject(%q) = %q, which does not parse: %v", s, text, err)
		}
		if !Equals(v, back) {
			t.Fatalf("ToObject(%q): %q parses to a different value", s, text)
		}
		if again := ObjectToString(back); again != text {
			t.Fatalf("ToObject(%q): printed %q, then %q", s, text, again)
		}
	})
}

// FuzzJSONToObject: JSONToObject never panics, and what it accepts goes
// through ObjectToJSON / JSONToObject and through the textual format
// unchanged.
func FuzzJSONToObject(f *testing.F) {
	for _, s := range []string{
		`null`, `true`, `false`, `1`, `-0`, `1.5`, `1e3`, `123456789012345678901234567890`,
		`"a\u00e9\ud83c\udf89\n"`, `[1,"x",null,[],{}]`, `{"a":{"b":[true,false]},"a":2}`,
		` { "k" : [ 1 , 2 ] } `, `"\u2028"`, `[[[[]]]]`, `{"":""}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := JSONToObject(s)
		if err != nil {
			return
		}
		js, err := ObjectToJSON(v)
		if err != nil {
			t.Fatalf("ObjectToJSON(JSONToObject(%q)): %v", s, err)
		}
		back, err := JSONToObject(js)
		if err != nil {
			t.Fatalf("JSONToObject(%q) printed %q, which does not parse: %v", s, js, err)
		}
		if again, _ := ObjectToJSON(back); again != js {
			t.Fatalf("JSONToObject(%q): printed %q, then %q", s, js, again)
		}
		if !Equals(v, back) {
			t.Fatalf("JSONToObject(%q): %q parses to a different value", s, js)
		}
		text := ObjectToString(v)
		tv, err := ToObject(text)
		if err != nil || !Equals(tv, v) {
			t.Fatalf("JSONToObject(%q) = %q in the textual format, which gives %v", s, text, err)
		}
	})
}

// FuzzLibraryCalls: no library function or operator panics, whatever the
// arguments. The input is a textual array; its elements are the arguments.
func FuzzLibraryCalls(f *testing.F) {
	for _, s := range []string{
		"(abcdef,#-1,#2)", "(#-9223372036854775808,#9223372036854775807,#0)", `("A forest for all",for,#-5)`,
		"(#T01-01-0001_00:00:00,#-1)", "(#TFUTURE,#TPAST)", "(#I[::1]:5060,\"[1.2.3.4]:1\")", "([AAEC],hex)",
		`("\377\376",utfcode)`, "((a,b),#1,x)", "({a=b;},#0,c)", `("a(b",".*")`, "(#null#,#null#,#null#)",
		`("Привет €",windows-1251)`, "([Z/Do4uXy],koi8-r)", `("日€本\377",iso-2022-jp)`, "([GyRCRg==],ISO-2022-JP)",
		"([kw==],shift_jis)", `("中文",gb18030)`, "([AAE=],utf-16)",
	} {
		f.Add(s)
	}
	binary := []func(a, b Value) (Value, error){Add, Sub, Mul, Div, Mod, Less, LessEq, Greater, GreaterEq,
		func(a, b Value) (Value, error) { return Equal(a, b), nil },
		func(a, b Value) (Value, error) { return Index(a, b) },
		func(a, b Value) (Value, error) { return nil, SetIndex(a, b, a) },
		func(a, b Value) (Value, error) { s, _ := b.(String); return Member(a, string(s)) },
		func(a, b Value) (Value, error) { s, _ := b.(String); return nil, SetMember(a, string(s), b) },
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ToObject(s)
		if err != nil {
			return
		}
		args, ok := v.(*Array)
		if !ok || len(args.Elems) > 4 {
			return
		}
		for _, p := range Library() {
			for n := p.MinArgs; n <= p.MaxArgs && n <= len(args.Elems); n++ {
				a := make([]Value, n)
				copy(a, args.Elems)
				_, _ = p.Fn(a)
			}
		}
		if len(args.Elems) >= 2 {
			for _, op := range binary {
				_, _ = op(args.Elems[0], args.Elems[1])
				_, _ = op(args.Elems[1], args.Elems[0])
			}
		}
		if len(args.Elems) >= 1 {
			_, _ = Neg(args.Elems[0])
			_ = ObjectToString(args.Elems[0])
		}
	})
}
