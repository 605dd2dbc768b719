package media

import (
	"fmt"
	"sync"
)

// PortAllocator hands out RTP ports from a range: even ports, each with the
// next odd port kept for RTCP. Allocate and Release are O(1). Freed pairs
// go to the back of a FIFO, so a port is reused as late as possible and
// stray packets of an ended call do not reach the next one; a pair is
// released only after its sockets are closed.
type PortAllocator struct {
	mu    sync.Mutex
	first uint16 // first even port
	queue []uint16
	head  int
	free  int
	used  []bool
}

// NewPortAllocator covers the ports lo..hi inclusive (config rtp.ports).
func NewPortAllocator(lo, hi int) (*PortAllocator, error) {
	if lo < 1 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("media: port range %d-%d: want 1 <= lo <= hi <= 65535", lo, hi)
	}
	first := lo + lo%2
	pairs := 0
	if hi > first {
		pairs = (hi - first + 1) / 2
	}
	if pairs == 0 {
		return nil, fmt.Errorf("media: port range %d-%d holds no even RTP port with its RTCP port", lo, hi)
	}
	a := &PortAllocator{first: uint16(first), queue: make([]uint16, pairs), free: pairs, used: make([]bool, pairs)}
	for i := range a.queue {
		a.queue[i] = uint16(i)
	}
	return a, nil
}

// Allocate returns a free even RTP port; port+1 is reserved for its RTCP.
func (a *PortAllocator) Allocate() (uint16, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.free == 0 {
		return 0, fmt.Errorf("%w: all %d port pairs from %d in use", ErrPortsExhausted, len(a.queue), a.first)
	}
	i := a.queue[a.head]
	a.head = (a.head + 1) % len(a.queue)
	a.free--
	a.used[i] = true
	return a.first + 2*i, nil
}

// Release returns an allocated port. Releasing a port twice, or one the
// allocator never gave out, does nothing.
func (a *PortAllocator) Release(port uint16) {
	if port < a.first || (port-a.first)%2 != 0 {
		return
	}
	i := (port - a.first) / 2
	a.mu.Lock()
	defer a.mu.Unlock()
	if int(i) >= len(a.used) || !a.used[i] {
		return
	}
	a.used[i] = false
	a.queue[(a.head+a.free)%len(a.queue)] = i
	a.free++
}

// Available is the number of free pairs.
func (a *PortAllocator) Available() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.free
}

// Size is the number of pairs in the range.
func (a *PortAllocator) Size() int { return len(a.queue) }
