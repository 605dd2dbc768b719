package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/codec"
)

// Audio is a decoded file: interleaved 16-bit PCM at the file's own rate.
type Audio struct {
	SampleRate int
	Channels   int
	// Samples holds Frames()*Channels samples, channels interleaved.
	Samples []int16
	// Format is the file's encoding (FormatPCM, FormatMuLaw, ...), with
	// WAVE_FORMAT_EXTENSIBLE resolved to its subformat.
	Format uint16
	// BitsPerSample of the encoding in the file.
	BitsPerSample int
}

// Frames is the number of sample frames (samples per channel).
func (a *Audio) Frames() int {
	if a.Channels == 0 {
		return 0
	}
	return len(a.Samples) / a.Channels
}

// Duration is the playing time.
func (a *Audio) Duration() time.Duration {
	if a.SampleRate == 0 {
		return 0
	}
	return time.Duration(int64(a.Frames()) * int64(time.Second) / int64(a.SampleRate))
}

// Mono returns the audio as one channel: Samples itself when the file is
// mono, otherwise a new slice with the channels averaged, which is what a
// telephone leg plays.
func (a *Audio) Mono() []int16 {
	if a.Channels <= 1 {
		return a.Samples
	}
	out := make([]int16, a.Frames())
	for i := range out {
		var sum int32
		for _, v := range a.Samples[i*a.Channels : (i+1)*a.Channels] {
			sum += int32(v)
		}
		out[i] = int16(sum / int32(a.Channels))
	}
	return out
}

func (a *Audio) String() string {
	return fmt.Sprintf("%s %d-bit %d Hz %dch %v", formatName(a.Format), a.BitsPerSample, a.SampleRate, a.Channels, a.Duration())
}

// Limits bound what Read accepts, so that a hostile or broken file cannot
// make it allocate or read without end.
type Limits struct {
	// MaxBytes caps the encoded audio data; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxDuration caps the playing time; 0 means no cap beyond MaxBytes.
	MaxDuration time.Duration
}

// DefaultMaxBytes is the data size cap when Limits.MaxBytes is 0: an hour of
// 16-bit 8 kHz mono, or six minutes at 48 kHz stereo.
const DefaultMaxBytes = 64 << 20

// metadataSlack is how much more than the audio a file may hold in other
// chunks (tags, cue points, padding) before Read gives up.
const metadataSlack = 1 << 20

// maxFmtChunk bounds the fmt chunk read into memory; larger ones are
// corrupt.
const maxFmtChunk = 4096

// Decode reads a WAV file held in memory.
func Decode(b []byte, lim Limits) (*Audio, error) {
	return Read(bytes.NewReader(b), lim)
}

// Read decodes a WAV file from r, reading no further than its data chunk.
func Read(r io.Reader, lim Limits) (*Audio, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultMaxBytes
	}
	cr := &countingReader{r: r, max: lim.MaxBytes + metadataSlack}
	var hdr [12]byte
	if _, err := io.ReadFull(cr, hdr[:]); err != nil {
		return nil, readErr("RIFF header", err)
	}
	if (string(hdr[0:4]) != "RIFF" && string(hdr[0:4]) != "RF64") || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("magic %q %q: %w", hdr[0:4], hdr[8:12], ErrNotWAV)
	}
	var f *fmtChunk
	for {
		var ch [8]byte
		if _, err := io.ReadFull(cr, ch[:]); err != nil {
			if errors.Is(err, io.EOF) {
				if f == nil {
					return nil, fmt.Errorf("no fmt chunk: %w", ErrCorrupt)
				}
				return nil, fmt.Errorf("no data chunk: %w", ErrCorrupt)
			}
			return nil, readErr("chunk header", err)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if f != nil {
				return nil, fmt.Errorf("second fmt chunk: %w", ErrCorrupt)
			}
			var err error
			if f, err = readFmt(cr, size); err != nil {
				return nil, err
			}
		case "data":
			if f == nil {
				return nil, fmt.Errorf("data chunk before fmt chunk: %w", ErrCorrupt)
			}
			return readData(cr, f, size, lim)
		default:
			if err := skip(cr, size+size&1); err != nil {
				return nil, fmt.Errorf("chunk %q of %d bytes: %w", id, size, err)
			}
		}
	}
}

