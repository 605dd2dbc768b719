package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/mail/mailtest"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// testWAV is a second of a 440 Hz tone as a WAV file.
func testWAV(t *testing.T) []byte {
	t.Helper()
	g, err := dsp.NewToneGenerator(dsp.Tone{Freqs: [2]float64{440}, Levels: [2]float64{-10}}, 8000)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 8000)
	g.Generate(pcm)
	b, err := wav.Encode(wav.Spec{SampleRate: 8000, Channels: 1}, pcm)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// decoded is a received message taken apart by the standard library's
// parsers, which know nothing of how it was written.
type decoded struct {
	header  mail.Header
	subject string
	parts   []decodedPart
}

type decodedPart struct {
	mediaType, filename string
	body                []byte
}

func decode(t *testing.T, data string) decoded {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, data)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject %q: %v", msg.Header.Get("Subject"), err)
	}
	d := decoded{header: msg.Header, subject: subject}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		d.parts = append(d.parts, decodedPart{mt, "", bodyOf(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)})
		return d
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		d.parts = append(d.parts, decodedPart{pt, p.FileName(), bodyOf(t, p.Header.Get("Content-Transfer-Encoding"), p)})
	}
	return d
}

func bodyOf(t *testing.T, cte string, r io.Reader) []byte {
	t.Helper()
	switch strings.ToLower(cte) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s body: %v", cte, err)
	}
	return b
}

