package codec

import (
	"math"
	"testing"
)

// sine returns n samples of a sine at freq Hz and the given peak amplitude.
func sine(n, rate int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// goertzelPower returns the normalised power of x at freq: for a pure sine
// of amplitude A it is A²/2, the signal's mean power.
func goertzelPower(x []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	n := float64(len(x))
	return 2 * p / (n * n)
}

func meanPower(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e / float64(len(x))
}

// dominantFrequency scans candidate frequencies and returns the strongest.
func dominantFrequency(x []int16, rate int, lo, hi, step float64) float64 {
	best, bestP := lo, -1.0
	for f := lo; f <= hi; f += step {
		if p := goertzelPower(x, rate, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// snrDB compares out against ref after searching the codec delay in
// [0, maxDelay] samples and the best least-squares gain, over ref[skip:].
// It returns the SNR in dB and the delay found.
func snrDB(ref, out []int16, skip, maxDelay int) (float64, int) {
	bestSNR, bestD := math.Inf(-1), 0
	for d := 0; d <= maxDelay; d++ {
		var sig, cross, outE float64
		n := 0
		for i := skip; i+d < len(out) && i < len(ref); i++ {
			r, o := float64(ref[i]), float64(out[i+d])
			sig += r * r
			cross += r * o
			outE += o * o
			n++
		}
		if n == 0 || outE == 0 {
			continue
		}
		g := cross / outE
		var noise float64
		for i := skip; i+d < len(out) && i < len(ref); i++ {
			e := float64(ref[i]) - g*float64(out[i+d])
			noise += e * e
		}
		snr := 10 * math.Log10(sig/math.Max(noise, 1e-9))
		if snr > bestSNR {
			bestSNR, bestD = snr, d
		}
	}
	return bestSNR, bestD
}

func benchEncode(b *testing.B, enc Encoder, samples int) {
	pcm := sine(samples, 8000, 440, 8000)
	dst := make([]byte, 4000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := enc.Encode(dst, pcm); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, enc Encoder, dec Decoder, samples int) {
	pcm := sine(samples, 8000, 440, 8000)
	payload := make([]byte, 4000)
	n, err := enc.Encode(payload, pcm)
	if err != nil {
		b.Fatal(err)
	}
	payload = payload[:n]
	dst := make([]int16, 4*samples)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := dec.Decode(dst, payload); err != nil {
			b.Fatal(err)
		}
	}
}
