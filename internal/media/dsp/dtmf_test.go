package dsp

import (
	"math"
	"strings"
	"testing"
	"time"
)

// keyFreqs returns the row and column frequency of a key.
func keyFreqs(t testing.TB, digit byte) (float64, float64) {
	t.Helper()
	for r := range 4 {
		for c := range 4 {
			if dtmfKeypad[r][c] == digit {
				return dtmfRows[r], dtmfCols[c]
			}
		}
	}
	t.Fatalf("no key %q", digit)
	return 0, 0
}

// burst describes one stretch of a generated test signal.
type burst struct {
	f1, f2     float64 // Hz, 0 for none
	lvl1, lvl2 float64 // dBm0
	dur        time.Duration
}

// render concatenates bursts at rate, keeping each oscillator's phase
// continuous only within its burst, as a phone's generator does.
func render(rate int, bs []burst) []int16 {
	var out []int16
	for _, b := range bs {
		n := int(b.dur * time.Duration(rate) / time.Second)
		a1, a2 := 0.0, 0.0
		if b.f1 > 0 {
			a1 = AmplitudeDBm0(b.lvl1)
		}
		if b.f2 > 0 {
			a2 = AmplitudeDBm0(b.lvl2)
		}
		out = append(out, dual(n, rate, b.f1, a1, b.f2, a2)...)
	}
	return out
}

// digits builds a key sequence: each key on for on, then off for off.
func digits(t testing.TB, seq string, on, off time.Duration, lowLvl, highLvl float64) []burst {
	var bs []burst
	for i := range len(seq) {
		r, c := keyFreqs(t, seq[i])
		bs = append(bs, burst{r, c, lowLvl, highLvl, on}, burst{dur: off})
	}
	return bs
}

func detect(t testing.TB, cfg DTMFConfig, pcm []int16, frame int) []DTMFEvent {
	t.Helper()
	d, err := NewDTMFDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ev []DTMFEvent
	for i := 0; i < len(pcm); i += frame {
		ev = d.Process(pcm[i:min(i+frame, len(pcm))], ev)
	}
	return ev
}

func starts(ev []DTMFEvent) string {
	var b strings.Builder
	for _, e := range ev {
		if !e.End {
			b.WriteByte(e.Digit)
		}
	}
	return b.String()
}

func TestDTMFSequenceInNoise(t *testing.T) {
	const seq = "0123456789*#ABCD"
	for _, tt := range []struct {
		name     string
		noiseRMS float64
		rate     int
	}{
		{"clean", 0, 8000},
		{"30 dB SNR", 120, 8000},
		{"15 dB SNR", 700, 8000},
		{"16 kHz", 120, 16000},
		{"48 kHz", 120, 48000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pcm := render(tt.rate, append([]burst{{dur: 100 * time.Millisecond}}, digits(t, seq, 50*time.Millisecond, 50*time.Millisecond, -10, -8)...))
			addNoise(pcm, tt.noiseRMS, 42)
			ev := detect(t, DTMFConfig{SampleRate: tt.rate}, pcm, tt.rate/50)
			if got := starts(ev); got != seq {
				t.Fatalf("detected %q, want %q (%v)", got, seq, ev)
			}
			var n int
			for _, e := range ev {
				if e.End {
					if e.Duration < 45*time.Millisecond || e.Duration > 56*time.Millisecond {
						t.Errorf("%v: duration off", e)
					}
					continue
				}
				want := 100*time.Millisecond + time.Duration(n)*100*time.Millisecond
				if d := e.Start - want; d < -5*time.Millisecond || d > 5*time.Millisecond {
					t.Errorf("%v: start %v, want %v ± 5 ms", e, e.Start, want)
				}
				n++
			}
			if len(ev) != 2*len(seq) {
				t.Errorf("%d events, want a start and an end per digit", len(ev))
			}
		})
	}
}

// ITU-T Q.24: a 40 ms digit must be accepted and a 20 ms one rejected,
// wherever it falls against the detector's blocks.
func TestDTMFMinimumDuration(t *testing.T) {
	for _, cond := range []struct {
		level, noise float64
		rate         int
	}{{-10, 50, 8000}, {-10, 700, 8000}, {-25, 50, 8000}, {-3, 0, 8000}, {-10, 100, 16000}} {
		block := dtmfBlock8k * cond.rate / 8000
		for offset := 0; offset < block; offset += cond.rate / 8000 {
			for _, tt := range []struct {
				dur  time.Duration
				want string
			}{{40 * time.Millisecond, "5"}, {20 * time.Millisecond, ""}} {
				pcm := make([]int16, offset)
				pcm = append(pcm, render(cond.rate, digits(t, "5", tt.dur, 100*time.Millisecond, cond.level, cond.level))...)
				addNoise(pcm, cond.noise, uint64(offset))
				if got := starts(detect(t, DTMFConfig{SampleRate: cond.rate}, pcm, cond.rate/50)); got != tt.want {
					t.Errorf("%v tone at %v dBm0, noise %v, %d Hz, offset %d: detected %q, want %q", tt.dur, cond.level, cond.noise, cond.rate, offset, got, tt.want)
				}
			}
		}
	}
}

