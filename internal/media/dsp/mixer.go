package dsp

import (
	"fmt"
	"slices"
)

// Mixer is the core of a conference: every member hears the sum of all the
// others. It sums the inputs once per frame and gives each member that sum
// minus its own input, so a frame costs O(N) for N members, not O(N²). Sums
// are kept in 32 bits and saturated to 16 only on output, so loud members
// clip gracefully instead of wrapping.
//
// Per frame: each member that has audio calls Write, then the owner calls
// Mix once, then reads each member's Output. A member without input for a
// frame (late packet, silence suppression) contributes silence. Mixer and its
// members are owned by one goroutine.
type Mixer struct {
	frame   int
	sum     []int32
	members []*Member
}

// Member is one participant of a Mixer.
type Member struct {
	mixer *Mixer
	in    []int16
	out   []int16
	has   bool // in holds this frame's audio
	muted bool // not heard by others
	deaf  bool // hears nothing
}

// NewMixer returns a mixer of frames of frameSamples samples.
func NewMixer(frameSamples int) *Mixer {
	return &Mixer{frame: frameSamples, sum: make([]int32, frameSamples)}
}

// FrameSamples is the frame length in samples.
func (m *Mixer) FrameSamples() int { return m.frame }

// Len is the number of members.
func (m *Mixer) Len() int { return len(m.members) }

func (m *Mixer) String() string {
	return fmt.Sprintf("Mixer(%d members, %d samples)", len(m.members), m.frame)
}

// Join adds a member. It allocates the member's buffers, once.
func (m *Mixer) Join() *Member {
	mb := &Member{mixer: m, in: make([]int16, m.frame), out: make([]int16, m.frame)}
	m.members = append(m.members, mb)
	return mb
}

// Leave removes a member; it is a no-op for a member already gone.
func (m *Mixer) Leave(mb *Member) {
	if i := slices.Index(m.members, mb); i >= 0 {
		m.members = slices.Delete(m.members, i, i+1)
		mb.mixer = nil
	}
}

// Write sets the member's input for the next Mix. A shorter pcm is padded
// with silence; a longer one is cut to the frame.
func (mb *Member) Write(pcm []int16) {
	n := copy(mb.in, pcm)
	clear(mb.in[n:])
	mb.has = true
}

// Output is what the member hears, valid after Mix until the next Mix.
func (mb *Member) Output() []int16 { return mb.out }

// SetMuted stops (or resumes) others hearing the member.
func (mb *Member) SetMuted(muted bool) { mb.muted = muted }

// SetDeaf stops (or resumes) the member hearing others.
func (mb *Member) SetDeaf(deaf bool) { mb.deaf = deaf }

// Muted reports whether others hear the member.
func (mb *Member) Muted() bool { return mb.muted }

// Deaf reports whether the member hears others.
func (mb *Member) Deaf() bool { return mb.deaf }

// Mix computes every member's output from the inputs written since the last
// Mix, then consumes those inputs.
func (m *Mixer) Mix() {
	sum := m.sum
	clear(sum)
	for _, mb := range m.members {
		if mb.has && !mb.muted {
			in := mb.in[:len(sum)]
			for i, v := range in {
				sum[i] += int32(v)
			}
		}
	}
	for _, mb := range m.members {
		out := mb.out[:len(sum)]
		switch {
		case mb.deaf:
			clear(out)
		case mb.has && !mb.muted:
			in := mb.in[:len(sum)]
			for i, s := range sum {
				out[i] = sat32(s - int32(in[i]))
			}
		default:
			for i, s := range sum {
				out[i] = sat32(s)
			}
		}
		mb.has = false
	}
}

func sat32(v int32) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}
