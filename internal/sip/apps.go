package sip

import (
	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/store"
)

// divertToApp hands an incoming INVITE to the program app, run as a task
// owned by owner: a signal to app#owner@domain, or a real-time rule's
// target "#app". via says how the call got there, for the logs and the
// call record ("rule afterhours", "address").
func (s *Server) divertToApp(req *sip.Request, tx sip.ServerTransaction, caller, owner *store.Account, app, via string) {
	s.respond(tx, req, 404, "Not Found: no application "+app, nil)
	s.recordRejected(req, caller, owner, 404)
}
