package cgpl

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"
	"time"
)

func TestStringNumberDateIP(t *testing.T) {
	t0 := ltTime(2026, 11, 23, 14, 5, 0)
	ltRun(t, []ltCase{
		{fn: "String", args: []Value{String("x")}, want: String("x")},
		{fn: "String", args: []Value{Number(-42)}, want: String("-42")},
		{fn: "String", args: []Value{Data("raw\x00")}, want: String("raw\x00")},
		{fn: "String", args: []Value{t0}, want: String("23-11-2026_14:05:00")},
		{fn: "String", args: []Value{RemotePast}, want: String("PAST")},
		{fn: "String", args: []Value{RemoteFuture}, want: String("FUTURE")},
		{fn: "String", args: []Value{ltIP("10.0.0.1", 5060)}, want: String("[10.0.0.1]:5060")},
		{fn: "String", args: []Value{ltIP("::1", 0)}, want: String("[::1]")},
		{fn: "String", args: []Value{nil}, want: nil},
		{fn: "String", args: []Value{ltV(t, "(a,#1)")}, want: String("(a,#1)")},
		{fn: "String", args: []Value{ltV(t, "{k=v;}")}, want: String("{k=v;}")},
		{fn: "String", args: []Value{&ltHandle{"Task"}}, want: String("#handle:Task#")},

		{fn: "Number", args: []Value{Number(7)}, want: Number(7)},
		{fn: "Number", args: []Value{String("123#")}, want: Number(123)},
		{fn: "Number", args: []Value{String("abc")}, want: Number(0)},
		{fn: "Number", args: []Value{String("")}, want: Number(0)},
		{fn: "Number", args: []Value{String("-15 apples")}, want: Number(-15)},
		{fn: "Number", args: []Value{String("+15")}, want: Number(15)},
		{fn: "Number", args: []Value{String("  42")}, want: Number(42)},
		{fn: "Number", args: []Value{String("-")}, want: Number(0)},
		{fn: "Number", args: []Value{String("0x1F")}, want: Number(0)},
		{fn: "Number", args: []Value{String("9223372036854775807")}, want: Number(math.MaxInt64)},
		{fn: "Number", args: []Value{String("99999999999999999999999")}, want: Number(math.MaxInt64)},
		{fn: "Number", args: []Value{String("-9223372036854775808")}, want: Number(math.MinInt64)},
		{fn: "Number", args: []Value{String("-99999999999999999999999")}, want: Number(math.MinInt64)},
		{fn: "Number", args: []Value{nil}, want: Number(0)},
		{fn: "Number", args: []Value{Data("12")}, want: Number(0)},
		{fn: "Number", args: []Value{t0}, want: Number(0)},
		{fn: "Number", args: []Value{NewArray(Number(1))}, want: Number(0)},

		{fn: "Date", args: []Value{t0}, want: t0},
		{fn: "Date", args: []Value{Number(0)}, want: RemotePast},
		{fn: "Date", args: []Value{Number(-1)}, want: RemoteFuture},
		{fn: "Date", args: []Value{Number(1)}, want: ltTime(1970, 1, 2, 0, 0, 0)},
		{fn: "Date", args: []Value{Number(14188)}, want: ltTime(2008, 11, 5, 0, 0, 0)},
		{fn: "Date", args: []Value{Number(math.MaxInt64)}, want: RemoteFuture},
		{fn: "Date", args: []Value{Number(2932896)}, want: ltTime(9999, 12, 31, 0, 0, 0)},
		{fn: "Date", args: []Value{Number(2932897)}, want: RemoteFuture},
		{fn: "Date", args: []Value{String("05-11-2008_00:00:00")}, want: ltTime(2008, 11, 5, 0, 0, 0)},
		{fn: "Date", args: []Value{String("#T05-11-2008_10:20:30")}, want: ltTime(2008, 11, 5, 10, 20, 30)},
		{fn: "Date", args: []Value{String("05-11-2008 10:20:30")}, want: ltTime(2008, 11, 5, 10, 20, 30)},
		{fn: "Date", args: []Value{String("05-11-2008")}, want: ltTime(2008, 11, 5, 0, 0, 0)},
		{fn: "Date", args: []Value{String("PAST")}, want: RemotePast},
		{fn: "Date", args: []Value{String("#TFUTURE")}, want: RemoteFuture},
		{fn: "Date", args: []Value{String("Wed, 05 Nov 2008 10:20:30 +0300")}, want: ltTime(2008, 11, 5, 7, 20, 30)},
		{fn: "Date", args: []Value{String("Wed, 5 Nov 2008 10:20:30 -0100")}, want: ltTime(2008, 11, 5, 11, 20, 30)},
		{fn: "Date", args: []Value{String("5 Nov 2008 10:20:30 +0000")}, want: ltTime(2008, 11, 5, 10, 20, 30)},
		{fn: "Date", args: []Value{String("2008-11-05T10:20:30Z")}, want: ltTime(2008, 11, 5, 10, 20, 30)},
		{fn: "Date", args: []Value{String("2008-11-05T10:20:30+01:00")}, want: ltTime(2008, 11, 5, 9, 20, 30)},
		{fn: "Date", args: []Value{String("2008-11-05 10:20:30")}, want: ltTime(2008, 11, 5, 10, 20, 30)},
		{fn: "Date", args: []Value{String("2008-11-05")}, want: ltTime(2008, 11, 5, 0, 0, 0)},
		{fn: "Date", args: []Value{String(String(ltTime(2026, 1, 2, 3, 4, 5).T.Format(time.RFC1123Z)))}, want: ltTime(2026, 1, 2, 3, 4, 5)},
		{fn: "Date", args: []Value{String("yesterday")}, want: nil},
		{fn: "Date", args: []Value{String("31-02-2008")}, want: nil},
		{fn: "Date", args: []Value{String("")}, want: nil},
		{fn: "Date", args: []Value{nil}, want: nil},
		{fn: "Date", args: []Value{NewArray()}, want: nil},

		{fn: "IPAddress", args: []Value{ltIP("1.2.3.4", 5)}, want: ltIP("1.2.3.4", 5)},
		{fn: "IPAddress", args: []Value{String("[1.2.3.4]:5060")}, want: ltIP("1.2.3.4", 5060)},
		{fn: "IPAddress", args: []Value{String("[1.2.3.4]")}, want: ltIP("1.2.3.4", 0)},
		{fn: "IPAddress", args: []Value{String("1.2.3.4")}, want: ltIP("1.2.3.4", 0)},
		{fn: "IPAddress", args: []Value{String("1.2.3.4:5060")}, want: ltIP("1.2.3.4", 5060)},
		{fn: "IPAddress", args: []Value{String("2001:db8::1")}, want: ltIP("2001:db8::1", 0)},
		{fn: "IPAddress", args: []Value{String("[2001:db8::1]:5061")}, want: ltIP("2001:db8::1", 5061)},
		{fn: "IPAddress", args: []Value{String("#I[10.0.0.1]:1")}, want: ltIP("10.0.0.1", 1)},
		{fn: "IPAddress", args: []Value{String(" 1.2.3.4 ")}, want: ltIP("1.2.3.4", 0)},
		{fn: "IPAddress", args: []Value{String("[1.2.3.4]:")}, want: nil},
		{fn: "IPAddress", args: []Value{String("[1.2.3.4]5060")}, want: nil},
		{fn: "IPAddress", args: []Value{String("[1.2.3.4")}, want: nil},
		{fn: "IPAddress", args: []Value{String("1.2.3.4:99999")}, want: nil},
		{fn: "IPAddress", args: []Value{String("1.2.3.4:")}, want: nil},
		{fn: "IPAddress", args: []Value{String("host.example.com")}, want: nil},
		{fn: "IPAddress", args: []Value{String("")}, want: nil},
		{fn: "IPAddress", args: []Value{Number(1)}, want: nil},
		{fn: "IPAddress", args: []Value{nil}, want: nil},
	})
}

