package cgpl

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/transform"
)

// This file holds the conversions of spec §3.7: String, Number, Date,
// IPAddress, Base64Encode/Decode and Convert.

// StringOf is the String(x) function: a string as is, a number in decimal,
// a datablock's bytes, a timestamp as DD-MM-YYYY_HH:MM:SS (PAST / FUTURE for
// the special ones), an IP address as [addr]:port, an XML object its text
// (its own text pieces, joined), null as null, anything else as its textual
// representation.
func StringOf(v Value) (Value, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case String:
		return x, nil
	case Number:
		return String(strconv.FormatInt(int64(x), 10)), nil
	case Data:
		return String(x), nil
	case Time:
		return String(timeText(x)), nil
	case IP:
		return String(ipText(x)), nil
	case *XML:
		return String(x.Text()), nil
	}
	s, err := ObjectToStringChecked(v, MaxTextSize)
	if err != nil {
		return nil, Throw("String: %v", err)
	}
	return String(s), nil
}

// NumberOf is the Number(x) function: a number as is; for a string, the
// value of its leading decimal number (after optional white space and one
// "+" or "-"), saturated to the int64 range, 0 if there is none; 0 for
// anything else.
func NumberOf(v Value) Number {
	switch x := v.(type) {
	case Number:
		return x
	case String:
		s := strings.TrimLeft(string(x), " \t\r\n")
		neg := false
		if s != "" && (s[0] == '-' || s[0] == '+') {
			neg = s[0] == '-'
			s = s[1:]
		}
		var n uint64
		for i := 0; i < len(s) && isDigit(s[i]); i++ {
			if n > (math.MaxUint64-9)/10 {
				n = math.MaxUint64
				continue
			}
			n = n*10 + uint64(s[i]-'0')
		}
		if neg {
			if n >= 1<<63 {
				return math.MinInt64
			}
			return Number(-int64(n))
		}
		if n > math.MaxInt64 {
			return math.MaxInt64
		}
		return Number(n)
	}
	return 0
}

// DateOf is the Date(x) function: a timestamp as is; the number 0 gives the
// remote past, a negative number the remote future, a positive N midnight
// of 1970-01-01 plus N days; a string is parsed as a timestamp (see
// ParseTimeText); anything else, or a string that is no timestamp, gives null.
func DateOf(v Value) Value {
	switch x := v.(type) {
	case Time:
		return x
	case Number:
		switch {
		case x == 0:
			return RemotePast
		case x < 0:
			return RemoteFuture
		case int64(x) > timeMaxUnix/86400:
			return RemoteFuture
		}
		return TimeOf(time.Unix(int64(x)*86400, 0))
	case String:
		if t, ok := ParseTimeText(string(x)); ok {
			return t
		}
	case Data:
		if t, ok := ParseTimeText(string(x)); ok {
			return t
		}
	}
	return nil
}

// timeLayouts are the date formats Date(string) accepts besides the textual
// one; a layout without a zone is read as GMT.
func timeLayouts() []string {
	return []string{
		time.RFC1123Z,
		time.RFC1123,
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 MST",
		"2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 MST",
		time.RFC822Z,
		time.RFC822,
		time.RFC850,
		time.ANSIC,
		time.RFC3339Nano,
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02",
	}
}

// ParseTimeText reads a timestamp written as the textual form (#T optional:
// DD-MM-YYYY[_HH:MM:SS], PAST, FUTURE), as an RFC 822 / RFC 1123 date, or
// as an ISO 8601 / RFC 3339 date. The result is in GMT.
func ParseTimeText(s string) (Time, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#T")
	switch s {
	case "PAST":
		return RemotePast, true
	case "FUTURE":
		return RemoteFuture, true
	}
	if t, ok := parseTextTime(s); ok {
		return t, true
	}
	for _, l := range timeLayouts() {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1 || t.Year() > 9999 {
				return Time{}, false
			}
			return TimeOf(t), true
		}
	}
	return Time{}, false
}

// IPAddressOf is the IPAddress(x) function: an IP address as is; a string
// "[addr]:port", "[addr]", "addr" or "a.b.c.d:port" gives that address;
// anything else null.
func IPAddressOf(v Value) Value {
	switch x := v.(type) {
	case IP:
		return x
	case String:
		if ip, ok := ParseIPText(string(x)); ok {
			return ip
		}
	}
	return nil
}

// ParseIPText parses an IP address with an optional port: "[addr]:port",
// "[addr]", "addr", "a.b.c.d:port", optionally after "#I".
func ParseIPText(s string) (IP, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#I")
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return IP{}, false
		}
		host, port = s[1:end], s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return IP{}, false
			}
			port = port[1:]
			if port == "" {
				return IP{}, false
			}
		}
	} else if strings.Count(s, ":") == 1 {
		k := strings.IndexByte(s, ':')
		host, port = s[:k], s[k+1:]
		if port == "" {
			return IP{}, false
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return IP{}, false
	}
	ip := IP{Addr: a}
	if port != "" {
		n, ok := smallNumber(port)
		if !ok || n > 65535 {
			return IP{}, false
		}
		ip.Port = uint16(n)
	}
	return ip, true
}

