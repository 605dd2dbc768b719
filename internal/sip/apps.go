package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/store"
)

// Apps runs programs for calls; the pbx package implements it.
type Apps interface {
	// StartCall starts program app as a task owned by owner, with c
	// pending. An error means no task took the call (no such program).
	StartCall(app string, owner *store.Account, c callapi.Call, via string) error
}

// SetApps gives the server what runs programs for "app#account" signals
// and "#app" rule targets. Set it before Serve.
func (s *Server) SetApps(a Apps) { s.apps.Store(&a) }

// appState is a call handed to a program. The program holds the call
// until it sends it elsewhere (Redirect, Transfer) or the call ends.
type appState struct {
	name    string
	owner   *store.Account
	via     string
	handler atomic.Pointer[callapi.Handler]
	gone    bool      // the program lost the call (call.mu)
	early   bool      // Provision with media sent a 183 (call.mu)
	xfer    *transfer // a Transfer in progress (call.mu)
}

// transfer waits for the target of a Transfer to answer or fail.
type transfer struct {
	done      chan error // buffered: one result
	oldCallee sip.Uri
	oldName   string
}

// divertToApp hands an incoming INVITE to the program app, run as a task
// owned by owner: a signal to app#owner@domain, or a real-time rule's
// target "#app". via says how the call got there, for the logs and the
// call record ("rule afterhours", "address").
func (s *Server) divertToApp(req *sip.Request, tx sip.ServerTransaction, caller, owner *store.Account, app, via string) {
	apps := s.apps.Load()
	if apps == nil {
		s.respond(tx, req, 404, "Not Found: no application "+app, nil)
		s.recordRejected(req, caller, owner, 404)
		return
	}
	c := s.newCall(req, tx, caller, calleeURI(owner), owner.RealName)
	c.mu.Lock()
	c.app = &appState{name: app, owner: owner, via: via}
	c.via = via
	c.journalLocked()
	c.mu.Unlock()
	c.log.Info("call to an application", "from", caller.Name+"@"+caller.Domain, "app", app+"#"+owner.Name+"@"+owner.Domain, "via", via)
	id := c.id
	tx.OnCancel(func(*sip.Request) {
		if c := s.lookupCall(id); c != nil {
			go c.onCallerCancel()
		}
	})
	if err := (*apps).StartCall(app, owner, &appCall{c: c}, via); err != nil {
		c.log.Warn("application not started", "app", app, "error", err)
		c.mu.Lock()
		c.rejectLocked(404, "Not Found: no application "+app)
		c.mu.Unlock()
	}
	select {
	case <-c.done:
	case <-tx.Done():
		c.cancel("caller transaction ended", cdr.ByCaller)
	}
}

// appAddress splits the user part of app#account ("%23" when escaped).
func appAddress(user string) (app, owner string, ok bool) {
	u := strings.ReplaceAll(user, "%23", "#")
	app, owner, ok = strings.Cut(u, "#")
	if !ok || app == "" || owner == "" || strings.ContainsAny(app, "/\\.") {
		return "", "", false
	}
	return app, owner, true
}

// selfAnswered reports whether Ringo itself is the far end of the call:
// a service, or a program that has not sent the call elsewhere.
func (c *call) selfAnswered() bool {
	return c.service != "" || (c.app != nil && c.b == nil)
}

// notifyAppLocked tells the program that it lost the call, once.
func (c *call) notifyAppLocked(reason string) {
	a := c.app
	if a == nil || a.gone {
		return
	}
	a.gone = true
	c.extra.setDigitHook(nil)
	if h := a.handler.Load(); h != nil {
		(*h).Disconnected(reason)
	}
}

// rejectLocked answers a pending call with a failure.
func (c *call) rejectLocked(code int, reason string) {
	if c.finalSent {
		return
	}
	c.finalSent = true
	c.s.stopRinging(c)
	c.s.send(c.atx, c.responseToCaller(code, reason, nil))
	c.log.Info("call rejected", "status", code, "reason", reason)
	c.notifyAppLocked("rejected")
	c.finishLocked(outcomeFor(code), code, cdr.ByCallee)
	close(c.done)
}

