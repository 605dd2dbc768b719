package wav

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/codec"
)

// Spec is the format of a file to write.
type Spec struct {
	SampleRate int
	Channels   int    // 1 or 2
	Format     uint16 // FormatPCM (16-bit), FormatMuLaw or FormatALaw; 0 means PCM
}

func (s Spec) normalize() (Spec, error) {
	if s.Format == 0 {
		s.Format = FormatPCM
	}
	switch {
	case s.SampleRate <= 0 || s.SampleRate > 768000:
		return s, fmt.Errorf("sample rate %d: %w", s.SampleRate, ErrUnsupported)
	case s.Channels != 1 && s.Channels != 2:
		return s, fmt.Errorf("%d channels: %w", s.Channels, ErrUnsupported)
	case s.Format != FormatPCM && s.Format != FormatMuLaw && s.Format != FormatALaw:
		return s, fmt.Errorf("writing %s: %w", formatName(s.Format), ErrUnsupported)
	}
	return s, nil
}

func (s Spec) bytesPerSample() int {
	if s.Format == FormatPCM {
		return 2
	}
	return 1
}

// headerSize is 44 bytes for PCM; G.711 adds cbSize to fmt and a fact
// chunk, as the format requires for non-PCM data.
func (s Spec) headerSize() int {
	if s.Format == FormatPCM {
		return 44
	}
	return 58
}

// unknownSize marks sizes not yet known; readers take it as "to the end".
const unknownSize = 0xFFFFFFFF

// maxData keeps the RIFF size, which counts the header too, within 32 bits.
const maxData = 0xFFFFFFFF - 64

// putHeader writes the file header for dataBytes of audio, or with unknown
// sizes when dataBytes is negative.
func putHeader(b []byte, s Spec, dataBytes int64) {
	le := binary.LittleEndian
	riff, data, frames := uint32(unknownSize), uint32(unknownSize), uint32(unknownSize)
	if dataBytes >= 0 {
		data = uint32(dataBytes)
		riff = uint32(int64(s.headerSize()) - 8 + dataBytes + dataBytes&1)
		frames = uint32(dataBytes / int64(s.bytesPerSample()*s.Channels))
	}
	blockAlign := s.bytesPerSample() * s.Channels
	copy(b[0:4], "RIFF")
	le.PutUint32(b[4:8], riff)
	copy(b[8:12], "WAVE")
	copy(b[12:16], "fmt ")
	fmtSize := uint32(16)
	if s.Format != FormatPCM {
		fmtSize = 18
	}
	le.PutUint32(b[16:20], fmtSize)
	le.PutUint16(b[20:22], s.Format)
	le.PutUint16(b[22:24], uint16(s.Channels))
	le.PutUint32(b[24:28], uint32(s.SampleRate))
	le.PutUint32(b[28:32], uint32(s.SampleRate*blockAlign))
	le.PutUint16(b[32:34], uint16(blockAlign))
	le.PutUint16(b[34:36], uint16(8*s.bytesPerSample()))
	p := 36
	if s.Format != FormatPCM {
		le.PutUint16(b[36:38], 0) // cbSize
		copy(b[38:42], "fact")
		le.PutUint32(b[42:46], 4)
		le.PutUint32(b[46:50], frames)
		p = 50
	}
	copy(b[p:p+4], "data")
	le.PutUint32(b[p+4:p+8], data)
}

// encodeSamples appends pcm in the file's encoding to dst.
func encodeSamples(dst []byte, s Spec, pcm []int16) []byte {
	switch s.Format {
	case FormatMuLaw:
		for _, v := range pcm {
			dst = append(dst, codec.ULawEncode(v))
		}
	case FormatALaw:
		for _, v := range pcm {
			dst = append(dst, codec.ALawEncode(v))
		}
	default:
		for _, v := range pcm {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		}
	}
	return dst
}

// Writer streams audio into a WAV file. Write appends samples; Close pads
// the data, and patches the sizes in the header when the destination can
// seek. The destination is not closed.
type Writer struct {
	w      io.Writer
	spec   Spec
	data   int64 // audio bytes written
	buf    []byte
	err    error
	closed bool
}

// NewWriter writes the header for spec to w and returns a Writer.
func NewWriter(w io.Writer, spec Spec) (*Writer, error) {
	spec, err := spec.normalize()
	if err != nil {
		return nil, fmt.Errorf("wav writer: %w", err)
	}
	hdr := make([]byte, spec.headerSize())
	putHeader(hdr, spec, -1)
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("wav writer: header: %w", err)
	}
	return &Writer{w: w, spec: spec}, nil
}

