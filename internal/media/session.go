package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Session defaults.
const (
	DefaultLatchAfter   = 3
	DefaultRelatchAfter = 10
	DefaultRTCPInterval = 5 * time.Second
	maxDatagram         = 1500
	dtmfQueue           = 32
)

// SessionOptions tune one leg.
type SessionOptions struct {
	// Name labels the leg in Describe and errors ("caller", "b").
	Name string
	// RTCPMux binds no RTCP socket: use it when the peer offered rtcp-mux.
	RTCPMux bool
	// LatchAfter is how many packets in a row must come from one address
	// other than the SDP one before replies go there (symmetric RTP). When
	// the SDP address is private or unroutable the first packet decides.
	LatchAfter int
	// RelatchAfter is how many packets in a row a new address must send,
	// with nothing from the latched one in between, to take over (NAT
	// rebinding).
	RelatchAfter int
	// DTMFTimeout ends a received digit whose end packets were lost.
	DTMFTimeout time.Duration
	// RTCPInterval is the mean report interval (RFC 3550 §6.2 randomises
	// each one between 0.5 and 1.5 times it).
	RTCPInterval time.Duration
	// CNAME for RTCP SDES; defaults to ringo@<local address>.
	CNAME string
}

func (o *SessionOptions) defaults() {
	if o.LatchAfter < 1 {
		o.LatchAfter = DefaultLatchAfter
	}
	if o.RelatchAfter < 1 {
		o.RelatchAfter = DefaultRelatchAfter
	}
	if o.DTMFTimeout <= 0 {
		o.DTMFTimeout = DefaultDTMFTimeout
	}
	if o.RTCPInterval <= 0 {
		o.RTCPInterval = DefaultRTCPInterval
	}
}

// Handler takes a session's incoming RTP. It runs on the session's read
// goroutine, must not block, and may rewrite raw in place; neither p nor
// raw may be kept after it returns.
type Handler interface {
	HandleRTP(from *Session, p *rtp.Packet, raw []byte)
	String() string
}

type handlerBox struct{ h Handler }

// sessionParams is Params prepared for the packet path.
type sessionParams struct {
	Params
	rate    [128]uint32 // clock rate by payload type; 0 = not negotiated
	dtmfPT  int16       // −1 without telephone-event
	trusted bool        // the SDP address can be reached as it is
}

func prepare(p Params) *sessionParams {
	sp := &sessionParams{Params: p, dtmfPT: -1, trusted: routable(p.Remote.Addr())}
	for _, f := range p.Codecs {
		sp.rate[f.PT&0x7f] = f.ClockRate
	}
	if p.HasDTMF() {
		sp.rate[p.DTMF.PT&0x7f] = p.DTMF.ClockRate
		sp.dtmfPT = int16(p.DTMF.PT)
	}
	return sp
}

// routable reports whether packets from a NATed peer would come from the
// SDP address itself; when they cannot, the first packet is latched.
func routable(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsPrivate() || a.IsLoopback() ||
		a.IsLinkLocalUnicast() || a.IsMulticast() {
		return false
	}
	// RFC 6598 shared address space (carrier-grade NAT).
	return !netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64}), 10).Contains(a)
}

// Session is one leg's RTP/RTCP endpoint on Ringo's ports.
type Session struct {
	id        uint64
	name      string
	eng       *Engine
	opts      SessionOptions
	port      uint16
	rtpConn   PacketConn
	rtcpConn  PacketConn // nil with rtcp-mux
	advertise netip.Addr
	sdpID     uint64
	created   time.Time

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	entry     *ClockEntry
	closed    atomic.Bool
	closeOnce sync.Once
	stopAfter func() bool

	params   atomic.Pointer[sessionParams]
	dest     atomic.Pointer[netip.AddrPort] // where RTP goes
	rtcpDest atomic.Pointer[netip.AddrPort]
	latched  atomic.Pointer[netip.AddrPort] // for Describe
	latchGen atomic.Uint32
	handler  atomic.Pointer[handlerBox]
	play     atomic.Pointer[Playback]
	sinks    atomic.Pointer[sinkList]
	sinkMu   sync.Mutex

	// Owned by the RTP read goroutine.
	rx       rtp.Packet
	latch    latchState
	recv     recvStats
	inGen    uint32    // bumped when the input restarts, so relays re-base
	rxNow    time.Time // arrival of the packet being handled
	emitFunc func(DTMFEvent)
	adec     audioDecoder

	dtmfRx dtmfReceiver
	dtmfMu sync.Mutex
	dtmfTx dtmfSender
	dtmfTS uint32
	dtmfB  [rtpHeaderLen + 4]byte

	out    *outStream
	rtcp   rtcpState
	c      counters
	events chan DTMFEvent
	onDTMF atomic.Pointer[func(DTMFEvent)]
}

