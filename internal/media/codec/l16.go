package codec

import "fmt"

// NameL16 is the SDP name of 16-bit linear PCM in network byte order
// (RFC 3551 §4.5.11). It needs no transcoding work, which makes it the
// format of choice towards speech engines on a LAN.
const NameL16 = "L16"

// L16Codec encodes and decodes L16: each sample as two big-endian bytes,
// channels interleaved. It keeps no state.
type L16Codec struct{}

// Encode implements Encoder.
func (L16Codec) Encode(dst []byte, pcm []int16) (int, error) {
	n := 2 * len(pcm)
	if len(dst) < n {
		return 0, shortBuffer(NameL16, n, len(dst))
	}
	dst = dst[:n]
	for i, s := range pcm {
		dst[2*i] = byte(uint16(s) >> 8)
		dst[2*i+1] = byte(s)
	}
	return n, nil
}

// Decode implements Decoder. An odd payload length is corrupt.
func (L16Codec) Decode(dst []int16, payload []byte) (int, error) {
	if len(payload)%2 != 0 {
		return 0, fmt.Errorf("%s: odd payload length %d: %w", NameL16, len(payload), ErrCorrupt)
	}
	n := len(payload) / 2
	if len(dst) < n {
		return 0, shortBuffer(NameL16, n, len(dst))
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = int16(uint16(payload[2*i])<<8 | uint16(payload[2*i+1]))
	}
	return n, nil
}

func (L16Codec) String() string { return NameL16 }

// L16 is the description of L16 at the given rate and channel count. RFC
// 3551 gives static payload types only to 44.1 kHz (10 stereo, 11 mono);
// other rates use pt, a dynamic payload type.
func L16(rate, channels int, pt uint8) Codec {
	return Codec{Name: NameL16, PayloadType: pt, ClockRate: rate, SampleRate: rate, Channels: channels, Ptime: DefaultPtime}
}
