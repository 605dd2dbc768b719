package media

import "errors"

// ErrNotAcceptable is wrapped by every SDP negotiation failure; the SIP
// layer answers it with 488 Not Acceptable Here.
var ErrNotAcceptable = errors.New("not acceptable here")

// Reasons carried by an *SDPError.
var (
	ErrMalformedSDP         = errors.New("malformed SDP")
	ErrNoAudio              = errors.New("no usable audio stream")
	ErrNoCommonCodec        = errors.New("no common codec")
	ErrUnsupportedTransport = errors.New("unsupported media transport")
)

// Engine and session errors.
var (
	ErrPortsExhausted = errors.New("media: RTP port range exhausted")
	ErrClosed         = errors.New("media: closed")
	ErrNoRemote       = errors.New("media: remote address not known yet")
	ErrNoDTMF         = errors.New("media: telephone-event not negotiated")
	ErrNotSending     = errors.New("media: direction does not allow sending")
	ErrCodecMismatch  = errors.New("media: legs share no codec to relay")
)

// SDPError says why a session description cannot be used. errors.Is
// matches both its Reason and ErrNotAcceptable.
type SDPError struct {
	Reason error
	Detail string
}

func (e *SDPError) Error() string {
	if e.Detail == "" {
		return "sdp: " + e.Reason.Error()
	}
	return "sdp: " + e.Reason.Error() + ": " + e.Detail
}

// Unwrap exposes the reason and the 488 umbrella to errors.Is.
func (e *SDPError) Unwrap() []error { return []error{e.Reason, ErrNotAcceptable} }

// StatusCode is the SIP response for this error.
func (e *SDPError) StatusCode() int { return 488 }

func sdpErr(reason error, detail string) error { return &SDPError{Reason: reason, Detail: detail} }
