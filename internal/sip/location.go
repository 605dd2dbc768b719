package sip

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/internal/store"
)

// Location is the registrar's location service: bindings per address of
// record, served from memory and written behind to the store in batches, so
// a burst of REGISTERs costs one transaction per flush, not one per request.
type Location struct {
	st  store.Locations
	log *slog.Logger

	mu    sync.RWMutex
	aors  map[string][]store.Binding
	dirty map[bindingKey]store.Binding
	gone  map[bindingKey]store.Binding
	kick  chan struct{}
	nowFn func() time.Time
}

type bindingKey struct{ aor, contact string }

// NewLocation loads the stored, unexpired bindings.
func NewLocation(ctx context.Context, st store.Locations, log *slog.Logger) (*Location, error) {
	l := &Location{st: st, log: log, aors: map[string][]store.Binding{}, dirty: map[bindingKey]store.Binding{},
		gone: map[bindingKey]store.Binding{}, kick: make(chan struct{}, 1), nowFn: time.Now}
	bs, err := st.Bindings(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		l.aors[b.AOR] = append(l.aors[b.AOR], b)
	}
	return l, nil
}

// Lookup returns the live bindings of aor, highest q first.
func (l *Location) Lookup(aor string) []store.Binding {
	now := l.nowFn()
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []store.Binding
	for _, b := range l.aors[aor] {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, func(a, b store.Binding) int {
		switch {
		case a.Q > b.Q:
			return -1
		case a.Q < b.Q:
			return 1
		}
		return 0
	})
	return out
}

// All returns every live binding.
func (l *Location) All() []store.Binding {
	now := l.nowFn()
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []store.Binding
	for _, bs := range l.aors {
		for _, b := range bs {
			if b.Expires.After(now) {
				out = append(out, b)
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Binding) int {
		if a.AOR != b.AOR {
			if a.AOR < b.AOR {
				return -1
			}
			return 1
		}
		if a.Contact < b.Contact {
			return -1
		}
		return 1
	})
	return out
}

// Count is the number of live bindings.
func (l *Location) Count() int {
	now := l.nowFn()
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := 0
	for _, bs := range l.aors {
		for _, b := range bs {
			if b.Expires.After(now) {
				n++
			}
		}
	}
	return n
}

// Update applies one REGISTER's changes to aor atomically: remove drops
// contacts (nil with all=true drops every one), put adds or refreshes.
// A binding with the same +sip.instance as a new one replaces it (a phone
// that restarted on a new port). When more than max would remain, those
// expiring soonest are dropped. It returns the live bindings after.
func (l *Location) Update(aor string, put []store.Binding, remove []string, all bool, max int) []store.Binding {
	now := l.nowFn()
	l.mu.Lock()
	cur := l.aors[aor]
	keep := cur[:0:0]
	for _, b := range cur {
		drop := all || !b.Expires.After(now) || slices.Contains(remove, b.Contact)
		for _, p := range put {
			if p.Contact == b.Contact || (p.Instance != "" && p.Instance == b.Instance && p.RegID == b.RegID) {
				drop = true
			}
		}
		if drop {
			k := bindingKey{aor, b.Contact}
			delete(l.dirty, k)
			l.gone[k] = b
			continue
		}
		keep = append(keep, b)
	}
	for _, p := range put {
		k := bindingKey{aor, p.Contact}
		delete(l.gone, k)
		l.dirty[k] = p
		keep = append(keep, p)
	}
	if max > 0 && len(keep) > max {
		slices.SortFunc(keep, func(a, b store.Binding) int { return b.Expires.Compare(a.Expires) })
		for _, b := range keep[max:] {
			k := bindingKey{aor, b.Contact}
			delete(l.dirty, k)
			l.gone[k] = b
		}
		keep = keep[:max]
	}
	if len(keep) == 0 {
		delete(l.aors, aor)
	} else {
		l.aors[aor] = keep
	}
	out := slices.Clone(keep)
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	return out
}

// Run writes changes behind until ctx ends, then flushes what is left.
func (l *Location) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Flush(context.Background())
			return
		case <-l.kick:
			// Batch what arrives within a short window into one transaction.
			t := time.NewTimer(50 * time.Millisecond)
			select {
			case <-t.C:
				l.Flush(ctx)
			case <-ctx.Done():
				t.Stop()
				l.Flush(context.Background())
				return
			}
		case <-tick.C:
			l.expire()
			l.Flush(ctx)
		}
	}
}

// expire drops expired bindings from memory (the store drops its own on flush).
func (l *Location) expire() {
	now := l.nowFn()
	l.mu.Lock()
	defer l.mu.Unlock()
	for aor, bs := range l.aors {
		keep := bs[:0]
		for _, b := range bs {
			if b.Expires.After(now) {
				keep = append(keep, b)
			}
		}
		if len(keep) == 0 {
			delete(l.aors, aor)
		} else {
			l.aors[aor] = keep
		}
	}
}

// Flush writes pending changes to the store.
func (l *Location) Flush(ctx context.Context) {
	l.mu.Lock()
	if len(l.dirty) == 0 && len(l.gone) == 0 {
		l.mu.Unlock()
		return
	}
	put := make([]store.Binding, 0, len(l.dirty))
	for _, b := range l.dirty {
		put = append(put, b)
	}
	del := make([]store.Binding, 0, len(l.gone))
	for _, b := range l.gone {
		del = append(del, b)
	}
	l.dirty = map[bindingKey]store.Binding{}
	l.gone = map[bindingKey]store.Binding{}
	l.mu.Unlock()
	if err := l.st.SaveBindings(ctx, put, del); err != nil {
		l.log.Error("saving registrations failed; will retry", "error", err)
		l.mu.Lock()
		for _, b := range put {
			k := bindingKey{b.AOR, b.Contact}
			if _, newer := l.dirty[k]; !newer {
				l.dirty[k] = b
			}
		}
		for _, b := range del {
			k := bindingKey{b.AOR, b.Contact}
			if _, newer := l.dirty[k]; !newer {
				l.gone[k] = b
			}
		}
		l.mu.Unlock()
	}
}
