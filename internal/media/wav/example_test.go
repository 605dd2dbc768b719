package wav_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// Record 20 ms frames into an in-memory µ-law file, then read it back as a
// prompt would be read.
func Example() {
	rec, _ := wav.NewBuffer(wav.Spec{SampleRate: 8000, Channels: 1, Format: wav.FormatMuLaw})
	frame := make([]int16, 160)
	for range 50 {
		rec.Write(frame)
	}
	file := rec.Bytes()

	a, err := wav.Read(bytes.NewReader(file), wav.Limits{MaxDuration: time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(file), "bytes:", a)
	// Output: 8058 bytes: µ-law 8-bit 8000 Hz 1ch 1s
}
