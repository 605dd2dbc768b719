package media

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// A two-leg call anchored on loopback: phone A ↔ session a ↔ relay ↔
// session b ↔ phone B, with different payload types on each leg.
func TestRelayRewritesAndMaps(t *testing.T) {
	goroutineLeakCheck(t)
	e := newEngine(t)
	a, b := newSession(t, e, "a"), newSession(t, e, "b")
	phoneA, phoneB := newPeer(t), newPeer(t)
	te96 := Format{PT: 96, Codec: fmtTE101.Codec}
	opus111 := Format{PT: 111, Codec: fmtOpus.Codec}
	if err := a.SetRemote(muxParams(phoneA.addr, fmtTE101, fmtPCMU, fmtOpus)); err != nil {
		t.Fatal(err)
	}
	if err := b.SetRemote(muxParams(phoneB.addr, te96, opus111, fmtPCMU)); err != nil {
		t.Fatal(err)
	}
	br, err := Relay(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Stop()

	const ssrcA = 0xA0A0A0A0
	payload := bytes.Repeat([]byte{0xff}, 160)
	var first, last uint16
	var lastTS uint32
	for i := range 5 {
		phoneA.send(a.LocalAddr(), rtpBytes(0, i == 0, uint16(1000+i), uint32(5000+160*i), ssrcA, payload))
		got := phoneB.recvRTP()
		if got.SSRC != b.SSRC() || got.PayloadType != 0 || !bytes.Equal(got.Payload, payload) {
			t.Fatalf("packet %d: ssrc %x pt %d, want ssrc %x pt 0", i, got.SSRC, got.PayloadType, b.SSRC())
		}
		if i == 0 {
			first = got.SequenceNumber
			if !got.Marker {
				t.Error("first relayed packet lacks the marker bit")
			}
		} else {
			if got.SequenceNumber != last+1 || got.Timestamp != lastTS+160 {
				t.Fatalf("packet %d: seq %d ts %d after %d/%d", i, got.SequenceNumber, got.Timestamp, last, lastTS)
			}
		}
		last, lastTS = got.SequenceNumber, got.Timestamp
	}
	_ = first

	// Opus 96 on leg a leaves as 111 on leg b.
	phoneA.send(a.LocalAddr(), rtpBytes(96, false, 1005, 5000+160*5, ssrcA, []byte{1, 2, 3}))
	if got := phoneB.recvRTP(); got.PayloadType != 111 || got.SequenceNumber != last+1 {
		t.Fatalf("opus: pt %d seq %d, want 111 seq %d", got.PayloadType, got.SequenceNumber, last+1)
	} else {
		last, lastTS = got.SequenceNumber, got.Timestamp
	}

	// telephone-event 101 leaves as 96 with the timestamp kept for the whole event.
	for i, end := range []bool{false, false, true, true, true} {
		phoneA.send(a.LocalAddr(), rtpBytes(101, i == 0, uint16(1006+i), 5000+160*6, ssrcA, dtmfBytes(5, end, uint16(160*(i+1)))))
		got := phoneB.recvRTP()
		if got.PayloadType != 96 || got.Timestamp != lastTS+160 || got.SequenceNumber != last+1 {
			t.Fatalf("event packet %d: pt %d ts %d seq %d", i, got.PayloadType, got.Timestamp, got.SequenceNumber)
		}
		last = got.SequenceNumber
	}
	lastTS += 160
	if ev := waitDTMF(t, a); ev.Digit != '5' || !ev.Ended {
		t.Fatalf("leg a saw %+v", ev)
	}

	// The caller's phone changes SSRC and sequence (a re-INVITE to another
	// device): leg b's stream runs on with the next sequence number and a
	// later timestamp, marked as a new talkspurt.
	before := time.Now()
	phoneA.send(a.LocalAddr(), rtpBytes(0, false, 7, 123456, 0xBEEF, payload))
	got := phoneB.recvRTP()
	if got.SSRC != b.SSRC() || got.SequenceNumber != last+1 || !got.Marker {
		t.Fatalf("after source change: ssrc %x seq %d marker %v, want %x %d true", got.SSRC, got.SequenceNumber, got.Marker, b.SSRC(), last+1)
	}
	if d := got.Timestamp - lastTS; d < 160 || d > 160+uint32(time.Since(before).Seconds()*8000)+8000 {
		t.Fatalf("timestamp advanced by %d across the source change", d)
	}
	last, lastTS = got.SequenceNumber, got.Timestamp
	phoneA.send(a.LocalAddr(), rtpBytes(0, false, 8, 123456+160, 0xBEEF, payload))
	if got := phoneB.recvRTP(); got.SequenceNumber != last+1 || got.Timestamp != lastTS+160 {
		t.Fatalf("new source not continuous: seq %d ts %d", got.SequenceNumber, got.Timestamp)
	}

	// The other direction, B → A.
	phoneB.send(b.LocalAddr(), rtpBytes(111, true, 1, 1, 0xB0B0, []byte{9}))
	if got := phoneA.recvRTP(); got.PayloadType != 96 || got.SSRC != a.SSRC() {
		t.Fatalf("b→a: pt %d ssrc %x", got.PayloadType, got.SSRC)
	}

	// A payload type leg b lacks is dropped, not forwarded.
	phoneA.send(a.LocalAddr(), rtpBytes(8, false, 9, 123456+320, 0xBEEF, payload))
	waitFor(t, "drop of PCMA", func() bool { return a.Counters().Dropped == 1 })

	info := b.Describe()
	if info.Counters.PacketsOut < 13 || info.Counters.SourceSwitch != 2 {
		t.Errorf("b counters: %+v", info.Counters)
	}
	chain := strings.Join(a.Describe().Chain, " | ")
	for _, w := range []string{"relay → b", "PCMU 0→0", "opus 96→111", "telephone-event 101→96", "latched"} {
		if !strings.Contains(chain, w) {
			t.Errorf("chain %q lacks %q", chain, w)
		}
	}
	if _, err := json.Marshal(info); err != nil {
		t.Fatal(err)
	}
}

func TestRelayNeedsCommonCodec(t *testing.T) {
	e := newEngine(t)
	a, b := newSession(t, e, "a"), newSession(t, e, "b")
	if _, err := Relay(a, b); !errors.Is(err, ErrNoRemote) {
		t.Fatalf("err = %v", err)
	}
	p := newPeer(t)
	// GSM: no codec in common and none Ringo can decode.
	a.SetRemote(muxParams(p.addr, Format{}, Format{PT: 3, Codec: Codec{Name: "GSM", ClockRate: 8000}}))
	b.SetRemote(muxParams(p.addr, Format{}, fmtPCMA))
	if _, err := Relay(a, b); !errors.Is(err, ErrCodecMismatch) {
		t.Fatalf("err = %v", err)
	}
}

// Relay and playback take turns on one outgoing stream: the far side sees
// one SSRC with continuous sequence numbers.
func TestRelayPlaybackSwitch(t *testing.T) {
	e := newEngine(t)
	a, b := newSession(t, e, "a"), newSession(t, e, "b")
	phoneA, phoneB := newPeer(t), newPeer(t)
	a.SetRemote(muxParams(phoneA.addr, Format{}, fmtL16))
	b.SetRemote(muxParams(phoneB.addr, Format{}, fmtL16))
	br, err := Relay(a, b)
	if err != nil {
		t.Fatal(err)
	}
	phoneA.send(a.LocalAddr(), rtpBytes(97, false, 50, 800, 1, make([]byte, 320)))
	r := phoneB.recvRTP()
	pb, err := b.Play(NewTone(440, 8000, 0.5, 60*time.Millisecond), l16{}, 8000)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got := phoneB.recvRTP()
		if got.SSRC != r.SSRC || got.SequenceNumber != r.SequenceNumber+1 || len(got.Payload) != 320 {
			t.Fatalf("tone %d: ssrc %x seq %d len %d ts %d after seq %d ts %d", i, got.SSRC, got.SequenceNumber, len(got.Payload), got.Timestamp, r.SequenceNumber, r.Timestamp)
		}
		if i == 0 && (!got.Marker || got.Timestamp-r.Timestamp < 160) {
			t.Fatalf("playback start: marker %v ts step %d", got.Marker, got.Timestamp-r.Timestamp)
		}
		if i > 0 && got.Timestamp != r.Timestamp+160 {
			t.Fatalf("tone %d ts %d after %d", i, got.Timestamp, r.Timestamp)
		}
		r = got
	}
	if err := pb.Err(); err != nil {
		t.Fatalf("playback err = %v", err)
	}
	if pb.Frames() != 3 {
		t.Fatalf("frames = %d", pb.Frames())
	}
	phoneA.send(a.LocalAddr(), rtpBytes(97, false, 51, 960, 1, make([]byte, 320)))
	if got := phoneB.recvRTP(); got.SequenceNumber != r.SequenceNumber+1 || !got.Marker {
		t.Fatalf("back to relay: seq %d marker %v", got.SequenceNumber, got.Marker)
	}
	br.Stop()
	if a.handler.Load() != nil || b.handler.Load() != nil {
		t.Fatal("Stop left a handler installed")
	}
}

