package media

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"
)

// outStream is a session's one outgoing RTP stream. Relayed, echoed,
// played and DTMF packets all pass through it, so the far side sees one
// SSRC whose sequence numbers and timestamps run on across re-INVITEs,
// source changes and switches between relay and playback.
//
// Each input ("feeder": a source on another leg, a playback) keeps its
// own numbering; the stream maps it with a sequence and timestamp offset
// that is recomputed whenever the feeder changes. Gaps and reordering
// within one feeder therefore survive the mapping, so the far side still
// sees loss as loss.
type outStream struct {
	mu   sync.Mutex
	ssrc uint32

	next     uint16 // next sequence number
	lastTS   uint32 // newest timestamp sent
	lastSent time.Time
	started  bool

	fed    bool
	feeder uint64
	seqOff uint16
	tsOff  uint32

	packets uint32 // RTCP sender info
	octets  uint32
	rate    uint32 // clock rate of the newest packet
}

func newOutStream() *outStream {
	return &outStream{ssrc: rand.Uint32(), next: uint16(rand.Uint32()), lastTS: rand.Uint32()}
}

// minSwitchGap keeps a new feeder's first timestamp at least one frame
// after the previous feeder's last, so the two never overlap.
const minSwitchGap = 20 * time.Millisecond

// tsAt is the stream's timestamp now: the last one plus the time since
// it went out (RFC 3550 §5.1: timestamps follow the sampling clock).
func (o *outStream) tsAt(now time.Time, rate uint32, floor time.Duration) uint32 {
	if !o.started {
		return o.lastTS
	}
	el := max(now.Sub(o.lastSent), floor)
	return o.lastTS + durationToSamples(el, rate)
}

// mapIn renumbers one packet of feeder key onto the stream and returns
// its sequence number, timestamp, and whether it starts a new feeder
// (the caller sets the marker bit then).
func (o *outStream) mapIn(key uint64, seq uint16, ts uint32, rate uint32, payload int, now time.Time) (uint16, uint32, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switched := !o.fed || key != o.feeder
	if switched {
		o.seqOff = o.next - seq
		o.tsOff = o.tsAt(now, rate, minSwitchGap) - ts
		o.feeder, o.fed = key, true
	}
	oseq, ots := seq+o.seqOff, ts+o.tsOff
	o.advance(oseq, ots, rate, payload, now)
	return oseq, ots, switched
}

// insert takes the next sequence number for a packet that is not part of
// the current feeder (an RFC 4733 event Ringo generates) and shifts the
// feeder so its later packets do not collide with it.
func (o *outStream) insert(ts uint32, rate uint32, payload int, now time.Time) uint16 {
	o.mu.Lock()
	defer o.mu.Unlock()
	seq := o.next
	o.seqOff++
	o.advance(seq, ts, rate, payload, now)
	return seq
}

// eventTS is the timestamp for a new RFC 4733 event: where the stream is now.
func (o *outStream) eventTS(now time.Time, rate uint32) uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tsAt(now, rate, 0)
}

func (o *outStream) advance(seq uint16, ts uint32, rate uint32, payload int, now time.Time) {
	if int16(seq-o.next) >= 0 {
		o.next = seq + 1
	}
	if !o.started || int32(ts-o.lastTS) >= 0 {
		o.lastTS = ts
		o.rate = rate
		o.lastSent = now
	}
	o.started = true
	o.packets++
	o.octets += uint32(payload)
}

// senderInfo returns what an RTCP SR states about the stream at now.
func (o *outStream) senderInfo(now time.Time) (ts uint32, packets, octets uint32, sent bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tsAt(now, o.rate, 0), o.packets, o.octets, o.started
}

const rtpHeaderLen = 12

// putHeader writes a minimal RTP header (no CSRC, no extension) into b.
func putHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	b[0] = 0x80
	patchHeader(b, marker, pt, seq, ts, ssrc)
}

// patchHeader rewrites an RTP header in place, leaving version, padding,
// extension and CSRCs as they are.
func patchHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	m := pt & 0x7f
	if marker {
		m |= 0x80
	}
	b[1] = m
	binary.BigEndian.PutUint16(b[2:4], seq)
	binary.BigEndian.PutUint32(b[4:8], ts)
	binary.BigEndian.PutUint32(b[8:12], ssrc)
}
