package interop_test

import (
	"testing"
	"time"
)

// TestRestartKeepsRegistrations registers 1001 (expires 300), stops Ringo
// with SIGTERM, starts it again on the same data dir and checks that the
// binding survived.
func TestRestartKeepsRegistrations(t *testing.T) {
	interop(t, "sipp")
	r := startRingo(t, defaultConfig)
	r.provision()

	port := freeUDPPort(t)
	s, code := sippRegister(t, r, "sipp-register-1001", "1001", "secret1001", 300, port, port)
	if code != 0 {
		t.Fatalf("SIPp REGISTER 1001: exit code %d, want 0; errors: %s", code, tail(s.read("_errors.log"), 5))
	}
	contact := "127.0.0.1:" + itoa(port)
	before := r.waitRegistered("1001@pbx.test", contact, 5*time.Second)
	t.Logf("before restart: %+v", before)

	if code := r.stop(); code != 0 {
		t.Errorf("ringo exited with code %d after SIGTERM, want 0", code)
	}
	r.start() // same data dir, config and ports

	// Healthy should mean loaded; the short poll only absorbs an
	// asynchronous load, and failing it means the binding was lost.
	a := r.waitRegistered("1001@pbx.test", contact, 5*time.Second)
	after := &a
	if b := r.bindingsOf("1001@pbx.test"); len(b) != 1 {
		t.Errorf("1001 has %d bindings after the restart, want 1: %+v", len(b), b)
	}
	t.Logf("after restart: %+v", *after)
	if after.Contact != before.Contact {
		t.Errorf("contact changed over the restart: %q, was %q", after.Contact, before.Contact)
	}
	if after.Expires <= 0 || after.Expires > before.Expires {
		t.Errorf("expires after the restart is %d s, want 0 < expires <= %d (before)", after.Expires, before.Expires)
	}
	if after.Source != before.Source || after.Transport != before.Transport {
		t.Errorf("source/transport changed over the restart: %s/%s, was %s/%s",
			after.Source, after.Transport, before.Source, before.Transport)
	}
}
