package interop_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"
)

// TestCallOutcomesRecorded places calls that do not end in a conversation,
// from a SIPp caller through Ringo to a SIPp phone, and checks each call's
// record: a busy phone, a call the caller cancels while it rings, and one
// nobody answers before Ringo's ring timeout.
func TestCallOutcomesRecorded(t *testing.T) {
	interop(t, "sipp")
	r := startRingo(t, defaultConfig+"calls:\n  ringTimeout: 2s\n")
	r.provision()

	for _, tc := range []struct {
		name, uas, uac string
		outcome        string
		code           int    // the SIP code the record keeps, 0 for none
		by             string // who ended the call
	}{
		{"busy", "sipp/uas_busy.xml", "sipp/uac_refused.xml", "busy", 486, "callee"},
		{"cancelled", "sipp/uas_ring.xml", "sipp/uac_cancel.xml", "cancelled", 0, "caller"},
		{"no answer", "sipp/uas_ring.xml", "sipp/uac_refused.xml", "noanswer", 0, "system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uasPort := freeUDPPort(t)
			if s, code := sippRegister(t, r, "sipp-register-"+tc.outcome, "1002", "secret1002", 300, uasPort, uasPort); code != 0 {
				t.Fatalf("registering 1002: SIPp exit code %d; errors: %s", code, tail(s.read("_errors.log"), 5))
			}
			r.waitRegistered("1002@pbx.test", "127.0.0.1:"+itoa(uasPort), 5*time.Second)
			uas := startSipp(t, "sipp-uas-"+tc.outcome, time.Minute,
				"-sf", testdata(t, tc.uas), "-i", "127.0.0.1", "-p", itoa(uasPort),
				"-m", "1", "-trace_msg", "-timeout", "30", "-timeout_error")
			if !waitFor(10*time.Second, func() bool { return uas.proc.exited() || udpBound(uasPort) }) || uas.proc.exited() {
				t.Fatalf("SIPp UAS did not bind 127.0.0.1:%d (exit code %d)", uasPort, uas.proc.exitCode)
			}
			started := time.Now()
			uac, code := runSipp(t, "sipp-uac-"+tc.outcome, time.Minute, r.sipAddr(),
				"-sf", testdata(t, tc.uac),
				"-s", "1002", "-au", "1001", "-ap", "secret1001", "-key", "caller", "1001",
				"-i", "127.0.0.1", "-p", itoa(freeUDPPort(t)), "-mi", "127.0.0.1", "-mp", itoa(freeUDPRange(t, 4)),
				"-m", "1", "-trace_msg", "-timeout", "30", "-timeout_error", "-recv_timeout", "10000")
			if code != 0 {
				t.Fatalf("SIPp caller: exit code %d; errors: %s", code, tail(uac.read("_errors.log"), 8))
			}
			if ucode, ok := uas.proc.wait(15 * time.Second); !ok || ucode != 0 {
				t.Fatalf("SIPp phone: exit code %d (ended %v); errors: %s", ucode, ok, tail(uas.read("_errors.log"), 8))
			}

			var res struct {
				Records []struct {
					Outcome   string `json:"outcome"`
					Direction string `json:"direction"`
					Caller    struct{ Account string }
					Callee    struct{ Account string }
					Dialled   string    `json:"dialled"`
					Created   time.Time `json:"created"`
					Answered  time.Time `json:"answered"`
					Ended     time.Time `json:"ended"`
					Durations struct {
						TalkMs int64 `json:"talkMs"`
						RingMs int64 `json:"ringMs"`
					} `json:"durations"`
					Hangup struct {
						SIPCode int    `json:"sipCode"`
						By      string `json:"by"`
					} `json:"hangup"`
				} `json:"records"`
			}
			q := url.QueryEscape("account:1002 outcome:" + tc.outcome)
			if !waitFor(10*time.Second, func() bool {
				status, body := r.api("GET", "/api/v1/cdr/search?q="+q, r.token(), nil)
				return status == 200 && json.Unmarshal(body, &res) == nil && len(res.Records) > 0
			}) {
				t.Fatalf("no %s record for the call", tc.outcome)
			}
			if len(res.Records) != 1 {
				t.Fatalf("%d %s records, want 1", len(res.Records), tc.outcome)
			}
			rec := res.Records[0]
			if rec.Caller.Account != "1001" || rec.Callee.Account != "1002" || rec.Dialled != "1002" || rec.Direction != "internal" {
				t.Errorf("parties: %+v", rec)
			}
			if !rec.Answered.IsZero() || rec.Durations.TalkMs != 0 {
				t.Errorf("an unanswered call has answered %v, talk %d ms", rec.Answered, rec.Durations.TalkMs)
			}
			if rec.Created.Before(started.Add(-time.Second)) || rec.Ended.Before(rec.Created) || rec.Ended.After(time.Now()) {
				t.Errorf("times: created %v, ended %v (call placed at %v)", rec.Created, rec.Ended, started)
			}
			if tc.outcome == "noanswer" && rec.Durations.RingMs < 1900 {
				t.Errorf("rang %d ms, want the 2 s ring timeout", rec.Durations.RingMs)
			}
			if rec.Hangup.By != tc.by || (tc.code != 0 && rec.Hangup.SIPCode != tc.code) {
				t.Errorf("hangup %+v, want by %s with code %d", rec.Hangup, tc.by, tc.code)
			}
		})
	}
}
