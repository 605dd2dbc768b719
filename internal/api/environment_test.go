package api_test

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
)

// newEnvStoreEnv is newAdminEnv with application environments.
func newEnvStoreEnv(t *testing.T) (*env, *envir.Store) {
	t.Helper()
	e := newAdminEnv(t)
	st, err := envir.Open(t.TempDir(), fstest.MapFS{"pbx.sppr": {Data: []byte("stock")}})
	if err != nil {
		t.Fatal(err)
	}
	e.h = e.api.WithEnvironments(st).Handler()
	return e, st
}

// raw sends body as is, with the content type given.
func (e *env) raw(method, path, auth, contentType string, body []byte) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", auth)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
}

func tarOf(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f[0], Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f[1]))}
		if strings.HasPrefix(f[1], "->") {
			hdr = &tar.Header{Name: f[0], Typeflag: tar.TypeSymlink, Linkname: f[1][2:]}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			tw.Write([]byte(f[1]))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func listPaths(t *testing.T, r resp) []string {
	t.Helper()
	wantCode(t, r, http.StatusOK)
	var es []envir.Entry
	r.json(t, &es)
	out := []string{}
	for _, e := range es {
		out = append(out, e.Path)
	}
	return out
}

func TestEnvironmentFiles(t *testing.T) {
	e, _ := newEnvStoreEnv(t)
	const srv = "/api/v1/environments/server/files"
	const dom = "/api/v1/domains/example.com/environment/files"
	wav := []byte("RIFF....WAVEfmt ")
	steps := []struct {
		name, method, path, ctype string
		body                      []byte
		code                      int
		want                      string // in the body
	}{
		{"put", "PUT", srv + "/Welcome.wav", "audio/wav", wav, 200, `"path": "Welcome.wav"`},
		{"put in a language", "PUT", srv + "/Welcome.wav?lang=russian", "", []byte("ru"), 200, `"path": "russian/Welcome.wav"`},
		{"put in a folder", "PUT", srv + "/apps/util.sppr", "", []byte("u"), 200, `"size": 1`},
		{"put in a domain", "PUT", dom + "/Menu.wav", "", []byte("menu"), 200, `"path": "Menu.wav"`},
		{"domain in upper case", "PUT", "/api/v1/domains/EXAMPLE.com/environment/files/Menu2.wav", "", []byte("m"), 200, `"path": "Menu2.wav"`},
		{"no such domain", "PUT", "/api/v1/domains/nowhere.test/environment/files/x.wav", "", []byte("x"), 404, "nowhere.test"},
		{"hidden name", "PUT", srv + "/.profile", "", []byte("x"), 400, "starting with"},
		{"escaped parent", "PUT", srv + "/..%2Fadmin.token", "", []byte("x"), 400, "are not allowed"},
		{"backslash", "PUT", srv + "/a%5Cb.wav", "", []byte("x"), 400, "separated"},
		{"bad language", "PUT", srv + "/x.wav?lang=x%2Fy", "", []byte("x"), 400, "language"},
		{"language twice", "PUT", srv + "/russian/x.wav?lang=russian", "", []byte("x"), 400, "language folder"},
		{"no name", "PUT", srv, "", []byte("x"), 400, "name"},
		{"too large", "PUT", srv + "/big.wav", "", make([]byte, envir.MaxFileSize+1), 413, "too large"},
		{"get", "GET", srv + "/WELCOME.wav", "", nil, 200, string(wav)},
		{"get in a language", "GET", srv + "/welcome.wav?lang=russian", "", nil, 200, "ru"},
		{"get does not fall back", "GET", dom + "/Welcome.wav", "", nil, 404, "not exist"},
		{"get missing", "GET", srv + "/nothing.wav", "", nil, 404, "not exist"},
		{"tar", "POST", srv + "?tar=1", "", tarOf(t, [2]string{"pack/a.wav", "a"}, [2]string{"russian/b.wav", "b"}), 200, `"pack/a.wav"`},
		{"tar by type", "PUT", srv + "?lang=french", "application/x-tar", tarOf(t, [2]string{"c.wav", "c"}), 200, `"french/c.wav"`},
		{"tar to a domain", "POST", dom + "/", "application/x-tar", tarOf(t, [2]string{"d.wav", "d"}), 200, `"d.wav"`},
		{"tar with a link", "POST", srv + "?tar=1", "", tarOf(t, [2]string{"e.wav", "e"}, [2]string{"l.wav", "->/etc/passwd"}), 400, "link"},
		{"tar with a traversal", "POST", srv + "?tar=1", "", tarOf(t, [2]string{"e.wav", "e"}, [2]string{"../e.wav", "e"}), 400, "are not allowed"},
		{"post without tar", "POST", srv, "application/json", []byte("{}"), 400, "archive"},
		{"delete missing", "DELETE", srv + "/nothing.wav", "", nil, 404, "not exist"},
		{"delete", "DELETE", srv + "/apps/UTIL.sppr", "", nil, 204, ""},
		{"delete a folder", "DELETE", srv + "/pack", "", nil, 204, ""},
	}
	for _, st := range steps {
		r := e.raw(st.method, st.path, asServer, st.ctype, st.body)
		if r.code != st.code || !strings.Contains(string(r.body), st.want) {
			t.Fatalf("%s: %s %s = %d %s; want %d with %q", st.name, st.method, st.path, r.code, r.body, st.code, st.want)
		}
		if r.code >= 400 {
			wantCode(t, r, r.code)
		}
	}
	if ct := e.raw("GET", srv+"/Welcome.wav", asServer, "", nil).hdr.Get("Content-Type"); ct != "audio/wav" {
		t.Errorf("Content-Type %q", ct)
	}
	if got, want := listPaths(t, e.do("GET", srv, "")), []string{"Welcome.wav", "french/c.wav", "russian/Welcome.wav", "russian/b.wav"}; !slices.Equal(got, want) {
		t.Errorf("server files %v, want %v", got, want)
	}
	if got, want := listPaths(t, e.do("GET", srv+"/?lang=russian", "")), []string{"russian/Welcome.wav", "russian/b.wav"}; !slices.Equal(got, want) {
		t.Errorf("russian files %v, want %v", got, want)
	}
	if got, want := listPaths(t, e.do("GET", dom, "")), []string{"Menu.wav", "Menu2.wav", "d.wav"}; !slices.Equal(got, want) {
		t.Errorf("domain files %v, want %v", got, want)
	}
	// A removed domain's files go with it.
	wantCode(t, e.do("DELETE", "/api/v1/domains/example.com", ""), http.StatusNoContent)
	wantCode(t, e.do("PUT", "/api/v1/domains/example.com", ""), http.StatusOK)
	if got := listPaths(t, e.do("GET", dom, "")); len(got) != 0 {
		t.Errorf("files of the domain made again: %v", got)
	}
}

// A domain administrator manages its domain's environment only, and never
// the server's.
func TestEnvironmentDomainAdmin(t *testing.T) {
	const srv = "/api/v1/environments/server/files"
	const ex = "/api/v1/domains/example.com/environment/files"
	const ot = "/api/v1/domains/other.test/environment/files"
	tests := []struct {
		method, path           string
		tar                    bool
		server, example, other int
	}{
		{"PUT", srv + "/x.wav", false, 200, 403, 403},
		{"GET", srv, false, 200, 403, 403},
		{"GET", srv + "/x.wav", false, 200, 403, 403},
		{"POST", srv + "?tar=1", true, 200, 403, 403},
		{"DELETE", srv + "/x.wav", false, 204, 403, 403},
		{"PUT", ex + "/x.wav", false, 200, 200, 403},
		{"GET", ex + "?lang=russian", false, 200, 200, 403},
		{"GET", ex + "/x.wav", false, 200, 200, 403},
		{"POST", ex + "?tar=1", true, 200, 200, 403},
		{"DELETE", ex + "/x.wav", false, 204, 204, 403},
		{"PUT", ot + "/x.wav", false, 200, 403, 200},
		{"GET", ot, false, 200, 403, 200},
		{"DELETE", "/api/v1/domains/Other.Test/environment/files/x.wav", false, 204, 403, 204},
	}
	for _, p := range []struct {
		name, auth string
		want       func(server, example, other int) int
	}{
		{"server token", asServer, func(s, _, _ int) int { return s }},
		{"admin of example.com", asExample, func(_, e, _ int) int { return e }},
		{"admin of other.test", asOther, func(_, _, o int) int { return o }},
	} {
		t.Run(p.name, func(t *testing.T) {
			e, _ := newEnvStoreEnv(t)
			for _, tc := range tests {
				body := []byte("data")
				if tc.tar {
					body = tarOf(t, [2]string{"t.wav", "t"})
				}
				if tc.method == "GET" || tc.method == "DELETE" {
					body = nil
				}
				r := e.raw(tc.method, tc.path, p.auth, "", body)
				if want := p.want(tc.server, tc.example, tc.other); r.code != want {
					t.Errorf("%s %s = %d, want %d (%s)", tc.method, tc.path, r.code, want, r.body)
				}
			}
		})
	}
}

// Environment files in a provisioning document: stored, and unchanged when
// applied again.
func TestApplyEnvironment(t *testing.T) {
	e, st := newEnvStoreEnv(t)
	doc := func(welcome string) string {
		d := directory.Doc{
			Server: &directory.ServerDoc{Environment: []directory.EnvFile{
				{File: "prompts/welcome-ru.wav", Name: "Welcome.wav", Lang: "russian", Data: []byte(welcome)},
			}},
			Domains: []directory.DomainDoc{{DomainSpec: directory.DomainSpec{Name: "example.com", Main: true},
				Environment: []directory.EnvFile{{File: "apps/pbx.sppr", Data: []byte("entry Main is end;")}}}},
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	apply := func(body string, changed, unchanged int) []directory.Change {
		t.Helper()
		r := e.do("POST", "/api/v1/apply", body)
		wantCode(t, r, http.StatusOK)
		var rep directory.Report
		r.json(t, &rep)
		if rep.Changed != changed || rep.Unchanged != unchanged {
			t.Fatalf("changed %d, unchanged %d; want %d, %d: %+v", rep.Changed, rep.Unchanged, changed, unchanged, rep.Items)
		}
		return rep.Items
	}
	items := apply(doc("privet"), 2, 1)
	if want := []directory.Change{{Kind: "domain", Name: "example.com"}, {Kind: "file", Name: "russian/Welcome.wav", Changed: true},
		{Kind: "file", Name: "pbx.sppr@example.com", Changed: true}}; !slices.Equal(items, want) {
		t.Errorf("items %+v, want %+v", items, want)
	}
	apply(doc("privet"), 0, 3)
	apply(doc("zdravstvuyte"), 1, 2)
	if f, err := st.Resolve("example.com", "russian", "welcome"); err != nil || f.Layer != envir.LayerServer {
		t.Fatalf("resolve: %+v, %v", f, err)
	} else if b, _ := f.Read(); string(b) != "zdravstvuyte" {
		t.Errorf("content %q", b)
	}
	if f, err := st.Resolve("example.com", "", "pbx.sppr"); err != nil || f.Layer != envir.LayerDomain {
		t.Errorf("the domain's program: %+v, %v", f, err)
	}

	// Bad files are refused before anything changes.
	bad := `{"server": {"environment": [{"name": "../x.wav", "data": "eA=="}, {"name": "y.wav"}]},
  "domains": [{"name": "new.test"}]}`
	r := e.do("POST", "/api/v1/apply", bad)
	wantCode(t, r, http.StatusBadRequest)
	for _, w := range []string{`..`, "y.wav: no content"} {
		if !strings.Contains(string(r.body), w) {
			t.Errorf("error %s lacks %q", r.body, w)
		}
	}
	if _, ok := e.dir.Domain("new.test"); ok {
		t.Error("a refused document changed the directory")
	}
	// The content is base64 in the JSON.
	r = e.do("POST", "/api/v1/apply", `{"domains": [], "server": {"environment": [{"name": "z.txt", "data": "`+base64.StdEncoding.EncodeToString([]byte("zzz"))+`"}]}}`)
	wantCode(t, r, http.StatusOK)
	if f, err := st.Get("", "", "z.txt"); err != nil {
		t.Error(err)
	} else if b, _ := f.Read(); string(b) != "zzz" {
		t.Errorf("z.txt: %q", b)
	}
}

// Without environments, their routes and an apply that sets files say so.
func TestEnvironmentNotKept(t *testing.T) {
	e := newEnv(t)
	wantCode(t, e.do("GET", "/api/v1/environments/server/files", ""), http.StatusServiceUnavailable)
	wantCode(t, e.do("POST", "/api/v1/apply", `{"domains": [], "server": {"environment": [{"name": "z.txt", "data": ""}]}}`), http.StatusServiceUnavailable)
}
