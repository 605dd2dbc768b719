package media

import (
	"github.com/pion/rtp"

	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// transcoder converts one leg's packets of a codec the other leg lacks
// into that leg's first codec, one packet at a time on the receiving
// session's read goroutine: no queue and no pacing of its own, so it adds
// no delay beyond the codecs' own. It is rebuilt (and allocates) only
// when the payload type or either leg's params change.
type transcoder struct {
	inPT      uint8
	inP, outP *sessionParams
	failed    bool // no decoder or encoder: drop this payload type

	in, out Format
	dec     codec.Decoder
	enc     Encoder
	rs      *dsp.Resampler // nil when the PCM rates match
	pcm     []int16
	rpcm    []int16
	buf     [maxDatagram]byte

	// Timestamps when the clock rates differ: scaled from the input's
	// steps, so gaps (lost packets) stay gaps.
	started bool
	gen     uint32
	lastIn  uint32
	vts     uint32
}

// maxFrame is 120 ms at 48 kHz, the longest Opus packet.
const maxFrame = 48000 * 120 / 1000

// canTranscode reports whether packets in from's first codec could be
// turned into to's first codec.
func canTranscode(from, to Params) bool {
	if len(from.Codecs) == 0 || len(to.Codecs) == 0 {
		return false
	}
	if _, _, err := DecoderFor(from.Codecs[0].Codec); err != nil {
		return false
	}
	_, _, err := EncoderFor(to.Codecs[0].Codec)
	return err == nil
}

func hasCodec(fs []Format, c Codec) bool {
	for _, f := range fs {
		if f.Same(c) {
			return true
		}
	}
	return false
}

// transcode handles a packet without a direct route; false means it
// cannot be converted (an event, an unknown codec).
func (f *forwarder) transcode(from, to *Session, in, out *sessionParams, p *rtp.Packet) bool {
	pt := p.PayloadType & 0x7f
	if int16(pt) == in.dtmfPT || len(out.Codecs) == 0 {
		return false
	}
	t := f.tc
	if t == nil || t.inPT != pt || t.inP != in || t.outP != out {
		t = newTranscoder(pt, in, out)
		f.tc = t
	}
	if t.failed || len(p.Payload) == 0 {
		return !t.failed
	}
	n, err := t.dec.Decode(t.pcm, p.Payload)
	if err != nil {
		from.c.decodeErrors.Add(1)
		return true
	}
	pcm := t.pcm[:n]
	if t.rs != nil {
		m, err := t.rs.Process(t.rpcm, pcm)
		if err != nil {
			from.c.decodeErrors.Add(1)
			return true
		}
		pcm = t.rpcm[:m]
	}
	k, err := t.enc.Encode(t.buf[rtpHeaderLen:], pcm)
	if err != nil {
		// An Opus leg cannot take a packet of 30 ms, for one.
		from.c.decodeErrors.Add(1)
		return true
	}
	key := from.id<<32 | uint64(from.inGen)
	ts := p.Timestamp
	if in, out := t.in.ClockRate, t.out.ClockRate; in != out {
		// A feeder of its own: its timestamps are not the input's.
		key |= 1 << 31
		if !t.started || t.gen != from.inGen {
			t.vts = uint32(uint64(ts) * uint64(out) / uint64(in))
			t.started, t.gen = true, from.inGen
		} else {
			t.vts += uint32(int64(int32(ts-t.lastIn)) * int64(out) / int64(in))
		}
		t.lastIn = ts
		ts = t.vts
	}
	seq, ots, switched := to.out.mapIn(key, p.SequenceNumber, ts, t.out.ClockRate, k, from.rxNow)
	if switched {
		to.c.switches.Add(1)
	}
	putHeader(t.buf[:], p.Marker || switched, t.out.PT, seq, ots, to.out.ssrc)
	to.writeRTP(t.buf[:rtpHeaderLen+k])
	return true
}

func newTranscoder(pt uint8, in, out *sessionParams) *transcoder {
	t := &transcoder{inPT: pt, inP: in, outP: out}
	for _, c := range in.Codecs {
		if c.PT == pt {
			t.in = c
		}
	}
	t.out = out.Codecs[0]
	dec, decRate, err := DecoderFor(t.in.Codec)
	if err != nil || t.in.Name == "" {
		t.failed = true
		return t
	}
	enc, encRate, err := EncoderFor(t.out.Codec)
	if err != nil {
		t.failed = true
		return t
	}
	t.dec, t.enc = dec, enc
	t.pcm = make([]int16, maxFrame)
	if decRate != encRate {
		rs, err := dsp.NewResampler(decRate, encRate)
		if err != nil {
			t.failed = true
			return t
		}
		t.rs = rs
		t.rpcm = make([]int16, rs.OutLen(maxFrame)+1)
	}
	return t
}
