package media

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DTMF timing defaults.
const (
	// DefaultDTMFTimeout ends a received digit whose end packets were all
	// lost: updates come every 50 ms at most, so five missing in a row
	// means the digit is over.
	DefaultDTMFTimeout = 250 * time.Millisecond
	// DefaultDTMFDuration is how long Ringo presses a digit it sends.
	DefaultDTMFDuration = 100 * time.Millisecond
	dtmfEndRepeats      = 3
	dtmfGap             = 60 * time.Millisecond // pause between sent digits (ITU-T Q.24 asks ≥ 40 ms)
	dtmfVolume          = 10                    // −10 dBm0
)

// DTMFEvent is one received RFC 4733 digit.
type DTMFEvent struct {
	Digit byte          `json:"digit"` // '0'-'9', '*', '#', 'A'-'D', '!' for flash
	Event uint8         `json:"event"`
	Start time.Time     `json:"start"`
	Dur   time.Duration `json:"duration"`
	// Ended is false when the end packets were lost and the digit was
	// closed by a timeout or by the next digit.
	Ended bool `json:"ended"`
}

func (e DTMFEvent) String() string {
	return fmt.Sprintf("%c (%v)", e.Digit, e.Dur)
}

const dtmfDigits = "0123456789*#ABCD!"

// DigitEvent maps a DTMF character to its RFC 4733 event code.
func DigitEvent(d byte) (uint8, bool) {
	i := strings.IndexByte(dtmfDigits, toUpper(d))
	if i < 0 {
		return 0, false
	}
	return uint8(i), true
}

// EventDigit maps an RFC 4733 event code to its character.
func EventDigit(ev uint8) byte {
	if int(ev) < len(dtmfDigits) {
		return dtmfDigits[ev]
	}
	return '?'
}

func toUpper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

// dtmfPayload is the 4-byte RFC 4733 §2.3 event payload.
type dtmfPayload struct {
	event    uint8
	end      bool
	volume   uint8
	duration uint16
}

func parseDTMF(b []byte) (dtmfPayload, bool) {
	if len(b) < 4 {
		return dtmfPayload{}, false
	}
	return dtmfPayload{
		event:    b[0],
		end:      b[1]&0x80 != 0,
		volume:   b[1] & 0x3f,
		duration: binary.BigEndian.Uint16(b[2:4]),
	}, true
}

func (p dtmfPayload) put(b []byte) {
	b[0] = p.event
	b[1] = p.volume & 0x3f
	if p.end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], p.duration)
}

// dtmfReceiver turns telephone-event packets into one DTMFEvent per
// digit. All packets of a digit share its RTP timestamp, which is what
// identifies it; the marker bit is not relied on because it can be lost.
// The read goroutine feeds packets and the clock expires digits, hence
// the mutex.
type dtmfReceiver struct {
	mu      sync.Mutex
	timeout time.Duration

	active   bool
	ts       uint32
	event    uint8
	duration uint16
	start    time.Time
	last     time.Time
	rate     uint32

	done   bool   // a digit has finished
	doneTS uint32 // its timestamp, to drop retransmitted end packets
}

// packet handles one telephone-event payload; it reports whether the
// packet was a duplicate of a finished digit.
func (r *dtmfReceiver) packet(ts uint32, payload []byte, rate uint32, now time.Time, emit func(DTMFEvent)) (dup bool) {
	p, ok := parseDTMF(payload)
	if !ok || rate == 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := int32(ts - r.doneTS); r.done && !(r.active && ts == r.ts) && d <= 0 && int64(d) > -10*int64(rate) {
		return true // end retransmission, or a straggler of a digit in the last 10 s
	}
	if r.active && ts == r.ts && p.event == r.event {
		r.duration = max(r.duration, p.duration)
		r.last = now
		if p.end {
			r.finish(true, emit)
		}
		return false
	}
	if r.active {
		r.finish(false, emit) // its end packets were lost
	}
	r.active = true
	r.ts, r.event, r.duration, r.rate = ts, p.event, p.duration, rate
	// If the first packets were lost, the duration says when it began.
	r.start = now.Add(-samplesToDuration(uint32(p.duration), rate))
	r.last = now
	if p.end {
		r.finish(true, emit)
	}
	return false
}

