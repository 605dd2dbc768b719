// Package mail sends the e-mail that programs and call features submit
// (CG/PL SendEMail and SubmitEMail, later voicemail) through an SMTP relay,
// with the standard library's SMTP client.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"sort"
	"strings"
	"time"
)

// Message is an e-mail to send.
type Message struct {
	From    string
	To      []string
	Cc      []string
	Bcc     []string
	Subject string
	// Headers are extra header fields (their names as given).
	Headers map[string]string
	// ContentType defaults to "text/plain; charset=utf-8".
	ContentType string
	Body        []byte
	// Attachments follow the body in a multipart/mixed message.
	Attachments []Attachment
	Date        time.Time
}

// Attachment is one attached file.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// ErrInvalid marks a message that cannot be sent as it is.
var ErrInvalid = errors.New("invalid message")

// Sender relays mail through an SMTP server.
type Sender struct {
	// Addr is the relay's host:port.
	Addr string
	// Hello is the name given in EHLO (default "localhost").
	Hello   string
	Timeout time.Duration
}

// Send delivers m through the relay.
func (s *Sender) Send(ctx context.Context, m Message) error {
	if s == nil || s.Addr == "" {
		return errors.New("no mail relay is configured")
	}
	raw, err := Compose(m)
	if err != nil {
		return err
	}
	rcpts := append(append(append([]string{}, m.To...), m.Cc...), m.Bcc...)
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	if err := c.Mail(addrOnly(m.From)); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", s.Addr, err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(addrOnly(r)); err != nil {
			return fmt.Errorf("smtp %s: RCPT TO %s: %w", s.Addr, r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", s.Addr, err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	return c.Quit()
}

// addrOnly strips a display name: "Ivan <ivanov@x>" → ivanov@x.
func addrOnly(a string) string {
	if i := strings.LastIndexByte(a, '<'); i >= 0 {
		if j := strings.IndexByte(a[i:], '>'); j > 0 {
			return a[i+1 : i+j]
		}
	}
	return strings.TrimSpace(a)
}

func headerSafe(s string) bool { return !strings.ContainsAny(s, "\r\n") }

// Compose renders m as an RFC 5322 message (CRLF line ends).
func Compose(m Message) ([]byte, error) {
	if addrOnly(m.From) == "" || len(m.To)+len(m.Cc)+len(m.Bcc) == 0 {
		return nil, fmt.Errorf("%w: a sender and at least one recipient are needed", ErrInvalid)
	}
	for _, v := range append(append([]string{m.From, m.Subject}, m.To...), m.Cc...) {
		if !headerSafe(v) {
			return nil, fmt.Errorf("%w: line breaks in a header", ErrInvalid)
		}
	}
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	hdr("From", m.From)
	hdr("To", strings.Join(m.To, ", "))
	if len(m.Cc) > 0 {
		hdr("Cc", strings.Join(m.Cc, ", "))
	}
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", date.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+randomID()+"@ringo>")
	hdr("MIME-Version", "1.0")
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !headerSafe(k) || !headerSafe(m.Headers[k]) || strings.ContainsAny(k, ": ") {
			return nil, fmt.Errorf("%w: header %q", ErrInvalid, k)
		}
		hdr(k, m.Headers[k])
	}
	ct := m.ContentType
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	if len(m.Attachments) == 0 {
		hdr("Content-Type", ct)
		hdr("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n")
		b.Write(crlf(m.Body))
		return b.Bytes(), nil
	}
	boundary := "ringo-" + randomID()
	hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary, ct)
	b.Write(crlf(m.Body))
	b.WriteString("\r\n")
	for _, a := range m.Attachments {
		act := a.ContentType
		if act == "" {
			act = "application/octet-stream"
		}
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=%q\r\n\r\n",
			boundary, act, a.Filename)
		writeBase64(&b, a.Data)
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// crlf normalises line ends to CRLF and ends the text with one.
func crlf(body []byte) []byte {
	s := strings.ReplaceAll(string(body), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	if !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return []byte(s)
}

func randomID() string {
	var r [12]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}
