package sip

import (
	"errors"
	"strings"
	"sync"

	"github.com/ringo-pbx/ringo/internal/media"
)

// conferenceUser reaches a domain's default conference room;
// conference-NAME reaches room NAME. Like echo@, the service answers only
// when nothing provisioned has the name.
const conferenceUser = "conference"

// conferenceRoom returns the room a dialled user part names.
func conferenceRoom(user string) (string, bool) {
	u := strings.ToLower(user)
	if u == conferenceUser {
		return "", true
	}
	room, ok := strings.CutPrefix(u, conferenceUser+"-")
	if !ok || room == "" || len(room) > 64 {
		return "", false
	}
	for _, r := range room {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return "", false
		}
	}
	return room, true
}

// serviceKind is the service a call's service name belongs to: a
// conference call's name carries its room.
func serviceKind(svc string) string {
	if _, ok := conferenceRoom(svc); ok {
		return conferenceUser
	}
	return svc
}

// conferences are the live rooms, by domain and room. A room exists while
// it has members.
type conferences struct {
	mu    sync.Mutex
	rooms map[string]*media.Conference
}

// join puts a call's session into room of domain, opening the room for
// its first member.
func (s *Server) joinConference(domain, room, member string, ms *media.Session) (*media.ConferenceMember, error) {
	key := domain + "/" + room
	for range 3 {
		cs := &s.confs
		cs.mu.Lock()
		if cs.rooms == nil {
			cs.rooms = map[string]*media.Conference{}
		}
		conf := cs.rooms[key]
		if conf == nil {
			var c *media.Conference
			c = s.media.NewConference(key, func() {
				cs.mu.Lock()
				if cs.rooms[key] == c {
					delete(cs.rooms, key)
				}
				cs.mu.Unlock()
			})
			conf = c
			cs.rooms[key] = conf
		}
		cs.mu.Unlock()
		m, err := conf.Join(ms, member)
		if errors.Is(err, media.ErrConferenceEnded) {
			// The last member left between the lookup and the join.
			continue
		}
		return m, err
	}
	return nil, media.ErrConferenceEnded
}

// conferenceSize is how many are in a room now.
func (s *Server) conferenceSize(domain, room string) int {
	s.confs.mu.Lock()
	c := s.confs.rooms[domain+"/"+room]
	s.confs.mu.Unlock()
	if c == nil {
		return 0
	}
	return c.Len()
}

// Conferences describes the live rooms.
func (s *Server) Conferences() []media.ConferenceInfo {
	s.confs.mu.Lock()
	rooms := make([]*media.Conference, 0, len(s.confs.rooms))
	for _, c := range s.confs.rooms {
		rooms = append(rooms, c)
	}
	s.confs.mu.Unlock()
	out := make([]media.ConferenceInfo, 0, len(rooms))
	for _, c := range rooms {
		out = append(out, c.Describe())
	}
	return out
}
