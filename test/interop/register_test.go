package interop_test

import (
	"strings"
	"testing"
	"time"
)

// TestSIPpRegisterDigest registers with SIPp using digest auth (401
// challenge) and checks that a wrong password gets 403 and no binding.
func TestSIPpRegisterDigest(t *testing.T) {
	interop(t, "sipp")
	r := startRingo(t, defaultConfig)
	r.provision()

	// Good password: 401 challenge, then 200.
	port := freeUDPPort(t)
	s, code := sippRegister(t, r, "sipp-register-1001", "1001", "secret1001", 300, port, port)
	if code != 0 {
		t.Fatalf("SIPp REGISTER 1001 with the right password: exit code %d, want 0 (401 then 200); errors: %s",
			code, tail(s.read("_errors.log"), 5))
	}
	checkChallenge(t, s.read("_messages.log"), "MD5")
	reg := r.waitRegistered("1001@pbx.test", "127.0.0.1:"+itoa(port), 5*time.Second)
	t.Logf("registration: %+v", reg)
	if reg.Expires <= 0 || reg.Expires > 300 {
		t.Errorf("1001 binding expires in %d s, want 0 < expires <= 300", reg.Expires)
	}
	if !strings.EqualFold(reg.Transport, "UDP") {
		t.Errorf("1001 binding transport %q, want UDP", reg.Transport)
	}
	if reg.Source != "127.0.0.1:"+itoa(port) {
		t.Errorf("1001 binding source %q, want 127.0.0.1:%d", reg.Source, port)
	}

	// Wrong password: 401 challenge, then 403 (the scenario's success path).
	port2 := freeUDPPort(t)
	s2, code := runSipp(t, "sipp-register-1002-wrong", 40*time.Second, r.sipAddr(),
		"-sf", testdata(t, "sipp/register_rejected.xml"),
		"-s", "1002", "-ap", "not-the-password",
		"-key", "expires", "300", "-key", "contact", "127.0.0.1:"+itoa(port2),
		"-i", "127.0.0.1", "-p", itoa(port2), "-m", "1", "-trace_msg",
		"-timeout", "20", "-timeout_error", "-recv_timeout", "5000")
	if code != 0 {
		t.Errorf("SIPp REGISTER 1002 with a wrong password: exit code %d, want 0 (401 then 403); errors: %s",
			code, tail(s2.read("_errors.log"), 5))
	}
	if msgs := s2.read("_messages.log"); !strings.Contains(msgs, "SIP/2.0 403") {
		t.Errorf("no 403 in the SIPp trace of the wrong-password REGISTER")
	}
	if b := r.bindingsOf("1002@pbx.test"); len(b) != 0 {
		t.Errorf("1002 has bindings after a REGISTER with a wrong password: %+v", b)
	}
	// The good binding is still there.
	if b := r.bindingsOf("1001@pbx.test"); len(b) != 1 {
		t.Errorf("1001 has %d bindings, want 1: %+v", len(b), b)
	}

	t.Run("tcp", func(t *testing.T) {
		// Same REGISTER over TCP (SIP listens on UDP and TCP at the same port).
		port := freePort(t)
		s, code := sippRegister(t, r, "sipp-register-1002-tcp", "1002", "secret1002", 300, port, port, "-t", "t1")
		if code != 0 {
			t.Fatalf("SIPp REGISTER 1002 over TCP: exit code %d, want 0; errors: %s", code, tail(s.read("_errors.log"), 5))
		}
		reg := r.waitRegistered("1002@pbx.test", "", 5*time.Second)
		t.Logf("registration: %+v", reg)
		if !strings.EqualFold(reg.Transport, "TCP") {
			t.Errorf("1002 binding transport %q, want TCP", reg.Transport)
		}
	})

	t.Run("sha256-offered-too", func(t *testing.T) {
		// With SHA-256 enabled (RFC 8760) both challenges go out, MD5 first,
		// and an MD5-only client such as SIPp still registers.
		r := startRingo(t, defaultConfig+"  algorithms: [MD5, SHA-256]\n")
		r.provision()
		port := freeUDPPort(t)
		s, code := sippRegister(t, r, "sipp-register-1001-both", "1001", "secret1001", 300, port, port)
		if code != 0 {
			t.Fatalf("SIPp REGISTER with MD5 and SHA-256 offered: exit code %d; errors: %s", code, tail(s.read("_errors.log"), 5))
		}
		checkChallenge(t, s.read("_messages.log"), "MD5", "SHA-256")
	})
}

// checkChallenge checks the 401 seen by SIPp: qop=auth and the algorithms
// offered, in order (SIPp 3.6.1 and svcrack only use the first challenge and
// only know MD5, so MD5 must come first whenever it is offered).
func checkChallenge(t *testing.T, messages string, want ...string) {
	t.Helper()
	i := strings.Index(messages, "SIP/2.0 401")
	if i < 0 {
		t.Errorf("no 401 in the SIPp trace")
		return
	}
	msg := messages[i:]
	if j := strings.Index(msg, "\n\n"); j > 0 {
		msg = msg[:j]
	}
	var challenges []string
	for _, line := range strings.Split(msg, "\n") {
		if k := strings.Index(line, ":"); k > 0 && strings.EqualFold(strings.TrimSpace(line[:k]), "WWW-Authenticate") {
			challenges = append(challenges, strings.TrimSpace(line[k+1:]))
		}
	}
	t.Logf("401 challenges: %q", challenges)
	var algs []string
	for _, c := range challenges {
		lc := strings.ToLower(c)
		if !strings.Contains(lc, `qop="auth"`) && !strings.Contains(lc, "qop=auth") {
			t.Errorf("challenge without qop=auth: %s", c)
		}
		if !strings.Contains(lc, `realm="pbx.test"`) {
			t.Errorf("challenge realm is not pbx.test: %s", c)
		}
		switch {
		case strings.Contains(lc, "algorithm=sha-256"):
			algs = append(algs, "SHA-256")
		case strings.Contains(lc, "algorithm=md5") || !strings.Contains(lc, "algorithm="):
			algs = append(algs, "MD5")
		default:
			algs = append(algs, "?")
		}
	}
	if strings.Join(algs, " ") != strings.Join(want, " ") {
		t.Errorf("401 offers algorithms %v, want %v", algs, want)
	}
}