// Write appends interleaved samples; len(pcm) must be a whole number of
// frames. Once the internal buffer has grown to the frame size it does not
// allocate.
func (w *Writer) Write(pcm []int16) error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return fmt.Errorf("wav writer: write after close")
	case len(pcm)%w.spec.Channels != 0:
		return fmt.Errorf("wav writer: %d samples for %d channels", len(pcm), w.spec.Channels)
	}
	n := int64(len(pcm) * w.spec.bytesPerSample())
	if w.data+n > maxData {
		return fmt.Errorf("wav writer: %d bytes of audio: %w", w.data+n, ErrTooLarge)
	}
	w.buf = encodeSamples(w.buf[:0], w.spec, pcm)
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("wav writer: %w", err)
		return w.err
	}
	w.data += n
	return nil
}

// Frames is the number of sample frames written.
func (w *Writer) Frames() int64 { return w.data / int64(w.spec.bytesPerSample()*w.spec.Channels) }

// Duration is the playing time written.
func (w *Writer) Duration() time.Duration {
	return time.Duration(w.Frames() * int64(time.Second) / int64(w.spec.SampleRate))
}

// Close finishes the file. When the destination is an io.WriteSeeker (a
// file), the header gets the final sizes and the position returns to the
// end; otherwise the header keeps the "unknown size" marker, which readers
// handle by reading to the end.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	ws, ok := w.w.(io.WriteSeeker)
	if !ok {
		// The header keeps "unknown size"; no pad byte either, as a reader
		// going to the end would take it for a sample.
		return nil
	}
	end, err := ws.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil // not really seekable (a pipe): leave the marker
	}
	if w.data&1 == 1 {
		if _, err := ws.Write([]byte{0}); err != nil {
			w.err = fmt.Errorf("wav writer: pad byte: %w", err)
			return w.err
		}
		end++
	}
	hdr := make([]byte, w.spec.headerSize())
	putHeader(hdr, w.spec, w.data)
	start := end - int64(len(hdr)) - w.data - w.data&1
	if _, err := ws.Seek(start, io.SeekStart); err != nil {
		w.err = fmt.Errorf("wav writer: seek to header: %w", err)
		return w.err
	}
	if _, err := ws.Write(hdr); err != nil {
		w.err = fmt.Errorf("wav writer: header: %w", err)
		return w.err
	}
	if _, err := ws.Seek(end, io.SeekStart); err != nil {
		w.err = fmt.Errorf("wav writer: seek to end: %w", err)
		return w.err
	}
	return nil
}

// Buffer builds a WAV file in memory, for recordings returned as a value
// rather than stored.
type Buffer struct {
	spec Spec
	b    []byte // header placeholder, then the audio
}

// NewBuffer returns an empty in-memory file of spec.
func NewBuffer(spec Spec) (*Buffer, error) {
	spec, err := spec.normalize()
	if err != nil {
		return nil, fmt.Errorf("wav buffer: %w", err)
	}
	return &Buffer{spec: spec, b: make([]byte, spec.headerSize(), spec.headerSize()+4096)}, nil
}

// Write appends interleaved samples; len(pcm) must be a whole number of
// frames.
func (b *Buffer) Write(pcm []int16) error {
	if len(pcm)%b.spec.Channels != 0 {
		return fmt.Errorf("wav buffer: %d samples for %d channels", len(pcm), b.spec.Channels)
	}
	data := int64(len(b.b) - b.spec.headerSize())
	if data+int64(len(pcm)*b.spec.bytesPerSample()) > maxData {
		return fmt.Errorf("wav buffer: %w", ErrTooLarge)
	}
	b.b = encodeSamples(b.b, b.spec, pcm)
	return nil
}

// Duration is the playing time written.
func (b *Buffer) Duration() time.Duration {
	frames := int64(len(b.b)-b.spec.headerSize()) / int64(b.spec.bytesPerSample()*b.spec.Channels)
	return time.Duration(frames * int64(time.Second) / int64(b.spec.SampleRate))
}

// Bytes returns the complete file so far, header sizes filled in. The
// result is a copy: later writes do not change it.
func (b *Buffer) Bytes() []byte {
	data := int64(len(b.b) - b.spec.headerSize())
	out := make([]byte, len(b.b), len(b.b)+int(data&1))
	copy(out, b.b)
	putHeader(out, b.spec, data)
	if data&1 == 1 {
		out = append(out, 0)
	}
	return out
}

// Encode returns a complete WAV file of pcm in spec.
func Encode(spec Spec, pcm []int16) ([]byte, error) {
	b, err := NewBuffer(spec)
	if err != nil {
		return nil, err
	}
	if err := b.Write(pcm); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
