package media

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// ErrPlayerClosed is returned by Enqueue on a closed player.
var ErrPlayerClosed = errors.New("media: player closed")

// AnyDigit interrupts an item on every key.
const AnyDigit = "0123456789*#ABCD"

// Item is one thing a Player plays: a prompt (decoded, a WAV file, or a
// WAV held in memory), or else a tone (a Tone with no frequency is
// silence).
type Item struct {
	Prompt *Prompt
	// File is a WAV file, decoded through the player's cache when queued.
	File string
	// WAV is a WAV file in memory (an embedded prompt), labelled Name.
	WAV  []byte
	Name string

	Tone dsp.Tone
	// Max cuts the item short after this much audio; a tone without Max
	// plays until stopped.
	Max time.Duration
	// Loop plays a prompt this many more times; < 0 repeats it until it
	// is stopped or reaches Max.
	Loop int
	// StopDigits are the received digits that interrupt the item.
	StopDigits string
}

// PlayEnd says why an item ended.
type PlayEnd uint8

// Ways an item ends.
const (
	EndDone        PlayEnd = iota // played to the end
	EndTruncated                  // reached Max
	EndInterrupted                // a digit in StopDigits arrived
	EndStopped                    // Skip, Stop or Close
)

func (e PlayEnd) String() string {
	switch e {
	case EndDone:
		return "done"
	case EndTruncated:
		return "truncated"
	case EndInterrupted:
		return "interrupted"
	}
	return "stopped"
}

// PlayEvent reports the end of an item.
type PlayEvent struct {
	ID     uint64
	End    PlayEnd
	Digit  byte          // the interrupting digit with EndInterrupted
	Played time.Duration // audio played of the item, loops included
}

// PlayerOptions tune a Player.
type PlayerOptions struct {
	// KeepOpen plays silence when the queue is empty instead of ending the
	// stream, so items can be queued later (until Close).
	KeepOpen bool
	// Events is the buffer of the Events channel (16 when 0). Events that
	// find it full are dropped rather than stall the media clock.
	Events int
}

// Player is a FrameSource that plays a queue of items at one sample rate.
// ReadFrame runs on the media clock and allocates nothing; Enqueue, Skip,
// Stop, Interrupt and Position may be called from any goroutine.
type Player struct {
	rate   int
	cache  *PromptCache
	opts   PlayerOptions
	events chan PlayEvent
	pos    atomic.Int64 // samples played of the current item

	mu     sync.Mutex
	queue  []*playing
	cur    *playing
	nextID uint64
	closed bool
}

// playing is an item with its playing state.
type playing struct {
	Item
	id     uint64
	gen    *dsp.ToneGenerator
	off    int // next prompt sample
	left   int // samples left under Max; < 0 without one
	loops  int
	played int
	stop   bool
	digit  byte // set by Interrupt
}

// NewPlayer returns a player producing PCM at rate Hz; cache (may be nil)
// serves EnqueueFile.
func NewPlayer(rate int, cache *PromptCache, opts PlayerOptions) (*Player, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("media: player at %d Hz: invalid rate", rate)
	}
	n := opts.Events
	if n <= 0 {
		n = 16
	}
	return &Player{rate: rate, cache: cache, opts: opts, events: make(chan PlayEvent, n)}, nil
}

// Rate is the PCM rate the player produces.
func (p *Player) Rate() int { return p.rate }

// Events delivers one PlayEvent per item that ends.
func (p *Player) Events() <-chan PlayEvent { return p.events }

// Enqueue adds an item to the end of the queue and returns its id.
func (p *Player) Enqueue(it Item) (uint64, error) {
	cache := p.cache
	if cache == nil && (it.File != "" || it.WAV != nil) {
		cache = NewPromptCache(0, wav.Limits{})
	}
	var err error
	switch {
	case it.Prompt != nil:
	case it.File != "":
		it.Prompt, err = cache.Load(it.File, p.rate)
	case it.WAV != nil:
		it.Prompt, err = cache.LoadBytes(it.Name, it.WAV, p.rate)
	}
	if err != nil {
		return 0, err
	}
	pl := &playing{Item: it, left: -1, loops: it.Loop}
	switch {
	case it.Prompt != nil:
		if it.Prompt.Rate != p.rate {
			return 0, fmt.Errorf("media: prompt %s at %d Hz on a %d Hz player", it.Prompt.Name, it.Prompt.Rate, p.rate)
		}
	default:
		g, err := dsp.NewToneGenerator(it.Tone, p.rate)
		if err != nil {
			return 0, fmt.Errorf("media: enqueue: %w", err)
		}
		pl.gen = g
	}
	if it.Max > 0 {
		pl.left = int(int64(it.Max) * int64(p.rate) / int64(time.Second))
	}
	pl.StopDigits = strings.ToUpper(it.StopDigits)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrPlayerClosed
	}
	p.nextID++
	pl.id = p.nextID
	p.queue = append(p.queue, pl)
	return pl.id, nil
}

