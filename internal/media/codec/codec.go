package codec

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors returned by encoders, decoders and the registry. Callers match them
// with errors.Is; the returned errors carry the codec and sizes as context.
var (
	// ErrShortBuffer means dst cannot hold the result of one call.
	ErrShortBuffer = errors.New("codec: destination buffer too short")
	// ErrFrameSize means the input length is not a whole number of codec
	// samples or frames (odd PCM length for G.722, wrong Opus frame size).
	ErrFrameSize = errors.New("codec: invalid frame size")
	// ErrUnknownCodec means the registry has no codec by that name, clock
	// rate and channel count.
	ErrUnknownCodec = errors.New("codec: unknown codec")
	// ErrNoCommonCodec means negotiation found no codec both sides support
	// (a SIP endpoint answers 488 Not Acceptable Here).
	ErrNoCommonCodec = errors.New("codec: no common codec")
	// ErrCorrupt means a payload could not be decoded.
	ErrCorrupt = errors.New("codec: corrupt payload")
)

// DefaultPtime is the packetisation interval used when an offer names none.
const DefaultPtime = 20 * time.Millisecond

// Codec describes one RTP audio payload format as SDP negotiates it and as
// the media engine needs it to size frames. It is a plain value: copying it
// is cheap and it holds no codec state.
type Codec struct {
	// Name is the SDP encoding name ("PCMU", "G722", "opus"), compared
	// case-insensitively.
	Name string
	// PayloadType is the RTP payload type: static for PCMU (0), PCMA (8)
	// and G722 (9), dynamic (96-127) for the rest.
	PayloadType uint8
	// ClockRate is the RTP timestamp rate from a=rtpmap. It differs from
	// SampleRate for G.722 (8000 vs 16000, an RFC 3551 historical error).
	ClockRate int
	// SampleRate is the PCM rate the Encoder consumes and the Decoder
	// produces.
	SampleRate int
	// Channels is the channel count from a=rtpmap (2 for Opus by RFC 7587,
	// whatever is actually sent).
	Channels int
	// Ptime is the packetisation interval.
	Ptime time.Duration
	// Fmtp is the a=fmtp parameter string, without the payload type.
	Fmtp string
}

// PCMChannels is the number of interleaved channels in the PCM that the
// codec's Encoder takes and Decoder returns. Opus carries mono in the PBX
// even though its rtpmap always says 2 channels.
func (c Codec) PCMChannels() int {
	if strings.EqualFold(c.Name, NameOpus) {
		return 1
	}
	if c.Channels < 1 {
		return 1
	}
	return c.Channels
}

// FrameSamples is the number of PCM samples per channel in one packet.
func (c Codec) FrameSamples() int {
	return int(int64(c.SampleRate) * int64(c.ptime()) / int64(time.Second))
}

// FrameTimestamps is the RTP timestamp increment of one packet.
func (c Codec) FrameTimestamps() uint32 {
	return uint32(int64(c.ClockRate) * int64(c.ptime()) / int64(time.Second))
}

func (c Codec) ptime() time.Duration {
	if c.Ptime <= 0 {
		return DefaultPtime
	}
	return c.Ptime
}

// Rtpmap is the a=rtpmap value after the payload type: "PCMU/8000",
// "opus/48000/2".
func (c Codec) Rtpmap() string {
	if c.Channels > 1 {
		return fmt.Sprintf("%s/%d/%d", c.Name, c.ClockRate, c.Channels)
	}
	return fmt.Sprintf("%s/%d", c.Name, c.ClockRate)
}

// Matches reports whether o is the same payload format: equal name (any
// case), clock rate and channel count. Payload type, ptime and fmtp may
// differ between the two sides of a negotiation.
func (c Codec) Matches(o Codec) bool {
	return strings.EqualFold(c.Name, o.Name) && c.ClockRate == o.ClockRate && channelsOrOne(c.Channels) == channelsOrOne(o.Channels)
}

// String prints the codec the way a media chain describes its stages:
// "PCMU/8000 pt=0 20ms".
func (c Codec) String() string {
	s := fmt.Sprintf("%s pt=%d %s", c.Rtpmap(), c.PayloadType, c.ptime())
	if c.Fmtp != "" {
		s += " " + c.Fmtp
	}
	return s
}

func channelsOrOne(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// Encoder turns PCM into RTP payloads. Encode writes into dst, which the
// caller owns, and returns the number of bytes written; it does not allocate.
// An Encoder holds codec state and is used by one goroutine at a time.
type Encoder interface {
	Encode(dst []byte, pcm []int16) (int, error)
}

// Decoder turns RTP payloads into PCM. Decode writes into dst, which the
// caller owns, and returns the number of samples written (all channels); it
// does not allocate. A Decoder holds codec state and is used by one goroutine
// at a time.
type Decoder interface {
	Decode(dst []int16, payload []byte) (int, error)
}

func shortBuffer(codec string, need, have int) error {
	return fmt.Errorf("%s: need %d, have %d: %w", codec, need, have, ErrShortBuffer)
}
