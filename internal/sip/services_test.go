package sip

import (
	"bytes"
	"context"
	"math"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// generateStockPrompt builds prompts/playback.wav: four 300 ms beeps of
// 440 Hz at -12 dBFS, each followed by 200 ms of silence, as 8 kHz µ-law.
func generateStockPrompt(t *testing.T) []byte {
	t.Helper()
	const rate = 8000
	amp := 32768 * math.Pow(10, -12.0/20)
	var pcm []int16
	for range 4 {
		on := 300 * rate / 1000
		for i := range on {
			v := amp * math.Sin(2*math.Pi*440*float64(i)/rate)
			// 5 ms ramps so that the beeps do not click.
			if r := min(i, on-1-i); r < 40 {
				v *= float64(r) / 40
			}
			pcm = append(pcm, int16(v))
		}
		pcm = append(pcm, make([]int16, 200*rate/1000)...)
	}
	b, err := wav.Encode(wav.Spec{SampleRate: rate, Channels: 1, Format: wav.FormatMuLaw}, pcm)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStockPrompt checks the embedded prompt is what the generator makes;
// RINGO_UPDATE_PROMPTS=1 rewrites it.
func TestStockPrompt(t *testing.T) {
	want := generateStockPrompt(t)
	if os.Getenv("RINGO_UPDATE_PROMPTS") == "1" {
		if err := os.WriteFile("prompts/playback.wav", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(stockPrompt, want) {
		t.Fatal("prompts/playback.wav differs from its generator; run with RINGO_UPDATE_PROMPTS=1")
	}
	a, err := wav.Decode(stockPrompt, wav.Limits{})
	if err != nil || a.Duration() != 2*time.Second {
		t.Fatalf("stock prompt: %v %v", a, err)
	}
}

// sendDigit sends one RFC 4733 digit (begin, update, three ends) from p.
func sendDigit(t *testing.T, p *rtpPeer, to netip.AddrPort, digit byte, seq *uint16, ts uint32) {
	t.Helper()
	ev, ok := media.DigitEvent(digit)
	if !ok {
		t.Fatalf("digit %c", digit)
	}
	for i, end := range []bool{false, false, true, true, true} {
		dur := uint16(160 * (i + 1))
		if end {
			dur = 800
		}
		flags := byte(10)
		if end {
			flags |= 0x80
		}
		*seq++
		p.send(t, to, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: *seq,
			Timestamp: ts, SSRC: 0x5151, Marker: i == 0}, Payload: []byte{ev, flags, byte(dur >> 8), byte(dur)}})
	}
}

// hear decodes n PCMU packets p receives.
func hear(t *testing.T, p *rtpPeer, n int) []int16 {
	t.Helper()
	var pcm []int16
	buf := make([]int16, 2000)
	for range n {
		pkt := p.recv(t)
		if pkt.PayloadType != 0 {
			t.Fatalf("payload type %d, want PCMU", pkt.PayloadType)
		}
		k, err := codec.PCMUCodec{}.Decode(buf, pkt.Payload)
		if err != nil {
			t.Fatal(err)
		}
		pcm = append(pcm, buf[:k]...)
	}
	return pcm
}

func shareAt(x []int16, freq float64) float64 {
	ms := dsp.MeanSquare(x)
	if ms == 0 {
		return 0
	}
	return dsp.NewGoertzel(freq, 8000).Power(x) / ms
}

func peak(x []int16) int {
	m := 0
	for _, v := range x {
		m = max(m, int(v), -int(v))
	}
	return m
}

func TestToneService(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	a := newRTPPeer(t)
	s, err := caller.call(ctxT(t), "tone", a.sdp())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	toRingo := e.checkAnchored(t, "tone's answer", s.InviteResponse.Body())
	pcm := hear(t, a, 25)[400:] // past the 2 ms ramp, and then some
	if sh := shareAt(pcm, 1000); sh < 0.95 {
		t.Fatalf("%.2f of the power at 1 kHz", sh)
	}
	// −12 dBFS is a peak of 8,231; µ-law keeps it within a few percent.
	if pk := peak(pcm); pk < 7800 || pk > 8700 {
		t.Fatalf("peak %d, want about 8231", pk)
	}
	calls := e.srv.Calls()
	if len(calls) != 1 || calls[0].Media != "tone" || calls[0].To != "tone@"+testDomain {
		t.Fatalf("calls: %+v", calls)
	}
	// Digits sent to a service call show in its view, in order.
	var seq uint16
	for i, d := range []byte("4#2") {
		sendDigit(t, a, toRingo, d, &seq, uint32(8000*(i+1)))
	}
	var view CallDetail
	waitFor(t, func() bool {
		view, _ = e.srv.Call(calls[0].ID)
		return len(view.DTMF) == 3
	}, "three digits in the call view")
	for i, want := range []string{"4", "#", "2"} {
		if d := view.DTMF[i]; d.Digit != want || d.Source != "rfc4733" || d.Leg != "tone" {
			t.Fatalf("digit %d: %+v", i, d)
		}
	}
	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	r := wait(t, e.records, "record of the tone call")
	if r.Outcome != cdr.Answered || r.Route.Kind != "service" || r.Route.Target != "tone" || r.DTMF != "4#2" || r.Hangup.By != cdr.ByCaller {
		t.Fatalf("tone record: %+v", r)
	}
	e.portsFree(t)
}

func TestPlaybackServiceHangsUp(t *testing.T) {
	e := startEnv(t, nil)
	caller := newPhone(t, e, "1001", "secret1001")
	a := newRTPPeer(t)
	s, err := caller.call(ctxT(t), "playback", a.sdp())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Ack(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// The first beep: 300 ms of 440 Hz.
	pcm := hear(t, a, 25)
	if sh := shareAt(pcm[80:2000], 440); sh < 0.9 {
		t.Fatalf("%.2f of the first beep's power at 440 Hz", sh)
	}
	if lv := dsp.LevelDBFS(pcm[2450:3950]); lv > -60 {
		t.Fatalf("the gap after the first beep is at %.1f dBFS", lv)
	}
	wait(t, caller.byes, "BYE from Ringo after the prompt")
	if d := time.Since(start); d < 1900*time.Millisecond {
		t.Fatalf("hung up after %v, before the 2 s prompt ended", d)
	}
	r := wait(t, e.records, "record of the playback call")
	if r.Outcome != cdr.Answered || r.Route.Kind != "service" || r.Route.Target != "playback" || r.Hangup.By != cdr.BySystem {
		t.Fatalf("playback record: %+v", r)
	}
	e.portsFree(t)
}

func TestProvisionedNameBeatsService(t *testing.T) {
	e := startEnv(t, nil)
	doc := testDoc()
	doc.Domains[0].Accounts = append(doc.Domains[0].Accounts, directory.AccountSpec{Name: "tone", Password: "secrettone"})
	if _, err := e.dir.Apply(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	caller := newPhone(t, e, "1001", "secret1001")
	callee := newPhone(t, e, "tone", "secrettone")
	callee.register(300)
	a := newRTPPeer(t)
	s, err := caller.call(ctxT(t), "tone", a.sdp())
	if err != nil {
		t.Fatal(err)
	}
	s.Ack(ctxT(t))
	if inv := wait(t, callee.incoming, "INVITE at the account named tone"); inv.Recipient.User != "tone" {
		t.Fatalf("INVITE to %s", inv.Recipient.String())
	}
	if calls := e.srv.Calls(); len(calls) != 1 || calls[0].Media != "anchored" {
		t.Fatalf("calls: %+v", calls)
	}
	s.Bye(ctxT(t))
	if r := wait(t, e.records, "record"); r.Route.Kind != "account" || r.Route.Target != "tone@"+testDomain {
		t.Fatalf("route %+v", r.Route)
	}
}

func TestAnchoredCallCollectsDTMF(t *testing.T) {
	e := startEnv(t, nil)
	_, _, a, b, s, toRingoA, toRingoB := anchoredCall(t, e)
	var seqA, seqB uint16
	sendDigit(t, a, toRingoA, '1', &seqA, 8000)
	sendDigit(t, a, toRingoA, '*', &seqA, 16000)
	id := e.srv.Calls()[0].ID
	waitFor(t, func() bool { v, _ := e.srv.Call(id); return len(v.DTMF) == 2 }, "the caller's digits")
	sendDigit(t, b, toRingoB, '9', &seqB, 8000)
	waitFor(t, func() bool { v, _ := e.srv.Call(id); return len(v.DTMF) == 3 }, "the callee's digit")
	v, _ := e.srv.Call(id)
	if v.DTMF[0].Digit != "1" || v.DTMF[1].Digit != "*" || v.DTMF[2].Digit != "9" ||
		v.DTMF[0].Leg != "caller" || v.DTMF[2].Leg != "callee" || v.DTMF[0].DurationMS != 100 {
		t.Fatalf("digits %+v", v.DTMF)
	}
	if err := s.Bye(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, e.records, "record"); r.DTMF != "1*9" {
		t.Fatalf("record DTMF %q", r.DTMF)
	}
}
