package sip

import (
	"context"
	"errors"
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

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/router"
	"github.com/ringo-pbx/ringo/internal/store"
)

// leg is one side of a B2BUA call: a dialog between Ringo and a phone.
// Requests Ringo sends on it go to the flow the phone talks from (its
// source address and transport), which keeps NATed and TCP phones reachable.
type leg struct {
	name                  string // "caller" or "callee", for logs
	callID                string
	localTag, remoteTag   string
	local, remote         sip.Uri
	localName, remoteName string
	target                sip.Uri  // remote target (the peer's Contact)
	routes                []string // route set, as Route header values
	dest, transport       string
	cseq                  uint32

	// With anchored media: the leg's session, the address the phone
	// reaches it at, and the o= version of the last SDP sent on the leg.
	ms        *media.Session
	mediaAddr netip.Addr
	sdpVer    uint64
}

// dialog is what an in-dialog request is matched to.
type dialog struct {
	c *call
	l *leg
}

func dialogKey(callID, localTag string) string { return callID + "|" + localTag }

// pendingAck relays the ACK of a 2xx from one leg to the other.
type pendingAck struct {
	cseqIn  uint32
	out     *leg
	outCSeq uint32
	offer   []byte // out's offer in its 2xx, answered by the ACK (anchored calls)
	// The caller's ACK answers Ringo's offer in its 200 (a call anchored
	// from an INVITE without an offer): the answer sets up the call's media.
	callerAnswer bool
}

type fork struct {
	stale        bool // the call went elsewhere; this fork is being cancelled
	leg          *leg
	inv          *sip.Request
	provisional  bool
	done         bool
	cancelWanted bool
	cancelSent   bool
}

const (
	stateRinging = iota
	stateAnswered
	stateEnded
)

// call is one B2BUA call: the caller's leg, the forks towards the callee's
// contacts, and once one answers, the callee's leg.
type call struct {
	s   *Server
	id  string
	log *slog.Logger

	mu        sync.Mutex
	state     int
	a         *leg
	ainv      *sip.Request
	atx       sip.ServerTransaction
	forks     []*fork
	b         *leg
	acks      map[*leg]pendingAck
	lastAck   map[*leg]*sip.Request // ACK sent on a leg, re-sent on a 2xx retransmission
	reinvite  bool                  // an INVITE is in progress within the dialog
	bestFail  *sip.Response
	finalSent bool
	outcome   string
	done      chan struct{} // closed once the caller has a final answer
	ringUntil time.Time     // the ring timeout; checked by Server.watchRinging
	started   time.Time
	answered  time.Time

	// The caller's 200 is retransmitted until its ACK (RFC 3261 §13.3.1.4).
	ok       *sip.Response
	okTimer  *time.Timer
	okEvery  time.Duration
	okGiveUp time.Time

	recorded <-chan struct{} // closed once the call's record is durable

	m       *callMedia // nil: SDP passes through
	service string     // a call answered by Ringo itself ("echo", "tone", "playback")
	app     *appState  // a call handed to a program
	// rulesOf is the account whose busy and no-answer rules apply while
	// its phones ring; divertAt is when its no-answer rule fires.
	rulesOf  *store.Account
	divertAt atomic.Int64 // unix nanoseconds; 0: none
	extra    callExtras   // received digits, the service's player
	rec      callRecording

	callerName, calleeName string
	via                    string // how the dialled address reached the callee ("alias 202")
	callerURI, calleeURI   sip.Uri
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.requests.WithLabelValues("INVITE").Inc()
	if s.inDialogTo(req) {
		s.onInDialog(req, tx)
		return
	}
	if s.draining.Load() {
		s.respond(tx, req, 503, "Service Unavailable: shutting down", nil, sip.NewHeader("Retry-After", "30"))
		return
	}
	if max := s.cfg.Calls.MaxActive; max > 0 && s.active.Load() >= int64(max) {
		s.respond(tx, req, 503, "Service Unavailable", nil, sip.NewHeader("Retry-After", "5"))
		return
	}
	from, to := req.From(), req.To()
	if from == nil || to == nil || req.CallID() == nil || req.CSeq() == nil {
		s.respond(tx, req, 400, "Bad Request: missing From, To, Call-ID or CSeq", nil)
		return
	}
	if s.lookupCallerLeg(req) != nil {
		// A retransmission of an INVITE already being handled, arriving after
		// its transaction ended: the call's own answer covers it.
		return
	}
	realm, ok := s.domainOf(from.Address.Host)
	if !ok {
		realm, ok = s.domainOf(s.host)
	}
	if !ok {
		s.respond(tx, req, 403, "Forbidden: no domain is provisioned", nil)
		return
	}
	caller, ok := s.authenticate(req, tx, realm, true)
	if !ok {
		return
	}
	// The rate is charged per call, after authentication: a challenge costs
	// little, and charging it too would count every call twice.
	if s.admit != nil && !s.admit.take(time.Now()) {
		s.respond(tx, req, 503, "Service Unavailable", nil, sip.NewHeader("Retry-After", "5"))
		return
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		s.respond(tx, req, 483, "Too Many Hops", nil)
		return
	}
	targetDomain, ok := s.domainOf(req.Recipient.Host)
	if !ok {
		s.respond(tx, req, 404, "Not Found", nil)
		return
	}
	if app, owner, ok := appAddress(req.Recipient.User); ok {
		// A signal to app#account@domain starts the program as that account.
		tgt, err := s.dir.Resolve(owner, targetDomain)
		if err != nil || tgt.Account == nil {
			s.respond(tx, req, 404, "Not Found", nil)
			s.recordRejected(req, caller, nil, 404)
			return
		}
		s.respond(tx, req, 100, "Trying", nil)
		s.divertToApp(req, tx, caller, tgt.Account, app, "address")
		return
	}
	tgt, err := s.dir.Resolve(req.Recipient.User, targetDomain)
	if svc := serviceNamed(req.Recipient.User); err != nil && len(tgt.Via) == 0 && s.media != nil && svc != "" {
		// Nothing provisioned has the name: Ringo's own service answers.
		s.answerService(req, tx, caller, targetDomain, svc)
		return
	}
	if err != nil || tgt.Account == nil {
		s.respond(tx, req, 404, "Not Found", nil)
		s.recordRejected(req, caller, nil, 404)
		return
	}
	aor := tgt.Account.Name + "@" + tgt.Account.Domain
	bindings := s.loc.Lookup(aor)
	if gr, ok := req.Recipient.UriParams.Get("gr"); ok && gr != "" {
		bindings = byInstance(bindings, gr)
	}
	// The account's real-time rules may send the call elsewhere before
	// any phone rings; a rule's address may have rules of its own.
	for hop := 0; hop < maxDiverts; hop++ {
		target, ok := router.Before(tgt.Account, time.Now(), len(bindings) > 0)
		if !ok {
			break
		}
		via := "rule " + target.Kind
		if target.App != "" {
			s.respond(tx, req, 100, "Trying", nil)
			s.divertToApp(req, tx, caller, tgt.Account, target.App, via)
			return
		}
		next, nextVia, err := s.resolveTarget(target.Address, tgt.Account.Domain)
		if err != nil {
			s.log.Warn("a rule diverts to an unknown address; ignored", "account", aor, "rule", target.Kind, "to", target.Address)
			break
		}
		tgt.Account, tgt.Via = next, append(tgt.Via, via+" "+target.Address)
		if nextVia != "" {
			tgt.Via = append(tgt.Via, nextVia)
		}
		aor = next.Name + "@" + next.Domain
		bindings = s.loc.Lookup(aor)
	}
	if len(bindings) == 0 {
		s.respond(tx, req, 480, "Temporarily Unavailable", nil)
		s.recordRejected(req, caller, tgt.Account, 480)
		return
	}
	s.respond(tx, req, 100, "Trying", nil)
	var m *callMedia
	direct := s.directMedia(caller, tgt.Account)
	if s.anchoring() && !direct {
		if hasSDP(req) {
			m, err = s.anchorOffer(req)
		} else {
			// No offer: Ringo offers each phone its own (the callee in the
			// INVITE, the caller in the 200) and the caller answers in the ACK.
			m, err = s.anchorLateOffer()
		}
		var se *media.SDPError
		switch {
		case errors.As(err, &se):
			s.log.Info("unusable offer", "from", caller.Name+"@"+caller.Domain, "error", err)
			s.respond(tx, req, se.StatusCode(), "Not Acceptable Here", nil, sip.NewHeader("Warning", `399 ringo "`+strings.ReplaceAll(se.Error(), `"`, "'")+`"`))
			s.recordRejected(req, caller, tgt.Account, se.StatusCode())
			return
		case err != nil:
			// Out of ports: connecting the call with direct media beats
			// refusing it.
			s.log.Warn("media not anchored", "error", err)
			s.metrics.mediaFallback.Inc()
		}
	}
	c := s.newCall(req, tx, caller, calleeURI(tgt.Account), tgt.Account.RealName)
	if m != nil {
		c.m = m
		c.a.ms, c.a.sdpVer = m.a, 1
		c.a.mediaAddr = s.mediaAddr(m.a.Endpoint(), c.a.dest)
		s.collectDTMF(c, m.a)
		s.collectDTMF(c, m.b)
	}
	c.via = strings.Join(tgt.Via, ",")
	c.rec.want = recordsCalls(caller, tgt.Account)
	c.rulesOf = tgt.Account
	if _, after, ok := router.OnNoAnswer(tgt.Account); ok {
		c.divertAt.Store(c.started.Add(after).UnixNano())
	}
	c.journalLocked()
	c.log.Info("call", "from", caller.Name+"@"+caller.Domain, "to", req.Recipient.User+"@"+targetDomain,
		"callee", aor, "via", strings.Join(tgt.Via, ","), "contacts", len(bindings), "anchored", c.m != nil)
	// The transaction outlives the call in sipgo's timers; reach the call
	// through its id so that it does not keep the call reachable.
	id := c.id
	tx.OnCancel(func(*sip.Request) {
		if c := s.lookupCall(id); c != nil {
			go c.onCallerCancel()
		}
	})
	c.fork(bindings)
	select {
	case <-c.done:
	case <-tx.Done():
		c.cancel("caller transaction ended", cdr.ByCaller)
	}
}

