package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ringo-pbx/ringo/internal/config"
)

// STARTTLS modes.
const (
	// StartTLSAuto encrypts when the relay offers STARTTLS.
	StartTLSAuto = "auto"
	// StartTLSAlways refuses to send unless the relay offers STARTTLS.
	StartTLSAlways = "always"
	// StartTLSNever talks to the relay in the clear.
	StartTLSNever = "never"
)

// Defaults of Config.
const (
	DefaultTimeout = 30 * time.Second
	DefaultMaxSize = 25 << 20
)

// ErrNoRelay is what sending reports when no relay is configured.
var ErrNoRelay = errors.New("no SMTP relay configured")

// Config is how a Sender reaches its relay.
type Config struct {
	// Relay is the SMTP server's host:port; empty makes every Send fail
	// with ErrNoRelay.
	Relay string
	// From is the sender of messages that name none.
	From string
	// Username and Password authenticate to the relay (AUTH PLAIN or
	// LOGIN); the password is only sent encrypted, or to a loopback relay.
	Username, Password string
	// StartTLS is StartTLSAuto (the default), StartTLSAlways or
	// StartTLSNever.
	StartTLS string
	// Timeout bounds one whole submission, from dialling to the relay's
	// answer to the data (DefaultTimeout when 0).
	Timeout time.Duration
	// MaxSize bounds a composed message (DefaultMaxSize when 0).
	MaxSize int
	// Hello is the name given in EHLO (the host name by default).
	Hello string
	// TLS configures STARTTLS; nil verifies the relay's certificate for
	// the host of Relay against the system roots.
	TLS *tls.Config
}

// ConfigOf is the Config of the server settings (ringo.yaml's smtp).
func ConfigOf(s config.SMTP) Config {
	return Config{Relay: s.Relay, From: s.From, Username: s.Username, Password: s.Password,
		StartTLS: s.StartTLS, Timeout: s.Timeout}
}

// Sender submits messages to one relay. It is safe for concurrent use; a
// nil *Sender sends nothing and reports ErrNoRelay.
type Sender struct {
	cfg  Config
	host string // of Relay, for TLS and the loopback check
}

// NewSender checks cfg and fills in its defaults.
func NewSender(cfg Config) (*Sender, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	switch cfg.StartTLS {
	case "":
		cfg.StartTLS = StartTLSAuto
	case StartTLSAuto, StartTLSAlways, StartTLSNever:
	default:
		return nil, fmt.Errorf("smtp startTLS %q: want auto, always or never", cfg.StartTLS)
	}
	if cfg.Hello == "" {
		if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
			cfg.Hello = h
		} else {
			cfg.Hello = "localhost"
		}
	}
	s := &Sender{cfg: cfg}
	if cfg.Relay != "" {
		host, _, err := net.SplitHostPort(cfg.Relay)
		if err != nil {
			return nil, fmt.Errorf("smtp relay %q: want host:port: %w", cfg.Relay, err)
		}
		s.host = host
	}
	if cfg.From != "" {
		if _, err := mail.ParseAddress(cfg.From); err != nil {
			return nil, fmt.Errorf("smtp from %q: %w", cfg.From, err)
		}
	}
	return s, nil
}

// Configured reports whether a relay is set.
func (s *Sender) Configured() bool { return s != nil && s.cfg.Relay != "" }

// Send composes m and submits it to the relay, within the configured
// timeout and until ctx ends. A message without From is sent from the
// configured default sender.
func (s *Sender) Send(ctx context.Context, m Message) error {
	if !s.Configured() {
		return ErrNoRelay
	}
	if strings.TrimSpace(m.From) == "" {
		m.From = s.cfg.From
	}
	raw, env, err := compose(m, time.Now())
	if err != nil {
		return err
	}
	if len(raw) > s.cfg.MaxSize {
		return fmt.Errorf("%w: %d bytes, over the limit of %d", ErrInvalid, len(raw), s.cfg.MaxSize)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	err = s.submit(ctx, env, raw)
	if err == nil {
		return nil
	}
	// A connection closed under a command by the deadline, or a command's
	// own deadline, reports itself as a network error; say what happened.
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Errorf("smtp relay %s: no answer within %v: %w", s.cfg.Relay, s.cfg.Timeout, context.DeadlineExceeded)
	case ctx.Err() != nil:
		return fmt.Errorf("smtp relay %s: %w", s.cfg.Relay, ctx.Err())
	}
	return fmt.Errorf("smtp relay %s: %w", s.cfg.Relay, err)
}

