package media

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
)

// BenchmarkMemoryPerCall reports what one anchored call (two sessions
// with their sockets, goroutines and a relay) holds in Go memory: heap
// plus goroutine stacks, measured over 500 live calls.
func BenchmarkMemoryPerCall(b *testing.B) {
	const calls = 500
	for b.Loop() {
		e := newEngine(b, func(c *EngineConfig) { c.PortMin, c.PortMax = 30000, 32999 })
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var all []*Session
		for i := range calls {
			a, err := e.NewSession(SessionOptions{Name: "a"})
			if err != nil {
				b.Fatal(err)
			}
			bb, err := e.NewSession(SessionOptions{Name: "b"})
			if err != nil {
				b.Fatal(err)
			}
			a.SetRemote(muxParams(netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", 40000+i)), fmtTE101, fmtPCMU))
			bb.SetRemote(muxParams(netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", 41000+i)), fmtTE101, fmtPCMU))
			if _, err := Relay(a, bb); err != nil {
				b.Fatal(err)
			}
			all = append(all, a, bb)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapInuse-before.HeapInuse) / calls
		stack := float64(after.StackInuse-before.StackInuse) / calls
		b.ReportMetric(heap/1024, "heapKiB/call")
		b.ReportMetric(stack/1024, "stackKiB/call")
		b.ReportMetric((heap+stack)/1024, "KiB/call")
		for _, s := range all {
			s.Close()
		}
		e.Close()
	}
}