// flowDest chooses where requests to a phone go. Over a connection (TCP,
// TLS), with SIP outbound or a proxy in between (viaFlow), or when the
// Contact does not name the address the phone talks from (it is behind NAT,
// or its host is a placeholder such as *.invalid), they go back along the
// flow the phone opened. Otherwise they go to the Contact, as RFC 3261 says:
// a phone may register from one port and listen on another.
func flowDest(contact sip.Uri, source, transport string, viaFlow bool) string {
	if viaFlow || transport != "UDP" {
		return source
	}
	host, _, err := net.SplitHostPort(source)
	if err != nil {
		return source
	}
	cip, err := netip.ParseAddr(strings.Trim(contact.Host, "[]"))
	src, err2 := netip.ParseAddr(host)
	if err != nil || err2 != nil || cip.Unmap() != src.Unmap() {
		return source
	}
	port := contact.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// routeAddr returns host:port of a Route or Path header value.
func routeAddr(v string) (string, bool) {
	var u sip.Uri
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	if err := sip.ParseUri(v, &u); err != nil || u.Host == "" {
		return "", false
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port)), true
}

func byInstance(bs []store.Binding, instance string) []store.Binding {
	var out []store.Binding
	for _, b := range bs {
		if strings.Trim(b.Instance, "<>") == instance {
			out = append(out, b)
		}
	}
	return out
}

// newCallID returns a call id that sorts by creation time: the time in
// milliseconds (8 base-36 digits until 2059), a sequence number and a random
// tail, so that ids stay unique across restarts and a store's index of ids
// grows at one end rather than everywhere.
func (s *Server) newCallID(now time.Time) string {
	ms := strconv.FormatInt(now.UnixMilli(), 36)
	if len(ms) < 8 {
		ms = strings.Repeat("0", 8-len(ms)) + ms
	}
	return ms + strconv.FormatUint(s.callSeq.Add(1)%1296, 36) + "-" + sip.GenerateTagN(4)
}

func calleeURI(a *store.Account) sip.Uri { return sip.Uri{Scheme: "sip", User: a.Name, Host: a.Domain} }

func (s *Server) newCall(req *sip.Request, tx sip.ServerTransaction, caller *store.Account, callee sip.Uri, calleeName string) *call {
	id := s.newCallID(time.Now())
	s.active.Add(1)
	c := &call{
		s: s, id: id, ainv: req, atx: tx,
		log:     s.log.With("call", id, "call-id", req.CallID().Value()),
		acks:    map[*leg]pendingAck{},
		lastAck: map[*leg]*sip.Request{},
		done:    make(chan struct{}),
		started: time.Now(),
	}
	c.ringUntil = c.started.Add(s.cfg.Calls.RingTimeout)
	from, to := req.From(), req.To()
	fromTag, _ := from.Params.Get("tag")
	c.a = &leg{
		name: "caller", callID: req.CallID().Value(), localTag: sip.GenerateTagN(12), remoteTag: fromTag,
		local: to.Address, remote: from.Address, localName: to.DisplayName, remoteName: from.DisplayName,
		transport: strings.ToUpper(req.Transport()), cseq: 1,
	}
	if ct := req.Contact(); ct != nil {
		c.a.target = ct.Address
	} else {
		c.a.target = from.Address
	}
	c.a.dest = flowDest(c.a.target, req.Source(), c.a.transport, len(req.GetHeaders("Record-Route")) > 0)
	for _, h := range req.GetHeaders("Record-Route") {
		c.a.routes = append(c.a.routes, h.Value())
	}
	s.mu.Lock()
	s.calls[id] = c
	s.ringing[c] = struct{}{}
	s.callers[callerKey(req)] = c
	s.mu.Unlock()
	c.callerName = callerDisplay(caller, from.DisplayName)
	c.callerURI = sip.Uri{Scheme: "sip", User: caller.Name, Host: caller.Domain}
	c.calleeURI = callee
	c.calleeName = calleeName
	return c
}

