package media

import (
	"errors"
	"testing"
)

func TestPortAllocatorRange(t *testing.T) {
	tests := []struct {
		lo, hi int
		pairs  int
		first  uint16
		bad    bool
	}{
		{10000, 10003, 2, 10000, false},
		{10001, 10004, 1, 10002, false},
		{10001, 10005, 2, 10002, false},
		{10000, 10000, 0, 0, true},
		{10001, 10002, 0, 0, true},
		{0, 10, 0, 0, true},
		{20, 10, 0, 0, true},
		{65534, 65535, 1, 65534, false},
	}
	for _, tt := range tests {
		a, err := NewPortAllocator(tt.lo, tt.hi)
		if tt.bad {
			if err == nil {
				t.Errorf("%d-%d: no error", tt.lo, tt.hi)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d-%d: %v", tt.lo, tt.hi, err)
		}
		if a.Size() != tt.pairs {
			t.Errorf("%d-%d: %d pairs, want %d", tt.lo, tt.hi, a.Size(), tt.pairs)
		}
		if p, _ := a.Allocate(); p != tt.first {
			t.Errorf("%d-%d: first port %d, want %d", tt.lo, tt.hi, p, tt.first)
		}
	}
}

func TestPortAllocatorExhaustAndReuseOrder(t *testing.T) {
	a, err := NewPortAllocator(30000, 30009)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint16
	for range 5 {
		p, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if p%2 != 0 {
			t.Fatalf("odd RTP port %d", p)
		}
		got = append(got, p)
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrPortsExhausted) {
		t.Fatalf("err = %v, want ErrPortsExhausted", err)
	}
	a.Release(got[2])
	a.Release(got[2]) // double release is ignored
	a.Release(30001)  // odd: not ours
	a.Release(40000)  // outside
	a.Release(got[0])
	if a.Available() != 2 {
		t.Fatalf("available = %d, want 2", a.Available())
	}
	// FIFO: the first released comes back first.
	if p, _ := a.Allocate(); p != got[2] {
		t.Fatalf("got %d, want %d", p, got[2])
	}
	if p, _ := a.Allocate(); p != got[0] {
		t.Fatalf("got %d, want %d", p, got[0])
	}
}

func BenchmarkPortAllocator(b *testing.B) {
	a, _ := NewPortAllocator(10000, 20000)
	b.ReportAllocs()
	for b.Loop() {
		p, _ := a.Allocate()
		a.Release(p)
	}
}
