package sip

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

func TestParseInfoDTMF(t *testing.T) {
	tests := []struct {
		name, ct, body string
		digit          byte
		dur            time.Duration
		notDTMF        bool
		wantErr        string
	}{
		{name: "dtmf-relay", ct: "application/dtmf-relay", body: "Signal=5\r\nDuration=160\r\n", digit: '5', dur: 160 * time.Millisecond},
		{name: "dtmf-relay bare LF, spaces, case", ct: "Application/DTMF-Relay", body: "signal= #\nduration = 250", digit: '#', dur: 250 * time.Millisecond},
		{name: "dtmf-relay without duration", ct: "application/dtmf-relay", body: "Signal=*", digit: '*'},
		{name: "dtmf-relay event code", ct: "application/dtmf-relay", body: "Signal=11\r\nDuration=100", digit: '#', dur: 100 * time.Millisecond},
		{name: "dtmf-relay lower-case letter", ct: "application/dtmf-relay", body: "Signal=b\r\n", digit: 'B'},
		{name: "dtmf-relay flash", ct: "application/dtmf-relay", body: "Signal=16\r\n", digit: '!'},
		{name: "dtmf-relay other fields", ct: "application/dtmf-relay; charset=utf-8", body: "Signal=0\r\nVolume=10\r\n\r\n", digit: '0'},
		{name: "dtmf", ct: "application/dtmf", body: "7", digit: '7'},
		{name: "dtmf with line end", ct: " application/dtmf ", body: "9\r\n", digit: '9'},
		{name: "sdp", ct: "application/sdp", body: "Signal=5", notDTMF: true},
		{name: "no content type", ct: "", body: "Signal=5", notDTMF: true},
		{name: "dtmf-relay without signal", ct: "application/dtmf-relay", body: "Duration=160\r\n", wantErr: "without Signal"},
		{name: "dtmf-relay empty", ct: "application/dtmf-relay", body: "", wantErr: "without Signal"},
		{name: "dtmf-relay bad signal", ct: "application/dtmf-relay", body: "Signal=X\r\n", wantErr: "not a key"},
		{name: "dtmf-relay two-digit signal", ct: "application/dtmf-relay", body: "Signal=55\r\n", wantErr: "not a key"},
		{name: "dtmf-relay two signals", ct: "application/dtmf-relay", body: "Signal=1\r\nSignal=2\r\n", wantErr: "two Signals"},
		{name: "dtmf-relay bad duration", ct: "application/dtmf-relay", body: "Signal=1\r\nDuration=abc\r\n", wantErr: "Duration"},
		{name: "dtmf-relay negative duration", ct: "application/dtmf-relay", body: "Signal=1\r\nDuration=-5\r\n", wantErr: "Duration"},
		{name: "dtmf-relay junk line", ct: "application/dtmf-relay", body: "hello\r\n", wantErr: "name=value"},
		{name: "dtmf empty", ct: "application/dtmf", body: " \r\n", wantErr: "empty"},
		{name: "dtmf word", ct: "application/dtmf", body: "five", wantErr: "not a key"},
		{name: "dtmf too long", ct: "application/dtmf", body: strings.Repeat("1", 2000), wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, isDTMF, err := parseInfoDTMF(tt.ct, []byte(tt.body))
			if isDTMF == tt.notDTMF {
				t.Fatalf("isDTMF %v", isDTMF)
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				if strings.ContainsAny(err.Error(), "\r\n") {
					t.Fatalf("error %q breaks a reason phrase", err)
				}
			case err != nil:
				t.Fatal(err)
			case !tt.notDTMF && (d.digit != tt.digit || d.dur != tt.dur):
				t.Fatalf("got %c %v, want %c %v", d.digit, d.dur, tt.digit, tt.dur)
			}
		})
	}
}