func TestSendThroughRelay(t *testing.T) {
	srv := mailtest.Start(t)
	s := newSender(t, Config{Relay: srv.Addr, StartTLS: StartTLSNever})
	recording := testWAV(t)
	subject := "Вам надо перезвонить на номер: 89161234567 — звонивший ждёт ответа с утра"
	err := s.Send(context.Background(), Message{
		From:    "CallbackMailer@example.com",
		To:      []string{"Иван Иванов <ivanov@example.com>"},
		Cc:      []string{"petrov@example.com, sidorov@example.com"},
		Bcc:     []string{"archive@example.com"},
		Subject: subject,
		Header:  []Field{{"X-Priority", "1"}, {"Content-Type", "text/html"}},
		Body: Mixed(
			Text("Номер: 89161234567\nЗвонок в 09:15."),
			Attachment("message.wav", "audio/wav", recording),
		),
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("relay got %d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != "CallbackMailer@example.com" {
		t.Errorf("envelope sender %q", m.From)
	}
	if got := strings.Join(m.To, " "); got != "ivanov@example.com petrov@example.com sidorov@example.com archive@example.com" {
		t.Errorf("envelope recipients %s", got)
	}
	for _, line := range strings.Split(m.Data, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	d := decode(t, m.Data)
	if d.subject != subject {
		t.Errorf("subject %q, want %q", d.subject, subject)
	}
	to, err := d.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Иван Иванов" || to[0].Address != "ivanov@example.com" {
		t.Errorf("To %v (%v)", to, err)
	}
	if cc, _ := d.header.AddressList("Cc"); len(cc) != 2 {
		t.Errorf("Cc %v", cc)
	}
	if d.header.Get("Bcc") != "" || strings.Contains(m.Data, "archive@") {
		t.Error("the Bcc recipient is listed in the message")
	}
	if d.header.Get("X-Priority") != "1" {
		t.Errorf("X-Priority %q", d.header.Get("X-Priority"))
	}
	if _, err := d.header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if id := d.header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	if d.header.Get("MIME-Version") != "1.0" {
		t.Error("no MIME-Version")
	}
	if len(d.parts) != 2 {
		t.Fatalf("%d parts", len(d.parts))
	}
	if p := d.parts[0]; p.mediaType != "text/plain" || string(p.body) != "Номер: 89161234567\r\nЗвонок в 09:15.\r\n" {
		t.Errorf("text part %s %q", p.mediaType, p.body)
	}
	if p := d.parts[1]; p.mediaType != "audio/wav" || p.filename != "message.wav" || !bytes.Equal(p.body, recording) {
		t.Errorf("attachment %s %q, %d bytes (want %d, intact)", p.mediaType, p.filename, len(p.body), len(recording))
	}
	a, err := wav.Decode(d.parts[1].body, wav.Limits{})
	if err != nil || a.Duration() != time.Second {
		t.Errorf("attached WAV: %v %v", a, err)
	}
}

func TestCompose(t *testing.T) {
	base := func() Message {
		return Message{From: "pbx@example.com", To: []string{"a@example.com"}, Subject: "Hello", Body: Text("Hi.\n")}
	}
	tests := []struct {
		name   string
		edit   func(*Message)
		want   []string // substrings of the message
		reject []string // substrings it must not have
		err    string
	}{
		{"ascii text is 7bit", func(*Message) {}, []string{"Subject: Hello\r\n", "Content-Transfer-Encoding: 7bit", "\r\n\r\nHi.\r\n"}, nil, ""},
		{"mostly ascii text is quoted-printable", func(m *Message) { m.Body = Text("Price: 5 €, call 123.") },
			[]string{"quoted-printable", "5 =E2=82=AC"}, nil, ""},
		{"cyrillic text is base64", func(m *Message) { m.Body = Text("Перезвоните") },
			[]string{"Content-Transfer-Encoding: base64", base64.StdEncoding.EncodeToString([]byte("Перезвоните\r\n"))}, nil, ""},
		{"empty body", func(m *Message) { m.Body = Part{} }, []string{"Content-Type: text/plain; charset=utf-8"}, nil, ""},
		{"data is base64", func(m *Message) { m.Body = Part{ContentType: "application/octet-stream", Data: []byte{0, 1, 2}} },
			[]string{"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"}, nil, ""},
		{"given date and id", func(m *Message) {
			m.Date = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
			m.MessageID = "42@pbx.example.com"
		}, []string{"Date: Sun, 01 Mar 2026 09:30:00 +0000", "Message-ID: <42@pbx.example.com>"}, nil, ""},
		{"cyrillic file name", func(m *Message) {
			m.Body = Mixed(Text("x"), Attachment("сообщение.wav", "audio/wav", []byte("RIFF")))
		},
			[]string{"filename*=utf-8''%D1%81"}, nil, ""},
		{"nested multipart", func(m *Message) {
			m.Body = Mixed(Part{ContentType: "multipart/alternative", Parts: []Part{Text("x"), {ContentType: "text/html", Data: []byte("<p>x</p>")}}})
		}, []string{"multipart/mixed", "multipart/alternative", "text/html; charset=utf-8"}, nil, ""},
		{"content fields of the header are ignored", func(m *Message) { m.Header = []Field{{"Content-Type", "text/html"}, {"MIME-Version", "2"}} },
			[]string{"text/plain"}, []string{"text/html", "MIME-Version: 2"}, ""},
		{"reply-to is an address list", func(m *Message) { m.Header = []Field{{"Reply-To", "Отдел продаж <sales@example.com>"}} },
			[]string{"Reply-To: =?utf-8?"}, nil, ""},
		{"header injection", func(m *Message) { m.Subject = "hi\r\nBcc: evil@example.com" }, nil, nil, "line break in the Subject"},
		{"header injection in a field", func(m *Message) { m.Header = []Field{{"X-Note", "a\nb"}} }, nil, nil, "line break"},
		{"bad field name", func(m *Message) { m.Header = []Field{{"X Note", "a"}} }, nil, nil, "field name"},
		{"no sender", func(m *Message) { m.From = "" }, nil, nil, "no sender"},
		{"bad sender", func(m *Message) { m.From = "pbx" }, nil, nil, "From"},
		{"no recipient", func(m *Message) { m.To = nil }, nil, nil, "no recipient"},
		{"bad recipient", func(m *Message) { m.To = []string{"a@example.com, <broken"} }, nil, nil, "To address"},
		{"multipart type without parts", func(m *Message) { m.Body = Part{ContentType: "multipart/mixed"} }, nil, nil, "0 parts"},
		{"bad content type", func(m *Message) { m.Body = Part{ContentType: "audio/"} }, nil, nil, "content type"},
		{"unfoldable line", func(m *Message) { m.Header = []Field{{"X-Long", strings.Repeat("x", 1000)}} }, nil, nil, "line of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(&m)
			raw, err := Compose(m)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an invalid message error mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(raw), w) {
					t.Errorf("lacks %q:\n%s", w, raw)
				}
			}
			for _, w := range tc.reject {
				if strings.Contains(string(raw), w) {
					t.Errorf("has %q:\n%s", w, raw)
				}
			}
			decode(t, string(raw)) // parses
		})
	}
}

