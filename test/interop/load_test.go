package interop_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	loadCalls = 1000
	loadRate  = 50 // calls per second
)

// TestSIPpLoadThroughRingo places 1,000 authenticated calls at 50 calls/s
// from a SIPp UAC (1001) through Ringo to a SIPp UAS registered as 1002, and
// requires every call to succeed on both sides.
func TestSIPpLoadThroughRingo(t *testing.T) {
	interop(t, "sipp")
	r := startRingo(t, defaultConfig)
	r.provision()

	// Register 1002 from the UAS's own address (Contact = source), so the
	// calls reach the UAS whether Ringo routes by Contact or by source.
	uasPort := freeUDPPort(t)
	s, code := sippRegister(t, r, "sipp-register-1002", "1002", "secret1002", 300, uasPort, uasPort)
	if code != 0 {
		t.Fatalf("registering the UAS as 1002: SIPp exit code %d; errors: %s", code, tail(s.read("_errors.log"), 5))
	}
	r.waitRegistered("1002@pbx.test", "127.0.0.1:"+itoa(uasPort), 5*time.Second)

	uasMedia := freeUDPRange(t, 4)
	uas := startSipp(t, "sipp-uas-1002", 3*time.Minute,
		"-sf", testdata(t, "sipp/uas_answer.xml"),
		"-i", "127.0.0.1", "-p", itoa(uasPort),
		"-mi", "127.0.0.1", "-mp", itoa(uasMedia),
		"-m", itoa(loadCalls),
		"-trace_stat", "-fd", "1",
		"-timeout", "150", "-timeout_error")
	if !waitFor(10*time.Second, func() bool { return uas.proc.exited() || udpBound(uasPort) }) || uas.proc.exited() {
		t.Fatalf("SIPp UAS did not bind 127.0.0.1:%d (exit code %d)", uasPort, uas.proc.exitCode)
	}

	uacPort := freeUDPPort(t)
	uacMedia := freeUDPRange(t, 4)
	start := time.Now()
	uac, code := runSipp(t, "sipp-uac-1001", 3*time.Minute, r.sipAddr(),
		"-sf", testdata(t, "sipp/uac_call.xml"),
		"-s", "1002", "-au", "1001", "-ap", "secret1001", "-key", "caller", "1001",
		"-i", "127.0.0.1", "-p", itoa(uacPort),
		"-mi", "127.0.0.1", "-mp", itoa(uacMedia),
		"-m", itoa(loadCalls), "-r", itoa(loadRate), "-rp", "1000", "-l", "200",
		"-trace_stat", "-fd", "1",
		"-timeout", "120", "-timeout_error", "-recv_timeout", "15000")
	elapsed := time.Since(start)
	ok, failed, err := uac.stats()
	t.Logf("UAC: exit code %d, %d successful, %d failed calls, %v", code, ok, failed, elapsed.Round(time.Millisecond))
	if err != nil {
		t.Errorf("UAC stats: %v", err)
	}
	if code != 0 || ok != loadCalls || failed != 0 {
		t.Errorf("UAC: exit code %d, %d successful and %d failed calls; want 0, %d and 0; errors: %s",
			code, ok, failed, loadCalls, tail(uac.read("_errors.log"), 8))
	}

	// The UAS ends by itself once it has handled loadCalls calls.
	ucode, exited := uas.proc.wait(30 * time.Second)
	if !exited {
		uas.proc.signal(sigUSR1) // SIPp soft stop: dump stats and finish
		ucode, _ = uas.proc.wait(5 * time.Second)
	}
	uok, ufailed, err := uas.stats()
	t.Logf("UAS: exit code %d, %d successful, %d failed calls", ucode, uok, ufailed)
	if err != nil {
		t.Errorf("UAS stats: %v", err)
	}
	if ucode != 0 || uok != loadCalls || ufailed != 0 {
		t.Errorf("UAS: exit code %d, %d successful and %d failed calls; want 0, %d and 0; errors: %s",
			ucode, uok, ufailed, loadCalls, tail(uas.read("_errors.log"), 8))
	}

	// Every call left a durable record: all answered, from 1001 to 1002.
	var res struct {
		Records []struct {
			Outcome string `json:"outcome"`
			Caller  struct{ Account string }
			Callee  struct{ Account string }
		} `json:"records"`
		Facets struct {
			Total   int64            `json:"total"`
			Outcome map[string]int64 `json:"outcome"`
		} `json:"facets"`
	}
	var total int64
	if !waitFor(15*time.Second, func() bool {
		status, body := r.api("GET", "/api/v1/cdr/search?q=1002&facets=1&limit=5", r.token(), nil)
		if status != 200 || json.Unmarshal(body, &res) != nil {
			return false
		}
		total = res.Facets.Total
		return total >= loadCalls
	}) {
		t.Fatalf("call records: %d found for 1002, want %d", total, loadCalls)
	}
	// Every call's media was anchored at Ringo: none fell back to direct
	// media for want of ports.
	if status, body := r.api("GET", "/metrics", "", nil); status != 200 {
		t.Errorf("/metrics: %d", status)
	} else if !slices.Contains(strings.Split(string(body), "\n"), "ringo_media_unanchored_total 0") {
		t.Errorf("calls not anchored under load: %q", grepLine(string(body), "ringo_media_unanchored_total"))
	}
	if res.Facets.Outcome["answered"] != loadCalls || len(res.Records) != 5 || res.Records[0].Caller.Account != "1001" ||
		res.Records[0].Callee.Account != "1002" {
		t.Errorf("call records: facets %+v, first records %+v", res.Facets, res.Records)
	}
}
