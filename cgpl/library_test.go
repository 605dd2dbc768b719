package cgpl

import (
	"errors"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests use IANA zones whatever the machine has
)

// Helpers shared by the library tests (prefixed "lt" to stay clear of the
// parser's tests).

// ltCall calls a Library function by case-insensitive name, checking the
// arity as the compiler would.
func ltCall(t *testing.T, name string, args ...Value) (Value, error) {
	t.Helper()
	for _, p := range Library() {
		if strings.EqualFold(p.Name, name) {
			if len(args) < p.MinArgs || (p.MaxArgs >= 0 && len(args) > p.MaxArgs) {
				t.Fatalf("%s called with %d arguments, wants %d..%d", name, len(args), p.MinArgs, p.MaxArgs)
			}
			return p.Fn(args)
		}
	}
	t.Fatalf("no library function %q", name)
	return nil, nil
}

// ltV parses a textual representation for a test expectation.
func ltV(t *testing.T, s string) Value {
	t.Helper()
	v, err := ToObject(s)
	if err != nil {
		t.Fatalf("ToObject(%q): %v", s, err)
	}
	return v
}

// ltTime builds a GMT timestamp.
func ltTime(y, mo, d, h, mi, s int) Time {
	return Time{T: time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)}
}

func ltIP(s string, port uint16) IP { return IP{Addr: netip.MustParseAddr(s), Port: port} }

// ltCase is one row of a table test of library calls. want is compared
// with Equals and the dynamic types must match; with exc the call must
// raise a program exception whose message matches exc (a regexp).
type ltCase struct {
	fn   string
	args []Value
	want Value
	exc  string
}

func ltRun(t *testing.T, cases []ltCase) {
	t.Helper()
	for _, c := range cases {
		got, err := ltCall(t, c.fn, c.args...)
		desc := c.fn + "(" + ltArgs(c.args) + ")"
		if c.exc != "" {
			var e *Exception
			if !errors.As(err, &e) {
				t.Errorf("%s = %s, %v; want an exception", desc, ObjectToString(got), err)
				continue
			}
			if !regexp.MustCompile(c.exc).MatchString(e.Msg) {
				t.Errorf("%s: exception %q does not match %q", desc, e.Msg, c.exc)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error %v", desc, err)
			continue
		}
		if !ltSame(got, c.want) {
			t.Errorf("%s = %s (%s); want %s (%s)", desc, ObjectToString(got), TypeName(got), ObjectToString(c.want), TypeName(c.want))
		}
	}
}

func ltArgs(args []Value) string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = ObjectToString(a)
	}
	return strings.Join(s, ", ")
}

// ltSame is structural equality that also requires the same Go types
// (Equals already does, except that it cannot see nil inside interfaces).
func ltSame(a, b Value) bool { return Equals(a, b) }

// ltHandle is a host handle for tests.
type ltHandle struct{ kind string }

func (h *ltHandle) HandleKind() string { return h.kind }

// ltSliceHandle is a handle type that Go cannot compare with ==.
type ltSliceHandle []int

func (ltSliceHandle) HandleKind() string { return "Slice" }

func TestLibraryNamesAndArity(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Library() {
		k := strings.ToLower(p.Name)
		if seen[k] {
			t.Errorf("%s listed twice", p.Name)
		}
		seen[k] = true
		if p.Fn == nil || p.MinArgs < 0 || (p.MaxArgs >= 0 && p.MaxArgs < p.MinArgs) {
			t.Errorf("%s: bad entry %+v", p.Name, p)
		}
	}
	for _, n := range LibraryProcedures() {
		if !seen[strings.ToLower(n)] {
			t.Errorf("procedure %s is not in Library()", n)
		}
	}
	// Every function of spec §4.1-4.8 that needs no task, call, file, mail
	// or network is here.
	want := []string{
		"Same", "Copy", "Length", "Min", "Max", "Void", "ObjectClass",
		"IsString", "IsNumber", "IsDate", "IsIPAddress", "IsData", "IsArray", "IsDictionary", "IsXML", "IsTask",
		"String", "Substring", "Range", "FindSubstring", "EOL", "CRLF", "ToUpperCase", "ToLowerCase",
		"IsDigit", "IsWhiteSpaces", "FindRegEx", "EmailUserPart", "EmailDomainPart", "SIPURIToEmail", "EmailToSIPURI",
		"Number", "RandomNumber",
		"Date", "GMTTime", "LocalTime", "GMTToLocal", "LocalToGMT", "Year", "Month", "MonthNum", "MonthDay",
		"WeekDay", "YearDay", "TimeOfDay", "DateNumber", "DateByMonthDay", "DateByYearDay", "GetTimeZoneName",
		"IPAddress", "RandomData", "EmptyData", "CryDigest", "CryEncrypt", "CryDecrypt",
		"NewArray", "AddElement", "InsertElement", "RemoveElement", "Invert", "Find", "SortStrings",
		"NewDictionary", "SetCaseSensitive",
		"ObjectToString", "ToObject", "TextToObject", "ObjectToJSON", "JSONToObject",
		"Base64Encode", "Base64Decode", "Convert",
		"NewXML", "SetNamespace", "GetNamespace", "GetPrefix", "SetAttribute", "GetAttribute",
		"XMLBody", "XMLType", "XMLPrefix", "ObjectToXML",
	}
	for _, n := range want {
		if !seen[strings.ToLower(n)] {
			t.Errorf("%s is missing from Library()", n)
		}
		delete(seen, strings.ToLower(n))
	}
	for n := range seen {
		t.Errorf("%s is in Library() but not in this test's list", n)
	}
}

