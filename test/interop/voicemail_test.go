package interop_test

import (
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVoicemail: Sidorov has no phone, so his rule sends the call to the
// voicemail program; the caller speaks (a 1 kHz tone) after the beep and
// hangs up, and Sidorov gets an e-mail whose WAV attachment holds it.
func TestVoicemail(t *testing.T) {
	interop(t, "baresip")
	baresipReady(t)
	s := startSeed(t, true)
	s.apply("00:00-24:00")
	voice := filepath.Join(s.dir, "voice.wav")
	toneWAV(t, voice, callerTone, 30, wavSec)
	s.phones(voice)
	s.dial("sidorov")
	s.played("beep")
	// Three seconds of message: the call's length, not a wait for an event.
	if ev, err := s.caller.ctl.waitEvent("CALL_CLOSED", 3*time.Second); err == nil {
		t.Fatalf("the call closed while recording: %s", ev.Param)
	}
	s.hangup()
	select {
	case <-s.smtp.Received():
	case <-time.After(15 * time.Second):
		t.Fatal("no voicemail e-mail arrived")
	}
	m, err := mail.ReadMessage(strings.NewReader(s.smtp.Messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if to := m.Header.Get("To"); !strings.Contains(to, "sidorov@"+seedDomain) {
		t.Fatalf("voicemail to %q", to)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var wav []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "audio/wav") {
			wav, err = io.ReadAll(p) // multipart decodes quoted-printable; base64 below
			if err != nil {
				t.Fatal(err)
			}
			if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
				wav = decodeBase64(t, wav)
			}
		}
	}
	if len(wav) == 0 {
		t.Fatal("no WAV attachment")
	}
	path := filepath.Join(s.dir, "message.wav")
	if err := os.WriteFile(path, wav, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := analyzeTone(path, callerTone, calleeTone)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("voicemail: %s", rep)
	if rep.ActiveSec < 1.5 || rep.BandRatio < 0.7 {
		t.Fatalf("the message does not hold the caller's tone: %s", rep)
	}
}

func decodeBase64(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		t.Fatalf("attachment: %v", err)
	}
	return out
}
