package cgpl

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// XML is a CG/PL XML object: one element, with a type (its local name), an
// optional prefix, namespace declarations, attributes and a body of text
// and sub-elements. Like arrays, XML objects are shared by reference;
// Copy copies them deeply.
//
// The body never holds two text pieces in a row or an empty one (AddText
// merges), and no element contains itself (AddChild refuses), so every XML
// object prints (String) as XML text that ParseXML reads back equal.
type XML struct {
	typ, prefix string
	// ns are the namespace declarations made on this element, in the order
	// they were made: prefix ("" for the default namespace) and URI.
	ns    []xmlAttr
	attrs []xmlAttr
	body  []Value // String or *XML
}

type xmlAttr struct{ prefix, name, value string }

// NewXMLElement returns an empty element of type typ with the given prefix
// ("" for none). Both must be XML names without a colon.
func NewXMLElement(typ, prefix string) (*XML, error) {
	if !xmlValidName(typ) {
		return nil, fmt.Errorf("%q is not a valid XML element type", typ)
	}
	if prefix != "" && !xmlValidName(prefix) {
		return nil, fmt.Errorf("%q is not a valid XML prefix", prefix)
	}
	return &XML{typ: typ, prefix: prefix}, nil
}

// Type is the element's type (its local name).
func (x *XML) Type() string { return x.typ }

// Prefix is the element's prefix ("" for none).
func (x *XML) Prefix() string { return x.prefix }

// Namespace is the URI this element declares for prefix ("" for the
// default namespace). Declarations of enclosing elements are not seen: an
// XML object does not know its parent.
func (x *XML) Namespace(prefix string) (string, bool) {
	for _, d := range x.ns {
		if d.prefix == prefix {
			return d.value, true
		}
	}
	return "", false
}

// PrefixOf is the prefix this element declares for the namespace uri ("" for
// the default namespace).
func (x *XML) PrefixOf(uri string) (string, bool) {
	for _, d := range x.ns {
		if d.value == uri {
			return d.prefix, true
		}
	}
	return "", false
}

// SetNamespace declares uri for prefix ("" for the default namespace) on
// this element, replacing an earlier declaration of the prefix.
func (x *XML) SetNamespace(prefix, uri string) error {
	if prefix != "" && (!xmlValidName(prefix) || strings.EqualFold(prefix, "xmlns")) {
		return fmt.Errorf("%q is not a valid XML prefix", prefix)
	}
	if err := xmlCheckText(uri); err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	for i, d := range x.ns {
		if d.prefix == prefix {
			x.ns[i].value = uri
			return nil
		}
	}
	x.ns = append(x.ns, xmlAttr{prefix: prefix, value: uri})
	return nil
}

// RemoveNamespace drops the declaration of prefix, if any.
func (x *XML) RemoveNamespace(prefix string) {
	for i, d := range x.ns {
		if d.prefix == prefix {
			x.ns = append(x.ns[:i:i], x.ns[i+1:]...)
			return
		}
	}
}

// Attr is the value of attribute prefix:name ("" prefix for none).
func (x *XML) Attr(prefix, name string) (string, bool) {
	for _, a := range x.attrs {
		if a.name == name && a.prefix == prefix {
			return a.value, true
		}
	}
	return "", false
}

// AttrAt names the i-th attribute (0-based, in the order they were set).
func (x *XML) AttrAt(i int) (prefix, name string, ok bool) {
	if i < 0 || i >= len(x.attrs) {
		return "", "", false
	}
	return x.attrs[i].prefix, x.attrs[i].name, true
}

// NumAttrs is the number of attributes.
func (x *XML) NumAttrs() int { return len(x.attrs) }

// SetAttr sets attribute prefix:name, keeping its place if it exists.
// Namespace declarations are made with SetNamespace, not as attributes.
func (x *XML) SetAttr(prefix, name, value string) error {
	if !xmlValidName(name) || prefix == "" && name == "xmlns" {
		return fmt.Errorf("%q is not a valid XML attribute name", name)
	}
	if prefix != "" && (!xmlValidName(prefix) || prefix == "xmlns") {
		return fmt.Errorf("%q is not a valid XML attribute prefix", prefix)
	}
	if err := xmlCheckText(value); err != nil {
		return fmt.Errorf("attribute %s: %w", name, err)
	}
	for i, a := range x.attrs {
		if a.name == name && a.prefix == prefix {
			x.attrs[i].value = value
			return nil
		}
	}
	x.attrs = append(x.attrs, xmlAttr{prefix: prefix, name: name, value: value})
	return nil
}

