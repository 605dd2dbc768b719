package lib

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
	rmail "github.com/ringo-pbx/ringo/internal/mail"
	"github.com/ringo-pbx/ringo/internal/mail/mailtest"
)

// crm is a web service as integrators have them: it looks callers up,
// echoes requests and misbehaves on demand.
func crm(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /lookup", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "secret" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"caller":"`+r.URL.Query().Get("number")+`","agent":"201","name":"Иван"}`)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		user, pass, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Method", r.Method)
		io.WriteString(w, r.Method+" "+r.Header.Get("Content-Type")+" "+user+":"+pass+" "+string(b))
	})
	mux.HandleFunc("/wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write([]byte("RIFF\x00\x01WAVE"))
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2000)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func TestHTTPCall(t *testing.T) {
	ts := crm(t)
	funcs := HTTPConfig{Client: ts.Client(), MaxBody: 1000, Timeout: 300 * time.Millisecond}.Funcs()
	tests := []struct {
		name string
		prog string // statements; r holds the result
		want string // SysLog lines joined by |
	}{
		{"lookup", `p = NewDictionary(); p.urlParameters = NewDictionary(); p.urlParameters.number = "+79161234567";
			p.headers = NewDictionary(); p.headers.("X-Token") = "secret";
			r = HTTPCall(URL + "/lookup", p);
			SysLog(r.responseCode); SysLog(r.responseText); SysLog(r.("Content-Type"));
			j = JSONToObject(r.body); SysLog(j.caller); SysLog(j.name); SysLog(IsString(r.headers.("Content-Length")));`,
			`#200|OK|application/json|+79161234567|Иван|YES`},
		{"error status is a result", `r = HTTPCall(URL + "/lookup", null); SysLog(r.responseCode); SysLog(r.body);`, "#403|forbidden\n"},
		{"form post", `p = NewDictionary(); p.body = NewDictionary(); p.body.number = "8 916"; r = HTTPCall(URL + "/echo", p); SysLog(r.body);`,
			"POST application/x-www-form-urlencoded : number=8+916"},
		{"string body with a type", `p = NewDictionary(); p.method = "put"; p.body = "{}"; p.("Content-Type") = "application"; p.("Content-Subtype") = "json";
			p.authName = "pbx"; p.authPassword = "pw"; r = HTTPCall(URL + "/echo", p); SysLog(r.body); SysLog(r.headers.("X-Method"));`,
			"PUT application/json pbx:pw {}|PUT"},
		{"datablock body", `p = NewDictionary(); p.body = Vars().startParameter; r = HTTPCall(URL + "/echo", p); SysLog(r.body);`,
			"POST application/octet-stream : RIFF"},
		{"binary answer is a datablock", `r = HTTPCall(URL + "/wav", null); SysLog(IsData(r.body)); SysLog(Length(r.body));`, "YES|#10"},
		{"no content", `r = HTTPCall(URL + "/empty", null); SysLog(r.responseCode); SysLog(r.body);`, "#204|#null#"},
		{"too large", `SysLog(HTTPCall(URL + "/big", null));`, "HTTPCall GET " + ts.URL + "/big: the response body is over the limit of 1000 bytes"},
		{"slow", `SysLog(HTTPCall(URL + "/slow", null));`, "HTTPCall GET " + ts.URL + "/slow: no answer within 300ms"},
		{"not http", `SysLog(HTTPCall("ftp://example.com/x", null));`, `HTTPCall: not an http or https URL: "ftp://example.com/x"`},
		{"not a URL string", `SysLog(HTTPCall(5, null));`, "HTTPCall: the URL must be a string"},
		{"params not a dictionary", `SysLog(HTTPCall(URL, "x"));`, "HTTPCall: the parameters must be a dictionary or null"},
		{"nobody there", `SysLog(IsString(HTTPCall("http://127.0.0.1:1/", null)));`, "YES"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "entry Main is\n  URL = \"" + ts.URL + "\";\n  " + tc.prog + "\nend;"
			out := run(t, src, funcs, cgpl.Data("RIFF"))
			if got := strings.Join(out, "|"); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestHTTPCallUnavailable(t *testing.T) {
	out := run(t, `entry Main is SysLog(HTTPCall("http://127.0.0.1/", null)); end;`, HTTPFuncs(nil), nil)
	if strings.Join(out, "|") != "HTTP is not available" {
		t.Fatalf("got %v", out)
	}
}

// A program that looks the caller up in a CRM and mails the agent, as an
// integrator's would.
func TestHTTPCallThenSendEMail(t *testing.T) {
	ts := crm(t)
	srv := mailtest.Start(t)
	s, err := rmail.NewSender(rmail.Config{Relay: srv.Addr})
	if err != nil {
		t.Fatal(err)
	}
	funcs := append(HTTPFuncs(ts.Client()), MailFuncs(s)...)
	out := run(t, `entry Main is
  p = NewDictionary(); p.urlParameters = NewDictionary(); p.urlParameters.number = "+79161234567";
  p.headers = NewDictionary(); p.headers.("X-Token") = "secret";
  r = HTTPCall("`+ts.URL+`/lookup", p);
  if not IsDictionary(r) or r.responseCode != 200 then SysLog("lookup failed"); stop; end if;
  who = JSONToObject(r.body);
  SysLog(SendEMail(null, "Звонок от " + who.name, "agent" + who.agent, null, "Номер: " + who.caller));
end;`, funcs, nil)
	if strings.Join(out, "|") != "#null#" {
		t.Fatalf("got %v", out)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "agent201@example.com" {
		t.Fatalf("mail %+v", msgs)
	}
	if r := parse(t, msgs[0]); r.subject != "Звонок от Иван" || string(r.parts[0].body) != "Номер: +79161234567\r\n" {
		t.Fatalf("subject %q body %q", r.subject, r.parts[0].body)
	}
}
