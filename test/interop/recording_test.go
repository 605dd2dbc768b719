package interop_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Tones of the recording test, on whole cycles of a 20 ms block at 8 kHz
// or close to it, far apart in frequency.
const (
	recCallerTone = 440.0  // Hz, sent by 1001 (caller): the left channel
	recCalleeTone = 1000.0 // Hz, sent by 1002 (callee): the right channel
	recToneSec    = 3.0
	recTalk       = 4 * time.Second // how long the call stays up
)

// recordCallsDoc turns call recording on for 1002, leaving the rest of
// testdata/accounts.yaml as it is.
const recordCallsDoc = `domains:
  - name: pbx.test
    main: true
    accounts:
      - name: "1002"
        recordCalls: true
`

// TestBaresipCallRecording calls from one baresip to another through Ringo
// with call recording on for the callee's account, then fetches the call's
// record and its recording (with the CLI, through the API) and checks it:
// stereo, as long as the call, the caller's tone on the left channel and the
// callee's on the right.
func TestBaresipCallRecording(t *testing.T) {
	interop(t, "baresip", "sox")
	baresipReady(t)
	wavDir := t.TempDir()
	callerWAV := filepath.Join(wavDir, "caller-440.wav")
	calleeWAV := filepath.Join(wavDir, "callee-1k.wav")
	toneWAV(t, callerWAV, recCallerTone, recToneSec, wavSec)
	toneWAV(t, calleeWAV, recCalleeTone, recToneSec, wavSec)

	r := startRingo(t, defaultConfig)
	r.provision()
	doc := filepath.Join(t.TempDir(), "record-calls.yaml")
	if err := os.WriteFile(doc, []byte(recordCallsDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	r.apply(doc)

	callee := startBaresip(t, r, "baresip-1002", "1002", "secret1002", calleeWAV, "auto")
	caller := startBaresip(t, r, "baresip-1001", "1001", "secret1001", callerWAV, "manual")
	r.waitRegistered("1002@pbx.test", "127.0.0.1:"+itoa(callee.sipPort), 15*time.Second)
	r.waitRegistered("1001@pbx.test", "127.0.0.1:"+itoa(caller.sipPort), 15*time.Second)

	target := "sip:202@" + r.sipAddr()
	resp, err := caller.ctl.command("dial", target, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.OK {
		t.Fatalf("dial %s refused by baresip: %s", target, resp.Raw)
	}
	const step = 15 * time.Second
	if _, err := caller.ctl.waitEvent("CALL_ESTABLISHED", step, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	if _, err := callee.ctl.waitEvent("CALL_ESTABLISHED", step, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	established := time.Now()
	for _, b := range []*baresip{caller, callee} {
		if _, err := b.ctl.waitEvent("CALL_RTPESTAB", step, "CALL_CLOSED"); err != nil {
			t.Fatal(err)
		}
	}
	// The call's length (not a synchronisation point), watching for an
	// early end.
	if ev, err := caller.ctl.waitEvent("CALL_CLOSED", time.Until(established.Add(recTalk))); err == nil {
		t.Fatalf("caller's call closed early (%s) after %v", ev.Param, time.Since(established))
	}
	if resp, err := caller.ctl.command("hangup", "", 5*time.Second); err != nil {
		t.Fatal(err)
	} else if !resp.OK {
		t.Fatalf("hangup refused: %s", resp.Raw)
	}
	for _, b := range []*baresip{caller, callee} {
		if _, err := b.ctl.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	// The record is written once the recording is complete on disk; the
	// has:recording filter finds it.
	type record struct {
		ID         string `json:"id"`
		Recordings []struct {
			File    string    `json:"file"`
			Started time.Time `json:"started"`
		} `json:"recordings"`
		Answered  time.Time `json:"answered"`
		Durations struct {
			TalkMs int64 `json:"talkMs"`
		} `json:"durations"`
	}
	var found []record
	var last []byte
	if !waitFor(15*time.Second, func() bool {
		status, body := r.api("GET", "/api/v1/cdr/search?q="+url.QueryEscape("has:recording"), r.token(), nil)
		last = body
		var page struct {
			Records []record `json:"records"`
		}
		if status != 200 || json.Unmarshal(body, &page) != nil {
			return false
		}
		found = page.Records
		return len(found) > 0
	}) {
		t.Fatalf("no call record with a recording: %s", last)
	}
	if len(found) != 1 || len(found[0].Recordings) != 1 {
		t.Fatalf("want one record with one recording, got %+v", found)
	}
	rec := found[0]
	if want := "pbx.test/"; !strings.HasPrefix(rec.Recordings[0].File, want) || !strings.HasSuffix(rec.Recordings[0].File, "/"+rec.ID+".wav") {
		t.Errorf("recording file %q: want pbx.test/YYYY/MM/DD/%s.wav", rec.Recordings[0].File, rec.ID)
	}
	status, body := r.api("GET", "/api/v1/cdr/"+url.PathEscape(rec.ID), r.token(), nil)
	if status != 200 {
		t.Fatalf("GET the record: %d %s", status, body)
	}
	t.Logf("call record: %s", body)

	// Downloaded as an administrator would: with the CLI.
	dir := t.TempDir()
	got := filepath.Join(dir, "call.wav")
	if code, out := runProc(t, "ringo-cdr-recording", 30*time.Second, "", nil,
		r.bin, "cdr", "recording", rec.ID, "1", "-o", got, "--server", r.httpURL(), "--data", r.dataDir); code != 0 {
		t.Fatalf("ringo cdr recording exited %d:\n%s", code, out)
	}
	channels, rate, frames := wavShape(t, got)
	talk := time.Duration(rec.Durations.TalkMs) * time.Millisecond
	length := time.Duration(float64(frames) / float64(rate) * float64(time.Second))
	t.Logf("recording: %d channels, %d Hz, %v; talk time %v", channels, rate, length, talk)
	if channels != 2 || rate != 8000 {
		t.Fatalf("recording has %d channels at %d Hz, want stereo at 8000 Hz", channels, rate)
	}
	if diff := length - talk; diff < -300*time.Millisecond || diff > 100*time.Millisecond {
		t.Errorf("recording lasts %v, the call %v", length, talk)
	}
	// sox reads the file too, and takes each channel out of it.
	left, right := filepath.Join(dir, "left.wav"), filepath.Join(dir, "right.wav")
	for ch, out := range map[string]string{"1": left, "2": right} {
		if code, msg := runProc(t, "sox-remix-"+ch, 30*time.Second, "", nil, "sox", got, out, "remix", ch); code != 0 {
			t.Fatalf("sox %s %s remix %s exited %d:\n%s", got, out, ch, code, msg)
		}
	}
	checkTone(t, "left channel (caller)", left, recCallerTone, recCalleeTone)
	checkTone(t, "right channel (callee)", right, recCalleeTone, recCallerTone)

	caller.quit()
	callee.quit()
}

// wavShape reads a PCM WAV's header: channels, rate and sample frames.
func wavShape(t *testing.T, path string) (channels, rate, frames int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		t.Fatalf("%s is not a WAV file (%d bytes)", path, len(data))
	}
	var bits int
	for pos := 12; pos+8 <= len(data); {
		id := string(data[pos : pos+4])
		size := int(binary.LittleEndian.Uint32(data[pos+4:]))
		body := pos + 8
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(data[body+2:]))
			rate = int(binary.LittleEndian.Uint32(data[body+4:]))
			bits = int(binary.LittleEndian.Uint16(data[body+14:]))
		case "data":
			if size == math.MaxUint32 || body+size > len(data) {
				t.Fatalf("%s: data size %d not fixed up for a file of %d bytes", path, size, len(data))
			}
			if channels < 1 || bits != 16 {
				t.Fatalf("%s: %d channels of %d bits, want 16-bit PCM", path, channels, bits)
			}
			return channels, rate, size / (2 * channels)
		}
		pos = body + size + size%2
	}
	t.Fatalf("%s: no data chunk", path)
	return 0, 0, 0
}
