// Package call is the call-control contract between the SIP core, which
// owns calls, and the program engines (CG/PL tasks, flows) that drive
// them. A program sees one call: the caller's leg, pending, answered or
// gone; it answers, rejects or sends the call elsewhere, plays to it and
// listens through the call's media session, and learns of digits and the
// hang-up through the Handler it sets.
package call

import (
	"context"
	"errors"

	"github.com/ringo-pbx/ringo/internal/media"
)

// Mode is where a call stands for the program driving it.
type Mode int

// The modes of CommuniGate's PBX tasks.
const (
	Disconnected Mode = iota // no call, or it has ended or gone elsewhere
	Incoming                 // the INVITE waits for the program's decision
	Provisioned              // a 18x with media went out: early media
	Connected                // answered
)

func (m Mode) String() string {
	switch m {
	case Incoming:
		return "incoming"
	case Provisioned:
		return "provisioned"
	case Connected:
		return "connected"
	}
	return "disconnected"
}

// Errors the operations return; programs see their text.
var (
	ErrMode         = errors.New("the call is not in a state that allows this")
	ErrDisconnected = errors.New("the call has ended")
	ErrNoMedia      = errors.New("the call has no media")
	ErrNotFound     = errors.New("no such address")
)

// Handler learns what happens on the call. Its methods run on the SIP
// core's or the media engine's goroutines and must not block.
type Handler interface {
	// Digit is a DTMF digit received from the caller, in any form.
	Digit(d byte)
	// Disconnected is called once when the call leaves the program: the
	// caller hung up or cancelled, or the call was sent elsewhere.
	Disconnected(reason string)
}

// Call is one call as a program drives it.
type Call interface {
	// ID is the call's id in the API and its record.
	ID() string
	// SetHandler sets where digits and the hang-up go.
	SetHandler(h Handler)
	// Mode is the call's mode now.
	Mode() Mode

	// Accept answers a pending call (Incoming or Provisioned).
	Accept(ctx context.Context) error
	// Provision sends a 18x; with media the session starts, so that
	// prompts play as early media.
	Provision(ctx context.Context, withMedia bool) error
	// Reject ends a pending call with a SIP status (400-699).
	Reject(code int, reason string) error
	// Redirect sends a pending call to another address, routed by Ringo
	// (name, name@domain or a number); the program loses the call.
	Redirect(ctx context.Context, target string) error
	// Transfer connects an answered call to another address: Ringo calls
	// it and, once it answers, bridges the two and the program loses the
	// call. It returns when the target answered or failed; on failure the
	// caller stays connected to the program.
	Transfer(ctx context.Context, target string) error
	// Hangup ends the call (a BYE when answered, a final response when
	// pending).
	Hangup(reason string)

	// Session is the caller's media session while it is connected or
	// provisioned, else nil.
	Session() *media.Session
	// SendDTMF sends digits to the caller.
	SendDTMF(digits string) error

	// Info reports who called whom, as the program may ask.
	Info() Info

	// JoinConference puts the answered caller in a conference room of the
	// call's domain; the caller leaves it by hanging up.
	JoinConference(room string) error
	// ConferenceSize is how many are in a room of the call's domain now.
	ConferenceSize(room string) int
}

// Info is what a program may know about its call.
type Info struct {
	RemoteURI     string            // the caller, "sip:1001@example.com"
	LocalURI      string            // the address called
	RequestURI    string            // the INVITE's Request-URI
	RemoteIP      string            // where the INVITE came from
	Authenticated string            // the caller's account, name@domain, when authenticated
	CallID        string            // the caller's Call-ID
	Headers       map[string]string // a few headers of the INVITE (User-Agent, Subject…)
}