// FuzzParseInfoDTMF: whatever an INFO carries, the parser returns a key or
// an error fit for a reason phrase, and never panics; a key it returns
// survives being written as dtmf-relay and read again.
func FuzzParseInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf-relay", []byte("Signal=11\nDuration=99999999999999999999"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf;x=y", []byte("\xff"))
	f.Add("application/sdp", []byte("v=0"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, isDTMF, err := parseInfoDTMF(ct, body)
		if !isDTMF || err != nil {
			if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q breaks a reason phrase", err)
			}
			return
		}
		if _, ok := media.DigitEvent(d.digit); !ok || d.dur < 0 || d.dur > maxInfoDuration*time.Millisecond {
			t.Fatalf("parsed %q %v from %q", d.digit, d.dur, body)
		}
		again, _, err := parseInfoDTMF(ctDTMFRelay, dtmfRelayBody(d.digit, d.dur))
		if err != nil || again.digit != d.digit {
			t.Fatalf("%c does not survive dtmf-relay: %c %v", d.digit, again.digit, err)
		}
	})
}

// pcmuOnly is an SDP for port with PCMU and no telephone-event.
func pcmuOnly(port int) []byte {
	return []byte(fmt.Sprintf("v=0\r\no=- 3 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", port))
}

// dtmfCall sets up 1001 calling 1002 with the SDP each phone's media
// socket gets (rtpPeer.sdp has telephone-event, pcmuOnly not).
func dtmfCall(t *testing.T, e *env, callerSDP, calleeSDP func(*rtpPeer) []byte) (caller, callee *phone, a, b *rtpPeer, s *sipgo.DialogClientSession, toRingoA, toRingoB netip.AddrPort) {
	t.Helper()
	caller = newPhone(t, e, "1001", "secret1001")
	callee = newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	a, b = newRTPPeer(t), newRTPPeer(t)
	callee.setAnswer(func(s *sipgo.DialogServerSession) error {
		return s.Respond(200, "OK", calleeSDP(b), sip.NewHeader("Content-Type", "application/sdp"))
	})
	s, err := caller.call(ctxT(t), "1002", callerSDP(a))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	inv := wait(t, callee.incoming, "INVITE at callee")
	wait(t, callee.acks, "ACK at callee")
	toRingoA = e.checkAnchored(t, "caller's answer", s.InviteResponse.Body())
	toRingoB = e.checkAnchored(t, "callee's offer", inv.Body())
	return caller, callee, a, b, s, toRingoA, toRingoB
}

func withTE(p *rtpPeer) []byte    { return p.sdp() }
func withoutTE(p *rtpPeer) []byte { return pcmuOnly(p.port) }

// sendInfo sends an INFO within the caller's dialog and returns the answer.
func sendInfo(t *testing.T, s *sipgo.DialogClientSession, ct, body string) *sip.Response {
	t.Helper()
	req := sip.NewRequest(sip.INFO, s.InviteResponse.Contact().Address)
	if ct != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ct))
	}
	req.SetBody([]byte(body))
	res, err := s.Do(ctxT(t), req)
	if err != nil {
		t.Fatalf("INFO %s %q: %v", ct, body, err)
	}
	return res
}

// callView waits for the only live call to show n digits and returns them.
func callView(t *testing.T, e *env, n int) []DTMFDigit {
	t.Helper()
	var got []DTMFDigit
	waitFor(t, func() bool {
		calls := e.srv.Calls()
		if len(calls) != 1 {
			return false
		}
		v, _ := e.srv.Call(calls[0].ID)
		got = v.DTMF
		return len(got) >= n
	}, fmt.Sprintf("%d digits in the call view", n))
	if len(got) != n {
		t.Fatalf("%d digits, want %d: %+v", len(got), n, got)
	}
	return got
}

func checkDigits(t *testing.T, got []DTMFDigit, digits, source, leg string) {
	t.Helper()
	for i, d := range got {
		if d.Digit != digits[i:i+1] || d.Source != source || d.Leg != leg {
			t.Fatalf("digit %d: %+v, want %c from %s on %s (all: %+v)", i, d, digits[i], source, leg, got)
		}
	}
}

