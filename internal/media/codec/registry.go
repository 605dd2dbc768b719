package codec

import (
	"fmt"
	"strconv"
	"strings"
)

// Factory is one codec a Registry can build encoders and decoders for.
type Factory struct {
	// Codec is the description with the defaults used when this codec is
	// offered: its payload type (static, or the preferred dynamic one), PCM
	// rate, ptime and fmtp.
	Codec Codec
	// NewEncoder and NewDecoder build per-stream state for a negotiated
	// codec (which carries the peer's payload type and fmtp).
	NewEncoder func(Codec) (Encoder, error)
	NewDecoder func(Codec) (Decoder, error)
}

// Registry is an ordered, read-only set of codecs. Its order is the
// default preference order.
type Registry struct {
	factories []Factory
}

// NewRegistry returns a registry holding fs in that order.
func NewRegistry(fs ...Factory) *Registry {
	return &Registry{factories: append([]Factory(nil), fs...)}
}

// Builtin returns a registry of the codecs this package implements, in the
// default preference order: Opus, G.722, PCMU, PCMA, then L16 at 48, 16 and
// 8 kHz. Each call returns a new registry, so callers may not share state
// by accident.
func Builtin() *Registry {
	stateless := func(e interface {
		Encoder
		Decoder
	}) (func(Codec) (Encoder, error), func(Codec) (Decoder, error)) {
		return func(Codec) (Encoder, error) { return e, nil }, func(Codec) (Decoder, error) { return e, nil }
	}
	pcmuE, pcmuD := stateless(PCMUCodec{})
	pcmaE, pcmaD := stateless(PCMACodec{})
	l16E, l16D := stateless(L16Codec{})
	return NewRegistry(
		Factory{
			Codec:      Opus(111),
			NewEncoder: func(c Codec) (Encoder, error) { return NewOpusEncoder(c) },
			NewDecoder: func(c Codec) (Decoder, error) { return NewOpusDecoder(c) },
		},
		Factory{
			Codec:      G722(),
			NewEncoder: func(Codec) (Encoder, error) { return NewG722Encoder(), nil },
			NewDecoder: func(Codec) (Decoder, error) { return NewG722Decoder(), nil },
		},
		Factory{Codec: PCMU(), NewEncoder: pcmuE, NewDecoder: pcmuD},
		Factory{Codec: PCMA(), NewEncoder: pcmaE, NewDecoder: pcmaD},
		Factory{Codec: L16(48000, 1, 118), NewEncoder: l16E, NewDecoder: l16D},
		Factory{Codec: L16(16000, 1, 119), NewEncoder: l16E, NewDecoder: l16D},
		Factory{Codec: L16(8000, 1, 120), NewEncoder: l16E, NewDecoder: l16D},
	)
}

// Codecs returns the descriptions of all codecs in preference order, for
// building an SDP offer.
func (r *Registry) Codecs() []Codec {
	out := make([]Codec, len(r.factories))
	for i, f := range r.factories {
		out[i] = f.Codec
	}
	return out
}

// Lookup finds the codec by name (any case), RTP clock rate and channels.
func (r *Registry) Lookup(name string, clockRate, channels int) (Factory, bool) {
	want := Codec{Name: name, ClockRate: clockRate, Channels: channels}
	for _, f := range r.factories {
		if f.Codec.Matches(want) {
			return f, true
		}
	}
	return Factory{}, false
}

// NewEncoder builds an encoder for a negotiated codec.
func (r *Registry) NewEncoder(c Codec) (Encoder, error) {
	f, ok := r.Lookup(c.Name, c.ClockRate, c.Channels)
	if !ok {
		return nil, fmt.Errorf("encoder for %s: %w", c.Rtpmap(), ErrUnknownCodec)
	}
	e, err := f.NewEncoder(r.complete(f, c))
	if err != nil {
		return nil, fmt.Errorf("encoder for %s: %w", c.Rtpmap(), err)
	}
	return e, nil
}

// NewDecoder builds a decoder for a negotiated codec.
func (r *Registry) NewDecoder(c Codec) (Decoder, error) {
	f, ok := r.Lookup(c.Name, c.ClockRate, c.Channels)
	if !ok {
		return nil, fmt.Errorf("decoder for %s: %w", c.Rtpmap(), ErrUnknownCodec)
	}
	d, err := f.NewDecoder(r.complete(f, c))
	if err != nil {
		return nil, fmt.Errorf("decoder for %s: %w", c.Rtpmap(), err)
	}
	return d, nil
}

// complete fills what an SDP description leaves out (PCM rate, ptime) from
// the registry's defaults.
func (r *Registry) complete(f Factory, c Codec) Codec {
	if c.SampleRate == 0 {
		c.SampleRate = f.Codec.SampleRate
	}
	if c.Ptime <= 0 {
		c.Ptime = f.Codec.Ptime
	}
	return c
}

// Common returns the codecs both sides support, in the order of prefs, each
// as the peer offered it (its payload type and fmtp) completed with this
// registry's PCM rate and ptime defaults. A preference is a name ("PCMU"),
// or a name with clock rate and channels ("L16/16000", "opus/48000/2"); nil
// prefs means the registry's own order. Offered codecs the registry does not
// know are skipped.
func (r *Registry) Common(prefs []string, offered []Codec) []Codec {
	if prefs == nil {
		for _, f := range r.factories {
			prefs = append(prefs, f.Codec.Rtpmap())
		}
	}
	var out []Codec
	for _, p := range prefs {
		name, rate, ch := parsePref(p)
		for _, o := range offered {
			if !strings.EqualFold(o.Name, name) || (rate != 0 && o.ClockRate != rate) || (ch != 0 && channelsOrOne(o.Channels) != ch) {
				continue
			}
			f, ok := r.Lookup(o.Name, o.ClockRate, o.Channels)
			if !ok || containsCodec(out, o) {
				continue
			}
			out = append(out, r.complete(f, o))
		}
	}
	return out
}

// Negotiate picks the first codec of prefs that the peer offered and the
// registry supports. It fails with ErrNoCommonCodec when there is none.
func (r *Registry) Negotiate(prefs []string, offered []Codec) (Codec, error) {
	c := r.Common(prefs, offered)
	if len(c) == 0 {
		return Codec{}, fmt.Errorf("prefs %v, offered %v: %w", prefs, offered, ErrNoCommonCodec)
	}
	return c[0], nil
}

func containsCodec(list []Codec, c Codec) bool {
	for _, x := range list {
		if x.Matches(c) {
			return true
		}
	}
	return false
}

// parsePref splits "name[/rate[/channels]]"; zero means any.
func parsePref(p string) (name string, rate, channels int) {
	parts := strings.Split(p, "/")
	name = parts[0]
	if len(parts) > 1 {
		rate, _ = strconv.Atoi(parts[1])
	}
	if len(parts) > 2 {
		channels, _ = strconv.Atoi(parts[2])
	}
	return name, rate, channels
}