// fmtChunk is the decoded format description.
type fmtChunk struct {
	tag        uint16 // resolved: never FormatExtensible
	channels   int
	rate       int
	blockAlign int
	bits       int // container bits per sample
}

func readFmt(r io.Reader, size int64) (*fmtChunk, error) {
	if size < 16 || size > maxFmtChunk {
		return nil, fmt.Errorf("fmt chunk of %d bytes: %w", size, ErrCorrupt)
	}
	b := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, readErr("fmt chunk", err)
	}
	f := &fmtChunk{
		tag:        binary.LittleEndian.Uint16(b[0:2]),
		channels:   int(binary.LittleEndian.Uint16(b[2:4])),
		rate:       int(binary.LittleEndian.Uint32(b[4:8])),
		blockAlign: int(binary.LittleEndian.Uint16(b[12:14])),
		bits:       int(binary.LittleEndian.Uint16(b[14:16])),
	}
	if f.tag == FormatExtensible {
		// cbSize (2) + valid bits (2) + channel mask (4) + subformat GUID (16).
		if size < 40 || binary.LittleEndian.Uint16(b[16:18]) < 22 {
			return nil, fmt.Errorf("extensible fmt chunk of %d bytes: %w", size, ErrCorrupt)
		}
		if !bytes.Equal(b[26:40], extensibleSuffix[:]) {
			return nil, fmt.Errorf("extensible subformat %x: %w", b[24:40], ErrUnsupported)
		}
		f.tag = binary.LittleEndian.Uint16(b[24:26])
		if f.tag == FormatExtensible {
			return nil, fmt.Errorf("extensible subformat is extensible: %w", ErrCorrupt)
		}
	}
	switch {
	case f.channels == 0:
		return nil, fmt.Errorf("zero channels: %w", ErrCorrupt)
	case f.channels > MaxChannels:
		return nil, fmt.Errorf("%d channels: %w", f.channels, ErrUnsupported)
	case f.rate == 0:
		return nil, fmt.Errorf("zero sample rate: %w", ErrCorrupt)
	case f.rate > 768000:
		return nil, fmt.Errorf("sample rate %d: %w", f.rate, ErrUnsupported)
	}
	ok := false
	switch f.tag {
	case FormatPCM:
		ok = f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32
	case FormatIEEEFloat:
		ok = f.bits == 32 || f.bits == 64
	case FormatMuLaw, FormatALaw:
		ok = f.bits == 8
	default:
		return nil, fmt.Errorf("%s: %w", formatName(f.tag), ErrUnsupported)
	}
	if !ok {
		return nil, fmt.Errorf("%s with %d bits per sample: %w", formatName(f.tag), f.bits, ErrUnsupported)
	}
	if want := f.channels * f.bits / 8; f.blockAlign != want {
		return nil, fmt.Errorf("block align %d, want %d for %d channels of %d bits: %w", f.blockAlign, want, f.channels, f.bits, ErrCorrupt)
	}
	return f, nil
}

