package cdr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

type memStore struct {
	Store
	mu   sync.Mutex
	recs map[string]Record
}

func (m *memStore) PutBatch(_ context.Context, recs []Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		m.recs[r.ID] = r
	}
	return nil
}

// TestWriterCloseRace closes the writer while writes are under way: each
// Write returns nil (and its record is stored) or ErrClosed, and none hangs.
func TestWriterCloseRace(t *testing.T) {
	for round := range 20 {
		m := &memStore{recs: map[string]Record{}}
		w := NewWriter(m, WriterOptions{MaxBatch: 4})
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := map[string]bool{}
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					id := fmt.Sprintf("%d-%d-%d", round, g, i)
					err := w.Write(context.Background(), Record{ID: id, Domain: "d", Direction: Internal, Outcome: Answered, Ended: time.Unix(1, 0)})
					switch {
					case err == nil:
						mu.Lock()
						ok[id] = true
						mu.Unlock()
					case !errors.Is(err, ErrClosed):
						t.Error(err)
					}
				}
			}()
		}
		time.Sleep(time.Duration(round) * 100 * time.Microsecond)
		w.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a Write hangs after Close")
		}
		for id := range ok {
			if _, stored := m.recs[id]; !stored {
				t.Fatalf("%s acknowledged but not stored", id)
			}
		}
	}
}
