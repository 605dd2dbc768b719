package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzRequest feeds arbitrary requests to the handlers Ringo writes itself
// (registrar, INVITE admission and routing, in-dialog matching, OPTIONS):
// whatever the header values, a handler answers or drops, and never panics.
func FuzzRequest(f *testing.F) {
	e := startEnv(f, nil)
	seeds := []string{
		"REGISTER sip:pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:1001@pbx.test>;tag=1\r\nTo: <sip:1001@pbx.test>\r\nCall-ID: a\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@127.0.0.1:5070>;expires=60;+sip.instance=\"<urn:uuid:1>\";reg-id=1;q=0.5\r\nExpires: 60\r\nSupported: path, gruu\r\nPath: <sip:proxy.example;lr>\r\nAuthorization: Digest username=\"1001\", realm=\"pbx.test\", nonce=\"AAAA\", uri=\"sip:pbx.test\", response=\"00\", qop=auth, nc=00000001, cnonce=\"x\"\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: b\r\nCSeq: 1 REGISTER\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n",
		"INVITE sip:202@127.0.0.1;gr=urn:uuid:1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK3\r\nFrom: \"A\" <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:202@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: 0\r\nProxy-Authorization: Digest username=\"1001\", realm=\"pbx.test\", nonce=\"x\", uri=\"sip:202@127.0.0.1\", response=\"1\"\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
		"BYE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK4\r\nFrom: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:202@127.0.0.1>;tag=2\r\nCall-ID: d\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
		"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK5\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: e\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.ParseMessage(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || req.Via() == nil || req.CSeq() == nil {
			return // the transaction layer answers these with 400 before any handler
		}
		req.SetSource("127.0.0.1:5070")
		req.SetTransport("UDP")
		tx := newFakeTx()
		close(tx.done) // a handler that would wait for the caller returns at once
		switch req.Method {
		case sip.REGISTER:
			e.srv.onRegister(req, tx)
		case sip.INVITE:
			e.srv.onInvite(req, tx)
		case sip.ACK:
			e.srv.onAck(req, tx)
		case sip.OPTIONS:
			e.srv.onOptions(req, tx)
		default:
			e.srv.onInDialog(req, tx)
		}
		if req.Method != sip.ACK && tx.res != nil && (tx.res.StatusCode < 100 || tx.res.StatusCode > 699) {
			t.Fatalf("invalid status %d", tx.res.StatusCode)
		}
	})
}
