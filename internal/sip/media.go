package sip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/store"
)

// Media modes of a call, as the API shows them.
const (
	mediaDirect   = "direct"   // SDP passed through: phones send to each other
	mediaAnchored = "anchored" // relayed through Ringo's ports
	// A call answered by one of Ringo's services shows the service's name
	// (echo, tone, playback).
)

// echoUser is the user part that reaches the built-in echo service in any
// local domain when no account, alias or forwarder has that name.
const echoUser = "echo"

// callMedia is an anchored (or echo) call's media: one session per leg.
// The callee session is shared by every fork: each fork is offered its
// port, and the answer of the fork that wins sets its remote.
type callMedia struct {
	offer        *media.Description // the caller's offer; nil for an INVITE without one
	prefsB       media.Preferences  // what the callee side is offered
	a, b         *media.Session
	bridge       *media.Bridge
	callerAnswer []byte // Ringo's answer to the caller, the same in 18x and 200
	early        bool   // a callee's SDP arrived in a provisional response

	// A caller whose INVITE had no offer gets Ringo's in the 200
	// (callerOffer, written from prefsA) and answers it in the ACK.
	prefsA      media.Preferences
	callerOffer []byte
}

// late reports whether the caller made no offer, so that Ringo offers it
// in the 200 and the ACK carries the caller's answer.
func (m *callMedia) late() bool { return m.offer == nil }

// callerSDP is the SDP of Ringo's 200 to the caller.
func (m *callMedia) callerSDP() []byte {
	if m.late() {
		return m.callerOffer
	}
	return m.callerAnswer
}

// mediaSet tracks the sessions the SIP server opened, for the packet
// counters: those of closed sessions are added up when they close, so the
// totals only grow.
type mediaSet struct {
	mu        sync.Mutex
	live      map[*media.Session]struct{}
	closedIn  uint64
	closedOut uint64
}

func (m *mediaSet) add(s *media.Session) {
	m.mu.Lock()
	m.live[s] = struct{}{}
	m.mu.Unlock()
}

func (m *mediaSet) totals() (in, out uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, out = m.closedIn, m.closedOut
	for s := range m.live {
		c := s.Counters()
		in += c.PacketsIn
		out += c.PacketsOut
	}
	return in, out
}

// SetMedia gives the server the media engine: calls with an SDP offer are
// anchored on it (unless rtp.anchor is false) and the echo service answers
// on it. Without one, SDP passes through unchanged. Set it before Serve.
func (s *Server) SetMedia(e *media.Engine) {
	s.media = e
	s.msess.live = map[*media.Session]struct{}{}
}

func (s *Server) anchoring() bool { return s.media != nil && s.cfg.RTP.Anchor }

// directMedia reports whether a call between two accounts keeps its media
// between the phones: both accounts' domains allow it, and neither account
// has its calls recorded, which needs the audio to pass through Ringo.
func (s *Server) directMedia(caller, callee *store.Account) bool {
	if recordsCalls(caller, callee) {
		return false
	}
	for _, a := range []*store.Account{caller, callee} {
		if d, ok := s.dir.Domain(a.Domain); !ok || !d.Prefs.DirectMedia {
			return false
		}
	}
	return true
}

func (s *Server) openSession(name string, mux bool) (*media.Session, error) {
	ms, err := s.media.NewSession(media.SessionOptions{Name: name, RTCPMux: mux})
	if err != nil {
		return nil, err
	}
	s.msess.add(ms)
	return ms, nil
}

// closeSession releases a session's ports and keeps its counters.
func (s *Server) closeSession(ms *media.Session) {
	if ms == nil {
		return
	}
	ms.Close()
	c := ms.Counters()
	s.msess.mu.Lock()
	if _, ok := s.msess.live[ms]; ok {
		delete(s.msess.live, ms)
		s.msess.closedIn += c.PacketsIn
		s.msess.closedOut += c.PacketsOut
	}
	s.msess.mu.Unlock()
}

// hasSDP reports whether a message carries a session description.
func hasSDP(m bodyMsg) bool {
	if len(m.Body()) == 0 {
		return false
	}
	ct := m.GetHeader("Content-Type")
	return ct == nil || strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp")
}

// mediaAddr is the address to advertise in SDP to a phone reached at dest
// (host:port): rtp.advertise, else sip.advertise when it is an IP address,
// else the media engine's address when the SIP listener is bound to one
// address, else the local address of the route towards the phone, which
// is what it can reach Ringo at.
func (s *Server) mediaAddr(ep media.Endpoint, dest string) netip.Addr {
	for _, adv := range []string{s.cfg.RTP.Advertise, s.cfg.SIP.Advertise} {
		if a, err := netip.ParseAddr(adv); err == nil && !a.IsUnspecified() {
			return a.Unmap()
		}
	}
	if s.udpAddr.IP != nil && !s.udpAddr.IP.IsUnspecified() {
		return ep.Addr
	}
	// Connecting a UDP socket sends nothing; it only asks the kernel which
	// local address the route towards dest uses.
	conn, err := net.Dial("udp", dest)
	if err != nil {
		return ep.Addr
	}
	defer conn.Close()
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		if a, ok := netip.AddrFromSlice(ua.IP); ok && !a.IsUnspecified() {
			return a.Unmap()
		}
	}
	return ep.Addr
}

