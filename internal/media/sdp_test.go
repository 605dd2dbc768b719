package media

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readSDP(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sdp", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testEndpoint = Endpoint{Addr: netip.MustParseAddr("192.0.2.10"), Port: 10000, SessionID: 42, Version: 1}

func pts(fs []Format) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%s", f.PT, f.Name)
	}
	return b.String()
}

func TestAnswerCorpus(t *testing.T) {
	g722First := DefaultPreferences()
	g722First.Codecs = []Codec{{Name: NameG722, ClockRate: 8000}, {Name: NamePCMU, ClockRate: 8000}}
	hold := DefaultPreferences()
	hold.Direction = SendOnly
	noMux := DefaultPreferences()
	noMux.RTCPMux = false

	tests := []struct {
		file    string
		prefs   Preferences
		err     error
		codecs  string
		dtmf    uint8
		dir     Direction
		remote  string
		rtcp    string
		mux     bool
		ptime   time.Duration
		answerM string // the answer's m= lines, joined by |
	}{
		{file: "baresip-offer.sdp", codecs: "0:PCMU 8:PCMA 9:G722 96:opus", dtmf: 101, remote: "127.0.0.1:47202", rtcp: "127.0.0.1:47203",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 0 8 9 96 101"},
		{file: "baresip-offer.sdp", prefs: g722First, codecs: "9:G722 0:PCMU", dtmf: 101, remote: "127.0.0.1:47202", rtcp: "127.0.0.1:47203",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 9 0 101"},
		{file: "linphone-offer.sdp", codecs: "0:PCMU 8:PCMA 96:opus", dtmf: 101, remote: "[fd00::2]:47230", rtcp: "[fd00::2]:47231",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 0 8 96 101"},
		{file: "sipp-uac-offer.sdp", codecs: "8:PCMA", dtmf: 101, remote: "127.0.0.1:6000", rtcp: "127.0.0.1:6001",
			ptime: 30 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 8 101"},
		{file: "sipp-rtpstream-offer.sdp", codecs: "0:PCMU", remote: "127.0.0.1:6000", rtcp: "127.0.0.1:6001",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 0"},
		{file: "sipp-uas-answer.sdp", codecs: "0:PCMU 8:PCMA", dtmf: 101, remote: "127.0.0.1:6100", rtcp: "127.0.0.1:6101",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 0 8 101"},
		{file: "webrtc-offer.sdp", err: ErrUnsupportedTransport},
		{file: "webrtc-avpf-offer.sdp", codecs: "0:PCMU 8:PCMA 9:G722 111:opus", dtmf: 126, remote: "198.51.100.7:40000", rtcp: "198.51.100.7:40000",
			mux: true, ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVPF 0 8 9 111 126"},
		{file: "webrtc-avpf-offer.sdp", prefs: noMux, codecs: "0:PCMU 8:PCMA 9:G722 111:opus", dtmf: 126, remote: "198.51.100.7:40000", rtcp: "198.51.100.7:40001",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVPF 0 8 9 111 126"},
		{file: "hold-sendonly-offer.sdp", codecs: "0:PCMU", dtmf: 101, dir: RecvOnly, remote: "203.0.113.5:47208", rtcp: "203.0.113.5:47209",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 0 101"},
		{file: "hold-zero-offer.sdp", codecs: "0:PCMU 8:PCMA", dir: RecvOnly, remote: "0.0.0.0:47208", rtcp: "0.0.0.0:47209",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 0 8"},
		{file: "inactive-offer.sdp", codecs: "0:PCMU", dir: Inactive, remote: "203.0.113.5:47208", rtcp: "203.0.113.5:47209",
			ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 0"},
		{file: "baresip-offer.sdp", prefs: hold, codecs: "0:PCMU 8:PCMA 9:G722 96:opus", dtmf: 101, dir: SendOnly, remote: "127.0.0.1:47202",
			rtcp: "127.0.0.1:47203", ptime: 20 * time.Millisecond, answerM: "m=audio 10000 RTP/AVP 0 8 9 96 101"},
		{file: "video-audio-offer.sdp", codecs: "0:PCMU 9:G722", dtmf: 96, remote: "203.0.113.9:5004", rtcp: "203.0.113.10:5010",
			ptime: 20 * time.Millisecond, answerM: "m=video 0 RTP/AVP 96|m=audio 10000 RTP/AVP 0 9 96"},
		{file: "g729-only-offer.sdp", err: ErrNoCommonCodec},
		{file: "video-only-offer.sdp", err: ErrNoAudio},
		{file: "no-connection-offer.sdp", err: ErrMalformedSDP},
		{file: "malformed-port.sdp", err: ErrMalformedSDP},
		{file: "malformed-garbage.sdp", err: ErrMalformedSDP},
	}
	for _, tt := range tests {
		name := tt.file
		if tt.prefs.Codecs != nil {
			name += "/custom"
		}
		t.Run(name, func(t *testing.T) {
			prefs := tt.prefs
			if prefs.Codecs == nil {
				prefs = DefaultPreferences()
			}
			var answer []byte
			var p Params
			d, err := ParseSDP(readSDP(t, tt.file))
			if err == nil {
				answer, p, err = Answer(d, prefs, testEndpoint)
			}
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrNotAcceptable) {
					t.Fatalf("err = %v, want %v and ErrNotAcceptable", err, tt.err)
				}
				var se *SDPError
				if !errors.As(err, &se) || se.StatusCode() != 488 {
					t.Fatalf("err %T is not an *SDPError mapping to 488", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := pts(p.Codecs); got != tt.codecs {
				t.Errorf("codecs = %s, want %s", got, tt.codecs)
			}
			if tt.dtmf != 0 && (!p.HasDTMF() || p.DTMF.PT != tt.dtmf) {
				t.Errorf("dtmf = %v, want PT %d", p.DTMF, tt.dtmf)
			}
			if tt.dtmf == 0 && p.HasDTMF() {
				t.Errorf("dtmf = %v, want none", p.DTMF)
			}
			if p.Direction != tt.dir {
				t.Errorf("direction = %v, want %v", p.Direction, tt.dir)
			}
			if p.Remote.String() != tt.remote || p.RemoteRTCP.String() != tt.rtcp {
				t.Errorf("remote = %v rtcp %v, want %s rtcp %s", p.Remote, p.RemoteRTCP, tt.remote, tt.rtcp)
			}
			if p.RTCPMux != tt.mux || p.PTime != tt.ptime {
				t.Errorf("mux %v ptime %v, want %v %v", p.RTCPMux, p.PTime, tt.mux, tt.ptime)
			}
			var ms []string
			for _, line := range strings.Split(string(answer), "\r\n") {
				if strings.HasPrefix(line, "m=") {
					ms = append(ms, line)
				}
			}
			if got := strings.Join(ms, "|"); got != tt.answerM {
				t.Errorf("answer m-lines = %q, want %q\n%s", got, tt.answerM, answer)
			}
			checkAnswer(t, answer, p)
		})
	}
}

// checkAnswer reads Ringo's answer back as the peer would.
func checkAnswer(t *testing.T, answer []byte, p Params) {
	t.Helper()
	back, err := ParseSDP(answer)
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, answer)
	}
	if back.Addr != netip.AddrPortFrom(testEndpoint.Addr, testEndpoint.Port) {
		t.Errorf("answer addr = %v", back.Addr)
	}
	if back.Direction != p.Direction {
		t.Errorf("answer says %v, negotiated %v", back.Direction, p.Direction)
	}
	if back.RTCPMux != p.RTCPMux {
		t.Errorf("answer rtcp-mux %v, negotiated %v", back.RTCPMux, p.RTCPMux)
	}
	if p.HasDTMF() && !strings.Contains(string(answer), fmt.Sprintf("a=fmtp:%d 0-15", p.DTMF.PT)) {
		t.Errorf("answer lacks telephone-event events 0-15:\n%s", answer)
	}
	if !strings.Contains(string(answer), "a=ptime:20") {
		t.Errorf("answer lacks ptime:\n%s", answer)
	}
}

func TestOfferAndAcceptAnswer(t *testing.T) {
	prefs := DefaultPreferences()
	offer, err := Offer(prefs, testEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"o=ringo 42 1 IN IP4 192.0.2.10", "c=IN IP4 192.0.2.10",
		"m=audio 10000 RTP/AVP 0 8 9 96 101 110",
		"a=rtpmap:96 opus/48000/2", "a=fmtp:96 useinbandfec=1",
		"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=rtpmap:110 telephone-event/48000",
		"a=ptime:20", "a=sendrecv", "a=rtcp-mux",
	}
	for _, w := range want {
		if !strings.Contains(string(offer), w+"\r\n") {
			t.Errorf("offer lacks %q:\n%s", w, offer)
		}
	}
	// A peer answering our offer with its own preferences.
	d, err := ParseSDP(offer)
	if err != nil {
		t.Fatal(err)
	}
	peer := DefaultPreferences()
	peer.Codecs = []Codec{{Name: NameOpus, ClockRate: 48000, Channels: 2}, {Name: NamePCMA, ClockRate: 8000}}
	peerEP := Endpoint{Addr: netip.MustParseAddr("127.0.0.1"), Port: 20000}
	answer, _, err := Answer(d, peer, peerEP)
	if err != nil {
		t.Fatal(err)
	}
	p, err := AcceptAnswer(answer, prefs)
	if err != nil {
		t.Fatal(err)
	}
	if got := pts(p.Codecs); got != "8:PCMA 96:opus" {
		t.Errorf("codecs = %s", got)
	}
	if p.DTMF.PT != 110 || p.DTMF.ClockRate != 48000 {
		// The peer put opus first, so it chose telephone-event/48000.
		t.Errorf("dtmf = %v", p.DTMF)
	}
	if !p.RTCPMux || p.Remote.String() != "127.0.0.1:20000" {
		t.Errorf("params = %+v", p)
	}
}

func TestRestrict(t *testing.T) {
	offer, err := ParseSDP(readSDP(t, "sipp-uac-offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	r := DefaultPreferences().Restrict(offer.Codecs())
	if len(r.Codecs) != 1 || r.Codecs[0].Name != NamePCMA {
		t.Fatalf("restricted = %v", r.Codecs)
	}
	if _, err := Offer(DefaultPreferences().Restrict(nil), testEndpoint); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("empty offer err = %v", err)
	}
}

func TestRewrite(t *testing.T) {
	ep := Endpoint{Addr: netip.MustParseAddr("192.0.2.10"), Port: 10002, RTCPPort: 10009}
	tests := []struct {
		file string
		want []string
		not  []string
	}{
		{"baresip-offer.sdp",
			[]string{"o=- 4096189459 519605466 IN IP4 192.0.2.10", "c=IN IP4 192.0.2.10", "m=audio 10002 RTP/AVP 0 8 9 96 101", "a=rtcp:10009", "a=fmtp:96 stereo=1;sprop-stereo=1"},
			[]string{"127.0.0.1"}},
		{"video-audio-offer.sdp",
			[]string{"c=IN IP4 192.0.2.10", "m=video 0 RTP/AVP 96", "m=audio 10002 RTP/AVP 9 0 96"},
			[]string{"203.0.113", "a=rtcp:5010"}},
		{"hold-zero-offer.sdp", []string{"c=IN IP4 0.0.0.0", "m=audio 10002 RTP/AVP 8 0"}, []string{"203.0.113"}},
		{"webrtc-avpf-offer.sdp", []string{"a=rtcp-mux", "m=audio 10002 RTP/AVPF 111 63 9 0 8 13 110 126"}, []string{"a=rtcp:", "198.51.100.7"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := Rewrite(readSDP(t, tt.file), ep)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w+"\r\n") {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(out), n) {
					t.Errorf("still has %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestRewriteKeepsLegOrigin(t *testing.T) {
	ep := Endpoint{Addr: netip.MustParseAddr("192.0.2.10"), Port: 10002, SessionID: 77, Version: 3}
	out, err := Rewrite(readSDP(t, "baresip-offer.sdp"), ep)
	if err != nil {
		t.Fatal(err)
	}
	if want := "o=ringo 77 3 IN IP4 192.0.2.10\r\n"; !strings.Contains(string(out), want) {
		t.Fatalf("lacks %q:\n%s", want, out)
	}
}

func ExampleAnswer() {
	offer, err := ParseSDP([]byte("v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n" +
		"m=audio 5004 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ep := Endpoint{Addr: netip.MustParseAddr("192.0.2.10"), Port: 10000, SessionID: 7, Version: 1}
	answer, p, err := Answer(offer, DefaultPreferences(), ep)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(answer), "\r\n", "\n"))
	fmt.Println("send", p.Codecs[0], "to", p.Remote)
	// Output:
	// v=0
	// o=ringo 7 1 IN IP4 192.0.2.10
	// s=ringo
	// c=IN IP4 192.0.2.10
	// t=0 0
	// m=audio 10000 RTP/AVP 0 8 101
	// a=rtpmap:0 PCMU/8000
	// a=rtpmap:8 PCMA/8000
	// a=rtpmap:101 telephone-event/8000
	// a=fmtp:101 0-15
	// a=ptime:20
	// a=sendrecv
	// send 0 PCMU/8000 to 203.0.113.5:5004
}
