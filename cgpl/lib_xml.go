package cgpl

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds the functions on XML objects and the conversion of
// values to and from their XML representation (ObjectToXML, and ToObject
// of an XML object).

// xmlArg checks that a function's first argument is an XML object.
func xmlArg(fn string, v Value) (*XML, error) {
	x, ok := v.(*XML)
	if !ok {
		return nil, Throw("%s: the argument must be an XML object, not %s", fn, TypeName(v))
	}
	return x, nil
}

// xmlOptString reads an optional string argument: null (or absent) is "".
func xmlOptString(fn, what string, a []Value, i int) (string, error) {
	if i >= len(a) || a[i] == nil {
		return "", nil
	}
	s, ok := a[i].(String)
	if !ok {
		return "", Throw("%s: the %s must be a string or null, not %s", fn, what, TypeName(a[i]))
	}
	return string(s), nil
}

func libXML() []Pure {
	return []Pure{
		{Name: "NewXML", MinArgs: 1, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			typ, ok := a[0].(String)
			if !ok {
				return nil, Throw("NewXML: the type must be a string, not %s", TypeName(a[0]))
			}
			prefix, err := xmlOptString("NewXML", "prefix", a, 1)
			if err != nil {
				return nil, err
			}
			x, err := NewXMLElement(string(typ), prefix)
			if err != nil {
				return nil, Throw("NewXML: %v", err)
			}
			if len(a) > 2 && a[2] != nil {
				ns, ok := a[2].(String)
				if !ok {
					return nil, Throw("NewXML: the namespace must be a string or null, not %s", TypeName(a[2]))
				}
				if err := x.SetNamespace(prefix, string(ns)); err != nil {
					return nil, Throw("NewXML: %v", err)
				}
			}
			return x, nil
		}},
		{Name: "SetNamespace", MinArgs: 2, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			x, err := xmlArg("SetNamespace", a[0])
			if err != nil {
				return nil, err
			}
			prefix, err := xmlOptString("SetNamespace", "prefix", a, 2)
			if err != nil {
				return nil, err
			}
			switch ns := a[1].(type) {
			case nil:
				x.RemoveNamespace(prefix)
			case String:
				if err := x.SetNamespace(prefix, string(ns)); err != nil {
					return nil, Throw("SetNamespace: %v", err)
				}
			default:
				return nil, Throw("SetNamespace: the namespace must be a string or null, not %s", TypeName(a[1]))
			}
			return nil, nil
		}},
		{Name: "GetNamespace", MinArgs: 1, MaxArgs: 2, Fn: func(a []Value) (Value, error) {
			x, err := xmlArg("GetNamespace", a[0])
			if err != nil {
				return nil, err
			}
			prefix, err := xmlOptString("GetNamespace", "prefix", a, 1)
			if err != nil {
				return nil, err
			}
			if ns, ok := x.Namespace(prefix); ok {
				return String(ns), nil
			}
			return nil, nil
		}},
		{Name: "GetPrefix", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) {
			x, err := xmlArg("GetPrefix", a[0])
			if err != nil {
				return nil, err
			}
			ns, ok := a[1].(String)
			if !ok {
				return nil, Throw("GetPrefix: the namespace must be a string, not %s", TypeName(a[1]))
			}
			if p, ok := x.PrefixOf(string(ns)); ok {
				return String(p), nil
			}
			return nil, nil
		}},
		{Name: "SetAttribute", MinArgs: 3, MaxArgs: 4, Fn: func(a []Value) (Value, error) {
			x, err := xmlArg("SetAttribute", a[0])
			if err != nil {
				return nil, err
			}
			name, ok := a[2].(String)
			if !ok {
				return nil, Throw("SetAttribute: the name must be a string, not %s", TypeName(a[2]))
			}
			prefix, err := xmlOptString("SetAttribute", "prefix", a, 3)
			if err != nil {
				return nil, err
			}
			switch v := a[1].(type) {
			case nil:
				x.RemoveAttr(prefix, string(name))
			case String:
				if err := x.SetAttr(prefix, string(name), string(v)); err != nil {
					return nil, Throw("SetAttribute: %v", err)
				}
			default:
				return nil, Throw("SetAttribute: the value must be a string or null, not %s", TypeName(a[1]))
			}
			return nil, nil
		}},
		{Name: "GetAttribute", MinArgs: 2, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			x, err := xmlArg("GetAttribute", a[0])
			if err != nil {
				return nil, err
			}
			prefix, err := xmlOptString("GetAttribute", "prefix", a, 2)
			if err != nil {
				return nil, err
			}
			switch k := a[1].(type) {
			case String:
				if v, ok := x.Attr(prefix, string(k)); ok {
					return String(v), nil
				}
				return nil, nil
			case Number:
				p, n, ok := x.AttrAt(int(max(min(k, 1<<30), -1)))
				if !ok {
					return nil, nil
				}
				return NewArray(String(n), String(p)), nil
			}
			return nil, Throw("GetAttribute: the name must be a string or a number, not %s", TypeName(a[1]))
		}},
		{Name: "XMLBody", MinArgs: 2, MaxArgs: 4, Fn: func(a []Value) (Value, error) {
			x, err := xmlArg("XMLBody", a[0])
			if err != nil {
				return nil, err
			}
			var typ String
			anyType := a[1] == nil
			if !anyType {
				var ok bool
				if typ, ok = a[1].(String); !ok {
					return nil, Throw("XMLBody: the type must be a string or null, not %s", TypeName(a[1]))
				}
			}
			var ns String
			anyNS := len(a) < 3 || a[2] == nil
			if !anyNS {
				var ok bool
				if ns, ok = a[2].(String); !ok {
					return nil, Throw("XMLBody: the namespace must be a string or null, not %s", TypeName(a[2]))
				}
			}
			index := Number(0)
			if len(a) > 3 && a[3] != nil {
				n, ok := a[3].(Number)
				if !ok || n < 0 {
					return nil, Throw("XMLBody: the index must be a number 0 or more, not %s", ObjectToString(a[3]))
				}
				index = n
			}
			if index > 1<<31 {
				return nil, nil
			}
			if c := x.Child(string(typ), anyType, string(ns), anyNS, int(index)); c != nil {
				return c, nil
			}
			return nil, nil
		}},
		{Name: "XMLType", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			x, err := xmlArg("XMLType", a[0])
			if err != nil {
				return nil, err
			}
			return String(x.typ), nil
		}},
		{Name: "XMLPrefix", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			x, err := xmlArg("XMLPrefix", a[0])
			if err != nil {
				return nil, err
			}
			return String(x.prefix), nil
		}},
		{Name: "ObjectToXML", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			x, err := ObjectToXML(a[0])
			if err != nil {
				return nil, Throw("ObjectToXML: %v", err)
			}
			return x, nil
		}},
	}
}