type latchState struct {
	gen     uint32
	on      bool
	addr    netip.AddrPort
	cand    netip.AddrPort
	candRun int
}

// ID is unique within the engine.
func (s *Session) ID() uint64 { return s.id }

// Name is the label given in SessionOptions.
func (s *Session) Name() string { return s.name }

// LocalAddr is the bound RTP address.
func (s *Session) LocalAddr() netip.AddrPort { return s.rtpConn.LocalAddr() }

// Endpoint is this leg's side for SDP. Bump Version for each re-offer.
func (s *Session) Endpoint() Endpoint {
	ep := Endpoint{Addr: s.advertise, Port: s.port, SessionID: s.sdpID, Version: 1}
	if s.rtcpConn != nil {
		ep.RTCPPort = s.rtcpConn.LocalAddr().Port()
	}
	return ep
}

// SSRC is the outgoing stream's synchronisation source.
func (s *Session) SSRC() uint32 { return s.out.ssrc }

// DTMF delivers received digits. It is never closed; select on Done too.
// When nobody reads, digits beyond its buffer are counted and dropped.
// With a handler set (OnDTMF), digits go to the handler instead.
func (s *Session) DTMF() <-chan DTMFEvent { return s.events }

// OnDTMF makes f receive each digit, on the session's own goroutine, in
// place of the DTMF channel: a caller that only records digits needs no
// goroutine of its own per session. f must return quickly. nil restores
// the channel.
func (s *Session) OnDTMF(f func(DTMFEvent)) {
	if f == nil {
		s.onDTMF.Store(nil)
		return
	}
	s.onDTMF.Store(&f)
}

// Done is closed when the session closes.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Params returns the negotiated parameters, false before SetRemote.
func (s *Session) Params() (Params, bool) {
	if p := s.params.Load(); p != nil {
		return p.Params, true
	}
	return Params{}, false
}

// SetRemote applies negotiated parameters; call it again after every
// re-INVITE. A new remote address forgets the latched one.
func (s *Session) SetRemote(p Params) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if len(p.Codecs) == 0 {
		return fmt.Errorf("media: session %s: no codec in params", s.name)
	}
	sp := prepare(p)
	old := s.params.Swap(sp)
	if old == nil || old.Remote != p.Remote || old.RemoteRTCP != p.RemoteRTCP || old.RTCPMux != p.RTCPMux {
		s.latchGen.Add(1)
		r := p.Remote
		s.dest.Store(&r)
		rc := p.RemoteRTCP
		if p.RTCPMux || !rc.IsValid() {
			rc = r
		}
		s.rtcpDest.Store(&rc)
		s.latched.Store(nil)
	}
	return nil
}

// SetHandler installs h for incoming RTP (nil removes it) and returns the
// previous one.
func (s *Session) SetHandler(h Handler) Handler {
	var box *handlerBox
	if h != nil {
		box = &handlerBox{h}
	}
	if old := s.handler.Swap(box); old != nil {
		return old.h
	}
	return nil
}

// clearHandler removes h only if it is still installed.
func (s *Session) clearHandler(h Handler) {
	for {
		cur := s.handler.Load()
		if cur == nil || cur.h != h {
			return
		}
		if s.handler.CompareAndSwap(cur, nil) {
			return
		}
	}
}

// SendDTMF queues digits (0-9, *, #, A-D) as RFC 4733 events of the given
// duration (DefaultDTMFDuration when 0); the clock sends them.
func (s *Session) SendDTMF(digits string, duration time.Duration) error {
	if s.closed.Load() {
		return ErrClosed
	}
	p := s.params.Load()
	if p == nil {
		return ErrNoRemote
	}
	if !p.HasDTMF() {
		return ErrNoDTMF
	}
	if duration <= 0 {
		duration = DefaultDTMFDuration
	}
	s.dtmfMu.Lock()
	defer s.dtmfMu.Unlock()
	return s.dtmfTx.enqueue(digits, duration, p.DTMF.ClockRate)
}