// endpoint is leg l's side for SDP: its session's port and the address
// the phone reaches Ringo at, with the o= version bumped for each SDP
// Ringo sends on the leg after the first.
func (l *leg) endpoint(next bool) media.Endpoint {
	ep := l.ms.Endpoint()
	ep.Addr = l.mediaAddr
	if next {
		l.sdpVer++
	}
	ep.Version = l.sdpVer
	return ep
}

// anchorOffer prepares an anchored call from the caller's INVITE: it
// parses the offer and opens the two sessions. An *media.SDPError means
// the offer cannot be used (488); any other error that the call cannot be
// anchored (no free ports).
func (s *Server) anchorOffer(req *sip.Request) (*callMedia, error) {
	offer, err := media.ParseSDP(req.Body())
	if err != nil {
		return nil, err
	}
	prefs := media.DefaultPreferences().Restrict(offer.Codecs())
	if len(prefs.Codecs) == 0 {
		// Nothing Ringo can relay or decode: nothing to offer.
		_, err := media.Offer(prefs, media.Endpoint{})
		return nil, err
	}
	// The callee is offered the caller's codecs first, so that a phone
	// that has one of them keeps the relay free of transcoding, then the
	// rest of Ringo's, which the relay transcodes to and from.
	prefs.Codecs = withRest(prefs.Codecs, media.DefaultCodecs())
	// Ringo offers the callee what the caller asked for: a caller putting
	// the call on hold from the start holds the callee.
	prefs.Direction = offer.Direction
	if offer.Hold {
		prefs.Direction = prefs.Direction.Intersect(media.SendOnly)
	}
	a, err := s.openSession("caller", offer.RTCPMux)
	if err != nil {
		return nil, err
	}
	// The callee may refuse rtcp-mux, so its session keeps an RTCP port.
	b, err := s.openSession("callee", false)
	if err != nil {
		s.closeSession(a)
		return nil, err
	}
	return &callMedia{offer: offer, prefsB: prefs, a: a, b: b}, nil
}

// anchorLateOffer prepares an anchored call from an INVITE without an
// offer: the callee is offered Ringo's own codecs, and the caller is
// offered in the 200 once the callee has answered. Both sessions keep an
// RTCP port, since either phone may refuse rtcp-mux. The error means the
// call cannot be anchored (no free ports).
func (s *Server) anchorLateOffer() (*callMedia, error) {
	a, err := s.openSession("caller", false)
	if err != nil {
		return nil, err
	}
	b, err := s.openSession("callee", false)
	if err != nil {
		s.closeSession(a)
		return nil, err
	}
	return &callMedia{prefsB: media.DefaultPreferences(), a: a, b: b}, nil
}

// withRest appends to first the codecs of all that it lacks.
func withRest(first, all []media.Codec) []media.Codec {
	out := append([]media.Codec{}, first...)
	for _, c := range all {
		have := false
		for _, f := range first {
			if f.Same(c) {
				have = true
				break
			}
		}
		if !have {
			out = append(out, c)
		}
	}
	return out
}

// calleeOffer is the SDP a fork's INVITE carries.
func (c *call) calleeOffer(l *leg) ([]byte, error) {
	l.ms = c.m.b
	l.mediaAddr = c.s.mediaAddr(c.m.b.Endpoint(), l.dest)
	l.sdpVer = 1
	return media.Offer(c.m.prefsB, l.endpoint(false))
}

// calleeSDPLocked takes a callee's answer (in a 18x or the 200) from fork
// leg l, points the callee session at it, and returns Ringo's answer to
// the caller; the first such answer is kept, since the caller must get
// the same one in every response (RFC 3261 §13.2.1).
func (c *call) calleeSDPLocked(l *leg, body []byte) ([]byte, error) {
	m := c.m
	pb, err := media.AcceptAnswer(body, m.prefsB)
	if err != nil {
		return nil, err
	}
	if err := m.b.SetRemote(pb); err != nil {
		return nil, fmt.Errorf("callee media: %w", err)
	}
	if m.late() {
		return c.callerOfferLocked(pb)
	}
	if m.callerAnswer == nil {
		prefs := media.DefaultPreferences().Restrict(pb.Audio())
		if len(prefs.Restrict(m.offer.Codecs()).Codecs) == 0 {
			// The callee took only codecs the caller lacks: the caller gets
			// its own best, and the relay transcodes.
			prefs = media.DefaultPreferences()
		}
		// What the callee does is what Ringo does towards the caller.
		prefs.Direction = pb.Direction.Reverse()
		answer, pa, err := media.Answer(m.offer, prefs, c.a.endpoint(false))
		if err != nil {
			return nil, err
		}
		if err := m.a.SetRemote(pa); err != nil {
			return nil, fmt.Errorf("caller media: %w", err)
		}
		m.callerAnswer = answer
	}
	if m.bridge == nil {
		br, err := media.Relay(m.a, m.b)
		if err != nil {
			return nil, err
		}
		m.bridge = br
	}
	c.watchInbandLocked()
	return m.callerAnswer, nil
}

