package media

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStopped ends a playback that was stopped or replaced.
var ErrStopped = errors.New("media: playback stopped")

// FrameSource yields linear PCM one frame (one clock period) at a time;
// the player and tone generators implement it. ok=false ends the stream.
type FrameSource interface {
	ReadFrame(dst []int16) (n int, ok bool)
}

// PayloadSource yields ready RTP payloads, one per clock period: a prompt
// stored in the call's codec plays without encoding.
type PayloadSource interface {
	ReadPayload(dst []byte) (n int, ok bool)
}

// Encoder turns a frame of PCM into an RTP payload without allocating.
type Encoder interface {
	Encode(dst []byte, pcm []int16) (int, error)
}

// Playback is a stream the shared clock sends on a session: one packet
// per tick, renumbered onto the session's outgoing stream like relayed
// media, so switching between relay and playback is seamless.
type Playback struct {
	key    uint64
	label  string
	frame  func(dst []byte) (int, bool, error)
	format Format
	step   uint32 // timestamp units per frame
	vseq   uint16
	vts    uint32
	buf    [maxDatagram]byte
	frames atomic.Uint64

	stopped  atomic.Bool
	doneOnce sync.Once
	done     chan struct{}
	err      error
}

// Play sends PCM from src, encoded by enc for the session's first
// negotiated codec, at sampleRate samples per second. It replaces any
// playback already running on the session.
func (s *Session) Play(src FrameSource, enc Encoder, sampleRate int) (*Playback, error) {
	if sampleRate <= 0 {
		return nil, fmt.Errorf("media: play on %s: sample rate %d", s.name, sampleRate)
	}
	pcm := make([]int16, int(int64(sampleRate)*int64(s.eng.clock.Period())/int64(time.Second)))
	frame := func(dst []byte) (int, bool, error) {
		n, ok := src.ReadFrame(pcm)
		if !ok && n == 0 {
			return 0, false, nil
		}
		clear(pcm[n:]) // a short last frame is padded with silence
		m, err := enc.Encode(dst, pcm)
		return m, true, err
	}
	return s.startPlayback(frame, fmt.Sprintf("play %T→%T", src, enc))
}

// PlayPayload sends payloads from src as they are.
func (s *Session) PlayPayload(src PayloadSource) (*Playback, error) {
	frame := func(dst []byte) (int, bool, error) {
		n, ok := src.ReadPayload(dst)
		return n, ok, nil
	}
	return s.startPlayback(frame, fmt.Sprintf("play %T", src))
}

func (s *Session) startPlayback(frame func([]byte) (int, bool, error), label string) (*Playback, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	p := s.params.Load()
	if p == nil {
		return nil, ErrNoRemote
	}
	f := p.Codecs[0]
	pb := &Playback{
		key:    1<<63 | s.eng.nextKey.Add(1),
		label:  label + " " + f.String(),
		frame:  frame,
		format: f,
		step:   durationToSamples(s.eng.clock.Period(), f.ClockRate),
		done:   make(chan struct{}),
	}
	if old := s.play.Swap(pb); old != nil {
		old.finish(ErrStopped)
	}
	return pb, nil
}

// StopPlayback ends whatever the session is playing.
func (s *Session) StopPlayback() {
	if pb := s.play.Load(); pb != nil {
		pb.Stop()
	}
}

// Stop ends the playback; the session goes quiet (or back to relaying).
func (pb *Playback) Stop() {
	pb.stopped.Store(true)
	pb.finish(ErrStopped)
}

// Done is closed when the playback ends.
func (pb *Playback) Done() <-chan struct{} { return pb.done }

// Err is nil when the source ran out, ErrStopped or ErrClosed when it
// was cut short, or the encoder's error. Valid after Done.
func (pb *Playback) Err() error {
	<-pb.done
	return pb.err
}

// Frames counts packets sent.
func (pb *Playback) Frames() uint64 { return pb.frames.Load() }

func (pb *Playback) String() string { return pb.label }

func (pb *Playback) finish(err error) {
	pb.doneOnce.Do(func() {
		pb.err = err
		close(pb.done)
	})
}

// tick sends one frame; it runs on the clock goroutine.
func (pb *Playback) tick(s *Session, p *sessionParams, now time.Time) {
	if pb.stopped.Load() {
		s.play.CompareAndSwap(pb, nil)
		return
	}
	if !s.canSend(p) {
		return // on hold: pause
	}
	n, ok, err := pb.frame(pb.buf[rtpHeaderLen:])
	if err != nil || !ok {
		s.play.CompareAndSwap(pb, nil)
		pb.finish(err)
		return
	}
	seq, ts, switched := s.out.mapIn(pb.key, pb.vseq, pb.vts, pb.format.ClockRate, n, now)
	pb.vseq++
	pb.vts += pb.step
	if switched {
		s.c.switches.Add(1)
	}
	putHeader(pb.buf[:], switched, pb.format.PT, seq, ts, s.out.ssrc)
	s.writeRTP(pb.buf[:rtpHeaderLen+n])
	pb.frames.Add(1)
}

// Tone is a sine FrameSource made with a recursive oscillator (two
// multiplies a sample). It stands in for the dsp package's generators.
type Tone struct {
	coef, y1, y2 float64
	amp          float64
	left         int // samples; < 0 plays forever
}

// NewTone plays freq Hz at amplitude (0-1 of full scale) for d (forever
// when d <= 0).
func NewTone(freq float64, sampleRate int, amplitude float64, d time.Duration) *Tone {
	w := 2 * math.Pi * freq / float64(sampleRate)
	t := &Tone{coef: 2 * math.Cos(w), y1: math.Sin(-w), y2: math.Sin(-2 * w), amp: amplitude * 32767, left: -1}
	if d > 0 {
		t.left = int(int64(d) * int64(sampleRate) / int64(time.Second))
	}
	return t
}

// ReadFrame implements FrameSource.
func (t *Tone) ReadFrame(dst []int16) (int, bool) {
	n := len(dst)
	if t.left >= 0 {
		if t.left == 0 {
			return 0, false
		}
		n = min(n, t.left)
		t.left -= n
	}
	for i := range dst[:n] {
		y := t.coef*t.y1 - t.y2
		t.y2, t.y1 = t.y1, y
		dst[i] = int16(y * t.amp)
	}
	return n, true
}