func (s *Sender) submit(ctx context.Context, env envelope, raw []byte) error {
	c, release, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer release()
	defer c.Close()
	if err := s.auth(c); err != nil {
		return err
	}
	if err := c.Mail(env.from, &smtp.MailOptions{Size: int64(len(raw))}); err != nil {
		return fmt.Errorf("MAIL FROM:<%s>: %w", env.from, err)
	}
	for _, r := range env.to {
		if err := c.Rcpt(r, nil); err != nil {
			return fmt.Errorf("RCPT TO:<%s>: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The relay has taken the message; a failed goodbye changes nothing.
	_ = c.Quit()
	return nil
}

// connect dials the relay and negotiates STARTTLS as configured. release
// stops watching ctx, which closes the connection when it ends: go-smtp
// bounds single commands but not the whole exchange, nor the writing of
// the data.
func (s *Sender) connect(ctx context.Context) (*smtp.Client, func() bool, error) {
	dial := func() (*smtp.Client, func() bool, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", s.cfg.Relay)
		if err != nil {
			return nil, nil, err
		}
		release := context.AfterFunc(ctx, func() { conn.Close() })
		c := smtp.NewClient(conn)
		c.CommandTimeout, c.SubmissionTimeout = s.cfg.Timeout, s.cfg.Timeout
		return c, release, nil
	}
	c, release, err := dial()
	if err != nil {
		return nil, nil, err
	}
	// NOOP runs the greeting and EHLO first, so that their failures are
	// reported as such rather than at MAIL FROM.
	err = c.Hello(s.cfg.Hello)
	if err == nil {
		err = c.Noop()
	}
	if err != nil {
		c.Close()
		release()
		return nil, nil, err
	}
	if s.cfg.StartTLS == StartTLSNever {
		return c, release, nil
	}
	if offered, _ := c.Extension("STARTTLS"); !offered {
		if s.cfg.StartTLS == StartTLSAlways {
			c.Close()
			release()
			return nil, nil, errors.New("the relay does not offer STARTTLS (smtp startTLS is always)")
		}
		return c, release, nil
	}
	// go-smtp starts TLS only on a fresh connection, so the one that asked
	// is closed and a second one encrypts.
	_ = c.Quit()
	c.Close()
	release()
	var conn net.Conn
	var d net.Dialer
	if conn, err = d.DialContext(ctx, "tcp", s.cfg.Relay); err != nil {
		return nil, nil, err
	}
	release = context.AfterFunc(ctx, func() { conn.Close() })
	tc := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	if s.cfg.TLS != nil {
		tc = s.cfg.TLS.Clone()
		if tc.ServerName == "" {
			tc.ServerName = s.host
		}
	}
	c, err = smtp.NewClientStartTLS(conn, tc)
	if err != nil {
		conn.Close()
		release()
		return nil, nil, fmt.Errorf("STARTTLS: %w", err)
	}
	c.CommandTimeout, c.SubmissionTimeout = s.cfg.Timeout, s.cfg.Timeout
	if err := c.Hello(s.cfg.Hello); err != nil {
		c.Close()
		release()
		return nil, nil, err
	}
	return c, release, nil
}

// auth logs in when a user name is configured, refusing to send the
// password in the clear to anything but a loopback relay.
func (s *Sender) auth(c *smtp.Client) error {
	if s.cfg.Username == "" {
		return nil
	}
	if _, tlsOn := c.TLSConnectionState(); !tlsOn && !loopback(s.host) {
		return errors.New("refusing to send the SMTP password unencrypted: the relay did not start TLS (set smtp startTLS to auto or always)")
	}
	var sc sasl.Client
	switch {
	case c.SupportsAuth("PLAIN"):
		sc = sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)
	case c.SupportsAuth("LOGIN"):
		sc = sasl.NewLoginClient(s.cfg.Username, s.cfg.Password)
	default:
		return errors.New("the relay offers neither AUTH PLAIN nor AUTH LOGIN")
	}
	if err := c.Auth(sc); err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
