package digest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringo-pbx/ringo/internal/digest"
)

// rfcVector is a published Digest example: the credentials a client sent and
// the password behind them.
type rfcVector struct {
	name     string
	alg      string
	password string
	header   string
	method   string
	ha1      string // "" when the RFC does not print it
	want     digest.Credentials
}

var rfcVectors = []rfcVector{
	{
		// RFC 2617 §3.5.
		name:     "RFC2617-3.5",
		alg:      digest.MD5,
		password: "Circle Of Life",
		method:   "GET",
		ha1:      "939e7578ed9e3c518a452acee763bce9",
		header: `Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
		want: digest.Credentials{
			Username:  "Mufasa",
			Realm:     "testrealm@host.com",
			Nonce:     "dcd98b7102dd2f0e8b11d0f600bfb0c093",
			URI:       "/dir/index.html",
			Response:  "6629fae49393a05397450978507c4ef1",
			Algorithm: digest.MD5,
			CNonce:    "0a4f113b",
			Opaque:    "5ccc069c403ebaf9f0171e9517f40e41",
			QOP:       "auth",
			NC:        "00000001",
		},
	},
	{
		// RFC 7616 §3.9.1, MD5.
		name:     "RFC7616-3.9.1-MD5",
		alg:      digest.MD5,
		password: "Circle of Life",
		method:   "GET",
		header: `Digest username="Mufasa",
       realm="http-auth@example.org",
       uri="/dir/index.html",
       algorithm=MD5,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       nc=00000001,
       cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
       qop=auth,
       response="8ca523f5e9506fed4657c9700eebdbec",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
		want: digest.Credentials{
			Username:  "Mufasa",
			Realm:     "http-auth@example.org",
			Nonce:     "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			URI:       "/dir/index.html",
			Response:  "8ca523f5e9506fed4657c9700eebdbec",
			Algorithm: digest.MD5,
			CNonce:    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			Opaque:    "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
			QOP:       "auth",
			NC:        "00000001",
		},
	},
	{
		// RFC 7616 §3.9.1, SHA-256.
		name:     "RFC7616-3.9.1-SHA-256",
		alg:      digest.SHA256,
		password: "Circle of Life",
		method:   "GET",
		header: `Digest username="Mufasa",
       realm="http-auth@example.org",
       uri="/dir/index.html",
       algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       nc=00000001,
       cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
       qop=auth,
       response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
		want: digest.Credentials{
			Username:  "Mufasa",
			Realm:     "http-auth@example.org",
			Nonce:     "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			URI:       "/dir/index.html",
			Response:  "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
			Algorithm: digest.SHA256,
			CNonce:    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			Opaque:    "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
			QOP:       "auth",
			NC:        "00000001",
		},
	},
}

// TestRFCVectorsExpected computes each published response from its parts.
func TestRFCVectorsExpected(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.name, func(t *testing.T) {
			ha1 := digest.HA1(v.alg, v.want.Username, v.want.Realm, v.password)
			if v.ha1 != "" && ha1 != v.ha1 {
				t.Fatalf("HA1 = %s, want %s", ha1, v.ha1)
			}
			c := v.want
			c.Response = ""
			if got := digest.Expected(c, v.method, ha1); got != v.want.Response {
				t.Fatalf("Expected = %s, want %s", got, v.want.Response)
			}
			c.Response = v.want.Response
			if !digest.Verify(c, v.method, ha1) {
				t.Fatal("Verify rejected the RFC response")
			}
		})
	}
}

// TestRFCVectorsParseVerify parses the full header as sent and verifies it.
func TestRFCVectorsParseVerify(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.name, func(t *testing.T) {
			c, err := digest.Parse(v.header)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c != v.want {
				t.Fatalf("Parse =\n%+v\nwant\n%+v", c, v.want)
			}
			ha1 := digest.HA1(v.alg, c.Username, c.Realm, v.password)
			if !digest.Verify(c, v.method, ha1) {
				t.Fatal("Verify rejected the right password")
			}
			bad := digest.HA1(v.alg, c.Username, c.Realm, v.password+"!")
			if digest.Verify(c, v.method, bad) {
				t.Fatal("Verify accepted a wrong password")
			}
			if digest.Verify(c, "POST", ha1) {
				t.Fatal("Verify accepted a different method")
			}
			other := digest.MD5
			if v.alg == digest.MD5 {
				other = digest.SHA256
			}
			if digest.Verify(c, v.method, digest.HA1(other, c.Username, c.Realm, v.password)) {
				t.Fatal("Verify accepted the HA1 of the other algorithm")
			}
			// An upper-case hex response is the same response.
			up, err := digest.Parse(strings.Replace(v.header, v.want.Response, strings.ToUpper(v.want.Response), 1))
			if err != nil {
				t.Fatalf("Parse upper-case response: %v", err)
			}
			if !digest.Verify(up, v.method, ha1) {
				t.Fatal("Verify rejected an upper-case hex response")
			}
		})
	}
}

func TestLegacyNoQOP(t *testing.T) {
	// RFC 2069 / RFC 2617 without qop: response = H(HA1:nonce:HA2).
	ha1 := digest.HA1(digest.MD5, "alice", "example.com", "secret")
	ha2 := digest.H(digest.MD5, "REGISTER:sip:example.com")
	want := digest.H(digest.MD5, ha1+":abc:"+ha2)
	c, err := digest.Parse(`Digest username="alice", realm="example.com", nonce="abc", uri="sip:example.com", response="` + want + `"`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm != digest.MD5 {
		t.Fatalf("default algorithm = %q, want MD5", c.Algorithm)
	}
	if !digest.Verify(c, "REGISTER", ha1) {
		t.Fatal("Verify rejected a legacy response")
	}
	if digest.Verify(c, "REGISTER", digest.HA1(digest.MD5, "alice", "example.com", "Secret")) {
		t.Fatal("Verify accepted a wrong password")
	}
}

func TestHAndHA1(t *testing.T) {
	tests := []struct{ alg, in, want string }{
		{digest.MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
		{"", "", "d41d8cd98f00b204e9800998ecf8427e"},
		{"md5", "abc", "900150983cd24fb0d6963f7d28e17f72"},
		{digest.SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"sha-256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"SHA-512-256", "abc", ""},
		{"MD5-sess", "abc", ""},
	}
	for _, tc := range tests {
		if got := digest.H(tc.alg, tc.in); got != tc.want {
			t.Errorf("H(%q, %q) = %q, want %q", tc.alg, tc.in, got, tc.want)
		}
	}
	if got, want := digest.HA1(digest.MD5, "a", "b", "c"), digest.H(digest.MD5, "a:b:c"); got != want {
		t.Errorf("HA1 = %s, want H(a:b:c) = %s", got, want)
	}
}

func TestVerifyUnknownAlgorithm(t *testing.T) {
	// An algorithm H cannot compute must never verify, even with an empty response.
	c := digest.Credentials{Username: "u", Nonce: "n", URI: "sip:x", Algorithm: "SHA-512", Response: ""}
	if digest.Verify(c, "REGISTER", "") {
		t.Fatal("Verify accepted an unknown algorithm with an empty response")
	}
}

func TestParse(t *testing.T) {
	const base = `username="bob", realm="r", nonce="n", uri="sip:r", response="ABCDEF"`
	tests := []struct {
		name    string
		in      string
		want    digest.Credentials // checked when err is false
		wantErr bool
	}{
		{
			name: "minimal",
			in:   "Digest " + base,
			want: digest.Credentials{Username: "bob", Realm: "r", Nonce: "n", URI: "sip:r", Response: "abcdef", Algorithm: "MD5"},
		},
		{
			name: "scheme case-insensitive, keys case-insensitive, extra whitespace",
			in:   "  dIgEsT   USERNAME = \"bob\" ,Realm=\"r\",,nonce=n ,\turi=\"sip:r\", Response=abcdef  ",
			want: digest.Credentials{Username: "bob", Realm: "r", Nonce: "n", URI: "sip:r", Response: "abcdef", Algorithm: "MD5"},
		},
		{
			name: "quoted values keep commas, equals and escaped quotes",
			in:   `Digest username="b\"o\\b, jr.", realm="a=b, c", nonce="n,n", uri="sip:r;x=y,z", response="00"`,
			want: digest.Credentials{Username: `b"o\b, jr.`, Realm: "a=b, c", Nonce: "n,n", URI: "sip:r;x=y,z", Response: "00", Algorithm: "MD5"},
		},
		{
			name: "qop auth with all the parameters",
			in:   "Digest " + base + `, algorithm=sha-256, qop="auth", nc=0000000a, cnonce="c", opaque="o", stale=false, future="x"`,
			want: digest.Credentials{Username: "bob", Realm: "r", Nonce: "n", URI: "sip:r", Response: "abcdef",
				Algorithm: "sha-256", QOP: "auth", NC: "0000000a", CNonce: "c", Opaque: "o"},
		},
		{
			name: "quoted empty realm is allowed",
			in:   `Digest username="bob", realm="", nonce="n", uri="sip:r", response="00"`,
			want: digest.Credentials{Username: "bob", Nonce: "n", URI: "sip:r", Response: "00", Algorithm: "MD5"},
		},
		{name: "empty", in: "", wantErr: true},
		{name: "scheme only", in: "Digest", wantErr: true},
		{name: "scheme and space", in: "Digest ", wantErr: true},
		{name: "basic scheme", in: "Basic Ym9iOnNlY3JldA==", wantErr: true},
		{name: "no scheme", in: base, wantErr: true},
		{name: "missing username", in: `Digest realm="r", nonce="n", uri="sip:r", response="00"`, wantErr: true},
		{name: "missing nonce", in: `Digest username="bob", realm="r", uri="sip:r", response="00"`, wantErr: true},
		{name: "missing uri", in: `Digest username="bob", realm="r", nonce="n", response="00"`, wantErr: true},
		{name: "missing response", in: `Digest username="bob", realm="r", nonce="n", uri="sip:r"`, wantErr: true},
		{name: "empty username", in: `Digest username="", realm="r", nonce="n", uri="sip:r", response="00"`, wantErr: true},
		// Accepted, as deployed clients and scanners send it (see Parse).
		{name: "qop without cnonce", in: "Digest " + base + ", qop=auth, nc=00000001",
			want: digest.Credentials{Username: "bob", Realm: "r", Nonce: "n", URI: "sip:r", Response: "abcdef", Algorithm: "MD5", QOP: "auth", NC: "00000001"}},
		{name: "qop without nc", in: "Digest " + base + `, qop=auth, cnonce="c"`,
			want: digest.Credentials{Username: "bob", Realm: "r", Nonce: "n", URI: "sip:r", Response: "abcdef", Algorithm: "MD5", QOP: "auth", CNonce: "c"}},
		{name: "qop auth-int", in: "Digest " + base + `, qop=auth-int, nc=00000001, cnonce="c"`, wantErr: true},
		{name: "qop list", in: "Digest " + base + `, qop="auth,auth-int", nc=00000001, cnonce="c"`, wantErr: true},
		{name: "algorithm MD5-sess", in: "Digest " + base + ", algorithm=MD5-sess", wantErr: true},
		{name: "algorithm SHA-512-256", in: "Digest " + base + ", algorithm=SHA-512-256", wantErr: true},
		{name: "algorithm empty quoted", in: "Digest " + base + `, algorithm=""`, want: digest.Credentials{Username: "bob", Realm: "r", Nonce: "n", URI: "sip:r", Response: "abcdef", Algorithm: "MD5"}},
		{name: "duplicate username", in: "Digest " + base + `, username="eve"`, wantErr: true},
		{name: "duplicate differing in case", in: "Digest " + base + `, NONCE="n2"`, wantErr: true},
		{name: "duplicate unknown param", in: "Digest " + base + `, x=1, x=2`, wantErr: true},
		{name: "unterminated quote", in: `Digest username="bob, realm="r", nonce="n", uri="sip:r", response="00`, wantErr: true},
		{name: "trailing backslash in quote", in: `Digest username="bob\`, wantErr: true},
		{name: "parameter without value", in: "Digest " + base + ", stale", wantErr: true},
		{name: "equals first", in: "Digest =x, " + base, wantErr: true},
		{name: "garbage", in: "Digest \x00\xff!!", wantErr: true},
		{name: "only commas", in: "Digest ,,,", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := digest.Parse(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want an error", tc.in, got)
				}
				if !errors.Is(err, digest.ErrMalformed) {
					t.Fatalf("Parse(%q) error %v is not ErrMalformed", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("Parse(%q) =\n%+v\nwant\n%+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	got := digest.Challenge("example.com", "abc", "op", digest.SHA256, false)
	want := `Digest realm="example.com", nonce="abc", opaque="op", algorithm=SHA-256, qop="auth"`
	if got != want {
		t.Fatalf("Challenge = %s, want %s", got, want)
	}
	if got := digest.Challenge("r", "n", "o", digest.MD5, true); !strings.HasSuffix(got, ", stale=true") {
		t.Fatalf("stale challenge %q lacks stale=true", got)
	}
}

// A client answering a Challenge with the right password verifies; the
// challenge's own parameters parse back as credentials (minus response).
func TestChallengeRoundTrip(t *testing.T) {
	for _, alg := range []string{digest.MD5, digest.SHA256} {
		ch := digest.Challenge("example.com", "n0nce", "0paque", alg, false)
		rest := strings.TrimPrefix(ch, "Digest ")
		c, err := digest.Parse(`Digest username="alice", uri="sip:example.com", nc=00000001, cnonce="xyz", response="00", ` + rest)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if c.Realm != "example.com" || c.Nonce != "n0nce" || c.Opaque != "0paque" || c.Algorithm != alg || c.QOP != "auth" {
			t.Fatalf("%s: parsed challenge %+v", alg, c)
		}
		ha1 := digest.HA1(alg, "alice", "example.com", "pw")
		c.Response = digest.Expected(c, "REGISTER", ha1)
		if !digest.Verify(c, "REGISTER", ha1) {
			t.Fatalf("%s: Verify rejected its own Expected", alg)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range rfcVectors {
		f.Add(v.header)
	}
	f.Add(`Digest username="a\"b", realm="r,", nonce=n, uri=u, response=R`)
	f.Add(`Digest username=a, nonce=n, uri=u, response=r, qop=auth, nc=1, cnonce=c`)
	f.Add(`Digest username=a, username=b`)
	f.Add(`Digest x="unterminated`)
	f.Add(`Digest =`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := digest.Parse(s)
		if err != nil {
			if !errors.Is(err, digest.ErrMalformed) {
				t.Fatalf("Parse(%q) error %v is not ErrMalformed", s, err)
			}
			return
		}
		if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
			t.Fatalf("Parse(%q) succeeded with a required field empty: %+v", s, c)
		}
		if digest.H(c.Algorithm, "") == "" {
			t.Fatalf("Parse(%q) accepted algorithm %q that H cannot compute", s, c.Algorithm)
		}
		if c.QOP != "" {
			if !strings.EqualFold(c.QOP, "auth") {
				t.Fatalf("Parse(%q) accepted qop %q", s, c.QOP)
			}
			// nc and cnonce may be missing: deployed clients omit them and
			// Parse accepts that on purpose (see its comment).
		}
		if c.Response != strings.ToLower(c.Response) {
			t.Fatalf("Parse(%q) response %q not lower-cased", s, c.Response)
		}
		// Whatever parsed must be verifiable without panicking, and the
		// response the credentials claim must verify only against its HA1.
		ha1 := digest.HA1(c.Algorithm, c.Username, c.Realm, "pw")
		c.Response = digest.Expected(c, "INVITE", ha1)
		if !digest.Verify(c, "INVITE", ha1) {
			t.Fatalf("Verify rejected Expected for %+v", c)
		}
	})
}