// RemoveAttr drops attribute prefix:name, if any.
func (x *XML) RemoveAttr(prefix, name string) {
	for i, a := range x.attrs {
		if a.name == name && a.prefix == prefix {
			x.attrs = append(x.attrs[:i:i], x.attrs[i+1:]...)
			return
		}
	}
}

// AddText appends text to the body, joining it to text already at the end.
func (x *XML) AddText(s string) error {
	if err := xmlCheckText(s); err != nil {
		return err
	}
	x.addText(s)
	return nil
}

func (x *XML) addText(s string) {
	if s == "" {
		return
	}
	if n := len(x.body); n > 0 {
		if prev, ok := x.body[n-1].(String); ok {
			x.body[n-1] = prev + String(s)
			return
		}
	}
	x.body = append(x.body, String(s))
}

// AddChild appends c as a sub-element (shared, not copied). An element
// cannot contain itself: adding x to itself or to one of its descendants
// fails.
func (x *XML) AddChild(c *XML) error {
	if c == nil {
		return errors.New("no element to add")
	}
	if c == x || c.contains(x, map[*XML]bool{}) {
		return errors.New("an XML object cannot contain itself")
	}
	x.body = append(x.body, c)
	return nil
}

// contains reports whether y is a descendant of x. Each element is visited
// once (seen), however often it is shared.
func (x *XML) contains(y *XML, seen map[*XML]bool) bool {
	for _, b := range x.body {
		c, ok := b.(*XML)
		if !ok || seen[c] {
			continue
		}
		if c == y {
			return true
		}
		seen[c] = true
		if c.contains(y, seen) {
			return true
		}
	}
	return false
}

// Body is the element's content in order: String text pieces and *XML
// sub-elements. The caller must not modify the slice.
func (x *XML) Body() []Value { return x.body }

// Text is the element's own text (its text pieces joined; the text of
// sub-elements is not included).
func (x *XML) Text() string {
	var b strings.Builder
	for _, v := range x.body {
		if s, ok := v.(String); ok {
			b.WriteString(string(s))
		}
	}
	return b.String()
}

// Child finds the index-th (0-based) sub-element of type typ (any type when
// anyType) in namespace ns (any namespace when anyNS). A sub-element's
// namespace is the URI its prefix is declared for on itself, else on x.
func (x *XML) Child(typ string, anyType bool, ns string, anyNS bool, index int) *XML {
	for _, v := range x.body {
		c, ok := v.(*XML)
		if !ok || !anyType && c.typ != typ {
			continue
		}
		if !anyNS {
			uri, ok := c.Namespace(c.prefix)
			if !ok {
				uri, ok = x.Namespace(c.prefix)
			}
			if !ok || uri != ns {
				continue
			}
		}
		if index == 0 {
			return c
		}
		index--
	}
	return nil
}

// String is the XML text of the element (no XML declaration, no added
// white space). Nesting deeper than MaxNesting is left out.
func (x *XML) String() string {
	var p boundedPrinter
	p.limit = MaxTextSize
	p.xml(x, 0)
	return p.b.String()
}

func (x *XML) qname() string {
	if x.prefix == "" {
		return x.typ
	}
	return x.prefix + ":" + x.typ
}

// xml writes an element as XML text.
func (p *boundedPrinter) xml(x *XML, depth int) {
	if depth >= MaxNesting || p.full() {
		return
	}
	p.b.WriteByte('<')
	p.b.WriteString(x.qname())
	for _, d := range x.ns {
		p.b.WriteString(" xmlns")
		if d.prefix != "" {
			p.b.WriteByte(':')
			p.b.WriteString(d.prefix)
		}
		p.b.WriteString(`="`)
		xmlEscape(&p.b, d.value, true)
		p.b.WriteByte('"')
	}
	for _, a := range x.attrs {
		p.b.WriteByte(' ')
		if a.prefix != "" {
			p.b.WriteString(a.prefix)
			p.b.WriteByte(':')
		}
		p.b.WriteString(a.name)
		p.b.WriteString(`="`)
		xmlEscape(&p.b, a.value, true)
		p.b.WriteByte('"')
	}
	if len(x.body) == 0 {
		p.b.WriteString("/>")
		return
	}
	p.b.WriteByte('>')
	for _, v := range x.body {
		switch c := v.(type) {
		case String:
			xmlEscape(&p.b, string(c), false)
		case *XML:
			p.xml(c, depth+1)
		}
		if p.full() {
			return
		}
	}
	p.b.WriteString("</")
	p.b.WriteString(x.qname())
	p.b.WriteByte('>')
}

