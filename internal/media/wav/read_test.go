package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// chunk is one RIFF chunk for building test files.
type chunk struct {
	id   string
	data []byte
	size int64 // declared size; -1 means len(data)
}

func ck(id string, data []byte) chunk { return chunk{id, data, -1} }

// build assembles a RIFF/WAVE file; chunks of odd length get a pad byte.
func build(chunks ...chunk) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b.WriteString(c.id)
		size := c.size
		if size < 0 {
			size = int64(len(c.data))
		}
		binary.Write(&b, binary.LittleEndian, uint32(size))
		b.Write(c.data)
		if len(c.data)%2 == 1 {
			b.WriteByte(0)
		}
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func fmtData(tag uint16, channels, rate, bits int) []byte {
	b := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], tag)
	le.PutUint16(b[2:], uint16(channels))
	le.PutUint32(b[4:], uint32(rate))
	le.PutUint32(b[8:], uint32(rate*channels*bits/8))
	le.PutUint16(b[12:], uint16(channels*bits/8))
	le.PutUint16(b[14:], uint16(bits))
	return b
}

// extensibleFmt is a WAVE_FORMAT_EXTENSIBLE fmt chunk for subformat sub.
func extensibleFmt(sub uint16, channels, rate, bits int) []byte {
	b := fmtData(FormatExtensible, channels, rate, bits)
	ext := make([]byte, 24)
	le := binary.LittleEndian
	le.PutUint16(ext[0:], 22)
	le.PutUint16(ext[2:], uint16(bits))
	le.PutUint32(ext[4:], 4) // front centre
	le.PutUint16(ext[8:], sub)
	copy(ext[10:], extensibleSuffix[:])
	return append(b, ext...)
}

func pcm16(samples ...int16) []byte {
	b := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// tonePower is the mean power of x at freq (a Goertzel filter).
func tonePower(x []int16, rate int, freq float64) float64 {
	c := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	n := float64(len(x))
	return 2 * (s1*s1 + s2*s2 - c*s1*s2) / (n * n)
}

func channel(a *Audio, ch int) []int16 {
	out := make([]int16, 0, a.Frames())
	for i := ch; i < len(a.Samples); i += a.Channels {
		out = append(out, a.Samples[i])
	}
	return out
}

// Files written by sox, a different implementation: every one decodes to
// its 1 kHz half-scale sine (stereo: 1 kHz left, 2 kHz right).
func TestReadSoxFiles(t *testing.T) {
	tests := []struct {
		file     string
		format   uint16
		bits     int
		rate     int
		channels int
		dur      time.Duration
	}{
		{"s16-8k.wav", FormatPCM, 16, 8000, 1, 50 * time.Millisecond},
		{"u8-8k.wav", FormatPCM, 8, 8000, 1, 50 * time.Millisecond},
		{"ulaw8k.wav", FormatMuLaw, 8, 8000, 1, 50 * time.Millisecond},
		{"alaw8k.wav", FormatALaw, 8, 8000, 1, 50 * time.Millisecond},
		{"s24-16k.wav", FormatPCM, 24, 16000, 1, 50 * time.Millisecond}, // sox writes it as EXTENSIBLE
		{"f32-16k.wav", FormatIEEEFloat, 32, 16000, 1, 50 * time.Millisecond},
		{"s16-48k-stereo.wav", FormatPCM, 16, 48000, 2, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			a, err := Read(f, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if a.Format != tt.format || a.BitsPerSample != tt.bits || a.SampleRate != tt.rate || a.Channels != tt.channels || a.Duration() != tt.dur {
				t.Fatalf("got %v", a)
			}
			for ch := range a.Channels {
				freq := 1000.0 * float64(ch+1)
				x := channel(a, ch)
				amp := math.Sqrt(2 * tonePower(x, a.SampleRate, freq))
				// Half scale within the coarsest encoding's error (8-bit).
				if math.Abs(amp-16384) > 300 {
					t.Errorf("channel %d: %v Hz at amplitude %.0f, want about 16384", ch, freq, amp)
				}
			}
		})
	}
}

func TestReadVariants(t *testing.T) {
	samples := []int16{0, 1000, -1000, 32767, -32768, 12345}
	tests := []struct {
		name string
		file []byte
		want []int16
		fmt  uint16
	}{
		{"plain", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("data", pcm16(samples...))), samples, FormatPCM},
		{"unknown chunks skipped, odd one padded", build(
			ck("LIST", []byte("odd")),
			ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)),
			ck("junk", make([]byte, 100)),
			ck("data", pcm16(samples...)),
			ck("cue ", []byte{1, 2, 3}), // after data: never read
		), samples, FormatPCM},
		{"fmt with extra bytes", build(ck("fmt ", append(fmtData(FormatPCM, 1, 8000, 16), 0, 0)), ck("data", pcm16(samples...))), samples, FormatPCM},
		{"odd-size fmt padded", build(ck("fmt ", append(fmtData(FormatPCM, 1, 8000, 16), 0, 0, 7)), ck("data", pcm16(samples...))), samples, FormatPCM},
		{"streaming size 0", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), chunk{"data", pcm16(samples...), 0}), samples, FormatPCM},
		{"streaming size 0xFFFFFFFF", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), chunk{"data", pcm16(samples...), 0xFFFFFFFF}), samples, FormatPCM},
		{"streaming, partial last frame dropped", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), chunk{"data", append(pcm16(samples...), 0x55), 0xFFFFFFFF})[:8+4+24+8+13], samples, FormatPCM},
		{"empty data", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("data", nil)), []int16{}, FormatPCM},
		{"extensible PCM", build(ck("fmt ", extensibleFmt(FormatPCM, 1, 8000, 16)), ck("data", pcm16(samples...))), samples, FormatPCM},
		{"extensible µ-law", build(ck("fmt ", extensibleFmt(FormatMuLaw, 1, 8000, 8)), ck("data", []byte{0xFF, 0x80, 0x00})), []int16{0, 32124, -32124}, FormatMuLaw},
		{"extensible A-law", build(ck("fmt ", extensibleFmt(FormatALaw, 1, 8000, 8)), ck("data", []byte{0xD5, 0xAA, 0x2A})), []int16{8, 32256, -32256}, FormatALaw},
		{"µ-law with fact", build(ck("fmt ", append(fmtData(FormatMuLaw, 1, 8000, 8), 0, 0)), ck("fact", []byte{3, 0, 0, 0}), ck("data", []byte{0xFF, 0x80, 0x00})), []int16{0, 32124, -32124}, FormatMuLaw},
		{"8-bit unsigned", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 8)), ck("data", []byte{128, 255, 0})), []int16{0, 32512, -32768}, FormatPCM},
		{"32-bit", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 32)), ck("data", []byte{0, 0, 0x34, 0x12, 0xFF, 0xFF, 0xFF, 0xFF})), []int16{0x1234, -1}, FormatPCM},
		{"float64 clipped", build(ck("fmt ", fmtData(FormatIEEEFloat, 1, 8000, 64)), ck("data", binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(2)), math.Float64bits(-0.5)))), []int16{32767, -16384}, FormatIEEEFloat},
		{"float NaN is silence", build(ck("fmt ", fmtData(FormatIEEEFloat, 1, 8000, 32)), ck("data", binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN()))))), []int16{0}, FormatIEEEFloat},
	}
	for _, tt := range tests {
		a, err := Decode(tt.file, Limits{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if a.Format != tt.fmt || len(a.Samples) != len(tt.want) {
			t.Errorf("%s: got %v with %d samples, want %d", tt.name, a, len(a.Samples), len(tt.want))
			continue
		}
		for i := range tt.want {
			if a.Samples[i] != tt.want[i] {
				t.Errorf("%s: sample %d = %d, want %d", tt.name, i, a.Samples[i], tt.want[i])
			}
		}
	}
}

func TestReadRF64(t *testing.T) {
	f := build(ck("ds64", make([]byte, 28)), ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), chunk{"data", pcm16(1, 2, 3), 0xFFFFFFFF})
	copy(f, "RF64")
	binary.LittleEndian.PutUint32(f[4:], 0xFFFFFFFF)
	a, err := Decode(f, Limits{})
	if err != nil || len(a.Samples) != 3 {
		t.Fatalf("RF64: %v, %v", a, err)
	}
}

