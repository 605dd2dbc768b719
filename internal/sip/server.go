// Package sip is Ringo's SIP endpoint on sipgo: listeners, the registrar
// with its location service, digest authentication with brute-force
// protection, and the B2BUA that connects calls between accounts.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/media"
)

// Server is the SIP endpoint.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	dir     *directory.Directory
	loc     *Location
	nonces  *nonces
	guard   *guard
	metrics *metrics

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client

	udp     net.PacketConn
	tcp     net.Listener
	tlsL    net.Listener
	host    string // advertised host
	port    int
	tlsPort int
	udpAddr sip.Addr

	mu      sync.Mutex
	dialogs map[string]*dialog // Call-ID + "|" + our tag
	calls   map[string]*call
	ringing map[*call]struct{}
	callers map[string]*call     // by the caller's Call-ID and From tag
	ended   map[string]time.Time // dialogs ended lately, for retransmitted BYEs

	admit *bucket

	media *media.Engine // nil: SDP passes through and there is no echo service
	msess mediaSet
	confs conferences
	apps  atomic.Pointer[Apps] // nil: no programs

	recorder  Recorder
	recording sync.WaitGroup // records being written
	journal   Journal
	draining  atomic.Bool
	active    atomic.Int64
	callSeq   atomic.Uint64
	idle      chan struct{} // signalled when the last call ends
}

// New creates the endpoint; Listen binds it and Serve runs it.
func New(cfg config.Config, log *slog.Logger, dir *directory.Directory, loc *Location, reg prometheus.Registerer) (*Server, error) {
	s := &Server{
		cfg:     cfg,
		log:     log,
		dir:     dir,
		loc:     loc,
		nonces:  newNonces(cfg.Security.NonceLifetime),
		guard:   newGuard(cfg.Security.FailLimit, cfg.Security.FailWindow, cfg.Security.BlockFor),
		dialogs: map[string]*dialog{},
		calls:   map[string]*call{},
		ringing: map[*call]struct{}{},
		callers: map[string]*call{},
		ended:   map[string]time.Time{},
		idle:    make(chan struct{}, 1),
	}
	s.metrics = newMetrics(reg, s)
	if cfg.Calls.MaxRate > 0 {
		s.admit = newBucket(float64(cfg.Calls.MaxRate), float64(cfg.Calls.MaxRate))
	}
	opts := []sipgo.UserAgentOption{
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerUnhandledResponseHandler(s.onStrayResponse),
			sip.WithTransactionLayerLogger(log.With("layer", "transaction")),
		),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerReadFilter(s.readFilter),
			sip.WithTransportLayerLogger(log.With("layer", "transport")),
		),
	}
	if cfg.SIP.UserAgent != "" {
		opts = append(opts, sipgo.WithUserAgent(cfg.SIP.UserAgent))
	}
	if cfg.SIP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.SIP.TLSCert, cfg.SIP.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("sip tls certificate: %w", err)
		}
		opts = append(opts, sipgo.WithUserAgenTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}
	ua, err := sipgo.NewUA(opts...)
	if err != nil {
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	s.ua = ua
	s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(log.With("layer", "server")))
	if err != nil {
		return nil, fmt.Errorf("sip server: %w", err)
	}
	s.srv.OnRegister(s.onRegister)
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onInDialog)
	s.srv.OnCancel(s.onCancel)
	s.srv.OnOptions(s.onOptions)
	for _, m := range []sip.RequestMethod{sip.INFO, sip.UPDATE, sip.MESSAGE, sip.NOTIFY} {
		s.srv.OnRequest(m, s.onInDialog)
	}
	s.srv.OnNoRoute(s.onUnsupported)
	return s, nil
}

// readFilter drops datagrams and segments from blocked sources before they
// are parsed, so a blocked attacker costs almost nothing.
func (s *Server) readFilter(p sip.TransportReadProps, data []byte) ([]byte, error) {
	if ap, ok := p.RemoteAddr.(*net.UDPAddr); ok {
		ip, _ := netip.AddrFromSlice(ap.IP)
		if s.guard.blocked(ip.Unmap(), time.Now()) {
			s.metrics.dropped.Inc()
			return nil, nil
		}
	} else if ap, ok := p.RemoteAddr.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ap.IP)
		if s.guard.blocked(ip.Unmap(), time.Now()) {
			s.metrics.dropped.Inc()
			return nil, errors.New("source blocked") // closes the connection
		}
	}
	return data, nil
}