// The XML representation of values (ObjectToXML; ToObject reads it back):
//
//	null        <null/>
//	string      <string>text</string>
//	number      <number>123</number>
//	datablock   <base64>SGVsbG8=</base64>
//	timestamp   <date>2008-11-05T10:20:30Z</date>, <date>PAST</date>, <date>FUTURE</date>
//	IP address  <ip>[10.0.0.1]:5060</ip>
//	array       <array><subValue>…</subValue>…</array>
//	dictionary  <dictionary><subKey key="k">…</subKey>…</dictionary>
//	XML object  <xml>the object</xml>
//
// Inside subValue and subKey a string is the element's text and any other
// value its one sub-element. A host handle is written as <null/>.

// xmlTimeLayout is the layout of a timestamp in the XML representation.
const xmlTimeLayout = "2006-01-02T15:04:05Z"

// ObjectToXML returns the XML representation of v. Containers that contain
// themselves, and nesting past MaxNesting, are written as <null/> where
// they recur; a representation larger than MaxTextSize fails.
func ObjectToXML(v Value) (*XML, error) {
	b := xmlBuilder{left: MaxTextSize}
	x := b.value(v, 0)
	if b.left < 0 {
		return nil, errTextTooLarge{}
	}
	return x, nil
}

type xmlBuilder struct {
	left  int          // bytes the representation may still take
	stack map[any]bool // containers being converted (cycle detection)
}

func (b *xmlBuilder) elem(typ, text string) *XML {
	b.left -= 64 + len(text)
	x := &XML{typ: typ}
	if text != "" {
		x.body = []Value{String(text)}
	}
	return x
}

func (b *xmlBuilder) value(v Value, depth int) *XML {
	if b.left < 0 {
		return &XML{typ: "null"}
	}
	switch x := v.(type) {
	case String:
		return b.elem("string", xmlSafe(string(x)))
	case Number:
		return b.elem("number", strconv.FormatInt(int64(x), 10))
	case Data:
		return b.elem("base64", base64.StdEncoding.EncodeToString(x))
	case Time:
		switch {
		case x.Special < 0:
			return b.elem("date", "PAST")
		case x.Special > 0:
			return b.elem("date", "FUTURE")
		}
		return b.elem("date", x.T.UTC().Format(xmlTimeLayout))
	case IP:
		return b.elem("ip", ipText(x))
	case *XML:
		w := b.elem("xml", "")
		b.left -= x.size(max(b.left, 0) + 1)
		w.body = []Value{CopyValue(x)}
		return w
	case *Array:
		if depth >= MaxNesting || !b.enter(x) {
			return b.elem("null", "")
		}
		r := b.elem("array", "")
		for _, e := range x.Elems {
			r.body = append(r.body, b.slot("subValue", e, depth))
			if b.left < 0 {
				break
			}
		}
		delete(b.stack, x)
		return r
	case *Dict:
		if depth >= MaxNesting || !b.enter(x) {
			return b.elem("null", "")
		}
		r := b.elem("dictionary", "")
		for _, k := range x.Keys() {
			s := b.slot("subKey", x.vals[k], depth)
			s.attrs = []xmlAttr{{name: "key", value: xmlSafe(k)}}
			b.left -= len(k)
			r.body = append(r.body, s)
			if b.left < 0 {
				break
			}
		}
		delete(b.stack, x)
		return r
	}
	return b.elem("null", "")
}

