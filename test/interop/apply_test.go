package interop_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestApplyIdempotent provisions with `ringo apply` twice, checks that the
// second run changes nothing, that the API shows the accounts without any
// secret, and that the API rejects a wrong or missing token with 401 JSON.
func TestApplyIdempotent(t *testing.T) {
	interop(t) // needs only the ringo binary
	r := startRingo(t, defaultConfig)
	file := testdata(t, "accounts.yaml")

	first := r.apply(file)
	t.Logf("first apply:\n%s", first)
	second := r.apply(file)
	t.Logf("second apply:\n%s", second)
	if !strings.Contains(second, "0 changed") {
		t.Errorf("second identical apply does not report \"0 changed\":\n%s", second)
	}

	code, body := r.api("GET", "/api/v1/domains/pbx.test/accounts", r.token(), nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/domains/pbx.test/accounts: %d %s", code, body)
	}
	var accounts []struct {
		Name     string   `json:"name"`
		RealName string   `json:"realName"`
		Aliases  []string `json:"aliases"`
	}
	if err := json.Unmarshal(body, &accounts); err != nil {
		t.Fatalf("accounts: not a JSON array of accounts: %v\n%s", err, body)
	}
	want := map[string]struct {
		realName string
		aliases  []string
	}{
		"1001": {"Test One", []string{"201"}},
		"1002": {"Test Two", []string{"202"}},
	}
	if len(accounts) != len(want) {
		t.Errorf("have %d accounts, want %d: %s", len(accounts), len(want), body)
	}
	for _, a := range accounts {
		w, ok := want[a.Name]
		if !ok {
			t.Errorf("unexpected account %q", a.Name)
			continue
		}
		if a.RealName != w.realName {
			t.Errorf("account %s realName %q, want %q", a.Name, a.RealName, w.realName)
		}
		if !slices.Equal(a.Aliases, w.aliases) {
			t.Errorf("account %s aliases %q, want %q", a.Name, a.Aliases, w.aliases)
		}
		delete(want, a.Name)
	}
	for name := range want {
		t.Errorf("account %s missing from the API: %s", name, body)
	}

	// No secret in any form: no plaintext password, no digest HA1 (MD5 or
	// SHA-256), no field that looks like one.
	for _, acc := range []struct{ user, pass string }{{"1001", "secret1001"}, {"1002", "secret1002"}} {
		ha1 := acc.user + ":pbx.test:" + acc.pass
		m := md5.Sum([]byte(ha1))
		s := sha256.Sum256([]byte(ha1))
		for what, secret := range map[string]string{
			"plaintext password": acc.pass,
			"MD5 HA1":            hex.EncodeToString(m[:]),
			"SHA-256 HA1":        hex.EncodeToString(s[:]),
		} {
			if strings.Contains(strings.ToLower(string(body)), strings.ToLower(secret)) {
				t.Errorf("the accounts API exposes %s's %s", acc.user, what)
			}
		}
	}
	var raw any
	_ = json.Unmarshal(body, &raw)
	for k, v := range jsonStrings(raw) {
		lk := strings.ToLower(k)
		if v != "" && (strings.Contains(lk, "password") || strings.Contains(lk, "ha1") || strings.Contains(lk, "hash") || strings.Contains(lk, "secret")) {
			t.Errorf("the accounts API has a secret-looking field %q: %s", k, body)
		}
	}

	// Wrong and missing token: 401 with a JSON {"error": "..."} body.
	for name, tok := range map[string]string{"wrong token": "not-the-token", "no token": ""} {
		code, body := r.api("GET", "/api/v1/domains/pbx.test/accounts", tok, nil)
		if code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401; body %s", name, code, body)
			continue
		}
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
			t.Errorf("%s: 401 body is not {\"error\": \"...\"}: %s", name, body)
		}
		if strings.Contains(string(body), "1001") {
			t.Errorf("%s: 401 body leaks account data: %s", name, body)
		}
	}
}

// jsonStrings returns every object key in a decoded JSON value whose value
// is a string, with that value (the last one seen for repeated keys that are
// non-empty wins).
func jsonStrings(v any) map[string]string {
	out := map[string]string{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				if s, ok := vv.(string); ok && (s != "" || out[k] == "") {
					out[k] = s
				}
				walk(vv)
			}
		case []any:
			for _, vv := range x {
				walk(vv)
			}
		}
	}
	walk(v)
	return out
}