// Recorder keeps call records; cdr.Writer is one. Write returns once the
// record is durable.
type Recorder interface {
	Write(ctx context.Context, r cdr.Record) error
}

// SetRecorder makes the server write a record of every call it connects or
// fails to connect. Set it before Serve.
func (s *Server) SetRecorder(r Recorder) { s.recorder = r }

// Journal keeps the calls in progress, so that a call open when Ringo dies
// is recorded as interrupted; cdr.Journal is one.
type Journal interface {
	Opened(r cdr.Record)
	Closed(id string)
}

// SetJournal makes the server journal its calls in progress. Set it before Serve.
func (s *Server) SetJournal(j Journal) { s.journal = j }

// FlushRecords waits for the records of ended calls to be written.
func (s *Server) FlushRecords() { s.recording.Wait() }

// udpBuffer is the SIP UDP socket's buffer size in each direction.
const udpBuffer = 4 << 20

// Listen binds the configured sockets. A port in use is an error here,
// before anything runs.
func (s *Server) Listen(ctx context.Context) error {
	var lc net.ListenConfig
	addr := s.cfg.SIP.Addr
	udp, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("sip udp %s: %w", addr, err)
	}
	// A burst of requests must wait in the socket rather than be dropped by
	// the kernel while the reader is busy: a dropped INVITE costs the caller
	// a retransmission timer (0.5 s, then 1 s, 2 s…). The kernel caps the
	// size at net.core.rmem_max.
	if uc, ok := udp.(*net.UDPConn); ok {
		uc.SetReadBuffer(udpBuffer)
		uc.SetWriteBuffer(udpBuffer)
	}
	tcp, err := lc.Listen(ctx, "tcp", udp.LocalAddr().String())
	if err != nil {
		udp.Close()
		return fmt.Errorf("sip tcp %s: %w", addr, err)
	}
	s.udp, s.tcp = udp, tcp
	ua := udp.LocalAddr().(*net.UDPAddr)
	s.port = ua.Port
	s.udpAddr = sip.Addr{IP: ua.IP, Port: ua.Port}
	s.host = s.cfg.SIP.Advertise
	if s.host == "" {
		s.host = advertiseHost(ua.IP)
	}
	if s.cfg.SIP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.SIP.TLSCert, s.cfg.SIP.TLSKey)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("sip tls certificate: %w", err)
		}
		l, err := tls.Listen("tcp", s.cfg.SIP.TLSAddr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("sip tls %s: %w", s.cfg.SIP.TLSAddr, err)
		}
		s.tlsL = l
		s.tlsPort = l.Addr().(*net.TCPAddr).Port
	}
	s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientHostname(s.host), sipgo.WithClientPort(s.port),
		sipgo.WithClientLogger(s.log.With("layer", "client")))
	if err != nil {
		s.closeListeners()
		return fmt.Errorf("sip client: %w", err)
	}
	return nil
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.tlsL != nil {
		s.tlsL.Close()
	}
}