// xmlEscape writes text or an attribute value. CR (and, in attributes,
// TAB and LF) are written as character references so that a parser's
// line-end and attribute normalisation gives them back unchanged.
func xmlEscape(b *strings.Builder, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		case '"':
			if !attr {
				continue
			}
			esc = "&quot;"
		case '\n':
			if !attr {
				continue
			}
			esc = "&#xA;"
		case '\t':
			if !attr {
				continue
			}
			esc = "&#x9;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// xmlInRange reports whether r may appear in XML text (XML 1.0 Char).
func xmlInRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// xmlCheckText fails for text that XML cannot carry: bytes that are not
// UTF-8 and control characters other than TAB, LF and CR.
func xmlCheckText(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return fmt.Errorf("byte 0x%02x at %d is not UTF-8, which XML needs", s[i], i)
			}
		}
		if !xmlInRange(r) {
			return fmt.Errorf("character %U at %d cannot appear in XML", r, i)
		}
	}
	return nil
}

// xmlValidName reports whether s is an XML name without a colon that the
// XML reader accepts (so that what is built prints as XML that reads back).
func xmlValidName(s string) bool {
	if s == "" || strings.ContainsAny(s, ": \t\r\n<>&\"'/=") {
		return false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	if ascii {
		return true
	}
	// Beyond ASCII, ask the reader itself which letters it takes.
	d := xml.NewDecoder(strings.NewReader("<" + s + "/>"))
	tok, err := d.RawToken()
	if err != nil {
		return false
	}
	se, ok := tok.(xml.StartElement)
	return ok && se.Name.Space == "" && se.Name.Local == s
}

// Equal reports whether x and y have the same type, prefix, declarations,
// attributes (in order) and body.
func (x *XML) Equal(y *XML) bool { return opEquals(x, y, nil) }

func xmlEquals(x, y *XML, seen map[opPair]bool) bool {
	if x == y {
		return true
	}
	if x.typ != y.typ || x.prefix != y.prefix || len(x.ns) != len(y.ns) || len(x.attrs) != len(y.attrs) || len(x.body) != len(y.body) {
		return false
	}
	for i := range x.ns {
		if x.ns[i] != y.ns[i] {
			return false
		}
	}
	for i := range x.attrs {
		if x.attrs[i] != y.attrs[i] {
			return false
		}
	}
	// Sub-elements may be shared many times over: remember pairs compared.
	if seen == nil {
		seen = map[opPair]bool{}
	}
	p := opPair{x, y}
	if seen[p] {
		return true
	}
	seen[p] = true
	for i := range x.body {
		if !opEquals(x.body[i], y.body[i], seen) {
			return false
		}
	}
	return true
}

func (x *XML) copyInto(done map[any]Value) *XML {
	if c, ok := done[x]; ok {
		return c.(*XML)
	}
	c := &XML{typ: x.typ, prefix: x.prefix,
		ns: append([]xmlAttr(nil), x.ns...), attrs: append([]xmlAttr(nil), x.attrs...), body: make([]Value, len(x.body))}
	done[x] = c
	for i, v := range x.body {
		if e, ok := v.(*XML); ok {
			c.body[i] = e.copyInto(done)
		} else {
			c.body[i] = v // text: strings are immutable
		}
	}
	return c
}

// xmlSize estimates the bytes an element holds, for memory accounting.
func (x *XML) size(limit int) int {
	n := 64 + len(x.typ) + len(x.prefix)
	for _, a := range x.ns {
		n += 32 + len(a.prefix) + len(a.value)
	}
	for _, a := range x.attrs {
		n += 32 + len(a.prefix) + len(a.name) + len(a.value)
	}
	for _, v := range x.body {
		if n > limit {
			break
		}
		switch c := v.(type) {
		case String:
			n += 16 + len(c)
		case *XML:
			n += c.size(limit - n)
		}
	}
	return n
}

// ParseXML reads one XML element (optionally after an XML declaration,
// comments and white space): the whole of s but trailing white space.
func ParseXML(s string) (*XML, error) {
	x, n, err := parseXMLPrefix(s, 0, nil)
	if err != nil {
		return nil, err
	}
	if strings.TrimLeft(s[n:], " \t\r\n") != "" {
		return nil, &TextError{Offset: n, Msg: "unexpected text after the XML element"}
	}
	return x, nil
}

// errXMLMemory is the failure of a parse that ran out of its budget.
var errXMLMemory = errors.New("the XML is larger than the memory left to the task")

// parseXMLPrefix reads the XML element at the start of s and reports how
// many bytes it took. depth is the nesting of the element (in a textual
// representation); budget, when not nil, is the memory left, decreased as
// the parse builds the element. Comments and processing instructions are
// dropped, CDATA sections become text, a DOCTYPE is refused; white space
// between sub-elements (text of only spaces, TABs, CRs and LFs in an
// element that has sub-elements) is dropped.
func parseXMLPrefix(s string, depth int, budget *int64) (*XML, int, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "us-ascii") || strings.EqualFold(label, "ascii") {
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q: only UTF-8 is supported", label)
	}
	fail := func(msg string) (*XML, int, error) {
		return nil, 0, &TextError{Offset: int(d.InputOffset()), Msg: "bad XML: " + msg}
	}
	use := func(n int) bool {
		if budget == nil {
			return true
		}
		*budget -= int64(n)
		return *budget >= 0
	}
	var stack []*XML
	for {
		tok, err := d.RawToken()
		if err != nil {
			if err == io.EOF {
				if len(stack) > 0 {
					return fail(fmt.Sprintf("element <%s> is not closed", stack[len(stack)-1].qname()))
				}
				return fail("no element")
			}
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return fail(se.Msg)
			}
			return fail(err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth+len(stack) >= MaxNesting {
				return fail(fmt.Sprintf("nesting deeper than %d", MaxNesting))
			}
			x, msg := xmlElementOf(t)
			if msg != "" {
				return fail(msg)
			}
			if !use(x.size(1 << 30)) {
				return nil, 0, errXMLMemory
			}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.body = append(top.body, x)
			}
			stack = append(stack, x)
		case xml.EndElement:
			if len(stack) == 0 {
				return fail(fmt.Sprintf("</%s> closes no element", xmlQName(t.Name)))
			}
			top := stack[len(stack)-1]
			if t.Name.Space != top.prefix || t.Name.Local != top.typ {
				return fail(fmt.Sprintf("<%s> is closed by </%s>", top.qname(), xmlQName(t.Name)))
			}
			top.dropBlankText()
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return top, int(d.InputOffset()), nil
			}
		case xml.CharData:
			if len(stack) == 0 {
				if strings.Trim(string(t), " \t\r\n") != "" {
					return fail("text outside the element")
				}
				continue
			}
			if !use(16 + len(t)) {
				return nil, 0, errXMLMemory
			}
			stack[len(stack)-1].addText(string(t))
		case xml.Directive:
			return fail("a DOCTYPE or other <!…> declaration is not supported")
		case xml.Comment, xml.ProcInst:
			// Dropped: an XML object holds elements, attributes and text.
		}
	}
}

