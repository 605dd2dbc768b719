package codec

import "fmt"

// G.722 at 64 kbit/s (mode 1), written from ITU-T Recommendation G.722: a
// 24-tap quadrature mirror filter splits 16 kHz PCM into two 8 kHz sub-bands;
// the lower band is coded with 6-bit ADPCM, the upper with 2-bit ADPCM, each
// with the adaptive pole-zero predictor of the recommendation's block 4. One
// code byte carries one pair of input samples: the upper band in the two most
// significant bits. All arithmetic is the recommendation's fixed point, so
// the output interoperates with other G.722 implementations.

// NameG722 is the SDP name of G.722.
const NameG722 = "G722"

// G722 is the description of G.722: static payload type 9, 16 kHz audio on
// an 8 kHz RTP clock (RFC 3551 keeps the clock at 8000 for G.722 by a
// historical error that every implementation now follows).
func G722() Codec {
	return Codec{Name: NameG722, PayloadType: 9, ClockRate: 8000, SampleRate: 16000, Channels: 1, Ptime: DefaultPtime}
}

// QMF coefficients (G.722 table 11), the first half of the symmetric filter.
var g722QMF = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// Lower-band quantiser decision levels (table 6, scaled) and the 6-bit codes
// for negative and positive differences.
var (
	g722Q6  = [32]int32{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0}
	g722ILN = [32]int32{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0}
	g722ILP = [32]int32{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0}
)

