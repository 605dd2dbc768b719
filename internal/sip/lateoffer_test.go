package sip

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/media"
)

// ackWith sends the ACK of an answered INVITE carrying body (none when nil).
func ackWith(t *testing.T, e *env, s *sipgo.DialogClientSession, body []byte) {
	t.Helper()
	ack := sip.NewRequest(sip.ACK, s.InviteResponse.Contact().Address)
	ack.AppendHeader(sip.HeaderClone(s.InviteRequest.From()))
	ack.AppendHeader(sip.HeaderClone(s.InviteResponse.To()))
	ack.AppendHeader(sip.HeaderClone(s.InviteRequest.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: s.InviteRequest.CSeq().SeqNo, MethodName: sip.ACK})
	if body != nil {
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ack.SetBody(body)
	}
	ack.SetDestination(e.addr)
	if err := s.WriteAck(ctxT(t), ack); err != nil {
		t.Fatal(err)
	}
}

// An INVITE without an offer is anchored: Ringo offers the callee its own
// codecs on its own address, offers the caller in the 200 (the callee's
// codec first) and relays media once the caller's ACK has answered.
func TestLateOfferAnchored(t *testing.T) {
	tests := []struct {
		name  string
		early bool // the callee answers in a 183, and its 200 has no SDP
		pcma  bool // the caller answers with PCMA, which the callee lacks
		rec   bool // the callee has its calls recorded
	}{
		{"answer in the 200", false, false, false},
		{"answer in a 183", true, false, false},
		{"the caller answers with another codec", false, true, false},
		{"the callee records its calls", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			e := startEnv(t, func(c *config.Config) { c.Data = data })
			if _, err := e.dir.PutAccount(context.Background(), testDomain, directory.AccountSpec{Name: "1002", RecordCalls: &tt.rec}); err != nil {
				t.Fatal(err)
			}
			caller := newPhone(t, e, "1001", "secret1001")
			callee := newPhone(t, e, "1002", "secret1002")
			callee.register(300)
			a, b := newRTPPeer(t), newRTPPeer(t)
			progress, seen := make(chan *sip.Response, 1), make(chan *sip.Response, 1)
			callee.setAnswer(func(s *sipgo.DialogServerSession) error {
				ct := sip.NewHeader("Content-Type", "application/sdp")
				if tt.early {
					if err := s.Respond(183, "Session Progress", b.sdp(), ct); err != nil {
						return err
					}
					// The 200 follows once the caller has the 183, which
					// it could otherwise overtake.
					wait(t, progress, "183 at caller")
					return s.Respond(200, "OK", nil)
				}
				return s.Respond(200, "OK", b.sdp(), ct)
			})
			// No body, no Content-Type: an INVITE without an offer.
			s, err := caller.dcc.WriteInvite(ctxT(t), sip.NewRequest(sip.INVITE, caller.serverURI("1002")))
			if err != nil {
				t.Fatal(err)
			}
			err = s.WaitAnswer(ctxT(t), sipgo.AnswerOptions{Username: "1001", Password: "secret1001", OnResponse: func(r *sip.Response) error {
				if r.StatusCode == 183 {
					progress <- r
					seen <- r
				}
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if tt.early {
				// Ringo makes its offer to the caller in the 200, sent
				// reliably, not in an unreliable provisional response.
				if r := wait(t, seen, "183 at caller"); len(r.Body()) != 0 {
					t.Errorf("the caller's 183 carries SDP, but it made no offer:\n%s", r.Body())
				}
			}
			inv := wait(t, callee.incoming, "INVITE at callee")
			toRingoB := e.checkAnchored(t, "callee's INVITE", inv.Body())
			offerB, err := media.ParseSDP(inv.Body())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(offerB.Codecs()), len(media.DefaultCodecs()); got != want {
				t.Errorf("callee offered %d codecs, want Ringo's %d:\n%s", got, want, inv.Body())
			}
			toRingoA := e.checkAnchored(t, "caller's 200", s.InviteResponse.Body())
			if toRingoA == toRingoB {
				t.Fatalf("both legs got the same port %s", toRingoA)
			}
			offerA, err := media.ParseSDP(s.InviteResponse.Body())
			if err != nil {
				t.Fatal(err)
			}
			if cs := offerA.Codecs(); len(cs) < 2 || cs[0].Name != media.NamePCMU {
				t.Fatalf("caller's offer %v: want the callee's PCMU first, then Ringo's others", cs)
			}

			answerA := a.sdp()
			if tt.pcma {
				answerA = []byte(strings.Replace(strings.Replace(string(answerA), "RTP/AVP 0 101", "RTP/AVP 8 101", 1), "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", 1))
			}
			ackWith(t, e, s, answerA)
			if ack := wait(t, callee.acks, "ACK at callee"); len(ack.Body()) != 0 {
				t.Fatalf("the callee's ACK carries SDP, but the callee answered Ringo's offer:\n%s", ack.Body())
			}
			if calls := e.srv.Calls(); len(calls) != 1 || calls[0].Media != mediaAnchored || len(calls[0].Legs) != 2 {
				t.Fatalf("calls: %+v", calls)
			}
			if tt.pcma {
				// The relay transcodes: each phone gets its own codec.
				flows(t, a, toRingoA, 8, b, 0)
				flows(t, b, toRingoB, 0, a, 8)
			} else {
				stream(t, a, toRingoA, b, 5)
				stream(t, b, toRingoB, a, 5)
			}

			if err := s.Bye(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			wait(t, callee.byes, "BYE at callee")
			r := wait(t, e.records, "the call's record")
			if r.Outcome != cdr.Answered || r.Hangup.By != cdr.ByCaller {
				t.Fatalf("record: %+v", r)
			}
			if tt.rec != (len(r.Recordings) == 1) {
				t.Fatalf("recordings %+v; the callee records its calls: %v", r.Recordings, tt.rec)
			}
			e.portsFree(t)
		})
	}
}

// However a call anchored from an INVITE without an offer ends, both legs
// are ended and its ports come back; an ACK without a usable answer ends
// it as failed.
func TestLateOfferEnds(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "1002", "secret1002")
	callee.register(300)
	gsm := func(sdp string) string {
		return strings.Replace(strings.Replace(sdp, "RTP/AVP 0 101", "RTP/AVP 3", 1), "a=rtpmap:0 PCMU/8000", "a=rtpmap:3 GSM/8000", 1)
	}
	answer := func(s *sipgo.DialogServerSession) error {
		return s.Respond(200, "OK", answerSDP(callee.port), sip.NewHeader("Content-Type", "application/sdp"))
	}
	tests := []struct {
		name    string
		answer  func(s *sipgo.DialogServerSession) error
		ack     []byte // the caller's ACK body once answered
		status  int    // the caller's final status
		outcome cdr.Outcome
		cause   string
	}{
		{"no answer in the ACK", answer, nil, 200, cdr.Failed, "INCOMPATIBLE_DESTINATION"},
		{"an answer with a codec never offered", answer, []byte(gsm(offerSDP)), 200, cdr.Failed, "INCOMPATIBLE_DESTINATION"},
		{"a malformed answer", answer, []byte("v=0\r\nthis is not SDP\r\n"), 200, cdr.Failed, "INCOMPATIBLE_DESTINATION"},
		{"the callee answers with a codec never offered", func(s *sipgo.DialogServerSession) error {
			return s.Respond(200, "OK", []byte(gsm(string(answerSDP(callee.port)))), sip.NewHeader("Content-Type", "application/sdp"))
		}, nil, 488, cdr.Failed, "INCOMPATIBLE_DESTINATION"},
		{"busy", func(s *sipgo.DialogServerSession) error { return s.Respond(486, "Busy Here", nil) }, nil, 486, cdr.Busy, "USER_BUSY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			callee.setAnswer(tt.answer)
			s, err := caller.call(ctxT(t), "1002", nil)
			if got := statusOf(err); err == nil && tt.status != 200 || err != nil && got != tt.status {
				t.Fatalf("got %v, want %d", err, tt.status)
			}
			wait(t, callee.incoming, "INVITE at callee")
			if tt.status == 200 {
				ackWith(t, e, s, tt.ack)
				wait(t, callee.acks, "ACK at callee")
				wait(t, caller.byes, "BYE at caller")
			}
			if tt.status != 486 {
				wait(t, callee.byes, "BYE at callee")
			}
			r := wait(t, e.records, "the call's record")
			if r.Outcome != tt.outcome || r.Hangup.Cause != tt.cause {
				t.Fatalf("record: outcome %s, hangup %+v", r.Outcome, r.Hangup)
			}
			waitFor(t, func() bool { return e.srv.ActiveCalls() == 0 }, "call to end")
			e.portsFree(t)
		})
	}
}

// flows sends packets of payload type pt from one peer to Ringo every
// 20 ms until the other peer receives one of payload type want.
func flows(t *testing.T, from *rtpPeer, to netip.AddrPort, pt uint8, at *rtpPeer, want uint8) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		from.send(t, to, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(i),
			Timestamp: uint32(160 * i), SSRC: 0x5eed}, Payload: bytes.Repeat([]byte{0xd5}, 160)})
		if got, ok := at.tryRecv(20 * time.Millisecond); ok && got.PayloadType == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no RTP of payload type %d reached :%d from PT %d sent to %v", want, at.port, pt, to)
		}
	}
}
