package cdr

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Subscription receives an event (the record) for every record written.
type Subscription struct {
	C       <-chan Record
	c       chan Record
	dropped atomic.Int64
	bus     *Bus
}

// Dropped is how many events this subscriber missed because its channel was full.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }

// Close stops delivery and closes C.
func (s *Subscription) Close() { s.bus.remove(s) }

// Bus delivers in-process events. Publishing never blocks: a subscriber
// whose buffer is full misses the event (counted by Dropped), so a slow
// subscriber cannot hold up call ends.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscribe returns a subscription with a buffer of n events (64 when n ≤ 0).
func (b *Bus) Subscribe(n int) *Subscription {
	if n <= 0 {
		n = 64
	}
	c := make(chan Record, n)
	s := &Subscription{C: c, c: c, bus: b}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[*Subscription]struct{}{}
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (b *Bus) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// Publish offers r to every subscriber without waiting.
func (b *Bus) Publish(r Record) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.c <- r:
		default:
			s.dropped.Add(1)
		}
	}
}

// WriterOptions bound a batch.
type WriterOptions struct {
	// MaxBatch is the most records in one transaction (2,048 when 0): under
	// a burst of call ends, bigger batches cost less per record (the
	// embedded engine took 48,000 records/s in batches of 1,000 and 55,000
	// in batches of 2,000), and a batch only grows that large while the
	// previous one commits.
	MaxBatch int
	// MaxDelay is how long a batch waits for more records after the first
	// (0: none; records that arrive while a batch commits form the next
	// batch anyway, which is what groups them under load).
	MaxDelay time.Duration
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("cdr writer closed")

type writeReq struct {
	rec  Record
	done chan error
}

// Writer groups records from many goroutines into batched transactions
// (group commit): Write returns only after the record's transaction has
// committed, and then publishes the record on Events.
type Writer struct {
	store  Store
	opts   WriterOptions
	in     chan writeReq
	quit   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	mu     sync.RWMutex // held for reading while a request is sent; Close takes it to stop sends
	closed bool
	// Events carries every record written.
	Events Bus
}

// NewWriter starts a writer over s.
func NewWriter(s Store, opts WriterOptions) *Writer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 2048
	}
	w := &Writer{store: s, opts: opts, in: make(chan writeReq, opts.MaxBatch), quit: make(chan struct{})}
	w.wg.Add(1)
	go w.loop()
	return w
}

// Write validates r, fills its durations and returns once it is durable.
// If ctx ends first Write returns ctx's error, but the record may still be
// written.
func (w *Writer) Write(ctx context.Context, r Record) error {
	r.FillDurations()
	if err := r.Validate(); err != nil {
		return err
	}
	req := writeReq{rec: r, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	// The loop runs until Close, which waits for this send to finish, so
	// the request is either taken by the loop or drained by it at Close.
	select {
	case w.in <- req:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer. It does not close the store.
func (w *Writer) Close() error {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.quit)
	})
	w.wg.Wait()
	return nil
}

func (w *Writer) loop() {
	defer w.wg.Done()
	batch := make([]writeReq, 0, w.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-w.in:
			batch = append(batch, r)
		case <-w.quit:
			// Drain what got in before Close, then stop.
			for {
				select {
				case r := <-w.in:
					batch = append(batch, r)
					if len(batch) == w.opts.MaxBatch {
						w.commit(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						w.commit(batch)
					}
					return
				}
			}
		}
		var timer <-chan time.Time
		if w.opts.MaxDelay > 0 {
			timer = time.After(w.opts.MaxDelay)
		}
	fill:
		for len(batch) < w.opts.MaxBatch {
			if timer == nil {
				select {
				case r := <-w.in:
					batch = append(batch, r)
				default:
					break fill
				}
				continue
			}
			select {
			case r := <-w.in:
				batch = append(batch, r)
			case <-timer:
				break fill
			case <-w.quit:
				break fill
			}
		}
		w.commit(batch)
	}
}

// commit writes a batch; if the batch fails, each record is retried alone so
// that one bad record (a duplicate id) does not fail the others.
func (w *Writer) commit(batch []writeReq) {
	recs := make([]Record, len(batch))
	for i, r := range batch {
		recs[i] = r.rec
	}
	ctx := context.Background()
	err := w.store.PutBatch(ctx, recs)
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			if err == nil {
				w.Events.Publish(r.rec)
			}
			r.done <- err
		}
		return
	}
	for i, r := range batch {
		err := w.store.PutBatch(ctx, recs[i:i+1])
		if err == nil {
			w.Events.Publish(r.rec)
		}
		r.done <- err
	}
}
