package codec

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestOpusRoundTrip48k(t *testing.T) {
	c := Opus(111)
	enc, err := NewOpusEncoder(c)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewOpusDecoder(c)
	if err != nil {
		t.Fatal(err)
	}
	const frame = 960
	pcm := sine(48000, 48000, 1000, 10000) // 1 s
	out := make([]int16, 0, len(pcm))
	payload := make([]byte, 1500)
	buf := make([]int16, 5760)
	total := 0
	for i := 0; i+frame <= len(pcm); i += frame {
		n, err := enc.Encode(payload, pcm[i:i+frame])
		if err != nil {
			t.Fatal(err)
		}
		total += n
		m, err := dec.Decode(buf, payload[:n])
		if err != nil {
			t.Fatal(err)
		}
		if m != frame {
			t.Fatalf("decoded %d samples, want %d", m, frame)
		}
		out = append(out, buf[:m]...)
	}
	// About the configured 32 kbit/s: 1 s of audio in 4 KB, give or take.
	if total < 2000 || total > 6000 {
		t.Errorf("1 s encoded into %d bytes", total)
	}
	got := dominantFrequency(out[4800:], 48000, 800, 1200, 1)
	if math.Abs(got-1000) > 2 {
		t.Errorf("decoded dominant frequency %v Hz", got)
	}
	snr, delay := snrDB(pcm, out, 4800, 960)
	t.Logf("opus 1 kHz: SNR %.1f dB at delay %d, %d bytes/s", snr, delay, total)
	if snr < 20 {
		t.Errorf("SNR %.1f dB below 20 dB", snr)
	}
}

// Opus runs at telephony PCM rates too, sparing a resampler.
func TestOpusRoundTrip16k(t *testing.T) {
	c := Opus(111)
	c.SampleRate = 16000
	enc, err := NewOpusEncoder(c)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewOpusDecoder(c)
	if err != nil {
		t.Fatal(err)
	}
	pcm := sine(16000, 16000, 440, 8000)
	out := make([]int16, 0, len(pcm))
	payload := make([]byte, 1500)
	buf := make([]int16, 1920)
	for i := 0; i+320 <= len(pcm); i += 320 {
		n, err := enc.Encode(payload, pcm[i:i+320])
		if err != nil {
			t.Fatal(err)
		}
		m, err := dec.Decode(buf, payload[:n])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:m]...)
	}
	if got := dominantFrequency(out[1600:], 16000, 340, 540, 1); math.Abs(got-440) > 2 {
		t.Errorf("decoded dominant frequency %v Hz", got)
	}
	snr, _ := snrDB(pcm, out, 1600, 320)
	if snr < 20 {
		t.Errorf("SNR %.1f dB below 20 dB", snr)
	}
}

func TestOpusPacketLossConcealment(t *testing.T) {
	c := Opus(111)
	dec, err := NewOpusDecoder(c)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 960)
	n, err := dec.Decode(buf, nil)
	if err != nil || n != 960 {
		t.Fatalf("PLC = %d, %v", n, err)
	}
	if _, err := dec.Decode(buf[:100], nil); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("PLC into short buffer: %v", err)
	}
}

func TestOpusErrors(t *testing.T) {
	c := Opus(111)
	enc, err := NewOpusEncoder(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(make([]byte, 1500), make([]int16, 959)); !errors.Is(err, ErrFrameSize) {
		t.Errorf("wrong frame size: %v", err)
	}
	bad := c
	bad.SampleRate = 44100
	if _, err := NewOpusEncoder(bad); err == nil {
		t.Error("44.1 kHz encoder accepted")
	}
	bad = c
	bad.Ptime = 7 * time.Millisecond
	if _, err := NewOpusEncoder(bad); err == nil {
		t.Error("7 ms ptime accepted")
	}
	dec, err := NewOpusDecoder(c)
	if err != nil {
		t.Fatal(err)
	}
	// A TOC byte announcing a code-3 packet with no frame count is corrupt.
	if _, err := dec.Decode(make([]int16, 5760), []byte{0x03}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt packet: %v", err)
	}
}

func TestParseFmtp(t *testing.T) {
	m := parseFmtp(" minptime=10; useinbandfec=1;MaxAverageBitrate = 20000;;flag")
	want := map[string]string{"minptime": "10", "useinbandfec": "1", "maxaveragebitrate": "20000", "flag": ""}
	if len(m) != len(want) {
		t.Fatalf("got %v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
}

func BenchmarkOpusEncode20ms48k(b *testing.B) {
	enc, err := NewOpusEncoder(Opus(111))
	if err != nil {
		b.Fatal(err)
	}
	pcm := sine(960, 48000, 440, 8000)
	dst := make([]byte, 1500)
	// The first packets size the encoder's lazily grown scratch buffers;
	// the benchmark measures the steady state after them.
	for range 50 {
		if _, err := enc.Encode(dst, pcm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := enc.Encode(dst, pcm); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpusDecode20ms48k(b *testing.B) {
	c := Opus(111)
	enc, err := NewOpusEncoder(c)
	if err != nil {
		b.Fatal(err)
	}
	dec, err := NewOpusDecoder(c)
	if err != nil {
		b.Fatal(err)
	}
	pcm := sine(960, 48000, 440, 8000)
	payload := make([]byte, 1500)
	n, err := enc.Encode(payload, pcm)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]int16, 960)
	for range 50 {
		if _, err := dec.Decode(dst, payload[:n]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(dst, payload[:n]); err != nil {
			b.Fatal(err)
		}
	}
}
