package dsp

import (
	"math"
)

// sine returns n samples of a sine at freq Hz with the given peak amplitude
// and starting phase.
func sine(n, rate int, freq, amp, phase float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)+phase)))
	}
	return out
}

// dual returns n samples of two summed sines.
func dual(n, rate int, f1, a1, f2, a2 float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / float64(rate)
		v := a1*math.Sin(2*math.Pi*f1*t) + a2*math.Sin(2*math.Pi*f2*t)
		out[i] = sat(v)
	}
	return out
}

func sat(v float64) int16 {
	v = math.Round(v)
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

// refPower is a float64 reference Goertzel: the mean power of x at freq,
// A²/2 for a pure sine of amplitude A.
func refPower(x []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s
	}
	n := float64(len(x))
	return 2 * (s1*s1 + s2*s2 - coeff*s1*s2) / (n * n)
}

func meanSquare(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e / float64(len(x))
}

func dB(ratio float64) float64 { return 10 * math.Log10(ratio) }

// rng is a small deterministic generator (a 64-bit LCG) so that noise in
// tests is the same on every run.
type rng uint64

func (r *rng) float() float64 {
	*r = *r*6364136223846793005 + 1442695040888963407
	return float64(uint64(*r)>>11) / (1 << 53)
}

// gauss returns a standard normal deviate (Box-Muller).
func (r *rng) gauss() float64 {
	u1, u2 := r.float(), r.float()
	if u1 < 1e-300 {
		u1 = 1e-300
	}
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// addNoise adds white Gaussian noise of the given RMS to x, saturating.
func addNoise(x []int16, rms float64, seed uint64) {
	r := rng(seed)
	for i := range x {
		x[i] = sat(float64(x[i]) + rms*r.gauss())
	}
}