func callerDisplay(a *store.Account, given string) string {
	if a.RealName != "" {
		return a.RealName
	}
	return given
}

// contact is Ringo's Contact for a leg's transport.
func (s *Server) contact(transport string) string {
	switch strings.ToUpper(transport) {
	case "TCP":
		return "<sip:" + s.hostPort(s.port) + ";transport=tcp>"
	case "TLS":
		return "<sip:" + s.hostPort(s.tlsPort) + ";transport=tls>"
	}
	return "<sip:" + s.hostPort(s.port) + ">"
}

func (s *Server) hostPort(port int) string {
	h := s.host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return h + ":" + strconv.Itoa(port)
}

// newRequest builds a request within (or, for the initial INVITE, creating) leg l.
func (s *Server) newRequest(l *leg, method sip.RequestMethod, cseq uint32) *sip.Request {
	req := sip.NewRequest(method, *l.target.Clone())
	port := s.port
	if l.transport == "TLS" {
		port = s.tlsPort
	}
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: l.transport, Host: s.host, Port: port, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	for _, r := range l.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{DisplayName: l.localName, Address: l.local, Params: sip.NewParams()}
	from.Params.Add("tag", l.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{DisplayName: l.remoteName, Address: l.remote, Params: sip.NewParams()}
	if l.remoteTag != "" {
		to.Params.Add("tag", l.remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(l.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	if method == sip.INVITE || method == sip.UPDATE {
		req.AppendHeader(sip.NewHeader("Contact", s.contact(l.transport)))
	}
	req.SetTransport(l.transport)
	req.SetDestination(l.dest)
	if l.transport == "UDP" {
		req.Laddr = s.udpAddr // send from the listening socket, which phones and NATs expect
	}
	return req
}

// prebuilt tells sipgo the request is complete.
func prebuilt(*sipgo.Client, *sip.Request) error { return nil }

type bodyMsg interface {
	GetHeader(name string) sip.Header
	AppendHeader(h sip.Header)
	Body() []byte
	SetBody(b []byte)
}

func copyBody(dst, src bodyMsg) {
	if ct := src.GetHeader("Content-Type"); ct != nil && len(src.Body()) > 0 {
		dst.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
	}
	dst.SetBody(src.Body())
}

// fork sends an INVITE to every contact; the first to answer wins.
func (c *call) fork(bindings []store.Binding) {
	s := c.s
	mf := uint32(70)
	if h := c.ainv.MaxForwards(); h != nil {
		mf = h.Val() - 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range bindings {
		var target sip.Uri
		if err := sip.ParseUri(b.Contact, &target); err != nil {
			c.log.Warn("unusable contact", "contact", b.Contact, "error", err)
			continue
		}
		l := &leg{
			name: "callee", callID: sip.GenerateTagN(24) + "@ringo", localTag: sip.GenerateTagN(12),
			local: c.callerURI, remote: c.calleeURI, localName: c.callerName, remoteName: c.calleeName,
			target: target, routes: b.Path, transport: b.Transport, cseq: 1,
		}
		l.dest = flowDest(target, b.Source, b.Transport, b.RegID != "")
		if len(b.Path) > 0 {
			// RFC 3327: the request goes to the first Path hop, with the Path as its route.
			if hop, ok := routeAddr(b.Path[0]); ok {
				l.dest = hop
			}
		}
		if l.transport == "" {
			l.transport = "UDP"
		}
		inv := s.newRequest(l, sip.INVITE, l.cseq)
		maxf := sip.MaxForwardsHeader(mf)
		inv.ReplaceHeader(&maxf)
		inv.AppendHeader(allowHeader)
		if c.m != nil {
			offer, err := c.calleeOffer(l)
			if err != nil {
				c.log.Warn("writing the callee's offer failed", "error", err)
				continue
			}
			setSDP(inv, offer)
		} else {
			copyBody(inv, c.ainv)
		}
		f := &fork{leg: l, inv: inv}
		c.forks = append(c.forks, f)
		tx, err := s.client.TransactionRequest(context.Background(), inv, prebuilt)
		if err != nil {
			c.log.Warn("sending INVITE failed", "contact", b.Contact, "error", err)
			f.done = true
			c.noteFailure(sip.NewResponseFromRequest(inv, 480, "Temporarily Unavailable", nil))
			continue
		}
		go c.watchFork(f, tx)
	}
	c.maybeFailLocked()
}

func (c *call) watchFork(f *fork, tx sip.ClientTransaction) {
	for {
		select {
		case res := <-tx.Responses():
			c.onForkResponse(f, res)
			if res.IsSuccess() {
				// Its retransmissions reach onStrayResponse, which re-sends
				// the ACK; the transaction need not be kept 32 s for them.
				tx.Terminate()
				return
			}
			if !res.IsProvisional() {
				return // the transaction ACKs and retires by its own timers
			}
		case <-tx.Done():
			c.mu.Lock()
			if !f.done && !f.provisional || !f.done && tx.Err() != nil {
				code, reason := 480, "Temporarily Unavailable"
				if errors.Is(tx.Err(), sip.ErrTransactionTimeout) {
					code, reason = 408, "Request Timeout"
				}
				if !f.done && !f.stale && (tx.Err() != nil) {
					f.done = true
					c.noteFailure(sip.NewResponseFromRequest(f.inv, code, reason, nil))
					c.maybeFailLocked()
				}
			}
			c.mu.Unlock()
			return
		}
	}
}

func (c *call) onForkResponse(f *fork, res *sip.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case res.StatusCode == 100:
		return
	case f.stale:
		// A fork of a call that went elsewhere (a divert rule).
		switch {
		case res.IsProvisional():
			if f.cancelWanted && !f.cancelSent {
				c.sendCancelLocked(f)
			}
		case res.IsSuccess() && !f.done:
			f.done = true
			go c.s.ackAndBye(f.leg, f.inv, res)
		default:
			f.done = true
		}
		return
	case res.IsProvisional():
		f.provisional = true
		if f.cancelWanted && !f.cancelSent {
			c.sendCancelLocked(f)
			return
		}
		if c.finalSent {
			return
		}
		if c.m == nil {
			c.s.send(c.atx, c.responseToCaller(res.StatusCode, res.Reason, res))
			return
		}
		out := c.responseToCaller(res.StatusCode, res.Reason, nil)
		if hasSDP(res) {
			// Early media: relayed like the call's, from the fork that sent it.
			if body, err := c.calleeSDPLocked(f.leg, res.Body()); err != nil {
				c.log.Info("unusable early media SDP", "status", res.StatusCode, "error", err)
			} else {
				c.m.early = true
				if !c.m.late() {
					// A caller that made no offer gets Ringo's in the 200:
					// a provisional response is not sent reliably.
					setSDP(out, body)
				}
			}
		}
		c.s.send(c.atx, out)
	case res.IsSuccess():
		if f.done {
			return // a retransmission; the ACK is sent once the caller ACKs
		}
		if c.app != nil && c.app.xfer != nil && c.b == nil && c.state == stateAnswered {
			c.transferAnsweredLocked(f, res)
			return
		}
		f.done = true
		if c.finalSent || c.b != nil {
			// Lost the race: another contact answered, or the caller gave up.
			go c.s.ackAndBye(f.leg, f.inv, res)
			return
		}
		var body []byte
		if c.m != nil {
			var err error
			switch {
			case hasSDP(res):
				body, err = c.calleeSDPLocked(f.leg, res.Body())
			case c.m.early:
				body = c.m.callerSDP()
			default:
				err = errors.New("the answer carries no SDP")
			}
			if err != nil {
				// Ringo offered only what it can relay; an answer outside
				// that leaves the call without media: end this branch.
				c.log.Warn("unusable answer from the callee", "contact", f.leg.target.String(), "error", err)
				go c.s.ackAndBye(f.leg, f.inv, res)
				c.noteFailure(sip.NewResponseFromRequest(f.inv, 488, "Not Acceptable Here", nil))
				c.maybeFailLocked()
				return
			}
		}
		c.answerLocked(f, res, body)
	default:
		if f.done {
			return
		}
		f.done = true
		c.noteFailure(res)
		if res.StatusCode >= 600 {
			for _, o := range c.forks {
				c.cancelForkLocked(o)
			}
		}
		c.maybeFailLocked()
	}
}

// responseToCaller builds a response to the caller's INVITE carrying a
// callee response's status and body.
func (c *call) responseToCaller(code int, reason string, from *sip.Response) *sip.Response {
	out := sip.NewResponseFromRequest(c.ainv, code, reason, nil)
	out.To().Params.Add("tag", c.a.localTag)
	if from != nil {
		copyBody(out, from)
	}
	if code > 100 && code < 300 {
		out.AppendHeader(sip.NewHeader("Contact", c.s.contact(c.a.transport)))
	}
	return out
}

// answerLocked connects the caller to the fork that answered; body, when
// set, is the SDP for the caller in place of the callee's.
func (c *call) answerLocked(f *fork, res *sip.Response, body []byte) {
	s := c.s
	b := f.leg
	b.remoteTag, _ = res.To().Params.Get("tag")
	if ct := res.Contact(); ct != nil {
		b.target = ct.Address
	}
	rr := res.GetHeaders("Record-Route")
	b.routes = nil
	for i := len(rr) - 1; i >= 0; i-- {
		b.routes = append(b.routes, rr[i].Value())
	}
	c.b = b
	c.state = stateAnswered
	c.answered = time.Now()
	c.startRecordingLocked()
	c.acks[c.a] = pendingAck{cseqIn: c.ainv.CSeq().SeqNo, out: b, outCSeq: f.inv.CSeq().SeqNo, callerAnswer: c.m != nil && c.m.late()}
	s.mu.Lock()
	s.dialogs[dialogKey(c.a.callID, c.a.localTag)] = &dialog{c: c, l: c.a}
	s.dialogs[dialogKey(b.callID, b.localTag)] = &dialog{c: c, l: b}
	s.mu.Unlock()
	for _, o := range c.forks {
		if o != f {
			c.cancelForkLocked(o)
		}
	}
	var out *sip.Response
	if body != nil {
		out = c.responseToCaller(200, "OK", nil)
		setSDP(out, body)
	} else {
		out = c.responseToCaller(200, "OK", res)
	}
	c.log.Info("answered", "contact", b.target.String(), "ring", time.Since(c.started).Round(time.Millisecond).String())
	c.sendAnswerLocked(out)
}

// sendAnswerLocked sends the caller the 200 to its INVITE, retransmitted
// until the ACK.
func (c *call) sendAnswerLocked(out *sip.Response) {
	s := c.s
	out.AppendHeader(allowHeader)
	c.finalSent = true
	c.s.stopRinging(c)
	// The 2xx and its retransmissions are Ringo's (the UAS core's) to send;
	// ending the INVITE transaction first spares sipgo's 32 s "Accepted"
	// state, which would hold the transaction and the request in memory.
	c.atx.Terminate()
	s.writeResponse(out)
	if c.a.transport == "UDP" {
		c.ok, c.okEvery, c.okGiveUp = out, sip.T1, time.Now().Add(64*sip.T1)
		c.okTimer = time.AfterFunc(c.okEvery, c.retransmitOK)
	}
	c.journalLocked()
	close(c.done)
}

// retransmitOK re-sends the caller's 200 until it is ACKed; a caller that
// never ACKs is hung up on.
func (c *call) retransmitOK() {
	c.mu.Lock()
	if c.ok == nil || c.state != stateAnswered {
		c.mu.Unlock()
		return
	}
	if time.Now().After(c.okGiveUp) {
		c.ok = nil
		c.mu.Unlock()
		c.log.Warn("caller never acknowledged the answer")
		c.hangupBoth("no ACK from caller")
		return
	}
	c.s.writeResponse(c.ok)
	c.okEvery = min(2*c.okEvery, sip.T2)
	c.okTimer = time.AfterFunc(c.okEvery, c.retransmitOK)
	c.mu.Unlock()
}

// acked stops the 200 retransmissions and lets the caller's INVITE
// transaction go: the dialog, not the transaction, carries the call now.
func (c *call) ackedLocked() {
	if c.ok == nil {
		return
	}
	c.ok = nil
	c.okTimer.Stop()
}

// noteFailure keeps the most telling failure among the forks (RFC 3261 §16.7).
func (c *call) noteFailure(res *sip.Response) {
	if c.bestFail == nil || failRank(res.StatusCode) < failRank(c.bestFail.StatusCode) {
		c.bestFail = res
	}
}

func failRank(code int) int {
	switch {
	case code >= 600:
		return 0
	case code == 486:
		return 1
	case code == 408:
		return 5
	case code >= 400 && code < 500:
		return 2
	case code >= 300 && code < 400:
		return 3
	}
	return 4
}

// maybeFailLocked answers the caller once every fork has failed.
func (c *call) maybeFailLocked() {
	if c.app != nil && c.app.xfer != nil {
		for _, f := range c.forks {
			if !f.done {
				return
			}
		}
		c.transferFailedLocked()
		return
	}
	if c.finalSent {
		return
	}
	for _, f := range c.forks {
		if !f.done {
			return
		}
	}
	code, reason := 480, "Temporarily Unavailable"
	if c.bestFail != nil {
		code, reason = c.bestFail.StatusCode, c.bestFail.Reason
	}
	if c.divertOnFailureLocked(code) {
		return
	}
	c.finalSent = true
	c.s.stopRinging(c)
	c.s.send(c.atx, c.responseToCaller(code, reason, nil))
	c.log.Info("call failed", "status", code, "reason", reason)
	by := cdr.ByCallee
	if c.bestFail == nil {
		by = cdr.BySystem
	}
	c.finishLocked(outcomeFor(code), code, by)
	close(c.done)
}

func outcomeFor(code int) string {
	switch {
	case code == 486 || code == 600:
		return "busy"
	case code == 408 || code == 480:
		return "noanswer"
	case code == 487:
		return "cancelled"
	}
	return "failed"
}

func (c *call) cancelForkLocked(f *fork) {
	if f.done || f.cancelWanted {
		return
	}
	f.cancelWanted = true
	if f.provisional {
		c.sendCancelLocked(f)
	}
	// Otherwise the CANCEL goes out with the first provisional response
	// (RFC 3261 §9.1); a fork that never answers times out.
}

func (c *call) sendCancelLocked(f *fork) {
	f.cancelSent = true
	inv := f.inv
	cancel := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	cancel.AppendHeader(inv.Via().Clone())
	for _, r := range inv.GetHeaders("Route") {
		cancel.AppendHeader(sip.NewHeader("Route", r.Value()))
	}
	mf := sip.MaxForwardsHeader(70)
	cancel.AppendHeader(&mf)
	cancel.AppendHeader(sip.HeaderClone(inv.From()))
	cancel.AppendHeader(sip.HeaderClone(inv.To()))
	cancel.AppendHeader(sip.HeaderClone(inv.CallID()))
	cancel.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	cancel.SetBody(nil)
	cancel.SetTransport(inv.Transport())
	cancel.SetDestination(inv.Destination())
	cancel.Laddr = inv.Laddr
	go c.s.fireAndForget(cancel)
}

// fireAndForget sends a request and waits for its final response only to
// let its transaction finish.
func (s *Server) fireAndForget(req *sip.Request) *sip.Response {
	return s.fireAndForgetWithin(req, 32*time.Second)
}

func (s *Server) fireAndForgetWithin(req *sip.Request, d time.Duration) *sip.Response {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	tx, err := s.client.TransactionRequest(ctx, req, prebuilt)
	if err != nil {
		s.log.Debug("sending request failed", "method", req.Method, "error", err)
		return nil
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if !res.IsProvisional() {
				return res
			}
		case <-tx.Done():
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// cancel ends a call that is still ringing: the caller went away, or the
// server is shutting down (by says which).
func (c *call) cancel(why, by string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finalSent {
		return
	}
	c.finalSent = true
	c.s.stopRinging(c)
	for _, f := range c.forks {
		c.cancelForkLocked(f)
	}
	c.log.Info("call cancelled", "why", why)
	c.finishLocked("cancelled", 487, by)
	close(c.done)
}

// onCallerCancel runs when the caller's CANCEL matched the INVITE; sipgo
// has already answered it 200 and the INVITE 487.
func (c *call) onCallerCancel() { c.cancel("caller cancelled", cdr.ByCaller) }

func (s *Server) stopRinging(c *call) {
	s.mu.Lock()
	delete(s.ringing, c)
	s.mu.Unlock()
}

// watchRinging times out unanswered calls. One ticker serves every call:
// a runtime timer per call, even stopped, keeps the call reachable until
// its deadline would have passed, which at thousands of calls per second
// is a large live heap for the garbage collector to scan.
func (s *Server) watchRinging(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var expired, diverts []*call
	var lastSweep time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			expired = expired[:0]
			s.mu.Lock()
			diverts = diverts[:0]
			for c := range s.ringing {
				if now.After(c.ringUntil) {
					expired = append(expired, c)
				} else if at := c.divertAt.Load(); at != 0 && now.UnixNano() > at {
					diverts = append(diverts, c)
				}
			}
			if now.Sub(lastSweep) > 5*time.Second {
				lastSweep = now
				for k, at := range s.ended {
					if now.Sub(at) > 64*sip.T1 {
						delete(s.ended, k)
					}
				}
			}
			s.mu.Unlock()
			for _, c := range expired {
				c.ringTimeout()
			}
			for _, c := range diverts {
				c.noAnswerRule()
			}
		}
	}
}

func (c *call) ringTimeout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finalSent {
		return
	}
	c.finalSent = true
	c.s.stopRinging(c)
	for _, f := range c.forks {
		c.cancelForkLocked(f)
	}
	c.s.send(c.atx, c.responseToCaller(408, "Request Timeout", nil))
	c.log.Info("no answer", "after", c.s.cfg.Calls.RingTimeout.String())
	c.finishLocked("noanswer", 408, cdr.BySystem)
	close(c.done)
}

// finishLocked accounts for the end of a call once: code is the final
// answer of an unanswered call (0 after a BYE) and by who ended it.
func (c *call) finishLocked(outcome string, code int, by string) {
	if c.state == stateEnded {
		return
	}
	c.state = stateEnded
	c.outcome = outcome
	c.notifyAppLocked("hangup")
	for _, f := range c.forks {
		// A transfer still ringing when the caller hangs up.
		c.cancelForkLocked(f)
	}
	if c.s.journal != nil {
		c.s.journal.Closed(c.id)
	}
	c.recorded = closedChan
	c.stopRecordingLocked()
	if c.s.recorder != nil {
		c.recorded = c.recordAfterRecordingLocked(c.recordLocked(outcome, code, by))
	}
	if c.okTimer != nil {
		c.okTimer.Stop()
	}
	c.releaseMediaLocked()
	s := c.s
	s.mu.Lock()
	delete(s.calls, c.id)
	delete(s.callers, callerKey(c.ainv))
	now := time.Now()
	for _, l := range []*leg{c.a, c.b} {
		if l == nil {
			continue
		}
		k := dialogKey(l.callID, l.localTag)
		if _, ok := s.dialogs[k]; ok {
			delete(s.dialogs, k)
			s.ended[k] = now
		}
	}
	s.mu.Unlock()
	s.metrics.calls.WithLabelValues(outcome).Inc()
	if s.active.Add(-1) == 0 {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}

// ackAndBye ends a dialog nobody wants: a late 2xx from a losing fork.
func (s *Server) ackAndBye(l *leg, inv *sip.Request, res *sip.Response) {
	l.remoteTag, _ = res.To().Params.Get("tag")
	if ct := res.Contact(); ct != nil {
		l.target = ct.Address
	}
	ack := s.newRequest(l, sip.ACK, inv.CSeq().SeqNo)
	if err := s.client.WriteRequest(ack, prebuilt); err != nil {
		s.log.Debug("ACK failed", "error", err)
	}
	s.fireAndForget(s.newRequest(l, sip.BYE, inv.CSeq().SeqNo+1))
}

func callerKey(req *sip.Request) string {
	tag, _ := req.From().Params.Get("tag")
	return req.CallID().Value() + "|" + tag
}

func (s *Server) lookupCallerLeg(req *sip.Request) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callers[callerKey(req)]
}

func (s *Server) lookupCall(id string) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// journalLocked notes the call, as far as it has got, in the journal of
// calls in progress.
func (c *call) journalLocked() {
	if c.s.journal == nil {
		return
	}
	r := c.recordLocked(string(cdr.Interrupted), 0, cdr.BySystem)
	r.Ended, r.Durations = time.Time{}, cdr.Durations{}
	c.s.journal.Opened(r)
}

// recordLocked describes the call for its durable record.
func (c *call) recordLocked(outcome string, code int, by string) cdr.Record {
	r := cdr.Record{
		ID: c.id, CallID: c.a.callID, Domain: c.callerURI.Host, Direction: cdr.Internal,
		Caller:  cdr.Party{Account: c.callerURI.User, Number: c.callerURI.User, Name: c.callerName, Address: c.ainv.Source()},
		Callee:  cdr.Party{Account: c.calleeURI.User, Number: c.calleeURI.User, Name: c.calleeName},
		Dialled: c.ainv.Recipient.User,
		Route:   cdr.Route{Kind: "account", Target: c.calleeURI.User + "@" + c.calleeURI.Host},
		Created: c.started, Answered: c.answered, Ended: time.Now(),
		Outcome: cdr.Outcome(outcome),
		Hangup:  cdr.Hangup{SIPCode: code, By: by, Cause: causeOf(outcome, code)},
	}
	if strings.HasPrefix(c.via, "alias") {
		r.Route.Kind = "alias"
	}
	if strings.Contains(c.via, "rule ") {
		// The account's rule sent the call to another address.
		r.Route.Kind = "rule"
		if outcome == "answered" {
			r.Outcome = cdr.Diverted
		}
	}
	if c.service != "" {
		r.Callee.Account = ""
		r.Route = cdr.Route{Kind: "service", Target: c.service}
	}
	if a := c.app; a != nil {
		r.Route = cdr.Route{Kind: "app", Target: a.name + "#" + a.owner.Name + "@" + a.owner.Domain}
		if strings.HasPrefix(a.via, "rule") && outcome == "answered" {
			// Answered by the program the account's rule sent it to.
			r.Outcome = cdr.Diverted
		}
	}
	if c.b != nil {
		r.Callee.Address = c.b.dest
	}
	r.DTMF = c.extra.dtmfString()
	r.Recordings = c.rec.recordings()
	r.FillDurations()
	return r
}

func causeOf(outcome string, code int) string {
	switch {
	case outcome == "answered":
		return "NORMAL_CLEARING"
	case code == 486 || code == 600:
		return "USER_BUSY"
	case code == 408:
		return "NO_ANSWER"
	case code == 487:
		return "ORIGINATOR_CANCEL"
	case code == 480:
		return "NO_USER_RESPONSE"
	case code == 488:
		return "INCOMPATIBLE_DESTINATION"
	}
	return "CALL_REJECTED"
}

// recordRejected records a call refused before any phone rang: an unknown
// number (404, failed), a callee with no registered phone (480, no answer)
// or an offer Ringo cannot use (488, failed).
func (s *Server) recordRejected(req *sip.Request, caller, callee *store.Account, code int) {
	if s.recorder == nil {
		return
	}
	now := time.Now()
	r := cdr.Record{
		ID:        s.newCallID(now),
		CallID:    req.CallID().Value(),
		Domain:    caller.Domain,
		Direction: cdr.Internal,
		Caller:    cdr.Party{Account: caller.Name, Number: caller.Name, Name: callerDisplay(caller, req.From().DisplayName), Address: req.Source()},
		Callee:    cdr.Party{Number: req.Recipient.User},
		Dialled:   req.Recipient.User,
		Route:     cdr.Route{Kind: "none"},
		Created:   now, Ended: now,
		Outcome: cdr.Failed,
		Hangup:  cdr.Hangup{SIPCode: code, By: cdr.BySystem, Cause: "UNALLOCATED_NUMBER"},
	}
	if callee != nil {
		r.Callee.Account, r.Callee.Name = callee.Name, callee.RealName
		r.Route = cdr.Route{Kind: "account", Target: callee.Name + "@" + callee.Domain}
		r.Outcome, r.Hangup.Cause = cdr.NoAnswer, "SUBSCRIBER_ABSENT"
	}
	if code == 488 {
		r.Outcome, r.Hangup.Cause = cdr.Failed, "INCOMPATIBLE_DESTINATION"
	}
	r.FillDurations()
	s.record(r)
}

// record writes a call's record without holding up the call's goroutine;
// the channel is closed once it is durable (or writing it failed).
func (s *Server) record(r cdr.Record) <-chan struct{} {
	done := make(chan struct{})
	s.recording.Add(1)
	go func() {
		defer s.recording.Done()
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.recorder.Write(ctx, r); err != nil {
			s.log.Error("writing the call record failed", "call", r.ID, "error", err)
		}
	}()
	return done
}

// recentlyEnded reports whether a dialog ended within the last 64*T1. BYEs
// are answered statelessly, so their retransmissions are recognised here.
func (s *Server) recentlyEnded(callID, localTag string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ended[dialogKey(callID, localTag)]
	return ok
}

func (s *Server) lookupDialog(callID, localTag string) *dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialogs[dialogKey(callID, localTag)]
}

// onInDialog handles requests within an established call: BYE ends both
// legs; re-INVITE, UPDATE, INFO and the rest are relayed to the other leg.
func (s *Server) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if req.Method != sip.INVITE && req.Method != sip.OPTIONS {
		s.metrics.requests.WithLabelValues(knownMethod(string(req.Method))).Inc()
	}
	to := req.To()
	tag := ""
	if to != nil {
		tag, _ = to.Params.Get("tag")
	}
	if req.CallID() == nil || tag == "" {
		if req.Method == sip.BYE || req.Method == sip.INFO || req.Method == sip.UPDATE {
			s.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
			return
		}
		s.respond(tx, req, 405, "Method Not Allowed: only within a call", nil, allowHeader)
		return
	}
	d := s.lookupDialog(req.CallID().Value(), tag)
	if d == nil {
		if req.Method == sip.BYE && s.recentlyEnded(req.CallID().Value(), tag) {
			// A retransmitted BYE whose 200 was lost: the call is over either way.
			s.respond(tx, req, 200, "OK", nil)
			return
		}
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	c := d.c
	if req.Method == sip.BYE {
		durable := c.hangup(d.l, "bye from "+d.l.name)
		if s.cfg.Records.DurableBye {
			// The call's record is durable before its end is confirmed.
			select {
			case <-durable:
			case <-time.After(5 * time.Second):
			}
		}
		s.respond(tx, req, 200, "OK", nil)
		return
	}
	c.relay(req, tx, d.l)
}

// other returns the leg across from l.
func (c *call) other(l *leg) *leg {
	if l == c.a {
		return c.b
	}
	return c.a
}

// hangup ends an answered call: the leg that hung up is done; BYE the
// other. The channel it returns is closed once the call's record is durable.
func (c *call) hangup(from *leg, why string) <-chan struct{} {
	c.mu.Lock()
	if c.state == stateEnded {
		c.mu.Unlock()
		return closedChan
	}
	var bye *sip.Request
	if other := c.other(from); other != nil {
		other.cseq++
		bye = c.s.newRequest(other, sip.BYE, other.cseq)
	}
	c.log.Info("hangup", "why", why, "talk", time.Since(c.answered).Round(time.Millisecond).String())
	by := cdr.ByCallee
	if from == c.a {
		by = cdr.ByCaller
	}
	c.finishLocked("answered", 0, by)
	durable := c.recorded
	c.mu.Unlock()
	if bye != nil {
		go c.s.fireAndForget(bye)
	}
	return durable
}

// closedChan is a channel that is always ready.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// relay forwards an in-dialog request to the other leg and its final
// response back. In an anchored call an offer in it (re-INVITE, UPDATE)
// is rewritten to Ringo's endpoint on the other leg, and the answer to
// Ringo's endpoint on this one.
func (c *call) relay(req *sip.Request, tx sip.ServerTransaction, from *leg) {
	c.mu.Lock()
	if c.state != stateAnswered {
		c.mu.Unlock()
		c.s.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	if req.Method == sip.INFO && c.dtmfInfoLocked(req, tx, from) {
		c.mu.Unlock()
		return
	}
	if c.selfAnswered() {
		c.serviceRequestLocked(req, tx)
		c.mu.Unlock()
		return
	}
	to := c.other(from)
	isInvite := req.Method == sip.INVITE
	if isInvite {
		if c.reinvite {
			c.mu.Unlock()
			c.s.respond(tx, req, 491, "Request Pending", nil)
			return
		}
		c.reinvite = true
	}
	to.cseq++
	out := c.s.newRequest(to, req.Method, to.cseq)
	for _, name := range []string{"Event", "Subscription-State", "Session-Expires", "Min-SE"} {
		for _, h := range req.GetHeaders(name) {
			out.AppendHeader(sip.NewHeader(h.Name(), h.Value()))
		}
	}
	var offer *media.Description
	anchored := c.m != nil && from.ms != nil && to.ms != nil && (isInvite || req.Method == sip.UPDATE)
	if anchored && hasSDP(req) {
		body, d, err := c.reofferLocked(to, req.Body())
		if err != nil {
			if isInvite {
				c.reinvite = false
			}
			to.cseq-- // nothing was sent
			c.mu.Unlock()
			code, reason := sdpStatus(err)
			c.log.Info("unusable re-offer", "from", from.name, "error", err)
			c.s.respond(tx, req, code, reason, nil)
			return
		}
		offer = d
		setSDP(out, body)
	} else {
		copyBody(out, req)
	}
	c.mu.Unlock()

	res := c.s.fireAndForget(out)

	c.mu.Lock()
	if isInvite {
		c.reinvite = false
	}
	var reply *sip.Response
	var lateOffer []byte
	if res == nil {
		reply = sip.NewResponseFromRequest(req, 408, "Request Timeout", nil)
	} else {
		reply = sip.NewResponseFromRequest(req, res.StatusCode, res.Reason, nil)
		switch {
		case offer != nil && res.IsSuccess() && hasSDP(res) && c.state == stateAnswered:
			body, err := c.reanswerLocked(from, to, offer, res.Body())
			if err != nil {
				// The other phone accepted; what it answered cannot be relayed,
				// so the media stays as it was.
				c.log.Warn("unusable answer to a re-offer", "from", to.name, "error", err)
			} else {
				setSDP(reply, body)
			}
		case anchored && hasSDP(res) && c.state == stateAnswered:
			// An offer in the answer to an offerless re-INVITE: keep it on
			// Ringo's address; the media follows the ACK's answer.
			if body, err := media.Rewrite(res.Body(), from.endpoint(true)); err == nil {
				setSDP(reply, body)
				lateOffer = res.Body()
			}
		default:
			copyBody(reply, res)
		}
		if isInvite && res.IsSuccess() {
			reply.AppendHeader(sip.NewHeader("Contact", c.s.contact(from.transport)))
			c.acks[from] = pendingAck{cseqIn: req.CSeq().SeqNo, out: to, outCSeq: out.CSeq().SeqNo, offer: lateOffer}
		}
	}
	c.mu.Unlock()
	c.s.send(tx, reply)
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.requests.WithLabelValues("ACK").Inc()
	to := req.To()
	if to == nil || req.CallID() == nil || req.CSeq() == nil {
		return
	}
	tag, _ := to.Params.Get("tag")
	d := s.lookupDialog(req.CallID().Value(), tag)
	if d == nil {
		return
	}
	c := d.c
	c.mu.Lock()
	p, ok := c.acks[d.l]
	if !ok || p.cseqIn != req.CSeq().SeqNo {
		c.mu.Unlock()
		return
	}
	delete(c.acks, d.l)
	if d.l == c.a {
		c.ackedLocked()
	}
	if p.out == nil {
		c.mu.Unlock() // a service call: the ACK ends here
		return
	}
	ack := s.newRequest(p.out, sip.ACK, p.outCSeq)
	var noMedia error
	switch {
	case p.callerAnswer:
		// The callee answered Ringo's own offer: its ACK carries nothing.
		if c.state == stateAnswered {
			noMedia = c.callerAnswerLocked(req)
		}
	case p.offer != nil && hasSDP(req):
		if body, err := c.lateAnswerLocked(d.l, p.out, p.offer, req.Body()); err != nil {
			c.log.Warn("unusable answer in an ACK", "from", d.l.name, "error", err)
		} else {
			setSDP(ack, body)
		}
	default:
		copyBody(ack, req)
	}
	c.lastAck[p.out] = ack
	c.mu.Unlock()
	if err := s.client.WriteRequest(ack, prebuilt); err != nil {
		c.log.Warn("relaying ACK failed", "error", err)
	}
	if noMedia != nil {
		// Ringo offered only what it can relay; without a usable answer
		// the call has no media, so neither phone is left waiting for it.
		c.log.Warn("no usable answer in the caller's ACK", "error", noMedia)
		go c.endBoth("no usable answer in the caller's ACK", "failed", 488)
	}
}

// onStrayResponse sees responses that matched no client transaction, in
// practice retransmitted 2xx to an INVITE: re-send the ACK we sent, or, for
// a dialog we no longer know, ACK and BYE it so the phone stops ringing.
func (s *Server) onStrayResponse(res *sip.Response) {
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE || res.CallID() == nil || res.From() == nil {
		return
	}
	tag, _ := res.From().Params.Get("tag")
	if d := s.lookupDialog(res.CallID().Value(), tag); d != nil {
		d.c.mu.Lock()
		ack := d.c.lastAck[d.l]
		d.c.mu.Unlock()
		if ack != nil && ack.CSeq().SeqNo == res.CSeq().SeqNo {
			s.client.WriteRequest(ack.Clone(), prebuilt)
		}
	}
}

// hangupAll ends every call (the drain deadline passed).
func (s *Server) hangupAll() {
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range calls {
		c.mu.Lock()
		answered := c.state == stateAnswered
		c.mu.Unlock()
		if answered {
			wg.Add(1)
			go func() { defer wg.Done(); c.hangupBoth("server shutting down") }()
		} else {
			c.cancel("server shutting down", cdr.BySystem)
		}
	}
	wg.Wait()
}

func (c *call) hangupBoth(why string) { c.endBoth(why, "answered", 0) }

// endBoth ends an answered call from Ringo's side, with a BYE on each leg;
// outcome and code are what its record keeps.
func (c *call) endBoth(why, outcome string, code int) {
	c.mu.Lock()
	if c.state == stateEnded {
		c.mu.Unlock()
		return
	}
	var byes []*sip.Request
	for _, l := range []*leg{c.a, c.b} {
		if l == nil {
			continue // a service call has only the caller's leg
		}
		l.cseq++
		byes = append(byes, c.s.newRequest(l, sip.BYE, l.cseq))
	}
	c.log.Info("hangup", "why", why)
	c.finishLocked(outcome, code, cdr.BySystem)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, b := range byes {
		wg.Add(1)
		// Shutting down: a phone that does not answer its BYE at once is gone.
		go func() { defer wg.Done(); c.s.fireAndForgetWithin(b, 2*time.Second) }()
	}
	wg.Wait()
}

// CallInfo describes a live call for the API.
type CallInfo struct {
	ID       string    `json:"id"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	State    string    `json:"state"`
	Started  time.Time `json:"started"`
	Answered time.Time `json:"answered,omitempty"`
	// Media is direct, anchored, or the service that answered (echo, tone,
	// playback); Legs summarise each media session.
	Media string         `json:"media"`
	Legs  []MediaSummary `json:"legs,omitempty"`
}

// MediaSummary is one media session of a call, in brief.
type MediaSummary struct {
	Leg        string  `json:"leg"`
	Local      string  `json:"local"`
	Remote     string  `json:"remote,omitempty"` // latched, else from SDP
	Codec      string  `json:"codec,omitempty"`
	PacketsIn  uint64  `json:"packetsIn"`
	PacketsOut uint64  `json:"packetsOut"`
	Lost       int64   `json:"lost"`
	JitterMS   float64 `json:"jitterMs"`
}

// CallDetail is a live call with each media session's chain and counters.
type CallDetail struct {
	CallInfo
	Sessions []media.SessionInfo `json:"sessions,omitempty"`
	// DTMF are the digits received so far, in order.
	DTMF []DTMFDigit `json:"dtmf"`
}

func summarise(infos []media.SessionInfo) []MediaSummary {
	out := make([]MediaSummary, 0, len(infos))
	for _, in := range infos {
		m := MediaSummary{Leg: in.Name, Local: in.Local, Remote: in.Remote,
			PacketsIn: in.Counters.PacketsIn, PacketsOut: in.Counters.PacketsOut,
			Lost: in.Counters.Lost, JitterMS: in.Counters.JitterMS}
		if in.Latched != "" {
			m.Remote = in.Latched
		}
		if len(in.Codecs) > 0 {
			m.Codec = in.Codecs[0]
		}
		out = append(out, m)
	}
	return out
}

// infoLocked describes the call; sessions is its media's Describe.
func (c *call) infoLocked() (CallInfo, []media.SessionInfo) {
	st := "ringing"
	if c.state == stateAnswered {
		st = "answered"
	}
	info := CallInfo{ID: c.id, From: c.callerURI.User + "@" + c.callerURI.Host,
		To: c.calleeURI.User + "@" + c.calleeURI.Host, State: st, Started: c.started, Answered: c.answered,
		Media: mediaDirect}
	var sessions []media.SessionInfo
	if c.m != nil {
		info.Media = mediaAnchored
		if c.service != "" {
			info.Media = serviceKind(c.service)
		}
		sessions = c.describeMedia()
		info.Legs = summarise(sessions)
	}
	return info, sessions
}

// Calls lists live calls.
func (s *Server) Calls() []CallInfo {
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	out := make([]CallInfo, 0, len(calls))
	for _, c := range calls {
		c.mu.Lock()
		if c.state != stateEnded {
			info, _ := c.infoLocked()
			out = append(out, info)
		}
		c.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b CallInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Call describes one live call by its id.
func (s *Server) Call(id string) (CallDetail, bool) {
	c := s.lookupCall(id)
	if c == nil {
		return CallDetail{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateEnded {
		return CallDetail{}, false
	}
	info, sessions := c.infoLocked()
	return CallDetail{CallInfo: info, Sessions: sessions, DTMF: c.extra.dtmf()}, true
}