func xmlQName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// xmlElementOf makes an element of a start tag, or says what is wrong
// with it.
func xmlElementOf(t xml.StartElement) (*XML, string) {
	if !xmlNamePart(t.Name.Local) || t.Name.Space != "" && !xmlNamePart(t.Name.Space) {
		return nil, fmt.Sprintf("bad element name %q", xmlQName(t.Name))
	}
	x := &XML{typ: t.Name.Local, prefix: t.Name.Space}
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			if _, dup := x.Namespace(""); dup {
				return nil, "xmlns is declared twice"
			}
			x.ns = append(x.ns, xmlAttr{value: a.Value})
		case a.Name.Space == "xmlns":
			if !xmlNamePart(a.Name.Local) {
				return nil, fmt.Sprintf("bad namespace prefix %q", a.Name.Local)
			}
			if _, dup := x.Namespace(a.Name.Local); dup {
				return nil, fmt.Sprintf("xmlns:%s is declared twice", a.Name.Local)
			}
			x.ns = append(x.ns, xmlAttr{prefix: a.Name.Local, value: a.Value})
		default:
			if !xmlNamePart(a.Name.Local) || a.Name.Space != "" && !xmlNamePart(a.Name.Space) {
				return nil, fmt.Sprintf("bad attribute name %q", xmlQName(a.Name))
			}
			if _, dup := x.Attr(a.Name.Space, a.Name.Local); dup {
				return nil, fmt.Sprintf("attribute %s is repeated", xmlQName(a.Name))
			}
			x.attrs = append(x.attrs, xmlAttr{prefix: a.Name.Space, name: a.Name.Local, value: a.Value})
		}
	}
	return x, ""
}

// xmlNamePart checks a name the reader has accepted: it may still hold a
// colon ("a:b:c", "a:") that makes it no prefix or local name.
func xmlNamePart(s string) bool { return s != "" && !strings.Contains(s, ":") }

// dropBlankText removes text of only white space from an element that has
// sub-elements: the indentation of pretty-printed XML.
func (x *XML) dropBlankText() {
	hasElem := false
	for _, v := range x.body {
		if _, ok := v.(*XML); ok {
			hasElem = true
			break
		}
	}
	if !hasElem {
		return
	}
	out := x.body[:0]
	for _, v := range x.body {
		if s, ok := v.(String); ok && strings.Trim(string(s), " \t\r\n") == "" {
			continue
		}
		out = append(out, v)
	}
	clear(x.body[len(out):])
	x.body = out
}
