package dsp

import (
	"fmt"
	"math"
	"time"
)

// DefaultSilenceThreshold is the level below which audio counts as silence:
// −45 dBFS sits above a quiet line's noise and well below soft speech.
const DefaultSilenceThreshold = -45.0

// SilenceDetector tells when a stream has been quiet for a while, for
// example to stop a recording after the caller stops talking. It judges
// each frame by its mean power against a threshold and counts how long the
// quiet lasts; any louder frame starts the count again.
type SilenceDetector struct {
	rate      int
	threshold float64 // mean square
	need      int64   // samples of silence that complete the wait
	quiet     int64   // current run of quiet samples
	level     float64
}

// NewSilenceDetector returns a detector for PCM at rate Hz that reports
// silence after minSilence below thresholdDBFS (DefaultSilenceThreshold if
// zero).
func NewSilenceDetector(rate int, thresholdDBFS float64, minSilence time.Duration) (*SilenceDetector, error) {
	if rate <= 0 || minSilence <= 0 {
		return nil, fmt.Errorf("dsp: silence detector at %d Hz for %v: invalid", rate, minSilence)
	}
	if thresholdDBFS == 0 {
		thresholdDBFS = DefaultSilenceThreshold
	}
	if thresholdDBFS > 0 {
		return nil, fmt.Errorf("dsp: silence threshold %v dBFS above full scale", thresholdDBFS)
	}
	return &SilenceDetector{
		rate:      rate,
		threshold: fullScale * math.Pow(10, thresholdDBFS/10),
		need:      int64(minSilence) * int64(rate) / int64(time.Second),
		level:     -math.MaxFloat64,
	}, nil
}

func (d *SilenceDetector) String() string {
	return fmt.Sprintf("SilenceDetector(%.0f dBFS, %v)", 10*math.Log10(d.threshold/fullScale), d.at(d.need))
}

// Process feeds one frame and reports whether the stream has now been
// silent for at least the configured time.
func (d *SilenceDetector) Process(frame []int16) bool {
	if len(frame) == 0 {
		return d.quiet >= d.need
	}
	ms := MeanSquare(frame)
	if ms > 0 {
		d.level = 10 * math.Log10(ms/fullScale)
	} else {
		d.level = -math.MaxFloat64
	}
	if ms < d.threshold {
		d.quiet += int64(len(frame))
	} else {
		d.quiet = 0
	}
	return d.quiet >= d.need
}

// Silence is how long the stream has been quiet.
func (d *SilenceDetector) Silence() time.Duration { return d.at(d.quiet) }

// Level is the last frame's level in dBFS.
func (d *SilenceDetector) Level() float64 { return d.level }

// Reset forgets the current run of silence.
func (d *SilenceDetector) Reset() { d.quiet = 0; d.level = -math.MaxFloat64 }

func (d *SilenceDetector) at(samples int64) time.Duration {
	return time.Duration(samples * int64(time.Second) / int64(d.rate))
}
