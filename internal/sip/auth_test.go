package sip

import (
	"net/netip"
	"testing"
	"time"
)

func TestNonces(t *testing.T) {
	n := newNonces(time.Minute)
	now := time.Now()
	nonce := n.issue("pbx.test", now)

	if st, _ := n.check(nonce, "other.test", now); st != nonceInvalid {
		t.Fatalf("a nonce for another realm must be invalid, got %v", st)
	}
	if st, _ := n.check(nonce[:len(nonce)-2]+"AA", "pbx.test", now); st != nonceInvalid {
		t.Fatalf("a tampered nonce must be invalid, got %v", st)
	}
	if st, _ := n.check(nonce, "pbx.test", now.Add(2*time.Minute)); st != nonceStale {
		t.Fatalf("an old nonce must be stale, got %v", st)
	}
	st, id := n.check(nonce, "pbx.test", now)
	if st != nonceOK {
		t.Fatalf("fresh nonce: %v", st)
	}
	steps := []struct {
		nc   uint32
		want bool
	}{{1, true}, {1, false}, {2, true}, {5, true}, {3, false}}
	for _, s := range steps {
		if got := n.use(id, s.nc); got != s.want {
			t.Fatalf("use nc=%d: %v, want %v", s.nc, got, s.want)
		}
	}
	// A newer nonce that lands in the same slot retires this one.
	n.slots[id%nonceRing].Store(uint64(id+nonceRing) << 32)
	if n.use(id, 9) {
		t.Fatal("a nonce whose slot was reused must be refused")
	}
}

func TestGuard(t *testing.T) {
	g := newGuard(3, time.Minute, 10*time.Minute)
	ip := netip.MustParseAddr("192.0.2.7")
	now := time.Now()
	for i := range 2 {
		if g.fail(ip, now.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("blocked after %d failures", i+1)
		}
	}
	// Failures spread beyond the window do not add up.
	if g.fail(ip, now.Add(2*time.Minute)) || g.blocked(ip, now.Add(2*time.Minute)) {
		t.Fatal("failures outside the window should start a new count")
	}
	g.fail(ip, now.Add(2*time.Minute+time.Second))
	if !g.fail(ip, now.Add(2*time.Minute+2*time.Second)) {
		t.Fatal("three failures within the window should block")
	}
	if !g.blocked(ip, now.Add(5*time.Minute)) {
		t.Fatal("should still be blocked")
	}
	if g.blocked(ip, now.Add(13*time.Minute)) {
		t.Fatal("block should have expired")
	}
	if g.blocked(netip.MustParseAddr("192.0.2.8"), now) {
		t.Fatal("another address is not blocked")
	}
}
