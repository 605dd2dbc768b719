package sip

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/store"
)

// answerService answers a call to a built-in service (echo, tone,
// playback) itself: a media session that sends back whatever it
// receives, or plays a tone or a prompt, so that one phone can test its
// audio. The call has only the caller's leg; a BYE from either side ends
// it.
func (s *Server) answerService(req *sip.Request, tx sip.ServerTransaction, caller *store.Account, domain, svc string) {
	if !hasSDP(req) {
		// Ringo would have to make the offer; phones calling a test number
		// do not need that.
		s.respond(tx, req, 488, "Not Acceptable Here", nil, sip.NewHeader("Warning", `399 ringo "the `+svc+` service needs an SDP offer"`))
		return
	}
	offer, err := media.ParseSDP(req.Body())
	if err == nil && len(media.DefaultPreferences().Restrict(offer.Codecs()).Codecs) == 0 {
		_, err = media.Offer(media.Preferences{}, media.Endpoint{})
	}
	var se *media.SDPError
	if errors.As(err, &se) {
		s.respond(tx, req, se.StatusCode(), "Not Acceptable Here", nil, sip.NewHeader("Warning", `399 ringo "`+strings.ReplaceAll(se.Error(), `"`, "'")+`"`))
		return
	}
	ms, err := s.openSession(svc, offer.RTCPMux)
	if err != nil {
		s.log.Warn(svc+" service: no media session", "error", err)
		s.respond(tx, req, 503, "Service Unavailable", nil, sip.NewHeader("Retry-After", "5"))
		return
	}
	c := s.newCall(req, tx, caller, sip.Uri{Scheme: "sip", User: svc, Host: domain}, serviceDisplayName(svc))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.service = svc
	c.m = &callMedia{offer: offer, a: ms}
	s.collectDTMF(c, ms)
	c.a.ms, c.a.sdpVer = ms, 1
	c.a.mediaAddr = s.mediaAddr(ms.Endpoint(), c.a.dest)
	answer, pa, err := media.Answer(offer, media.DefaultPreferences(), c.a.endpoint(false))
	if err == nil {
		err = ms.SetRemote(pa)
	}
	if err != nil {
		c.log.Warn(svc+" service: answering failed", "error", err)
		c.finalSent = true
		s.stopRinging(c)
		s.send(tx, c.responseToCaller(500, "Server Internal Error", nil))
		c.finishLocked("failed", 500, cdr.BySystem)
		close(c.done)
		return
	}
	c.watchInbandLocked()
	c.state = stateAnswered
	c.answered = c.started
	c.acks[c.a] = pendingAck{cseqIn: req.CSeq().SeqNo}
	s.mu.Lock()
	s.dialogs[dialogKey(c.a.callID, c.a.localTag)] = &dialog{c: c, l: c.a}
	s.mu.Unlock()
	out := c.responseToCaller(200, "OK", nil)
	setSDP(out, answer)
	c.log.Info(svc, "from", caller.Name+"@"+caller.Domain, "domain", domain)
	c.sendAnswerLocked(out)
	if err := s.startServiceLocked(c, svc, ms); err != nil {
		c.log.Warn(svc+" service: no media", "error", err)
		go c.hangupBoth(svc + " service failed")
	}
}

// serviceRequestLocked answers an in-dialog request to a call Ringo
// answered itself: a re-offer gets a new answer from the same session.
func (c *call) serviceRequestLocked(req *sip.Request, tx sip.ServerTransaction) {
	s := c.s
	if (req.Method != sip.INVITE && req.Method != sip.UPDATE) || !hasSDP(req) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if req.Method == sip.INVITE {
			// An offerless re-INVITE would need an offer of Ringo's own.
			res = sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		}
		s.send(tx, res)
		return
	}
	offer, err := media.ParseSDP(req.Body())
	var answer []byte
	var pa media.Params
	if err == nil {
		answer, pa, err = media.Answer(offer, media.DefaultPreferences(), c.a.endpoint(true))
	}
	if err == nil {
		err = c.a.ms.SetRemote(pa)
	}
	if err != nil {
		code, reason := sdpStatus(err)
		s.send(tx, sip.NewResponseFromRequest(req, code, reason, nil))
		return
	}
	c.watchInbandLocked()
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	setSDP(res, answer)
	if req.Method == sip.INVITE {
		res.AppendHeader(sip.NewHeader("Contact", s.contact(c.a.transport)))
		c.acks[c.a] = pendingAck{cseqIn: req.CSeq().SeqNo}
	}
	s.send(tx, res)
}
