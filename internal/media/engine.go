package media

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// EngineConfig sets up the media engine.
type EngineConfig struct {
	// BindAddr is where RTP sockets bind (default 0.0.0.0).
	BindAddr netip.Addr
	// Advertise is the address written into SDP; required when BindAddr
	// is unspecified.
	Advertise netip.Addr
	// PortMin and PortMax are the RTP range (config rtp.ports).
	PortMin, PortMax int
	// Clock paces sessions; nil starts one owned by the engine with
	// ClockShards goroutines (GOMAXPROCS when 0).
	Clock       *Clock
	ClockShards int
	// Listen opens sockets; nil means ListenUDP.
	Listen ListenFunc
}

// Engine owns the port range, the media clock and the live sessions.
type Engine struct {
	bind      netip.Addr
	advertise netip.Addr
	ports     *PortAllocator
	clock     *Clock
	ownClock  bool
	listen    ListenFunc
	ctx       context.Context
	cancel    context.CancelFunc
	nextKey   atomic.Uint64

	mu       sync.Mutex
	sessions map[uint64]*Session
	nextID   uint64
	closed   bool
}

// NewEngine starts an engine; ctx ending closes all its sessions.
func NewEngine(ctx context.Context, cfg EngineConfig) (*Engine, error) {
	ports, err := NewPortAllocator(cfg.PortMin, cfg.PortMax)
	if err != nil {
		return nil, err
	}
	bind := cfg.BindAddr
	if !bind.IsValid() {
		bind = netip.IPv4Unspecified()
	}
	adv := cfg.Advertise
	if !adv.IsValid() {
		if bind.IsUnspecified() {
			return nil, errors.New("media: engine bound to all addresses needs an address to advertise in SDP")
		}
		adv = bind
	}
	ctx, cancel := context.WithCancel(ctx)
	e := &Engine{
		bind: bind, advertise: adv, ports: ports, clock: cfg.Clock, listen: cfg.Listen,
		ctx: ctx, cancel: cancel, sessions: map[uint64]*Session{},
	}
	if e.listen == nil {
		e.listen = ListenUDP
	}
	if e.clock == nil {
		e.clock = NewClock(ctx, DefaultClockPeriod, cfg.ClockShards)
		e.ownClock = true
	}
	return e, nil
}

// Clock is the engine's media clock.
func (e *Engine) Clock() *Clock { return e.clock }

// Ports is the engine's port allocator.
func (e *Engine) Ports() *PortAllocator { return e.ports }

// NewSession binds a new leg's sockets on the next free port pair.
func (e *Engine) NewSession(opts SessionOptions) (*Session, error) {
	opts.defaults()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	e.nextID++
	id := e.nextID
	e.mu.Unlock()
	if opts.Name == "" {
		opts.Name = fmt.Sprintf("leg%d", id)
	}

	var rtpConn, rtcpConn PacketConn
	var port uint16
	var lastErr error
	// A port another program holds goes to the back of the queue; try a few.
	for range min(16, e.ports.Size()) {
		p, err := e.ports.Allocate()
		if err != nil {
			return nil, fmt.Errorf("media: session %s: %w", opts.Name, err)
		}
		rtpConn, lastErr = e.listen(netip.AddrPortFrom(e.bind, p))
		if lastErr == nil && !opts.RTCPMux {
			rtcpConn, lastErr = e.listen(netip.AddrPortFrom(e.bind, p+1))
			if lastErr != nil {
				rtpConn.Close()
			}
		}
		if lastErr == nil {
			port = p
			break
		}
		e.ports.Release(p)
	}
	if port == 0 {
		return nil, fmt.Errorf("media: session %s: binding RTP port: %w", opts.Name, lastErr)
	}
	if opts.CNAME == "" {
		opts.CNAME = "ringo@" + e.advertise.String()
	}
	if len(opts.CNAME) > 255 {
		opts.CNAME = opts.CNAME[:255] // an SDES item holds at most 255 octets
	}

	ctx, cancel := context.WithCancel(e.ctx)
	s := &Session{
		id: id, name: opts.Name, eng: e, opts: opts, port: port,
		rtpConn: rtpConn, rtcpConn: rtcpConn, advertise: e.advertise,
		sdpID: rand.Uint64N(1 << 62), created: time.Now(),
		ctx: ctx, cancel: cancel,
		out:    newOutStream(),
		events: make(chan DTMFEvent, dtmfQueue),
	}
	s.dtmfRx.timeout = opts.DTMFTimeout
	s.emitFunc = s.emit // one closure for the packet path, made once
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		rtpConn.Close()
		if rtcpConn != nil {
			rtcpConn.Close()
		}
		e.ports.Release(port)
		cancel()
		return nil, ErrClosed
	}
	e.sessions[id] = s
	e.mu.Unlock()
	s.start()
	s.stopAfter = context.AfterFunc(e.ctx, func() { s.Close() })
	return s, nil
}

// forget drops a closed session and frees its ports; its sockets are
// closed by then, so the ports can be handed out again.
func (e *Engine) forget(s *Session) {
	e.mu.Lock()
	delete(e.sessions, s.id)
	e.mu.Unlock()
	e.ports.Release(s.port)
}

// Session returns a live session by ID.
func (e *Engine) Session(id uint64) (*Session, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.sessions[id]
	return s, ok
}

// Sessions lists the live sessions by ID.
func (e *Engine) Sessions() []*Session {
	e.mu.Lock()
	out := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		out = append(out, s)
	}
	e.mu.Unlock()
	slices.SortFunc(out, func(a, b *Session) int { return cmp.Compare(a.id, b.id) })
	return out
}

// Close closes every session and, if the engine started it, the clock.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	for _, s := range e.Sessions() {
		s.Close()
	}
	e.cancel()
	if e.ownClock {
		e.clock.Close()
	}
	return nil
}
