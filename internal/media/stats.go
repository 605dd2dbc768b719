package media

import (
	"sync/atomic"
	"time"
)

// Counters is a snapshot of one leg's packet counters.
type Counters struct {
	PacketsIn  uint64 `json:"packetsIn"`
	BytesIn    uint64 `json:"bytesIn"`
	PacketsOut uint64 `json:"packetsOut"`
	BytesOut   uint64 `json:"bytesOut"`
	// Lost is expected minus received for the current source (RFC 3550 A.3).
	Lost       int64  `json:"lost"`
	Late       uint64 `json:"late"`       // arrived after a newer packet
	Duplicates uint64 `json:"duplicates"` // dropped, already seen
	Jumps      uint64 `json:"jumps"`      // dropped, sequence far out of line
	Malformed  uint64 `json:"malformed"`
	// Foreign packets came from an address other than the latched one.
	Foreign   uint64 `json:"foreign"`
	Relatched uint64 `json:"relatched"`
	// Dropped packets were valid but had nowhere to go (payload type the
	// other leg lacks, direction, no remote yet).
	Dropped    uint64 `json:"dropped"`
	SendErrors uint64 `json:"sendErrors"`
	// JitterMS is the RFC 3550 A.8 interarrival jitter of the current source.
	JitterMS     float64 `json:"jitterMs"`
	DTMFIn       uint64  `json:"dtmfIn"`
	DTMFOut      uint64  `json:"dtmfOut"`
	DTMFDropped  uint64  `json:"dtmfDropped,omitempty"`
	RTCPIn       uint64  `json:"rtcpIn"`
	RTCPOut      uint64  `json:"rtcpOut"`
	SourceSwitch uint64  `json:"sourceSwitches"` // outgoing stream re-based on a new input
	// DecodeErrors are payloads a recorder, mixer or transcoder could not
	// decode.
	DecodeErrors uint64 `json:"decodeErrors,omitempty"`
}

// counters are written by the packet paths and read by anyone.
type counters struct {
	packetsIn, bytesIn, packetsOut, bytesOut      atomic.Uint64
	late, dups, jumps, malformed, foreign         atomic.Uint64
	relatched, dropped, sendErrors                atomic.Uint64
	dtmfIn, dtmfOut, dtmfDropped, rtcpIn, rtcpOut atomic.Uint64
	switches, decodeErrors                        atomic.Uint64
}

// Sequence tracking constants from RFC 3550 A.1.
const (
	maxDropout  = 3000
	maxMisorder = 100
	seqMod      = 1 << 16
)

type seqResult uint8

const (
	seqOK seqResult = iota
	seqLate
	seqDup
	seqJump
	seqNewSource
)

// recvStats follows one incoming source: RFC 3550 A.1 sequence
// validation (without probation, so the first packet is already audio),
// a 64-packet duplicate window, and A.8 jitter. Only the read goroutine
// updates it; what RTCP and Describe need is published in atomics.
type recvStats struct {
	init     bool
	ssrc     uint32
	maxSeq   uint16
	cycles   uint32
	baseSeq  uint32
	badSeq   uint32
	received uint64
	window   uint64 // bit i: maxSeq-i was received

	haveTransit bool
	transit     int32
	jitter      uint32 // ×16, as in A.8

	pub struct {
		ssrc     atomic.Uint32
		base     atomic.Uint32
		ext      atomic.Uint32 // extended highest sequence number
		received atomic.Uint64
		jitter   atomic.Uint32 // RTP units
		rate     atomic.Uint32
		valid    atomic.Bool
	}
}

func (r *recvStats) reset(ssrc uint32, seq uint16) {
	r.init = true
	r.ssrc = ssrc
	r.maxSeq = seq
	r.cycles = 0
	r.baseSeq = uint32(seq)
	r.badSeq = seqMod + 1
	r.received = 0
	r.window = 1
	r.haveTransit = false
	r.jitter = 0
	r.pub.jitter.Store(0)
	r.pub.ssrc.Store(ssrc)
	r.pub.base.Store(uint32(seq))
	r.pub.valid.Store(true)
}

// update accounts one packet. arrival is in the payload's RTP clock units
// (rate 0 skips jitter, e.g. for telephone-event whose timestamp stands
// still for a whole digit).
func (r *recvStats) update(ssrc uint32, seq uint16, ts uint32, arrival uint32, rate uint32) seqResult {
	res := seqOK
	if !r.init || ssrc != r.ssrc {
		r.reset(ssrc, seq)
		res = seqNewSource
	} else {
		udelta := seq - r.maxSeq
		switch {
		case udelta == 0:
			return seqDup
		case udelta < maxDropout:
			if seq < r.maxSeq {
				r.cycles += seqMod
			}
			if udelta >= 64 {
				r.window = 1
			} else {
				r.window = r.window<<udelta | 1
			}
			r.maxSeq = seq
		case uint32(udelta) <= seqMod-maxMisorder:
			// A big jump: only a second packet in line with it restarts
			// the sequence (the peer restarted without a new SSRC).
			if uint32(seq) != r.badSeq {
				r.badSeq = (uint32(seq) + 1) & (seqMod - 1)
				return seqJump
			}
			r.reset(ssrc, seq)
			res = seqNewSource
		default:
			back := r.maxSeq - seq
			if back < 64 {
				bit := uint64(1) << back
				if r.window&bit != 0 {
					return seqDup
				}
				r.window |= bit
			}
			res = seqLate
		}
	}
	r.received++
	if rate != 0 && res != seqLate {
		transit := int32(arrival - ts)
		if r.haveTransit && rate == r.pub.rate.Load() {
			d := transit - r.transit
			if d < 0 {
				d = -d
			}
			j := int64(r.jitter) + int64(d) - int64((r.jitter+8)>>4)
			if j < 0 {
				j = 0
			}
			r.jitter = uint32(j)
			r.pub.jitter.Store(r.jitter >> 4)
		}
		r.transit = transit
		r.haveTransit = true
		r.pub.rate.Store(rate)
	}
	r.pub.ext.Store(r.cycles + uint32(r.maxSeq))
	r.pub.received.Store(r.received)
	return res
}

// lost is expected minus received (A.3); duplicates are not counted as
// received, so it does not go negative.
func (r *recvStats) lost() int64 {
	if !r.pub.valid.Load() {
		return 0
	}
	expected := int64(r.pub.ext.Load()) - int64(r.pub.base.Load()) + 1
	return expected - int64(r.pub.received.Load())
}

func (r *recvStats) jitterDuration() time.Duration {
	rate := r.pub.rate.Load()
	if rate == 0 {
		return 0
	}
	return time.Duration(uint64(r.pub.jitter.Load()) * uint64(time.Second) / uint64(rate))
}