// slot is a subValue or subKey element holding v: its text for a string,
// its representation otherwise.
func (b *xmlBuilder) slot(typ string, v Value, depth int) *XML {
	if s, ok := v.(String); ok {
		return b.elem(typ, xmlSafe(string(s)))
	}
	e := b.elem(typ, "")
	e.body = []Value{b.value(v, depth+1)}
	return e
}

func (b *xmlBuilder) enter(c any) bool {
	if b.stack == nil {
		b.stack = map[any]bool{}
	}
	if b.stack[c] {
		return false
	}
	b.stack[c] = true
	return true
}

// xmlSafe replaces what XML cannot carry (bytes that are not UTF-8,
// control characters but TAB, LF and CR) with U+FFFD.
func xmlSafe(s string) string {
	if xmlCheckText(s) == nil {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if !xmlInRange(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// XMLToObject is ToObject of an XML object: the value its XML
// representation (see ObjectToXML) stands for; null for an element that
// represents none (an unknown type, a malformed number or date). The
// prefix and namespace of the elements are not looked at. An element that
// shares sub-elements so much that the value would exceed MaxTextSize
// fails.
func XMLToObject(x *XML) (Value, error) {
	r := xmlReader{left: MaxTextSize}
	v := r.value(x, 0)
	if r.left < 0 {
		return nil, fmt.Errorf("the value represented is larger than %d bytes", MaxTextSize)
	}
	return v, nil
}

type xmlReader struct{ left int }

func (r *xmlReader) value(x *XML, depth int) Value {
	r.left -= 32 + len(x.body)*16
	if r.left < 0 || depth >= MaxNesting {
		return nil
	}
	text := func() string {
		s := x.Text()
		r.left -= len(s)
		return s
	}
	switch x.typ {
	case "string":
		return String(text())
	case "number":
		if n, ok := parseDecimal(strings.TrimSpace(text())); ok {
			return Number(n)
		}
	case "base64":
		return Data(base64Lenient(text()))
	case "date":
		switch s := strings.TrimSpace(text()); s {
		case "PAST":
			return RemotePast
		case "FUTURE":
			return RemoteFuture
		default:
			if t, err := time.Parse(xmlTimeLayout, s); err == nil {
				return TimeOf(t)
			}
			if t, ok := ParseTimeText(s); ok {
				return t
			}
		}
	case "ip":
		if ip, ok := ParseIPText(strings.TrimSpace(text())); ok {
			return ip
		}
	case "xml":
		for _, b := range x.body {
			if c, ok := b.(*XML); ok {
				r.left -= c.size(max(r.left, 0) + 1)
				return CopyValue(c)
			}
		}
	case "array":
		a := NewArray()
		for _, b := range x.body {
			if c, ok := b.(*XML); ok && c.typ == "subValue" {
				a.Elems = append(a.Elems, r.slot(c, depth))
				if r.left < 0 {
					return nil
				}
			}
		}
		return a
	case "dictionary":
		d := NewDict()
		for _, b := range x.body {
			if c, ok := b.(*XML); ok && c.typ == "subKey" {
				k, _ := c.Attr("", "key")
				d.Set(k, r.slot(c, depth))
				r.left -= len(k)
				if r.left < 0 {
					return nil
				}
			}
		}
		return d
	}
	return nil
}

// slot reads a subValue or subKey: its one sub-element's value, else its
// text.
func (r *xmlReader) slot(x *XML, depth int) Value {
	var elem *XML
	for _, b := range x.body {
		if c, ok := b.(*XML); ok {
			if elem != nil {
				elem = nil
				break
			}
			elem = c
		}
	}
	if elem != nil && strings.Trim(x.Text(), " \t\r\n") == "" {
		return r.value(elem, depth+1)
	}
	s := x.Text()
	r.left -= 16 + len(s)
	return String(s)
}
