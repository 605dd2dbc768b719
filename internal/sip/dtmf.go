package sip

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// DTMF reaches Ringo in three forms, which the call view and records name
// as a digit's source:
//
//   - rfc4733: RTP telephone-events (collectDTMF);
//   - info: a SIP INFO with an application/dtmf-relay or application/dtmf
//     body;
//   - inband: dual tones in the audio of a G.711 leg that negotiated no
//     telephone-event, found by a Goertzel detector.
//
// A digit goes on to the other leg in the form that leg negotiated. To a
// leg with telephone-event it goes as RFC 4733: events are relayed as
// events, and digits from an INFO or from tones are sent as new events.
// To a leg without, an INFO is relayed as an INFO, tones need nothing
// (they are in the audio already), and an event becomes an INFO with
// application/dtmf-relay: the relay passes audio without decoding it, so
// Ringo cannot put tones into it, and phones without telephone-event
// commonly take INFO.
const (
	dtmfFromRFC4733 = "rfc4733"
	dtmfFromINFO    = "info"
	dtmfFromInband  = "inband"
)

// Content types of DTMF in SIP INFO.
const (
	ctDTMFRelay = "application/dtmf-relay" // "Signal=5\r\nDuration=160\r\n"
	ctDTMF      = "application/dtmf"       // "5"
)

// dtmfAccept is the Accept header value for an INFO Ringo answers itself.
const dtmfAccept = ctDTMFRelay + ", " + ctDTMF

const (
	// maxInfoBody bounds an INFO body read for a digit: real ones are a few
	// dozen bytes.
	maxInfoBody = 1024
	// maxInfoDuration bounds Duration in application/dtmf-relay: a key
	// held a minute is no key press.
	maxInfoDuration = 60000
	// Digits sent as RFC 4733 for an INFO last at least minSentDigit, so
	// that receivers which ignore 20 ms blips take them, and at most
	// maxSentDigit, near the longest event RFC 4733 carries at 8 kHz.
	minSentDigit = 40 * time.Millisecond
	maxSentDigit = 8 * time.Second
	// maxPendingDigits bounds the digits waiting to be passed on for one
	// call; a peer flooding events must not grow it without end.
	maxPendingDigits = 32
)

// infoDigit is a digit an INFO carries.
type infoDigit struct {
	digit byte          // '0'-'9', '*', '#', 'A'-'D', '!' (flash)
	dur   time.Duration // 0 when the body gives none
}

// parseInfoDTMF reads the digit of an INFO body. isDTMF is false when
// the content type is not one of DTMF's (the body is then not looked at);
// err says why a DTMF body cannot be used.
func parseInfoDTMF(contentType string, body []byte) (d infoDigit, isDTMF bool, err error) {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt != ctDTMFRelay && mt != ctDTMF {
		return infoDigit{}, false, nil
	}
	if len(body) > maxInfoBody {
		return infoDigit{}, true, fmt.Errorf("%s body of %d bytes is too long", mt, len(body))
	}
	if mt == ctDTMF {
		v := strings.TrimSpace(string(body))
		if v == "" {
			return infoDigit{}, true, errors.New("empty application/dtmf body")
		}
		d.digit, err = parseSignal(v)
		return d, true, err
	}
	seen := false
	for _, line := range strings.FieldsFunc(string(body), func(r rune) bool { return r == '\r' || r == '\n' }) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return infoDigit{}, true, fmt.Errorf("dtmf-relay line %s is not name=value", quoteShort(line))
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "signal":
			if seen {
				return infoDigit{}, true, errors.New("dtmf-relay body with two Signals")
			}
			seen = true
			if d.digit, err = parseSignal(v); err != nil {
				return infoDigit{}, true, err
			}
		case "duration":
			ms, err := strconv.Atoi(v)
			if err != nil || ms < 0 || ms > maxInfoDuration {
				return infoDigit{}, true, fmt.Errorf("dtmf-relay Duration %s is not 0-%d ms", quoteShort(v), maxInfoDuration)
			}
			d.dur = time.Duration(ms) * time.Millisecond
		}
		// Other names (some phones add their own) do not matter.
	}
	if !seen {
		return infoDigit{}, true, errors.New("dtmf-relay body without Signal")
	}
	return d, true, nil
}

