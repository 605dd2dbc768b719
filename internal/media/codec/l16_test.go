package codec

import (
	"errors"
	"slices"
	"testing"
)

func TestL16(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768, 0x1234}
	buf := make([]byte, 12)
	n, err := L16Codec{}.Encode(buf, pcm)
	if err != nil || n != 12 {
		t.Fatalf("Encode = %d, %v", n, err)
	}
	want := []byte{0, 0, 0, 1, 0xFF, 0xFF, 0x7F, 0xFF, 0x80, 0x00, 0x12, 0x34} // network byte order
	if !slices.Equal(buf, want) {
		t.Errorf("Encode = % x, want % x", buf, want)
	}
	out := make([]int16, 6)
	n, err = L16Codec{}.Decode(out, buf)
	if err != nil || n != 6 || !slices.Equal(out, pcm) {
		t.Errorf("Decode = %v, %d, %v", out, n, err)
	}
	if _, err := (L16Codec{}).Decode(out, buf[:3]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("odd payload: %v", err)
	}
	if _, err := (L16Codec{}).Decode(out[:2], buf); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short PCM buffer: %v", err)
	}
	if _, err := (L16Codec{}).Encode(buf[:11], pcm); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short payload buffer: %v", err)
	}
}

func TestL16Rates(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		c := L16(rate, 1, 120)
		if got, want := c.FrameSamples(), rate/50; got != want {
			t.Errorf("L16/%d: %d samples per 20 ms, want %d", rate, got, want)
		}
		if got, want := c.FrameTimestamps(), uint32(rate/50); got != want {
			t.Errorf("L16/%d: timestamp step %d, want %d", rate, got, want)
		}
	}
	if got := L16(16000, 2, 120).Rtpmap(); got != "L16/16000/2" {
		t.Errorf("stereo rtpmap %q", got)
	}
}

func BenchmarkL16Encode20ms16k(b *testing.B) { benchEncode(b, L16Codec{}, 320) }
func BenchmarkL16Decode20ms16k(b *testing.B) { benchDecode(b, L16Codec{}, L16Codec{}, 320) }
