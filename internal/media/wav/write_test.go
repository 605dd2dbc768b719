package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/codec"
)

func testSignal(n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(20000 * math.Sin(float64(i)*0.07) * math.Cos(float64(i)*0.0031))
	}
	x[0], x[1] = 32767, -32768
	return x
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, format := range []uint16{FormatPCM, FormatMuLaw, FormatALaw} {
		for _, rate := range []int{8000, 11025, 16000, 44100, 48000} {
			for _, ch := range []int{1, 2} {
				name := fmt.Sprintf("%s/%d/%dch", formatName(format), rate, ch)
				pcm := testSignal(ch * 1001)
				b, err := Encode(Spec{SampleRate: rate, Channels: ch, Format: format}, pcm)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				a, err := Decode(b, Limits{})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if a.SampleRate != rate || a.Channels != ch || a.Format != format || a.Frames() != 1001 {
					t.Fatalf("%s: read back %v", name, a)
				}
				want := pcm
				switch format {
				case FormatMuLaw:
					want = mapSamples(pcm, func(v int16) int16 { return codec.ULawDecode(codec.ULawEncode(v)) })
				case FormatALaw:
					want = mapSamples(pcm, func(v int16) int16 { return codec.ALawDecode(codec.ALawEncode(v)) })
				}
				if !slices.Equal(a.Samples, want) {
					t.Errorf("%s: samples differ", name)
				}
				if len(b)%2 != 0 || int(binary.LittleEndian.Uint32(b[4:])) != len(b)-8 {
					t.Errorf("%s: RIFF size %d for %d bytes", name, binary.LittleEndian.Uint32(b[4:]), len(b))
				}
			}
		}
	}
}

func mapSamples(x []int16, f func(int16) int16) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = f(v)
	}
	return out
}

