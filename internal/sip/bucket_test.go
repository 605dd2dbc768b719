package sip

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	b := newBucket(10, 5)
	now := time.Unix(1000, 0)
	took := 0
	for range 8 {
		if b.take(now) {
			took++
		}
	}
	if took != 5 {
		t.Fatalf("burst: took %d, want 5", took)
	}
	if b.take(now.Add(50 * time.Millisecond)) {
		t.Fatal("half a token should not be enough")
	}
	if !b.take(now.Add(150 * time.Millisecond)) {
		t.Fatal("a token should have accrued after 100ms at 10/s")
	}
	// A long pause refills only up to the burst.
	later := now.Add(time.Hour)
	took = 0
	for range 10 {
		if b.take(later) {
			took++
		}
	}
	if took != 5 {
		t.Fatalf("after a pause: took %d, want the burst of 5", took)
	}
}