// Close stops the session's goroutines, closes its sockets and returns
// its ports. It is safe to call more than once.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.stopAfter != nil {
			s.stopAfter()
		}
		s.entry.Stop()
		s.sendBye()
		s.cancel()
		s.rtpConn.Close()
		if s.rtcpConn != nil {
			s.rtcpConn.Close()
		}
		s.wg.Wait()
		if pb := s.play.Swap(nil); pb != nil {
			pb.finish(ErrClosed)
		}
		s.eng.forget(s)
	})
	return nil
}

func (s *Session) start() {
	s.wg.Add(1)
	go s.readLoop(s.rtpConn, readBuffers(s.rtpConn), false)
	if s.rtcpConn != nil {
		s.wg.Add(1)
		go s.readLoop(s.rtcpConn, readBuffers(s.rtcpConn), true)
	}
	s.entry = s.eng.clock.Add(s)
}

type batchSizer interface{ BatchSize() int }

// readBuffers are allocated before the read goroutine starts, so that
// goroutine never allocates.
func readBuffers(conn PacketConn) []Message {
	n := 1
	if b, ok := conn.(batchSizer); ok {
		n = max(1, b.BatchSize())
	}
	ms := make([]Message, n)
	for i := range ms {
		ms[i].Buf = make([]byte, maxDatagram)
	}
	return ms
}

func (s *Session) readLoop(conn PacketConn, ms []Message, rtcpOnly bool) {
	defer s.wg.Done()
	for {
		k, err := conn.ReadBatch(ms)
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		for i := range ms[:k] {
			s.receive(ms[i].Buf[:ms[i].N], ms[i].Addr, now, rtcpOnly)
		}
	}
}

// isRTCP tells RTCP from RTP on a muxed port by the packet type
// (RFC 5761 §4): RTCP types 192-223 fall where RTP would have PT 64-95.
func isRTCP(b []byte) bool { return len(b) >= 2 && b[1] >= 192 && b[1] <= 223 }

func (s *Session) receive(b []byte, from netip.AddrPort, now time.Time, rtcpOnly bool) {
	if rtcpOnly || isRTCP(b) {
		s.receiveRTCP(b, from, now)
		return
	}
	s.receiveRTP(b, from, now)
}

func (s *Session) receiveRTP(b []byte, from netip.AddrPort, now time.Time) {
	s.rxNow = now
	if err := s.rx.Unmarshal(b); err != nil || s.rx.Version != 2 {
		s.c.malformed.Add(1)
		return
	}
	p := s.params.Load()
	if !s.acceptSource(from, p) {
		s.c.foreign.Add(1)
		return
	}
	s.c.packetsIn.Add(1)
	s.c.bytesIn.Add(uint64(len(b)))
	var rate uint32
	isDTMF := false
	if p != nil {
		rate = p.rate[s.rx.PayloadType]
		isDTMF = int16(s.rx.PayloadType) == p.dtmfPT
	}
	jrate := rate
	if isDTMF {
		jrate = 0
	}
	arrival := durationToSamples(now.Sub(s.created), jrate)
	switch s.recv.update(s.rx.SSRC, s.rx.SequenceNumber, s.rx.Timestamp, arrival, jrate) {
	case seqDup:
		s.c.dups.Add(1)
		return
	case seqJump:
		s.c.jumps.Add(1)
		return
	case seqLate:
		s.c.late.Add(1)
	case seqNewSource:
		s.inGen++
		s.dtmfRx.reset(s.emitFunc)
	}
	if p == nil || rate == 0 || !p.Direction.CanRecv() {
		s.c.dropped.Add(1)
		return
	}
	if isDTMF {
		// Retransmitted end packets still go to the handler: a relay passes
		// them on and the far side de-duplicates them the same way.
		s.dtmfRx.packet(s.rx.Timestamp, s.rx.Payload, rate, now, s.emitFunc)
	}
	if l := s.sinks.Load(); l != nil && !isDTMF {
		// Before the handler, which may rewrite the packet in place.
		s.decodeToSinks(l, p, s.rx.PayloadType, s.rx.Payload)
	}
	if h := s.handler.Load(); h != nil {
		h.h.HandleRTP(s, &s.rx, b)
	}
}

