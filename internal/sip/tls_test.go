package sip

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/ringo-pbx/ringo/internal/config"
)

// writeCert writes a self-signed certificate for 127.0.0.1 into dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ringo test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestTLSRegisterAndCall: a phone registered over TLS is called back over
// its own TLS connection (it has no listening socket at all).
func TestTLSRegisterAndCall(t *testing.T) {
	certFile, keyFile := writeCert(t, t.TempDir())
	e := startEnv(t, func(c *config.Config) {
		c.SIP.TLSAddr, c.SIP.TLSCert, c.SIP.TLSKey = "127.0.0.1:0", certFile, keyFile
	})
	tlsAddr := e.srv.Addrs()["tls"]
	if tlsAddr == "" {
		t.Fatal("no TLS listener")
	}

	ua, err := sipgo.NewUA(sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	srv, _ := sipgo.NewServer(ua)
	invites := make(chan *sip.Request, 1)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		invites <- req
		tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, user: "1002", pass: "secret1002", addr: "tls.invalid:5061", server: tlsAddr, cl: cl}
	req := p.request(sip.REGISTER, sip.Uri{Scheme: "sip", Host: testDomain}, 300)
	req.ReplaceHeader(sip.NewHeader("Contact", "<sip:1002@tls.invalid;transport=tls>"))
	req.SetTransport("TLS")
	req.SetDestination(tlsAddr)
	res := p.do(req)
	p.authorize(req, res, "MD5", "1002", "secret1002")
	req.SetTransport("TLS")
	if res = p.do(req); res.StatusCode != 200 {
		t.Fatalf("REGISTER over TLS: %s", res.StartLine())
	}
	bs := e.loc.Lookup("1002@" + testDomain)
	if len(bs) != 1 || bs[0].Transport != "TLS" {
		t.Fatalf("binding: %+v", bs)
	}

	caller := newPhone(t, e, "1001", "secret1001")
	_, err = caller.call(ctxT(t), "202", []byte(offerSDP))
	if got := statusOf(err); got != 486 {
		t.Fatalf("call to the TLS phone: %v, want its 486", err)
	}
	inv := wait(t, invites, "INVITE over TLS")
	if v := inv.Via(); v == nil || v.Transport != "TLS" {
		t.Fatalf("INVITE reached the phone with Via %v", v)
	}
}
