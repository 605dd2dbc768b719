package cgpl

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseXMLPrints(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<a/>", "<a/>"},
		{"<a></a>", "<a/>"},
		{`<?xml version="1.0" encoding="UTF-8"?><!-- c --><a x='1' y="&lt;&quot;"/>`, `<a x="1" y="&lt;&quot;"/>`},
		{"<p:a xmlns:p=\"urn:p\" xmlns=\"urn:d\" p:x=\"1\">t</p:a>", `<p:a xmlns:p="urn:p" xmlns="urn:d" p:x="1">t</p:a>`},
		{"<a>x<![CDATA[<y>]]>z<!-- gone --><?pi gone?>w</a>", "<a>x&lt;y&gt;zw</a>"},
		{"<a>\n  <b>1</b>\n  <b> </b>\n</a>", "<a><b>1</b><b> </b></a>"},
		{"<a>  </a>", "<a>  </a>"},
		{"<a>line\r\nend\rx</a>", "<a>line\nend\nx</a>"},
		{"<a v=\"t&#9;a&#10;b&#13;\">&#13;</a>", "<a v=\"t&#x9;a&#xA;b&#xD;\">&#xD;</a>"},
		{"<имя атрибут=\"значение\">текст</имя>", "<имя атрибут=\"значение\">текст</имя>"},
		{"<a>]]&gt;</a>", "<a>]]&gt;</a>"},
	}
	for _, c := range cases {
		x, err := ParseXML(c.in)
		if err != nil {
			t.Errorf("ParseXML(%q): %v", c.in, err)
			continue
		}
		if got := x.String(); got != c.want {
			t.Errorf("ParseXML(%q).String() = %q, want %q", c.in, got, c.want)
		}
		back, err := ParseXML(x.String())
		if err != nil || !back.Equal(x) {
			t.Errorf("ParseXML(%q) does not read back: %v", x.String(), err)
		}
	}
}

func TestParseXMLErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "no element"},
		{"   ", "no element"},
		{"text", "text outside the element"},
		{"<a>", "<a> is not closed"},
		{"<a><b></a>", "<b> is closed by </a>"},
		{"</a>", "bad XML"},
		{"<a x=\"1\" x=\"2\"/>", "attribute x is repeated"},
		{"<a xmlns:p=\"1\" xmlns:p=\"2\"/>", "xmlns:p is declared twice"},
		{"<a:b:c/>", "bad XML"},
		{"<a:/>", "bad element name"},
		{"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "DOCTYPE"},
		{"<a>&nbsp;</a>", "bad XML"},
		{"<a>\x01</a>", "bad XML"},
		{"<a>\xff</a>", "bad XML"},
		{`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, "only UTF-8"},
		{"<a/><b/>", "unexpected text after the XML element"},
		{strings.Repeat("<a>", MaxNesting+1) + strings.Repeat("</a>", MaxNesting+1), "nesting deeper than"},
	}
	for _, c := range cases {
		x, err := ParseXML(c.in)
		if err == nil {
			t.Errorf("ParseXML(%q) = %v, want an error with %q", c.in, x, c.want)
			continue
		}
		var te *TextError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseXML(%q): %v, want a TextError with %q", c.in, err, c.want)
		}
	}
}

func TestParseXMLBudget(t *testing.T) {
	big := "<a>" + strings.Repeat("<b>some text</b>", 1000) + "</a>"
	budget := int64(1000)
	if _, _, err := parseXMLPrefix(big, 0, &budget); !errors.Is(err, errXMLMemory) {
		t.Fatalf("parse past the budget: %v", err)
	}
	budget = 1 << 20
	if _, _, err := parseXMLPrefix(big, 0, &budget); err != nil || budget >= 1<<20 {
		t.Fatalf("parse within the budget: %v, budget left %d", err, budget)
	}
}

func TestXMLBuilding(t *testing.T) {
	x, err := NewXMLElement("iq", "cli")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "1a", "a b", "a:b", "-a", "a<", "xml/"} {
		if _, err := NewXMLElement(bad, ""); err == nil {
			t.Errorf("NewXMLElement(%q) accepted", bad)
		}
		if _, err := NewXMLElement("a", bad); err == nil && bad != "" {
			t.Errorf("prefix %q accepted", bad)
		}
	}
	for _, good := range []string{"a", "_x", "a.b-c_1", "имя", "名前"} {
		if _, err := NewXMLElement(good, ""); err != nil {
			t.Errorf("NewXMLElement(%q): %v", good, err)
		}
	}
	if err := x.SetAttr("", "xmlns", "u"); err == nil {
		t.Error("attribute xmlns accepted")
	}
	if err := x.SetAttr("xmlns", "p", "u"); err == nil {
		t.Error("attribute prefix xmlns accepted")
	}
	if err := x.SetAttr("", "a", "bad\x00"); err == nil {
		t.Error("NUL in an attribute accepted")
	}
	if err := x.AddText("\xff"); err == nil {
		t.Error("non-UTF-8 text accepted")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(x.SetNamespace("cli", "jabber:client"))
	must(x.SetAttr("", "type", "get"))
	must(x.SetAttr("", "id", "1"))
	must(x.SetAttr("", "type", "set")) // keeps its place
	must(x.AddText("a"))
	must(x.AddText("b")) // joined to "a"
	must(x.AddText(""))
	if len(x.Body()) != 1 || x.Text() != "ab" {
		t.Fatalf("body %v", x.Body())
	}
	q, _ := NewXMLElement("query", "")
	must(q.SetNamespace("", "jabber:iq:roster"))
	must(x.AddChild(q))
	p, _ := NewXMLElement("item", "cli")
	must(x.AddChild(p))
	if got, want := x.String(), `<cli:iq xmlns:cli="jabber:client" type="set" id="1">ab<query xmlns="jabber:iq:roster"/><cli:item/></cli:iq>`; got != want {
		t.Fatalf("String() = %s, want %s", got, want)
	}
	if err := q.AddChild(x); err == nil {
		t.Error("a cycle was accepted")
	}
	if err := x.AddChild(x); err == nil {
		t.Error("an element in itself was accepted")
	}
	// Namespaces of sub-elements: their own declaration, else the parent's.
	if c := x.Child("query", false, "jabber:iq:roster", false, 0); c != q {
		t.Error("query not found in its own namespace")
	}
	if c := x.Child("item", false, "jabber:client", false, 0); c != p {
		t.Error("item not found in its parent's namespace")
	}
	if c := x.Child("", true, "", true, 1); c != p {
		t.Error("second sub-element of any type")
	}
	if c := x.Child("item", false, "other", false, 0); c != nil {
		t.Error("item found in another namespace")
	}
	if pre, ok := x.PrefixOf("jabber:client"); !ok || pre != "cli" {
		t.Errorf("PrefixOf = %q, %v", pre, ok)
	}
	pr, n, ok := x.AttrAt(1)
	if !ok || pr != "" || n != "id" || x.NumAttrs() != 2 {
		t.Errorf("AttrAt(1) = %q %q %v", pr, n, ok)
	}
	x.RemoveAttr("", "type")
	x.RemoveNamespace("cli")
	if _, ok := x.Attr("", "type"); ok {
		t.Error("attribute not removed")
	}
	if _, ok := x.Namespace("cli"); ok {
		t.Error("namespace not removed")
	}
	// Copy is deep, equal, and not the same object.
	c := CopyValue(x).(*XML)
	if c == x || !Equals(c, x) || SameObject(c, x) {
		t.Error("Copy")
	}
	must(c.Child("query", false, "", true, 0).AddText("changed"))
	if Equals(c, x) {
		t.Error("the copy shares a sub-element")
	}
}

// An element shared many times over must not make printing, comparing or
// converting take exponential time.
func TestXMLSharedSubElements(t *testing.T) {
	leaf, _ := NewXMLElement("string", "")
	_ = leaf.AddText("x")
	cur := leaf
	for i := 0; i < 60; i++ {
		arr, _ := NewXMLElement("array", "")
		for j := 0; j < 2; j++ {
			sv, _ := NewXMLElement("subValue", "")
			_ = sv.AddChild(cur)
			_ = arr.AddChild(sv)
		}
		cur = arr
	}
	if !Equals(cur, CopyValue(cur)) {
		t.Error("copy of a shared structure differs")
	}
	if _, err := XMLToObject(cur); err == nil {
		t.Error("XMLToObject of 2^60 leaves succeeded")
	}
	if s := cur.String(); len(s) > MaxTextSize+1024 {
		t.Errorf("printed %d bytes", len(s))
	}
	if _, err := ObjectToStringChecked(cur, 1<<20); err == nil {
		t.Error("ObjectToStringChecked did not stop")
	}
}

func TestObjectToXMLRoundTrip(t *testing.T) {
	for _, s := range []string{
		`abc`, `""`, `#-5`, `[SGVsbG8=]`, `[]`, `#T05-11-2008_10:20:30`, `#TPAST`, `#TFUTURE`,
		`#I[10.0.0.1]:5060`, `#I[::1]`, `()`, `(a,"",(),{},#1)`, `{a=b;"c d"=(#1,{x=y;});e="";}`,
		`(<a x="1">t<b/></a>,{k=<c/>;})`, `"tab\tline\ncr\r"`,
	} {
		v := ltV(t, s)
		x, err := ObjectToXML(v)
		if err != nil {
			t.Errorf("ObjectToXML(%s): %v", s, err)
			continue
		}
		text := x.String()
		px, err := ParseXML(text)
		if err != nil {
			t.Errorf("ObjectToXML(%s) = %s does not parse: %v", s, text, err)
			continue
		}
		back, err := XMLToObject(px)
		if err != nil || !Equals(back, v) {
			t.Errorf("%s -> %s -> %s, %v", s, text, ObjectToString(back), err)
		}
	}
	if got, _ := XMLToObject(must(ParseXML("<null/>"))); got != nil {
		t.Errorf("<null/> = %v", got)
	}
	// What XML cannot carry is replaced, never a broken document.
	x, _ := ObjectToXML(String("a\x01b\xffc"))
	if got := x.Text(); got != "a\uFFFDb\uFFFDc" {
		t.Errorf("unsafe text = %q", got)
	}
	// Cycles and handles become <null/>.
	a := NewArray()
	a.Elems = append(a.Elems, a, &ltHandle{kind: "Task"})
	x, _ = ObjectToXML(a)
	if got, want := x.String(), "<array><subValue><null/></subValue><subValue><null/></subValue></array>"; got != want {
		t.Errorf("cyclic array = %s, want %s", got, want)
	}
	// Not a representation: null; malformed numbers and dates too.
	for _, s := range []string{"<foo/>", "<number>12x</number>", "<date>yesterday</date>", "<ip>nowhere</ip>", "<xml/>"} {
		if v, err := XMLToObject(must(ParseXML(s))); v != nil || err != nil {
			t.Errorf("XMLToObject(%s) = %v, %v", s, v, err)
		}
	}
	// Lenient reading: prefixes are ignored, a date in the textual form.
	v, _ := XMLToObject(must(ParseXML(`<p:array xmlns:p="u"><subValue><date>05-11-2008_10:20:30</date></subValue><other/><subValue>  <number> 7 </number> </subValue></p:array>`)))
	if got := ObjectToString(v); got != "(#T05-11-2008_10:20:30,#7)" {
		t.Errorf("lenient = %s", got)
	}
}

