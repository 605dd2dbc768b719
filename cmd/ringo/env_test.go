package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringo-pbx/ringo/internal/api"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
	"github.com/ringo-pbx/ringo/internal/sip"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

// envAPIServer runs the admin API with application environments and the
// domain a.test, administered by boss@a.test (password "pw").
func envAPIServer(t *testing.T) (string, *envir.Store) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir, err := directory.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := dir.Apply(ctx, directory.Doc{Domains: []directory.DomainDoc{{DomainSpec: directory.DomainSpec{Name: "a.test"},
		Accounts: []directory.AccountSpec{{Name: "boss", Password: "pw", DomainAdmin: &yes}}}}}); err != nil {
		t.Fatal(err)
	}
	loc, err := sip.NewLocation(ctx, db, log)
	if err != nil {
		t.Fatal(err)
	}
	sipSrv, err := sip.New(config.Default(), log, dir, loc, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	st, err := envir.Open(filepath.Join(t.TempDir(), "environments"), fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(testToken, dir, loc, sipSrv, log, prometheus.NewRegistry()).WithEnvironments(st).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, st
}

func writeTar(t *testing.T, name string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, body := range files {
		hdr := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}
		if target, ok := strings.CutPrefix(body, "->"); ok {
			hdr = &tar.Header{Name: n, Typeflag: tar.TypeSymlink, Linkname: target}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEnvCommands(t *testing.T) {
	url, st := envAPIServer(t)
	t.Setenv("RINGO_TOKEN", testToken)
	dir := t.TempDir()
	t.Chdir(dir)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile("welcome.wav", []byte("RIFF welcome"), 0o644))
	writeTar(t, "pack.tar", map[string]string{"russian/a.wav": "a", "apps/b.sppr": "b"})
	writeTar(t, "evil.tar", map[string]string{"ok.wav": "ok", "link.wav": "->/etc/passwd"})
	steps := []struct {
		args    []string
		code    int
		want    string
		wantNot string
	}{
		{[]string{"env", "put", "welcome.wav"}, 0, "welcome.wav (12 bytes)", ""},
		{[]string{"env", "put", "welcome.wav", "Welcome.wav", "--lang", "russian", "--domain", "a.test"}, 0, "russian/Welcome.wav", ""},
		{[]string{"env", "put", "pack.tar"}, 0, "apps/b.sppr\nrussian/a.wav\n2 files stored", ""},
		{[]string{"env", "put", "pack.tar", "x"}, 1, "give no NAME", ""},
		{[]string{"env", "put", "evil.tar"}, 1, "400", ""},
		{[]string{"env", "put", "welcome.wav", "../x.wav"}, 1, "are not allowed", "PUT"},
		{[]string{"env", "put", "welcome.wav", "--domain", "nowhere.test"}, 1, "404", ""},
		{[]string{"env", "put", "missing.wav"}, 1, "no such file", ""},
		{[]string{"env", "ls"}, 0, "FILE", "ok.wav"},
		{[]string{"env", "ls", "--lang", "russian"}, 0, "russian/a.wav", "welcome.wav"},
		{[]string{"env", "ls", "--domain", "a.test"}, 0, "russian/Welcome.wav", "apps"},
		{[]string{"env", "get", "welcome.wav", "-o", "-"}, 0, "RIFF welcome", ""},
		{[]string{"env", "get", "Welcome.wav", "--lang", "russian", "--domain", "a.test", "-o", "got.wav"}, 0, "wrote got.wav", ""},
		{[]string{"env", "get", "nothing.wav"}, 1, "404", ""},
		{[]string{"env", "rm", "welcome.wav", "apps/b.sppr"}, 0, "", ""},
		{[]string{"env", "rm", "welcome.wav"}, 1, "404", ""},
		{[]string{"env", "ls"}, 0, "russian/a.wav", "welcome.wav"},
	}
	for _, st := range steps {
		out, code := runCLIErr(t, append([]string{"--server", url}, st.args...)...)
		if code != st.code || !strings.Contains(out, st.want) || (st.wantNot != "" && strings.Contains(out, st.wantNot)) {
			t.Fatalf("ringo %s: exit %d, output %q; want exit %d with %q and without %q",
				strings.Join(st.args, " "), code, out, st.code, st.want, st.wantNot)
		}
	}
	if b, err := os.ReadFile("got.wav"); err != nil || string(b) != "RIFF welcome" {
		t.Errorf("got.wav: %q, %v", b, err)
	}
	out, code := runCLIErr(t, "--server", url, "--json", "env", "ls")
	var es []envir.Entry
	if code != 0 || json.Unmarshal([]byte(out), &es) != nil || len(es) != 1 || es[0].Path != "russian/a.wav" || es[0].Size != 1 {
		t.Errorf("env ls --json: exit %d, %s", code, out)
	}
	if _, err := st.Resolve("a.test", "russian", "welcome"); err != nil {
		t.Errorf("the domain's file: %v", err)
	}

	// A domain administrator manages its own domain's files only.
	t.Setenv("RINGO_PASSWORD", "pw")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"env", "put", "got.wav", "--domain", "a.test"}, 0, "got.wav"},
		{[]string{"env", "ls", "--domain", "a.test"}, 0, "got.wav"},
		{[]string{"env", "ls"}, 1, "403"},
		{[]string{"env", "put", "got.wav"}, 1, "403"},
	} {
		out, code := runCLIErr(t, append([]string{"--server", url, "--user", "boss@a.test"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("as boss@a.test, ringo %s: exit %d, output %q", strings.Join(tc.args, " "), code, out)
		}
	}
}

// `ringo apply` sends the environment files a provisioning file names,
// relative to it; applying it again changes nothing.
func TestApplyEnvironmentCommand(t *testing.T) {
	url, st := envAPIServer(t)
	t.Setenv("RINGO_TOKEN", testToken)
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "env", "ru"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "env", "ru", "welcome.wav"), []byte("privet"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "env", "pbx.sppr"), []byte("entry Main is end;"), 0o644))
	yaml := filepath.Join(dir, "company.yaml")
	must(os.WriteFile(yaml, []byte(`server:
  environment:
    - { file: env/ru/welcome.wav, name: Welcome.wav, lang: russian }
domains:
  - name: a.test
    environment:
      - file: env/pbx.sppr
`), 0o644))
	for i, want := range []string{"file russian/Welcome.wav: changed\nfile pbx.sppr@a.test: changed\n2 changed, 1 unchanged", "0 changed, 3 unchanged"} {
		out, code := runCLIErr(t, "--server", url, "apply", "-f", yaml)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("apply %d: exit %d, output %q; want %q", i+1, code, out, want)
		}
	}
	if f, err := st.Resolve("a.test", "russian", "welcome"); err != nil || f.Layer != envir.LayerServer {
		t.Errorf("the server's prompt: %+v, %v", f, err)
	}
	must(os.WriteFile(filepath.Join(dir, "env", "pbx.sppr"), []byte("entry Main is SysLog(1); end;"), 0o644))
	if out, code := runCLIErr(t, "--server", url, "apply", "-f", yaml); code != 0 || !strings.Contains(out, "1 changed, 2 unchanged") {
		t.Fatalf("apply after a change: exit %d, output %q", code, out)
	}

	// Problems are found before anything is sent.
	for name, doc := range map[string]string{
		"missing file": "server:\n  environment:\n    - file: env/nothing.wav\ndomains: []\n",
		"bad name":     "server:\n  environment:\n    - { file: env/pbx.sppr, name: ../pbx.sppr }\ndomains: []\n",
		"no file":      "server:\n  environment:\n    - { name: x.wav }\ndomains: []\n",
		"unknown key":  "server:\n  environment:\n    - { file: env/pbx.sppr, data: eA== }\ndomains: []\n",
		"archive":      "server:\n  environment:\n    - { file: env/pbx.sppr, name: x.tar }\ndomains: []\n",
		"twice":        "server:\n  environment:\n    - { file: env/pbx.sppr }\n    - { file: env/pbx.sppr, name: PBX.sppr }\ndomains: []\n",
		"bad language": "server:\n  environment:\n    - { file: env/pbx.sppr, lang: Russian1 }\ndomains: []\n",
	} {
		bad := filepath.Join(dir, "bad.yaml")
		must(os.WriteFile(bad, []byte(doc), 0o644))
		if out, code := runCLIErr(t, "--server", "http://127.0.0.1:1", "apply", "-f", bad); code == 0 || strings.Contains(out, "127.0.0.1:1") {
			t.Errorf("%s: exit %d, output %q", name, code, out)
		} else {
			t.Logf("%s: %s", name, out)
		}
	}
}
