package media

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestClockTicksOnAbsoluteDeadlines(t *testing.T) {
	goroutineLeakCheck(t)
	c := NewClock(context.Background(), 5*time.Millisecond, 2)
	defer c.Close()
	deadlines := make(chan time.Time, 16)
	c.Add(TickFunc(func(d time.Time) bool {
		deadlines <- d
		return len(deadlines) < 10 // removes itself after a few ticks
	}))
	var prev time.Time
	for i := range 10 {
		d := <-deadlines
		if i > 0 {
			if gap := d.Sub(prev); gap%(5*time.Millisecond) != 0 || gap <= 0 {
				t.Fatalf("deadline step %v is not a multiple of the period", gap)
			}
		}
		prev = d
	}
	waitFor(t, "self-removal", func() bool { return c.Stats().Entries == 0 })
}

func TestClockStopAndLateTicks(t *testing.T) {
	c := NewClock(context.Background(), 2*time.Millisecond, 1)
	defer c.Close()
	var n atomic.Int64
	e := c.Add(TickFunc(func(time.Time) bool { n.Add(1); return true }))
	slow := make(chan struct{})
	var once atomic.Bool
	c.Add(TickFunc(func(time.Time) bool {
		if !once.Swap(true) {
			time.Sleep(10 * time.Millisecond) // make this tick overrun on purpose
			close(slow)
		}
		return true
	}))
	<-slow
	waitFor(t, "a late tick", func() bool { return c.Stats().Late > 0 && c.Stats().Skipped > 0 })
	e.Stop()
	e.Stop()
	stopped := n.Load()
	waitFor(t, "more ticks", func() bool { return c.Stats().Ticks > uint64(stopped)+3 })
	if got := n.Load(); got > stopped+1 {
		t.Fatalf("stopped entry ticked %d more times", got-stopped)
	}
	if st := c.Stats(); st.Entries != 1 || st.Shards != 1 || st.MaxBusy < 10*time.Millisecond {
		t.Fatalf("stats %+v", st)
	}
}

// Example: one clock paces many streams.
func ExampleClock() {
	c := NewClock(context.Background(), DefaultClockPeriod, 1)
	defer c.Close()
	done := make(chan struct{})
	frames := 0
	c.Add(TickFunc(func(time.Time) bool {
		frames++
		if frames == 3 {
			close(done)
			return false
		}
		return true
	}))
	<-done
	fmt.Println("frames:", frames)
	// Output: frames: 3
}

// Entries are spread over the phases of a period: each is still ticked
// once a period, but only a quarter of them at a time.
func TestClockSpreadsEntriesOverThePeriod(t *testing.T) {
	c := NewClock(context.Background(), 20*time.Millisecond, 1)
	defer c.Close()
	const n = 8
	var mu sync.Mutex
	seen := map[int][]time.Time{}
	for i := range n {
		c.Add(TickFunc(func(deadline time.Time) bool {
			mu.Lock()
			defer mu.Unlock()
			seen[i] = append(seen[i], deadline)
			return len(seen[i]) < 3
		}))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := 0
		for _, d := range seen {
			if len(d) >= 3 {
				done++
			}
		}
		mu.Unlock()
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticks: %v", seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	phases := map[time.Duration]int{}
	first := seen[0][0]
	for i, d := range seen {
		// Every entry's own deadlines are whole periods apart (more than one
		// only when a loaded machine made the clock skip).
		if g1, g2 := d[1].Sub(d[0]), d[2].Sub(d[1]); g1 <= 0 || g2 <= 0 || g1%(20*time.Millisecond) != 0 || g2%(20*time.Millisecond) != 0 {
			t.Fatalf("entry %d deadlines %v", i, d)
		}
		off := (d[0].Sub(first)%(20*time.Millisecond) + 20*time.Millisecond) % (20 * time.Millisecond)
		phases[off]++
	}
	if len(phases) != clockPhases {
		t.Fatalf("entries fell in %d phases (%v), want %d", len(phases), phases, clockPhases)
	}
}