// Every broken input fails with a specific error, without panicking.
func TestReadBroken(t *testing.T) {
	good := build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("data", pcm16(1, 2, 3, 4)))
	with := func(off int, b ...byte) []byte {
		f := bytes.Clone(good)
		copy(f[off:], b)
		return f
	}
	tests := []struct {
		name string
		file []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrTruncated},
		{"truncated RIFF header", good[:7], Limits{}, ErrTruncated},
		{"wrong magic", with(0, 'R', 'I', 'F', 'X'), Limits{}, ErrNotWAV},
		{"not WAVE", with(8, 'A', 'V', 'I', ' '), Limits{}, ErrNotWAV},
		{"text file", []byte("hello, this is not a sound file at all"), Limits{}, ErrNotWAV},
		{"no chunks", good[:12], Limits{}, ErrCorrupt},
		{"truncated chunk header", good[:16], Limits{}, ErrTruncated},
		{"truncated fmt", good[:30], Limits{}, ErrTruncated},
		{"short fmt", build(ck("fmt ", make([]byte, 14)), ck("data", nil)), Limits{}, ErrCorrupt},
		{"huge fmt", build(chunk{"fmt ", nil, 1 << 30}), Limits{}, ErrCorrupt},
		{"zero channels", build(ck("fmt ", fmtData(FormatPCM, 0, 8000, 16)), ck("data", nil)), Limits{}, ErrCorrupt},
		{"too many channels", build(ck("fmt ", fmtData(FormatPCM, 9, 8000, 16)), ck("data", nil)), Limits{}, ErrUnsupported},
		{"zero rate", build(ck("fmt ", fmtData(FormatPCM, 1, 0, 16)), ck("data", nil)), Limits{}, ErrCorrupt},
		{"absurd rate", build(ck("fmt ", fmtData(FormatPCM, 1, 1<<30, 16)), ck("data", nil)), Limits{}, ErrUnsupported},
		{"ADPCM", build(ck("fmt ", fmtData(2, 1, 8000, 4)), ck("data", nil)), Limits{}, ErrUnsupported},
		{"MP3 in WAV", build(ck("fmt ", fmtData(0x55, 1, 8000, 0)), ck("data", nil)), Limits{}, ErrUnsupported},
		{"12-bit PCM", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 12)), ck("data", nil)), Limits{}, ErrUnsupported},
		{"16-bit µ-law", build(ck("fmt ", fmtData(FormatMuLaw, 1, 8000, 16)), ck("data", nil)), Limits{}, ErrUnsupported},
		{"wrong block align", with(32, 4), Limits{}, ErrCorrupt},
		{"short extensible", build(ck("fmt ", fmtData(FormatExtensible, 1, 8000, 16)), ck("data", nil)), Limits{}, ErrCorrupt},
		{"extensible with foreign GUID", build(ck("fmt ", func() []byte { b := extensibleFmt(FormatPCM, 1, 8000, 16); b[30] ^= 1; return b }()), ck("data", nil)), Limits{}, ErrUnsupported},
		{"extensible of extensible", build(ck("fmt ", extensibleFmt(FormatExtensible, 1, 8000, 16)), ck("data", nil)), Limits{}, ErrCorrupt},
		{"two fmt chunks", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("data", nil)), Limits{}, ErrCorrupt},
		{"data before fmt", build(ck("data", pcm16(1)), ck("fmt ", fmtData(FormatPCM, 1, 8000, 16))), Limits{}, ErrCorrupt},
		{"no data", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("LIST", []byte("info"))), Limits{}, ErrCorrupt},
		{"no fmt", build(ck("LIST", []byte("info"))), Limits{}, ErrCorrupt},
		{"truncated data", good[:len(good)-3], Limits{}, ErrTruncated},
		{"data not whole frames", build(ck("fmt ", fmtData(FormatPCM, 2, 8000, 16)), ck("data", pcm16(1, 2, 3))), Limits{}, ErrCorrupt},
		{"unknown chunk past the end", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), chunk{"LIST", []byte("ab"), 1 << 20}), Limits{}, ErrTruncated},
		{"huge declared data", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), chunk{"data", pcm16(1), 0xFFFFFFF0}), Limits{}, ErrTooLarge},
		{"data over byte limit", good, Limits{MaxBytes: 6}, ErrTooLarge},
		{"data over duration limit", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("data", make([]byte, 3200))), Limits{MaxDuration: 100 * time.Millisecond}, ErrTooLarge},
		{"streamed data over limit", build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), chunk{"data", make([]byte, 100), 0}), Limits{MaxBytes: 50}, ErrTooLarge},
		{"endless junk chunks", append(build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16))), bytes.Repeat([]byte("junk\x00\x00\x00\x00"), metadataSlack/8+1)...), Limits{MaxBytes: 10}, ErrTooLarge},
	}
	for _, tt := range tests {
		a, err := Decode(tt.file, tt.lim)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, %v; want %v", tt.name, a, err, tt.want)
		}
	}
}

