package dsp

import (
	"fmt"
	"math"
	"time"
)

// DTMF frequencies: four rows (low group) and four columns (high group).
var (
	dtmfRows   = [4]float64{697, 770, 852, 941}
	dtmfCols   = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeypad = [4][4]byte{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

// DTMF detection thresholds that are not configurable: they follow from the
// block length and from the usual frequency tolerance of ITU-T Q.24
// (operate within ±1.5 %, never beyond ±3.5 %).
const (
	// dtmfBlock8k is the analysis block at 8 kHz: 12.75 ms, long enough to
	// separate adjacent rows (73 Hz apart), short enough for 40 ms digits.
	dtmfBlock8k = 102
	// dtmfSubBlocks splits each block for timing: a digit's duration is
	// measured to a sixth of a block (2.1 ms) from the power envelope, not
	// to whole blocks, so that 20 ms is told from 40 ms at any alignment.
	dtmfSubBlocks = 6
	// dtmfActive: a sub-block belongs to the tone when its power is within
	// 6 dB of the loudest sub-block of the detected block.
	dtmfActive = 0.25
	// dtmfRelativePeak: the chosen row (column) must beat the other rows
	// (columns) by 8 dB.
	dtmfRelativePeak = 6.3
	// dtmfToneFraction: the two tones must carry this share of the block's
	// power. Speech and music spread their power over many frequencies.
	dtmfToneFraction = 0.5
	// dtmfGuard places near-miss probes 5 % either side of each tone: a
	// tone closer to a probe than to the nominal frequency (more than 2.5 %
	// off) is rejected.
	dtmfGuard = 0.05
	// dtmfEndBlocks: a digit ends after this many blocks without it, so a
	// single corrupted block does not split one key press in two.
	dtmfEndBlocks = 2
)

// DTMFConfig tunes a DTMFDetector. The zero value of each field selects its
// default.
type DTMFConfig struct {
	// SampleRate of the PCM fed in; default 8000.
	SampleRate int
	// MinDuration is the shortest key press that is always reported; one
	// of half that length never is (a digit is taken once it has sounded
	// for three quarters of MinDuration). Default 40 ms, which accepts
	// 40 ms and rejects 20 ms as telephone networks commonly require.
	MinDuration time.Duration
	// MinLevel is the weakest accepted tone, in dBm0 per frequency;
	// default −33.
	MinLevel float64
	// MaxNormalTwist is how many dB the low-group (row) tone may exceed the
	// high-group tone, as lines attenuate high frequencies; default 8.
	MaxNormalTwist float64
	// MaxReverseTwist is how many dB the high-group (column) tone may
	// exceed the low-group tone; default 4.
	MaxReverseTwist float64
}

// DTMFEvent is a detected key press. A detector reports each digit twice:
// as soon as it is recognised, some 30 to 45 ms after it starts (End
// false), and when it stops (End true, with its Duration). Start is the
// same in both.
type DTMFEvent struct {
	Digit    byte          // '0'-'9', '*', '#', 'A'-'D'
	Start    time.Duration // from the first sample fed to the detector
	Duration time.Duration // set when End is true
	End      bool
}

func (e DTMFEvent) String() string {
	if e.End {
		return fmt.Sprintf("%c end at %v after %v", e.Digit, e.Start, e.Duration)
	}
	return fmt.Sprintf("%c at %v", e.Digit, e.Start)
}

// DTMFDetector finds DTMF digits in a stream of PCM with Goertzel filters on
// fixed blocks: per block it measures the eight DTMF frequencies and the
// total power, and accepts a digit only when one row and one column tone
// stand out (relative peak), are strong enough, are balanced (twist), hold
// most of the power (so speech is rejected), and are on frequency (near-miss
// probes). A digit is reported once it has been seen in two consecutive
// blocks and its power envelope shows it has lasted three quarters of
// MinDuration: every tone of MinDuration is accepted, and none of half of it.
type DTMFDetector struct {
	rate     int
	block    []float32
	fill     int
	tones    [8]Goertzel    // rows then columns
	guards   [8][2]Goertzel // near-miss probes below and above each tone
	minPower float64
	normal   float64 // max row/column power ratio
	reverse  float64 // max column/row power ratio
	need     int64   // samples of tone before a digit is reported

	sub     [dtmfSubBlocks]float32 // power of each sub-block of this block
	prevSub [dtmfSubBlocks]float32 // and of the block before

	pos int64 // samples consumed before the current block

	cand      byte  // digit seen in the latest blocks, not yet reported
	candCount int   // blocks it was seen in
	candStart int64 // its onset, in samples
	candLen   int64 // samples of it measured so far

	cur      byte // reported digit still sounding
	curStart int64
	curEnd   int64
	curRef   float32 // sub-block power that counts as the digit sounding
	miss     int
}

// NewDTMFDetector returns a detector for cfg.
func NewDTMFDetector(cfg DTMFConfig) (*DTMFDetector, error) {
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 8000
	}
	if cfg.SampleRate < 4000 || cfg.SampleRate > 192000 {
		return nil, fmt.Errorf("dsp: DTMF detector at %d Hz: rate out of range", cfg.SampleRate)
	}
	if cfg.MinDuration == 0 {
		cfg.MinDuration = 40 * time.Millisecond
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = -33
	}
	if cfg.MaxNormalTwist == 0 {
		cfg.MaxNormalTwist = 8
	}
	if cfg.MaxReverseTwist == 0 {
		cfg.MaxReverseTwist = 4
	}
	// The block is a whole number of sub-blocks at any rate.
	sub := max(1, (dtmfBlock8k/dtmfSubBlocks*cfg.SampleRate+4000)/8000)
	d := &DTMFDetector{
		rate:     cfg.SampleRate,
		block:    make([]float32, sub*dtmfSubBlocks),
		minPower: powerDBm0(cfg.MinLevel),
		normal:   math.Pow(10, cfg.MaxNormalTwist/10),
		reverse:  math.Pow(10, cfg.MaxReverseTwist/10),
		need:     int64(cfg.MinDuration) * 3 / 4 * int64(cfg.SampleRate) / int64(time.Second),
	}
	for i := range 4 {
		d.tones[i] = NewGoertzel(dtmfRows[i], cfg.SampleRate)
		d.tones[4+i] = NewGoertzel(dtmfCols[i], cfg.SampleRate)
	}
	for i := range 8 {
		f := d.tones[i].Freq()
		d.guards[i] = [2]Goertzel{NewGoertzel(f*(1-dtmfGuard), cfg.SampleRate), NewGoertzel(f*(1+dtmfGuard), cfg.SampleRate)}
	}
	return d, nil
}

// Reset forgets the stream, as for a new call leg; times restart at zero.
func (d *DTMFDetector) Reset() {
	d.fill, d.pos = 0, 0
	d.sub, d.prevSub = [dtmfSubBlocks]float32{}, [dtmfSubBlocks]float32{}
	d.cand, d.candCount, d.candStart, d.candLen = 0, 0, 0, 0
	d.cur, d.curStart, d.curEnd, d.miss = 0, 0, 0, 0
}

func (d *DTMFDetector) String() string { return fmt.Sprintf("DTMFDetector(%d Hz)", d.rate) }

// Process feeds pcm and appends the events it completes to events, which it
// returns; with enough capacity in events it does not allocate.
func (d *DTMFDetector) Process(pcm []int16, events []DTMFEvent) []DTMFEvent {
	for len(pcm) > 0 {
		k := copyToFloat(d.block[d.fill:], pcm)
		d.fill += k
		pcm = pcm[k:]
		if d.fill == len(d.block) {
			d.prevSub = d.sub
			events = d.step(d.classify(), events)
			d.pos += int64(len(d.block))
			d.fill = 0
		}
	}
	return events
}

func copyToFloat(dst []float32, src []int16) int {
	n := min(len(dst), len(src))
	dst = dst[:n]
	for i := range dst {
		dst[i] = float32(src[i])
	}
	return n
}

// classify returns the digit the current block holds, or 0.
func (d *DTMFDetector) classify() byte {
	x := d.block
	// All eight filters and the block power in one pass.
	var s1, s2 [8]float32
	var c [8]float32
	for i := range c {
		c[i] = d.tones[i].coeff
	}
	var energy float32
	subLen := len(x) / dtmfSubBlocks
	for k := range dtmfSubBlocks {
		var e float32
		for _, v := range x[k*subLen : (k+1)*subLen] {
			e += v * v
			for i := range 8 {
				s1[i], s2[i] = v+c[i]*s1[i]-s2[i], s1[i]
			}
		}
		d.sub[k] = e
		energy += e
	}
	var p [8]float64
	for i := range p {
		p[i] = goertzelNorm(s1[i], s2[i], c[i], len(x))
	}
	r, col := 0, 4
	for i := 1; i < 4; i++ {
		if p[i] > p[r] {
			r = i
		}
		if p[4+i] > p[col] {
			col = 4 + i
		}
	}
	pr, pc := p[r], p[col]
	if pr < d.minPower || pc < d.minPower {
		return 0
	}
	if pr > pc*d.normal || pc > pr*d.reverse {
		return 0
	}
	for i := range 4 {
		if i != r && p[i]*dtmfRelativePeak > pr {
			return 0
		}
		if 4+i != col && p[4+i]*dtmfRelativePeak > pc {
			return 0
		}
	}
	mean := float64(energy) / float64(len(x))
	if pr+pc < dtmfToneFraction*mean {
		return 0
	}
	for _, i := range [2]int{r, col} {
		if d.guards[i][0].powerF(x) >= p[i] || d.guards[i][1].powerF(x) >= p[i] {
			return 0
		}
	}
	return dtmfKeypad[r][col-4]
}

// step advances the digit state machine by one block.
func (d *DTMFDetector) step(digit byte, events []DTMFEvent) []DTMFEvent {
	end := d.pos + int64(len(d.block))
	subLen := int64(len(d.block) / dtmfSubBlocks)
	switch {
	case digit == 0:
		d.cand, d.candCount = 0, 0
	case digit == d.cand:
		d.candCount++
		d.candLen += int64(d.activeSubBlocks()) * subLen
	default:
		// A new candidate: its onset may lie in the previous block, which
		// failed classification because the tone filled only its end.
		lead := int64(d.leadIn()) * subLen
		d.cand, d.candCount = digit, 1
		d.candStart = d.pos - lead
		d.candLen = lead + int64(d.activeSubBlocks())*subLen
	}
	if d.cur != 0 {
		if digit == d.cur {
			d.miss = 0
			d.curEnd = end
			d.curRef = d.loudestSubBlock() * dtmfActive
		} else if d.miss++; d.miss == 1 {
			// The tone may fade out inside this block: extend the digit
			// by the sub-blocks that still carry it.
			n := int64(0)
			for k := 0; k < dtmfSubBlocks && d.sub[k] >= d.curRef; k++ {
				n++
			}
			d.curEnd += n * subLen
		}
		if d.miss >= dtmfEndBlocks {
			events = append(events, DTMFEvent{Digit: d.cur, Start: d.at(d.curStart), Duration: d.at(d.curEnd - d.curStart), End: true})
			d.cur = 0
		}
	}
	if d.cur == 0 && d.cand != 0 && d.candCount >= 2 && d.candLen >= d.need {
		d.cur, d.curStart, d.curEnd, d.miss = d.cand, d.candStart, end, 0
		d.curRef = d.loudestSubBlock() * dtmfActive
		d.cand, d.candCount = 0, 0
		events = append(events, DTMFEvent{Digit: d.cur, Start: d.at(d.curStart)})
	}
	return events
}

// activeSubBlocks counts the sub-blocks of the current block that carry
// the tone.
func (d *DTMFDetector) activeSubBlocks() int {
	ref := d.loudestSubBlock() * dtmfActive
	n := 0
	for _, e := range d.sub {
		if e >= ref {
			n++
		}
	}
	return n
}

// leadIn counts the sub-blocks at the end of the previous block that are
// as loud as the tone in the current one.
func (d *DTMFDetector) leadIn() int {
	ref := d.loudestSubBlock() * dtmfActive
	n := 0
	for k := dtmfSubBlocks - 1; k >= 0 && d.prevSub[k] >= ref; k-- {
		n++
	}
	return n
}

func (d *DTMFDetector) loudestSubBlock() float32 {
	var m float32
	for _, e := range d.sub {
		m = max(m, e)
	}
	return m
}

func (d *DTMFDetector) at(samples int64) time.Duration {
	return time.Duration(samples * int64(time.Second) / int64(d.rate))
}
