package media_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ringo-pbx/ringo/internal/media"
)

// How the SIP layer anchors a call: the caller's offer, an offer of
// Ringo's own to the callee, the callee's answer, Ringo's answer to the
// caller, and a relay between the two legs.
func Example_anchoredCall() {
	ctx := context.Background()
	engine, err := media.NewEngine(ctx, media.EngineConfig{
		BindAddr: netip.MustParseAddr("127.0.0.1"), PortMin: 42000, PortMax: 43999,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer engine.Close()
	prefs := media.DefaultPreferences()

	callerSDP := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 47202 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
	offer, err := media.ParseSDP([]byte(callerSDP))
	if err != nil {
		fmt.Println("488:", err)
		return
	}
	a, _ := engine.NewSession(media.SessionOptions{Name: "caller", RTCPMux: offer.RTCPMux})
	b, _ := engine.NewSession(media.SessionOptions{Name: "callee"})

	bOffer, _ := media.Offer(prefs.Restrict(offer.Codecs()), b.Endpoint())
	fmt.Println("to callee:", mline(bOffer))

	calleeSDP := "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 47302 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	pb, err := media.AcceptAnswer([]byte(calleeSDP), prefs)
	if err != nil {
		fmt.Println(err)
		return
	}
	b.SetRemote(pb)

	answer, pa, err := media.Answer(offer, prefs.Restrict(pb.Audio()), a.Endpoint())
	if err != nil {
		fmt.Println("488:", err)
		return
	}
	a.SetRemote(pa)
	fmt.Println("to caller:", mline(answer))

	bridge, err := media.Relay(a, b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bridge.Stop()
	fmt.Println(a.Describe().Chain[3])
	// Output:
	// to callee: RTP/AVP 0 8 101
	// to caller: RTP/AVP 8 101
	// relay → callee (PCMA 8→8, telephone-event 101→101)
}

// mline returns the audio m-line without its port, which varies.
func mline(sdp []byte) string {
	for _, l := range strings.Split(string(sdp), "\r\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "m=audio" {
			return strings.Join(f[2:], " ")
		}
	}
	return ""
}
