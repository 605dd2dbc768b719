package cdr

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

type touchStore struct {
	mu      sync.Mutex
	touches []time.Time
	flushed int
	touched chan struct{}
}

func (s *touchStore) PutOpen(context.Context, []Record, []string) error {
	s.mu.Lock()
	s.flushed++
	s.mu.Unlock()
	return nil
}
func (s *touchStore) OpenCalls(context.Context) ([]Record, error) { return nil, nil }
func (s *touchStore) Touch(_ context.Context, at time.Time) error {
	s.mu.Lock()
	s.touches = append(s.touches, at)
	s.mu.Unlock()
	select {
	case s.touched <- struct{}{}:
	default:
	}
	return nil
}

// Run marks the open calls alive every TouchEvery, after writing what is
// pending, so that a crash loses at most that much of a call's duration.
func TestJournalTouches(t *testing.T) {
	st := &touchStore{touched: make(chan struct{}, 1)}
	j := NewJournal(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	j.FlushEvery, j.TouchEvery = time.Hour, 5*time.Millisecond
	j.Opened(Record{ID: "a"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { j.Run(ctx); close(done) }()
	select {
	case <-st.touched:
	case <-time.After(10 * time.Second):
		t.Fatal("no touch")
	}
	cancel()
	<-done
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.flushed == 0 {
		t.Error("the pending open call was not written before the touch")
	}
	if len(st.touches) == 0 || time.Since(st.touches[0]) > time.Minute {
		t.Errorf("touches %v", st.touches)
	}
}