// readData decodes the data chunk. size 0 and 0xFFFFFFFF mean "until the
// end of the input", as streamed, unfinished and RF64 files have it.
func readData(r *countingReader, f *fmtChunk, size int64, lim Limits) (*Audio, error) {
	streaming := size == 0 || size == 0xFFFFFFFF
	maxBytes := lim.MaxBytes
	if lim.MaxDuration > 0 {
		frames := int64(lim.MaxDuration) * int64(f.rate) / int64(time.Second)
		maxBytes = min(maxBytes, frames*int64(f.blockAlign))
	}
	a := &Audio{SampleRate: f.rate, Channels: f.channels, Format: f.tag, BitsPerSample: f.bits}
	bps := f.bits / 8
	if !streaming {
		if size > maxBytes {
			return nil, fmt.Errorf("data chunk of %d bytes (%v) over the limit of %d: %w", size, framesDuration(size/int64(f.blockAlign), f.rate), maxBytes, ErrTooLarge)
		}
		a.Samples = make([]int16, 0, size/int64(bps))
	}
	want := size
	if streaming {
		// Whole frames up to the limit, and one frame more to tell "over
		// the limit" from "exactly at it".
		maxBytes = maxBytes / int64(f.blockAlign) * int64(f.blockAlign)
		want = maxBytes + int64(f.blockAlign)
	}
	buf := make([]byte, 32*1024/f.blockAlign*f.blockAlign)
	var got int64
	for got < want {
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), want-got)])
		got += int64(n)
		whole := n / f.blockAlign * f.blockAlign
		a.Samples = decodeSamples(a.Samples, buf[:whole], f)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("data chunk: %w", err)
			}
			if !streaming {
				return nil, fmt.Errorf("data chunk declares %d bytes, has %d: %w", size, got, ErrTruncated)
			}
			// A streamed file may end mid-frame: the partial frame is dropped.
			return a, nil
		}
		if whole != n {
			// Only the last read of a declared size can end mid-frame.
			return nil, fmt.Errorf("data chunk of %d bytes is not a whole number of %d-byte frames: %w", size, f.blockAlign, ErrCorrupt)
		}
	}
	if streaming {
		return nil, fmt.Errorf("streamed data chunk over the limit of %d bytes: %w", maxBytes, ErrTooLarge)
	}
	return a, nil
}

func framesDuration(frames int64, rate int) time.Duration {
	return time.Duration(frames * int64(time.Second) / int64(rate))
}

// decodeSamples appends the samples of whole frames in b to dst.
func decodeSamples(dst []int16, b []byte, f *fmtChunk) []int16 {
	switch {
	case f.tag == FormatMuLaw:
		for _, v := range b {
			dst = append(dst, codec.ULawDecode(v))
		}
	case f.tag == FormatALaw:
		for _, v := range b {
			dst = append(dst, codec.ALawDecode(v))
		}
	case f.tag == FormatPCM && f.bits == 8:
		for _, v := range b {
			dst = append(dst, int16(int(v)-128)<<8) // unsigned, 128 is zero
		}
	case f.tag == FormatPCM && f.bits == 16:
		for i := 0; i+2 <= len(b); i += 2 {
			dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
		}
	case f.tag == FormatPCM && f.bits == 24:
		for i := 0; i+3 <= len(b); i += 3 {
			dst = append(dst, int16(uint16(b[i+1])|uint16(b[i+2])<<8)) // top 16 of 24 bits
		}
	case f.tag == FormatPCM && f.bits == 32:
		for i := 0; i+4 <= len(b); i += 4 {
			dst = append(dst, int16(binary.LittleEndian.Uint32(b[i:])>>16))
		}
	case f.tag == FormatIEEEFloat && f.bits == 32:
		for i := 0; i+4 <= len(b); i += 4 {
			dst = append(dst, floatSample(float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))))
		}
	case f.tag == FormatIEEEFloat && f.bits == 64:
		for i := 0; i+8 <= len(b); i += 8 {
			dst = append(dst, floatSample(math.Float64frombits(binary.LittleEndian.Uint64(b[i:]))))
		}
	}
	return dst
}

// floatSample converts a float sample in [-1, 1] to 16 bits, saturating
// (and mapping NaN to silence).
func floatSample(v float64) int16 {
	v *= 32768
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v >= 0:
		return int16(v + 0.5)
	case v < 0:
		return int16(v - 0.5)
	}
	return 0
}

func skip(r io.Reader, n int64) error {
	m, err := io.CopyN(io.Discard, r, n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("ends after %d bytes: %w", m, ErrTruncated)
		}
		return err
	}
	return nil
}

func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w", what, ErrTruncated)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// countingReader fails with ErrTooLarge once more than max bytes are read,
// which bounds the work on files padded with huge unknown chunks.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		return 0, fmt.Errorf("more than %d bytes: %w", c.max, ErrTooLarge)
	}
	if int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