func TestReadLimitsExact(t *testing.T) {
	f := build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("data", make([]byte, 1600)))
	if _, err := Decode(f, Limits{MaxBytes: 1600, MaxDuration: 100 * time.Millisecond}); err != nil {
		t.Errorf("exactly at the limits: %v", err)
	}
	s := build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), chunk{"data", make([]byte, 1600), 0})
	if _, err := Decode(s, Limits{MaxBytes: 1600}); err != nil {
		t.Errorf("streamed, exactly at the limit: %v", err)
	}
}

// errReader fails after its data, to check I/O errors are passed on.
type errReader struct{ r io.Reader }

func (e errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

func TestReadIOError(t *testing.T) {
	f := build(ck("fmt ", fmtData(FormatPCM, 1, 8000, 16)), ck("data", pcm16(1, 2, 3)))
	_, err := Read(errReader{bytes.NewReader(f[:len(f)-2])}, Limits{})
	if err == nil || errors.Is(err, ErrTruncated) || !bytes.Contains([]byte(err.Error()), []byte("disk on fire")) {
		t.Errorf("got %v", err)
	}
}

func TestAudioMono(t *testing.T) {
	a := &Audio{SampleRate: 8000, Channels: 2, Samples: []int16{100, 300, -32768, -32768, 32767, 32767, 5, -6}}
	if got, want := a.Mono(), []int16{200, -32768, 32767, 0}; !slices.Equal(got, want) {
		t.Errorf("Mono = %v, want %v", got, want)
	}
	m := &Audio{SampleRate: 8000, Channels: 1, Samples: []int16{1, 2}}
	if got := m.Mono(); &got[0] != &m.Samples[0] {
		t.Error("mono audio copied")
	}
	if (&Audio{}).Frames() != 0 || (&Audio{}).Duration() != 0 {
		t.Error("empty Audio has frames")
	}
}