// TestLibraryInDocs checks that docs/cgpl.md lists every library function.
func TestLibraryInDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/cgpl.md")
	if err != nil {
		t.Skip("docs/cgpl.md not found:", err)
	}
	for _, p := range Library() {
		if !strings.Contains(string(doc), "`"+p.Name+"(") {
			t.Errorf("docs/cgpl.md does not list %s", p.Name)
		}
	}
}

func TestLibraryConversions(t *testing.T) {
	ltRun(t, []ltCase{
		{fn: "ObjectToString", args: []Value{nil}, want: String("#null#")},
		{fn: "ObjectToString", args: []Value{ltV(t, `(a,#1,{k="v w";})`)}, want: String(`(a,#1,{k="v w";})`)},
		{fn: "ToObject", args: []Value{String("(a, #1)")}, want: NewArray(String("a"), Number(1))},
		{fn: "ToObject", args: []Value{Data("{x=y;}")}, want: ltV(t, "{x=y;}")},
		{fn: "ToObject", args: []Value{String("#null#")}, want: nil},
		{fn: "ToObject", args: []Value{String("(a,")}, want: nil},
		{fn: "ToObject", args: []Value{Number(1)}, exc: "ToObject: the argument must be a string, a datablock or an XML object, not number"},
		{fn: "TextToObject", args: []Value{String("#5")}, want: Number(5)},
		{fn: "ObjectToJSON", args: []Value{ltV(t, `{a=(#1,x);}`)}, want: String(`{"a":[1,"x"]}`)},
		{fn: "ObjectToJSON", args: []Value{nil}, want: String("null")},
		{fn: "JSONToObject", args: []Value{String(`{"a":[1,"x",true]}`)}, want: ltV(t, `{a=(#1,x,YES);}`)},
		{fn: "JSONToObject", args: []Value{String(`{"a":`)}, want: nil},
		{fn: "JSONToObject", args: []Value{String(`null`)}, want: nil},
		{fn: "JSONToObject", args: []Value{nil}, exc: "JSONToObject: .*not null"},
		{fn: "Base64Encode", args: []Value{String("Hello")}, want: String("SGVsbG8=")},
		{fn: "Base64Decode", args: []Value{String("SGVsbG8=")}, want: Data("Hello")},
		{fn: "Convert", args: []Value{Data("\x01\xab"), String("HEX")}, want: String("01AB")},
		{fn: "IPAddress", args: []Value{String("[10.0.0.1]:5060")}, want: ltIP("10.0.0.1", 5060)},
		{fn: "IPAddress", args: []Value{String("nonsense")}, want: nil},
		{fn: "EmptyData", want: Data{}},
		{fn: "RandomData", args: []Value{Number(0)}, want: nil},
		{fn: "RandomData", args: []Value{Number(4097)}, want: nil},
		{fn: "RandomData", args: []Value{String("8")}, want: nil},
		{fn: "CryDigest", args: []Value{String("MD5"), String("abc")}, want: ltHex(t, "900150983cd24fb0d6963f7d28e17f72")},
		{fn: "CryDigest", args: []Value{String("sha1"), Data("abc")}, want: ltHex(t, "a9993e364706816aba3e25717850c26c9cd0d89d")},
		{fn: "CryDigest", args: []Value{String("SHA-256"), String("abc")}, want: ltHex(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")},
		{fn: "CryDigest", args: []Value{String("SHA224"), String("")}, want: ltHex(t, "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f")},
		{fn: "CryDigest", args: []Value{String("SHA384"), String("")}, want: ltHex(t, "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b")},
		{fn: "CryDigest", args: []Value{String("SHA512"), String("")}, want: ltHex(t, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")},
		// RFC 2104 test case 2.
		{fn: "CryDigest", args: []Value{String("MD5"), String("what do ya want for nothing?"), String("Jefe")}, want: ltHex(t, "750c783e6ab0b503eaa86e310a5db738")},
		{fn: "CryDigest", args: []Value{String("ROT13"), String("abc")}, want: nil},
		{fn: "CryDigest", args: []Value{nil, String("abc")}, want: nil},
		{fn: "CryDigest", args: []Value{String("MD5"), Number(1)}, exc: "CryDigest: the data must be"},
		{fn: "CryDigest", args: []Value{String("MD5"), String("a"), Number(1)}, exc: "CryDigest: the key must be"},
	})
	for _, n := range []int64{1, 16, 4096} {
		v, err := ltCall(t, "RandomData", Number(n))
		if d, ok := v.(Data); err != nil || !ok || int64(len(d)) != n {
			t.Errorf("RandomData(%d) = %v, %v", n, v, err)
		}
	}
	big := NewArray()
	for range 20 { // 2^20 copies of a 20-byte string: far over MaxTextSize
		big = NewArray(big, big, String(strings.Repeat("x", 20)))
	}
	for _, fn := range []string{"ObjectToString", "ObjectToJSON", "String"} {
		if _, err := ltCall(t, fn, big); err == nil || !strings.Contains(err.Error(), "exceeds") {
			t.Errorf("%s of a huge shared structure: %v; want an exception", fn, err)
		}
	}
}

func ltHex(t *testing.T, s string) Value {
	t.Helper()
	v, err := Convert(String(s), String("hex"))
	if err != nil || v == nil {
		t.Fatalf("bad hex %q", s)
	}
	return v
}