// Base64Encode encodes a string or datablock; anything else raises.
func Base64Encode(v Value) (Value, error) {
	switch x := v.(type) {
	case String:
		return String(base64.StdEncoding.EncodeToString([]byte(x))), nil
	case Data:
		return String(base64.StdEncoding.EncodeToString(x)), nil
	}
	return nil, Throw("Base64Encode: the argument must be a string or a datablock, not %s", TypeName(v))
}

// Base64Decode decodes a string into a datablock; anything else raises.
// Decoding is lenient: characters outside the base64 alphabet (line breaks,
// spaces) are skipped, and decoding stops at the first "=".
func Base64Decode(v Value) (Value, error) {
	s, ok := v.(String)
	if !ok {
		return nil, Throw("Base64Decode: the argument must be a string, not %s", TypeName(v))
	}
	return Data(base64Lenient(string(s))), nil
}

func base64Lenient(s string) []byte {
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32
	n := 0
loop:
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case c >= 'A' && c <= 'Z':
			d = c - 'A'
		case c >= 'a' && c <= 'z':
			d = c - 'a' + 26
		case c >= '0' && c <= '9':
			d = c - '0' + 52
		case c == '+' || c == '-':
			d = 62
		case c == '/' || c == '_':
			d = 63
		case c == '=':
			break loop
		default:
			continue
		}
		acc = acc<<6 | uint32(d)
		n++
		if n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return out
}

// Convert is the Convert(data, format) function for the formats that need
// nothing but their arguments (format names are case-insensitive, except
// that "HEX" encodes in upper case):
//
//	base64          string → datablock (decoded), datablock → string (encoded)
//	hex, HEX        string of hex digits → datablock, datablock → string
//	utfcode         string → code of its first character, number → 1-character string
//	words           string → array of its white-space separated words
//	ucs-2[+][le|be] string → UTF-16 datablock (+ adds a BOM), datablock → string
//	utf-8, us-ascii, iso-8859-1 (latin1)  string ↔ datablock in that charset
//	any other charset name                string ↔ datablock in that charset
//
// For every charset the direction is the same: a string is encoded into a
// datablock holding its bytes in the charset, and a datablock is decoded
// from the charset into a (UTF-8) string. See charsetConvert for the names
// and for what happens to characters the charset lacks.
//
// A format that does not apply to the data's type, bad data (odd hex) and an
// unknown format give null; a format that is not a string raises.
func Convert(data, format Value) (Value, error) {
	fs, ok := format.(String)
	if !ok {
		return nil, Throw("Convert: the format must be a string, not %s", TypeName(format))
	}
	f := strings.ToLower(string(fs))
	switch f {
	case "base64":
		switch x := data.(type) {
		case String:
			return Data(base64Lenient(string(x))), nil
		case Data:
			return String(base64.StdEncoding.EncodeToString(x)), nil
		}
		return nil, nil
	case "hex":
		switch x := data.(type) {
		case String:
			d, err := hex.DecodeString(strings.TrimSpace(string(x)))
			if err != nil {
				return nil, nil
			}
			return Data(d), nil
		case Data:
			s := hex.EncodeToString(x)
			if fs == "HEX" {
				s = strings.ToUpper(s)
			}
			return String(s), nil
		}
		return nil, nil
	case "utfcode":
		switch x := data.(type) {
		case String:
			r, size := utf8.DecodeRuneInString(string(x))
			if size == 0 || (r == utf8.RuneError && size == 1) {
				return nil, nil
			}
			return Number(r), nil
		case Number:
			if x < 0 || x > utf8.MaxRune || !utf8.ValidRune(rune(x)) {
				return nil, nil
			}
			return String(string(rune(x))), nil
		}
		return nil, nil
	case "words":
		x, ok := data.(String)
		if !ok {
			return nil, nil
		}
		a := NewArray()
		for _, w := range strings.FieldsFunc(string(x), func(r rune) bool {
			return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\f' || r == '\v'
		}) {
			a.Elems = append(a.Elems, String(w))
		}
		return a, nil
	case "utf-8", "utf8":
		switch x := data.(type) {
		case String:
			return Data(x), nil
		case Data:
			return String(x), nil
		}
		return nil, nil
	case "us-ascii", "ascii":
		switch x := data.(type) {
		case String:
			return Data(latin1Encode(string(x), 0x7f)), nil
		case Data:
			return String(latin1Decode(x, 0x7f)), nil
		}
		return nil, nil
	case "iso-8859-1", "latin1", "iso8859-1", "iso_8859-1":
		switch x := data.(type) {
		case String:
			return Data(latin1Encode(string(x), 0xff)), nil
		case Data:
			return String(latin1Decode(x, 0xff)), nil
		}
		return nil, nil
	}
	if strings.HasPrefix(f, "ucs-2") {
		return convertUCS2(data, f[len("ucs-2"):])
	}
	if enc := lookupCharset(f); enc != nil {
		return charsetConvert(data, enc), nil
	}
	return nil, nil
}

