package lib

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
	rmail "github.com/ringo-pbx/ringo/internal/mail"
	"github.com/ringo-pbx/ringo/internal/mail/mailtest"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// run compiles src with funcs and runs its entry Main as a task of
// ivanov@example.com with param as Vars().startParameter; it returns the
// SysLog lines.
func run(t *testing.T, src string, funcs []cgpl.Func, param cgpl.Value) []string {
	t.Helper()
	reg := cgpl.NewRegistry()
	for _, f := range funcs {
		reg.Register(f)
	}
	mod, err := cgpl.Compile("test.sppr", []byte(src), reg)
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []string
	task := mod.NewTask(ctx, cgpl.TaskOptions{Email: "ivanov@example.com", Domain: "example.com", Param: param,
		SysLog: func(l string) { out = append(out, l) }})
	if err := task.Run("Main"); err != nil {
		t.Fatalf("run: %v", err)
	}
	return out
}

func sender(t *testing.T, cfg rmail.Config) *rmail.Sender {
	t.Helper()
	s, err := rmail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// received is a message as a mail reader sees it.
type received struct {
	env     mailtest.Message
	header  mail.Header
	subject string
	parts   []receivedPart
}

type receivedPart struct {
	mediaType, filename string
	body                []byte
}

func parse(t *testing.T, m mailtest.Message) received {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatalf("%v\n%s", err, m.Data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	r := received{env: m, header: msg.Header, subject: subject}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		r.parts = append(r.parts, receivedPart{mt, "", partBody(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)})
		return r
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return r
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		r.parts = append(r.parts, receivedPart{pt, p.FileName(), partBody(t, p.Header.Get("Content-Transfer-Encoding"), p)})
	}
}

func partBody(t *testing.T, cte string, r io.Reader) []byte {
	t.Helper()
	if strings.EqualFold(cte, "base64") {
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toneWAV(t *testing.T) []byte {
	t.Helper()
	pcm := make([]int16, 4000)
	for i := range pcm {
		pcm[i] = int16((i%16 - 8) * 1000)
	}
	b, err := wav.Encode(wav.Spec{SampleRate: 8000, Channels: 1}, pcm)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSendEMail(t *testing.T) {
	srv := mailtest.Start(t)
	out := run(t, `entry Main is
  SysLog(SendEMail("Робот АТС <pbx@example.com>", "Перезвоните по номеру 89161234567", "petrov, sidorov@example.org", null,
    "Звонивший просит перезвонить.\eСпасибо."));
end;`, MailFuncs(sender(t, rmail.Config{Relay: srv.Addr})), nil)
	if strings.Join(out, "|") != "#null#" {
		t.Fatalf("SendEMail returned %v", out)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	r := parse(t, msgs[0])
	if r.env.From != "pbx@example.com" || strings.Join(r.env.To, " ") != "petrov@example.com sidorov@example.org" {
		t.Errorf("envelope %s -> %v", r.env.From, r.env.To)
	}
	if r.subject != "Перезвоните по номеру 89161234567" {
		t.Errorf("subject %q", r.subject)
	}
	from, err := r.header.AddressList("From")
	if err != nil || from[0].Name != "Робот АТС" {
		t.Errorf("From %v %v", from, err)
	}
	if len(r.parts) != 1 || string(r.parts[0].body) != "Звонивший просит перезвонить.\r\nСпасибо.\r\n" {
		t.Errorf("body %+v", r.parts)
	}
}

// Voicemail's way: SubmitEMail with a text and the recording attached.
func TestSubmitEMailWithRecording(t *testing.T) {
	srv := mailtest.Start(t)
	recording := toneWAV(t)
	out := run(t, `entry Main is
  var headers = NewDictionary();
  headers.To = NewArray();
  AddElement(headers.To, "Иван Иванов <ivanov@example.com>");
  headers.Cc = "petrov@example.com";
  headers.Bcc = "archive@example.com";
  headers.Subject = "Голосовое сообщение от +79161234567";
  headers.("X-Priority") = "1";
  headers.Date = "Mon, 02 Mar 2026 10:15:00 +0300";
  headers.("Message-ID") = "vm-42@example.com";
  var attachment = NewDictionary();
  attachment.body = Vars().startParameter;
  attachment.("Content-Type") = "audio";
  attachment.("Content-Subtype") = "wav";
  attachment.filename = "message.wav";
  var parts = NewArray();
  AddElement(parts, "Вам голосовое сообщение.\e");
  AddElement(parts, attachment);
  SysLog(SubmitEMail(headers, parts));
end;`, MailFuncs(sender(t, rmail.Config{Relay: srv.Addr})), cgpl.Data(recording))
	if strings.Join(out, "|") != "#null#" {
		t.Fatalf("SubmitEMail returned %v", out)
	}
	r := parse(t, srv.Messages()[0])
	if r.env.From != "ivanov@example.com" {
		t.Errorf("a message without From comes from the task's owner, not %q", r.env.From)
	}
	if strings.Join(r.env.To, " ") != "ivanov@example.com petrov@example.com archive@example.com" {
		t.Errorf("recipients %v", r.env.To)
	}
	if r.subject != "Голосовое сообщение от +79161234567" || r.header.Get("X-Priority") != "1" ||
		r.header.Get("Message-ID") != "<vm-42@example.com>" || r.header.Get("Bcc") != "" {
		t.Errorf("header %v, subject %q", r.header, r.subject)
	}
	if d, err := r.header.Date(); err != nil || !d.Equal(time.Date(2026, 3, 2, 7, 15, 0, 0, time.UTC)) {
		t.Errorf("Date %v %v", d, err)
	}
	if len(r.parts) != 2 {
		t.Fatalf("parts %+v", r.parts)
	}
	if p := r.parts[0]; p.mediaType != "text/plain" || string(p.body) != "Вам голосовое сообщение.\r\n" {
		t.Errorf("text %s %q", p.mediaType, p.body)
	}
	if p := r.parts[1]; p.mediaType != "audio/wav" || p.filename != "message.wav" || !bytes.Equal(p.body, recording) {
		t.Errorf("attachment %s %q: %d bytes, want %d intact", p.mediaType, p.filename, len(p.body), len(recording))
	}
}

// Failures come back to the program as strings; the task goes on.
func TestMailFailuresAreStrings(t *testing.T) {
	srv := mailtest.Start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	var noSender *rmail.Sender
	tests := []struct {
		name   string
		mailer Mailer
		call   string
		want   string
	}{
		{"no mailer", nil, `SendEMail(null, "s", "a@example.com", null, "x")`, "no SMTP relay configured"},
		{"nil sender", noSender, `SendEMail(null, "s", "a@example.com", null, "x")`, "no SMTP relay configured"},
		{"no relay", sender(t, rmail.Config{}), `SubmitEMail(NewDictionary(), "x")`, "no SMTP relay configured"},
		{"relay down", sender(t, rmail.Config{Relay: down}), `SendEMail(null, "s", "a@example.com", null, "x")`, "connection refused"},
		{"relay silent", sender(t, rmail.Config{Relay: silent.Addr().String(), Timeout: 300 * time.Millisecond}),
			`SendEMail(null, "s", "a@example.com", null, "x")`, "no answer within 300ms"},
		{"refused recipient", sender(t, rmail.Config{Relay: srv.Addr}), `SendEMail(null, "s", "nobody@example.com", null, "x")`, "550"},
		{"no recipient", sender(t, rmail.Config{Relay: srv.Addr}), `SendEMail(null, "s", null, null, "x")`, "no recipient"},
		{"line break in the subject", sender(t, rmail.Config{Relay: srv.Addr}), `SendEMail(null, "a\eb", "a@example.com", null, "x")`, "line break"},
		{"headers not a dictionary", sender(t, rmail.Config{Relay: srv.Addr}), `SubmitEMail("To: a@example.com", "x")`, "must be a dictionary"},
		{"bad date", sender(t, rmail.Config{Relay: srv.Addr}), `SubmitEMail(JSONToObject("{\"To\":\"a@example.com\",\"Date\":\"yesterday\"}"), "x")`, "Date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, "entry Main is\n  SysLog(IsString("+tc.call+"));\n  SysLog("+tc.call+");\n  SysLog(\"after\");\nend;", MailFuncs(tc.mailer), nil)
			if len(out) != 3 || out[0] != "YES" || !strings.Contains(out[1], tc.want) || out[2] != "after" {
				t.Fatalf("got %q, want an error string containing %q", out, tc.want)
			}
		})
	}
}

// The seed article's callback program sends its mail with
// SendEmail("CallbackMailer@"+ MyDomain(), "…"+ accumulator, MyEmail(), null, "").
// That very call, taken from the program, is run here.
func TestSeedSendEmailLine(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "shared", "fixtures", "callback.sppr")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Skip("../shared/fixtures/callback.sppr is not checked out beside the repository (it is the seed article's code, not part of Ringo)")
	}
	call := regexp.MustCompile(`SendEmail\(.*\)\s*!=\s*null`).Find(src)
	if call == nil {
		t.Fatalf("no SendEmail call in %s", path)
	}
	expr := strings.TrimSpace(regexp.MustCompile(`\s*!=\s*null$`).ReplaceAllString(string(call), ""))
	srv := mailtest.Start(t)
	out := run(t, "entry Main is\n  accumulator = \"89161234567\";\n  SysLog("+expr+");\nend;",
		MailFuncs(sender(t, rmail.Config{Relay: srv.Addr})), nil)
	if strings.Join(out, "|") != "#null#" {
		t.Fatalf("%s returned %v", expr, out)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	r := parse(t, msgs[0])
	if r.env.From != "CallbackMailer@example.com" || len(r.env.To) != 1 || r.env.To[0] != "ivanov@example.com" {
		t.Errorf("envelope %s -> %v", r.env.From, r.env.To)
	}
	if r.subject != "Вам надо перезвонить на номер:89161234567" {
		t.Errorf("subject %q", r.subject)
	}
	if len(r.parts) != 1 || len(r.parts[0].body) != 0 {
		t.Errorf("the article sends an empty body: %+v", r.parts)
	}
}

func TestPartOf(t *testing.T) {
	dict := func(kv ...any) *cgpl.Dict {
		d := cgpl.NewDict()
		for i := 0; i < len(kv); i += 2 {
			d.Set(kv[i].(string), kv[i+1].(cgpl.Value))
		}
		return d
	}
	self := cgpl.NewArray()
	self.Elems = append(self.Elems, self)
	tests := []struct {
		name    string
		content cgpl.Value
		want    string // the part's content type, or the error
		parts   int
	}{
		{"null", nil, "text/plain; charset=utf-8", 0},
		{"string", cgpl.String("x"), "text/plain; charset=utf-8", 0},
		{"datablock", cgpl.Data("x"), "application/octet-stream", 0},
		{"number", cgpl.Number(5), "text/plain; charset=utf-8", 0},
		{"empty array", cgpl.NewArray(), "text/plain; charset=utf-8", 0},
		{"array", cgpl.NewArray(cgpl.String("a"), cgpl.Data("b")), "multipart/mixed", 2},
		{"type and subtype", dict("body", cgpl.Data("x"), "Content-Type", cgpl.String("audio"), "Content-Subtype", cgpl.String("wav")), "audio/wav", 0},
		{"full type", dict("body", cgpl.String("<p>x</p>"), "Content-Type", cgpl.String("text/html")), "text/html", 0},
		{"type only", dict("body", cgpl.String("x"), "Content-Type", cgpl.String("text")), "text/plain", 0},
		{"alternative", dict("body", cgpl.NewArray(cgpl.String("a"), cgpl.String("b")), "Content-Subtype", cgpl.String("alternative")), "multipart/alternative", 2},
		{"itself", self, "nested too deep", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := partOf(tc.content, 0)
			got := p.ContentType
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.want) || len(p.Parts) != tc.parts {
				t.Fatalf("got %q with %d parts, want %q with %d", got, len(p.Parts), tc.want, tc.parts)
			}
		})
	}
}
