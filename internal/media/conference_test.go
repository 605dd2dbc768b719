package media

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// Three phones on three codecs in one conference: each hears the other
// two and not itself; a muted member is heard by no one.
func TestConferenceEachHearsTheOthers(t *testing.T) {
	goroutineLeakCheck(t)
	e := newEngine(t)
	fmtG722 := Format{PT: 9, Codec: Codec{Name: NameG722, ClockRate: 8000}}
	members := []struct {
		f    Format
		tone float64
	}{
		{fmtPCMU, 500},
		{fmtG722, 800},
		{fmtPCMA, 1300},
	}
	ended := make(chan struct{})
	conf := e.NewConference("room", func() { close(ended) })
	type leg struct {
		s     *Session
		phone *peer
		m     *ConferenceMember
		enc   Encoder
		rate  int
		tone  *Tone
		seq   int // packets sent so far, across runs
		heard []int16
	}
	legs := make([]*leg, len(members))
	for i, mb := range members {
		s := newSession(t, e, fmt.Sprintf("m%d", i))
		phone := newPeer(t)
		if err := s.SetRemote(muxParams(phone.addr, Format{}, mb.f)); err != nil {
			t.Fatal(err)
		}
		m, err := conf.Join(s, s.Name())
		if err != nil {
			t.Fatal(err)
		}
		enc, rate, err := EncoderFor(mb.f.Codec)
		if err != nil {
			t.Fatal(err)
		}
		legs[i] = &leg{s: s, phone: phone, m: m, enc: enc, rate: rate, tone: NewTone(mb.tone, rate, 0.2, 0)}
	}
	if got := conf.Describe().Members; len(got) != 3 {
		t.Fatalf("members %v", got)
	}

	// run has every phone talk for d, in real time, and collects what
	// each one hears.
	run := func(d time.Duration) {
		var wg sync.WaitGroup
		stop := time.Now().Add(d)
		for i, l := range legs {
			l.heard = l.heard[:0]
			wg.Add(2)
			go func() { // the phone's microphone
				defer wg.Done()
				pcm := make([]int16, l.rate/50)
				buf := make([]byte, maxDatagram)
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for ; time.Now().Before(stop); l.seq++ {
					k := l.seq
					l.tone.ReadFrame(pcm)
					n, _ := l.enc.Encode(buf, pcm)
					pkt := rtpBytes(members[i].f.PT, k == 0, uint16(k), uint32(k*int(members[i].f.ClockRate)/50), uint32(0x1000+i), buf[:n])
					l.phone.c.WriteToUDPAddrPort(pkt, l.s.LocalAddr())
					<-tick.C
				}
			}()
			go func() { // the phone's speaker
				defer wg.Done()
				dec, _, _ := DecoderFor(members[i].f.Codec)
				pcm := make([]int16, maxFrame)
				b := make([]byte, 2048)
				for {
					l.phone.c.SetReadDeadline(stop.Add(100 * time.Millisecond))
					n, _, err := l.phone.c.ReadFromUDPAddrPort(b)
					if err != nil {
						return
					}
					if isRTCP(b[:n]) || n <= rtpHeaderLen {
						continue
					}
					k, err := dec.Decode(pcm, b[rtpHeaderLen:n])
					if err == nil {
						l.heard = append(l.heard, pcm[:k]...)
					}
				}
			}()
		}
		wg.Wait()
	}
	power := func(l *leg, f float64) float64 {
		tail := l.heard[len(l.heard)/3:]
		return dsp.NewGoertzel(f, l.rate).Power(tail)
	}

	run(1500 * time.Millisecond)
	for i, l := range legs {
		if len(l.heard) < l.rate/2 {
			t.Fatalf("member %d heard only %d samples", i, len(l.heard))
		}
		own := power(l, members[i].tone)
		for j := range legs {
			if j == i {
				continue
			}
			if p := power(l, members[j].tone); p < 50*own {
				t.Errorf("member %d: %v Hz (member %d) at %.3g, own %v Hz at %.3g: want the others clearly louder than itself",
					i, members[j].tone, j, p, members[i].tone, own)
			}
		}
	}

	// Muted, member 0 is heard by no one; it still hears the others.
	legs[0].m.SetMuted(true)
	run(1 * time.Second)
	for _, j := range []int{1, 2} {
		other := 3 - j
		if p0, po := power(legs[j], members[0].tone), power(legs[j], members[other].tone); p0*50 > po {
			t.Errorf("member %d still hears muted member 0: %.3g vs %.3g from member %d", j, p0, po, other)
		}
	}
	if p := power(legs[0], members[1].tone); p == 0 {
		t.Error("muted member 0 no longer hears member 1")
	}

	// Closing a session takes its member out; leaving the rest ends it.
	legs[2].s.Close()
	waitFor(t, "closed member leaves", func() bool { return conf.Len() == 2 })
	legs[0].m.Leave()
	legs[1].m.Leave()
	legs[1].m.Leave()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("conference did not end when its last member left")
	}
	if _, err := conf.Join(legs[0].s, "again"); err == nil {
		t.Fatal("joined an ended conference")
	}
}

// The cost of one member of a 10-member conference per 20 ms frame:
// queue in, mix, queue out.
func BenchmarkConferenceMemberTick(b *testing.B) {
	n := newMemNet()
	n.quiet = true
	e := newEngine(b, func(c *EngineConfig) { c.Listen = n.listen })
	conf := e.NewConference("bench", nil)
	const members = 10
	pcm := make([]int16, 160)
	NewTone(440, 8000, 0.3, 0).ReadFrame(pcm)
	var ms []*ConferenceMember
	for i := range members {
		s := newSession(b, e, fmt.Sprintf("m%d", i))
		s.SetRemote(muxParams(netip.MustParseAddrPort(fmt.Sprintf("10.0.0.%d:4000", i+1)), Format{}, fmtPCMU))
		m, err := conf.Join(s, s.Name())
		if err != nil {
			b.Fatal(err)
		}
		ms = append(ms, m)
	}
	conf.entry.Stop() // the benchmark ticks by hand
	out := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range ms {
			m.in.WriteAudio(pcm, 8000)
		}
		conf.Tick(time.Time{})
		for _, m := range ms {
			m.out.ReadFrame(out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/members, "ns/member")
}
