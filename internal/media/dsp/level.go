package dsp

import "math"

// PeakDBm0 is the peak amplitude of a 0 dBm0 sine in 16-bit PCM: the G.711
// digital milliwatt (3.17 dB below µ-law full scale) scaled from 14 bits.
const PeakDBm0 = 22630

// AmplitudeDBm0 returns the peak amplitude of a sine at level dBm0.
func AmplitudeDBm0(level float64) float64 {
	return PeakDBm0 * math.Pow(10, level/20)
}

// powerDBm0 returns the mean power (A²/2) of a sine at level dBm0.
func powerDBm0(level float64) float64 {
	a := AmplitudeDBm0(level)
	return a * a / 2
}

// MeanSquare returns the mean power of x: the average of the squared
// samples, 0 for an empty block.
func MeanSquare(x []int16) float64 {
	if len(x) == 0 {
		return 0
	}
	var sum int64
	for _, v := range x {
		sum += int64(v) * int64(v)
	}
	return float64(sum) / float64(len(x))
}

// fullScale is the mean power of a full-scale square wave, 0 dBFS.
const fullScale = 32768.0 * 32768.0

// LevelDBFS returns the mean power of x in dB relative to full scale (a
// full-scale sine is −3 dBFS). Digital silence returns −math.MaxFloat64
// rather than −Inf, so comparisons stay simple.
func LevelDBFS(x []int16) float64 {
	ms := MeanSquare(x)
	if ms == 0 {
		return -math.MaxFloat64
	}
	return 10 * math.Log10(ms/fullScale)
}
