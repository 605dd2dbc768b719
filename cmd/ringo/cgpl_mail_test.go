package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringo-pbx/ringo/internal/mail/mailtest"
)

// ringo cgpl run lends programs the relay of --smtp and HTTP.
func TestCgplRunMailAndHTTP(t *testing.T) {
	srv := mailtest.Start(t)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "agent 201")
	}))
	defer web.Close()
	prog := filepath.Join(t.TempDir(), "notify.sppr")
	src := "entry Main is\n" +
		"  r = HTTPCall(\"" + web.URL + "/who\", null);\n" +
		"  SysLog(r.responseCode);\n" +
		"  SysLog(SendEMail(\"pbx@example.com\", \"Звонок: \" + r.body, \"ivanov@example.com\", null, \"\"));\n" +
		"end;\n"
	if err := os.WriteFile(prog, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}

	out, code := runCLI(t, "cgpl", "run", "--smtp", srv.Addr, prog)
	if code != 0 || out != "#200\n#null#\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].From != "pbx@example.com" || msgs[0].To[0] != "ivanov@example.com" {
		t.Fatalf("mail %+v", msgs)
	}

	out, code = runCLI(t, "cgpl", "run", prog)
	if code != 0 || !strings.HasSuffix(out, "no SMTP relay configured\n") {
		t.Fatalf("without --smtp: exit %d, output %q", code, out)
	}
}