// appCall is a call as the program that holds it sees it.
type appCall struct{ c *call }

var _ callapi.Call = (*appCall)(nil)

func (ac *appCall) ID() string { return ac.c.id }

func (ac *appCall) SetHandler(h callapi.Handler) {
	c := ac.c
	c.app.handler.Store(&h)
	c.extra.setDigitHook(h.Digit)
}

func (ac *appCall) Mode() callapi.Mode {
	c := ac.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.modeLocked()
}

func (c *call) modeLocked() callapi.Mode {
	switch {
	case c.state == stateEnded || c.app.gone:
		return callapi.Disconnected
	case c.state == stateAnswered:
		return callapi.Connected
	case c.app.early:
		return callapi.Provisioned
	case c.finalSent:
		return callapi.Disconnected
	}
	return callapi.Incoming
}

// callerMediaLocked opens the caller's session and answers the caller's
// offer from it, once: a 183 and the 200 carry the same answer.
func (c *call) callerMediaLocked() error {
	if c.m != nil && c.m.callerAnswer != nil {
		return nil
	}
	if c.m != nil && c.m.a != nil {
		// Anchored for phones that were rung, then handed to a program.
		if c.m.late() {
			return fmt.Errorf("%w: the INVITE carries no SDP offer", callapi.ErrNoMedia)
		}
		c.a.ms = c.m.a
		answer, pa, err := media.Answer(c.m.offer, media.DefaultPreferences(), c.a.endpoint(false))
		if err == nil {
			err = c.m.a.SetRemote(pa)
		}
		if err != nil {
			return err
		}
		c.m.callerAnswer = answer
		c.watchInbandLocked()
		return nil
	}
	if !hasSDP(c.ainv) {
		// Ringo would have to make the offer in its answer; a program's
		// early media would then have nowhere to go.
		return fmt.Errorf("%w: the INVITE carries no SDP offer", callapi.ErrNoMedia)
	}
	s := c.s
	if s.media == nil {
		return fmt.Errorf("%w: no media engine", callapi.ErrNoMedia)
	}
	offer, err := media.ParseSDP(c.ainv.Body())
	if err != nil {
		return err
	}
	ms, err := s.openSession("caller", offer.RTCPMux)
	if err != nil {
		return err
	}
	c.a.ms, c.a.sdpVer = ms, 1
	c.a.mediaAddr = s.mediaAddr(ms.Endpoint(), c.a.dest)
	answer, pa, err := media.Answer(offer, media.DefaultPreferences(), c.a.endpoint(false))
	if err == nil {
		err = ms.SetRemote(pa)
	}
	if err != nil {
		s.closeSession(ms)
		c.a.ms = nil
		return err
	}
	c.m = &callMedia{offer: offer, a: ms, callerAnswer: answer}
	s.collectDTMF(c, ms)
	c.watchInbandLocked()
	return nil
}

func (ac *appCall) Accept(ctx context.Context) error {
	c := ac.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.modeLocked() {
	case callapi.Incoming, callapi.Provisioned:
	case callapi.Connected:
		return nil
	default:
		return callapi.ErrDisconnected
	}
	if err := c.callerMediaLocked(); err != nil {
		c.rejectLocked(488, "Not Acceptable Here")
		return err
	}
	s := c.s
	c.state = stateAnswered
	c.answered = time.Now()
	c.acks[c.a] = pendingAck{cseqIn: c.ainv.CSeq().SeqNo}
	s.mu.Lock()
	s.dialogs[dialogKey(c.a.callID, c.a.localTag)] = &dialog{c: c, l: c.a}
	s.mu.Unlock()
	out := c.responseToCaller(200, "OK", nil)
	setSDP(out, c.m.callerAnswer)
	c.log.Info("answered by the application", "app", c.app.name)
	c.sendAnswerLocked(out)
	return nil
}

