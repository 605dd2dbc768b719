package media

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// Test port range; sessions skip ports other programs hold.
const testPortMin, testPortMax = 42000, 43999

func newEngine(t testing.TB, edit ...func(*EngineConfig)) *Engine {
	t.Helper()
	cfg := EngineConfig{BindAddr: loopback, PortMin: testPortMin, PortMax: testPortMax, ClockShards: 1}
	for _, f := range edit {
		f(&cfg)
	}
	e, err := NewEngine(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func newSession(t testing.TB, e *Engine, name string) *Session {
	t.Helper()
	s, err := e.NewSession(SessionOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var (
	fmtPCMU  = Format{PT: 0, Codec: Codec{Name: NamePCMU, ClockRate: 8000}}
	fmtPCMA  = Format{PT: 8, Codec: Codec{Name: NamePCMA, ClockRate: 8000}}
	fmtL16   = Format{PT: 97, Codec: Codec{Name: NameL16, ClockRate: 8000}}
	fmtOpus  = Format{PT: 96, Codec: Codec{Name: NameOpus, ClockRate: 48000, Channels: 2}}
	fmtTE101 = Format{PT: 101, Codec: Codec{Name: NameTelephoneEvent, ClockRate: 8000}}
)

// muxParams are negotiated params towards remote with rtcp-mux, so that
// no test sends RTCP to a port it does not own.
func muxParams(remote netip.AddrPort, dtmf Format, codecs ...Format) Params {
	return Params{Remote: remote, RemoteRTCP: remote, Codecs: codecs, DTMF: dtmf,
		PTime: DefaultPTime, RTCPMux: true, Proto: "RTP/AVP"}
}

// peer is a phone: a plain UDP socket on loopback.
type peer struct {
	t    testing.TB
	c    *net.UDPConn
	addr netip.AddrPort
	buf  []byte
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, c: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort(), buf: make([]byte, 2048)}
}

func (p *peer) send(to netip.AddrPort, b []byte) {
	p.t.Helper()
	if _, err := p.c.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// recv waits up to 5 s for a datagram.
func (p *peer) recv() ([]byte, netip.AddrPort) {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := p.c.ReadFromUDPAddrPort(p.buf)
	if err != nil {
		p.t.Fatalf("peer %v: waiting for a packet: %v", p.addr, err)
	}
	return p.buf[:n], from
}

// recvRTP waits for the next RTP packet, skipping RTCP.
func (p *peer) recvRTP() *rtp.Packet {
	p.t.Helper()
	for {
		b, _ := p.recv()
		if isRTCP(b) {
			continue
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(append([]byte(nil), b...)); err != nil {
			p.t.Fatalf("peer got a bad RTP packet: %v", err)
		}
		return &pkt
	}
}

func rtpBytes(pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, rtpHeaderLen+len(payload))
	putHeader(b, marker, pt, seq, ts, ssrc)
	copy(b[rtpHeaderLen:], payload)
	return b
}

func dtmfBytes(ev uint8, end bool, dur uint16) []byte {
	b := make([]byte, 4)
	dtmfPayload{event: ev, end: end, volume: 10, duration: dur}.put(b)
	return b
}

// waitFor polls cond until it holds, for conditions that have no event
// to wait on (a packet that was dropped on purpose).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func waitDTMF(t testing.TB, s *Session) DTMFEvent {
	t.Helper()
	select {
	case ev := <-s.DTMF():
		return ev
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no DTMF event", s.Name())
	}
	return DTMFEvent{}
}

// l16 is a test encoder: big-endian 16-bit PCM (RFC 3551 L16).
type l16 struct{}

func (l16) Encode(dst []byte, pcm []int16) (int, error) {
	if len(dst) < 2*len(pcm) {
		return 0, errors.New("l16: short buffer")
	}
	for i, v := range pcm {
		binary.BigEndian.PutUint16(dst[2*i:], uint16(v))
	}
	return 2 * len(pcm), nil
}

// memNet is an in-memory datagram network behind the PacketConn seam, for
// tests that need addresses other than loopback (symmetric RTP towards a
// public SDP address) without sending anything off the machine.
type memNet struct {
	mu    sync.Mutex
	conns map[netip.AddrPort]*memConn
	sent  map[netip.AddrPort]int // datagrams written, by destination
	quiet bool                   // do not record (benchmarks)
}

func newMemNet() *memNet {
	return &memNet{conns: map[netip.AddrPort]*memConn{}, sent: map[netip.AddrPort]int{}}
}

func (n *memNet) listen(addr netip.AddrPort) (PacketConn, error) { return n.endpoint(addr) }

func (n *memNet) endpoint(addr netip.AddrPort) (*memConn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.conns[addr]; ok {
		return nil, errors.New("memnet: address in use")
	}
	c := &memConn{n: n, local: addr, in: make(chan Message, 1024), done: make(chan struct{})}
	n.conns[addr] = c
	return c, nil
}

func (n *memNet) sentTo(a netip.AddrPort) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent[a]
}

type memConn struct {
	n     *memNet
	local netip.AddrPort
	in    chan Message
	done  chan struct{}
	once  sync.Once
}

func (c *memConn) ReadBatch(ms []Message) (int, error) {
	select {
	case m := <-c.in:
		ms[0].N = copy(ms[0].Buf, m.Buf)
		ms[0].Addr = m.Addr
		return 1, nil
	case <-c.done:
		return 0, net.ErrClosed
	}
}

func (c *memConn) WriteTo(b []byte, to netip.AddrPort) error {
	n := c.n
	if n.quiet {
		return nil
	}
	n.mu.Lock()
	n.sent[to]++
	dst := n.conns[to]
	n.mu.Unlock()
	if dst != nil {
		select {
		case dst.in <- Message{Buf: append([]byte(nil), b...), Addr: c.local}:
		default:
		}
	}
	return nil
}

func (c *memConn) WriteBatch(ms []Message) (int, error) {
	for i := range ms {
		c.WriteTo(ms[i].Buf, ms[i].Addr)
	}
	return len(ms), nil
}

func (c *memConn) LocalAddr() netip.AddrPort { return c.local }

func (c *memConn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.n.mu.Lock()
		delete(c.n.conns, c.local)
		c.n.mu.Unlock()
	})
	return nil
}

// recv waits for a datagram on a memConn endpoint.
func (c *memConn) recv(t testing.TB) Message {
	t.Helper()
	select {
	case m := <-c.in:
		return m
	case <-time.After(5 * time.Second):
		t.Fatalf("memnet %v: no packet", c.local)
	}
	return Message{}
}

// goroutineLeakCheck fails the test if goroutines started during it are
// still running once cleanup is done.
func goroutineLeakCheck(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		waitFor(t, "goroutines to stop", func() bool { return runtime.NumGoroutine() <= before })
	})
}
