package codec_test

import (
	"fmt"

	"github.com/ringo-pbx/ringo/internal/media/codec"
)

// Negotiate a codec from a peer's offer, then code one 20 ms frame with
// buffers allocated once per stream.
func Example() {
	reg := codec.Builtin()
	offer := []codec.Codec{
		{Name: "PCMA", PayloadType: 8, ClockRate: 8000},
		{Name: "G722", PayloadType: 9, ClockRate: 8000},
	}
	c, err := reg.Negotiate([]string{"G722", "PCMU", "PCMA"}, offer)
	if err != nil {
		fmt.Println(err)
		return
	}
	enc, _ := reg.NewEncoder(c)
	dec, _ := reg.NewDecoder(c)

	pcm := make([]int16, c.FrameSamples()) // 20 ms at 16 kHz
	payload := make([]byte, 1500)
	out := make([]int16, c.FrameSamples())

	n, _ := enc.Encode(payload, pcm)
	m, _ := dec.Decode(out, payload[:n])
	fmt.Println(c)
	fmt.Println(n, "bytes,", m, "samples, timestamp step", c.FrameTimestamps())
	// Output:
	// G722/8000 pt=9 20ms
	// 160 bytes, 320 samples, timestamp step 160
}

func ExampleULawEncode() {
	fmt.Printf("%#02x %#02x %#02x\n", codec.ULawEncode(0), codec.ULawEncode(32767), codec.ULawEncode(-32768))
	fmt.Println(codec.ULawDecode(0x80), codec.ALawDecode(0xD5))
	// Output:
	// 0xff 0x80 0x00
	// 32124 8
}
