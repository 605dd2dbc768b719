package media

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultClockPeriod is the media clock's tick: one 20 ms audio frame.
const DefaultClockPeriod = 20 * time.Millisecond

// Tickable is paced by a Clock. Tick runs on a clock goroutine once per
// period with that tick's deadline; it must not block, since every other
// stream on the shard waits for it. Returning false removes it.
type Tickable interface {
	Tick(deadline time.Time) bool
}

// TickFunc adapts a function to Tickable.
type TickFunc func(deadline time.Time) bool

// Tick calls f.
func (f TickFunc) Tick(deadline time.Time) bool { return f(deadline) }

// Clock paces many streams from a few goroutines: each shard ticks on
// absolute deadlines (start + k·period, so it does not drift) and calls
// its Tickables in turn. Thousands of playbacks therefore cost a handful
// of timers, not one ticker and goroutine each.
//
// Each entry keeps its own phase within the period: a shard wakes
// clockPhases times a period and calls the entries of one phase each
// time. Calling all of them at once would send every stream's packet in
// one burst, and the last packets of a burst of a few thousand would
// leave milliseconds late every time.
type Clock struct {
	period time.Duration
	shards []*clockShard
	next   atomic.Uint32
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// clockPhases is how many phases a period has.
const clockPhases = 4

type clockShard struct {
	period  time.Duration
	mu      sync.Mutex
	entries [clockPhases][]*ClockEntry
	added   int // entries ever added, for the next phase
	scratch []*ClockEntry
	ticks   atomic.Uint64
	late    atomic.Uint64
	skipped atomic.Uint64
	maxBusy atomic.Int64 // longest tick, ns
}

// ClockEntry is one Tickable's registration.
type ClockEntry struct {
	t       Tickable
	shard   *clockShard
	phase   int
	idx     int
	stopped atomic.Bool
}

// NewClock starts shards goroutines (GOMAXPROCS when shards < 1) ticking
// every period until ctx ends or Close is called.
func NewClock(ctx context.Context, period time.Duration, shards int) *Clock {
	if period <= 0 {
		period = DefaultClockPeriod
	}
	if shards < 1 {
		shards = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Clock{period: period, cancel: cancel}
	start := time.Now()
	for range shards {
		s := &clockShard{period: period}
		c.shards = append(c.shards, s)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			s.run(ctx, start)
		}()
	}
	return c
}

// Period is the tick interval.
func (c *Clock) Period() time.Duration { return c.period }

// Add registers t on the next shard in turn.
func (c *Clock) Add(t Tickable) *ClockEntry {
	s := c.shards[int(c.next.Add(1))%len(c.shards)]
	e := &ClockEntry{t: t, shard: s}
	s.mu.Lock()
	e.phase = s.added % clockPhases
	s.added++
	e.idx = len(s.entries[e.phase])
	s.entries[e.phase] = append(s.entries[e.phase], e)
	s.mu.Unlock()
	return e
}

// Stop unregisters the entry. A tick already running may still call it
// once; Tickables guard against that themselves.
func (e *ClockEntry) Stop() {
	if e.stopped.Swap(true) {
		return
	}
	s := e.shard
	s.mu.Lock()
	list := s.entries[e.phase]
	last := len(list) - 1
	if e.idx <= last && list[e.idx] == e {
		list[e.idx] = list[last]
		list[e.idx].idx = e.idx
		list[last] = nil
		s.entries[e.phase] = list[:last]
	}
	s.mu.Unlock()
}

// Close stops all shards and waits for them.
func (c *Clock) Close() {
	c.cancel()
	c.wg.Wait()
}

// ClockStats are the clock's counters.
type ClockStats struct {
	Shards  int    `json:"shards"`
	Entries int    `json:"entries"`
	Ticks   uint64 `json:"ticks"`
	// Late counts ticks that began more than a quarter period after their
	// deadline; Skipped counts deadlines missed entirely.
	Late    uint64        `json:"late"`
	Skipped uint64        `json:"skipped"`
	MaxBusy time.Duration `json:"maxBusy"`
}

// Stats sums the shards' counters.
func (c *Clock) Stats() ClockStats {
	st := ClockStats{Shards: len(c.shards)}
	for _, s := range c.shards {
		s.mu.Lock()
		for _, l := range s.entries {
			st.Entries += len(l)
		}
		s.mu.Unlock()
		st.Ticks += s.ticks.Load()
		st.Late += s.late.Load()
		st.Skipped += s.skipped.Load()
		st.MaxBusy = max(st.MaxBusy, time.Duration(s.maxBusy.Load()))
	}
	return st
}

func (s *clockShard) run(ctx context.Context, start time.Time) {
	step := s.period / clockPhases
	timer := time.NewTimer(step)
	defer timer.Stop()
	for k := int64(clockPhases); ; k++ {
		deadline := start.Add(time.Duration(k) * step)
		timer.Reset(time.Until(deadline))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		if behind := now.Sub(deadline); behind > s.period/4 {
			s.late.Add(1)
			if missed := int64(behind / s.period); missed > 0 {
				// Do not burst to catch up: skip whole periods, so each
				// phase keeps its place.
				s.skipped.Add(uint64(missed))
				k += missed * clockPhases
				deadline = start.Add(time.Duration(k) * step)
			}
		}
		s.tick(int(k%clockPhases), deadline)
		if busy := time.Since(now); int64(busy) > s.maxBusy.Load() {
			s.maxBusy.Store(int64(busy))
		}
	}
}

// tick calls every entry once. It copies the list so that Tickables may
// add or stop entries, including their own, while being called.
func (s *clockShard) tick(phase int, deadline time.Time) {
	if phase == 0 {
		s.ticks.Add(1)
	}
	s.mu.Lock()
	s.scratch = append(s.scratch[:0], s.entries[phase]...)
	s.mu.Unlock()
	for _, e := range s.scratch {
		if e.stopped.Load() {
			continue
		}
		if !e.t.Tick(deadline) {
			e.Stop()
		}
	}
	clear(s.scratch)
}