func TestBase64AndConvert(t *testing.T) {
	ltRun(t, []ltCase{
		{fn: "Base64Encode", args: []Value{String("")}, want: String("")},
		{fn: "Base64Encode", args: []Value{Data("\x00\xff\x10")}, want: String("AP8Q")},
		{fn: "Base64Encode", args: []Value{Number(1)}, exc: "Base64Encode: the argument must be a string or a datablock, not number"},
		{fn: "Base64Encode", args: []Value{nil}, exc: "not null"},
		{fn: "Base64Decode", args: []Value{String("AP8Q")}, want: Data("\x00\xff\x10")},
		{fn: "Base64Decode", args: []Value{String("SGVs\r\nbG8")}, want: Data("Hello")},
		{fn: "Base64Decode", args: []Value{String("SGVsbG8=garbage")}, want: Data("Hello")},
		{fn: "Base64Decode", args: []Value{String("SGVsbA==")}, want: Data("Hell")},
		{fn: "Base64Decode", args: []Value{String("-_8")}, want: Data("\xfb\xff")}, // URL alphabet too
		{fn: "Base64Decode", args: []Value{String("")}, want: Data{}},
		{fn: "Base64Decode", args: []Value{String("@@@")}, want: Data{}},
		{fn: "Base64Decode", args: []Value{Data("SGVsbG8=")}, exc: "Base64Decode: the argument must be a string, not datablock"},

		{fn: "Convert", args: []Value{String("SGVsbG8="), String("base64")}, want: Data("Hello")},
		{fn: "Convert", args: []Value{Data("Hello"), String("BASE64")}, want: String("SGVsbG8=")},
		{fn: "Convert", args: []Value{Number(1), String("base64")}, want: nil},
		{fn: "Convert", args: []Value{Data("\x01\xab"), String("hex")}, want: String("01ab")},
		{fn: "Convert", args: []Value{Data("\x01\xab"), String("HEX")}, want: String("01AB")},
		{fn: "Convert", args: []Value{Data("\x01\xab"), String("Hex")}, want: String("01ab")},
		{fn: "Convert", args: []Value{String("01aB"), String("hex")}, want: Data("\x01\xab")},
		{fn: "Convert", args: []Value{String("01a"), String("hex")}, want: nil},
		{fn: "Convert", args: []Value{String("zz"), String("hex")}, want: nil},
		{fn: "Convert", args: []Value{Number(1), String("hex")}, want: nil},
		{fn: "Convert", args: []Value{String("A"), String("utfcode")}, want: Number(65)},
		{fn: "Convert", args: []Value{String("Жук"), String("utfcode")}, want: Number(0x416)},
		{fn: "Convert", args: []Value{String("🎉"), String("UTFCODE")}, want: Number(0x1F389)},
		{fn: "Convert", args: []Value{String(""), String("utfcode")}, want: nil},
		{fn: "Convert", args: []Value{String("\xff"), String("utfcode")}, want: nil},
		{fn: "Convert", args: []Value{Number(0x416), String("utfcode")}, want: String("Ж")},
		{fn: "Convert", args: []Value{Number(65), String("utfcode")}, want: String("A")},
		{fn: "Convert", args: []Value{Number(-1), String("utfcode")}, want: nil},
		{fn: "Convert", args: []Value{Number(0xD800), String("utfcode")}, want: nil},
		{fn: "Convert", args: []Value{Number(0x110000), String("utfcode")}, want: nil},
		{fn: "Convert", args: []Value{Data("A"), String("utfcode")}, want: nil},
		{fn: "Convert", args: []Value{String("  one two\tthree\r\nfour  "), String("words")}, want: ltV(t, "(one,two,three,four)")},
		{fn: "Convert", args: []Value{String(""), String("words")}, want: NewArray()},
		{fn: "Convert", args: []Value{String(" \t "), String("words")}, want: NewArray()},
		{fn: "Convert", args: []Value{Data("a b"), String("words")}, want: nil},
		{fn: "Convert", args: []Value{String("Aж"), String("ucs-2")}, want: Data("\x00A\x04\x36")},
		{fn: "Convert", args: []Value{String("Aж"), String("ucs-2le")}, want: Data("A\x00\x36\x04")},
		{fn: "Convert", args: []Value{String("A"), String("ucs-2+be")}, want: Data("\xfe\xff\x00A")},
		{fn: "Convert", args: []Value{String("A"), String("UCS-2+LE")}, want: Data("\xff\xfeA\x00")},
		{fn: "Convert", args: []Value{String("🎉"), String("ucs-2")}, want: Data("\xd8\x3c\xdf\x89")},
		{fn: "Convert", args: []Value{Data("\x00A\x04\x36"), String("ucs-2")}, want: String("Aж")},
		{fn: "Convert", args: []Value{Data("A\x00\x36\x04"), String("ucs-2le")}, want: String("Aж")},
		{fn: "Convert", args: []Value{Data("\xff\xfeA\x00"), String("ucs-2be")}, want: String("A")}, // the BOM wins
		{fn: "Convert", args: []Value{Data("\xfe\xff\x00A"), String("ucs-2+le")}, want: String("A")},
		{fn: "Convert", args: []Value{Data("\x00A\x00"), String("ucs-2")}, want: String("A")}, // an odd byte is dropped
		{fn: "Convert", args: []Value{String("A"), String("ucs-2xx")}, want: nil},
		{fn: "Convert", args: []Value{Number(1), String("ucs-2")}, want: nil},
		{fn: "Convert", args: []Value{String("café"), String("utf-8")}, want: Data("café")},
		{fn: "Convert", args: []Value{Data("caf\xc3\xa9"), String("UTF-8")}, want: String("café")},
		{fn: "Convert", args: []Value{String("café"), String("iso-8859-1")}, want: Data("caf\xe9")},
		{fn: "Convert", args: []Value{String("Жук"), String("latin1")}, want: Data("???")},
		{fn: "Convert", args: []Value{Data("caf\xe9"), String("ISO-8859-1")}, want: String("café")},
		{fn: "Convert", args: []Value{String("café"), String("us-ascii")}, want: Data("caf?")},
		{fn: "Convert", args: []Value{Data("ab\x80"), String("us-ascii")}, want: String("ab\uFFFD")},
		{fn: "Convert", args: []Value{Number(1), String("utf-8")}, want: nil},
		{fn: "Convert", args: []Value{String("x"), String("koi8-x")}, want: nil},
		{fn: "Convert", args: []Value{String("x"), String("dns-a")}, want: nil},
		{fn: "Convert", args: []Value{String("x"), nil}, exc: "Convert: the format must be a string, not null"},
	})
}