// A recording streamed to a file in 20 ms frames gets its sizes on Close
// and reads back exactly.
func TestWriterFile(t *testing.T) {
	for _, format := range []uint16{FormatPCM, FormatMuLaw} {
		path := filepath.Join(t.TempDir(), "rec.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(f, Spec{SampleRate: 8000, Channels: 1, Format: format})
		if err != nil {
			t.Fatal(err)
		}
		pcm := testSignal(8000 + 3) // odd: exercises the pad byte for µ-law
		for i := 0; i < len(pcm); i += 160 {
			if err := w.Write(pcm[i:min(i+160, len(pcm))]); err != nil {
				t.Fatal(err)
			}
		}
		if w.Duration() != 1000375*time.Microsecond || w.Frames() != 8003 {
			t.Errorf("Duration %v, Frames %d", w.Duration(), w.Frames())
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := w.Write(pcm[:2]); err == nil {
			t.Error("write after close accepted")
		}
		f.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		le := binary.LittleEndian
		if riff := le.Uint32(b[4:]); int(riff) != len(b)-8 {
			t.Errorf("%s: RIFF size %d, file %d bytes", formatName(format), riff, len(b))
		}
		if len(b)%2 != 0 {
			t.Errorf("%s: odd file length %d", formatName(format), len(b))
		}
		if format == FormatMuLaw {
			if frames := le.Uint32(b[46:]); frames != 8003 {
				t.Errorf("fact chunk says %d frames", frames)
			}
		}
		a, err := Decode(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Frames() != len(pcm) {
			t.Errorf("%s: read back %d frames, wrote %d", formatName(format), a.Frames(), len(pcm))
		}
	}
}

// A recording cut short (the process died before Close) still reads:
// the header says "unknown size" until Close patches it.
func TestWriterUnfinishedAndUnseekable(t *testing.T) {
	var buf bytes.Buffer // not seekable
	w, err := NewWriter(&buf, Spec{SampleRate: 16000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	pcm := testSignal(640)
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	a, err := Decode(buf.Bytes(), Limits{})
	if err != nil || !slices.Equal(a.Samples, pcm) {
		t.Fatalf("unfinished recording: %v, %v", a, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(buf.Bytes()[40:]) != unknownSize {
		t.Error("unseekable destination got a patched size")
	}
	a, err = Decode(buf.Bytes(), Limits{})
	if err != nil || !slices.Equal(a.Samples, pcm) {
		t.Fatalf("closed unseekable recording: %v, %v", a, err)
	}
	// An odd-length G.711 stream gets no pad byte it cannot declare.
	buf.Reset()
	w, _ = NewWriter(&buf, Spec{SampleRate: 8000, Channels: 1, Format: FormatMuLaw})
	w.Write(pcm[:3])
	w.Close()
	if a, err := Decode(buf.Bytes(), Limits{}); err != nil || a.Frames() != 3 {
		t.Errorf("odd unseekable µ-law: %v, %v", a, err)
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	for _, s := range []Spec{{SampleRate: 0, Channels: 1}, {SampleRate: 8000, Channels: 3}, {SampleRate: 8000, Channels: 1, Format: FormatIEEEFloat}} {
		if _, err := NewWriter(io.Discard, s); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%+v: %v", s, err)
		}
		if _, err := NewBuffer(s); !errors.Is(err, ErrUnsupported) {
			t.Errorf("buffer %+v: %v", s, err)
		}
	}
	if _, err := NewWriter(&failWriter{n: 10}, Spec{SampleRate: 8000, Channels: 1}); err == nil {
		t.Error("header write failure not reported")
	}
	w, _ := NewWriter(&failWriter{n: 100}, Spec{SampleRate: 8000, Channels: 1})
	if err := w.Write(make([]int16, 160)); err == nil {
		t.Error("data write failure not reported")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write reports success")
	}
	w, _ = NewWriter(io.Discard, Spec{SampleRate: 8000, Channels: 2})
	if err := w.Write(make([]int16, 3)); err == nil {
		t.Error("half a stereo frame accepted")
	}
	b, _ := NewBuffer(Spec{SampleRate: 8000, Channels: 2})
	if err := b.Write(make([]int16, 3)); err == nil {
		t.Error("half a stereo frame accepted by Buffer")
	}
}

func TestBuffer(t *testing.T) {
	b, err := NewBuffer(Spec{SampleRate: 8000, Channels: 1, Format: FormatALaw})
	if err != nil {
		t.Fatal(err)
	}
	b.Write(testSignal(801))
	first := b.Bytes()
	if b.Duration() != 100125*time.Microsecond {
		t.Errorf("Duration %v", b.Duration())
	}
	b.Write(testSignal(160))
	second := b.Bytes()
	a1, err1 := Decode(first, Limits{})
	a2, err2 := Decode(second, Limits{})
	if err1 != nil || err2 != nil || a1.Frames() != 801 || a2.Frames() != 961 {
		t.Fatalf("snapshots: %v %v, %v %v", a1, err1, a2, err2)
	}
}

func TestWriterDoesNotAllocate(t *testing.T) {
	w, _ := NewWriter(io.Discard, Spec{SampleRate: 8000, Channels: 1})
	frame := testSignal(160)
	w.Write(frame)
	if a := testing.AllocsPerRun(100, func() { w.Write(frame) }); a != 0 {
		t.Errorf("%v allocations per frame", a)
	}
}

func BenchmarkWriter20ms(b *testing.B) {
	for _, format := range []uint16{FormatPCM, FormatMuLaw} {
		b.Run(formatName(format), func(b *testing.B) {
			w, _ := NewWriter(io.Discard, Spec{SampleRate: 8000, Channels: 1, Format: format})
			frame := testSignal(160)
			w.Write(frame)
			b.ReportAllocs()
			for b.Loop() {
				w.Write(frame)
			}
		})
	}
}

func BenchmarkRead1s(b *testing.B) {
	f, _ := Encode(Spec{SampleRate: 8000, Channels: 1}, testSignal(8000))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(f, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// sox, an independent implementation, reads what Writer writes (skipped
// where sox is not installed).
func TestSoxReadsWriterOutput(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed")
	}
	for _, s := range []Spec{{8000, 1, FormatPCM}, {48000, 2, FormatPCM}, {8000, 1, FormatMuLaw}, {8000, 1, FormatALaw}} {
		path := filepath.Join(t.TempDir(), "out.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := NewWriter(f, s)
		w.Write(testSignal(s.SampleRate / 10 * s.Channels))
		w.Close()
		f.Close()
		out, err := exec.Command(sox, "--i", path).CombinedOutput()
		if err != nil {
			t.Fatalf("%+v: sox: %v\n%s", s, err, out)
		}
		info := string(out)
		for _, want := range []string{
			fmt.Sprintf("Channels       : %d", s.Channels),
			fmt.Sprintf("Sample Rate    : %d", s.SampleRate),
			"Duration       : 00:00:00.10",
		} {
			if !strings.Contains(info, want) {
				t.Errorf("%+v: sox says\n%s\nwant %q", s, info, want)
			}
		}
	}
}
