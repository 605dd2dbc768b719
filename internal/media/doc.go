// Package media is Ringo's packet layer for anchored calls: RTP sessions on
// the configured port range, SDP offer/answer, symmetric RTP, relaying
// between legs with SSRC/sequence/timestamp rewriting, RFC 4733 DTMF,
// RTCP reports, a shared media clock and per-leg counters.
//
// An anchored two-leg call uses it like this (see Example_anchoredCall):
//
//	offer, err := media.ParseSDP(body)         // an *SDPError means 488
//	a, _ := engine.NewSession(media.SessionOptions{Name: "caller", RTCPMux: offer.RTCPMux})
//	b, _ := engine.NewSession(media.SessionOptions{Name: "callee"})
//	bOffer, _ := media.Offer(prefs.Restrict(offer.Codecs()), b.Endpoint())
//	// … INVITE the callee with bOffer, get its answer …
//	pb, err := media.AcceptAnswer(bAnswer, prefs)
//	b.SetRemote(pb)
//	answer, pa, err := media.Answer(offer, prefs.Restrict(pb.Audio()), a.Endpoint())
//	a.SetRemote(pa)                            // 200 OK to the caller with answer
//	bridge, err := media.Relay(a, b)
//	// … a.DTMF() delivers digits; a.Describe() prints the chain and counters …
//	bridge.Stop(); a.Close(); b.Close()
//
// Packet buffers are per session and reused: relaying, receiving,
// playback ticks and RTCP reports do not allocate.
//
// Concurrency: each session owns one read goroutine per socket; periodic
// work (RTCP, DTMF sending and timeouts, playback) runs on the engine's
// shared Clock, never on a ticker per stream. Counters are atomics, so
// Describe may be called from any goroutine while packets flow.
package media