func (ac *appCall) Provision(ctx context.Context, withMedia bool) error {
	c := ac.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.modeLocked() {
	case callapi.Incoming, callapi.Provisioned:
	default:
		return callapi.ErrMode
	}
	if !withMedia {
		c.s.send(c.atx, c.responseToCaller(180, "Ringing", nil))
		return nil
	}
	if err := c.callerMediaLocked(); err != nil {
		return err
	}
	c.app.early = true
	out := c.responseToCaller(183, "Session Progress", nil)
	setSDP(out, c.m.callerAnswer)
	c.s.send(c.atx, out)
	return nil
}

func (ac *appCall) Reject(code int, reason string) error {
	c := ac.c
	if code < 400 || code > 699 {
		return fmt.Errorf("reject: %d is not a failure status (400-699)", code)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.modeLocked() {
	case callapi.Incoming, callapi.Provisioned:
	default:
		return callapi.ErrMode
	}
	if reason == "" {
		reason = "Rejected"
	}
	c.rejectLocked(code, reason)
	return nil
}

// resolveTarget finds the account an address names: "name", "name@domain"
// (aliases and forwarders followed) or a "sip:" URI, in domain by default.
func (s *Server) resolveTarget(target, domain string) (*store.Account, string, error) {
	t := strings.TrimSpace(target)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "sip:"), "sips:")
	if i := strings.IndexAny(t, ";?>"); i >= 0 {
		t = t[:i]
	}
	user, host, ok := strings.Cut(t, "@")
	if ok {
		d, known := s.domainOf(host)
		if !known {
			return nil, "", fmt.Errorf("%w: %s is not a local domain", callapi.ErrNotFound, host)
		}
		domain = d
	}
	if user == "" {
		return nil, "", fmt.Errorf("%w: %q", callapi.ErrNotFound, target)
	}
	tgt, err := s.dir.Resolve(user, domain)
	if err != nil || tgt.Account == nil {
		return nil, "", fmt.Errorf("%w: %s@%s", callapi.ErrNotFound, user, domain)
	}
	return tgt.Account, strings.Join(tgt.Via, ","), nil
}

func (ac *appCall) Redirect(ctx context.Context, target string) error {
	c := ac.c
	acc, via, err := c.s.resolveTarget(target, c.app.owner.Domain)
	if err != nil {
		return err
	}
	bindings := c.s.loc.Lookup(acc.Name + "@" + acc.Domain)
	c.mu.Lock()
	switch c.modeLocked() {
	case callapi.Incoming, callapi.Provisioned:
	default:
		c.mu.Unlock()
		return callapi.ErrMode
	}
	if len(bindings) == 0 {
		c.mu.Unlock()
		return fmt.Errorf("%s@%s has no registered phone", acc.Name, acc.Domain)
	}
	if err := c.calleeMediaLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	c.calleeURI, c.calleeName = calleeURI(acc), acc.RealName
	c.via = joinVia(c.via, via)
	c.rec.want = c.rec.want || recordsCalls(acc)
	c.log.Info("redirected by the application", "to", acc.Name+"@"+acc.Domain)
	c.notifyAppLocked("redirected")
	c.mu.Unlock()
	c.fork(bindings)
	return nil
}

func joinVia(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "," + b
}