// acceptSource implements symmetric RTP latching on the read goroutine.
func (s *Session) acceptSource(from netip.AddrPort, p *sessionParams) bool {
	l := &s.latch
	if g := s.latchGen.Load(); g != l.gen {
		*l = latchState{gen: g}
	}
	if l.on {
		if from == l.addr {
			l.candRun = 0
			return true
		}
		if from == l.cand {
			l.candRun++
		} else {
			l.cand, l.candRun = from, 1
		}
		if l.candRun >= s.opts.RelatchAfter {
			s.c.relatched.Add(1)
			s.setLatch(from, p)
			return true
		}
		return false
	}
	// Not latched yet: take the packet and decide where replies go.
	switch {
	case p == nil || !p.trusted || from == p.Remote:
		s.setLatch(from, p)
	default:
		if from == l.cand {
			l.candRun++
		} else {
			l.cand, l.candRun = from, 1
		}
		if l.candRun >= s.opts.LatchAfter {
			s.setLatch(from, p)
		}
	}
	return true
}

func (s *Session) setLatch(from netip.AddrPort, p *sessionParams) {
	l := &s.latch
	l.on, l.addr, l.cand, l.candRun = true, from, netip.AddrPort{}, 0
	a := from
	s.dest.Store(&a)
	s.latched.Store(&a)
	if !s.rtcp.latched.Load() {
		rc := a
		if p == nil || !p.RTCPMux {
			rc = netip.AddrPortFrom(a.Addr(), a.Port()+1)
		}
		s.rtcpDest.Store(&rc)
	}
}

func (s *Session) emit(ev DTMFEvent) {
	s.c.dtmfIn.Add(1)
	if f := s.onDTMF.Load(); f != nil {
		(*f)(ev)
		return
	}
	select {
	case s.events <- ev:
	default:
		s.c.dtmfDropped.Add(1)
	}
}

// writeRTP sends one datagram to the remote (latched) address.
func (s *Session) writeRTP(b []byte) {
	d := s.dest.Load()
	if d == nil || !d.IsValid() || d.Addr().IsUnspecified() {
		s.c.dropped.Add(1)
		return
	}
	if err := s.rtpConn.WriteTo(b, *d); err != nil {
		s.c.sendErrors.Add(1)
		return
	}
	s.c.packetsOut.Add(1)
	s.c.bytesOut.Add(uint64(len(b)))
}

// canSend reports whether media may go out now.
func (s *Session) canSend(p *sessionParams) bool {
	return p != nil && p.Direction.CanSend() && !s.closed.Load()
}

// Tick runs the session's paced work on the shared clock: DTMF sending
// and timeouts, playback, RTCP.
func (s *Session) Tick(deadline time.Time) bool {
	if s.closed.Load() {
		return false
	}
	s.dtmfRx.expire(deadline, s.emitFunc)
	p := s.params.Load()
	s.tickDTMF(p, deadline)
	if pb := s.play.Load(); pb != nil {
		pb.tick(s, p, deadline)
	}
	s.tickRTCP(p, deadline)
	return true
}

func (s *Session) tickDTMF(p *sessionParams, now time.Time) {
	s.dtmfMu.Lock()
	defer s.dtmfMu.Unlock()
	if !s.dtmfTx.busy() {
		return
	}
	if !s.canSend(p) || !p.HasDTMF() {
		s.dtmfTx = dtmfSender{}
		return
	}
	rate := p.DTMF.ClockRate
	step := durationToSamples(s.eng.clock.Period(), rate)
	gap := int((dtmfGap + s.eng.clock.Period() - 1) / s.eng.clock.Period())
	b := s.dtmfB[:]
	send, begin := s.dtmfTx.step(b[rtpHeaderLen:], step, gap)
	if !send {
		return
	}
	if begin {
		s.dtmfTS = s.out.eventTS(now, rate)
	}
	seq := s.out.insert(s.dtmfTS, rate, 4, now)
	putHeader(b, begin, p.DTMF.PT, seq, s.dtmfTS, s.out.ssrc)
	s.writeRTP(b)
	if begin {
		s.c.dtmfOut.Add(1)
	}
}