// waitEvent reads what p receives until an RFC 4733 packet (PT 101) for
// digit comes.
func waitEvent(t *testing.T, p *rtpPeer, digit byte) {
	t.Helper()
	want, _ := media.DigitEvent(digit)
	for range 500 {
		pkt := p.recv(t)
		if pkt.PayloadType == 101 && len(pkt.Payload) == 4 && pkt.Payload[0] == want {
			return
		}
	}
	t.Fatalf("no telephone-event for %c", digit)
}

// toneSender sends PCMU packets of DTMF tones from a peer, as a phone
// without telephone-event does.
type toneSender struct {
	p   *rtpPeer
	to  netip.AddrPort
	seq uint16
	ts  uint32
}

func (s *toneSender) frame(t *testing.T, pcm []int16) {
	t.Helper()
	payload := make([]byte, len(pcm))
	codec.EncodeULaw(payload, pcm)
	s.seq++
	s.ts += uint32(len(pcm))
	s.p.send(t, s.to, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: s.seq,
		Timestamp: s.ts, SSRC: 0x70de}, Payload: payload})
}

// digits sends each digit as a tone of 100 ms, followed by 100 ms of
// silence, in 20 ms packets.
func (s *toneSender) digits(t *testing.T, digits string) {
	t.Helper()
	pcm := make([]int16, 160)
	for i := range len(digits) {
		tone, ok := dsp.DTMFTone(digits[i])
		if !ok {
			t.Fatalf("no tone for %c", digits[i])
		}
		g, err := dsp.NewToneGenerator(tone, 8000)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			g.Generate(pcm)
			s.frame(t, pcm)
		}
		clear(pcm)
		for range 5 {
			s.frame(t, pcm)
		}
	}
}

func TestInfoDTMFToService(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	a := newRTPPeer(t)
	s, err := caller.call(ctxT(t), "echo", a.sdp())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ct, body string
		status   int
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200},
		{"application/dtmf-relay", "Signal=X\r\n", 400},
		{"application/dtmf-relay", "Duration=160\r\n", 400},
		{"application/dtmf", "", 400},
		{"text/plain", "5", 415},
		{"", "", 200}, // an INFO without a body, as a keep-alive
		{"application/dtmf", "7", 200},
	} {
		res := sendInfo(t, s, tt.ct, tt.body)
		if res.StatusCode != tt.status {
			t.Fatalf("INFO %s %q: %s, want %d", tt.ct, tt.body, res.StartLine(), tt.status)
		}
		if res.StatusCode == 415 {
			if h := res.GetHeader("Accept"); h == nil || !strings.Contains(h.Value(), "application/dtmf-relay") {
				t.Fatalf("415 without Accept: %s", res)
			}
		}
	}
	got := callView(t, e, 2)
	checkDigits(t, got, "57", "info", "echo")
	if got[0].DurationMS != 160 || got[1].DurationMS != 0 {
		t.Fatalf("durations: %+v", got)
	}
	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, e.records, "record"); r.DTMF != "57" {
		t.Fatalf("record DTMF %q", r.DTMF)
	}
}

// An INFO digit goes to a callee with telephone-event as RFC 4733, and to
// one without as the INFO itself.
func TestInfoDTMFRelay(t *testing.T) {
	t.Run("as RFC 4733", func(t *testing.T) {
		e := startEnv(t, nil)
		_, callee, _, b, s, _, _ := dtmfCall(t, e, withTE, withTE)
		if res := sendInfo(t, s, "application/dtmf-relay", "Signal=4\r\nDuration=200\r\n"); res.StatusCode != 200 {
			t.Fatalf("INFO: %s", res.StartLine())
		}
		waitEvent(t, b, '4')
		// Had the INFO been relayed, the callee would have had it before
		// the caller had its answer.
		if n := len(callee.infos); n != 0 {
			t.Fatalf("the callee got %d INFOs", n)
		}
		checkDigits(t, callView(t, e, 1), "4", "info", "caller")
	})
	t.Run("as INFO", func(t *testing.T) {
		e := startEnv(t, nil)
		_, callee, _, _, s, _, _ := dtmfCall(t, e, withTE, withoutTE)
		if res := sendInfo(t, s, "application/dtmf", "#"); res.StatusCode != 200 {
			t.Fatalf("INFO: %s", res.StartLine())
		}
		info := wait(t, callee.infos, "INFO at the callee")
		if ct := info.GetHeader("Content-Type"); ct == nil || ct.Value() != "application/dtmf" || string(info.Body()) != "#" {
			t.Fatalf("callee got %s", info)
		}
		checkDigits(t, callView(t, e, 1), "#", "info", "caller")
		// A bad body is refused, not relayed.
		if res := sendInfo(t, s, "application/dtmf", "##"); res.StatusCode != 400 {
			t.Fatalf("bad INFO: %s", res.StartLine())
		}
		if n := len(callee.infos); n != 0 {
			t.Fatalf("the callee got %d more INFOs", n)
		}
	})
}

