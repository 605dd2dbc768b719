package dsp

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

var telephonyRates = []int{8000, 16000, 48000}

// resampleFrames feeds x in 20 ms frames and collects the output.
func resampleFrames(t testing.TB, r *Resampler, x []int16, inRate, outRate int) []int16 {
	t.Helper()
	fin, fout := inRate/50, outRate/50
	var out []int16
	dst := make([]int16, fout)
	for i := 0; i+fin <= len(x); i += fin {
		n, err := r.Process(dst, x[i:i+fin])
		if err != nil {
			t.Fatal(err)
		}
		if n != fout {
			t.Fatalf("%v: 20 ms frame gave %d samples, want %d", r, n, fout)
		}
		out = append(out, dst[:n]...)
	}
	return out
}

// A 1 kHz sine converts between every pair of telephony rates with its
// frequency and amplitude kept and little added noise.
func TestResampleSine(t *testing.T) {
	for _, in := range telephonyRates {
		for _, out := range telephonyRates {
			t.Run(fmt.Sprintf("%d-%d", in, out), func(t *testing.T) {
				r, err := NewResampler(in, out)
				if err != nil {
					t.Fatal(err)
				}
				x := sine(in, in, 1000, 10000, 0) // 1 s
				y := resampleFrames(t, r, x, in, out)
				if len(y) != out {
					t.Fatalf("1 s gave %d samples", len(y))
				}
				// Compare with the ideal sine at the output rate, delayed by
				// the filter's group delay.
				d := r.Delay()
				ref := sine(out, out, 1000, 10000, -2*math.Pi*1000*d/float64(out))
				skip := out / 10
				var sig, noise float64
				for i := skip; i < len(y); i++ {
					e := float64(y[i]) - float64(ref[i])
					sig += float64(ref[i]) * float64(ref[i])
					noise += e * e
				}
				snr := dB(sig / noise)
				if snr < 40 {
					t.Errorf("SNR %.1f dB against the ideal sine, want ≥ 40", snr)
				}
				gain := dB(refPower(y[skip:], out, 1000) / (10000 * 10000 / 2))
				if math.Abs(gain) > 0.1 {
					t.Errorf("1 kHz gain %.3f dB", gain)
				}
			})
		}
	}
}

// Frequencies above the lower rate's Nyquist must not fold back into the
// output (downsampling), and the upsampler must not create images.
func TestResampleRejectsAliasesAndImages(t *testing.T) {
	tests := []struct {
		in, out int
		freq    float64 // input tone
		probe   float64 // where it would land in the output if unfiltered
	}{
		{48000, 8000, 6000, 2000},
		{48000, 8000, 5000, 3000},
		{16000, 8000, 5000, 3000},
		{48000, 16000, 10000, 6000},
		{8000, 48000, 1000, 7000}, // first image of 1 kHz
		{8000, 16000, 3000, 5000},
		{16000, 48000, 2000, 14000},
	}
	for _, tt := range tests {
		r, err := NewResampler(tt.in, tt.out)
		if err != nil {
			t.Fatal(err)
		}
		x := sine(tt.in, tt.in, tt.freq, 16000, 0)
		y := resampleFrames(t, r, x, tt.in, tt.out)
		leak := dB(refPower(y[tt.out/10:], tt.out, tt.probe) / (16000 * 16000 / 2))
		if leak > -55 {
			t.Errorf("%d->%d: %v Hz leaks to %v Hz at %.1f dB", tt.in, tt.out, tt.freq, tt.probe, leak)
		}
	}
}

// Feeding the same stream in uneven chunks gives the same samples as in
// 20 ms frames: the state carries across calls exactly.
func TestResampleStreamingIsChunkIndependent(t *testing.T) {
	for _, pair := range [][2]int{{8000, 48000}, {48000, 8000}, {16000, 8000}, {8000, 16000}, {48000, 16000}, {16000, 48000}} {
		in, out := pair[0], pair[1]
		x := sine(in/2, in, 700, 9000, 0.3)
		addNoise(x, 500, 7)
		whole, _ := NewResampler(in, out)
		want := make([]int16, whole.OutLen(len(x)))
		n, err := whole.Process(want, x)
		if err != nil {
			t.Fatal(err)
		}
		want = want[:n]

		chunked, _ := NewResampler(in, out)
		var got []int16
		sizes := []int{1, 7, 33, 160, 2, 0, 481, 5}
		dst := make([]int16, len(x)*out/in+8)
		for i, k := 0, 0; i < len(x); k++ {
			m := min(sizes[k%len(sizes)], len(x)-i)
			n, err := chunked.Process(dst, x[i:i+m])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, dst[:n]...)
			i += m
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d->%d: chunked output differs (%d vs %d samples)", in, out, len(got), len(want))
		}
	}
}

func TestResampleIdentityAndReset(t *testing.T) {
	r, err := NewResampler(8000, 8000)
	if err != nil {
		t.Fatal(err)
	}
	x := sine(160, 8000, 440, 5000, 0)
	y := make([]int16, 160)
	if n, _ := r.Process(y, x); n != 160 || !slices.Equal(x, y) {
		t.Error("same-rate resampler changes the signal")
	}

	r, _ = NewResampler(8000, 16000)
	first := make([]int16, 320)
	r.Process(first, x)
	r.Process(y[:0], nil)
	r.Reset()
	again := make([]int16, 320)
	r.Process(again, x)
	if !slices.Equal(first, again) {
		t.Error("Reset does not restore the initial state")
	}
}

func TestResampleErrors(t *testing.T) {
	for _, pair := range [][2]int{{0, 8000}, {8000, -1}, {8000, 44101}} {
		if _, err := NewResampler(pair[0], pair[1]); err == nil {
			t.Errorf("NewResampler(%d, %d) accepted", pair[0], pair[1])
		}
	}
	r, _ := NewResampler(8000, 48000)
	if _, err := r.Process(make([]int16, 959), make([]int16, 160)); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short dst: %v", err)
	}
	// The failed call left the stream untouched.
	if n := r.OutLen(160); n != 960 {
		t.Errorf("OutLen after failed call = %d", n)
	}
	if r44, err := NewResampler(44100, 8000); err != nil || r44.OutLen(441) != 80 {
		t.Errorf("44.1 kHz to 8 kHz: %v", err)
	}
}

func TestResampleDoesNotAllocate(t *testing.T) {
	r, _ := NewResampler(8000, 48000)
	x := sine(160, 8000, 440, 5000, 0)
	y := make([]int16, 960)
	r.Process(y, x) // sizes the input buffer for 20 ms frames
	if a := testing.AllocsPerRun(100, func() { r.Process(y, x) }); a != 0 {
		t.Errorf("%v allocations per frame", a)
	}
}

func BenchmarkResample(b *testing.B) {
	for _, pair := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000}} {
		in, out := pair[0], pair[1]
		b.Run(fmt.Sprintf("%dto%d_20ms", in/1000, out/1000), func(b *testing.B) {
			r, err := NewResampler(in, out)
			if err != nil {
				b.Fatal(err)
			}
			x := sine(in/50, in, 440, 8000, 0)
			y := make([]int16, out/50)
			r.Process(y, x)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Process(y, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
