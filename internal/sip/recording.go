package sip

import (
	"errors"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/store"
)

// recordingCloseWait bounds how long a call's record waits for its
// recording to be complete on disk; finishing one takes milliseconds.
const recordingCloseWait = 10 * time.Second

// RecordingsDir is where call recordings are kept: the data directory's
// recordings folder. A call record names its files relative to it.
func (s *Server) RecordingsDir() string { return filepath.Join(s.cfg.Data, "recordings") }

// callRecording is a call's recording: wanted when an account of the call
// has recordCalls, made from the answer to the end of an anchored call.
type callRecording struct {
	want    bool
	rec     *media.Recorder
	file    string // relative to the recordings directory, '/'-separated
	started time.Time
}

// recordsCalls reports whether any of the accounts has its calls recorded.
func recordsCalls(accounts ...*store.Account) bool {
	return slices.ContainsFunc(accounts, func(a *store.Account) bool { return a != nil && a.Prefs.RecordCalls })
}

// recordingPath is the file, relative to the recordings directory, of the
// recording of call id in domain answered at t: one folder per domain and
// day (UTC), so that old recordings go by removing folders.
func recordingPath(domain, id string, t time.Time) (string, error) {
	for _, part := range []string{domain, id} {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\\\x00") {
			return "", errors.New("sip: no safe recording file name for call " + id + " in domain " + domain)
		}
	}
	t = t.UTC()
	return path.Join(domain, t.Format("2006"), t.Format("01"), t.Format("02"), id+".wav"), nil
}

// startRecordingLocked starts recording an answered call when it should
// be: caller on the left channel, callee on the right.
func (c *call) startRecordingLocked() {
	if !c.rec.want || c.rec.rec != nil || c.m == nil || c.m.bridge == nil || c.m.b == nil || c.service != "" {
		return
	}
	rel, err := recordingPath(c.callerURI.Host, c.id, c.answered)
	if err != nil {
		c.log.Warn("call not recorded", "error", err)
		return
	}
	// The recorder creates the file on its own goroutine: nothing here
	// waits for the disk while the call is locked.
	rec, err := media.Record(c.m.a, c.m.b, media.RecorderOptions{File: filepath.Join(c.s.RecordingsDir(), filepath.FromSlash(rel))})
	if err != nil {
		c.log.Warn("call not recorded", "error", err)
		return
	}
	c.rec.rec, c.rec.file, c.rec.started = rec, rel, c.answered
	c.log.Info("recording", "file", rel)
}

// stopRecordingLocked ends the call's recording; its file is completed in
// the background.
func (c *call) stopRecordingLocked() {
	if c.rec.rec != nil {
		c.rec.rec.Stop()
	}
}

// recordings lists the call's recording for its record.
func (r *callRecording) recordings() []cdr.Recording {
	if r.rec == nil {
		return nil
	}
	return []cdr.Recording{{File: r.file, Started: r.started}}
}

// recordAfterRecordingLocked writes the call's record once its recording
// is complete on disk, so that whoever finds the record can fetch the
// whole file; a recording that failed is left out of the record.
func (c *call) recordAfterRecordingLocked(r cdr.Record) <-chan struct{} {
	rec, file := c.rec.rec, c.rec.file
	if rec == nil {
		return c.s.record(r)
	}
	s, log := c.s, c.log
	done := make(chan struct{})
	s.recording.Add(1)
	go func() {
		defer s.recording.Done()
		defer close(done)
		select {
		case <-rec.Done():
			res := rec.Result()
			if res.Err != nil {
				log.Error("recording the call failed", "file", file, "error", res.Err)
				r.Recordings = slices.DeleteFunc(r.Recordings, func(x cdr.Recording) bool { return x.File == file })
			} else {
				log.Info("recorded", "file", file, "duration", res.Duration.String(), "end", res.End.String(), "dropped", res.Dropped.String())
			}
		case <-time.After(recordingCloseWait):
			// The file is there, its header marked "size unknown", which
			// players read to the end: keep it listed.
			log.Warn("the call's recording is still being written", "file", file)
		}
		<-s.record(r)
	}()
	return done
}