// callerOfferLocked is Ringo's offer to a caller that made none, written
// once the callee has answered (pb) and kept for every response: the
// callee's codecs first, so that a caller that has one of them keeps the
// relay free of transcoding, then the rest of Ringo's, which the relay
// transcodes to and from.
func (c *call) callerOfferLocked(pb media.Params) ([]byte, error) {
	m := c.m
	if m.callerOffer == nil {
		prefs := media.DefaultPreferences()
		prefs.Codecs = withRest(prefs.Restrict(pb.Audio()).Codecs, media.DefaultCodecs())
		// What the callee does is what Ringo does towards the caller.
		prefs.Direction = pb.Direction.Reverse()
		offer, err := media.Offer(prefs, c.a.endpoint(false))
		if err != nil {
			return nil, err
		}
		m.prefsA, m.callerOffer = prefs, offer
	}
	return m.callerOffer, nil
}

// callerAnswerLocked applies the caller's answer, in its ACK, to Ringo's
// offer in the 200 and starts the relay: the last step of a call anchored
// from an INVITE without an offer. An error leaves the call without media.
func (c *call) callerAnswerLocked(ack *sip.Request) error {
	m := c.m
	if !hasSDP(ack) {
		return errors.New("the ACK carries no SDP answer")
	}
	pa, err := media.AcceptAnswer(ack.Body(), m.prefsA)
	if err != nil {
		return fmt.Errorf("caller's answer: %w", err)
	}
	if err := m.a.SetRemote(pa); err != nil {
		return fmt.Errorf("caller media: %w", err)
	}
	br, err := media.Relay(m.a, m.b)
	if err != nil {
		return err
	}
	m.bridge = br
	c.watchInbandLocked()
	// Recording waits for the relay, which the answer to the 200 started.
	c.startRecordingLocked()
	return nil
}

// releaseMediaLocked stops the relay and frees the call's ports.
func (c *call) releaseMediaLocked() {
	m := c.m
	if m == nil {
		return
	}
	if m.bridge != nil {
		m.bridge.Stop()
		m.bridge = nil
	}
	c.s.closeSession(m.a)
	c.s.closeSession(m.b)
}

// reofferLocked rewrites an in-dialog offer from leg from for leg to:
// Ringo's address and port on to, the offerer's codecs and direction.
func (c *call) reofferLocked(to *leg, body []byte) ([]byte, *media.Description, error) {
	d, err := media.ParseSDP(body)
	if err != nil {
		return nil, nil, err
	}
	out, err := media.Rewrite(body, to.endpoint(true))
	if err != nil {
		return nil, nil, err
	}
	return out, d, nil
}

// reanswerLocked applies the answer to a re-offer: leg to answered with
// body; the offer d came from leg from. It returns the answer for from.
func (c *call) reanswerLocked(from, to *leg, d *media.Description, body []byte) ([]byte, error) {
	pTo, err := media.AcceptAnswer(body, media.DefaultPreferences())
	if err != nil {
		return nil, err
	}
	prefs := media.DefaultPreferences().Restrict(pTo.Audio())
	prefs.Direction = pTo.Direction.Reverse()
	pFrom, err := media.Negotiate(d, prefs)
	if err != nil {
		return nil, err
	}
	out, err := media.Rewrite(body, from.endpoint(true))
	if err != nil {
		return nil, err
	}
	if err := to.ms.SetRemote(pTo); err != nil {
		return nil, err
	}
	if err := from.ms.SetRemote(pFrom); err != nil {
		return nil, err
	}
	c.watchInbandLocked()
	return out, nil
}

// lateAnswerLocked applies an answer in an ACK from leg from to the offer
// leg to made in its 2xx, and returns the answer for to.
func (c *call) lateAnswerLocked(from, to *leg, offer, answer []byte) ([]byte, error) {
	d, err := media.ParseSDP(offer)
	if err != nil {
		return nil, err
	}
	out, err := c.reanswerLocked(to, from, d, answer)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sdpStatus is the status a request with an unusable SDP gets.
func sdpStatus(err error) (int, string) {
	var se *media.SDPError
	if errors.As(err, &se) {
		return se.StatusCode(), "Not Acceptable Here"
	}
	return 500, "Server Internal Error"
}

// setSDP replaces a message's body with Ringo's SDP.
func setSDP(m bodyMsg, body []byte) {
	if h, ok := m.(interface{ RemoveHeader(string) bool }); ok {
		h.RemoveHeader("Content-Type")
	}
	m.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	m.SetBody(body)
}

// describeMedia reports a call's media sessions.
func (c *call) describeMedia() []media.SessionInfo {
	m := c.m
	if m == nil {
		return nil
	}
	var out []media.SessionInfo
	for _, ms := range []*media.Session{m.a, m.b} {
		if ms != nil {
			out = append(out, ms.Describe())
		}
	}
	return out
}
