package codec

import (
	"errors"
	"testing"
)

func TestULawKnownValues(t *testing.T) {
	tests := []struct {
		in   int16
		code byte
		out  int16
	}{
		{0, 0xFF, 0},
		{1, 0xFF, 0},
		{-1, 0x7F, 0}, // one's complement: -1 is the negative zero
		{2, 0xFF, 0},
		{8, 0xFE, 8},
		{-9, 0x7E, -8},
		{32767, 0x80, 32124},
		{-32767, 0x00, -32124},
		{-32768, 0x00, -32124},
		{32124, 0x80, 32124},
		{1000, 0xCE, 988},
		{-1000, 0x4E, -988},
	}
	for _, tt := range tests {
		if got := ULawEncode(tt.in); got != tt.code {
			t.Errorf("ULawEncode(%d) = %#02x, want %#02x", tt.in, got, tt.code)
		}
		if got := ULawDecode(tt.code); got != tt.out {
			t.Errorf("ULawDecode(%#02x) = %d, want %d", tt.code, got, tt.out)
		}
	}
}

func TestALawKnownValues(t *testing.T) {
	tests := []struct {
		in   int16
		code byte
		out  int16
	}{
		{0, 0xD5, 8},
		{1, 0xD5, 8},
		{-1, 0x55, -8},
		{15, 0xD5, 8},
		{16, 0xD4, 24},
		{32767, 0xAA, 32256},
		{-32767, 0x2A, -32256},
		{-32768, 0x2A, -32256},
		{1000, 0xFA, 1008},
		{-1000, 0x7A, -1008},
	}
	for _, tt := range tests {
		if got := ALawEncode(tt.in); got != tt.code {
			t.Errorf("ALawEncode(%d) = %#02x, want %#02x", tt.in, got, tt.code)
		}
		if got := ALawDecode(tt.code); got != tt.out {
			t.Errorf("ALawDecode(%#02x) = %d, want %d", tt.code, got, tt.out)
		}
	}
}

// The decode tables must equal the reconstruction levels of G.711 tables 1
// and 2, written here from the recommendation's formulas rather than from
// the reference software the tables were built with.
func TestULawDecodeMatchesG711Formula(t *testing.T) {
	for c := 0; c < 256; c++ {
		u := ^byte(c) // µ-law inverts all bits on the line
		e := int32(u>>4) & 7
		m := int32(u) & 0x0F
		// Reconstruction in 14-bit units is (2M+33)·2^E − 33; scale to 16 bits.
		v := 4 * ((2*m+33)<<e - 33)
		if u&0x80 != 0 {
			v = -v
		}
		if got := ULawDecode(byte(c)); int32(got) != v {
			t.Errorf("ULawDecode(%#02x) = %d, want %d", c, got, v)
		}
	}
}

func TestALawDecodeMatchesG711Formula(t *testing.T) {
	for c := 0; c < 256; c++ {
		a := byte(c) ^ 0x55 // A-law inverts the even bits on the line
		e := int32(a>>4) & 7
		m := int32(a) & 0x0F
		// Reconstruction in 13-bit units is 2M+1 in segment 0 and
		// (2M+33)·2^(E−1) above it; scale to 16 bits.
		var v int32
		if e == 0 {
			v = 2*m + 1
		} else {
			v = (2*m + 33) << (e - 1)
		}
		v *= 8
		if a&0x80 == 0 {
			v = -v
		}
		if got := ALawDecode(byte(c)); int32(got) != v {
			t.Errorf("ALawDecode(%#02x) = %d, want %d", c, got, v)
		}
	}
}

// Every sample round-trips to within half a quantisation step of its
// segment (plus the 1-LSB one's-complement offset), and the round trip is
// monotonic: a larger input never decodes smaller.
func TestG711RoundTripBounds(t *testing.T) {
	type law struct {
		name   string
		enc    func(int16) byte
		dec    func(byte) int16
		step   func(byte) int32
		maxOut int32
	}
	laws := []law{
		{"ulaw", ULawEncode, ULawDecode, func(c byte) int32 { return 8 << ((^c >> 4) & 7) }, 32124},
		{"alaw", ALawEncode, ALawDecode, func(c byte) int32 {
			e := ((c ^ 0x55) >> 4) & 7
			if e == 0 {
				return 16
			}
			return 16 << (e - 1)
		}, 32256},
	}
	for _, l := range laws {
		t.Run(l.name, func(t *testing.T) {
			prev := int32(-1 << 20)
			for x := int32(-32768); x <= 32767; x++ {
				c := l.enc(int16(x))
				y := int32(l.dec(c))
				if y < prev {
					t.Fatalf("not monotonic at %d: %d after %d", x, y, prev)
				}
				prev = y
				if x > l.maxOut || x < -l.maxOut {
					continue // clipped beyond the largest level
				}
				if d := abs32(y - x); d > l.step(c)/2+4 {
					t.Fatalf("x=%d code=%#02x y=%d: error %d above half step %d", x, c, y, d, l.step(c)/2)
				}
			}
			// Each code word decodes and re-encodes to itself, except the
			// redundant µ-law negative zero.
			for c := 0; c < 256; c++ {
				if got := l.enc(l.dec(byte(c))); got != byte(c) && !(l.name == "ulaw" && c == 0x7F) {
					t.Errorf("code %#02x re-encodes to %#02x", c, got)
				}
			}
		})
	}
}

func TestG711CodecBuffers(t *testing.T) {
	pcm := make([]int16, 160)
	for _, c := range []interface {
		Encoder
		Decoder
	}{PCMUCodec{}, PCMACodec{}} {
		if _, err := c.Encode(make([]byte, 159), pcm); !errors.Is(err, ErrShortBuffer) {
			t.Errorf("%v: Encode into short buffer: %v", c, err)
		}
		if _, err := c.Decode(make([]int16, 10), make([]byte, 160)); !errors.Is(err, ErrShortBuffer) {
			t.Errorf("%v: Decode into short buffer: %v", c, err)
		}
		buf := make([]byte, 200)
		n, err := c.Encode(buf, pcm)
		if err != nil || n != 160 {
			t.Fatalf("%v: Encode = %d, %v", c, n, err)
		}
		out := make([]int16, 200)
		n, err = c.Decode(out, buf[:n])
		if err != nil || n != 160 {
			t.Fatalf("%v: Decode = %d, %v", c, n, err)
		}
	}
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func BenchmarkPCMUEncode20ms(b *testing.B) { benchEncode(b, PCMUCodec{}, 160) }
func BenchmarkPCMUDecode20ms(b *testing.B) { benchDecode(b, PCMUCodec{}, PCMUCodec{}, 160) }
func BenchmarkPCMAEncode20ms(b *testing.B) { benchEncode(b, PCMACodec{}, 160) }
func BenchmarkPCMADecode20ms(b *testing.B) { benchDecode(b, PCMACodec{}, PCMACodec{}, 160) }