// An RFC 4733 digit for a leg without telephone-event becomes an INFO.
func TestRFC4733ToLegWithoutEvents(t *testing.T) {
	e := startEnv(t, nil)
	_, callee, a, _, _, toRingoA, _ := dtmfCall(t, e, withTE, withoutTE)
	var seq uint16
	sendDigit(t, a, toRingoA, '1', &seq, 8000)
	sendDigit(t, a, toRingoA, '2', &seq, 16000)
	for _, d := range "12" {
		info := wait(t, callee.infos, "INFO at the callee")
		ct := info.GetHeader("Content-Type")
		if want := fmt.Sprintf("Signal=%c\r\nDuration=100\r\n", d); ct == nil || ct.Value() != "application/dtmf-relay" || string(info.Body()) != want {
			t.Fatalf("callee got %s, want dtmf-relay %q", info, want)
		}
	}
	checkDigits(t, callView(t, e, 2), "12", "rfc4733", "caller")
}

// Tones from a G.711 leg without telephone-event are found in its audio
// and sent to a leg with telephone-event as events; a leg with
// telephone-event gets no detector.
func TestInbandDTMF(t *testing.T) {
	e := startEnv(t, nil)
	_, _, a, b, s, toRingoA, toRingoB := dtmfCall(t, e, withoutTE, withTE)
	fromA := &toneSender{p: a, to: toRingoA}
	fromA.digits(t, "5")
	waitEvent(t, b, '5')
	fromA.digits(t, "#")
	waitEvent(t, b, '#')
	// A digit shows once recognised; its duration once it has stopped.
	waitFor(t, func() bool {
		got := callView(t, e, 2)
		return got[0].DurationMS > 0 && got[1].DurationMS > 0
	}, "the digits' durations")
	got := callView(t, e, 2)
	checkDigits(t, got, "5#", "inband", "caller")
	for _, d := range got {
		// Tones of 100 ms, measured to a few ms.
		if d.DurationMS < 90 || d.DurationMS > 115 || time.Since(d.At) > time.Minute {
			t.Fatalf("digit %+v", d)
		}
	}
	// The callee's tones are not looked for: the digit that shows is the
	// event sent after them, on the same goroutine.
	fromB := &toneSender{p: b, to: toRingoB}
	fromB.digits(t, "9")
	var seq uint16
	sendDigit(t, b, toRingoB, '3', &seq, 8000)
	got = callView(t, e, 3)
	if d := got[2]; d.Digit != "3" || d.Source != "rfc4733" || d.Leg != "callee" {
		t.Fatalf("callee's digit %+v", d)
	}
	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, e.records, "record"); r.DTMF != "5#3" {
		t.Fatalf("record DTMF %q", r.DTMF)
	}
}

func TestInbandDTMFToService(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	a := newRTPPeer(t)
	s, err := caller.call(ctxT(t), "echo", pcmuOnly(a.port))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	toRingo := e.checkAnchored(t, "echo's answer", s.InviteResponse.Body())
	(&toneSender{p: a, to: toRingo}).digits(t, "1*0")
	checkDigits(t, callView(t, e, 3), "1*0", "inband", "echo")
	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, e.records, "record"); r.DTMF != "1*0" {
		t.Fatalf("record DTMF %q", r.DTMF)
	}
	e.portsFree(t)
}