// calleeMediaLocked prepares the media towards a new callee: on an
// anchored call, the callee session, offered the codec the caller uses
// first and then the rest of Ringo's.
func (c *call) calleeMediaLocked() error {
	s := c.s
	if c.m == nil {
		if !s.anchoring() || !hasSDP(c.ainv) {
			return nil // SDP passes through, as on any unanchored call
		}
		m, err := s.anchorOffer(c.ainv)
		if err != nil {
			var se *media.SDPError
			if errors.As(err, &se) {
				return err
			}
			return nil // out of ports: direct media, as onInvite does
		}
		c.m = m
		c.a.ms, c.a.sdpVer = m.a, 1
		c.a.mediaAddr = s.mediaAddr(m.a.Endpoint(), c.a.dest)
		s.collectDTMF(c, m.a)
		s.collectDTMF(c, m.b)
		return nil
	}
	if c.m.b != nil {
		s.closeSession(c.m.b)
	}
	b, err := s.openSession("callee", false)
	if err != nil {
		return err
	}
	prefs := media.DefaultPreferences()
	if pa, ok := c.m.a.Params(); ok {
		prefs.Codecs = withRest(pa.Audio(), media.DefaultCodecs())
	}
	c.m.b, c.m.prefsB = b, prefs
	s.collectDTMF(c, b)
	return nil
}

func (ac *appCall) Transfer(ctx context.Context, target string) error {
	c := ac.c
	s := c.s
	acc, via, err := s.resolveTarget(target, c.app.owner.Domain)
	if err != nil {
		return err
	}
	bindings := s.loc.Lookup(acc.Name + "@" + acc.Domain)
	c.mu.Lock()
	if c.modeLocked() != callapi.Connected {
		c.mu.Unlock()
		return callapi.ErrMode
	}
	if c.app.xfer != nil {
		c.mu.Unlock()
		return errors.New("a transfer is already in progress")
	}
	if len(bindings) == 0 {
		c.mu.Unlock()
		return fmt.Errorf("%s@%s has no registered phone", acc.Name, acc.Domain)
	}
	if c.m == nil || c.m.a == nil {
		c.mu.Unlock()
		return callapi.ErrNoMedia
	}
	if err := c.calleeMediaLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	w := &transfer{done: make(chan error, 1), oldCallee: c.calleeURI, oldName: c.calleeName}
	c.app.xfer = w
	c.calleeURI, c.calleeName = calleeURI(acc), acc.RealName
	c.forks, c.bestFail = nil, nil
	c.rec.want = c.rec.want || recordsCalls(acc)
	c.log.Info("transfer by the application", "to", acc.Name+"@"+acc.Domain, "via", via)
	c.mu.Unlock()
	c.fork(bindings)

	timer := time.NewTimer(s.cfg.Calls.RingTimeout)
	defer timer.Stop()
	var why error
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		why = ctx.Err()
	case <-timer.C:
		why = errors.New("408 no answer")
	}
	c.mu.Lock()
	for _, f := range c.forks {
		c.cancelForkLocked(f)
	}
	c.mu.Unlock()
	// The forks end as they are cancelled (or one answers first).
	select {
	case err := <-w.done:
		if err == nil {
			return nil
		}
	case <-time.After(64 * sip.T1):
	}
	return why
}

// transferAnsweredLocked connects the caller to the callee that answered
// a Transfer; the program loses the call.
func (c *call) transferAnsweredLocked(f *fork, res *sip.Response) {
	w := c.app.xfer
	f.done = true
	if c.m != nil {
		if !hasSDP(res) {
			c.transferBranchFailedLocked(f, res, errors.New("the answer carries no SDP"))
			return
		}
		if _, err := c.calleeSDPLocked(f.leg, res.Body()); err != nil {
			c.transferBranchFailedLocked(f, res, err)
			return
		}
		// The program's prompt stops; the relay feeds the caller now.
		c.m.a.StopPlayback()
	}
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
	s := c.s
	s.mu.Lock()
	s.dialogs[dialogKey(b.callID, b.localTag)] = &dialog{c: c, l: b}
	s.mu.Unlock()
	for _, o := range c.forks {
		if o != f {
			c.cancelForkLocked(o)
		}
	}
	ack := s.newRequest(b, sip.ACK, f.inv.CSeq().SeqNo)
	c.lastAck[b] = ack
	if err := s.client.WriteRequest(ack, prebuilt); err != nil {
		c.log.Warn("ACK to the transfer target failed", "error", err)
	}
	c.app.xfer = nil
	c.startRecordingLocked()
	c.journalLocked()
	c.log.Info("transferred", "contact", b.target.String())
	c.notifyAppLocked("transferred")
	w.done <- nil
}