// csHex is the datablock of the hex digits h (spaces allowed).
func csHex(t *testing.T, h string) Data {
	t.Helper()
	d, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return Data(d)
}

func TestConvertCharsets(t *testing.T) {
	h := func(s string) Data { return csHex(t, s) }
	cases := []ltCase{
		// Known bytes: a string gives a datablock in the charset.
		{fn: "Convert", args: []Value{String("Привет"), String("windows-1251")}, want: h("CF F0 E8 E2 E5 F2")},
		{fn: "Convert", args: []Value{String("Привет Ёё"), String("Windows-1251")}, want: h("cff0e8e2e5f220a8b8")},
		{fn: "Convert", args: []Value{String("Привет Ёё"), String("cp1251")}, want: h("cff0e8e2e5f220a8b8")},
		{fn: "Convert", args: []Value{String("Привет Ёё"), String("x-cp1251")}, want: h("cff0e8e2e5f220a8b8")},
		{fn: "Convert", args: []Value{String("Привет Ёё"), String("KOI8-R")}, want: h("f0d2c9d7c5d420b3a3")},
		{fn: "Convert", args: []Value{String("Жук"), String("koi8-u")}, want: h("f6d5cb")},
		{fn: "Convert", args: []Value{String("Привет Ёё"), String("cp866")}, want: h("8fe0a8a2a5e220f0f1")},
		{fn: "Convert", args: []Value{String("Привет Ёё"), String("IBM866")}, want: h("8fe0a8a2a5e220f0f1")},
		{fn: "Convert", args: []Value{String("Привет Ёё"), String("iso-8859-5")}, want: h("bfe0d8d2d5e220a1f1")},
		{fn: "Convert", args: []Value{String("café €"), String("windows-1252")}, want: h("636166e92080")},
		{fn: "Convert", args: []Value{String("café €"), String("cp1252")}, want: h("636166e92080")},
		{fn: "Convert", args: []Value{String("日本"), String("Shift_JIS")}, want: h("93fa967b")},
		{fn: "Convert", args: []Value{String("日本"), String("sjis")}, want: h("93fa967b")},
		{fn: "Convert", args: []Value{String("日本x"), String("iso-2022-jp")}, want: h("1b2442467c4b5c1b284278")},
		{fn: "Convert", args: []Value{String("한국"), String("euc-kr")}, want: h("c7d1b1b9")},
		{fn: "Convert", args: []Value{String("中文"), String("gbk")}, want: h("d6d0cec4")},
		{fn: "Convert", args: []Value{String("中文"), String("gb2312")}, want: h("d6d0cec4")},
		{fn: "Convert", args: []Value{String("中文"), String("big5")}, want: h("a4a4a4e5")},
		{fn: "Convert", args: []Value{String("Aж"), String("utf-16be")}, want: Data("\x00A\x04\x36")},
		{fn: "Convert", args: []Value{String(""), String("koi8-r")}, want: Data{}},

		// A datablock is decoded from the charset into a string.
		{fn: "Convert", args: []Value{h("CF F0 E8 E2 E5 F2"), String("windows-1251")}, want: String("Привет")},
		{fn: "Convert", args: []Value{h("f0d2c9d7c5d420b3a3"), String("koi8-r")}, want: String("Привет Ёё")},
		{fn: "Convert", args: []Value{h("8fe0a8a2a5e220f0f1"), String("CP866")}, want: String("Привет Ёё")},
		{fn: "Convert", args: []Value{h("bfe0d8d2d5e220a1f1"), String("ISO-8859-5")}, want: String("Привет Ёё")},
		{fn: "Convert", args: []Value{h("636166e92080"), String("windows-1252")}, want: String("café €")},
		{fn: "Convert", args: []Value{h("93fa967b"), String("shift_jis")}, want: String("日本")},
		{fn: "Convert", args: []Value{h("1b2442467c4b5c1b284278"), String("ISO-2022-JP")}, want: String("日本x")},
		{fn: "Convert", args: []Value{h("c7d1b1b9"), String("EUC-KR")}, want: String("한국")},
		{fn: "Convert", args: []Value{h("d6d0cec4"), String("GB18030")}, want: String("中文")},
		{fn: "Convert", args: []Value{h("a4a4a4e5"), String("Big5")}, want: String("中文")},
		{fn: "Convert", args: []Value{Data{}, String("koi8-r")}, want: String("")},
		// Invalid bytes decode to U+FFFD.
		{fn: "Convert", args: []Value{h("41 98 42"), String("windows-1251")}, want: String("A\uFFFDB")},
		{fn: "Convert", args: []Value{h("93"), String("shift_jis")}, want: String("\uFFFD")},

		// Characters the charset lacks, and invalid UTF-8, become "?".
		{fn: "Convert", args: []Value{String("Жук €5 日本"), String("koi8-r")}, want: h("f6d5cb 203f35 203f3f")},
		{fn: "Convert", args: []Value{String("a\xffb"), String("windows-1251")}, want: Data("a?b")},
		{fn: "Convert", args: []Value{String("Жук"), String("windows-1252")}, want: Data("???")},
		{fn: "Convert", args: []Value{String("Ж"), String("iso-8859-1")}, want: Data("?")},
		{fn: "Convert", args: []Value{String("Ж"), String("l1")}, want: Data("?")},     // an IANA alias
		{fn: "Convert", args: []Value{String("€"), String("latin1")}, want: Data("?")}, // not windows-1252
		{fn: "Convert", args: []Value{String("€"), String("ANSI_X3.4-1968")}, want: Data("?")},
		// In ISO-2022-JP the "?" is written in ASCII mode: back from JIS first.
		{fn: "Convert", args: []Value{String("日€本"), String("iso-2022-jp")}, want: h("1b2442467c 1b2842 3f 1b2442 4b5c 1b2842")},

		// Other types, unknown and unsupported names: null.
		{fn: "Convert", args: []Value{Number(1), String("koi8-r")}, want: nil},
		{fn: "Convert", args: []Value{NewArray(), String("windows-1251")}, want: nil},
		{fn: "Convert", args: []Value{nil, String("cp866")}, want: nil},
		{fn: "Convert", args: []Value{String("x"), String("koi8-x")}, want: nil},
		{fn: "Convert", args: []Value{String("x"), String("windows-9999")}, want: nil},
		{fn: "Convert", args: []Value{String("x"), String("")}, want: nil},
		{fn: "Convert", args: []Value{String("x"), String("utf-32")}, want: nil},      // IANA, not supported
		{fn: "Convert", args: []Value{String("x"), String("replacement")}, want: nil}, // WHATWG's, left out
		{fn: "Convert", args: []Value{Data("x"), String("no-such-charset")}, want: nil},
	}
	ltRun(t, cases)

	// Round trips: string → datablock → the same string.
	texts := []string{"Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю. ЁёЪъ", "", "ASCII only 123 ?"}
	for _, cs := range []string{"windows-1251", "koi8-r", "cp866", "iso-8859-5", "KOI8-U", "x-mac-cyrillic", "utf-16le", "gb18030"} {
		for _, s := range texts {
			d, err := Convert(String(s), String(cs))
			if err != nil {
				t.Fatalf("Convert(%q, %s): %v", s, cs, err)
			}
			dd, ok := d.(Data)
			if !ok {
				t.Fatalf("Convert(%q, %s) = %s, not a datablock", s, cs, TypeName(d))
			}
			if strings.Contains(s, "мир") && bytes.Contains(dd, []byte("мир")) {
				t.Errorf("Convert(%q, %s) left the UTF-8 bytes as they were", s, cs)
			}
			back, err := Convert(dd, String(cs))
			if err != nil || !ltSame(back, String(s)) {
				t.Errorf("Convert(Convert(%q, %s), %s) = %s, %v", s, cs, cs, ObjectToString(back), err)
			}
		}
	}
}