// parseSignal reads a key: its character (0-9, *, #, A-D, ! for flash, in
// either case) or, as some gateways send them, its RFC 4733 event code
// from 10 (* # A B C D, then 16 for flash).
func parseSignal(v string) (byte, error) {
	if len(v) == 1 {
		if ev, ok := media.DigitEvent(v[0]); ok {
			return media.EventDigit(ev), nil
		}
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 10 && n <= 16 {
		return media.EventDigit(uint8(n)), nil
	}
	return 0, fmt.Errorf("DTMF signal %s is not a key", quoteShort(v))
}

// quoteShort quotes text from a request for an error or a reason phrase:
// escaped, so it cannot break a line, and cut short.
func quoteShort(s string) string {
	if len(s) > 16 {
		s = s[:16] + "…"
	}
	return strconv.Quote(s)
}

// dtmfRelayBody is an application/dtmf-relay body for d.
func dtmfRelayBody(digit byte, dur time.Duration) []byte {
	if dur <= 0 {
		dur = media.DefaultDTMFDuration
	}
	return fmt.Appendf(nil, "Signal=%c\r\nDuration=%d\r\n", digit, dur.Milliseconds())
}

// sentDuration is how long a digit from an INFO is pressed as RFC 4733.
func sentDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return media.DefaultDTMFDuration
	}
	return min(max(d, minSentDigit), maxSentDigit)
}

func hasTelephoneEvent(ms *media.Session) bool {
	p, ok := ms.Params()
	return ok && p.HasDTMF()
}

// dtmfInfoLocked takes an INFO that carries a digit: it records the digit
// and answers, unless the digit is to reach the other leg as an INFO, in
// which case it returns false and the INFO is relayed like any other. An
// INFO with another body is the relay's too, except in a service call,
// where nothing would understand it.
func (c *call) dtmfInfoLocked(req *sip.Request, tx sip.ServerTransaction, from *leg) (handled bool) {
	ct := ""
	if h := req.GetHeader("Content-Type"); h != nil {
		ct = h.Value()
	}
	d, isDTMF, err := parseInfoDTMF(ct, req.Body())
	switch {
	case !isDTMF && c.selfAnswered() && len(req.Body()) > 0:
		c.s.respond(tx, req, 415, "Unsupported Media Type", nil, sip.NewHeader("Accept", dtmfAccept))
		return true
	case !isDTMF:
		return false
	case err != nil:
		c.log.Info("unusable DTMF INFO", "from", from.name, "error", err)
		c.s.respond(tx, req, 400, "Bad Request: "+err.Error(), nil)
		return true
	}
	name := from.name
	if from.ms != nil {
		name = from.ms.Name()
	}
	c.extra.note(DTMFDigit{Digit: string(d.digit), Source: dtmfFromINFO, Leg: name, At: time.Now(), DurationMS: d.dur.Milliseconds()})
	if !c.selfAnswered() {
		to := c.other(from)
		if to == nil || to.ms == nil || !hasTelephoneEvent(to.ms) {
			return false
		}
		if err := to.ms.SendDTMF(string(d.digit), sentDuration(d.dur)); err != nil {
			c.log.Info("sending an INFO digit as RFC 4733 failed; relaying the INFO", "to", to.name, "error", err)
			return false
		}
	}
	c.s.respond(tx, req, 200, "OK", nil)
	return true
}

