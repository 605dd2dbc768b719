package api

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ringo-pbx/ringo/internal/store"
)

// WithRecordings serves call recordings from dir instead of the SIP
// server's recordings directory.
func (s *Server) WithRecordings(dir string) *Server {
	s.recordings = dir
	return s
}

func (s *Server) recordingsDir() string {
	if s.recordings == "" && s.sip != nil {
		return s.sip.RecordingsDir()
	}
	return s.recordings
}

// cdrRecording streams recording n (counted from 1) of a call record as
// WAV, to whoever may read the record.
func (s *Server) cdrRecording(w http.ResponseWriter, r *http.Request) {
	if s.cdr == nil {
		writeError(w, http.StatusServiceUnavailable, "call records are not kept by this server")
		return
	}
	id := r.PathValue("id")
	rec, err := s.cdr.Get(r.Context(), id)
	// As for the record itself: another domain's looks like a missing one.
	if errors.Is(err, store.ErrNotFound) || (err == nil && !who(r).sees(rec)) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("call record %s: %v", id, store.ErrNotFound))
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(rec.Recordings) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("call record %s has %d recordings, no recording %q", id, len(rec.Recordings), r.PathValue("n")))
		return
	}
	name := rec.Recordings[n-1].File
	missing := fmt.Sprintf("recording %d of call %s: the file is not there", n, id)
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) {
		// Ringo writes only names inside the directory: this one was put
		// in the record some other way, and is not followed.
		s.log.Warn("call record names a recording outside the recordings directory", "call", id, "file", name)
		writeError(w, http.StatusNotFound, missing)
		return
	}
	// The root keeps symbolic links from leading out of the directory too.
	root, err := os.OpenRoot(s.recordingsDir())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			writeError(w, http.StatusNotFound, missing)
			return
		}
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("recordings directory: %v", err))
		return
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("call recording not served", "call", id, "file", name, "error", err)
		}
		writeError(w, http.StatusNotFound, missing)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, missing)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("%s-%d.wav", id, n)}))
	// ServeContent answers Range requests, so a player can seek.
	http.ServeContent(w, r, "", st.ModTime(), f)
}