// transferBranchFailedLocked ends a transfer fork whose answer cannot be
// used.
func (c *call) transferBranchFailedLocked(f *fork, res *sip.Response, err error) {
	c.log.Warn("unusable answer from the transfer target", "contact", f.leg.target.String(), "error", err)
	go c.s.ackAndBye(f.leg, f.inv, res)
	c.noteFailure(sip.NewResponseFromRequest(f.inv, 488, "Not Acceptable Here", nil))
	c.maybeFailLocked()
}

// transferFailedLocked reports a Transfer whose every fork failed; the
// caller stays with the program.
func (c *call) transferFailedLocked() {
	w := c.app.xfer
	c.app.xfer = nil
	if c.m != nil && c.m.b != nil {
		if c.m.bridge != nil {
			c.m.bridge.Stop()
			c.m.bridge = nil
		}
		c.s.closeSession(c.m.b)
		c.m.b = nil
	}
	c.calleeURI, c.calleeName = w.oldCallee, w.oldName
	code, reason := 480, "Temporarily Unavailable"
	if c.bestFail != nil {
		code, reason = c.bestFail.StatusCode, c.bestFail.Reason
	}
	c.forks = nil
	w.done <- fmt.Errorf("%d %s", code, reason)
}

func (ac *appCall) Hangup(reason string) {
	c := ac.c
	c.mu.Lock()
	mode := c.modeLocked()
	if mode == callapi.Incoming || mode == callapi.Provisioned {
		c.rejectLocked(480, "Temporarily Unavailable")
		c.mu.Unlock()
		return
	}
	gone := c.app.gone
	c.mu.Unlock()
	if mode == callapi.Connected && !gone {
		c.endBoth(reason, "answered", 0)
	}
}

func (ac *appCall) Session() *media.Session {
	c := ac.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.modeLocked() {
	case callapi.Connected, callapi.Provisioned:
		if c.m != nil {
			return c.m.a
		}
	}
	return nil
}

func (ac *appCall) SendDTMF(digits string) error {
	ms := ac.Session()
	if ms == nil {
		return callapi.ErrNoMedia
	}
	return ms.SendDTMF(digits, media.DefaultDTMFDuration)
}

func (ac *appCall) JoinConference(room string) error {
	c := ac.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.modeLocked() != callapi.Connected {
		return callapi.ErrMode
	}
	if c.m == nil || c.m.a == nil {
		return callapi.ErrNoMedia
	}
	if _, ok := conferenceRoom(conferenceUser + "-" + room); !ok {
		return fmt.Errorf("%q is not a room name (letters, digits, - _ .)", room)
	}
	_, err := c.s.joinConference(c.app.owner.Domain, strings.ToLower(room), c.callerURI.User+"@"+c.callerURI.Host, c.m.a)
	return err
}

func (ac *appCall) ConferenceSize(room string) int {
	return ac.c.s.conferenceSize(ac.c.app.owner.Domain, strings.ToLower(room))
}

func (ac *appCall) Info() callapi.Info {
	c := ac.c
	req := c.ainv
	in := callapi.Info{
		RemoteURI:     "sip:" + c.callerURI.User + "@" + c.callerURI.Host,
		LocalURI:      req.To().Address.String(),
		RequestURI:    req.Recipient.String(),
		RemoteIP:      req.Source(),
		Authenticated: c.callerURI.User + "@" + c.callerURI.Host,
		CallID:        req.CallID().Value(),
		Headers:       map[string]string{},
	}
	if host, _, ok := strings.Cut(in.RemoteIP, ":"); ok && !strings.Contains(host, "[") {
		in.RemoteIP = host
	}
	for _, name := range []string{"User-Agent", "Subject", "Priority"} {
		if h := req.GetHeader(name); h != nil {
			in.Headers[name] = h.Value()
		}
	}
	return in
}
