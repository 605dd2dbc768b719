package interop_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCallRecordsSurviveKill runs short calls through Ringo, kills it with
// SIGKILL in the middle of the load and starts it again: every call SIPp saw
// end has an answered record (with records.durableBye a BYE is confirmed
// only once the record is durable), and the calls that were up at the kill
// are recorded as interrupted.
func TestCallRecordsSurviveKill(t *testing.T) {
	interop(t, "sipp")
	r := startRingo(t, defaultConfig+"records:\n  enabled: true\n  durableBye: true\n")
	r.provision()

	uasPort := freeUDPPort(t)
	s, code := sippRegister(t, r, "sipp-register-1002", "1002", "secret1002", 300, uasPort, uasPort)
	if code != 0 {
		t.Fatalf("registering the UAS as 1002: SIPp exit code %d; errors: %s", code, tail(s.read("_errors.log"), 5))
	}
	r.waitRegistered("1002@pbx.test", "127.0.0.1:"+itoa(uasPort), 5*time.Second)
	uas := startSipp(t, "sipp-uas-1002", 2*time.Minute,
		"-sf", testdata(t, "sipp/uas_answer.xml"),
		"-i", "127.0.0.1", "-p", itoa(uasPort), "-mi", "127.0.0.1", "-mp", itoa(freeUDPRange(t, 4)),
		"-m", "1000", "-timeout", "60", "-timeout_error")
	if !waitFor(10*time.Second, func() bool { return uas.proc.exited() || udpBound(uasPort) }) || uas.proc.exited() {
		t.Fatalf("SIPp UAS did not start")
	}
	uacPort := freeUDPPort(t)
	uac := startSipp(t, "sipp-uac-1001", 2*time.Minute, r.sipAddr(),
		"-sf", testdata(t, "sipp/uac_call.xml"),
		"-s", "1002", "-au", "1001", "-ap", "secret1001", "-key", "caller", "1001",
		"-i", "127.0.0.1", "-p", itoa(uacPort), "-mi", "127.0.0.1", "-mp", itoa(freeUDPRange(t, 4)),
		"-m", "1000", "-r", "20", "-l", "100", "-trace_stat", "-fd", "1",
		"-timeout", "30", "-timeout_error", "-recv_timeout", "3000")

	// Let calls complete and others be up, then kill Ringo outright.
	type facets struct {
		Total   int64            `json:"total"`
		Outcome map[string]int64 `json:"outcome"`
	}
	search := func(q string) facets {
		var res struct {
			Facets facets `json:"facets"`
		}
		status, body := r.api("GET", "/api/v1/cdr/search?limit=1&facets=1&q="+q, r.token(), nil)
		if status != 200 || json.Unmarshal(body, &res) != nil {
			t.Fatalf("search %q: %d %s", q, status, body)
		}
		return res.Facets
	}
	if !waitFor(30*time.Second, func() bool { return search("1002").Total >= 40 }) {
		t.Fatalf("no calls were recorded before the kill")
	}
	r.proc.kill()
	uac.proc.signal(sigUSR1) // stop placing calls, finish what is in flight (they time out)
	uac.proc.wait(40 * time.Second)
	ok, _, err := uac.stats()
	if err != nil {
		t.Fatalf("UAC stats: %v", err)
	}
	uas.proc.kill()

	r.start() // same data dir: recovery runs before SIP starts
	got := search("1002")
	t.Logf("SIPp completed %d calls; records after the restart: %+v", ok, got.Outcome)
	if got.Outcome["answered"] < int64(ok) {
		t.Errorf("%d answered records, but SIPp saw %d calls end", got.Outcome["answered"], ok)
	}
	if got.Outcome["interrupted"] < 1 {
		t.Errorf("no call was recorded as interrupted, though calls were up at the kill: %+v", got.Outcome)
	}
	if !strings.Contains(r.proc.output(), "recorded calls that were open when Ringo last stopped as interrupted") {
		t.Errorf("the restart did not report the interrupted calls")
	}
}
