package dsp

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Tone describes a call-progress or signalling tone: one or two
// frequencies, optionally switched on and off in a repeating cadence.
type Tone struct {
	// Freqs in Hz; a zero entry is unused, and both zero make silence.
	Freqs [2]float64
	// Levels of each frequency, in dBm0 (call-progress tones sit near
	// −10; 0 is loud, and two tones at 0 would clip).
	Levels [2]float64
	// Cadence alternates on and off durations, starting with on, and
	// repeats; empty means a steady tone.
	Cadence []time.Duration
}

func (t Tone) String() string {
	var b strings.Builder
	switch {
	case t.Freqs[0] == 0 && t.Freqs[1] == 0:
		b.WriteString("silence")
	case t.Freqs[1] == 0:
		fmt.Fprintf(&b, "%gHz", t.Freqs[0])
	case t.Freqs[0] == 0:
		fmt.Fprintf(&b, "%gHz", t.Freqs[1])
	default:
		fmt.Fprintf(&b, "%g+%gHz", t.Freqs[0], t.Freqs[1])
	}
	for i, d := range t.Cadence {
		sep := "/"
		if i == 0 {
			sep = " "
		}
		b.WriteString(sep + d.String())
	}
	return b.String()
}

// Call-progress level: −10 dBm0 is usual across ETSI and North American
// plans for dial, ring-back and busy tones.
const progressLevel = -10

// DialTone is the European (ETSI/CEPT) dial tone: 425 Hz steady.
func DialTone() Tone {
	return Tone{Freqs: [2]float64{425}, Levels: [2]float64{progressLevel}}
}

// RingbackTone is the European ring-back tone: 425 Hz, 1 s on, 4 s off.
func RingbackTone() Tone {
	return Tone{Freqs: [2]float64{425}, Levels: [2]float64{progressLevel}, Cadence: []time.Duration{time.Second, 4 * time.Second}}
}

// BusyTone is the European busy tone: 425 Hz, 0.5 s on, 0.5 s off.
func BusyTone() Tone {
	return Tone{Freqs: [2]float64{425}, Levels: [2]float64{progressLevel}, Cadence: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}}
}

// CongestionTone is the European congestion tone: 425 Hz, 0.25 s on,
// 0.25 s off.
func CongestionTone() Tone {
	return Tone{Freqs: [2]float64{425}, Levels: [2]float64{progressLevel}, Cadence: []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}}
}

// USRingbackTone is the North American ring-back: 440+480 Hz, 2 s on, 4 s
// off.
func USRingbackTone() Tone {
	return Tone{Freqs: [2]float64{440, 480}, Levels: [2]float64{-19, -19}, Cadence: []time.Duration{2 * time.Second, 4 * time.Second}}
}

// USBusyTone is the North American busy tone: 480+620 Hz, 0.5 s on, 0.5 s
// off.
func USBusyTone() Tone {
	return Tone{Freqs: [2]float64{480, 620}, Levels: [2]float64{-24, -24}, Cadence: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}}
}

// DTMFTone is the steady dual tone of a key ('0'-'9', '*', '#', 'A'-'D'),
// with the high group 2 dB above the low group as phones send it. The
// caller sets the duration by how much it generates.
func DTMFTone(digit byte) (Tone, bool) {
	for r := range 4 {
		for c := range 4 {
			if dtmfKeypad[r][c] == digit {
				return Tone{Freqs: [2]float64{dtmfRows[r], dtmfCols[c]}, Levels: [2]float64{-8, -6}}, true
			}
		}
	}
	return Tone{}, false
}

// sineTable holds one period of a sine plus a guard entry, for linear
// interpolation; 1024 points keep the error below −100 dB.
var sineTable = func() *[1025]float32 {
	var t [1025]float32
	for i := range t {
		t[i] = float32(math.Sin(2 * math.Pi * float64(i) / 1024))
	}
	return &t
}()

const (
	phaseIndexShift = 22 // 32-bit phase: top 10 bits index the table
	phaseFracMask   = 1<<phaseIndexShift - 1
	phaseFracScale  = 1.0 / (1 << phaseIndexShift)
)

