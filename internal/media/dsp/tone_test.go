package dsp

import (
	"math"
	"slices"
	"testing"
	"time"
)

func generate(t testing.TB, tone Tone, rate int, total, frame int) []int16 {
	t.Helper()
	g, err := NewToneGenerator(tone, rate)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, total)
	for i := 0; i < total; i += frame {
		g.Generate(out[i:min(i+frame, total)])
	}
	return out
}

func TestToneFrequencyAndLevel(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		x := generate(t, DialTone(), rate, rate, rate/50)
		want := AmplitudeDBm0(-10)
		got := math.Sqrt(2 * refPower(x[rate/10:], rate, 425))
		if d := 20 * math.Log10(got/want); math.Abs(d) > 0.05 {
			t.Errorf("%d Hz: 425 Hz at %.3f dB from −10 dBm0", rate, d)
		}
		// Nearly all the power is at 425 Hz.
		if r := refPower(x[rate/10:], rate, 425) / meanSquare(x[rate/10:]); r < 0.999 {
			t.Errorf("%d Hz: only %.4f of the power at 425 Hz", rate, r)
		}
	}
}

// The oscillator matches an ideal sine to within interpolation error, and
// frame boundaries leave no trace: 20 ms frames equal one long call.
func TestTonePhaseContinuity(t *testing.T) {
	tone := Tone{Freqs: [2]float64{1000, 1633}, Levels: [2]float64{-6, -6}}
	whole := generate(t, tone, 8000, 8000, 8000)
	for _, frame := range []int{160, 1, 7, 333} {
		if got := generate(t, tone, 8000, 8000, frame); !slices.Equal(got, whole) {
			t.Errorf("frames of %d differ from one call", frame)
		}
	}
	a := AmplitudeDBm0(-6)
	ref := dual(8000, 8000, 1000, a, 1633, a)
	for i := 16; i < len(ref); i++ { // after the 2 ms ramp
		if d := int(whole[i]) - int(ref[i]); d > 2 || d < -2 {
			t.Fatalf("sample %d: %d, ideal %d", i, whole[i], ref[i])
		}
	}
}

// onOff reports for each 10 ms window whether the tone sounds in it.
func onOff(x []int16, rate int) []bool {
	w := rate / 100
	var out []bool
	for i := 0; i+w <= len(x); i += w {
		out = append(out, MeanSquare(x[i:i+w]) > 1000)
	}
	return out
}