func TestEcho(t *testing.T) {
	goroutineLeakCheck(t)
	e := newEngine(t)
	s := newSession(t, e, "echo")
	phone := newPeer(t)
	s.SetRemote(muxParams(phone.addr, fmtTE101, fmtPCMU))
	defer Echo(s).Stop()
	var prev uint16
	for i := range 3 {
		phone.send(s.LocalAddr(), rtpBytes(0, false, uint16(10+i), uint32(160*i), 0x1234, []byte{byte(i)}))
		got := phone.recvRTP()
		if got.SSRC != s.SSRC() || got.SSRC == 0x1234 || got.Payload[0] != byte(i) {
			t.Fatalf("echo %d: ssrc %x payload %v", i, got.SSRC, got.Payload)
		}
		if i > 0 && got.SequenceNumber != prev+1 {
			t.Fatalf("echo seq %d after %d", got.SequenceNumber, prev)
		}
		prev = got.SequenceNumber
	}
	if !strings.Contains(s.String(), "echo → echo") {
		t.Errorf("describe: %s", s)
	}
}

// Holding the far leg (its direction no longer allows sending) stops
// the relay towards it.
func TestRelayRespectsHold(t *testing.T) {
	e := newEngine(t)
	a, b := newSession(t, e, "a"), newSession(t, e, "b")
	phoneA, phoneB := newPeer(t), newPeer(t)
	a.SetRemote(muxParams(phoneA.addr, Format{}, fmtPCMU))
	pb := muxParams(phoneB.addr, Format{}, fmtPCMU)
	b.SetRemote(pb)
	if _, err := Relay(a, b); err != nil {
		t.Fatal(err)
	}
	pb.Direction = RecvOnly
	b.SetRemote(pb)
	phoneA.send(a.LocalAddr(), rtpBytes(0, false, 1, 1, 7, []byte{1}))
	waitFor(t, "drop on hold", func() bool { return a.Counters().Dropped == 1 })
	pb.Direction = SendRecv
	b.SetRemote(pb)
	phoneA.send(a.LocalAddr(), rtpBytes(0, false, 2, 161, 7, []byte{2}))
	if got := phoneB.recvRTP(); got.Payload[0] != 2 {
		t.Fatalf("after hold: %v", got.Payload)
	}
}