// lookupCharset finds the charset called name (case-insensitive) in
// golang.org/x/text: first among the IANA names and aliases ("windows-1251",
// "KOI8-R", "cp866", "ISO-8859-5", "Shift_JIS", "EUC-KR", "GB18030",
// "Big5", "UTF-16LE", ...), then among the WHATWG labels, which add the
// common informal names ("cp1251", "x-cp1251", "sjis", "gb2312",
// "x-mac-cyrillic", ...). IANA goes first so that a name both know keeps its
// IANA meaning (WHATWG reads "iso-8859-9" as windows-1254, for example). The
// WHATWG "replacement" encoding, which decodes everything to U+FFFD, is not
// offered. It gives nil for an unknown or unsupported name.
func lookupCharset(name string) encoding.Encoding {
	if enc, err := ianaindex.IANA.Encoding(name); err == nil && enc != nil {
		return enc
	}
	enc, err := htmlindex.Get(name)
	if err != nil || enc == nil {
		return nil
	}
	if n, _ := htmlindex.Name(enc); n == "replacement" {
		return nil
	}
	return enc
}

// charsetConvert encodes a string into a datablock in enc, or decodes a
// datablock in enc into a string; anything else gives null.
//
// Encoding replaces every character enc cannot represent (and every byte
// of the string that is not valid UTF-8) with "?", as the us-ascii and
// iso-8859-1 conversions do, rather than raising: a caller that must know
// can convert back and compare. Decoding replaces byte sequences that are
// invalid in enc with U+FFFD.
func charsetConvert(data Value, enc encoding.Encoding) Value {
	switch x := data.(type) {
	case String:
		return Data(charsetEncode(string(x), enc))
	case Data:
		d, err := enc.NewDecoder().Bytes(x)
		if err != nil {
			return nil
		}
		return String(d)
	}
	return nil
}

// charsetEncode encodes s in enc, writing "?" (encoded in enc, so that a
// stateful charset like ISO-2022-JP stays consistent) for each character
// enc lacks and each invalid UTF-8 byte.
func charsetEncode(s string, enc encoding.Encoding) []byte {
	t := enc.NewEncoder()
	src := []byte(s)
	out := make([]byte, 0, len(src))
	buf := make([]byte, 4096)
	for {
		nDst, nSrc, err := t.Transform(buf, src, true)
		out = append(out, buf[:nDst]...)
		src = src[nSrc:]
		switch {
		case err == nil:
			return out
		case err == transform.ErrShortDst:
			if nDst == 0 && nSrc == 0 {
				buf = make([]byte, 2*len(buf))
			}
			continue
		}
		// The character at src cannot be encoded (or is invalid UTF-8).
		_, size := utf8.DecodeRune(src)
		if size == 0 {
			return out
		}
		src = src[size:]
		// The encoder keeps its state (an ISO-2022-JP mode, a UTF-16 BOM
		// already written): "?" goes through it, so that it switches back
		// to ASCII first if it must.
		if n, m, err := t.Transform(buf, []byte("?"), true); err == nil && m == 1 {
			out = append(out, buf[:n]...)
		} else {
			out = append(out, '?')
		}
	}
}

// latin1Encode encodes s in a one-byte charset whose codes run up to max;
// other characters become "?".
func latin1Encode(s string, max rune) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > max || r == utf8.RuneError {
			out = append(out, '?')
		} else {
			out = append(out, byte(r))
		}
	}
	return out
}

func latin1Decode(d []byte, max rune) string {
	var b strings.Builder
	for _, c := range d {
		if rune(c) > max {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

// convertUCS2 handles "ucs-2" with the suffix opts ("", "+", "le", "+be"...).
// Characters beyond the BMP are written as UTF-16 surrogate pairs.
func convertUCS2(data Value, opts string) (Value, error) {
	bom := strings.HasPrefix(opts, "+")
	opts = strings.TrimPrefix(opts, "+")
	var little bool
	switch opts {
	case "", "be":
	case "le":
		little = true
	default:
		return nil, nil
	}
	switch x := data.(type) {
	case String:
		units := utf16.Encode([]rune(string(x)))
		if bom {
			units = append([]uint16{0xFEFF}, units...)
		}
		out := make([]byte, 0, 2*len(units))
		for _, u := range units {
			if little {
				out = append(out, byte(u), byte(u>>8))
			} else {
				out = append(out, byte(u>>8), byte(u))
			}
		}
		return Data(out), nil
	case Data:
		d := []byte(x)
		if len(d) >= 2 {
			switch {
			case d[0] == 0xFE && d[1] == 0xFF:
				little, d = false, d[2:]
			case d[0] == 0xFF && d[1] == 0xFE:
				little, d = true, d[2:]
			}
		}
		units := make([]uint16, 0, len(d)/2)
		for i := 0; i+1 < len(d); i += 2 {
			if little {
				units = append(units, uint16(d[i])|uint16(d[i+1])<<8)
			} else {
				units = append(units, uint16(d[i])<<8|uint16(d[i+1]))
			}
		}
		return String(string(utf16.Decode(units))), nil
	}
	return nil, nil
}