// advertiseHost picks the host to put in our headers for a listen IP.
func advertiseHost(ip net.IP) string {
	if ip != nil && !ip.IsUnspecified() {
		return ip.String()
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// Addrs describes the listeners, one entry per transport.
func (s *Server) Addrs() map[string]string {
	m := map[string]string{"udp": s.udp.LocalAddr().String(), "tcp": s.tcp.Addr().String()}
	if s.tlsL != nil {
		m["tls"] = s.tlsL.Addr().String()
	}
	return m
}

// Serve runs until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	go s.watchRinging(ctx)
	errc := make(chan error, 3)
	go func() { errc <- s.srv.ServeUDP(s.udp) }()
	go func() { errc <- s.srv.ServeTCP(s.tcp) }()
	if s.tlsL != nil {
		go func() { errc <- s.srv.ServeTLS(s.tlsL) }()
	}
	select {
	case <-ctx.Done():
		s.closeListeners()
		s.ua.Close()
		return nil
	case err := <-errc:
		s.closeListeners()
		return fmt.Errorf("sip serve: %w", err)
	}
}

// Drain stops admitting calls and waits for existing ones to end, up to
// ctx's deadline; then it hangs up whatever is left.
func (s *Server) Drain(ctx context.Context) {
	s.draining.Store(true)
	for s.active.Load() > 0 {
		select {
		case <-s.idle:
		case <-ctx.Done():
			s.hangupAll()
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ActiveCalls is the number of calls in progress.
func (s *Server) ActiveCalls() int64 { return s.active.Load() }

// Blocked lists blocked source addresses.
func (s *Server) Blocked() map[string]time.Time { return s.guard.blockedList(time.Now()) }

// domainOf maps a request host to a served domain: a domain's own name, or
// the main domain for the server's IP addresses and host names.
func (s *Server) domainOf(host string) (string, bool) {
	h := strings.ToLower(strings.Trim(host, "[]"))
	if d, ok := s.dir.Domain(h); ok {
		return d.Name, true
	}
	if _, err := netip.ParseAddr(h); err == nil || h == "localhost" || slices.Contains(s.cfg.SIP.Hostnames, h) || h == s.host {
		main := s.cfg.SIP.MainDomain
		if main == "" {
			main = s.dir.MainDomain()
		}
		return main, main != ""
	}
	return "", false
}

// respond answers a request statelessly-shaped but through its transaction.
func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	s.send(tx, res)
}

func (s *Server) send(tx sip.ServerTransaction, res *sip.Response) {
	if s.cfg.SIP.UserAgent != "" {
		res.AppendHeader(sip.NewHeader("Server", s.cfg.SIP.UserAgent))
	}
	s.metrics.responses.WithLabelValues(cseqMethod(res), strconv.Itoa(res.StatusCode)).Inc()
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sending response failed", "status", res.StatusCode, "error", err)
	}
	// Answers outside INVITE transactions are sent statelessly: the
	// transaction is dropped at once instead of being kept 32 s to absorb
	// retransmissions. A retransmitted REGISTER, OPTIONS or BYE is simply
	// handled again (as Kamailio's registrar does), which keeps memory per
	// request small and the garbage collector idle at high rates.
	if res.CSeq() != nil && res.CSeq().MethodName != sip.INVITE {
		tx.Terminate()
	}
}

// writeResponse sends a response outside any transaction.
func (s *Server) writeResponse(res *sip.Response) {
	s.metrics.responses.WithLabelValues(cseqMethod(res), strconv.Itoa(res.StatusCode)).Inc()
	if err := s.srv.WriteResponse(res); err != nil {
		s.log.Debug("sending response failed", "status", res.StatusCode, "error", err)
	}
}

func cseqMethod(m sip.Message) string {
	var c *sip.CSeqHeader
	switch v := m.(type) {
	case *sip.Request:
		c = v.CSeq()
	case *sip.Response:
		c = v.CSeq()
	}
	if c == nil {
		return "unknown"
	}
	return knownMethod(string(c.MethodName))
}

var methods = []string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO", "UPDATE", "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "REFER"}

// knownMethod bounds metric label values to real methods.
func knownMethod(m string) string {
	if slices.Contains(methods, m) {
		return m
	}
	return "other"
}

var allowHeader = sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, UPDATE, MESSAGE, NOTIFY")

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.requests.WithLabelValues("OPTIONS").Inc()
	if s.inDialogTo(req) {
		s.onInDialog(req, tx)
		return
	}
	// Answered by the server itself, identically for any user part, so
	// OPTIONS cannot be used to enumerate accounts.
	s.respond(tx, req, 200, "OK", nil, allowHeader, sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Supported", "path, gruu, outbound"))
}

func (s *Server) onUnsupported(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.requests.WithLabelValues(knownMethod(string(req.Method))).Inc()
	if tx == nil {
		return
	}
	if req.IsAck() {
		return
	}
	switch req.Method {
	case sip.SUBSCRIBE, sip.PUBLISH, sip.REFER, sip.PRACK:
		s.respond(tx, req, 501, "Not Implemented", nil, allowHeader)
	default:
		s.respond(tx, req, 405, "Method Not Allowed", nil, allowHeader)
	}
}

func (s *Server) inDialogTo(req *sip.Request) bool {
	to := req.To()
	return to != nil && to.Params.Has("tag")
}

// onCancel sees only CANCELs that matched no pending INVITE (sipgo answers
// the matching ones and hands them to the INVITE's transaction).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.requests.WithLabelValues("CANCEL").Inc()
	s.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
}
