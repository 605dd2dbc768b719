package sip

import (
	_ "embed"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// Built-in test services: like echo, each answers in any local domain
// when no account, alias or forwarder has its name.
const (
	// toneUser answers with a steady 1 kHz tone until the caller hangs up.
	toneUser = "tone"
	// playbackUser answers, plays the stock prompt and hangs up.
	playbackUser = "playback"
)

// stockPrompt is what playback@ plays: 2 s of 8 kHz µ-law, four 440 Hz
// beeps of 300 ms with 200 ms of silence after each. TestStockPrompt
// regenerates it.
//
//go:embed prompts/playback.wav
var stockPrompt []byte

// testToneDBFS is the level of tone@'s tone, relative to a full-scale
// sine (peak 8,231 in 16-bit PCM): loud enough to measure, far from
// clipping in any codec.
const testToneDBFS = -12

// serviceNamed returns the built-in service a dialled user part names,
// or "".
func serviceNamed(user string) string {
	for _, s := range []string{echoUser, toneUser, playbackUser} {
		if strings.EqualFold(user, s) {
			return s
		}
	}
	if _, ok := conferenceRoom(user); ok {
		return strings.ToLower(user)
	}
	return ""
}

func serviceDisplayName(svc string) string {
	switch serviceKind(svc) {
	case conferenceUser:
		return "Conference"
	case toneUser:
		return "Tone"
	case playbackUser:
		return "Playback"
	}
	return "Echo"
}

// testTone is tone@'s tone; dsp levels are in dBm0, whose 0 is a sine of
// peak dsp.PeakDBm0.
func testTone() dsp.Tone {
	lvl := testToneDBFS + 20*math.Log10(32768.0/dsp.PeakDBm0)
	return dsp.Tone{Freqs: [2]float64{1000}, Levels: [2]float64{lvl}}
}

// startServiceLocked starts the media of an answered service call.
func (s *Server) startServiceLocked(c *call, svc string, ms *media.Session) error {
	if room, ok := conferenceRoom(svc); ok {
		// The member leaves by itself when the call's session closes.
		_, err := s.joinConference(c.calleeURI.Host, room, c.callerURI.User+"@"+c.callerURI.Host, ms)
		return err
	}
	switch svc {
	case toneUser:
		pl, _, err := ms.StartPlayer(nil, media.PlayerOptions{}, media.Item{Tone: testTone()})
		if err != nil {
			return err
		}
		c.extra.setPlayer(pl)
	case playbackUser:
		pl, pb, err := ms.StartPlayer(nil, media.PlayerOptions{}, media.Item{WAV: stockPrompt, Name: "playback"})
		if err != nil {
			return err
		}
		c.extra.setPlayer(pl)
		go func() {
			<-pb.Done()
			if pb.Err() == nil {
				// Played to the end, not cut short by the call ending.
				c.hangupBoth("prompt played")
			}
		}()
	default:
		c.m.bridge = media.Echo(ms)
	}
	return nil
}

// DTMFDigit is one digit received on a call.
type DTMFDigit struct {
	Digit string `json:"digit"`
	// Source is how it came: "rfc4733" (RTP telephone-events), "info"
	// (SIP INFO) or "inband" (tones in the audio).
	Source     string    `json:"source"`
	Leg        string    `json:"leg"` // the media session it arrived on
	At         time.Time `json:"at"`
	DurationMS int64     `json:"durationMs"`
}

// callExtras is what the media side notes about a call while it runs.
// It has its own lock: digits arrive on session goroutines, which must
// not wait for the call's lock.
type callExtras struct {
	mu     sync.Mutex
	digits []DTMFDigit
	player *media.Player
	relay  dtmfRelay // digits to pass on, in-band detectors
	// digitHook gets every digit while a program holds the call.
	digitHook atomic.Pointer[func(byte)]
}

func (x *callExtras) setDigitHook(f func(byte)) {
	if f == nil {
		x.digitHook.Store(nil)
		return
	}
	x.digitHook.Store(&f)
}

func (x *callExtras) setPlayer(p *media.Player) {
	x.mu.Lock()
	x.player = p
	x.mu.Unlock()
}

func (x *callExtras) add(leg string, ev media.DTMFEvent) {
	x.note(DTMFDigit{Digit: string(ev.Digit), Source: dtmfFromRFC4733, Leg: leg,
		At: ev.Start, DurationMS: ev.Dur.Milliseconds()})
}

// dtmf returns the digits so far, in order.
func (x *callExtras) dtmf() []DTMFDigit {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]DTMFDigit{}, x.digits...)
}

// dtmfString is the digits as the call record keeps them ("12#").
func (x *callExtras) dtmfString() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var b strings.Builder
	for _, d := range x.digits {
		b.WriteString(d.Digit)
	}
	return b.String()
}

// collectDTMF notes the digits a session receives for the call, as they
// arrive, on the session's own goroutine.
func (s *Server) collectDTMF(c *call, ms *media.Session) {
	if ms == nil {
		return
	}
	ms.OnDTMF(func(ev media.DTMFEvent) { c.onEvent(ms, ev) })
}
