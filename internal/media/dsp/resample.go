package dsp

import (
	"errors"
	"fmt"
	"math"
)

// ErrShortBuffer means the destination cannot hold one call's output.
var ErrShortBuffer = errors.New("dsp: destination buffer too short")

// Resampler design. The filter is a Kaiser-windowed sinc run as a polyphase
// bank: only the taps that meet real input samples are computed, so the
// work per output sample is the taps of one phase. The transition band is
// 0.4 to 0.6 of the lower rate: flat through the telephone band (3.2 kHz of
// 4 for 8 kHz), and what aliases lands above the passband, attenuated at
// least resampleStopDB.
const (
	resampleStopDB   = 60.0
	resamplePassFrac = 0.4 // passband edge, fraction of the lower rate
	resampleStopFrac = 0.6 // stopband edge, fraction of the lower rate
	maxResampleUp    = 480 // caps the phase bank for odd rate pairs (44.1 kHz needs 441)
)

// Resampler converts a stream of mono PCM between two sample rates
// (8, 16 and 48 kHz, or any pair with a small rational ratio). It keeps the
// filter history between calls, so a stream may be fed in frames of any
// size; the output is the same as if it came in one piece.
type Resampler struct {
	inRate, outRate int
	up, down        int       // rate ratio up/down in lowest terms
	taps            int       // taps per phase
	coef            []float32 // up phases × taps, each phase reversed for a forward dot product
	buf             []float32 // taps-1 samples of history, then the current input
	next            int       // buf index of the newest input sample the next output uses
	phase           int       // polyphase branch of the next output
}

// NewResampler returns a resampler from inRate to outRate (Hz).
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 {
		return nil, fmt.Errorf("dsp: resample %d to %d Hz: invalid rate", inRate, outRate)
	}
	g := gcd(inRate, outRate)
	up, down := outRate/g, inRate/g
	if up > maxResampleUp || down > maxResampleUp {
		return nil, fmt.Errorf("dsp: resample %d to %d Hz: ratio %d/%d too fine", inRate, outRate, up, down)
	}
	r := &Resampler{inRate: inRate, outRate: outRate, up: up, down: down}
	r.design()
	r.Reset()
	return r, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// design builds the polyphase filter bank.
func (r *Resampler) design() {
	if r.up == 1 && r.down == 1 {
		r.taps = 4
		r.coef = []float32{0, 0, 0, 1}
		return
	}
	fu := float64(r.inRate * r.up) // rate of the conceptual upsampled signal
	low := float64(min(r.inRate, r.outRate))
	dw := 2 * math.Pi * (resampleStopFrac - resamplePassFrac) * low / fu
	n := int(math.Ceil((resampleStopDB-7.95)/(2.285*dw))) + 1
	taps := (n + r.up - 1) / r.up
	taps = (taps + 3) &^ 3 // a multiple of four suits the unrolled dot product
	total := taps * r.up
	beta := 0.1102 * (resampleStopDB - 8.7)
	fc := (resamplePassFrac + resampleStopFrac) / 2 * low / fu // cutoff, cycles per upsampled sample
	center := float64(total-1) / 2
	h := make([]float64, total)
	for i := range h {
		x := float64(i) - center
		h[i] = 2 * fc * sinc(2*fc*x) * kaiser(x, center+0.5, beta)
	}
	r.taps = taps
	r.coef = make([]float32, total)
	for p := 0; p < r.up; p++ {
		// Branch p meets taps h[p], h[p+up], ... against x[i], x[i-1], ...;
		// stored reversed so the dot product runs forward over the buffer.
		// Each branch is normalised to unity gain at DC, which keeps an
		// upsampled constant free of a ripple at the input rate.
		var sum float64
		for k := 0; k < taps; k++ {
			sum += h[p+k*r.up]
		}
		for k := 0; k < taps; k++ {
			r.coef[p*taps+taps-1-k] = float32(h[p+k*r.up] / sum)
		}
	}
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiser is the Kaiser window at offset x from the centre of a window of
// half-width half.
func kaiser(x, half, beta float64) float64 {
	t := x / half
	if t <= -1 || t >= 1 {
		return 0
	}
	return bessel0(beta*math.Sqrt(1-t*t)) / bessel0(beta)
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return sum
}

// Reset clears the history, as for a new stream.
func (r *Resampler) Reset() {
	if cap(r.buf) < r.taps-1 {
		r.buf = make([]float32, r.taps-1, r.taps-1+r.inRate/50)
	}
	r.buf = r.buf[:r.taps-1]
	clear(r.buf)
	r.next = r.taps - 1
	r.phase = 0
}

// Delay is the filter's group delay in output samples (a linear-phase
// filter delays every frequency alike; the value may be fractional).
func (r *Resampler) Delay() float64 {
	if r.up == 1 && r.down == 1 {
		return 0
	}
	return float64(r.taps*r.up-1) / float64(2*r.down)
}

// OutLen is the number of samples the next Process call with n input
// samples writes.
func (r *Resampler) OutLen(n int) int {
	avail := r.taps - 1 + n
	first := r.next*r.up + r.phase
	end := avail * r.up
	if first >= end {
		return 0
	}
	return (end - first + r.down - 1) / r.down
}

func (r *Resampler) String() string {
	return fmt.Sprintf("Resample(%d->%d)", r.inRate, r.outRate)
}

// Process resamples src into dst and returns the number of samples written,
// OutLen(len(src)). For whole 20 ms frames between 8, 16 and 48 kHz that is
// exactly 20 ms at the output rate. dst shorter than that is an error and
// leaves the state unchanged.
func (r *Resampler) Process(dst, src []int16) (int, error) {
	out := r.OutLen(len(src))
	if len(dst) < out {
		return 0, fmt.Errorf("%v: %d input samples need %d output, have %d: %w", r, len(src), out, len(dst), ErrShortBuffer)
	}
	hist := r.taps - 1
	if cap(r.buf) < hist+len(src) {
		// Grows once to the stream's frame size, then stays.
		nb := make([]float32, hist, hist+len(src))
		copy(nb, r.buf[:hist])
		r.buf = nb
	}
	buf := r.buf[:hist+len(src)]
	for i, s := range src {
		buf[hist+i] = float32(s)
	}
	taps, up := r.taps, r.up
	// The position advances down/up input samples per output; split into
	// whole and fractional steps so the loop has no division.
	whole, frac := r.down/up, r.down%up
	next, phase := r.next, r.phase
	dst = dst[:out]
	coef := r.coef
	for j := range dst {
		x := buf[next-hist : next+1]
		c := coef[phase*taps : phase*taps+taps]
		x = x[:len(c)]
		// The dot product, inlined by hand: at 20 taps a call costs about
		// a sixth of the work.
		var s0, s1, s2, s3 float32
		for i := 0; i+4 <= len(c); i += 4 {
			s0 += c[i] * x[i]
			s1 += c[i+1] * x[i+1]
			s2 += c[i+2] * x[i+2]
			s3 += c[i+3] * x[i+3]
		}
		dst[j] = roundSat16((s0 + s1) + (s2 + s3))
		next += whole
		phase += frac
		if phase >= up {
			phase -= up
			next++
		}
	}
	copy(buf[:hist], buf[len(buf)-hist:])
	r.buf = buf[:hist]
	r.next = next - len(src)
	r.phase = phase
	return out, nil
}

func roundSat16(v float32) int16 {
	if v >= 32766.5 {
		return 32767
	}
	if v <= -32767.5 {
		return -32768
	}
	if v >= 0 {
		return int16(v + 0.5)
	}
	return int16(v - 0.5)
}