// A digit repeated after the minimum 40 ms pause is two key presses; one
// corrupted block inside a digit does not split it.
func TestDTMFRepeatsAndDropouts(t *testing.T) {
	pcm := render(8000, digits(t, "777", 60*time.Millisecond, 40*time.Millisecond, -10, -10))
	if got := starts(detect(t, DTMFConfig{}, pcm, 160)); got != "777" {
		t.Errorf("repeated digit: detected %q", got)
	}
	r, c := keyFreqs(t, '9')
	pcm = render(8000, []burst{{r, c, -10, -10, 60 * time.Millisecond}, {dur: 8 * time.Millisecond}, {r, c, -10, -10, 60 * time.Millisecond}, {dur: 60 * time.Millisecond}})
	ev := detect(t, DTMFConfig{}, pcm, 160)
	if got := starts(ev); got != "9" {
		t.Errorf("digit with an 8 ms dropout: detected %q", got)
	}
}

// Q.24 frequency tolerance: operate within ±1.5 %, never beyond ±3.5 %.
func TestDTMFFrequencyTolerance(t *testing.T) {
	for _, key := range []byte("1596*0#D") {
		r, c := keyFreqs(t, key)
		for _, tt := range []struct {
			dev  float64
			want bool
		}{{0.015, true}, {-0.015, true}, {0.035, false}, {-0.035, false}, {0.06, false}, {-0.06, false}} {
			for i, f := range [][2]float64{{r * (1 + tt.dev), c}, {r, c * (1 + tt.dev)}} {
				pcm := render(8000, []burst{{f[0], f[1], -10, -10, 80 * time.Millisecond}, {dur: 60 * time.Millisecond}})
				addNoise(pcm, 50, 3)
				got := starts(detect(t, DTMFConfig{}, pcm, 160))
				if (got != "") != tt.want {
					which := []string{"row", "column"}[i]
					t.Errorf("key %c, %s %+.1f%%: detected %q, want detection %v", key, which, 100*tt.dev, got, tt.want)
				}
			}
		}
	}
}

func TestDTMFTwistAndLevel(t *testing.T) {
	tests := []struct {
		name      string
		low, high float64 // dBm0
		want      bool
	}{
		{"balanced", -10, -10, true},
		{"normal twist 7 dB", -5, -12, true},
		{"normal twist 10 dB", -5, -15, false},
		{"reverse twist 3 dB", -13, -10, true},
		{"reverse twist 6 dB", -16, -10, false},
		{"weak -30 dBm0", -30, -30, true},
		{"too weak -40 dBm0", -40, -40, false},
		{"loud 0 dBm0", 0, 0, true},
	}
	for _, tt := range tests {
		pcm := render(8000, digits(t, "8", 60*time.Millisecond, 60*time.Millisecond, tt.low, tt.high))
		if got := starts(detect(t, DTMFConfig{}, pcm, 160)); (got == "8") != tt.want {
			t.Errorf("%s: detected %q, want detection %v", tt.name, got, tt.want)
		}
	}
}

func TestDTMFRejectsSingleTones(t *testing.T) {
	for _, f := range append(dtmfRows[:], dtmfCols[:]...) {
		pcm := render(8000, []burst{{f, 0, -5, 0, 500 * time.Millisecond}})
		if ev := detect(t, DTMFConfig{}, pcm, 160); len(ev) != 0 {
			t.Errorf("single %v Hz tone detected as %v", f, ev)
		}
	}
	// Dial tone and other call-progress tones are not digits either.
	pcm := render(8000, []burst{{350, 440, -10, -10, time.Second}, {425, 0, -10, 0, time.Second}, {480, 620, -10, -10, time.Second}})
	if ev := detect(t, DTMFConfig{}, pcm, 160); len(ev) != 0 {
		t.Errorf("call-progress tones detected as %v", ev)
	}
}

// speechLike synthesises voiced speech: a glottal pulse train with a
// gliding pitch through three formant resonators that move like vowels,
// plus a little breath noise.
func speechLike(n, rate int, seed uint64, pitchLo, pitchHi float64) []int16 {
	out := make([]int16, n)
	r := rng(seed)
	var phase float64
	type reson struct{ y1, y2 float64 }
	var fs [3]reson
	formants := [][3]float64{{730, 1090, 2440}, {270, 2290, 3010}, {530, 1840, 2480}, {570, 840, 2410}, {440, 1020, 2240}}
	for i := range out {
		t := float64(i) / float64(rate)
		// Pitch glides with a 3 s period; vowels change every 150 ms.
		pitch := pitchLo + (pitchHi-pitchLo)*(0.5+0.5*math.Sin(2*math.Pi*t/3))
		phase += pitch / float64(rate)
		var x float64
		if phase >= 1 {
			phase--
			x = 4000
		}
		x += 30 * r.gauss()
		v := formants[int(t/0.15)%len(formants)]
		var y float64
		for k := range 3 {
			bw := 80.0 + 40*float64(k)
			rr := math.Exp(-math.Pi * bw / float64(rate))
			c := 2 * rr * math.Cos(2*math.Pi*v[k]/float64(rate))
			yk := x + c*fs[k].y1 - rr*rr*fs[k].y2
			fs[k].y2, fs[k].y1 = fs[k].y1, yk
			y += yk
		}
		// Syllables: amplitude envelope at about 4 Hz.
		out[i] = sat(y * (0.6 + 0.4*math.Sin(2*math.Pi*4*t)))
	}
	return out
}

