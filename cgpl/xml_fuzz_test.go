package cgpl

import "testing"

// FuzzParseXML: ParseXML never panics; what it accepts prints as XML text
// that reads back to an equal element printing the same way, and its XML
// representation reading (XMLToObject) never fails on what it parsed.
//
//	go test -run '^$' -fuzz '^FuzzParseXML$' -fuzztime 30s ./cgpl/
func FuzzParseXML(f *testing.F) {
	for _, s := range []string{
		"<a/>", `<?xml version="1.0"?><a x="1"/>`, `<p:a xmlns:p="u" xmlns="d" p:x="&lt;">t<b/>u</p:a>`,
		"<a>x<![CDATA[<y>]]>z<!--c--><?pi?></a>", "<a>\n <b/>\n</a>", "<a v=\"&#9;&#10;&#13;\">&#13;</a>",
		"<a><b></a>", "<a>&nbsp;</a>", "<!DOCTYPE a><a/>", "<a:b:c/>", "<имя/>", "<a x='1' x='2'/>",
		"<dictionary><subKey key=\"k\"><array><subValue>v</subValue></array></subKey></dictionary>",
		"<number>12</number>", "<date>2008-11-05T10:20:30Z</date>", "<base64>SGVsbG8=</base64>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := ParseXML(s)
		if err != nil {
			if x != nil {
				t.Fatalf("ParseXML(%q) gave both an element and %v", s, err)
			}
			return
		}
		text := x.String()
		back, err := ParseXML(text)
		if err != nil {
			t.Fatalf("ParseXML(%q) printed %q, which does not parse: %v", s, text, err)
		}
		if !back.Equal(x) {
			t.Fatalf("ParseXML(%q): %q reads back different", s, text)
		}
		if again := back.String(); again != text {
			t.Fatalf("ParseXML(%q): printed %q, then %q", s, text, again)
		}
		if _, err := XMLToObject(x); err != nil {
			t.Fatalf("XMLToObject(%q): %v", text, err)
		}
		// The same element inside a textual representation.
		v, err := ToObject("(" + text + ",#1)")
		if err != nil || !Equals(v.(*Array).Elems[0], x) {
			t.Fatalf("ToObject of (%s,#1): %v", text, err)
		}
	})
}
