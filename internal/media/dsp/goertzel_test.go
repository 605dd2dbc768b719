package dsp

import (
	"math"
	"testing"
)

func TestGoertzelPower(t *testing.T) {
	const rate = 8000
	x := sine(400, rate, 1000, 10000, 0.4) // a whole number of cycles
	g := NewGoertzel(1000, rate)
	if g.Freq() != 1000 {
		t.Errorf("Freq = %v", g.Freq())
	}
	// A sine at the filter's frequency measures its mean power, A²/2.
	if p := g.Power(x); math.Abs(p/(10000*10000/2)-1) > 1e-3 {
		t.Errorf("power %v, want %v", p, 10000*10000/2)
	}
	// It agrees with a float64 reference at and off its frequency.
	for _, f := range []float64{697, 1000, 1209, 1633, 3000} {
		got := NewGoertzel(f, rate).Power(x)
		want := refPower(x, rate, f)
		if math.Abs(got-want) > 1e-4*10000*10000/2 {
			t.Errorf("%v Hz: %v, reference %v", f, got, want)
		}
	}
	// Two bins away it sees next to nothing.
	if p := NewGoertzel(1040, rate).Power(x); p > 1e-6*10000*10000/2 {
		t.Errorf("1040 Hz filter sees %v of a 1 kHz sine", p)
	}
	if NewGoertzel(1000, rate).Power(nil) != 0 {
		t.Error("empty block has power")
	}
}

func BenchmarkGoertzel20ms(b *testing.B) {
	g := NewGoertzel(1000, 8000)
	x := sine(160, 8000, 1000, 8000, 0)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.Power(x)
	}
}
