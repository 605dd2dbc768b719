package media

import (
	"fmt"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// AudioSink takes a session's incoming audio, decoded to mono PCM at the
// codec's sample rate. It is called on the session's read goroutine, so it
// must not block, and it may not keep pcm after it returns.
type AudioSink interface {
	WriteAudio(pcm []int16, rate int)
}

// AudioSinkFunc adapts a function to AudioSink.
type AudioSinkFunc func(pcm []int16, rate int)

// WriteAudio calls f.
func (f AudioSinkFunc) WriteAudio(pcm []int16, rate int) { f(pcm, rate) }

type sinkList struct{ sinks []AudioSink }

// sinkBox gives each added sink an identity of its own, so that remove
// finds it by pointer: sinks such as AudioSinkFunc cannot be compared, and
// the same sink may be added twice.
type sinkBox struct{ AudioSink }

// AddAudioSink starts decoding the session's incoming audio for k; remove
// stops it. A session without sinks decodes nothing, so relayed media
// costs no more than before.
func (s *Session) AddAudioSink(k AudioSink) (remove func()) {
	s.sinkMu.Lock()
	defer s.sinkMu.Unlock()
	var cur []AudioSink
	if l := s.sinks.Load(); l != nil {
		cur = l.sinks
	}
	box := AudioSink(&sinkBox{k})
	next := append(append([]AudioSink{}, cur...), box)
	s.sinks.Store(&sinkList{next})
	var once sync.Once
	return func() {
		once.Do(func() {
			s.sinkMu.Lock()
			defer s.sinkMu.Unlock()
			l := s.sinks.Load()
			if l == nil {
				return
			}
			var rest []AudioSink
			for _, x := range l.sinks {
				if x != box {
					rest = append(rest, x)
				}
			}
			if len(rest) == 0 {
				s.sinks.Store(nil)
				return
			}
			s.sinks.Store(&sinkList{rest})
		})
	}
}

// audioDecoder is the read goroutine's decoder for the payload type in
// use; it is rebuilt when the peer switches codecs.
type audioDecoder struct {
	pt     int16 // −1: none yet
	params *sessionParams
	dec    codec.Decoder
	rate   int
	pcm    []int16
	failed bool // no decoder for this payload type: skip until it changes
}

// decodeToSinks runs on the read goroutine for an audio packet.
func (s *Session) decodeToSinks(l *sinkList, p *sessionParams, pt uint8, payload []byte) {
	d := &s.adec
	if d.pt != int16(pt) || d.params != p {
		*d = audioDecoder{pt: int16(pt), params: p, pcm: d.pcm}
		var f Format
		for _, c := range p.Codecs {
			if c.PT == pt {
				f = c
				break
			}
		}
		dec, rate, err := DecoderFor(f.Codec)
		if err != nil {
			d.failed = true
			s.c.decodeErrors.Add(1)
			return
		}
		d.dec, d.rate = dec, rate
		// 120 ms at 48 kHz: the longest Opus frame.
		if need := 48000 * 120 / 1000; cap(d.pcm) < need {
			d.pcm = make([]int16, need)
		}
	}
	if d.failed || len(payload) == 0 {
		return
	}
	n, err := d.dec.Decode(d.pcm[:cap(d.pcm)], payload)
	if err != nil {
		s.c.decodeErrors.Add(1)
		return
	}
	for _, k := range l.sinks {
		k.WriteAudio(d.pcm[:n], d.rate)
	}
}

// DecoderFor builds a decoder for c and returns the PCM rate it yields.
func DecoderFor(c Codec) (codec.Decoder, int, error) {
	reg := codec.Builtin()
	f, ok := reg.Lookup(c.Name, int(c.ClockRate), int(c.channels()))
	if !ok {
		return nil, 0, fmt.Errorf("media: decoder for %s: %w", c, codec.ErrUnknownCodec)
	}
	dec, err := reg.NewDecoder(codec.Codec{Name: c.Name, PayloadType: f.Codec.PayloadType,
		ClockRate: int(c.ClockRate), Channels: int(c.channels()), Fmtp: c.Fmtp})
	if err != nil {
		return nil, 0, fmt.Errorf("media: %w", err)
	}
	return dec, f.Codec.SampleRate, nil
}

// AudioQueue carries audio from a session's read goroutine (WriteAudio)
// to a paced reader on the media clock (ReadFrame): the seam between
// packets that arrive when the network delivers them and frames taken
// every 20 ms. It resamples to its own rate, keeps a small jitter reserve,
// plays silence when the writer falls behind and drops the oldest audio
// when it runs ahead, so the delay stays bounded.
type AudioQueue struct {
	mu      sync.Mutex
	rate    int
	target  int // samples held back before reading starts
	max     int // beyond this the oldest samples go
	ring    []int16
	head, n int
	primed  bool
	closed  bool

	inRate int
	rs     *dsp.Resampler
	tmp    []int16

	underruns, overruns uint64
}

// NewAudioQueue holds audio at rate samples/s (8000 when rate is not
// positive): reading starts once reserve is buffered, and no more than
// maxDelay is ever held.
func NewAudioQueue(rate int, reserve, maxDelay time.Duration) *AudioQueue {
	if rate <= 0 {
		// A queue must hold something: take the telephone rate rather than
		// fail on every write.
		rate = 8000
	}
	target := samplesIn(reserve, rate)
	maxN := samplesIn(maxDelay, rate)
	if maxN < target+samplesIn(DefaultClockPeriod, rate) {
		maxN = target + samplesIn(DefaultClockPeriod, rate)
	}
	return &AudioQueue{rate: rate, target: target, max: maxN, ring: make([]int16, maxN)}
}

func samplesIn(d time.Duration, rate int) int {
	return int(int64(d) * int64(rate) / int64(time.Second))
}

// Rate is the queue's sample rate.
func (q *AudioQueue) Rate() int { return q.rate }

// WriteAudio implements AudioSink.
func (q *AudioQueue) WriteAudio(pcm []int16, rate int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || rate <= 0 {
		return
	}
	if rate != q.rate {
		if q.rs == nil || q.inRate != rate {
			rs, err := dsp.NewResampler(rate, q.rate)
			if err != nil {
				return
			}
			q.rs, q.inRate = rs, rate
		}
		need := q.rs.OutLen(len(pcm))
		if cap(q.tmp) < need {
			q.tmp = make([]int16, need)
		}
		n, err := q.rs.Process(q.tmp[:need], pcm)
		if err != nil {
			return
		}
		pcm = q.tmp[:n]
	}
	q.push(pcm)
}

func (q *AudioQueue) push(pcm []int16) {
	if len(pcm) > q.max {
		pcm = pcm[len(pcm)-q.max:]
	}
	if over := q.n + len(pcm) - q.max; over > 0 {
		// Ahead of the reader: keep the newest audio, back to the reserve.
		drop := min(q.n+len(pcm)-max(q.target, len(pcm)), q.n)
		q.head = (q.head + drop) % len(q.ring)
		q.n -= drop
		q.overruns++
	}
	tail := (q.head + q.n) % len(q.ring)
	k := copy(q.ring[tail:], pcm)
	copy(q.ring, pcm[k:])
	q.n += len(pcm)
	if q.n >= q.target {
		q.primed = true
	}
}

// ReadFrame implements FrameSource: it fills dst with the oldest audio,
// or silence while the writer is behind. It ends only after Close.
func (q *AudioQueue) ReadFrame(dst []int16) (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed && q.n == 0 {
		return 0, false
	}
	if !q.primed && !q.closed {
		clear(dst)
		return len(dst), true
	}
	k := min(len(dst), q.n)
	first := copy(dst[:k], q.ring[q.head:])
	copy(dst[first:k], q.ring[:k-first])
	q.head = (q.head + k) % len(q.ring)
	q.n -= k
	if k < len(dst) {
		clear(dst[k:])
		if !q.closed {
			// Ran dry: build the reserve again before reading on.
			q.primed = false
			q.underruns++
		}
	}
	return len(dst), true
}

// Buffered is the audio held now.
func (q *AudioQueue) Buffered() time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	return time.Duration(int64(q.n) * int64(time.Second) / int64(q.rate))
}

// Stats reports how often the reader found the queue empty and how often
// the writer overflowed it.
func (q *AudioQueue) Stats() (underruns, overruns uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.underruns, q.overruns
}

// Close ends the stream: ReadFrame drains what is left, then reports the
// end.
func (q *AudioQueue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}
