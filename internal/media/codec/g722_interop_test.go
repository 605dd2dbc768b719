package codec

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// The encoder and decoder must agree bit for bit with an independent G.722
// implementation (ffmpeg's), which is what interoperability with phones
// needs; see testdata/g722/README.md.
func TestG722MatchesFFmpeg(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "g722", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	input, wantCode, wantPCM := read("input.s16le"), read("ffmpeg.g722"), read("ffmpeg.s16le")

	pcm := make([]int16, len(input)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(input[2*i:]))
	}
	code := make([]byte, 0, len(pcm)/2)
	enc := NewG722Encoder()
	buf := make([]byte, 160)
	for i := 0; i < len(pcm); i += 320 {
		n, err := enc.Encode(buf, pcm[i:min(i+320, len(pcm))])
		if err != nil {
			t.Fatal(err)
		}
		code = append(code, buf[:n]...)
	}
	if i := firstDiff(code, wantCode); i >= 0 {
		t.Errorf("encoding differs from ffmpeg at byte %d of %d", i, len(wantCode))
	}

	dec := NewG722Decoder()
	out := make([]int16, 2*len(wantCode))
	if _, err := dec.Decode(out, wantCode); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 2*len(out))
	for i, v := range out {
		binary.LittleEndian.PutUint16(got[2*i:], uint16(v))
	}
	if i := firstDiff(got, wantPCM); i >= 0 {
		t.Errorf("decoding differs from ffmpeg at sample %d of %d", i/2, len(wantPCM)/2)
	}
}

func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
