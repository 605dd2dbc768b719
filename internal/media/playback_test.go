package media

import (
	"errors"
	"math"
	"testing"
	"time"
)

type payloads struct{ n, left int }

func (p *payloads) ReadPayload(dst []byte) (int, bool) {
	if p.left == 0 {
		return 0, false
	}
	p.left--
	for i := range dst[:p.n] {
		dst[i] = 0xd5
	}
	return p.n, true
}

func TestPlayPayloadAndStop(t *testing.T) {
	e := newEngine(t)
	s := newSession(t, e, "a")
	phone := newPeer(t)
	if _, err := s.PlayPayload(&payloads{n: 160, left: 1}); !errors.Is(err, ErrNoRemote) {
		t.Fatalf("before SetRemote: %v", err)
	}
	s.SetRemote(muxParams(phone.addr, Format{}, fmtPCMA))
	pb, err := s.PlayPayload(&payloads{n: 160, left: -1})
	if err != nil {
		t.Fatal(err)
	}
	first := phone.recvRTP()
	if first.PayloadType != 8 || len(first.Payload) != 160 || !first.Marker {
		t.Fatalf("first packet pt %d len %d marker %v", first.PayloadType, len(first.Payload), first.Marker)
	}
	second := phone.recvRTP()
	if second.SequenceNumber != first.SequenceNumber+1 || second.Timestamp != first.Timestamp+160 || second.Marker {
		t.Fatalf("second packet seq %d ts %d", second.SequenceNumber, second.Timestamp)
	}
	// A new playback replaces the running one.
	pb2, err := s.PlayPayload(&payloads{n: 80, left: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := pb.Err(); !errors.Is(err, ErrStopped) {
		t.Fatalf("replaced playback err = %v", err)
	}
	<-pb2.Done()
	if err := pb2.Err(); err != nil || pb2.Frames() != 2 {
		t.Fatalf("second playback: %v, %d frames", err, pb2.Frames())
	}
	pb3, _ := s.PlayPayload(&payloads{n: 160, left: -1})
	pb3.Stop()
	if !errors.Is(pb3.Err(), ErrStopped) {
		t.Fatal(pb3.Err())
	}
	pb4, _ := s.PlayPayload(&payloads{n: 160, left: -1})
	s.Close()
	if !errors.Is(pb4.Err(), ErrClosed) {
		t.Fatalf("after Close: %v", pb4.Err())
	}
}

func TestTone(t *testing.T) {
	tone := NewTone(1000, 8000, 0.5, 25*time.Millisecond)
	buf := make([]int16, 160)
	n, ok := tone.ReadFrame(buf)
	if n != 160 || !ok {
		t.Fatalf("n %d ok %v", n, ok)
	}
	// 1 kHz at 8 kHz: eight samples a cycle, starting at sin(0).
	for i := range 16 {
		want := 0.5 * 32767 * math.Sin(2*math.Pi*float64(i)/8)
		if math.Abs(float64(buf[i])-want) > 2 {
			t.Fatalf("sample %d = %d, want %.0f", i, buf[i], want)
		}
	}
	if n, ok := tone.ReadFrame(buf); n != 40 || !ok {
		t.Fatalf("last frame n %d ok %v", n, ok)
	}
	if _, ok := tone.ReadFrame(buf); ok {
		t.Fatal("tone did not end")
	}
}
