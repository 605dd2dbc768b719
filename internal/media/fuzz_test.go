package media

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// The SDP entry point: whatever ParseSDP accepts must answer into SDP
// that parses back with the same codecs, or fail with an *SDPError.
func FuzzSDPAnswer(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sdp", "*.sdp"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ep := Endpoint{Addr: netip.MustParseAddr("192.0.2.10"), Port: 10000, SessionID: 1, Version: 1}
	prefs := DefaultPreferences()
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParseSDP(raw)
		if err != nil {
			if _, ok := err.(*SDPError); !ok {
				t.Fatalf("error %T %v is not an *SDPError", err, err)
			}
			return
		}
		Rewrite(raw, ep)
		answer, p, err := Answer(d, prefs, ep)
		if err != nil {
			if _, ok := err.(*SDPError); !ok {
				t.Fatalf("answer error %T %v", err, err)
			}
			return
		}
		back, err := ParseSDP(answer)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, answer)
		}
		p2, err := Negotiate(back, prefs)
		if err != nil {
			t.Fatalf("our answer does not negotiate: %v\n%s", err, answer)
		}
		if len(p2.Codecs) != len(p.Codecs) || p2.Codecs[0].PT != p.Codecs[0].PT {
			t.Fatalf("answer codecs %v, negotiated %v", p2.Codecs, p.Codecs)
		}
	})
}

// The packet path: any datagram on the RTP or RTCP socket is counted or
// dropped, never a panic, and a relay behind it keeps working.
func FuzzReceive(f *testing.F) {
	f.Add(rtpBytes(0, true, 1, 160, 7, make([]byte, 160)), false)
	f.Add(rtpBytes(101, false, 2, 160, 7, dtmfBytes(1, true, 800)), false)
	f.Add(append(rtpBytes(0, false, 3, 320, 7, []byte{1, 2}), 0, 0, 0, 4), false)
	ext := rtpBytes(0, false, 4, 480, 7, []byte{1})
	ext[0] |= 0x10 | 0x02 // extension and two CSRCs, truncated
	f.Add(ext, false)
	sr, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 7, Reports: []rtcp.ReceptionReport{{SSRC: 9, TotalLost: 3}}},
		rtcp.NewCNAMESourceDescription(7, "peer"),
		&rtcp.Goodbye{Sources: []uint32{7}},
	})
	f.Add(sr, true)
	f.Add(sr, false)
	f.Add([]byte{0x80, 200, 0, 0}, false)
	f.Add([]byte{}, true)

	n := newMemNet()
	n.quiet = true
	e := newEngine(f, func(c *EngineConfig) { c.Listen = n.listen })
	a, b := newSession(f, e, "a"), newSession(f, e, "b")
	from := netip.MustParseAddrPort("10.0.0.1:4000")
	a.SetRemote(muxParams(from, fmtTE101, fmtPCMU, fmtOpus))
	b.SetRemote(muxParams(netip.MustParseAddrPort("10.0.0.2:4000"), fmtTE101, fmtPCMU))
	if _, err := Relay(a, b); err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, pkt []byte, rtcpSocket bool) {
		buf := append([]byte(nil), pkt...)
		now = now.Add(time.Millisecond)
		a.receive(buf, from, now, rtcpSocket)
		a.Tick(now)
		_ = a.Describe()
	})
}