// onEvent records an RFC 4733 digit a session received and passes it on
// where the relay cannot. It runs on the session's goroutine.
func (c *call) onEvent(ms *media.Session, ev media.DTMFEvent) {
	c.extra.note(DTMFDigit{Digit: string(ev.Digit), Source: dtmfFromRFC4733, Leg: ms.Name(),
		At: ev.Start, DurationMS: ev.Dur.Milliseconds()})
	c.passOn(ms, dtmfFromRFC4733, ev.Digit, ev.Dur)
}

// note records a digit, interrupts a prompt it stops and returns the
// digit's index.
func (x *callExtras) note(d DTMFDigit) int {
	x.mu.Lock()
	x.digits = append(x.digits, d)
	i := len(x.digits) - 1
	p := x.player
	x.mu.Unlock()
	if p != nil && d.Digit != "" {
		p.Interrupt(d.Digit[0])
	}
	if hook := x.digitHook.Load(); hook != nil && d.Digit != "" {
		(*hook)(d.Digit[0])
	}
	return i
}

// setDuration completes digit i once its end is known.
func (x *callExtras) setDuration(i int, d time.Duration) {
	x.mu.Lock()
	if i >= 0 && i < len(x.digits) {
		x.digits[i].DurationMS = d.Milliseconds()
	}
	x.mu.Unlock()
}

// dtmfRelay is a call's state for passing digits on, under callExtras.mu.
type dtmfRelay struct {
	pending []pendingDigit
	running bool // a goroutine is passing pending digits on
	// inband holds the in-band detectors attached, by session, as the
	// functions that detach them.
	inband map[*media.Session]func()
}

type pendingDigit struct {
	from   *media.Session
	source string
	digit  byte
	dur    time.Duration // 0: the default
}

// passOn queues a digit received on session from for the other leg. The
// sessions' goroutines must not wait for the call's lock, nor for the
// other phone, so one goroutine per call does it, in order, while there
// are digits.
func (c *call) passOn(from *media.Session, source string, digit byte, dur time.Duration) {
	x := &c.extra
	x.mu.Lock()
	if len(x.relay.pending) >= maxPendingDigits {
		x.mu.Unlock()
		c.log.Warn("too many digits waiting to be passed on; dropping one", "digit", string(digit), "source", source)
		return
	}
	x.relay.pending = append(x.relay.pending, pendingDigit{from: from, source: source, digit: digit, dur: dur})
	start := !x.relay.running
	x.relay.running = true
	x.mu.Unlock()
	if start {
		go c.passOnPending()
	}
}

func (c *call) passOnPending() {
	x := &c.extra
	for {
		x.mu.Lock()
		if len(x.relay.pending) == 0 {
			x.relay.running = false
			x.mu.Unlock()
			return
		}
		d := x.relay.pending[0]
		x.relay.pending = x.relay.pending[1:]
		x.mu.Unlock()
		c.passOnDigit(d)
	}
}

// passOnDigit sends one digit to the leg across from the session it came
// on, in the form that leg negotiated (see the top of this file).
func (c *call) passOnDigit(d pendingDigit) {
	c.mu.Lock()
	if c.state == stateEnded || c.m == nil || c.service != "" {
		c.mu.Unlock()
		return
	}
	var to *media.Session
	var toLeg *leg
	switch d.from {
	case c.m.a:
		to, toLeg = c.m.b, c.b
	case c.m.b:
		to, toLeg = c.m.a, c.a
	}
	if to == nil {
		c.mu.Unlock()
		return
	}
	pTo, okTo := to.Params()
	pFrom, _ := d.from.Params()
	switch {
	case !okTo:
	case pTo.HasDTMF():
		if d.source == dtmfFromRFC4733 && pFrom.HasDTMF() && pFrom.DTMF.Same(pTo.DTMF.Codec) {
			break // the relay passes the events themselves
		}
		if err := to.SendDTMF(string(d.digit), sentDuration(d.dur)); err != nil {
			c.log.Info("passing a digit on as RFC 4733 failed", "to", to.Name(), "error", err)
		}
	case d.source == dtmfFromRFC4733 && c.state == stateAnswered && toLeg != nil:
		toLeg.cseq++
		req := c.s.newRequest(toLeg, sip.INFO, toLeg.cseq)
		req.AppendHeader(sip.NewHeader("Content-Type", ctDTMFRelay))
		req.SetBody(dtmfRelayBody(d.digit, d.dur))
		c.mu.Unlock()
		if res := c.s.fireAndForget(req); res == nil || !res.IsSuccess() {
			status := "no answer"
			if res != nil {
				status = res.StartLine()
			}
			c.log.Info("the other phone did not take a digit as INFO", "to", toLeg.name, "digit", string(d.digit), "answer", status)
		}
		return
	}
	c.mu.Unlock()
}

