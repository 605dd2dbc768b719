package dsp_test

import (
	"fmt"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// Play a key press into the detector, 20 ms at a time, as the media clock
// would deliver it.
func ExampleDTMFDetector() {
	det, _ := dsp.NewDTMFDetector(dsp.DTMFConfig{SampleRate: 8000})
	tone, _ := dsp.DTMFTone('7')
	gen, _ := dsp.NewToneGenerator(tone, 8000)

	frame := make([]int16, 160)
	events := make([]dsp.DTMFEvent, 0, 4)
	for i := range 10 {
		if i < 4 {
			gen.Generate(frame) // 80 ms of the key
		} else {
			clear(frame) // then silence
		}
		events = det.Process(frame, events)
	}
	for _, e := range events {
		fmt.Println(e)
	}
	// Output:
	// 7 at 0s
	// 7 end at 0s after 80.75ms
}

// Convert a 20 ms frame of 8 kHz audio to 48 kHz for an Opus leg.
func ExampleResampler() {
	r, _ := dsp.NewResampler(8000, 48000)
	in := make([]int16, 160)
	out := make([]int16, 960)
	n, _ := r.Process(out, in)
	fmt.Println(r, n)
	// Output: Resample(8000->48000) 960
}

// Three callers in a conference: each hears the other two.
func ExampleMixer() {
	m := dsp.NewMixer(2)
	a, b, c := m.Join(), m.Join(), m.Join()
	a.Write([]int16{100, 100})
	b.Write([]int16{20, 20})
	c.Write([]int16{3, 3})
	m.Mix()
	fmt.Println(a.Output(), b.Output(), c.Output())
	// Output: [23 23] [103 103] [120 120]
}
