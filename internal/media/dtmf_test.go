package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDTMFReceiver(t *testing.T) {
	type step struct {
		at     int // ms
		ts     uint32
		ev     uint8
		end    bool
		dur    uint16
		expire bool // run the timeout check at `at` instead of a packet
		short  bool // a truncated payload
	}
	type want struct {
		digit   byte
		startMS int // arrival of the first packet minus the duration it states
		durMS   int
		ended   bool
	}
	pk := func(at int, ts uint32, ev uint8, dur uint16, end bool) step {
		return step{at: at, ts: ts, ev: ev, dur: dur, end: end}
	}
	tests := []struct {
		name  string
		steps []step
		want  []want
		dups  int
	}{
		{"begin, updates, end three times",
			[]step{pk(0, 1000, 1, 160, false), pk(20, 1000, 1, 320, false), pk(40, 1000, 1, 480, false),
				pk(60, 1000, 1, 640, true), pk(61, 1000, 1, 640, true), pk(62, 1000, 1, 640, true)},
			[]want{{'1', -20, 80, true}}, 2},
		{"all end packets lost: timeout",
			[]step{pk(0, 1000, 2, 160, false), pk(20, 1000, 2, 320, false), {at: 200, expire: true}, {at: 300, expire: true}},
			[]want{{'2', -20, 40, false}}, 0},
		{"end lost, next digit ends the first",
			[]step{pk(0, 1000, 3, 160, false), pk(20, 1000, 3, 320, false), pk(200, 2600, 4, 160, false), pk(220, 2600, 4, 320, true)},
			[]want{{'3', -20, 40, false}, {'4', 180, 40, true}}, 0},
		{"begin lost: start from the duration",
			[]step{pk(100, 1000, 11, 480, false), pk(120, 1000, 11, 640, true)},
			[]want{{'#', 40, 80, true}}, 0},
		{"only end packets arrive",
			[]step{pk(100, 1000, 10, 800, true), pk(101, 1000, 10, 800, true), pk(102, 1000, 10, 800, true)},
			[]want{{'*', 0, 100, true}}, 2},
		{"late retransmission of the previous end",
			[]step{pk(0, 1000, 5, 160, true), pk(60, 2000, 6, 160, false), pk(61, 1000, 5, 160, true), pk(80, 2000, 6, 320, true)},
			[]want{{'5', -20, 20, true}, {'6', 40, 40, true}}, 1},
		{"same digit twice",
			[]step{pk(0, 1000, 7, 160, true), pk(1, 1000, 7, 160, true), pk(100, 2000, 7, 160, true)},
			[]want{{'7', -20, 20, true}, {'7', 80, 20, true}}, 1},
		{"truncated payload ignored",
			[]step{{at: 0, ts: 1000, short: true}, {at: 1000, expire: true}},
			nil, 0},
		{"timeout does not end a digit still being updated",
			[]step{pk(0, 1000, 0, 160, false), pk(200, 1000, 0, 1760, false), {at: 400, expire: true}, pk(420, 1000, 0, 3360, true)},
			[]want{{'0', -20, 420, true}}, 0},
	}
	t0 := time.Unix(1700000000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dtmfReceiver{timeout: DefaultDTMFTimeout}
			var got []DTMFEvent
			emit := func(ev DTMFEvent) { got = append(got, ev) }
			dups := 0
			for _, s := range tt.steps {
				now := t0.Add(time.Duration(s.at) * time.Millisecond)
				switch {
				case s.expire:
					r.expire(now, emit)
				case s.short:
					r.packet(s.ts, []byte{1, 2}, 8000, now, emit)
				default:
					if r.packet(s.ts, dtmfBytes(s.ev, s.end, s.dur), 8000, now, emit) {
						dups++
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %d events", got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Digit != w.digit || g.Ended != w.ended || g.Dur != time.Duration(w.durMS)*time.Millisecond ||
					!g.Start.Equal(t0.Add(time.Duration(w.startMS)*time.Millisecond)) {
					t.Errorf("event %d = %c dur %v ended %v start %v, want %+v", i, g.Digit, g.Dur, g.Ended, g.Start.Sub(t0), w)
				}
			}
			if dups != tt.dups {
				t.Errorf("dups = %d, want %d", dups, tt.dups)
			}
		})
	}
}

