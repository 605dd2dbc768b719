package cdr

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r's JSON (what json.Marshal writes, less HTML
// escaping) to b. Engines store every record as JSON; encoding by hand is
// several times cheaper than through reflection, and a test keeps the two
// equal.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, r.ID)
	b = appendOpt(b, `"callId":`, r.CallID)
	b = append(b, `,"domain":`...)
	b = appendString(b, r.Domain)
	b = append(b, `,"direction":`...)
	b = appendString(b, string(r.Direction))
	b = append(b, `,"caller":`...)
	b = r.Caller.appendJSON(b)
	b = append(b, `,"callee":`...)
	b = r.Callee.appendJSON(b)
	b = appendOpt(b, `"dialled":`, r.Dialled)
	if r.Route != (Route{}) {
		b = append(b, `,"route":{`...)
		n := len(b)
		b = appendField(b, n, `"kind":`, r.Route.Kind)
		b = appendField(b, n, `"target":`, r.Route.Target)
		b = append(b, '}')
	}
	b = append(b, `,"created":`...)
	b = appendTime(b, r.Created)
	b = appendOptTime(b, `"answered":`, r.Answered)
	b = appendOptTime(b, `"bridged":`, r.Bridged)
	b = append(b, `,"ended":`...)
	b = appendTime(b, r.Ended)
	b = append(b, `,"durations":`...)
	b = r.Durations.appendJSON(b)
	b = append(b, `,"outcome":`...)
	b = appendString(b, string(r.Outcome))
	if r.Hangup != (Hangup{}) {
		b = append(b, `,"hangup":`...)
		b = r.Hangup.appendJSON(b)
	}
	b = appendOpt(b, `"dtmf":`, r.DTMF)
	if len(r.Variables) > 0 {
		b = append(b, `,"variables":{`...)
		keys := make([]string, 0, len(r.Variables))
		for k := range r.Variables {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, r.Variables[k])
		}
		b = append(b, '}')
	}
	if len(r.Recordings) > 0 {
		b = append(b, `,"recordings":[`...)
		for i, rec := range r.Recordings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"file":`...)
			b = appendString(b, rec.File)
			b = appendOptTime(b, `"started":`, rec.Started)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(r.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, t := range r.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, t)
		}
		b = append(b, ']')
	}
	if len(r.Legs) > 0 {
		b = append(b, `,"legs":[`...)
		for i := range r.Legs {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Legs[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (l *Leg) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, l.ID)
	b = appendOpt(b, `"callId":`, l.CallID)
	b = appendOpt(b, `"parent":`, l.Parent)
	b = appendOpt(b, `"bridged":`, l.Bridged)
	b = append(b, `,"party":`...)
	b = l.Party.appendJSON(b)
	b = appendOptTime(b, `"created":`, l.Created)
	b = appendOptTime(b, `"answered":`, l.Answered)
	b = appendOptTime(b, `"ended":`, l.Ended)
	b = appendOpt(b, `"outcome":`, string(l.Outcome))
	if l.Hangup != (Hangup{}) {
		b = append(b, `,"hangup":`...)
		b = l.Hangup.appendJSON(b)
	}
	return append(b, '}')
}

func (p Party) appendJSON(b []byte) []byte {
	b = append(b, '{')
	n := len(b)
	b = appendField(b, n, `"account":`, p.Account)
	b = appendField(b, n, `"number":`, p.Number)
	b = appendField(b, n, `"name":`, p.Name)
	b = appendField(b, n, `"address":`, p.Address)
	return append(b, '}')
}

func (h Hangup) appendJSON(b []byte) []byte {
	b = append(b, '{')
	n := len(b)
	b = appendField(b, n, `"cause":`, h.Cause)
	if h.SIPCode != 0 {
		if len(b) > n {
			b = append(b, ',')
		}
		b = append(b, `"sipCode":`...)
		b = strconv.AppendInt(b, int64(h.SIPCode), 10)
	}
	b = appendField(b, n, `"by":`, h.By)
	return append(b, '}')
}

func (d Durations) appendJSON(b []byte) []byte {
	b = append(b, `{"totalMs":`...)
	b = strconv.AppendInt(b, d.Total.Milliseconds(), 10)
	b = append(b, `,"talkMs":`...)
	b = strconv.AppendInt(b, d.Talk.Milliseconds(), 10)
	b = append(b, `,"ringMs":`...)
	b = strconv.AppendInt(b, d.Ring.Milliseconds(), 10)
	b = append(b, `,"holdMs":`...)
	b = strconv.AppendInt(b, d.Hold.Milliseconds(), 10)
	return append(b, '}')
}

// appendOpt appends ,key:"v" unless v is empty (omitempty after a field).
func appendOpt(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',')
	b = append(b, key...)
	return appendString(b, v)
}

// appendField appends key:"v" unless v is empty, with a comma unless it is
// the first field written since position start.
func appendField(b []byte, start int, key, v string) []byte {
	if v == "" {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, key...)
	return appendString(b, v)
}

func appendOptTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(b, ',')
	b = append(b, key...)
	return appendTime(b, t)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are escaped so the JSON is valid JavaScript too.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
