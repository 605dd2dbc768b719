// Package digest implements the server side of HTTP Digest authentication
// as SIP uses it (RFC 3261 §22, RFC 7616, RFC 8760): HA1 hashing, parsing of
// Authorization headers and response verification for MD5 and SHA-256 with
// qop=auth (and the legacy no-qop form).
package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Algorithms Ringo knows.
const (
	MD5    = "MD5"
	SHA256 = "SHA-256"
)

// ErrMalformed is returned for credentials that cannot be parsed.
var ErrMalformed = errors.New("malformed digest credentials")

func newHash(alg string) (hash.Hash, bool) {
	switch strings.ToUpper(alg) {
	case "", MD5:
		return md5.New(), true
	case SHA256:
		return sha256.New(), true
	}
	return nil, false
}

// H returns the hex digest of s under alg.
func H(alg, s string) string {
	h, ok := newHash(alg)
	if !ok {
		return ""
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// HA1 is H(username:realm:password), what a server keeps instead of the password.
func HA1(alg, username, realm, password string) string {
	return H(alg, username+":"+realm+":"+password)
}

// Credentials are the parameters of a Digest Authorization header.
type Credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string
	CNonce    string
	Opaque    string
	QOP       string
	NC        string
}

// Parse parses the value of an Authorization or Proxy-Authorization header.
func Parse(v string) (Credentials, error) {
	var c Credentials
	v = strings.TrimSpace(v)
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Digest") {
		return c, fmt.Errorf("%w: scheme is not Digest", ErrMalformed)
	}
	params, err := parseParams(rest)
	if err != nil {
		return c, err
	}
	for k, val := range params {
		switch k {
		case "username":
			c.Username = val
		case "realm":
			c.Realm = val
		case "nonce":
			c.Nonce = val
		case "uri":
			c.URI = val
		case "response":
			c.Response = strings.ToLower(val)
		case "algorithm":
			c.Algorithm = val
		case "cnonce":
			c.CNonce = val
		case "opaque":
			c.Opaque = val
		case "qop":
			c.QOP = val
		case "nc":
			c.NC = val
		}
	}
	if c.Username == "" || c.Nonce == "" || c.Response == "" || c.URI == "" {
		return c, fmt.Errorf("%w: username, nonce, uri and response are required", ErrMalformed)
	}
	if c.QOP != "" && !strings.EqualFold(c.QOP, "auth") {
		return c, fmt.Errorf("%w: qop %q not supported", ErrMalformed, c.QOP)
	}
	// RFC 7616 wants cnonce and nc with qop=auth, but deployed clients (and
	// SIP scanners such as sipvicious) send qop=auth without them; like
	// Kamailio, Ringo computes the response with the empty values. Replay
	// protection still holds: a missing nc counts as 0 and a nonce's count
	// must increase.
	if c.Algorithm == "" {
		c.Algorithm = MD5
	}
	if _, ok := newHash(c.Algorithm); !ok {
		return c, fmt.Errorf("%w: algorithm %q not supported", ErrMalformed, c.Algorithm)
	}
	return c, nil
}

// parseParams splits `k=v, k="quoted, v"` into a map with lowercase keys.
func parseParams(s string) (map[string]string, error) {
	out := make(map[string]string, 10)
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("%w: parameter without value", ErrMalformed)
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					b.WriteByte(s[i])
					continue
				}
				if s[i] == '"' {
					break
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("%w: unterminated quoted string", ErrMalformed)
			}
			val = b.String()
			s = s[i+1:]
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			val = s[:end]
			s = s[end:]
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: duplicate parameter %s", ErrMalformed, key)
		}
		out[key] = val
	}
}

// Expected computes the response a client with the right HA1 sends.
func Expected(c Credentials, method, ha1 string) string {
	ha2 := H(c.Algorithm, method+":"+c.URI)
	if c.QOP == "" {
		return H(c.Algorithm, ha1+":"+c.Nonce+":"+ha2)
	}
	return H(c.Algorithm, ha1+":"+c.Nonce+":"+c.NC+":"+c.CNonce+":"+strings.ToLower(c.QOP)+":"+ha2)
}

// Verify reports whether the credentials prove knowledge of the password
// behind ha1, in constant time.
func Verify(c Credentials, method, ha1 string) bool {
	want := Expected(c, method, ha1)
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(c.Response)) == 1
}

// Challenge formats a WWW-Authenticate / Proxy-Authenticate value.
func Challenge(realm, nonce, opaque, alg string, stale bool) string {
	var b strings.Builder
	b.Grow(128)
	b.WriteString(`Digest realm="`)
	b.WriteString(realm)
	b.WriteString(`", nonce="`)
	b.WriteString(nonce)
	b.WriteString(`", opaque="`)
	b.WriteString(opaque)
	b.WriteString(`", algorithm=`)
	b.WriteString(alg)
	b.WriteString(`, qop="auth"`)
	if stale {
		b.WriteString(`, stale=true`)
	}
	return b.String()
}