// Talk-off: speech-like signals, noise and harmonic-rich tones must not
// produce digits.
func TestDTMFRejectsSpeechAndNoise(t *testing.T) {
	tests := []struct {
		name string
		pcm  []int16
	}{
		{"male voice", speechLike(8000*10, 8000, 1, 90, 160)},
		{"female voice", speechLike(8000*10, 8000, 2, 170, 290)},
		{"white noise", func() []int16 { x := make([]int16, 8000*5); addNoise(x, 3000, 9); return x }()},
	}
	// A buzz at 192.5 Hz: its 4th harmonic is 770 Hz (row 2) and its 7th
	// is 1347.5 Hz, within tolerance of column 2.
	buzz := make([]int16, 8000*3)
	for i := range buzz {
		var v float64
		for h := 1; h <= 20; h++ {
			v += 1500 / math.Sqrt(float64(h)) * math.Sin(2*math.Pi*192.5*float64(h)*float64(i)/8000)
		}
		buzz[i] = sat(v)
	}
	tests = append(tests, struct {
		name string
		pcm  []int16
	}{"harmonic buzz", buzz})
	for _, tt := range tests {
		if ev := detect(t, DTMFConfig{}, tt.pcm, 160); len(ev) != 0 {
			t.Errorf("%s: detected %v", tt.name, ev)
		}
	}
}

// Digits pressed while someone talks are still found: the speech is about
// 8 dB below the tones.
func TestDTMFOverSpeech(t *testing.T) {
	const seq = "2580"
	pcm := render(8000, append([]burst{{dur: 200 * time.Millisecond}}, digits(t, seq, 70*time.Millisecond, 130*time.Millisecond, -10, -8)...))
	speech := speechLike(len(pcm), 8000, 3, 100, 200)
	for i := range pcm {
		pcm[i] = sat(float64(pcm[i]) + float64(speech[i]))
	}
	if got := starts(detect(t, DTMFConfig{}, pcm, 160)); got != seq {
		t.Errorf("detected %q, want %q", got, seq)
	}
}

// Frame size does not change what is detected or when.
func TestDTMFChunkIndependence(t *testing.T) {
	pcm := render(8000, digits(t, "159#", 45*time.Millisecond, 45*time.Millisecond, -12, -10))
	addNoise(pcm, 200, 5)
	want := detect(t, DTMFConfig{}, pcm, 160)
	for _, frame := range []int{1, 7, 80, 240, 1000} {
		got := detect(t, DTMFConfig{}, pcm, frame)
		if len(got) != len(want) {
			t.Fatalf("frame %d: %v, want %v", frame, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("frame %d: event %d = %v, want %v", frame, i, got[i], want[i])
			}
		}
	}
}

func TestDTMFResetAndConfig(t *testing.T) {
	d, err := NewDTMFDetector(DTMFConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pcm := render(8000, digits(t, "3", 60*time.Millisecond, 60*time.Millisecond, -10, -10))
	first := d.Process(pcm, nil)
	d.Reset()
	again := d.Process(pcm, nil)
	if len(first) != 2 || len(again) != 2 || first[0] != again[0] {
		t.Errorf("after Reset: %v, first run %v", again, first)
	}
	if _, err := NewDTMFDetector(DTMFConfig{SampleRate: 100}); err == nil {
		t.Error("100 Hz detector accepted")
	}
	// A longer minimum duration rejects what the default accepts.
	if got := starts(detect(t, DTMFConfig{MinDuration: 100 * time.Millisecond}, pcm, 160)); got != "" {
		t.Errorf("60 ms digit with 100 ms minimum: detected %q", got)
	}
}

func TestDTMFDoesNotAllocate(t *testing.T) {
	d, _ := NewDTMFDetector(DTMFConfig{})
	pcm := render(8000, digits(t, "1", 100*time.Millisecond, 100*time.Millisecond, -10, -10))
	ev := make([]DTMFEvent, 0, 8)
	i := 0
	if a := testing.AllocsPerRun(200, func() {
		ev = d.Process(pcm[i:i+160], ev[:0])
		i = (i + 160) % (len(pcm) - 160)
	}); a != 0 {
		t.Errorf("%v allocations per frame", a)
	}
}

func BenchmarkDTMFDetect20ms(b *testing.B) {
	d, _ := NewDTMFDetector(DTMFConfig{})
	pcm := render(8000, digits(b, "1", 100*time.Millisecond, 100*time.Millisecond, -10, -10))
	ev := make([]DTMFEvent, 0, 8)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev = d.Process(pcm[i:i+160], ev[:0])
		i = (i + 160) % (len(pcm) - 160)
	}
}
