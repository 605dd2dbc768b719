package media

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var socketKinds = []struct {
	name   string
	listen ListenFunc
}{
	{"plain", ListenUDP},
	{"batch8", func(a netip.AddrPort) (PacketConn, error) { return ListenUDPBatch(a, DefaultBatch) }},
}

func TestPacketConns(t *testing.T) {
	for _, k := range socketKinds {
		t.Run(k.name, func(t *testing.T) {
			rx, err := k.listen(netip.AddrPortFrom(loopback, 0))
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			tx, err := k.listen(netip.AddrPortFrom(loopback, 0))
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			out := make([]Message, 5)
			for i := range out {
				out[i] = Message{Buf: []byte(fmt.Sprint("packet", i)), Addr: rx.LocalAddr()}
			}
			if n, err := tx.WriteBatch(out); n != 5 || err != nil {
				t.Fatalf("WriteBatch: %d, %v", n, err)
			}
			if err := tx.WriteTo([]byte("packet5"), rx.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			in := make([]Message, 8)
			for i := range in {
				in[i].Buf = make([]byte, 64)
			}
			for got := 0; got < 6; {
				n, err := rx.ReadBatch(in)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range in[:n] {
					if want := fmt.Sprint("packet", got); string(m.Buf[:m.N]) != want || m.Addr != tx.LocalAddr() {
						t.Fatalf("got %q from %v, want %q from %v", m.Buf[:m.N], m.Addr, want, tx.LocalAddr())
					}
					got++
				}
			}
			rx.Close()
			if _, err := rx.ReadBatch(in); err == nil {
				t.Fatal("read after close")
			}
		})
	}
}

// A relayed call works the same on batched sockets.
func TestRelayOnBatchedSockets(t *testing.T) {
	e := newEngine(t, func(c *EngineConfig) { c.Listen = socketKinds[1].listen })
	a, b := newSession(t, e, "a"), newSession(t, e, "b")
	phoneA, phoneB := newPeer(t), newPeer(t)
	a.SetRemote(muxParams(phoneA.addr, Format{}, fmtPCMU))
	b.SetRemote(muxParams(phoneB.addr, Format{}, fmtPCMU))
	Relay(a, b)
	for i := range 20 {
		phoneA.send(a.LocalAddr(), rtpBytes(0, false, uint16(i), uint32(i)*160, 5, []byte{byte(i)}))
	}
	for i := range 20 {
		if p := phoneB.recvRTP(); p.Payload[0] != byte(i) {
			t.Fatalf("packet %d carries %d", i, p.Payload[0])
		}
	}
}

// Receiving bursts of 8 datagrams: one system call each (plain) or one
// per burst (batched).
func BenchmarkSocketReceive8(b *testing.B) {
	for _, k := range socketKinds {
		b.Run(k.name, func(b *testing.B) {
			rx, err := k.listen(netip.AddrPortFrom(loopback, 0))
			if err != nil {
				b.Fatal(err)
			}
			defer rx.Close()
			tx, err := ListenUDPBatch(netip.AddrPortFrom(loopback, 0), 8)
			if err != nil {
				b.Fatal(err)
			}
			defer tx.Close()
			burst := make([]Message, 8)
			for i := range burst {
				burst[i] = Message{Buf: make([]byte, 172), Addr: rx.LocalAddr()}
			}
			in := make([]Message, 8)
			for i := range in {
				in[i].Buf = make([]byte, 1500)
			}
			var recv time.Duration
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tx.WriteBatch(burst); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for got := 0; got < len(burst); {
					n, err := rx.ReadBatch(in)
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
				recv += time.Since(start)
			}
			b.ReportMetric(float64(recv.Nanoseconds())/float64(b.N)/8, "recv-ns/packet")
		})
	}
}
