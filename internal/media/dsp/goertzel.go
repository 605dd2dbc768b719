package dsp

import "math"

// Goertzel measures the power of one frequency over a block of samples with
// one multiply per sample: a single DFT bin without computing the others.
type Goertzel struct {
	freq  float64
	coeff float32 // 2·cos(2π·f/rate)
}

// NewGoertzel returns a filter for freq Hz at the given sample rate.
func NewGoertzel(freq float64, rate int) Goertzel {
	return Goertzel{freq: freq, coeff: float32(2 * math.Cos(2*math.Pi*freq/float64(rate)))}
}

// Freq is the frequency the filter measures.
func (g Goertzel) Freq() float64 { return g.freq }

// Power returns the mean power of x at the filter's frequency, scaled so
// that a pure sine of amplitude A at that frequency gives A²/2, its mean
// power; compare it with MeanSquare of the same block.
func (g Goertzel) Power(x []int16) float64 {
	var s1, s2 float32
	c := g.coeff
	for _, v := range x {
		s1, s2 = float32(v)+c*s1-s2, s1
	}
	return goertzelNorm(s1, s2, c, len(x))
}

// powerF is Power over float samples, for the DTMF detector's block buffer.
func (g Goertzel) powerF(x []float32) float64 {
	var s1, s2 float32
	c := g.coeff
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	return goertzelNorm(s1, s2, c, len(x))
}

func goertzelNorm(s1, s2, c float32, n int) float64 {
	if n == 0 {
		return 0
	}
	a, b, k := float64(s1), float64(s2), float64(c)
	p := a*a + b*b - k*a*b // |X(f)|²
	return 2 * p / (float64(n) * float64(n))
}
