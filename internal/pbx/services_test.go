package pbx

import (
	"context"
	"mime"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
	"github.com/ringo-pbx/ringo/internal/mail"
	"github.com/ringo-pbx/ringo/internal/mail/mailtest"
)

// fakeCall stands in for a call: it answers, records the prompts played and
// feeds scripted DTMF to ReadInput.
type fakeCall struct {
	played []string
	keys   []string
}

func (f *fakeCall) register(reg *cgpl.Registry) {
	reg.Register(cgpl.Func{Name: "AcceptCall", MinArgs: 0, MaxArgs: 0, Fn: func(*cgpl.Task, []cgpl.Value) (cgpl.Value, error) { return nil, nil }})
	reg.Register(cgpl.Func{Name: "PlayFile", MinArgs: 1, MaxArgs: 2, Fn: func(_ *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
		f.played = append(f.played, string(a[0].(cgpl.String)))
		return nil, nil
	}})
	reg.Register(cgpl.Func{Name: "ReadInput", MinArgs: 1, MaxArgs: 1, Fn: func(*cgpl.Task, []cgpl.Value) (cgpl.Value, error) {
		if len(f.keys) == 0 {
			return nil, nil
		}
		k := f.keys[0]
		f.keys = f.keys[1:]
		return cgpl.String(k), nil
	}})
}

// relay is a sender to the test server at addr.
func relay(t *testing.T, addr string) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(mail.Config{Relay: addr})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runProgram(t *testing.T, path string, call *fakeCall, svc Services) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reg := cgpl.NewRegistry()
	Declare(reg)
	RegisterServices(reg, svc)
	call.register(reg)
	mod, err := cgpl.Compile(filepath.Base(path), src, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	task := mod.NewTask(ctx, cgpl.TaskOptions{Email: "ivanov@example.com", Domain: "example.com"})
	if err := task.Run("Main"); err != nil {
		t.Fatal(err)
	}
}

func TestLeaveNumberMailsTheCalledUser(t *testing.T) {
	srv := mailtest.Start(t)
	call := &fakeCall{keys: []string{"5", "*", "1", "2", "3", "#"}}
	runProgram(t, "testdata/leave-number.sppr", call, Services{Mail: relay(t, srv.Addr)})
	if got := strings.Join(call.played, ","); got != "greeting,again,thanks" {
		t.Fatalf("prompts %s", got)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].From != "robot@example.com" || msgs[0].To[0] != "ivanov@example.com" {
		t.Fatalf("mail: %+v", msgs)
	}
	if !strings.Contains(msgs[0].Data, "Please call 123.") || !strings.Contains(msgs[0].Data, "Subject: Call back 123") {
		t.Fatalf("mail content:\n%s", msgs[0].Data)
	}
}

func TestSendEMailFailureIsAString(t *testing.T) {
	call := &fakeCall{keys: []string{"7", "#"}}
	runProgram(t, "testdata/leave-number.sppr", call, Services{}) // no relay
	if got := strings.Join(call.played, ","); got != "greeting,failure" {
		t.Fatalf("prompts %s", got)
	}
}

// TestSeedCallback runs the seed article's callback program with a recorded
// call and a real SMTP server, when ../shared is checked out.
func TestSeedCallback(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "fixtures", "callback.sppr")
	if _, err := os.Stat(path); err != nil {
		t.Skip("../shared/fixtures/callback.sppr is not checked out beside the repository (it is the seed article's code, not part of Ringo)")
	}
	srv := mailtest.Start(t)
	call := &fakeCall{keys: []string{"8", "9", "0", "#"}}
	runProgram(t, path, call, Services{Mail: relay(t, srv.Addr)})
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "ivanov@example.com" {
		t.Fatalf("mail: %+v", msgs)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Вам надо перезвонить на номер:890" {
		t.Fatalf("subject %q (%v)", subject, err)
	}
	if len(call.played) < 5 || call.played[0] != "CallbackBusy" {
		t.Fatalf("prompts %v", call.played)
	}
}

func TestHTTPCall(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			r.ParseForm()
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"caller":"` + r.Form.Get("number") + `","agent":"` + r.Header.Get("X-Token") + `"}`))
			return
		}
		w.WriteHeader(404)
	}))
	defer ts.Close()
	src := `entry Main is
		p = NewDictionary(); p.body = NewDictionary(); p.body.number = "+79161234567";
		p.headers = NewDictionary(); p.headers.("X-Token") = "secret";
		r = HTTPCall("` + ts.URL + `/lookup", p);
		SysLog(r.responseCode);
		SysLog(JSONToObject(r.body).caller);
		SysLog(JSONToObject(r.body).agent);
		SysLog(HTTPCall("` + ts.URL + `/missing", null).responseCode);
		SysLog(IsString(HTTPCall("ftp://example.com/", null)));
	end;`
	reg := cgpl.NewRegistry()
	RegisterServices(reg, Services{HTTP: ts.Client()})
	mod, err := cgpl.Compile("http.sppr", []byte(src), reg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = mod.NewTask(context.Background(), cgpl.TaskOptions{SysLog: func(l string) { out = append(out, l) }}).Run("")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out, "|"); got != "#200|+79161234567|secret|#404|YES" {
		t.Fatalf("SysLog %s", got)
	}
}