// stalled is a relay that takes connections and never says a word.
func stalled(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				<-done
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() { l.Close(); close(done) })
	return l.Addr().String()
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestSendErrors(t *testing.T) {
	addr := mailtest.Start(t).Addr
	msg := Message{From: "a@example.com", To: []string{"b@example.com"}, Body: Text("x")}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		s    *Sender
		ctx  context.Context
		m    Message
		want string
		is   error
	}{
		{"nil sender", nil, context.Background(), msg, "no SMTP relay configured", ErrNoRelay},
		{"no relay", newSender(t, Config{}), context.Background(), msg, "no SMTP relay configured", ErrNoRelay},
		{"rejected recipient", newSender(t, Config{Relay: addr}), context.Background(),
			Message{From: "a@example.com", To: []string{"b@example.com", "nobody@example.com"}}, "RCPT TO:<nobody@example.com>", nil},
		{"no sender anywhere", newSender(t, Config{Relay: addr}), context.Background(), Message{To: []string{"b@example.com"}}, "no sender", ErrInvalid},
		{"too large", newSender(t, Config{Relay: addr, MaxSize: 100}), context.Background(),
			Message{From: "a@example.com", To: []string{"b@example.com"}, Body: Text(strings.Repeat("x", 200))}, "over the limit", ErrInvalid},
		{"relay down", newSender(t, Config{Relay: closedPort(t), Timeout: 5 * time.Second}), context.Background(), msg, "connection refused", nil},
		{"relay silent", newSender(t, Config{Relay: stalled(t), Timeout: 300 * time.Millisecond}), context.Background(), msg, "no answer within 300ms", context.DeadlineExceeded},
		{"cancelled", newSender(t, Config{Relay: stalled(t)}), cancelled, msg, "canceled", context.Canceled},
		{"always without STARTTLS", newSender(t, Config{Relay: addr, StartTLS: StartTLSAlways}), context.Background(), msg, "does not offer STARTTLS", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.s.Send(tc.ctx, tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("%v is not %v", err, tc.is)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// A send blocked on a silent relay ends as soon as its context does.
func TestSendCancelledMidway(t *testing.T) {
	s := newSender(t, Config{Relay: stalled(t), Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := s.Send(ctx, Message{From: "a@example.com", To: []string{"b@example.com"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want cancelled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancelling took %v", d)
	}
}

func TestStartTLSAndAuth(t *testing.T) {
	serverTLS, roots := mailtest.SelfSigned(t)
	users := map[string]string{"pbx": "s3cret"}
	tlsRelay := mailtest.StartWith(t, mailtest.Options{TLS: serverTLS, Users: users})
	plainRelay := mailtest.StartWith(t, mailtest.Options{Users: users})
	trusted := &tls.Config{RootCAs: roots}
	tests := []struct {
		name     string
		srv      *mailtest.Server
		cfg      Config
		wantTLS  bool
		wantUser string
		err      string
	}{
		{"auto encrypts", tlsRelay, Config{TLS: trusted}, true, "", ""},
		{"always encrypts", tlsRelay, Config{StartTLS: StartTLSAlways, TLS: trusted}, true, "", ""},
		{"never stays plain", tlsRelay, Config{StartTLS: StartTLSNever}, false, "", ""},
		{"auto without STARTTLS stays plain", plainRelay, Config{}, false, "", ""},
		{"auth over TLS", tlsRelay, Config{TLS: trusted, Username: "pbx", Password: "s3cret"}, true, "pbx", ""},
		{"auth to a loopback relay in the clear", plainRelay, Config{Username: "pbx", Password: "s3cret"}, false, "pbx", ""},
		{"wrong password", tlsRelay, Config{TLS: trusted, Username: "pbx", Password: "guess"}, false, "", "535"},
		{"untrusted certificate", tlsRelay, Config{}, false, "", "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.srv.Messages())
			tc.cfg.Relay = tc.srv.Addr
			err := newSender(t, tc.cfg).Send(context.Background(),
				Message{From: "pbx@example.com", To: []string{"b@example.com"}, Body: Text("x")})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := tc.srv.Messages()
			if len(msgs) != before+1 {
				t.Fatalf("%d messages", len(msgs)-before)
			}
			if m := msgs[len(msgs)-1]; m.TLS != tc.wantTLS || m.User != tc.wantUser {
				t.Fatalf("TLS %v user %q, want %v %q", m.TLS, m.User, tc.wantTLS, tc.wantUser)
			}
		})
	}
}

func TestDefaultSender(t *testing.T) {
	srv := mailtest.Start(t)
	s := newSender(t, Config{Relay: srv.Addr, From: "Ringo PBX <pbx@example.com>"})
	if err := s.Send(context.Background(), Message{To: []string{"b@example.com"}, Body: Text("x")}); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if m.From != "pbx@example.com" || !strings.Contains(m.Data, "From: \"Ringo PBX\" <pbx@example.com>") {
		t.Fatalf("sender %q:\n%s", m.From, m.Data)
	}
}

func TestNewSenderChecks(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{StartTLS: "sometimes"}, "startTLS"},
		{Config{Relay: "mail.example.com"}, "host:port"},
		{Config{From: "pbx"}, "from"},
	} {
		if _, err := NewSender(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSender(%+v) = %v, want an error mentioning %q", tc.cfg, err, tc.want)
		}
	}
}

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.3.4.5": true,
		"192.168.1.10": false, "mail.example.com": false, "": false} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v", host, got)
		}
	}
}
