package cgpl

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strings"
	"time"
)

// Library returns the pure functions of the core library (spec §4.1-4.8):
// those that need nothing but their arguments (and, for GMTTime, LocalTime,
// RandomNumber and RandomData, the clock or the random source). Each call
// builds a new slice. The clock is time.Now and the zone time.Local; a
// runtime that implements SetTimeZone registers TimeFuncs with its own zone
// over these.
func Library() []Pure {
	var l []Pure
	l = append(l, libTypes()...)
	l = append(l, libStrings()...)
	l = append(l, libNumbers()...)
	l = append(l, libTime()...)
	l = append(l, TimeFuncs(time.Now, func() *time.Location { return time.Local })...)
	l = append(l, libData()...)
	l = append(l, libCrypto()...)
	l = append(l, libArrays()...)
	l = append(l, libDicts()...)
	l = append(l, libConvert()...)
	l = append(l, libXML()...)
	return l
}

// LibraryProcedures lists the functions of Library that are procedures in
// CG/PL (called as statements; their result is always null).
func LibraryProcedures() []string {
	return []string{"Void", "AddElement", "InsertElement", "RemoveElement", "SortStrings", "SetCaseSensitive",
		"SetNamespace", "SetAttribute"}
}

// digestHash returns the hash of a CryDigest algorithm name, or nil.
func digestHash(name string) func() hash.Hash {
	switch strings.ReplaceAll(strings.ToUpper(name), "-", "") {
	case "MD5":
		return md5.New
	case "SHA1":
		return sha1.New
	case "SHA224":
		return sha256.New224
	case "SHA256":
		return sha256.New
	case "SHA384":
		return sha512.New384
	case "SHA512":
		return sha512.New
	}
	return nil
}

// bytesOf gives the bytes of a string or datablock.
func bytesOf(v Value) ([]byte, bool) {
	switch x := v.(type) {
	case String:
		return []byte(x), true
	case Data:
		return x, true
	}
	return nil, false
}

// CryDigest is CryDigest(alg, data [, key]): the MD5, SHA1, SHA224,
// SHA256, SHA384 or SHA512 digest of data (a datablock or a string), an
// HMAC when key is given; null for an unknown algorithm. Data or a key of
// another type raises.
func CryDigest(alg, data, key Value) (Value, error) {
	name, _ := alg.(String)
	h := digestHash(string(name))
	d, ok := bytesOf(data)
	if !ok {
		return nil, Throw("CryDigest: the data must be a datablock or a string, not %s", TypeName(data))
	}
	if h == nil {
		return nil, nil
	}
	var m hash.Hash
	if key != nil {
		k, ok := bytesOf(key)
		if !ok {
			return nil, Throw("CryDigest: the key must be a datablock or a string, not %s", TypeName(key))
		}
		m = hmac.New(h, k)
	} else {
		m = h()
	}
	m.Write(d)
	return Data(m.Sum(nil)), nil
}

func libData() []Pure {
	return []Pure{
		{Name: "IPAddress", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return IPAddressOf(a[0]), nil }},
		{Name: "RandomData", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			n, ok := a[0].(Number)
			if !ok || n < 1 || n > 4096 {
				return nil, nil
			}
			d := make(Data, n)
			_, _ = rand.Read(d)
			return d, nil
		}},
		{Name: "EmptyData", MinArgs: 0, MaxArgs: 0, Fn: func([]Value) (Value, error) { return Data{}, nil }},
		{Name: "CryDigest", MinArgs: 2, MaxArgs: 3, Fn: func(a []Value) (Value, error) {
			var key Value
			if len(a) > 2 {
				key = a[2]
			}
			return CryDigest(a[0], a[1], key)
		}},
	}
}

// textArg gives the text of a JSONToObject argument.
func textArg(fn string, v Value) (string, error) {
	switch x := v.(type) {
	case String:
		return string(x), nil
	case Data:
		return string(x), nil
	}
	return "", Throw("%s: the argument must be a string or a datablock, not %s", fn, TypeName(v))
}

// toObjectFn is ToObject(x): the value a string or datablock represents
// textually, or an XML object in its XML representation; null when the
// conversion fails. budget, when not nil, is the memory left to the task:
// running past it raises.
func toObjectFn(name string, arg Value, budget *int64) (Value, error) {
	if x, ok := arg.(*XML); ok {
		v, err := XMLToObject(x)
		if err != nil {
			return nil, Throw("%s: %v", name, err)
		}
		return v, nil
	}
	var s string
	switch x := arg.(type) {
	case String:
		s = string(x)
	case Data:
		s = string(x)
	default:
		return nil, Throw("%s: the argument must be a string, a datablock or an XML object, not %s", name, TypeName(arg))
	}
	v, err := toObject(s, budget)
	if err == errXMLMemory {
		return nil, err
	}
	if err != nil {
		return nil, nil // a failed conversion gives null
	}
	return v, nil
}

func libConvert() []Pure {
	toObject := func(name string) Pure {
		return Pure{Name: name, MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			return toObjectFn(name, a[0], nil)
		}}
	}
	return []Pure{
		{Name: "ObjectToString", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			s, err := ObjectToStringChecked(a[0], MaxTextSize)
			if err != nil {
				return nil, Throw("ObjectToString: %v", err)
			}
			return String(s), nil
		}},
		toObject("ToObject"),
		toObject("TextToObject"),
		{Name: "ObjectToJSON", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			s, err := ObjectToJSON(a[0])
			if err != nil {
				return nil, Throw("ObjectToJSON: %v", err)
			}
			return String(s), nil
		}},
		{Name: "JSONToObject", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) {
			s, err := textArg("JSONToObject", a[0])
			if err != nil {
				return nil, err
			}
			v, err := JSONToObject(s)
			if err != nil {
				return nil, nil
			}
			return v, nil
		}},
		{Name: "Base64Encode", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return Base64Encode(a[0]) }},
		{Name: "Base64Decode", MinArgs: 1, MaxArgs: 1, Fn: func(a []Value) (Value, error) { return Base64Decode(a[0]) }},
		{Name: "Convert", MinArgs: 2, MaxArgs: 2, Fn: func(a []Value) (Value, error) { return Convert(a[0], a[1]) }},
	}
}