// EnqueueFile loads a WAV file through the cache (decoding it now, so a
// bad file is reported here) and queues it with the settings of it.
func (p *Player) EnqueueFile(path string, it Item) (uint64, error) {
	it.Prompt, it.File = nil, path
	return p.Enqueue(it)
}

// Interrupt passes a received digit: if the current item stops on it, the
// item ends (its PlayEvent carries the digit) and Interrupt reports true.
func (p *Player) Interrupt(digit byte) bool {
	d := toUpper(digit)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil || p.cur.digit != 0 || strings.IndexByte(p.cur.StopDigits, d) < 0 {
		return false
	}
	p.cur.digit = d
	return true
}

// Skip ends the current item; the next one starts.
func (p *Player) Skip() {
	p.mu.Lock()
	if p.cur != nil {
		p.cur.stop = true
	}
	p.mu.Unlock()
}

// Stop ends the current item and empties the queue.
func (p *Player) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

func (p *Player) stopLocked() {
	if p.cur != nil {
		p.cur.stop = true
	}
	for _, q := range p.queue {
		p.emit(PlayEvent{ID: q.id, End: EndStopped})
	}
	clear(p.queue)
	p.queue = p.queue[:0]
}

// Close stops everything and ends the stream; Enqueue fails afterwards.
func (p *Player) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.stopLocked()
}

// Position is how much of the current item has played (0 when idle).
func (p *Player) Position() time.Duration {
	return time.Duration(p.pos.Load() * int64(time.Second) / int64(p.rate))
}

// Pending is the number of items queued or playing.
func (p *Player) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.queue)
	if p.cur != nil {
		n++
	}
	return n
}

func (p *Player) emit(ev PlayEvent) {
	select {
	case p.events <- ev:
	default:
	}
}

func (p *Player) finishLocked(end PlayEnd) {
	c := p.cur
	p.emit(PlayEvent{ID: c.id, End: end, Digit: c.digit,
		Played: time.Duration(int64(c.played) * int64(time.Second) / int64(p.rate))})
	p.cur = nil
	p.pos.Store(0)
}

// ReadFrame implements FrameSource: items follow each other within a
// frame, so there is no gap between them.
func (p *Player) ReadFrame(dst []int16) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for n < len(dst) {
		if p.cur == nil {
			if len(p.queue) == 0 {
				break
			}
			p.cur = p.queue[0]
			p.queue[0] = nil
			p.queue = p.queue[1:]
		}
		c := p.cur
		switch {
		case c.digit != 0:
			p.finishLocked(EndInterrupted)
			continue
		case c.stop:
			p.finishLocked(EndStopped)
			continue
		case c.left == 0:
			p.finishLocked(EndTruncated)
			continue
		}
		want := len(dst) - n
		if c.left > 0 {
			want = min(want, c.left)
		}
		var k int
		if c.Prompt != nil {
			s := c.Prompt.Samples
			if c.off >= len(s) {
				if c.loops != 0 && len(s) > 0 {
					if c.loops > 0 {
						c.loops--
					}
					c.off = 0
					continue
				}
				p.finishLocked(EndDone)
				continue
			}
			k = copy(dst[n:n+want], s[c.off:])
			c.off += k
		} else {
			c.gen.Generate(dst[n : n+want])
			k = want
		}
		n += k
		c.played += k
		if c.left > 0 {
			c.left -= k
		}
		p.pos.Store(int64(c.played))
	}
	if n == 0 && (p.closed || !p.opts.KeepOpen) {
		return 0, false
	}
	clear(dst[n:])
	return len(dst), true
}

// StartPlayer plays a new Player on the session in its first negotiated
// codec, with items queued first; it replaces any running playback. The
// player ends the playback when its queue runs out, unless KeepOpen.
func (s *Session) StartPlayer(cache *PromptCache, opts PlayerOptions, items ...Item) (*Player, *Playback, error) {
	p := s.params.Load()
	if p == nil {
		return nil, nil, ErrNoRemote
	}
	enc, rate, err := EncoderFor(p.Codecs[0].Codec)
	if err != nil {
		return nil, nil, fmt.Errorf("media: player on %s: %w", s.name, err)
	}
	pl, err := NewPlayer(rate, cache, opts)
	if err != nil {
		return nil, nil, err
	}
	for _, it := range items {
		if _, err := pl.Enqueue(it); err != nil {
			return nil, nil, err
		}
	}
	pb, err := s.Play(pl, enc, rate)
	if err != nil {
		return nil, nil, err
	}
	return pl, pb, nil
}
