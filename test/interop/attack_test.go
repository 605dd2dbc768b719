package interop_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// svwarFound matches a row of svwar's result table ("| 1001 | reqauth |").
var svwarFound = regexp.MustCompile(`(?m)^\|\s*(\S+)\s*\|\s*(reqauth|noauth|weird)\s*\|`)

// TestSipviciousAttack runs SIPVicious against Ringo: extension enumeration
// must find nothing, and password guessing must be stopped by the fail2ban-
// style block. A control run against a Ringo with blocking effectively off
// proves that svcrack does find the password when not blocked.
func TestSipviciousAttack(t *testing.T) {
	interop(t, "svwar", "svcrack", "sipp")

	t.Run("control-cracks-without-blocking", func(t *testing.T) {
		r := startRingo(t, ringoConfig(1000000, "1m", "10m"))
		r.provision()
		dict := writeDict(t, 5, "secret1001")
		out, elapsed := svcrack(t, r, dict)
		t.Logf("control svcrack (6 guesses) took %v; output:\n%s", elapsed.Round(time.Millisecond), tail(out, 6))
		if !cracked(out, "1001", "secret1001") {
			t.Fatalf("control: svcrack did not find 1001's password with blocking off, so the attack test below would prove nothing; output:\n%s", tail(out, 30))
		}
		// The legitimate phone is still served (nothing blocked).
		port := freeUDPPort(t)
		if s, code := sippRegister(t, r, "sipp-register-after-control", "1001", "secret1001", 60, port, port); code != 0 {
			t.Errorf("REGISTER after the control run: SIPp exit code %d, want 0; errors: %s", code, tail(s.read("_errors.log"), 5))
		}
	})

	t.Run("attack", func(t *testing.T) {
		r := startRingo(t, ringoConfig(5, "1m", "10m"))
		r.provision()

		// 1. Enumeration over a range holding the real accounts 1001, 1002.
		for _, method := range []string{"OPTIONS", "REGISTER", "INVITE"} {
			code, out := runProc(t, "svwar-"+strings.ToLower(method), 60*time.Second, "", sipviciousEnv(t),
				"svwar", "-m", method, "-e1000-1010",
				"-p"+itoa(r.sipPort), "-P", itoa(freeUDPPort(t)), "-b", "127.0.0.1",
				"--maximumtime", "5", "127.0.0.1")
			t.Logf("svwar -m %s: exit code %d\n%s", method, code, tail(out, 8))
			if m := svwarFound.FindAllStringSubmatch(out, -1); len(m) > 0 {
				t.Errorf("svwar -m %s enumerated extensions: %v", method, m)
			}
			if strings.Contains(out, "Traceback") {
				t.Errorf("svwar -m %s crashed; output:\n%s", method, tail(out, 15))
			}
		}

		// Enumeration alone must not get the scanner blocked: a legitimate
		// REGISTER still works.
		port := freeUDPPort(t)
		if s, code := sippRegister(t, r, "sipp-register-before-crack", "1002", "secret1002", 60, port, port); code != 0 {
			t.Fatalf("REGISTER after svwar: SIPp exit code %d, want 0 (blocked by enumeration?); errors: %s",
				code, tail(s.read("_errors.log"), 5))
		}

		// 2. Password guessing: 300 wrong passwords, then the right one.
		dict := writeDict(t, 300, "secret1001")
		out, elapsed := svcrack(t, r, dict)
		t.Logf("svcrack (301 guesses) took %v; output:\n%s", elapsed.Round(time.Millisecond), tail(out, 10))
		if cracked(out, "1001", "secret1001") {
			t.Errorf("svcrack found 1001's password despite failLimit 5")
		}
		if strings.Contains(out, "no server response") {
			t.Errorf("svcrack got no answer at all: it was blocked before guessing, so the guessing was not exercised")
		}
		if b := r.bindingsOf("1001@pbx.test"); len(b) != 0 {
			t.Errorf("1001 has bindings after the attack: %+v", b)
		}

		// 3. The source is blocked: even a correct REGISTER from 127.0.0.1
		// gets no answer at all (UDP drop).
		port = freeUDPPort(t)
		s, code := runSipp(t, "sipp-register-blocked", 30*time.Second, r.sipAddr(),
			"-sf", testdata(t, "sipp/register.xml"),
			"-s", "1001", "-ap", "secret1001",
			"-key", "expires", "60", "-key", "contact", "127.0.0.1:"+itoa(port),
			"-i", "127.0.0.1", "-p", itoa(port), "-m", "1", "-trace_msg",
			"-timeout", "15", "-timeout_error", "-recv_timeout", "4000")
		if code == 0 {
			t.Errorf("a REGISTER from the blocked source succeeded (SIPp exit code 0)")
		}
		msgs := s.read("_messages.log")
		if strings.Contains(msgs, "message received") {
			t.Errorf("the blocked source got an answer; SIPp trace:\n%s", tail(msgs, 30))
		}
		if !strings.Contains(msgs, "message sent") {
			t.Errorf("SIPp trace shows no REGISTER sent; the blocked-source check proves nothing")
		}
		if b := r.bindingsOf("1001@pbx.test"); len(b) != 0 {
			t.Errorf("1001 registered from a blocked source: %+v", b)
		}
	})
}

// sipviciousEnv gives SIPVicious a throw-away HOME (it stores sessions in
// ~/.sipvicious). Never pass -R: it would mail tracebacks to the author.
func sipviciousEnv(t *testing.T) []string {
	home := t.TempDir()
	return []string{"HOME=" + home}
}

// writeDict writes n wrong passwords followed by the right one.
func writeDict(t *testing.T, n int, right string) string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "wrong%03dpw\n", i)
	}
	b.WriteString(right + "\n")
	p := filepath.Join(t.TempDir(), "dict.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// svcrack guesses 1001's password from dict. --maximumtime makes it stop a
// few seconds after the last answer (e.g. once blocked).
func svcrack(t *testing.T, r *ringo, dict string) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	code, out := runProc(t, "svcrack", 90*time.Second, "", sipviciousEnv(t),
		"svcrack", "-u", "1001", "-d", dict,
		"-p"+itoa(r.sipPort), "-P", itoa(freeUDPPort(t)), "-b", "127.0.0.1",
		"--maximumtime", "3", "127.0.0.1")
	t.Logf("svcrack exit code %d", code)
	if strings.Contains(out, "Traceback") {
		t.Errorf("svcrack crashed (a challenge it cannot parse?); output:\n%s", tail(out, 15))
	}
	return out, time.Since(start)
}

// cracked reports whether svcrack's result table holds user's password.
func cracked(out, user, pass string) bool {
	re := regexp.MustCompile(`(?m)^\|\s*` + regexp.QuoteMeta(user) + `\s*\|\s*` + regexp.QuoteMeta(pass) + `\s*\|`)
	return re.MatchString(out) || strings.Contains(out, "The password for "+user+" is "+pass)
}
