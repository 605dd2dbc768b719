package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// burst is silence, 400 ms of a 300 Hz "voice" at amplitude amp, silence.
func burst(lead, tail int, amp float64) []int16 {
	pcm := make([]int16, lead+3200+tail)
	for i := 0; i < 3200; i++ {
		pcm[lead+i] = int16(amp * math.Sin(2*math.Pi*300*float64(i)/rate))
	}
	return pcm
}

func TestTrim(t *testing.T) {
	tests := []struct {
		name       string
		lead, tail int
		want       int
	}{
		{"silence both sides", 4000, 6000, 3200 + 2*240},
		{"no silence", 0, 0, 3200},
		{"short lead", 100, 8000, 3200 + 100 + 240},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := trim(burst(tc.lead, tc.tail, 10000), rate)
			if len(out) < tc.want-2 || len(out) > tc.want { // the sine starts and ends at zero
				t.Fatalf("%d samples, want %d", len(out), tc.want)
			}
			if out[0] != 0 || out[len(out)-1] != 0 {
				t.Errorf("ends %d and %d: not faded", out[0], out[len(out)-1])
			}
		})
	}
	if out := trim(make([]int16, 800), rate); len(out) != 0 {
		t.Errorf("silence trims to %d samples", len(out))
	}
}

func TestLevel(t *testing.T) {
	for _, amp := range []float64{300, 3000, 30000} {
		out := level(burst(800, 800, amp))
		if l := dsp.LevelDBFS(out[800 : 800+3200]); math.Abs(l-targetDBFS) > 0.5 {
			t.Errorf("amplitude %g: speech at %.1f dBFS, want %.0f", amp, l, targetDBFS)
		}
	}
	// A peaky sound is limited by its peak instead.
	peaky := make([]int16, 8000)
	peaky[4000] = 1000
	for i := range peaky {
		if i%2000 == 0 {
			peaky[i] = 200
		}
	}
	var peak int
	for _, v := range level(peaky) {
		peak = max(peak, abs(int(v)))
	}
	if limit := int(32768 * math.Pow(10, peakDBFS/20)); peak > limit {
		t.Errorf("peak %d over %d", peak, limit)
	}
}

// The beep needs no espeak-ng: make it into a scratch folder, twice.
func TestRunBeep(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), dir, "beep", &out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"beep.wav", filepath.Join("russian", "beep.wav")} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		a, err := wav.Decode(b, wav.Limits{})
		if err != nil || a.SampleRate != rate || a.Format != wav.FormatMuLaw || a.Duration() != 300*time.Millisecond {
			t.Fatalf("%s: %v %v", p, a, err)
		}
	}
	if strings.Count(out.String(), "(written)") != 2 {
		t.Fatalf("first run:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), dir, "beep", &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "(written)") {
		t.Fatalf("a second run rewrote files:\n%s", out.String())
	}
	if err := run(context.Background(), dir, "beeep", &out); err == nil || !strings.Contains(err.Error(), `"beeep"`) {
		t.Fatalf("an unknown prompt: %v", err)
	}
}
