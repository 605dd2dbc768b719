package dsp

import (
	"testing"
	"time"
)

func TestSilenceDetector(t *testing.T) {
	d, err := NewSilenceDetector(8000, 0, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	speech := speechLike(8000, 8000, 4, 100, 180) // 1 s, about −20 dBFS
	quiet := make([]int16, 160)
	addNoise(quiet, 30, 1) // line noise, about −61 dBFS
	feed := func(x []int16) (silent bool) {
		for i := 0; i+160 <= len(x); i += 160 {
			silent = d.Process(x[i : i+160])
		}
		return silent
	}
	if feed(speech) {
		t.Fatal("speech taken for silence")
	}
	for i := range 99 { // 1.98 s of quiet
		if d.Process(quiet) {
			t.Fatalf("silence reported after %d frames", i+1)
		}
	}
	if !d.Process(quiet) {
		t.Fatalf("no silence after 2 s (%v)", d.Silence())
	}
	if d.Silence() != 2*time.Second || d.Level() > -55 {
		t.Errorf("Silence = %v, Level = %.1f", d.Silence(), d.Level())
	}
	// Talking again starts the count over.
	feed(speech[:1600])
	if d.Silence() != 0 || d.Process(nil) {
		t.Errorf("after speech: Silence = %v", d.Silence())
	}
	d.Process(quiet)
	d.Reset()
	if d.Silence() != 0 {
		t.Error("Reset kept the silence")
	}
	for _, bad := range []struct {
		rate int
		thr  float64
		dur  time.Duration
	}{{0, -40, time.Second}, {8000, -40, 0}, {8000, 3, time.Second}} {
		if _, err := NewSilenceDetector(bad.rate, bad.thr, bad.dur); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestSilenceDoesNotAllocate(t *testing.T) {
	d, _ := NewSilenceDetector(8000, -45, time.Second)
	frame := sine(160, 8000, 440, 100, 0)
	if a := testing.AllocsPerRun(100, func() { d.Process(frame) }); a != 0 {
		t.Errorf("%v allocations per frame", a)
	}
}

func BenchmarkSilence20ms(b *testing.B) {
	d, _ := NewSilenceDetector(8000, -45, time.Second)
	frame := sine(160, 8000, 440, 100, 0)
	b.ReportAllocs()
	for b.Loop() {
		d.Process(frame)
	}
}
