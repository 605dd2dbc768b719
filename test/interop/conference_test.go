package interop_test

import (
	"encoding/json"

	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBaresipConference puts three real phones in one conference room
// through Ringo's mixer: each records what it hears, and each recording
// holds the other two phones' tones and not its own. The third phone
// speaks G.722, so the mix also crosses codecs.
func TestBaresipConference(t *testing.T) {
	interop(t, "baresip")
	baresipReady(t)
	r := startRingo(t, defaultConfig)
	prov := filepath.Join(t.TempDir(), "conference.yaml")
	if err := os.WriteFile(prov, []byte(`domains:
  - name: pbx.test
    main: true
    accounts:
      - { name: "1001", password: secret1001 }
      - { name: "1002", password: secret1002 }
      - { name: "1003", password: secret1003 }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r.apply(prov)

	// Tones long enough to cover the whole call; 20 ms holds whole
	// cycles of each, as analyzeTone's blocks need.
	const toneLen = 30.0
	phones := []struct {
		user, codecs string
		tone         float64
		rate         int
	}{
		{"1001", "pcmu", 1000, 8000},
		{"1002", "pcma", 600, 8000},
		{"1003", "G722/16000/1", 1400, 16000},
	}
	var bs []*baresip
	for _, p := range phones {
		wav := filepath.Join(t.TempDir(), p.user+".wav")
		toneWAVAt(t, wav, p.rate, 1, p.tone, toneLen, wavSec)
		b := startBaresipCodecs(t, r, "baresip-"+p.user, p.user, "secret"+p.user, wav, "manual", p.codecs)
		r.waitRegistered(p.user+"@pbx.test", "127.0.0.1:"+itoa(b.sipPort), 15*time.Second)
		bs = append(bs, b)
	}
	target := "sip:conference-7@" + r.sipAddr()
	for _, b := range bs {
		resp, err := b.ctl.command("dial", target, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !resp.OK {
			t.Fatalf("%s: dial refused: %s", b.name, resp.Raw)
		}
		if _, err := b.ctl.waitEvent("CALL_ESTABLISHED", 15*time.Second, "CALL_CLOSED"); err != nil {
			t.Fatal(err)
		}
	}
	// All three in the room (the API's view), then three seconds of
	// conversation: the call's length, not a synchronisation point.
	if !waitFor(10*time.Second, func() bool { return roomMembers(t, r, "pbx.test/7") == 3 }) {
		t.Fatalf("room pbx.test/7 never had 3 members")
	}
	if ev, err := bs[0].ctl.waitEvent("CALL_CLOSED", 3*time.Second); err == nil {
		t.Fatalf("%s: call closed early (%s)", bs[0].name, ev.Param)
	}
	for _, b := range bs {
		if resp, err := b.ctl.command("hangup", "", 5*time.Second); err != nil || !resp.OK {
			t.Errorf("%s: hangup: %v %v", b.name, err, resp)
		}
		if _, err := b.ctl.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Error(err)
		}
	}
	if !waitFor(10*time.Second, func() bool { return roomMembers(t, r, "pbx.test/7") == 0 }) {
		t.Errorf("room pbx.test/7 still open after everyone hung up")
	}
	for _, b := range bs {
		b.quit()
	}

	for i, b := range bs {
		path := b.recording("dec")
		own := phones[i].tone
		for j := range phones {
			if j == i {
				continue
			}
			rep, err := analyzeTone(path, phones[j].tone, own)
			if err != nil {
				t.Fatalf("%s: %v", b.name, err)
			}
			t.Logf("%s hears %s: %s", b.name, phones[j].user, rep)
			// Two voices share the mix: each has a clear part of it.
			if rep.BandRatio < 0.15 {
				t.Errorf("%s: only %.3f of what it heard is %s's %.0f Hz tone", b.name, rep.BandRatio, phones[j].user, phones[j].tone)
			}
			if rep.OtherRatio > 0.02 {
				t.Errorf("%s: %.3f of what it heard is its own %.0f Hz tone", b.name, rep.OtherRatio, own)
			}
		}
	}
}

// roomMembers is how many members the API shows in a conference room
// (0 when the room is not open).
func roomMembers(t *testing.T, r *ringo, name string) int {
	t.Helper()
	status, body := r.api("GET", "/api/v1/conferences", r.token(), nil)
	if status != 200 {
		t.Fatalf("GET /api/v1/conferences: %d %s", status, body)
	}
	var rooms []struct {
		Name    string `json:"name"`
		Members []struct {
			Name string `json:"name"`
		} `json:"members"`
	}
	if err := json.Unmarshal(body, &rooms); err != nil {
		t.Fatalf("conferences: %v: %s", err, body)
	}
	for _, room := range rooms {
		if room.Name == name {
			return len(room.Members)
		}
	}
	return 0
}