func must(x *XML, err error) *XML {
	if err != nil {
		panic(err)
	}
	return x
}

func TestXMLLibrary(t *testing.T) {
	x := must(ParseXML(`<c:iq xmlns:c="urn:c" type="get"><q xmlns="urn:q"/><c:r/>text</c:iq>`))
	ltRun(t, []ltCase{
		{fn: "IsXML", args: []Value{x}, want: Yes},
		{fn: "IsXML", args: []Value{String("<a/>")}, want: nil},
		{fn: "ObjectClass", args: []Value{x}, want: String("STXML")},
		{fn: "XMLType", args: []Value{x}, want: String("iq")},
		{fn: "XMLPrefix", args: []Value{x}, want: String("c")},
		{fn: "XMLType", args: []Value{String("x")}, exc: "XMLType: the argument must be an XML object, not string"},
		{fn: "GetAttribute", args: []Value{x, String("type")}, want: String("get")},
		{fn: "GetAttribute", args: []Value{x, String("type"), String("c")}, want: nil},
		{fn: "GetAttribute", args: []Value{x, Number(0)}, want: NewArray(String("type"), String(""))},
		{fn: "GetAttribute", args: []Value{x, Number(-1)}, want: nil},
		{fn: "GetAttribute", args: []Value{x, NewArray()}, exc: "the name must be a string or a number"},
		{fn: "GetNamespace", args: []Value{x, String("c")}, want: String("urn:c")},
		{fn: "GetNamespace", args: []Value{x}, want: nil},
		{fn: "GetNamespace", args: []Value{x, Number(1)}, exc: "the prefix must be a string or null"},
		{fn: "GetPrefix", args: []Value{x, String("urn:c")}, want: String("c")},
		{fn: "GetPrefix", args: []Value{x, String("urn:none")}, want: nil},
		{fn: "XMLBody", args: []Value{x, String("r"), String("urn:c")}, want: must(ParseXML("<c:r/>"))},
		{fn: "XMLBody", args: []Value{x, String("q"), String("urn:q")}, want: must(ParseXML(`<q xmlns="urn:q"/>`))},
		{fn: "XMLBody", args: []Value{x, String("q"), String("urn:c")}, want: nil},
		{fn: "XMLBody", args: []Value{x, nil, nil, Number(1)}, want: must(ParseXML("<c:r/>"))},
		{fn: "XMLBody", args: []Value{x, nil, nil, Number(2)}, want: nil},
		{fn: "XMLBody", args: []Value{x, nil, nil, Number(-1)}, exc: "the index must be a number 0 or more"},
		{fn: "XMLBody", args: []Value{x, Number(1)}, exc: "the type must be a string or null"},
		{fn: "String", args: []Value{x}, want: String("text")},
		{fn: "Length", args: []Value{x}, want: Number(0)},
		{fn: "NewXML", args: []Value{String("a"), nil, String("urn:a")}, want: must(ParseXML(`<a xmlns="urn:a"/>`))},
		{fn: "NewXML", args: []Value{Number(1)}, exc: "NewXML: the type must be a string, not number"},
		{fn: "NewXML", args: []Value{String("a"), String("p q")}, exc: `"p q" is not a valid XML prefix`},
		{fn: "SetAttribute", args: []Value{x, Number(1), String("n")}, exc: "the value must be a string or null"},
		{fn: "SetAttribute", args: []Value{NewArray(), String("v"), String("n")}, exc: "must be an XML object"},
		{fn: "SetNamespace", args: []Value{x, Number(1)}, exc: "the namespace must be a string or null"},
		{fn: "AddElement", args: []Value{x, Number(1)}, exc: "an XML object takes a string or an XML object, not number"},
		{fn: "ToObject", args: []Value{must(ParseXML("<number>5</number>"))}, want: Number(5)},
		{fn: "ObjectToJSON", args: []Value{NewArray(must(ParseXML(`<a b="&quot;"/>`)))}, want: String(`["<a b=\"&quot;\"/>"]`)},
	})
	// The procedures change the object.
	y := must(ParseXML("<a/>"))
	for _, call := range [][]Value{
		{String("SetAttribute"), y, String("1"), String("n")},
		{String("SetAttribute"), y, String("2"), String("n"), String("p")},
		{String("SetNamespace"), y, String("urn:p"), String("p")},
		{String("SetNamespace"), y, String("urn:d")},
		{String("AddElement"), y, String("t")},
		{String("SetAttribute"), y, nil, String("n")},
		{String("SetNamespace"), y, nil},
	} {
		if _, err := ltCall(t, string(call[0].(String)), call[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := y.String(), `<a xmlns:p="urn:p" p:n="2">t</a>`; got != want {
		t.Errorf("after the procedures: %s, want %s", got, want)
	}
}

// TestXMLMemoryLimit: XML read by a task counts against its memory limit.
func TestXMLMemoryLimit(t *testing.T) {
	src := "entry Main is\n  s = \"<a>\";\n  for i = 0 while i < 12 by i += 1 loop\n    s = s + s;\n  end loop;\n" +
		"  x = ToObject(\"<r>\" + s + \"</r>\");\n  SysLog(\"parsed\");\nend;\n"
	mod, err := Compile("m.sppr", []byte(strings.ReplaceAll(src, `"<a>"`, `"<a>x</a>"`)), NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	run := func(max int64) error {
		task := mod.NewTask(context.Background(), TaskOptions{Limits: Limits{MaxSteps: 1e6, SliceSteps: 1e4, MaxMemory: max, MaxDepth: 100}})
		return task.Run("")
	}
	if err := run(64 << 20); err != nil {
		t.Fatalf("with room: %v", err)
	}
	err = run(200_000)
	var re *RuntimeError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "memory limit") || re.Pos.Line != 6 {
		t.Fatalf("without room: %v", err)
	}
}