// reset forgets finished digits when the source changes, since its
// timestamps start anywhere.
func (r *dtmfReceiver) reset(emit func(DTMFEvent)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active {
		r.finish(false, emit)
	}
	r.done = false
}

// expire ends a digit that has had no packet for the timeout.
func (r *dtmfReceiver) expire(now time.Time, emit func(DTMFEvent)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active && now.Sub(r.last) >= r.timeout {
		r.finish(false, emit)
	}
}

func (r *dtmfReceiver) finish(ended bool, emit func(DTMFEvent)) {
	r.active = false
	r.done = true
	r.doneTS = r.ts
	emit(DTMFEvent{
		Digit: EventDigit(r.event),
		Event: r.event,
		Start: r.start,
		Dur:   samplesToDuration(uint32(r.duration), r.rate),
		Ended: ended,
	})
}

func samplesToDuration(n, rate uint32) time.Duration {
	if rate == 0 {
		return 0
	}
	return time.Duration(uint64(n) * uint64(time.Second) / uint64(rate))
}

func durationToSamples(d time.Duration, rate uint32) uint32 {
	return uint32(uint64(d) * uint64(rate) / uint64(time.Second))
}

// dtmfTone is one digit queued for sending.
type dtmfTone struct {
	event    uint8
	duration uint32 // samples
}

// dtmfSender produces the RFC 4733 packet train for queued digits, one
// step per clock tick: a begin packet with the marker bit, updates with
// growing duration, then the end packet three times, all with the digit's
// start timestamp; then a pause before the next digit.
type dtmfSender struct {
	queue []dtmfTone
	cur   dtmfTone
	state dtmfState
	dur   uint32 // samples elapsed in the current digit
	ends  int    // end packets sent
	gap   int    // ticks of pause left
}

type dtmfState uint8

const (
	dtmfIdle dtmfState = iota
	dtmfPlaying
	dtmfEnding
)

func (s *dtmfSender) enqueue(digits string, duration time.Duration, rate uint32) error {
	tones := make([]dtmfTone, 0, len(digits))
	for i := 0; i < len(digits); i++ {
		ev, ok := DigitEvent(digits[i])
		if !ok {
			return fmt.Errorf("media: %q is not a DTMF digit", digits[i])
		}
		tones = append(tones, dtmfTone{event: ev, duration: min(durationToSamples(duration, rate), 0xffff)})
	}
	s.queue = append(s.queue, tones...)
	return nil
}

func (s *dtmfSender) busy() bool { return s.state != dtmfIdle || len(s.queue) > 0 || s.gap > 0 }

// step advances one tick of step samples and says what to send: the
// payload (written into b), whether it is a new digit (marker, new
// timestamp), and whether anything is to be sent at all.
func (s *dtmfSender) step(b []byte, step uint32, gapTicks int) (send, begin bool) {
	switch s.state {
	case dtmfIdle:
		if s.gap > 0 {
			s.gap--
			return false, false
		}
		if len(s.queue) == 0 {
			return false, false
		}
		s.cur = s.queue[0]
		s.queue = s.queue[1:]
		s.state = dtmfPlaying
		s.dur = step
		s.ends = 0
		dtmfPayload{event: s.cur.event, volume: dtmfVolume, duration: uint16(min(s.dur, 0xffff))}.put(b)
		return true, true
	case dtmfPlaying:
		s.dur += step
		if s.dur >= s.cur.duration {
			s.dur = s.cur.duration
			s.state = dtmfEnding
			return s.step(b, step, gapTicks)
		}
		dtmfPayload{event: s.cur.event, volume: dtmfVolume, duration: uint16(s.dur)}.put(b)
		return true, false
	case dtmfEnding:
		dtmfPayload{event: s.cur.event, end: true, volume: dtmfVolume, duration: uint16(s.dur)}.put(b)
		s.ends++
		if s.ends == dtmfEndRepeats {
			s.state = dtmfIdle
			s.gap = gapTicks
		}
		return true, false
	}
	return false, false
}
