package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// recordingsEnv is newAdminEnv with recordings on disk: rec1 of
// example.com has one, ot-rec of other.test one, and records naming files
// that are missing or outside the directory.
func recordingsEnv(t *testing.T) (e *env, file []byte) {
	t.Helper()
	e = newAdminEnv(t)
	base := t.TempDir()
	dir := filepath.Join(base, "recordings")
	e.api.WithRecordings(dir)
	file, err := wav.Encode(wav.Spec{SampleRate: 8000, Channels: 2}, make([]int16, 16000))
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel string, b []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("example.com/2026/11/23/rec1.wav", file)
	write("other.test/2026/11/23/ot-rec.wav", file)
	if err := os.WriteFile(filepath.Join(base, "secret.wav"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "secret.wav"), filepath.Join(dir, "example.com", "link.wav")); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	rec := func(id, dom string, files ...string) cdr.Record {
		r := cdr.Record{ID: id, Domain: dom, Direction: cdr.Internal, Outcome: cdr.Answered,
			Caller: cdr.Party{Account: "bob"}, Callee: cdr.Party{Account: "alice"},
			Created: end.Add(-time.Minute), Answered: end.Add(-50 * time.Second), Ended: end}
		for _, f := range files {
			r.Recordings = append(r.Recordings, cdr.Recording{File: f, Started: r.Answered})
		}
		r.FillDurations()
		return r
	}
	e.put(rec("rec1", "example.com", "example.com/2026/11/23/rec1.wav"),
		rec("ot-rec", "other.test", "other.test/2026/11/23/ot-rec.wav"),
		rec("gone", "example.com", "example.com/2026/11/23/gone.wav"),
		rec("up", "example.com", "../secret.wav"),
		rec("abs", "example.com", filepath.Join(base, "secret.wav")),
		rec("link", "example.com", "example.com/link.wav"),
		rec("dir", "example.com", "example.com"))
	return e, file
}

func TestCDRRecordingDownload(t *testing.T) {
	e, file := recordingsEnv(t)
	tests := []struct {
		name, path             string
		server, example, other int
	}{
		{"own domain's", "/api/v1/cdr/rec1/recordings/1", 200, 200, 404},
		{"other domain's", "/api/v1/cdr/ot-rec/recordings/1", 200, 404, 200},
		{"no such record", "/api/v1/cdr/nope/recordings/1", 404, 404, 404},
		{"recording 0", "/api/v1/cdr/rec1/recordings/0", 404, 404, 404},
		{"recording 2 of 1", "/api/v1/cdr/rec1/recordings/2", 404, 404, 404},
		{"not a number", "/api/v1/cdr/rec1/recordings/first", 404, 404, 404},
		{"a call without recordings", "/api/v1/cdr/ex1/recordings/1", 404, 404, 404},
		{"file gone", "/api/v1/cdr/gone/recordings/1", 404, 404, 404},
		{"file above the directory", "/api/v1/cdr/up/recordings/1", 404, 404, 404},
		{"absolute file name", "/api/v1/cdr/abs/recordings/1", 404, 404, 404},
		{"link out of the directory", "/api/v1/cdr/link/recordings/1", 404, 404, 404},
		{"a directory", "/api/v1/cdr/dir/recordings/1", 404, 404, 404},
	}
	for _, tc := range tests {
		for _, p := range []struct {
			auth string
			want int
		}{{asServer, tc.server}, {asExample, tc.example}, {asOther, tc.other}} {
			r := e.doAuth("GET", tc.path, "", p.auth)
			if r.code != p.want {
				t.Errorf("%s: %s as %.12s… = %d, want %d (%s)", tc.name, tc.path, p.auth, r.code, p.want, r.body)
				continue
			}
			if r.code != 200 {
				wantCode(t, r, r.code)
				if bytes.Contains(r.body, []byte("secret")) && !strings.Contains(tc.path, "secret") {
					t.Errorf("%s: the answer shows the file: %s", tc.name, r.body)
				}
				continue
			}
			if !bytes.Equal(r.body, file) || r.hdr.Get("Content-Type") != "audio/wav" ||
				!strings.Contains(r.hdr.Get("Content-Disposition"), "attachment") {
				t.Errorf("%s: %d bytes of %s (%s), want the %d-byte file", tc.name, len(r.body), r.hdr.Get("Content-Type"), r.hdr.Get("Content-Disposition"), len(file))
			}
		}
	}
	if r := e.doAuth("GET", "/api/v1/cdr/rec1/recordings/1", "", ""); r.code != http.StatusUnauthorized {
		t.Errorf("without credentials: %d", r.code)
	}
	// A player seeks with Range requests.
	req := httptest.NewRequest("GET", "/api/v1/cdr/rec1/recordings/1", nil)
	req.Header.Set("Authorization", asServer)
	req.Header.Set("Range", "bytes=0-43")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), file[:44]) {
		t.Errorf("range request: %d, %d bytes", w.Code, w.Body.Len())
	}
}

// A domain administrator may turn call recording on for their accounts.
func TestRecordCallsThroughAPI(t *testing.T) {
	e := newAdminEnv(t)
	r := e.doAuth("PUT", "/api/v1/domains/example.com/accounts/bob", `{"recordCalls": true}`, asExample)
	wantCode(t, r, http.StatusOK)
	var got struct {
		Account struct {
			Prefs struct {
				RecordCalls bool `json:"recordCalls"`
			} `json:"prefs"`
		} `json:"account"`
		Changed bool `json:"changed"`
	}
	r.json(t, &got)
	if !got.Account.Prefs.RecordCalls || !got.Changed {
		t.Fatalf("answer %s", r.body)
	}
	if a, _ := e.dir.Account("example.com", "bob"); !a.Prefs.RecordCalls {
		t.Fatal("recordCalls was not kept")
	}
}