func sinPhase(p uint32) float32 {
	i := p >> phaseIndexShift
	f := float32(p&phaseFracMask) * phaseFracScale
	a, b := sineTable[i], sineTable[i+1]
	return a + (b-a)*f
}

// ToneGenerator renders a Tone into PCM frames. Each oscillator is a 32-bit
// phase accumulator, so the waveform is continuous across frames and never
// drifts; each burst of a cadence starts at phase zero and is shaped by a
// 2 ms ramp at both ends, so the switching does not click.
type ToneGenerator struct {
	tone    Tone
	rate    int
	inc     [2]uint32
	amp     [2]float32
	phase   [2]uint32
	cadence []int // segment lengths in samples
	seg     int
	pos     int // samples into the current segment
	ramp    int
}

// NewToneGenerator returns a generator of t at rate Hz.
func NewToneGenerator(t Tone, rate int) (*ToneGenerator, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("dsp: tone %v at %d Hz: invalid rate", t, rate)
	}
	g := &ToneGenerator{tone: t, rate: rate, ramp: max(1, rate/500)}
	for i, f := range t.Freqs {
		if f < 0 || f >= float64(rate)/2 {
			return nil, fmt.Errorf("dsp: tone %v at %d Hz: frequency %g Hz out of range", t, rate, f)
		}
		if f > 0 {
			g.inc[i] = uint32(math.Round(f / float64(rate) * (1 << 32)))
			g.amp[i] = float32(AmplitudeDBm0(t.Levels[i]))
		}
	}
	if g.amp[0]+g.amp[1] > 32767 {
		return nil, fmt.Errorf("dsp: tone %v: levels %v dBm0 clip", t, t.Levels)
	}
	for _, d := range t.Cadence {
		n := int(int64(d) * int64(rate) / int64(time.Second))
		if n <= 0 {
			return nil, fmt.Errorf("dsp: tone %v: cadence step %v shorter than a sample", t, d)
		}
		g.cadence = append(g.cadence, n)
	}
	if len(g.cadence)%2 == 1 {
		// An odd cadence repeats with its last step as the next off time.
		g.cadence = append(g.cadence, g.cadence[len(g.cadence)-1])
	}
	return g, nil
}

func (g *ToneGenerator) String() string { return fmt.Sprintf("Tone(%v @%d)", g.tone, g.rate) }

// Reset restarts the tone from the beginning of its cadence.
func (g *ToneGenerator) Reset() {
	g.phase = [2]uint32{}
	g.seg, g.pos = 0, 0
}

// Generate fills dst with the next len(dst) samples of the tone.
func (g *ToneGenerator) Generate(dst []int16) {
	for len(dst) > 0 {
		run, on, segLen := len(dst), true, 0
		if len(g.cadence) > 0 {
			segLen = g.cadence[g.seg]
			run = min(run, segLen-g.pos)
			on = g.seg%2 == 0
		}
		if on && g.amp[0]+g.amp[1] > 0 {
			g.render(dst[:run], segLen)
		} else {
			clear(dst[:run])
		}
		dst = dst[run:]
		g.pos += run
		if len(g.cadence) > 0 && g.pos == segLen {
			g.pos = 0
			g.seg = (g.seg + 1) % len(g.cadence)
			g.phase = [2]uint32{} // each burst starts at a zero crossing
		}
	}
}

// render writes an on stretch starting g.pos samples into a burst of
// segLen samples (0 for a steady tone, which only ramps up once).
func (g *ToneGenerator) render(dst []int16, segLen int) {
	p0, p1 := g.phase[0], g.phase[1]
	i0, i1 := g.inc[0], g.inc[1]
	a0, a1 := g.amp[0], g.amp[1]
	ramp := float32(g.ramp)
	pos := g.pos
	for i := range dst {
		v := a0*sinPhase(p0) + a1*sinPhase(p1)
		p0 += i0
		p1 += i1
		k := pos + i
		if k < g.ramp {
			v *= float32(k) / ramp
		} else if segLen > 0 && segLen-k <= g.ramp {
			v *= float32(segLen-k-1) / ramp
		}
		dst[i] = roundSat16(v)
	}
	g.phase[0], g.phase[1] = p0, p1
}
