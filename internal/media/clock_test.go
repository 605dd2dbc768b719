package media

import (
	"context"
	"fmt"
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
