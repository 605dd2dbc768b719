package codec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/thesyncim/gopus"
)

// NameOpus is the SDP name of Opus (RFC 7587).
const NameOpus = "opus"

// Opus encoder defaults for telephony: the VoIP application mode, in-band
// FEC off unless the peer asks for it, and a bit rate that gives wideband
// speech without burning bandwidth.
const (
	defaultOpusBitrate    = 32000
	defaultOpusComplexity = 5 // half the CPU of 10 for a small loss in quality
)

// Opus is the description of Opus with a dynamic payload type: 48 kHz RTP
// clock, "/2" in rtpmap as RFC 7587 requires, mono 48 kHz PCM at the
// engine's side.
func Opus(pt uint8) Codec {
	return Codec{Name: NameOpus, PayloadType: pt, ClockRate: 48000, SampleRate: 48000, Channels: 2, Ptime: DefaultPtime, Fmtp: "minptime=10;useinbandfec=1"}
}

// OpusEncoder encodes mono PCM at the codec's sample rate into Opus packets.
type OpusEncoder struct {
	enc   *gopus.Encoder
	frame int // samples per packet
}

// NewOpusEncoder returns an encoder for c. The PCM rate is c.SampleRate
// (8, 12, 16, 24 or 48 kHz: Opus resamples internally, so a 16 kHz
// engine need not); the packet length is c.Ptime. The fmtp parameters
// maxaveragebitrate, useinbandfec and usedtx are honoured.
func NewOpusEncoder(c Codec) (*OpusEncoder, error) {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: c.SampleRate, Channels: 1, Application: gopus.ApplicationVoIP})
	if err != nil {
		return nil, fmt.Errorf("%s: encoder at %d Hz: %w", NameOpus, c.SampleRate, err)
	}
	frame := c.FrameSamples()
	if err := enc.SetFrameSize(frame); err != nil {
		return nil, fmt.Errorf("%s: ptime %s: %w", NameOpus, c.ptime(), err)
	}
	p := parseFmtp(c.Fmtp)
	bitrate := defaultOpusBitrate
	if v, err := strconv.Atoi(p["maxaveragebitrate"]); err == nil && v >= 6000 && v < bitrate {
		bitrate = v
	}
	if err := enc.SetBitrate(bitrate); err != nil {
		return nil, fmt.Errorf("%s: bitrate %d: %w", NameOpus, bitrate, err)
	}
	if err := enc.SetComplexity(defaultOpusComplexity); err != nil {
		return nil, fmt.Errorf("%s: complexity: %w", NameOpus, err)
	}
	enc.SetFEC(p["useinbandfec"] == "1")
	enc.SetDTX(p["usedtx"] == "1")
	return &OpusEncoder{enc: enc, frame: frame}, nil
}

func (e *OpusEncoder) String() string { return "opus(encode)" }

// Encode codes exactly one packet's worth of samples (c.FrameSamples()).
// dst should be 1500 bytes or more; Opus packets at telephony rates stay
// far below that.
func (e *OpusEncoder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(pcm) != e.frame {
		return 0, fmt.Errorf("%s: %d samples, want %d: %w", NameOpus, len(pcm), e.frame, ErrFrameSize)
	}
	n, err := e.enc.EncodeInt16(pcm, dst)
	if err != nil {
		return 0, fmt.Errorf("%s: encode: %w", NameOpus, err)
	}
	return n, nil
}

// OpusDecoder decodes Opus packets into mono PCM at the codec's sample rate.
// Stereo packets are downmixed by the decoder.
type OpusDecoder struct {
	dec   *gopus.Decoder
	frame int
}

// NewOpusDecoder returns a decoder producing c.SampleRate mono PCM.
func NewOpusDecoder(c Codec) (*OpusDecoder, error) {
	dec, err := gopus.NewDecoder(gopus.DefaultDecoderConfig(c.SampleRate, 1))
	if err != nil {
		return nil, fmt.Errorf("%s: decoder at %d Hz: %w", NameOpus, c.SampleRate, err)
	}
	return &OpusDecoder{dec: dec, frame: c.FrameSamples()}, nil
}

func (d *OpusDecoder) String() string { return "opus(decode)" }

// Decode decodes one packet. An empty payload asks for packet-loss
// concealment of one ptime, which needs dst of exactly that length. A packet
// may carry up to 120 ms, so dst sized for 120 ms never falls short.
func (d *OpusDecoder) Decode(dst []int16, payload []byte) (int, error) {
	if len(payload) == 0 {
		if len(dst) < d.frame {
			return 0, shortBuffer(NameOpus, d.frame, len(dst))
		}
		dst = dst[:d.frame]
	}
	n, err := d.dec.DecodeInt16(payload, dst)
	if err != nil {
		if errors.Is(err, gopus.ErrBufferTooSmall) {
			return 0, fmt.Errorf("%s: decode: %w", NameOpus, ErrShortBuffer)
		}
		return 0, fmt.Errorf("%s: decode: %v: %w", NameOpus, err, ErrCorrupt)
	}
	return n, nil
}

// parseFmtp splits "a=1;b=2" into a map. It runs once per negotiated
// stream, not per packet.
func parseFmtp(s string) map[string]string {
	m := make(map[string]string)
	for _, kv := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k != "" {
			m[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return m
}