// needsInband reports whether a leg's digits can only come as tones in
// its audio: G.711 without telephone-event. Compressing codecs distort
// the tones, and phones using them send events.
func needsInband(p media.Params) bool {
	if p.HasDTMF() || len(p.Codecs) == 0 {
		return false
	}
	n := p.Codecs[0].Name
	return strings.EqualFold(n, media.NamePCMU) || strings.EqualFold(n, media.NamePCMA)
}

// watchInbandLocked attaches a tone detector to each of the call's
// sessions that needs one and detaches those a new negotiation made
// needless; it runs after every SetRemote. Sessions with telephone-event
// decode nothing for it.
func (c *call) watchInbandLocked() {
	if c.m == nil {
		return
	}
	for _, ms := range []*media.Session{c.m.a, c.m.b} {
		if ms == nil {
			continue
		}
		p, ok := ms.Params()
		c.extra.setInband(c, ms, ok && needsInband(p))
	}
}

func (x *callExtras) setInband(c *call, ms *media.Session, want bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	remove, has := x.relay.inband[ms]
	switch {
	case want && !has:
		if x.relay.inband == nil {
			x.relay.inband = map[*media.Session]func(){}
		}
		x.relay.inband[ms] = ms.AddAudioSink(&inbandSink{c: c, ms: ms, sounding: -1})
	case !want && has:
		remove()
		delete(x.relay.inband, ms)
	}
}

// inbandSink runs a DTMF detector on a session's decoded audio, on the
// session's read goroutine. A digit is recorded as soon as it is
// recognised, so that it cuts a prompt short at once, and its duration is
// filled in when it stops.
type inbandSink struct {
	c  *call
	ms *media.Session

	det      *dsp.DTMFDetector
	rate     int
	fed      int64 // samples given to det
	events   []dsp.DTMFEvent
	sounding int // index in the call's digits of the digit still sounding, −1
}

// WriteAudio implements media.AudioSink.
func (k *inbandSink) WriteAudio(pcm []int16, rate int) {
	if rate != k.rate {
		// A new codec: a detector for its rate, from scratch.
		k.rate, k.fed, k.det, k.sounding = rate, 0, nil, -1
		det, err := dsp.NewDTMFDetector(dsp.DTMFConfig{SampleRate: rate})
		if err != nil {
			return
		}
		k.det = det
	}
	if k.det == nil {
		return
	}
	k.events = k.det.Process(pcm, k.events[:0])
	k.fed += int64(len(pcm))
	if len(k.events) == 0 {
		return
	}
	now := time.Now()
	heard := time.Duration(k.fed * int64(time.Second) / int64(rate))
	for _, ev := range k.events {
		if ev.End {
			k.c.extra.setDuration(k.sounding, ev.Duration)
			k.sounding = -1
			continue
		}
		k.sounding = k.c.extra.note(DTMFDigit{Digit: string(ev.Digit), Source: dtmfFromInband, Leg: k.ms.Name(),
			At: now.Add(ev.Start - heard)})
		k.c.passOn(k.ms, dtmfFromInband, ev.Digit, 0)
	}
}
