package cgpl

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the JSON conversion (ObjectToJSON / JSONToObject).
//
// CG/PL to JSON: null → null, string → string (bytes that are not UTF-8
// become U+FFFD), number → number, array → array, dictionary → object (keys
// in dictionary order), timestamp → RFC 822 date string ("Mon, 02 Jan 2006
// 15:04:05 +0000"; "#TPAST" / "#TFUTURE" for the special ones), datablock →
// base64 string, IP address → "[addr]:port" string, host handle → null.
//
// JSON to CG/PL: object → dictionary (a repeated key: the last wins; a null
// member is absent, since a dictionary cannot hold null), array → array,
// string → string, an integer that fits 64 bits → number, any other number
// (fraction, exponent, too large) → the string of its literal, true →
// "YES", false and null → null.

// ObjectToJSON returns the JSON text of v. Containers that contain
// themselves, and nesting past MaxNesting, are written as null where they
// recur. It fails when the text would exceed MaxTextSize bytes.
func ObjectToJSON(v Value) (string, error) { return objectToJSONLimit(v, MaxTextSize) }

func objectToJSONLimit(v Value, limit int) (string, error) {
	p := jsonPrinter{boundedPrinter{limit: limit}}
	p.value(v, 0)
	if p.over {
		return "", errTextTooLarge{}
	}
	return p.b.String(), nil
}

type jsonPrinter struct{ boundedPrinter }

func (p *jsonPrinter) value(v Value, depth int) {
	if p.full() {
		return
	}
	switch x := v.(type) {
	case String:
		jsonWriteString(&p.b, string(x))
	case Number:
		p.b.WriteString(strconv.FormatInt(int64(x), 10))
	case Data:
		jsonWriteString(&p.b, base64.StdEncoding.EncodeToString(x))
	case Time:
		switch {
		case x.Special < 0:
			jsonWriteString(&p.b, "#TPAST")
		case x.Special > 0:
			jsonWriteString(&p.b, "#TFUTURE")
		default:
			jsonWriteString(&p.b, x.T.UTC().Format(time.RFC1123Z))
		}
	case IP:
		jsonWriteString(&p.b, ipText(x))
	case *XML:
		var x2 boundedPrinter
		x2.limit = p.limit - p.b.Len()
		x2.xml(x, depth)
		if x2.over {
			p.over = true
			return
		}
		jsonWriteString(&p.b, x2.b.String())
	case *Array:
		p.list(x, depth, '[', ']', "null", p.value)
	case *Dict:
		if depth >= MaxNesting || !p.enter(x) {
			p.b.WriteString("null")
			return
		}
		p.b.WriteByte('{')
		for i, k := range x.Keys() {
			if i > 0 {
				p.b.WriteByte(',')
			}
			jsonWriteString(&p.b, k)
			p.b.WriteByte(':')
			p.value(x.vals[k], depth+1)
			if p.full() {
				break
			}
		}
		p.b.WriteByte('}')
		delete(p.stack, x)
	default: // null, handles
		p.b.WriteString("null")
	}
}

func jsonWriteString(b *strings.Builder, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20 || c == 0x7f:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// JSONError is malformed JSON text.
type JSONError struct {
	Msg string
}

func (e *JSONError) Error() string { return "JSON: " + e.Msg }

// JSONToObject parses JSON text (the whole of s, one value).
func JSONToObject(s string) (Value, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := jsonValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return nil, &JSONError{Msg: fmt.Sprintf("unexpected data after the value at byte %d", dec.InputOffset())}
		}
		return nil, jsonErr(err)
	}
	return v, nil
}

func jsonErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &JSONError{Msg: "unexpected end of input"}
	}
	return &JSONError{Msg: err.Error()}
}

// jsonValue reads one value from the token stream (the decoder checks the
// syntax; this function builds the values and bounds the depth).
func jsonValue(dec *json.Decoder, depth int) (Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	return jsonFromToken(dec, tok, depth)
}

func jsonFromToken(dec *json.Decoder, tok json.Token, depth int) (Value, error) {
	switch t := tok.(type) {
	case nil:
		return nil, nil
	case bool:
		return Bool(t), nil
	case string:
		return String(t), nil
	case json.Number:
		lit := string(t)
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil && !strings.ContainsAny(lit, ".eE") {
			return Number(n), nil
		}
		return String(lit), nil
	case json.Delim:
		if depth >= MaxNesting {
			return nil, &JSONError{Msg: fmt.Sprintf("nesting deeper than %d", MaxNesting)}
		}
		switch t {
		case '[':
			a := NewArray()
			for dec.More() {
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a.Elems = append(a.Elems, v)
			}
			if _, err := dec.Token(); err != nil { // ]
				return nil, jsonErr(err)
			}
			return a, nil
		case '{':
			d := NewDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, jsonErr(err)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, &JSONError{Msg: "object key is not a string"}
				}
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				d.Set(k, v)
			}
			if _, err := dec.Token(); err != nil { // }
				return nil, jsonErr(err)
			}
			return d, nil
		}
	}
	return nil, &JSONError{Msg: fmt.Sprintf("unexpected %v", tok)}
}
