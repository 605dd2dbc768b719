package interop_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestBaresipTranscodedCall puts a phone that speaks only G.711 µ-law in a
// call with one that speaks only G.722 (then only Opus): Ringo relays the
// call through a transcoding bridge, and each phone hears the other's tone.
func TestBaresipTranscodedCall(t *testing.T) {
	interop(t, "baresip")
	baresipReady(t)
	for _, tc := range []struct {
		codec, name string // baresip's and SDP's names of the callee's codec
		rate, chans int    // the callee's audio source format
	}{
		{"G722/16000/1", "G722", 16000, 1},
		{"opus/48000/2", "opus", 48000, 2},
	} {
		t.Run("pcmu-"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			callerWAV := filepath.Join(dir, "caller.wav")
			calleeWAV := filepath.Join(dir, "callee.wav")
			toneWAVAt(t, callerWAV, 8000, 1, callerTone, toneSec, wavSec)
			toneWAVAt(t, calleeWAV, tc.rate, tc.chans, calleeTone, toneSec, wavSec)
			baresipCallCodecs(t, callerWAV, calleeWAV, true, "pcmu", tc.codec, func(r *ringo) {
				checkTranscoded(t, r, "PCMU", tc.name)
			})
		})
	}
}

// checkTranscoded asserts that the live call's caller leg runs callerCodec,
// its callee leg calleeCodec, and that the bridge says it transcodes.
func checkTranscoded(t *testing.T, r *ringo, callerCodec, calleeCodec string) {
	t.Helper()
	status, body := r.api("GET", "/api/v1/calls", r.token(), nil)
	if status != 200 {
		t.Fatalf("GET /api/v1/calls: %d %s", status, body)
	}
	var calls []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &calls); err != nil || len(calls) != 1 {
		t.Fatalf("calls: %v: %s", err, body)
	}
	status, body = r.api("GET", "/api/v1/calls/"+calls[0].ID, r.token(), nil)
	if status != 200 {
		t.Fatalf("GET call: %d %s", status, body)
	}
	var call struct {
		Media []struct {
			Name   string   `json:"name"`
			Codecs []string `json:"codecs"`
			Chain  []string `json:"chain"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(body, &call); err != nil {
		t.Fatalf("call: %v: %s", err, body)
	}
	want := map[string]string{"caller": callerCodec, "callee": calleeCodec}
	seen := 0
	for _, m := range call.Media {
		codec, ok := want[m.Name]
		if !ok {
			continue
		}
		seen++
		if len(m.Codecs) == 0 || !strings.Contains(strings.ToLower(m.Codecs[0]), strings.ToLower(codec)) {
			t.Errorf("%s leg codecs %v, want %s first", m.Name, m.Codecs, codec)
		}
		if !strings.Contains(strings.Join(m.Chain, " | "), "transcoded") {
			t.Errorf("%s leg chain %q does not transcode", m.Name, m.Chain)
		}
	}
	if seen != 2 {
		t.Fatalf("want caller and callee media sessions, got %s", body)
	}
	t.Logf("transcoded call: %s", body)
}
