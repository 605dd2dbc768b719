package codec

import (
	"errors"
	"math"
	"testing"
)

// roundTripG722 codes pcm in 20 ms frames and decodes it back.
func roundTripG722(t testing.TB, pcm []int16) []int16 {
	t.Helper()
	enc, dec := NewG722Encoder(), NewG722Decoder()
	out := make([]int16, 0, len(pcm))
	payload := make([]byte, 160)
	frame := make([]int16, 320)
	for i := 0; i+320 <= len(pcm); i += 320 {
		n, err := enc.Encode(payload, pcm[i:i+320])
		if err != nil || n != 160 {
			t.Fatalf("Encode = %d, %v", n, err)
		}
		m, err := dec.Decode(frame, payload[:n])
		if err != nil || m != 320 {
			t.Fatalf("Decode = %d, %v", m, err)
		}
		out = append(out, frame[:m]...)
	}
	return out
}

// A sine in either sub-band survives coding with its frequency and a
// G.722-class signal-to-noise ratio.
func TestG722RoundTripSine(t *testing.T) {
	tests := []struct {
		freq   float64
		amp    float64
		minSNR float64
	}{
		{1000, 10000, 40}, // lower band (6-bit ADPCM)
		{300, 3000, 40},
		{2500, 16000, 40},
		{6000, 8000, 20}, // upper band (2-bit ADPCM): intelligible, not clean
	}
	for _, tt := range tests {
		pcm := sine(16000, 16000, tt.freq, tt.amp) // 1 s
		out := roundTripG722(t, pcm)
		got := dominantFrequency(out[1600:], 16000, tt.freq-200, tt.freq+200, 1)
		if math.Abs(got-tt.freq) > 2 {
			t.Errorf("%v Hz: decoded dominant frequency %v Hz", tt.freq, got)
		}
		snr, _ := snrDB(pcm, out, 1600, 64)
		t.Logf("%v Hz amp %v: SNR %.1f dB", tt.freq, tt.amp, snr)
		if snr < tt.minSNR {
			t.Errorf("%v Hz: SNR %.1f dB below %v dB", tt.freq, snr, tt.minSNR)
		}
	}
}

// A chirp is not periodic, so the best alignment is the codec's true delay:
// the 22 samples of the analysis and synthesis QMF pair.
func TestG722DelayAndChirp(t *testing.T) {
	pcm := make([]int16, 16000)
	for i := range pcm {
		tt := float64(i) / 16000
		// 100 Hz to 7 kHz over one second
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*(100*tt+3450*tt*tt)))
	}
	out := roundTripG722(t, pcm)
	snr, delay := snrDB(pcm, out, 320, 64)
	t.Logf("chirp: SNR %.1f dB at delay %d", snr, delay)
	if delay != 22 {
		t.Errorf("codec delay %d samples, want 22", delay)
	}
	if snr < 20 {
		t.Errorf("chirp SNR %.1f dB below 20 dB", snr)
	}
}

func TestG722Silence(t *testing.T) {
	out := roundTripG722(t, make([]int16, 3200))
	for i, v := range out {
		if v > 8 || v < -8 {
			t.Fatalf("silence decoded to %d at %d", v, i)
		}
	}
}

// Full-scale square waves drive every saturation path; the codec must stay
// bounded and keep tracking.
func TestG722FullScale(t *testing.T) {
	pcm := make([]int16, 16000)
	for i := range pcm {
		if (i/20)%2 == 0 {
			pcm[i] = 32767
		} else {
			pcm[i] = -32768
		}
	}
	out := roundTripG722(t, pcm)
	if got := dominantFrequency(out[1600:], 16000, 300, 500, 1); math.Abs(got-400) > 2 {
		t.Errorf("400 Hz square decoded with fundamental %v Hz", got)
	}
}

func TestG722Errors(t *testing.T) {
	enc, dec := NewG722Encoder(), NewG722Decoder()
	if _, err := enc.Encode(make([]byte, 100), make([]int16, 319)); !errors.Is(err, ErrFrameSize) {
		t.Errorf("odd PCM length: %v", err)
	}
	if _, err := enc.Encode(make([]byte, 159), make([]int16, 320)); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short payload buffer: %v", err)
	}
	if _, err := dec.Decode(make([]int16, 319), make([]byte, 160)); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short PCM buffer: %v", err)
	}
}

// Every byte sequence is a valid G.722 stream; decoding noise must stay in
// range without panicking.
func TestG722DecodeArbitrary(t *testing.T) {
	dec := NewG722Decoder()
	payload := make([]byte, 160)
	out := make([]int16, 320)
	x := uint32(1)
	for range 500 {
		for i := range payload {
			x = x*1664525 + 1013904223
			payload[i] = byte(x >> 24)
		}
		if _, err := dec.Decode(out, payload); err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkG722Encode20ms(b *testing.B) { benchEncode(b, NewG722Encoder(), 320) }
func BenchmarkG722Decode20ms(b *testing.B) {
	benchDecode(b, NewG722Encoder(), NewG722Decoder(), 320)
}
