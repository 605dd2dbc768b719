package interop_test

import (
	"bufio"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestHarnessAudioAnalysis checks the WAV writer/reader and the tone
// measurement used by the baresip test. It needs no external tool and runs
// in -short mode too.
func TestHarnessAudioAnalysis(t *testing.T) {
	dir := t.TempDir()
	tone := filepath.Join(dir, "tone.wav")
	toneWAV(t, tone, 1000, 3, 5)
	rep, err := analyzeTone(tone, 1000, 600)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if math.Abs(rep.Seconds-5) > 0.01 || math.Abs(rep.ActiveSec-3) > 0.03 {
		t.Errorf("length/active: %v", rep)
	}
	if rep.BandRatio < 0.99 || rep.OtherRatio > 0.01 {
		t.Errorf("band ratios of a pure 1 kHz tone: %v", rep)
	}
	if math.Abs(rep.ActiveRMS-(-9.03)) > 0.2 { // half-scale sine: 20*log10(0.5/sqrt(2))
		t.Errorf("active RMS of a half-scale sine: %.2f dBFS, want -9.03", rep.ActiveRMS)
	}

	silent := filepath.Join(dir, "silence.wav")
	if err := writeWAV(silent, 8000, make([]int16, 8000)); err != nil {
		t.Fatal(err)
	}
	rep, err = analyzeTone(silent, 1000, 600)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ActiveSec != 0 || rep.RMSdBFS > -100 {
		t.Errorf("silence measured as %v", rep)
	}
}

func TestHarnessNetstring(t *testing.T) {
	br := bufio.NewReader(strings.NewReader(`14:{"event":true},2:{},`))
	for _, want := range []string{`{"event":true}`, `{}`} {
		got, err := readNetstring(br)
		if err != nil || string(got) != want {
			t.Fatalf("readNetstring = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := readNetstring(br); err == nil {
		t.Fatal("readNetstring at EOF: no error")
	}
}
