package codec

import (
	"errors"
	"testing"
)

// FuzzDecode: payloads come from the network, so no byte string may make a
// decoder panic or write past its buffer; failures carry a sentinel error.
func FuzzDecode(f *testing.F) {
	r := Builtin()
	for _, c := range r.Codecs() {
		enc, err := r.NewEncoder(c)
		if err != nil {
			f.Fatal(err)
		}
		payload := make([]byte, 4000)
		n, err := enc.Encode(payload, sine(c.FrameSamples()*c.PCMChannels(), c.SampleRate, 700, 9000))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(payload[:n])
	}
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte{0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, c := range r.Codecs() {
			dec, err := r.NewDecoder(c)
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]int16, 5760+8)
			for i := range dst[5760:] {
				dst[5760+i] = 0x5A5A
			}
			n, err := dec.Decode(dst[:5760], payload)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrShortBuffer) {
					t.Fatalf("%v: error without a sentinel: %v", c, err)
				}
				continue
			}
			if n < 0 || n > 5760 {
				t.Fatalf("%v: decoded %d samples", c, n)
			}
			for _, v := range dst[5760:] {
				if v != 0x5A5A {
					t.Fatalf("%v: wrote past the buffer", c)
				}
			}
		}
	})
}
