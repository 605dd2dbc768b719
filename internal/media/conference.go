package media

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// ConferenceRate is the rate conferences mix at: wideband, so that G.722
// and Opus members keep their quality; G.711 members are resampled.
const ConferenceRate = 16000

// Jitter reserves of a conference member's queues: what the member sends
// waits for two frames before the mixer reads it; what the mixer makes
// for it waits one frame for the session's sender.
const (
	confInReserve  = 40 * time.Millisecond
	confOutReserve = 20 * time.Millisecond
	confMaxDelay   = 200 * time.Millisecond
)

// ErrConferenceEnded is returned by Join on a conference whose last
// member left.
var ErrConferenceEnded = errors.New("media: conference ended")

// Conference mixes any number of sessions: each member hears everyone
// but itself. Members may use different codecs: each one's audio is
// decoded and resampled to ConferenceRate on its own read goroutine, the
// mix runs once per clock tick, and each member's share is encoded in its
// own codec by its own paced sender. The work per tick is O(members).
type Conference struct {
	name string
	eng  *Engine

	mu      sync.Mutex
	mixer   *dsp.Mixer
	members []*ConferenceMember
	frame   []int16
	entry   *ClockEntry
	ended   bool
	onEmpty func()
	ticks   uint64
}

// ConferenceMember is one session in a conference.
type ConferenceMember struct {
	conf   *Conference
	name   string
	s      *Session
	mb     *dsp.Member
	in     *AudioQueue
	out    *AudioQueue
	pb     *Playback
	remove func()
	left   bool
}

// NewConference starts an empty conference on the engine's clock. onEmpty
// (when not nil) is called, without the conference's lock, when the last
// member leaves; the conference has ended by then.
func (e *Engine) NewConference(name string, onEmpty func()) *Conference {
	c := &Conference{
		name:    name,
		eng:     e,
		mixer:   dsp.NewMixer(samplesIn(e.clock.Period(), ConferenceRate)),
		onEmpty: onEmpty,
	}
	c.frame = make([]int16, c.mixer.FrameSamples())
	return c
}

// Name is the conference's name.
func (c *Conference) Name() string { return c.name }

// Len is the number of members.
func (c *Conference) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.members)
}

// Join adds s as member name (the caller, say): from now on s sends the
// mix of the others (replacing any playback on it) and its audio goes
// into the mix. s must have its remote params.
func (c *Conference) Join(s *Session, name string) (*ConferenceMember, error) {
	p := s.params.Load()
	if p == nil {
		return nil, fmt.Errorf("media: conference %s: join %s: %w", c.name, s.name, ErrNoRemote)
	}
	enc, rate, err := EncoderFor(p.Codecs[0].Codec)
	if err != nil {
		return nil, fmt.Errorf("media: conference %s: join %s: %w", c.name, s.name, err)
	}
	m := &ConferenceMember{
		conf: c, s: s, name: name,
		in:  NewAudioQueue(ConferenceRate, confInReserve, confMaxDelay),
		out: NewAudioQueue(rate, confOutReserve, confMaxDelay),
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return nil, fmt.Errorf("media: conference %s: %w", c.name, ErrConferenceEnded)
	}
	m.mb = c.mixer.Join()
	c.members = append(c.members, m)
	if c.entry == nil {
		c.entry = c.eng.clock.Add(c)
	}
	c.mu.Unlock()
	m.remove = s.AddAudioSink(m.in)
	pb, err := s.Play(m.out, enc, rate)
	if err != nil {
		m.Leave()
		return nil, fmt.Errorf("media: conference %s: join %s: %w", c.name, s.name, err)
	}
	m.pb = pb
	return m, nil
}

// Session is the member's session.
func (m *ConferenceMember) Session() *Session { return m.s }

// SetMuted stops (or resumes) the others hearing the member.
func (m *ConferenceMember) SetMuted(v bool) {
	m.conf.mu.Lock()
	m.mb.SetMuted(v)
	m.conf.mu.Unlock()
}

// SetDeaf stops (or resumes) the member hearing the others.
func (m *ConferenceMember) SetDeaf(v bool) {
	m.conf.mu.Lock()
	m.mb.SetDeaf(v)
	m.conf.mu.Unlock()
}

// Leave takes the member out; its session goes quiet. Leaving twice is a
// no-op. When the last member leaves, the conference ends.
func (m *ConferenceMember) Leave() {
	c := m.conf
	c.mu.Lock()
	empty := c.leaveLocked(m)
	c.mu.Unlock()
	if m.remove != nil {
		m.remove()
	}
	if m.pb != nil {
		m.pb.Stop()
	}
	if empty && c.onEmpty != nil {
		c.onEmpty()
	}
}

// leaveLocked removes m and reports whether that ended the conference.
func (c *Conference) leaveLocked(m *ConferenceMember) bool {
	if m.left {
		return false
	}
	m.left = true
	c.mixer.Leave(m.mb)
	for i, x := range c.members {
		if x == m {
			c.members = append(c.members[:i], c.members[i+1:]...)
			break
		}
	}
	m.in.Close()
	m.out.Close()
	if len(c.members) > 0 || c.ended {
		return false
	}
	c.ended = true
	if c.entry != nil {
		c.entry.Stop()
	}
	return true
}

// Tick mixes one frame; it runs on the media clock.
func (c *Conference) Tick(time.Time) bool {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return false
	}
	var gone []*ConferenceMember
	for _, m := range c.members {
		if m.s.closed.Load() {
			gone = append(gone, m)
			continue
		}
		m.in.ReadFrame(c.frame)
		m.mb.Write(c.frame)
	}
	c.mixer.Mix()
	for _, m := range c.members {
		if !m.s.closed.Load() {
			m.out.WriteAudio(m.mb.Output(), ConferenceRate)
		}
	}
	c.ticks++
	c.mu.Unlock()
	// A member whose session closed (the call ended) leaves by itself.
	for _, m := range gone {
		m.Leave()
	}
	return true
}

// ConferenceInfo describes a conference for the API.
type ConferenceInfo struct {
	Name    string           `json:"name"`
	Members []ConferenceSeat `json:"members"`
}

// ConferenceSeat is one member as the API shows it.
type ConferenceSeat struct {
	Name    string `json:"name"`
	Session uint64 `json:"session"` // the media session's id
	Muted   bool   `json:"muted,omitempty"`
	Deaf    bool   `json:"deaf,omitempty"`
}

// Describe reports the conference's members.
func (c *Conference) Describe() ConferenceInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	info := ConferenceInfo{Name: c.name, Members: []ConferenceSeat{}}
	for _, m := range c.members {
		info.Members = append(info.Members, ConferenceSeat{Name: m.name, Session: m.s.id,
			Muted: m.mb.Muted(), Deaf: m.mb.Deaf()})
	}
	return info
}
