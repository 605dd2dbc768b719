// Package mailtest runs a real SMTP server (emersion/go-smtp) in-process for
// tests, keeping what it receives.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data string
	// User is who logged in (AUTH) before sending it, if anyone.
	User string
	// TLS tells whether the message came over an encrypted connection.
	TLS bool
}

// Options change the server.
type Options struct {
	// TLS enables STARTTLS with this configuration.
	TLS *tls.Config
	// Users enables AUTH PLAIN for these user names and passwords.
	Users map[string]string
}

// Server is a running test SMTP server. Recipients starting with "nobody@"
// are refused with 550.
type Server struct {
	Addr string
	mu   sync.Mutex
	msgs []Message
	got  chan struct{}
}

// Start runs a plain server on a free loopback port until the test ends.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith runs a server with opts on a free loopback port until the test
// ends.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{got: make(chan struct{}, 100)}
	srv := smtp.NewServer(backend{s: s, users: opts.Users})
	srv.Domain = "mx.test"
	srv.TLSConfig = opts.TLS
	// AUTH over plain connections is allowed so that the client's own
	// refusal to send a password in the clear can be tested.
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Messages returns what has been received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Received is signalled once per accepted message (the first 100 are
// buffered).
func (s *Server) Received() <-chan struct{} { return s.got }

// SelfSigned returns a server TLS configuration with a fresh certificate
// for 127.0.0.1 and localhost, and the pool a client needs to trust it.
func SelfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool
}

type backend struct {
	s     *Server
	users map[string]string
}

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	x := &session{s: b.s, conn: c}
	if b.users != nil {
		return &authSession{session: x, users: b.users}, nil
	}
	return x, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	cur  Message
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.cur.From = from; return nil }

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	x.cur.To = append(x.cur.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.cur.Data = string(b)
	x.cur.User = x.user
	_, x.cur.TLS = x.conn.TLSConnectionState()
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, x.cur)
	x.s.mu.Unlock()
	select {
	case x.s.got <- struct{}{}:
	default:
	}
	return nil
}

func (x *session) Reset()        { x.cur = Message{} }
func (x *session) Logout() error { return nil }

// authSession is a session that offers AUTH PLAIN.
type authSession struct {
	*session
	users map[string]string
}

func (a *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (a *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if p, ok := a.users[user]; !ok || p != pass {
			return smtp.ErrAuthFailed
		}
		a.user = user
		return nil
	}), nil
}
