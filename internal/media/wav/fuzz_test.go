package wav

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzRead: no input makes Read panic or misbehave; whatever it accepts is
// consistent and survives a round trip through the writer.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.wav"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	pcm := []int16{1, -2, 300, -32768, 32767, 0}
	for _, s := range []Spec{{8000, 1, FormatPCM}, {16000, 2, FormatPCM}, {8000, 1, FormatMuLaw}, {8000, 1, FormatALaw}} {
		b, _ := Encode(s, pcm)
		f.Add(b)
	}
	f.Add(build(ck("fmt ", extensibleFmt(FormatMuLaw, 1, 8000, 8)), chunk{"data", []byte{1, 2, 3}, 0xFFFFFFFF}))
	f.Add(build(ck("LIST", []byte("odd")), ck("fmt ", fmtData(FormatIEEEFloat, 2, 44100, 32)), chunk{"data", make([]byte, 16), 0}))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00"))

	lim := Limits{MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(b, lim)
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if a.Channels < 1 || a.Channels > MaxChannels || a.SampleRate < 1 || len(a.Samples)%a.Channels != 0 {
			t.Fatalf("inconsistent result %v with %d samples", a, len(a.Samples))
		}
		if int64(len(a.Samples))*int64(a.BitsPerSample/8) > lim.MaxBytes {
			t.Fatalf("%d samples beyond the limit", len(a.Samples))
		}
		if a.Channels > 2 {
			return
		}
		// 16-bit PCM survives a round trip exactly.
		out, err := Encode(Spec{SampleRate: a.SampleRate, Channels: a.Channels}, a.Samples)
		if err != nil {
			t.Fatalf("re-encode %v: %v", a, err)
		}
		back, err := Read(bytes.NewReader(out), lim)
		if err != nil || !slices.Equal(back.Samples, a.Samples) || back.SampleRate != a.SampleRate {
			t.Fatalf("round trip of %v: %v", a, err)
		}
	})
}
