package media

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// benchPair is a relayed call whose sockets are in memory and discard
// what they send, so the numbers are Ringo's own cost per packet.
func benchPair(b *testing.B) (a *Session, from netip.AddrPort) {
	n := newMemNet()
	n.quiet = true
	e := newEngine(b, func(c *EngineConfig) { c.Listen = n.listen })
	a, bb := newSession(b, e, "a"), newSession(b, e, "b")
	from = netip.MustParseAddrPort("10.0.0.1:4000")
	a.SetRemote(muxParams(from, fmtTE101, fmtPCMU))
	bb.SetRemote(muxParams(netip.MustParseAddrPort("10.0.0.2:4000"), fmtTE101, fmtPCMU))
	if _, err := Relay(a, bb); err != nil {
		b.Fatal(err)
	}
	return a, from
}

// One G.711 packet in on leg a, renumbered and out on leg b.
func BenchmarkRelayPacket(b *testing.B) {
	a, from := benchPair(b)
	tmpl := rtpBytes(0, false, 0, 0, 0x1234, make([]byte, 160))
	buf := make([]byte, len(tmpl))
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		copy(buf, tmpl)
		binary.BigEndian.PutUint16(buf[2:], uint16(i))
		binary.BigEndian.PutUint32(buf[4:], uint32(i)*160)
		a.receive(buf, from, now, false)
	}
	if a.Counters().Dropped != 0 {
		b.Fatal("packets dropped")
	}
}

// The receive path alone: parse, latch, sequence/jitter statistics.
func BenchmarkReceiveRTP(b *testing.B) {
	n := newMemNet()
	n.quiet = true
	e := newEngine(b, func(c *EngineConfig) { c.Listen = n.listen })
	s := newSession(b, e, "a")
	from := netip.MustParseAddrPort("10.0.0.1:4000")
	s.SetRemote(muxParams(from, fmtTE101, fmtPCMU))
	buf := rtpBytes(0, false, 0, 0, 0x1234, make([]byte, 160))
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint16(buf[2:], uint16(i))
		binary.BigEndian.PutUint32(buf[4:], uint32(i)*160)
		s.receive(buf, from, now, false)
	}
}

// Over real loopback sockets: phone → a → relay → b → phone, one packet
// at a time, so the figure includes two sends and two receives.
func BenchmarkRelayLoopbackUDP(b *testing.B) {
	e := newEngine(b)
	a, bb := newSession(b, e, "a"), newSession(b, e, "b")
	phoneA, phoneB := newPeer(b), newPeer(b)
	a.SetRemote(muxParams(phoneA.addr, Format{}, fmtPCMU))
	bb.SetRemote(muxParams(phoneB.addr, Format{}, fmtPCMU))
	Relay(a, bb)
	buf := rtpBytes(0, false, 0, 0, 0x1234, make([]byte, 160))
	rx := make([]byte, 1500)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint16(buf[2:], uint16(i))
		binary.BigEndian.PutUint32(buf[4:], uint32(i)*160)
		phoneA.c.WriteToUDPAddrPort(buf, a.LocalAddr())
		phoneB.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := phoneB.c.ReadFromUDPAddrPort(rx); err != nil {
			b.Fatal(err)
		}
	}
}

// A digit's packet train through the RFC 4733 receiver.
func BenchmarkDTMFParse(b *testing.B) {
	r := dtmfReceiver{timeout: DefaultDTMFTimeout}
	emit := func(DTMFEvent) {}
	pkts := [][]byte{dtmfBytes(1, false, 160), dtmfBytes(1, false, 320), dtmfBytes(1, true, 480),
		dtmfBytes(1, true, 480), dtmfBytes(1, true, 480)}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ts := uint32(i) * 1000
		for _, p := range pkts {
			r.packet(ts, p, 8000, now, emit)
		}
	}
}

// One clock tick serving 1,000 sessions, each playing a tone encoded as
// L16 (a 320-byte packet): the cost the shared clock pays every 20 ms.
func BenchmarkClockTick1000(b *testing.B) {
	const streams = 1000
	n := newMemNet()
	n.quiet = true
	// A clock whose own goroutine has stopped: the benchmark drives its ticks.
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	clock := NewClock(stopped, DefaultClockPeriod, 1)
	defer clock.Close()
	e := newEngine(b, func(c *EngineConfig) {
		c.Listen, c.Clock, c.PortMin, c.PortMax = n.listen, clock, 20000, 20000+2*streams+1
	})
	remote := netip.MustParseAddrPort("10.0.0.1:4000")
	for range streams {
		s, err := e.NewSession(SessionOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s.SetRemote(muxParams(remote, Format{}, fmtL16))
		if _, err := s.Play(NewTone(440, 8000, 0.5, 0), l16{}, 8000); err != nil {
			b.Fatal(err)
		}
	}
	shard := clock.shards[0]
	deadline := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		deadline = deadline.Add(DefaultClockPeriod)
		for ph := range clockPhases {
			shard.tick(ph, deadline)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/streams, "ns/stream")
}
