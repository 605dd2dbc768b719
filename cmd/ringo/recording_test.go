package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCDRRecordingCommand(t *testing.T) {
	file := []byte("RIFF....WAVEfmt recording")
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.EscapedPath())
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, `{"error": "missing or wrong bearer token"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/api/v1/cdr/c1/recordings/1" && r.URL.Path != "/api/v1/cdr/c1/recordings/2" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error": "call record c1 has 2 recordings, no recording \"3\""}`))
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(file)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("RINGO_TOKEN", testToken)
	dir := t.TempDir()
	t.Chdir(dir)
	out := filepath.Join(dir, "call.wav")
	tests := []struct {
		name     string
		args     []string
		file     string // where the recording should land; "" for none
		wantPath string
		wantErr  string
	}{
		{"to a file", []string{"c1", "-o", out}, out, "/api/v1/cdr/c1/recordings/1", ""},
		{"default name", []string{"c1", "2"}, filepath.Join(dir, "c1-2.wav"), "/api/v1/cdr/c1/recordings/2", ""},
		{"missing recording", []string{"c1", "3", "-o", filepath.Join(dir, "none.wav")}, "", "/api/v1/cdr/c1/recordings/3", "no recording"},
		{"bad number", []string{"c1", "0"}, "", "", "want 1 or more"},
		{"id with a slash", []string{"a/b", "-o", filepath.Join(dir, "ab.wav")}, "", "/api/v1/cdr/a%2Fb/recordings/1", "404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			paths = nil
			args := append([]string{"cdr", "recording", "--server", srv.URL}, tc.args...)
			got, code := runCLIErr(t, args...)
			if (code != 0) != (tc.wantErr != "") || !strings.Contains(got, tc.wantErr) {
				t.Fatalf("exit %d, output %q; want error %q", code, got, tc.wantErr)
			}
			if tc.wantPath != "" && (len(paths) != 1 || paths[0] != tc.wantPath) {
				t.Fatalf("requested %v, want %s", paths, tc.wantPath)
			}
			if tc.file != "" {
				if b, err := os.ReadFile(tc.file); err != nil || !bytes.Equal(b, file) {
					t.Fatalf("%s: %q, %v", tc.file, b, err)
				}
			}
			// A failed download leaves no file, partial or not.
			if tc.wantErr != "" {
				if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 2 {
					t.Fatalf("files left: %v", left)
				}
			}
		})
	}
	got, code := runCLIErr(t, "cdr", "recording", "--server", srv.URL, "c1", "-o", "-")
	if code != 0 || got != string(file) {
		t.Fatalf("to standard output: %d %q", code, got)
	}
}