func TestDTMFSenderPacketTrain(t *testing.T) {
	var s dtmfSender
	if err := s.enqueue("9#", 100*time.Millisecond, 8000); err != nil {
		t.Fatal(err)
	}
	if err := s.enqueue("x", time.Second, 8000); err == nil {
		t.Fatal("accepted 'x'")
	}
	var lines []string
	b := make([]byte, 4)
	for range 20 {
		send, begin := s.step(b, 160, 3)
		if !send {
			lines = append(lines, "-")
			continue
		}
		p, _ := parseDTMF(b)
		lines = append(lines, fmt.Sprintf("%c%s%s%d", EventDigit(p.event), map[bool]string{true: "M"}[begin], map[bool]string{true: "E"}[p.end], p.duration))
	}
	want := "9M160 9320 9480 9640 9E800 9E800 9E800 - - - #M160 #320 #480 #640 #E800 #E800 #E800 - - -"
	if got := strings.Join(lines, " "); got != want {
		t.Fatalf("train\n got %s\nwant %s", got, want)
	}
	if s.busy() {
		t.Fatal("still busy")
	}
}

// Two Ringo sessions pointed at each other: one sends RFC 4733 digits on
// the media clock, the other receives them.
func TestSendAndReceiveDTMF(t *testing.T) {
	goroutineLeakCheck(t)
	e := newEngine(t)
	a, b := newSession(t, e, "a"), newSession(t, e, "b")
	te := Format{PT: 101, Codec: Codec{Name: NameTelephoneEvent, ClockRate: 8000}}
	a.SetRemote(muxParams(b.LocalAddr(), te, fmtPCMU))
	b.SetRemote(muxParams(a.LocalAddr(), te, fmtPCMU))
	if err := a.SendDTMF("12#", 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for range 3 {
		ev := waitDTMF(t, b)
		if !ev.Ended || ev.Dur != 60*time.Millisecond {
			t.Errorf("event %+v", ev)
		}
		got = append(got, ev.Digit)
	}
	if string(got) != "12#" {
		t.Fatalf("got %q", got)
	}
	// Per digit: begin (160), update (320), end (480) three times.
	waitFor(t, "end retransmissions", func() bool { return b.Counters().PacketsIn == 3*5 })
	waitFor(t, "sender counters", func() bool { return a.Counters().PacketsOut == 15 })
	if c := a.Counters(); c.DTMFOut != 3 {
		t.Fatalf("sender counters %+v", c)
	}
	if c := b.Counters(); c.DTMFIn != 3 || c.Lost != 0 || c.Duplicates != 0 {
		t.Fatalf("receiver counters %+v", c)
	}
	b.SetRemote(muxParams(a.LocalAddr(), Format{}, fmtPCMU))
	if err := b.SendDTMF("1", 0); !errors.Is(err, ErrNoDTMF) {
		t.Fatalf("without telephone-event: %v", err)
	}
}

// sippPCAPDirs are where SIPp's RFC 2833 digit captures live: Debian's
// sip-tester package installs them; shared/interop/README.md names them.
var sippPCAPDirs = []string{"/usr/share/sip-tester", "../../../shared/interop/pcap"}

// SIPp's own digit captures, replayed over UDP in the order its
// uac_call_pcap scenario would, reach the session as digits. The captures
// repeat each end packet with the same sequence number and put '0' far
// ahead in sequence and behind in timestamp, so they also exercise
// de-duplication and source restarts.
func TestDTMFFromSIPpPCAP(t *testing.T) {
	var dir string
	for _, d := range sippPCAPDirs {
		if _, err := os.Stat(filepath.Join(d, "dtmf_2833_1.pcap")); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Skip("SIPp's dtmf_2833_*.pcap not found (Debian package sip-tester; see shared/interop/README.md)")
	}
	e := newEngine(t)
	s := newSession(t, e, "sipp")
	phone := newPeer(t)
	s.SetRemote(muxParams(phone.addr, fmtTE101, fmtPCMA))
	names := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "star", "pound", "0"}
	var want, got []byte
	for _, n := range names {
		pkts, err := readPCAPUDP(filepath.Join(dir, "dtmf_2833_"+n+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			phone.send(s.LocalAddr(), p)
		}
		d := n[0]
		switch n {
		case "star":
			d = '*'
		case "pound":
			d = '#'
		}
		want = append(want, d)
		ev := waitDTMF(t, s)
		if !ev.Ended || ev.Dur != 280*time.Millisecond {
			t.Errorf("%s: %+v", n, ev)
		}
		got = append(got, ev.Digit)
	}
	if string(got) != string(want) {
		t.Fatalf("digits %q, want %q", got, want)
	}
}

// readPCAPUDP returns the UDP payloads of a classic little-endian pcap
// file with Ethernet or raw IPv4 framing.
func readPCAPUDP(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		return nil, fmt.Errorf("%s: not a little-endian pcap", path)
	}
	link := binary.LittleEndian.Uint32(b[20:])
	var out [][]byte
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		off += 16
		if off+n > len(b) {
			return nil, fmt.Errorf("%s: truncated record", path)
		}
		frame := b[off : off+n]
		off += n
		switch link {
		case 1: // Ethernet
			if len(frame) < 14 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
				continue
			}
			frame = frame[14:]
		case 101, 228: // raw IPv4
		default:
			return nil, fmt.Errorf("%s: link type %d", path, link)
		}
		if len(frame) < 20 || frame[0]>>4 != 4 || frame[9] != 17 {
			continue
		}
		ihl := int(frame[0]&0x0f) * 4
		if len(frame) < ihl+8 {
			continue
		}
		out = append(out, frame[ihl+8:])
	}
	return out, nil
}

