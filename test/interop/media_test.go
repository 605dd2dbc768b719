package interop_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMediaToneService has baresip call tone@pbx.test for about two
// seconds: what it records must be that long and be Ringo's 1 kHz tone.
func TestMediaToneService(t *testing.T) {
	interop(t, "baresip")
	_, micWAV := baresipReady(t) // baresip sends 600 Hz, which must not come back
	r := startRingo(t, defaultConfig)
	r.provision()
	b := startBaresip(t, r, "baresip-1001", "1001", "secret1001", micWAV, "manual")
	r.waitRegistered("1001@pbx.test", "127.0.0.1:"+itoa(b.sipPort), 15*time.Second)

	target := "sip:tone@" + r.sipAddr()
	if resp, err := b.ctl.command("dial", target, 5*time.Second); err != nil {
		t.Fatal(err)
	} else if !resp.OK {
		t.Fatalf("dial %s refused by baresip: %s", target, resp.Raw)
	}
	if _, err := b.ctl.waitEvent("CALL_ESTABLISHED", 15*time.Second, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	established := time.Now()
	if _, err := b.ctl.waitEvent("CALL_RTPESTAB", 15*time.Second, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	// The call lasts two seconds (its length, not a synchronisation point);
	// an early end fails the test.
	const callLen = 2 * time.Second
	if ev, err := b.ctl.waitEvent("CALL_CLOSED", time.Until(established.Add(callLen))); err == nil {
		t.Fatalf("call closed early (%s) after %v", ev.Param, time.Since(established))
	}
	status, body := r.api("GET", "/api/v1/calls", r.token(), nil)
	var calls []struct {
		ID    string `json:"id"`
		Media string `json:"media"`
		To    string `json:"to"`
	}
	if status != 200 || json.Unmarshal(body, &calls) != nil || len(calls) != 1 || calls[0].Media != "tone" {
		t.Fatalf("GET /api/v1/calls: %d %s", status, body)
	}
	if resp, err := b.ctl.command("hangup", "", 5*time.Second); err != nil {
		t.Fatal(err)
	} else if !resp.OK {
		t.Errorf("hangup refused: %s", resp.Raw)
	}
	if _, err := b.ctl.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Error(err)
	}
	b.quit()

	path := b.recording("dec")
	rep, err := analyzeTone(path, 1000, 600)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("baresip heard: %s", rep)
	if rep.Seconds < 1.7 || rep.Seconds > 3.5 {
		t.Errorf("recording is %.2fs long, want about %v", rep.Seconds, callLen)
	}
	checkTone(t, "baresip heard tone@", path, 1000, 600)
	// -12 dBFS for a full-scale sine reference is about -15 dBFS RMS.
	if rep.ActiveRMS < -19 || rep.ActiveRMS > -11 {
		t.Errorf("tone at %.1f dBFS RMS, want about -15", rep.ActiveRMS)
	}
}

// TestMediaDTMFFromSIPp has SIPp call echo@pbx.test and send the digits
// 1, 5 and 9 as RFC 4733 events from its packaged pcaps; Ringo's live view
// of the call and then the call's record list them in order.
func TestMediaDTMFFromSIPp(t *testing.T) {
	interop(t, "sipp")
	const pcapDir = "/usr/share/sip-tester"
	for _, d := range []string{"1", "5", "9"} {
		if p := filepath.Join(pcapDir, "dtmf_2833_"+d+".pcap"); !fileExists(p) {
			msg := "SIPp's DTMF pcaps are not installed (" + p + "; Debian package sip-tester)"
			if strings.EqualFold(getenv("RINGO_INTEROP"), "require") {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	tmpl, err := os.ReadFile(testdata(t, "sipp/uac_dtmf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(t.TempDir(), "uac_dtmf.xml")
	if err := os.WriteFile(scenario, []byte(strings.ReplaceAll(string(tmpl), "[pcapdir]", pcapDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startRingo(t, defaultConfig)
	r.provision()
	uac := startSipp(t, "sipp-dtmf-1001", time.Minute, r.sipAddr(),
		"-sf", scenario,
		"-s", "echo", "-au", "1001", "-ap", "secret1001", "-key", "caller", "1001",
		"-i", "127.0.0.1", "-p", itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPRange(t, 4)),
		"-m", "1", "-trace_msg",
		"-timeout", "30", "-timeout_error", "-recv_timeout", "5000")

	type digit struct {
		Digit  string `json:"digit"`
		Source string `json:"source"`
	}
	var view struct {
		Media string  `json:"media"`
		DTMF  []digit `json:"dtmf"`
	}
	var last []byte
	seen := waitFor(15*time.Second, func() bool {
		status, body := r.api("GET", "/api/v1/calls", r.token(), nil)
		var calls []struct {
			ID string `json:"id"`
		}
		if status != 200 || json.Unmarshal(body, &calls) != nil || len(calls) != 1 {
			return false
		}
		status, body = r.api("GET", "/api/v1/calls/"+calls[0].ID, r.token(), nil)
		last = body
		return status == 200 && json.Unmarshal(body, &view) == nil && len(view.DTMF) >= 3
	})
	if !seen {
		t.Fatalf("the live call never showed three digits; last view: %s", last)
	}
	var got string
	for _, d := range view.DTMF {
		got += d.Digit
		if d.Source != "rfc4733" {
			t.Errorf("digit %s: source %q, want rfc4733", d.Digit, d.Source)
		}
	}
	if got != "159" || view.Media != "echo" {
		t.Errorf("call view: media %q digits %q, want echo and 159: %s", view.Media, got, last)
	}

	<-uac.proc.done
	if uac.proc.exitCode != 0 {
		t.Fatalf("SIPp exit code %d", uac.proc.exitCode)
	}
	var res struct {
		Records []struct {
			DTMF  string `json:"dtmf"`
			Route struct {
				Kind   string `json:"kind"`
				Target string `json:"target"`
			} `json:"route"`
		} `json:"records"`
	}
	var body []byte
	if !waitFor(10*time.Second, func() bool {
		var status int
		status, body = r.api("GET", "/api/v1/cdr/search?q=echo&limit=5", r.token(), nil)
		return status == 200 && json.Unmarshal(body, &res) == nil && len(res.Records) == 1
	}) {
		t.Fatalf("no record of the call: %s", body)
	}
	if rec := res.Records[0]; rec.DTMF != "159" || rec.Route.Kind != "service" || rec.Route.Target != "echo" {
		t.Errorf("record: %s", body)
	}
}
