package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The call verbs print each leg's media from the API's answers.
func TestCallCommands(t *testing.T) {
	const list = `[{"id":"c1","from":"1001@pbx.test","to":"1002@pbx.test","state":"answered","started":"2026-01-02T03:04:05Z",
"media":"anchored","legs":[{"leg":"caller","local":"0.0.0.0:10000","packetsIn":50,"packetsOut":48,"lost":0,"jitterMs":1.5},
{"leg":"callee","local":"0.0.0.0:10002","packetsIn":48,"packetsOut":50,"lost":2,"jitterMs":0.5}]}]`
	const show = `{"id":"c1","from":"1001@pbx.test","to":"1002@pbx.test","state":"answered","started":"2026-01-02T03:04:05Z","media":"anchored",
"sessions":[{"id":1,"name":"caller","local":"0.0.0.0:10000","remote":"192.0.2.1:4000","latched":"198.51.100.1:4000",
"codecs":["0 PCMU/8000"],"direction":"sendrecv","chain":["udp 0.0.0.0:10000 ← 198.51.100.1:4000 (latched)","relay → callee"],
"counters":{"packetsIn":50,"packetsOut":48,"lost":3,"jitterMs":2.25}}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/calls":
			io.WriteString(w, list)
		case "/api/v1/calls/c1":
			io.WriteString(w, show)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"no live call"}`)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"call", "list"}, 0, []string{"MEDIA", "c1", "anchored caller 50/48 callee 48/50"}},
		{[]string{"call", "show", "c1"}, 0, []string{"leg caller", "latched  198.51.100.1:4000", "in 50, out 48, lost 3", "jitter   2.2 ms", "relay → callee"}},
		{[]string{"call", "show", "c2"}, 1, []string{"no live call"}},
	} {
		out, code := runCLIErr(t, append([]string{"--server", srv.URL, "--token", "x"}, tc.args...)...)
		if code != tc.code {
			t.Fatalf("ringo %s: exit %d, want %d; output %q", strings.Join(tc.args, " "), code, tc.code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("ringo %s: output lacks %q:\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
	}
}