func TestSendDTMFOnTheWire(t *testing.T) {
	e := newEngine(t)
	s := newSession(t, e, "a")
	phone := newPeer(t)
	s.SetRemote(muxParams(phone.addr, fmtTE101, fmtPCMU))
	if err := s.SendDTMF("7", 40*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var prev uint16
	var ts uint32
	for i := range 4 { // begin 160, end 320 ×3
		p := phone.recvRTP()
		d, _ := parseDTMF(p.Payload)
		if p.PayloadType != 101 || p.SSRC != s.SSRC() || d.event != 7 || p.Marker != (i == 0) || d.end != (i > 0) {
			t.Fatalf("packet %d: pt %d marker %v %+v", i, p.PayloadType, p.Marker, d)
		}
		if i == 0 {
			ts = p.Timestamp
		} else if p.SequenceNumber != prev+1 || p.Timestamp != ts {
			t.Fatalf("packet %d: seq %d ts %d after %d/%d", i, p.SequenceNumber, p.Timestamp, prev, ts)
		}
		prev = p.SequenceNumber
	}
}

// With a handler, digits go to it on the session's goroutine and not to
// the channel; removing it restores the channel.
func TestDTMFHandler(t *testing.T) {
	goroutineLeakCheck(t)
	e := newEngine(t)
	a, b := newSession(t, e, "a"), newSession(t, e, "b")
	te := Format{PT: 101, Codec: Codec{Name: NameTelephoneEvent, ClockRate: 8000}}
	a.SetRemote(muxParams(b.LocalAddr(), te, fmtPCMU))
	b.SetRemote(muxParams(a.LocalAddr(), te, fmtPCMU))
	got := make(chan byte, 8)
	b.OnDTMF(func(ev DTMFEvent) { got <- ev.Digit })
	if err := a.SendDTMF("47", 40*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var digits []byte
	for range 2 {
		select {
		case d := <-got:
			digits = append(digits, d)
		case <-time.After(5 * time.Second):
			t.Fatalf("handler got %q, want 47", digits)
		}
	}
	if string(digits) != "47" || len(b.DTMF()) != 0 {
		t.Fatalf("handler got %q, channel holds %d", digits, len(b.DTMF()))
	}
	b.OnDTMF(nil)
	if err := a.SendDTMF("9", 40*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if ev := waitDTMF(t, b); ev.Digit != '9' {
		t.Fatalf("channel got %q", ev.Digit)
	}
}