// Inverse quantiser outputs: 4-bit (feedback path), 6-bit (decoder output
// at 64 kbit/s) and 2-bit (upper band).
var (
	g722QM4 = [16]int32{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	g722QM6 = [64]int32{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	g722QM2 = [4]int32{-7408, -1616, 7408, 1616}
)

// Scale-factor adaptation: log-domain multipliers (tables 14 and 16), code
// reduction maps, and the inverse log table (table 15).
var (
	g722WL   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	g722RL42 = [16]int32{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	g722WH   = [3]int32{0, -214, 798}
	g722RH2  = [4]int32{2, 1, 2, 1}
	g722IHN  = [3]int32{0, 1, 0}
	g722IHP  = [3]int32{0, 3, 2}
	g722ILB  = [32]int32{
		2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
		2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
		2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
		3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
	}
)

// g722Band is the ADPCM state of one sub-band: predictor coefficients and
// the delay lines of reconstructed signal, partial signal and differences.
type g722Band struct {
	s, sp, sz int32    // predicted signal, its pole and zero parts
	r         [3]int32 // reconstructed signal, delayed
	a, ap     [3]int32 // pole coefficients (a[1], a[2]) and their update
	p         [3]int32 // partial reconstructed signal, delayed
	d         [7]int32 // quantised difference, delayed
	b, bp     [7]int32 // zero coefficients (b[1..6]) and their update
	nb        int32    // log scale factor
	det       int32    // scale factor
}

func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// sign16 is 0 for a non-negative 16-bit value and -1 for a negative one.
func sign16(v int32) int32 { return v >> 15 }

// update is block 4 of the recommendation: reconstruct, adapt the pole and
// zero predictors from the quantised difference d, and predict the next
// sample.
func (b *g722Band) update(d int32) {
	// RECONS and PARREC
	b.d[0] = d
	b.r[0] = sat16(b.s + d)
	b.p[0] = sat16(b.sz + d)

	// UPPOL2: second pole coefficient
	sg0, sg1, sg2 := sign16(b.p[0]), sign16(b.p[1]), sign16(b.p[2])
	wd1 := sat16(b.a[1] << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = -wd1
	}
	if wd2 > 32767 {
		wd2 = 32767
	}
	wd3 := wd2 >> 7
	if sg0 == sg2 {
		wd3 += 128
	} else {
		wd3 -= 128
	}
	wd3 += (b.a[2] * 32512) >> 15
	wd3 = min(max(wd3, -12288), 12288)
	b.ap[2] = wd3

	// UPPOL1: first pole coefficient, bounded by the second for stability
	if sg0 == sg1 {
		wd1 = 192
	} else {
		wd1 = -192
	}
	wd2 = (b.a[1] * 32640) >> 15
	b.ap[1] = sat16(wd1 + wd2)
	wd3 = sat16(15360 - b.ap[2])
	b.ap[1] = min(max(b.ap[1], -wd3), wd3)

	// UPZERO: six zero coefficients, sign-sign adaptation with leakage
	wd1 = 128
	if d == 0 {
		wd1 = 0
	}
	sgd := sign16(d)
	for i := 1; i < 7; i++ {
		wd2 = -wd1
		if sign16(b.d[i]) == sgd {
			wd2 = wd1
		}
		wd3 = (b.b[i] * 32640) >> 15
		b.bp[i] = sat16(wd2 + wd3)
	}

	// DELAYA
	for i := 6; i > 0; i-- {
		b.d[i] = b.d[i-1]
		b.b[i] = b.bp[i]
	}
	for i := 2; i > 0; i-- {
		b.r[i] = b.r[i-1]
		b.p[i] = b.p[i-1]
		b.a[i] = b.ap[i]
	}

	// FILTEP, FILTEZ, PREDIC
	wd1 = sat16(b.r[1] + b.r[1])
	wd1 = (b.a[1] * wd1) >> 15
	wd2 = sat16(b.r[2] + b.r[2])
	wd2 = (b.a[2] * wd2) >> 15
	b.sp = sat16(wd1 + wd2)
	var sz int32
	for i := 6; i > 0; i-- {
		wd1 = sat16(b.d[i] + b.d[i])
		sz += (b.b[i] * wd1) >> 15
	}
	b.sz = sat16(sz)
	b.s = sat16(b.sp + b.sz)
}

// scaleLow is blocks 3L LOGSCL and SCALEL: adapt the lower-band scale
// factor from the 4-bit code.
func (b *g722Band) scaleLow(il4 int32) {
	nb := (b.nb*127)>>7 + g722WL[il4]
	b.nb = min(max(nb, 0), 18432)
	b.det = scaleFactor(b.nb, 8)
}

// scaleHigh is blocks 3H LOGSCH and SCALEH for the upper band.
func (b *g722Band) scaleHigh(ih2 int32) {
	nb := (b.nb*127)>>7 + g722WH[ih2]
	b.nb = min(max(nb, 0), 22528)
	b.det = scaleFactor(b.nb, 10)
}

// scaleFactor converts a log scale factor to linear through table 15.
func scaleFactor(nb, bias int32) int32 {
	wd1 := (nb >> 6) & 31
	wd2 := bias - (nb >> 11)
	var wd3 int32
	if wd2 < 0 {
		wd3 = g722ILB[wd1] << -wd2
	} else {
		wd3 = g722ILB[wd1] >> wd2
	}
	return wd3 << 2
}

// G722Encoder encodes 16 kHz mono PCM into G.722 at 64 kbit/s.
type G722Encoder struct {
	x    [24]int32 // QMF delay line
	low  g722Band
	high g722Band
}

// NewG722Encoder returns an encoder in the recommendation's reset state.
func NewG722Encoder() *G722Encoder {
	e := &G722Encoder{}
	e.Reset()
	return e
}

// Reset returns the encoder to its initial state.
func (e *G722Encoder) Reset() {
	*e = G722Encoder{}
	e.low.det = 32
	e.high.det = 8
}

func (e *G722Encoder) String() string { return "G722(encode)" }

// Encode codes pairs of 16 kHz samples into one byte each. len(pcm) must be
// even and dst at least len(pcm)/2 long.
func (e *G722Encoder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(pcm)%2 != 0 {
		return 0, fmt.Errorf("%s: odd sample count %d: %w", NameG722, len(pcm), ErrFrameSize)
	}
	n := len(pcm) / 2
	if len(dst) < n {
		return 0, shortBuffer(NameG722, n, len(dst))
	}
	dst = dst[:n]
	for j := range dst {
		// Transmit QMF: shift two samples in, split into bands.
		copy(e.x[:22], e.x[2:])
		e.x[22] = int32(pcm[2*j])
		e.x[23] = int32(pcm[2*j+1])
		var sumOdd, sumEven int32
		for i := 0; i < 12; i++ {
			sumOdd += e.x[2*i] * g722QMF[i]
			sumEven += e.x[2*i+1] * g722QMF[11-i]
		}
		// The QMF has a DC gain of 4096 per branch; one more bit for the sum
		// of two branches and one for the codec's 15-bit input range.
		xlow := (sumEven + sumOdd) >> 14
		xhigh := (sumEven - sumOdd) >> 14

		// Lower band: SUBTRA, QUANTL
		el := sat16(xlow - e.low.s)
		wd := el
		if el < 0 {
			wd = -(el + 1)
		}
		// The first decision level above wd (levels 1..29 rise strictly),
		// by binary search: 5 comparisons instead of up to 29.
		i, hi := int32(1), int32(30)
		for i < hi {
			mid := (i + hi) / 2
			if wd < (g722Q6[mid&31]*e.low.det)>>12 {
				hi = mid
			} else {
				i = mid + 1
			}
		}
		ilow := g722ILP[i&31]
		if el < 0 {
			ilow = g722ILN[i&31]
		}
		// INVQAL, LOGSCL, SCALEL, then the predictor
		ril := ilow >> 2
		dlow := (e.low.det * g722QM4[ril]) >> 15
		e.low.scaleLow(g722RL42[ril])
		e.low.update(dlow)

		// Upper band: SUBTRA, QUANTH
		eh := sat16(xhigh - e.high.s)
		wd = eh
		if eh < 0 {
			wd = -(eh + 1)
		}
		mih := 1
		if wd >= (564*e.high.det)>>12 {
			mih = 2
		}
		ihigh := g722IHP[mih]
		if eh < 0 {
			ihigh = g722IHN[mih]
		}
		// INVQAH, LOGSCH, SCALEH, then the predictor
		dhigh := (e.high.det * g722QM2[ihigh]) >> 15
		e.high.scaleHigh(g722RH2[ihigh])
		e.high.update(dhigh)

		dst[j] = byte(ihigh<<6 | ilow)
	}
	return n, nil
}

// G722Decoder decodes G.722 at 64 kbit/s into 16 kHz mono PCM.
type G722Decoder struct {
	x    [24]int32 // QMF delay line
	low  g722Band
	high g722Band
}

// NewG722Decoder returns a decoder in the recommendation's reset state.
func NewG722Decoder() *G722Decoder {
	d := &G722Decoder{}
	d.Reset()
	return d
}

// Reset returns the decoder to its initial state.
func (d *G722Decoder) Reset() {
	*d = G722Decoder{}
	d.low.det = 32
	d.high.det = 8
}

func (d *G722Decoder) String() string { return "G722(decode)" }

// Decode turns each payload byte into two 16 kHz samples; dst must be at
// least 2*len(payload) long.
func (d *G722Decoder) Decode(dst []int16, payload []byte) (int, error) {
	n := 2 * len(payload)
	if len(dst) < n {
		return 0, shortBuffer(NameG722, n, len(dst))
	}
	dst = dst[:n]
	for j, code := range payload {
		ilow := int32(code & 0x3F)
		ihigh := int32(code>>6) & 0x03

		// Lower band: INVQBL gives the output, INVQAL the feedback.
		rlow := d.low.s + (d.low.det*g722QM6[ilow])>>15
		rlow = min(max(rlow, -16384), 16383)
		ril := ilow >> 2
		dlow := (d.low.det * g722QM4[ril]) >> 15
		d.low.scaleLow(g722RL42[ril])
		d.low.update(dlow)

		// Upper band.
		dhigh := (d.high.det * g722QM2[ihigh]) >> 15
		rhigh := dhigh + d.high.s
		rhigh = min(max(rhigh, -16384), 16383)
		d.high.scaleHigh(g722RH2[ihigh])
		d.high.update(dhigh)

		// Receive QMF: recombine the bands into two output samples.
		copy(d.x[:22], d.x[2:])
		d.x[22] = rlow + rhigh
		d.x[23] = rlow - rhigh
		var xout1, xout2 int32
		for i := 0; i < 12; i++ {
			xout2 += d.x[2*i] * g722QMF[i]
			xout1 += d.x[2*i+1] * g722QMF[11-i]
		}
		dst[2*j] = int16(sat16(xout1 >> 11))
		dst[2*j+1] = int16(sat16(xout2 >> 11))
	}
	return n, nil
}
