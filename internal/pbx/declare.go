// Package pbx runs CG/PL programs as PBX tasks. This first part declares
// the call-control built-ins to the language, so that programs written for
// calls compile and can run without one: a task with no call attached
// behaves as a CommuniGate task in the "disconnected" mode.
package pbx

import (
	"github.com/ringo-pbx/ringo/cgpl"
)

// callFunc is a call-control built-in: its arity, and what it does in a task
// with no call.
type callFunc struct {
	name     string
	min, max int
	// noCall is the result without a call: an error string for functions that
	// report errors that way, null for procedures and state queries.
	noCall cgpl.Value
}

const errNoCall = cgpl.String("no call")

// callFuncs are the Real-Time application functions of CG/PL.
func callFuncs() []callFunc {
	return []callFunc{
		{"AcceptCall", 0, 0, errNoCall},
		{"RejectCall", 1, 1, nil},
		{"RedirectCall", 1, 1, nil},
		{"ForkCall", 1, 1, nil},
		{"ProvisionCall", 1, 2, errNoCall},
		{"StartCall", 1, 1, errNoCall},
		{"CancelCall", 0, 0, nil},
		{"StartBridgedCall", 2, 2, errNoCall},
		{"SetCallParameters", 1, 1, nil},
		{"Disconnect", 0, 2, nil},
		{"IsConnected", 0, 0, nil},
		{"IsHalfConnected", 0, 0, nil},
		{"RemoteURI", 0, 0, nil},
		{"LocalURI", 0, 0, nil},
		{"IncomingRequestURI", 0, 0, nil},
		{"RouteLocalURI", 1, 1, nil},
		{"RemoteIPAddress", 0, 0, nil},
		{"RemoteAuthentication", 0, 0, nil},
		{"PendingRequestData", 1, 1, nil},
		{"PendingRequestExData", 1, 1, nil},
		{"SetLocalContactParameter", 2, 2, nil},
		{"SignalOption", 1, 2, nil},
		{"TransferSupported", 0, 0, nil},
		{"TransferCall", 1, 1, errNoCall},
		{"StartTransfer", 1, 1, errNoCall},
		{"AcceptTransfer", 1, 1, errNoCall},
		{"RejectTransfer", 2, 2, nil},
		{"SendCallInfo", 1, 1, errNoCall},
		{"SendCallOptions", 1, 1, errNoCall},
		{"SendCallNotify", 1, 1, errNoCall},
		{"DTMF", 0, 0, cgpl.String("")},
		{"ClearDTMF", 0, 0, nil},
		{"SetInterruptOnDTMF", 1, 1, cgpl.Yes},
		{"SendDTMF", 1, 1, errNoCall},
		{"PlayFile", 1, 2, nil},
		{"Play", 1, 2, nil},
		{"PlayTone", 2, 4, nil},
		{"GetPlayPosition", 0, 0, cgpl.Number(0)},
		{"SetPlayPosition", 1, 1, nil},
		{"IsPlayCompleted", 0, 0, cgpl.Yes},
		{"Record", 1, 1, nil},
		{"SetLocalHold", 1, 1, nil},
		{"ReleaseMediaChannel", 0, 0, nil},
		{"MediaOption", 1, 2, nil},
		{"StartBridge", 1, 1, errNoCall},
		{"AcceptBridge", 1, 1, errNoCall},
		{"RejectBridge", 2, 2, nil},
		{"BreakBridge", 0, 0, errNoCall},
		{"AttachMixer", 1, 1, errNoCall},
		{"DetachMixer", 1, 1, errNoCall},
		{"MixerAttached", 0, 0, nil},
		{"MuteMixer", 2, 2, nil},
		// Mail and HTTP go through the host; without one configured they
		// report the error the way the language does, as a string.
		{"ConferenceJoin", 1, 1, errNoCall},
		{"ConferenceSize", 1, 1, cgpl.Number(0)},
		{"SendEMail", 5, 5, cgpl.String("no SMTP relay configured")},
		{"SubmitEMail", 2, 2, cgpl.String("no SMTP relay configured")},
		{"HTTPCall", 2, 2, cgpl.String("HTTP is not available")},
	}
}

// procedures are the call-control built-ins called as statements only.
var procedures = map[string]bool{
	"RejectCall": true, "RedirectCall": true, "ForkCall": true, "CancelCall": true, "SetCallParameters": true,
	"Disconnect": true, "SetLocalContactParameter": true, "RejectTransfer": true, "ClearDTMF": true,
	"PlayFile": true, "Play": true, "PlayTone": true, "SetPlayPosition": true, "SetLocalHold": true,
	"ReleaseMediaChannel": true, "RejectBridge": true, "MuteMixer": true,
}

// Declare registers every call-control built-in with its no-call behaviour.
// A host with calls registers its own implementations over these.
func Declare(reg *cgpl.Registry) {
	for _, f := range callFuncs() {
		v := f.noCall
		reg.Register(cgpl.Func{Name: f.name, MinArgs: f.min, MaxArgs: f.max, Procedure: procedures[f.name],
			Fn: func(*cgpl.Task, []cgpl.Value) (cgpl.Value, error) { return v, nil }})
	}
}
