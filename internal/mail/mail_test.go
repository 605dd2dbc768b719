package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/mail/mailtest"
)

func TestSendThroughRelay(t *testing.T) {
	srv := mailtest.Start(t)
	s := &Sender{Addr: srv.Addr}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Send(ctx, Message{
		From: "CallbackMailer@example.com", To: []string{"Иван Иванов <ivanov@example.com>"},
		Subject: "Вам надо перезвонить", Body: []byte("Номер: 1234\n"),
		Headers:     map[string]string{"X-Ringo-Call": "42"},
		Attachments: []Attachment{{Filename: "message.wav", ContentType: "audio/wav", Data: []byte("RIFF....WAVE")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("relay got %d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != "CallbackMailer@example.com" || len(m.To) != 1 || m.To[0] != "ivanov@example.com" {
		t.Fatalf("envelope %q → %q", m.From, m.To)
	}
	for _, want := range []string{"Subject: =?utf-8?q?", "X-Ringo-Call: 42", "Номер: 1234\r\n", "multipart/mixed",
		`filename="message.wav"`, "UklGRi4uLi5XQVZF"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Data)
		}
	}
}

func TestSendErrors(t *testing.T) {
	addr := mailtest.Start(t).Addr
	ctx := context.Background()
	cases := []struct {
		name string
		s    *Sender
		m    Message
		want string
	}{
		{"no relay", &Sender{}, Message{From: "a@x", To: []string{"b@x"}}, "no mail relay"},
		{"rejected recipient", &Sender{Addr: addr}, Message{From: "a@x", To: []string{"nobody@x"}}, "550"},
		{"header injection", &Sender{Addr: addr}, Message{From: "a@x", To: []string{"b@x"}, Subject: "hi\r\nBcc: evil@x"}, "line breaks"},
		{"no recipient", &Sender{Addr: addr}, Message{From: "a@x"}, "recipient"},
		{"relay down", &Sender{Addr: "127.0.0.1:1", Timeout: time.Second}, Message{From: "a@x", To: []string{"b@x"}}, "smtp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Send(ctx, tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
