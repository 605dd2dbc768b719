package interop_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServePortTaken starts a second Ringo on ports the first one holds:
// it must exit non-zero with a message naming the taken address.
func TestServePortTaken(t *testing.T) {
	interop(t)
	r := startRingo(t, defaultConfig)
	for _, tc := range []struct {
		name      string
		sip, http string
		taken     string
	}{
		{"sip", r.sipAddr(), fmt.Sprintf("127.0.0.1:%d", freePort(t)), r.sipAddr()},
		{"http", fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", r.httpPort), fmt.Sprintf("127.0.0.1:%d", r.httpPort)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out := runProc(t, "ringo-second", 30*time.Second, dir, nil,
				r.bin, "serve",
				"--data", filepath.Join(dir, "data"),
				"--config", r.cfgPath,
				"--sip", tc.sip, "--http", tc.http,
				"--rtp-ports", r.rtpPorts)
			t.Logf("exit code %d; output:\n%s", code, tail(out, 5))
			if code <= 0 {
				t.Errorf("second ringo with %s taken: exit code %d, want > 0", tc.taken, code)
			}
			port := tc.taken[strings.LastIndex(tc.taken, ":")+1:]
			if !strings.Contains(out, port) {
				t.Errorf("the error output does not name the taken address %s:\n%s", tc.taken, tail(out, 10))
			}
		})
	}
	// The first one is unharmed.
	if code, body := r.api("GET", "/healthz", "", nil); code != 200 {
		t.Errorf("first ringo /healthz after the attempts: %d %s", code, body)
	}
}
