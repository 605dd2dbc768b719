package media

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
)

// A relay between legs with no codec in common transcodes each packet:
// a 1 kHz tone sent in one codec arrives in the other leg's codec, still
// a 1 kHz tone, with timestamps that advance at that codec's clock.
func TestRelayTranscodes(t *testing.T) {
	fmtG722 := Format{PT: 9, Codec: Codec{Name: NameG722, ClockRate: 8000}}
	opus111 := Format{PT: 111, Codec: fmtOpus.Codec}
	cases := []struct {
		from, to Format
	}{
		{fmtPCMU, fmtG722},
		{fmtG722, fmtPCMA},
		{fmtPCMU, opus111},
		{fmtOpus, fmtPCMA},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s to %s", tc.from.Name, tc.to.Name), func(t *testing.T) {
			e := newEngine(t)
			a, b := newSession(t, e, "a"), newSession(t, e, "b")
			phoneA, phoneB := newPeer(t), newPeer(t)
			if err := a.SetRemote(muxParams(phoneA.addr, Format{}, tc.from)); err != nil {
				t.Fatal(err)
			}
			if err := b.SetRemote(muxParams(phoneB.addr, Format{}, tc.to)); err != nil {
				t.Fatal(err)
			}
			br, err := Relay(a, b)
			if err != nil {
				t.Fatal(err)
			}
			defer br.Stop()
			if d := strings.Join(a.Describe().Chain, " | "); !strings.Contains(d, "transcoded") {
				t.Errorf("chain %q does not show the transcoding", d)
			}

			enc, inRate, err := EncoderFor(tc.from.Codec)
			if err != nil {
				t.Fatal(err)
			}
			dec, outRate, err := DecoderFor(tc.to.Codec)
			if err != nil {
				t.Fatal(err)
			}
			tone := NewTone(1000, inRate, 0.3, 0)
			pcm := make([]int16, inRate/50)
			payload := make([]byte, maxDatagram)
			inStep := uint32(tc.from.ClockRate / 50)
			outStep := uint32(tc.to.ClockRate / 50)
			got := make([]int16, maxFrame)
			var heard []int16
			var lastSeq uint16
			var lastTS uint32
			const packets = 25
			for i := range packets {
				tone.ReadFrame(pcm)
				n, err := enc.Encode(payload, pcm)
				if err != nil {
					t.Fatal(err)
				}
				phoneA.send(a.LocalAddr(), rtpBytes(tc.from.PT, i == 0, uint16(100+i), uint32(7000+int(inStep)*i), 0xABCD, payload[:n]))
				pkt := phoneB.recvRTP()
				if pkt.PayloadType != tc.to.PT || pkt.SSRC != b.SSRC() {
					t.Fatalf("packet %d: pt %d ssrc %x, want pt %d ssrc %x", i, pkt.PayloadType, pkt.SSRC, tc.to.PT, b.SSRC())
				}
				if i > 0 && (pkt.SequenceNumber != lastSeq+1 || pkt.Timestamp-lastTS != outStep) {
					t.Fatalf("packet %d: seq %d ts %d after %d/%d, want steps 1/%d", i, pkt.SequenceNumber, pkt.Timestamp, lastSeq, lastTS, outStep)
				}
				lastSeq, lastTS = pkt.SequenceNumber, pkt.Timestamp
				m, err := dec.Decode(got, pkt.Payload)
				if err != nil {
					t.Fatalf("packet %d: decode: %v", i, err)
				}
				if m != outRate/50 {
					t.Fatalf("packet %d: %d samples, want 20 ms at %d Hz", i, m, outRate)
				}
				heard = append(heard, got[:m]...)
			}
			// Skip the codecs' and resampler's start-up.
			tail := heard[len(heard)/2:]
			at1k := dsp.NewGoertzel(1000, outRate).Power(tail)
			at1k3 := dsp.NewGoertzel(1300, outRate).Power(tail)
			if at1k < 100*at1k3 || dsp.LevelDBFS(tail) < -20 {
				t.Fatalf("1 kHz power %.3g vs 1.3 kHz %.3g, level %.1f dBFS: not the tone", at1k, at1k3, dsp.LevelDBFS(tail))
			}
			if c := a.Counters(); c.Dropped != 0 || c.DecodeErrors != 0 {
				t.Fatalf("counters %+v", c)
			}
		})
	}
}

// One 20 ms G.711 packet in on leg a, transcoded and out on leg b: the
// cost of a call between phones with no codec in common, per packet.
func BenchmarkTranscodePacket(b *testing.B) {
	for _, to := range []Format{
		{PT: 8, Codec: fmtPCMA.Codec},
		{PT: 9, Codec: Codec{Name: NameG722, ClockRate: 8000}},
		{PT: 111, Codec: fmtOpus.Codec},
	} {
		b.Run("PCMU-"+to.Name, func(b *testing.B) {
			n := newMemNet()
			n.quiet = true
			e := newEngine(b, func(c *EngineConfig) { c.Listen = n.listen })
			a, bb := newSession(b, e, "a"), newSession(b, e, "b")
			from := netip.MustParseAddrPort("10.0.0.1:4000")
			a.SetRemote(muxParams(from, Format{}, fmtPCMU))
			bb.SetRemote(muxParams(netip.MustParseAddrPort("10.0.0.2:4000"), Format{}, to))
			if _, err := Relay(a, bb); err != nil {
				b.Fatal(err)
			}
			enc, rate, _ := EncoderFor(fmtPCMU.Codec)
			pcm := make([]int16, rate/50)
			NewTone(1000, rate, 0.3, 0).ReadFrame(pcm)
			payload := make([]byte, 160)
			enc.Encode(payload, pcm)
			tmpl := rtpBytes(0, false, 0, 0, 0x1234, payload)
			buf := make([]byte, len(tmpl))
			now := time.Now()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				copy(buf, tmpl)
				binary.BigEndian.PutUint16(buf[2:], uint16(i))
				binary.BigEndian.PutUint32(buf[4:], uint32(i)*160)
				a.receive(buf, from, now, false)
			}
			if c := a.Counters(); c.Dropped != 0 || c.DecodeErrors != 0 {
				b.Fatalf("counters %+v", c)
			}
		})
	}
}