func TestToneCadence(t *testing.T) {
	tests := []struct {
		name   string
		tone   Tone
		on     time.Duration
		period time.Duration
	}{
		{"ring-back", RingbackTone(), time.Second, 5 * time.Second},
		{"busy", BusyTone(), 500 * time.Millisecond, time.Second},
		{"congestion", CongestionTone(), 250 * time.Millisecond, 500 * time.Millisecond},
		{"US ring-back", USRingbackTone(), 2 * time.Second, 6 * time.Second},
		{"US busy", USBusyTone(), 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		const rate = 8000
		x := generate(t, tt.tone, rate, 2*int(tt.period.Seconds()*rate), 160)
		w := onOff(x, rate)
		onWin, periodWin := int(tt.on/(10*time.Millisecond)), int(tt.period/(10*time.Millisecond))
		for i, got := range w {
			if want := i%periodWin < onWin; got != want {
				t.Errorf("%s: window %d (%v): sounding %v, want %v", tt.name, i, time.Duration(i)*10*time.Millisecond, got, want)
				break
			}
		}
		// Bursts start at a zero crossing and ramp: no click at the edges.
		start := int(tt.period.Seconds() * rate)
		if x[start] != 0 || x[start-1] != 0 {
			t.Errorf("%s: second burst starts with %d after %d", tt.name, x[start], x[start-1])
		}
		end := int(tt.on.Seconds() * rate)
		if x[end-1] != 0 {
			t.Errorf("%s: burst ends on %d, not faded out", tt.name, x[end-1])
		}
		maxStep := 0
		for i := 1; i < len(x); i++ {
			maxStep = max(maxStep, abs(int(x[i])-int(x[i-1])))
		}
		a := AmplitudeDBm0(tt.tone.Levels[0]) + AmplitudeDBm0(tt.tone.Levels[1])
		if limit := int(a*2*math.Pi*620/rate) + 2; maxStep > limit {
			t.Errorf("%s: a step of %d between samples, a sine allows %d", tt.name, maxStep, limit)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// The generator's DTMF tones are what the detector expects.
func TestDTMFToneRoundTrip(t *testing.T) {
	const keys = "0123456789*#ABCD"
	d, _ := NewDTMFDetector(DTMFConfig{})
	var ev []DTMFEvent
	frame := make([]int16, 160)
	for i := range len(keys) {
		tone, ok := DTMFTone(keys[i])
		if !ok {
			t.Fatalf("no tone for %c", keys[i])
		}
		g, _ := NewToneGenerator(tone, 8000)
		for range 4 { // 80 ms on
			g.Generate(frame)
			ev = d.Process(frame, ev)
		}
		clear(frame)
		for range 4 { // 80 ms off
			ev = d.Process(frame, ev)
		}
	}
	if got := starts(ev); got != keys {
		t.Errorf("detected %q, want %q", got, keys)
	}
	if _, ok := DTMFTone('x'); ok {
		t.Error("tone for key x")
	}
}

func TestToneSilenceAndErrors(t *testing.T) {
	x := generate(t, Tone{}, 8000, 800, 160)
	for _, v := range x {
		if v != 0 {
			t.Fatal("silence is not silent")
		}
	}
	bad := []Tone{
		{Freqs: [2]float64{4000}, Levels: [2]float64{-10}},                                           // Nyquist
		{Freqs: [2]float64{-5}, Levels: [2]float64{-10}},                                             // negative
		{Freqs: [2]float64{400, 500}, Levels: [2]float64{0, 0}},                                      // clips
		{Freqs: [2]float64{400}, Levels: [2]float64{-10}, Cadence: []time.Duration{time.Nanosecond}}, // sub-sample step
	}
	for _, tone := range bad {
		if _, err := NewToneGenerator(tone, 8000); err == nil {
			t.Errorf("%v accepted", tone)
		}
	}
	if _, err := NewToneGenerator(DialTone(), 0); err == nil {
		t.Error("rate 0 accepted")
	}
	if s := RingbackTone().String(); s != "425Hz 1s/4s" {
		t.Errorf("String = %q", s)
	}
}

func TestToneResetAndOddCadence(t *testing.T) {
	// An odd cadence reuses its last step as the off time: 100 ms on, 100 ms off.
	tone := Tone{Freqs: [2]float64{600}, Levels: [2]float64{-10}, Cadence: []time.Duration{100 * time.Millisecond}}
	x := generate(t, tone, 8000, 8000, 160)
	w := onOff(x, 8000)
	for i, got := range w {
		if want := (i/10)%2 == 0; got != want {
			t.Fatalf("window %d: sounding %v", i, got)
		}
	}
	g, _ := NewToneGenerator(tone, 8000)
	a := make([]int16, 900)
	b := make([]int16, 900)
	g.Generate(a)
	g.Reset()
	g.Generate(b)
	if !slices.Equal(a, b) {
		t.Error("Reset does not restart the tone")
	}
}

func TestToneDoesNotAllocate(t *testing.T) {
	g, _ := NewToneGenerator(BusyTone(), 8000)
	frame := make([]int16, 160)
	if a := testing.AllocsPerRun(200, func() { g.Generate(frame) }); a != 0 {
		t.Errorf("%v allocations per frame", a)
	}
}

func BenchmarkTone20ms(b *testing.B) {
	for _, tt := range []struct {
		name string
		tone Tone
		rate int
	}{{"single8k", BusyTone(), 8000}, {"dual8k", USBusyTone(), 8000}, {"dual48k", USBusyTone(), 48000}} {
		b.Run(tt.name, func(b *testing.B) {
			g, _ := NewToneGenerator(tt.tone, tt.rate)
			frame := make([]int16, tt.rate/50)
			b.ReportAllocs()
			for b.Loop() {
				g.Generate(frame)
			}
		})
	}
}
