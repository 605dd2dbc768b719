package interop_test

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/mail/mailtest"
)

// The company of the CommuniGate article, end to end with real phones: a
// caller dials 200, hears the auto-attendant, presses 1 and reaches Ivanov;
// outside Ivanov's working hours the callback program takes the call,
// reads the caller's number and e-mails it to Ivanov.
const seedDomain = "specialists.test"

// seedCompany provisions the company; hours are Ivanov's working hours.
func seedCompany(hours string) string {
	return fmt.Sprintf(`domains:
  - name: %[1]s
    main: true
    accounts:
      - name: pbx
        realName: Auto-attendant
        aliases: ["200"]
        language: russian
        settings: { departments: [ivanov, petrov, operator], directoryPrefix: "2", directoryDigits: 3 }
        rules:
          - { divert: always, to: "#pbx" }
      - name: ivanov
        password: secret-ivanov
        realName: Иван Иванов
        aliases: ["201"]
        language: russian
        timezone: Europe/Moscow
        workingHours: { mon-sun: "%[2]s" }
        rules:
          - { divert: afterhours, to: "#callback" }
      - name: petrov
        password: secret-petrov
        aliases: ["202"]
        language: russian
      - name: operator
        password: secret-operator
        aliases: ["203"]
        language: russian
      - name: client
        password: secret-client
      - name: sidorov
        password: secret-sidorov
        rules:
          - { divert: unregistered, to: "#voicemail" }
`, seedDomain, hours)
}

type seed struct {
	t      *testing.T
	r      *ringo
	smtp   *mailtest.Server
	caller *baresip
	ivanov *baresip
	dir    string
}

func startSeed(t *testing.T, withSMTP bool) *seed {
	t.Helper()
	s := &seed{t: t, dir: t.TempDir()}
	cfg := defaultConfig
	if withSMTP {
		s.smtp = mailtest.Start(t)
		cfg += "smtp:\n  relay: " + s.smtp.Addr + "\n"
	} else {
		// A relay nobody listens on: sending fails at once.
		cfg += fmt.Sprintf("smtp:\n  relay: 127.0.0.1:%d\n  timeout: 5s\n", freePort(t))
	}
	s.r = startRingo(t, cfg)
	return s
}

func (s *seed) apply(hours string) {
	s.t.Helper()
	p := filepath.Join(s.dir, fmt.Sprintf("company-%d.yaml", time.Now().UnixNano()))
	if err := os.WriteFile(p, []byte(seedCompany(hours)), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.r.apply(p)
}

// phones starts the caller (client) and, answering on its own, Ivanov.
func (s *seed) phones(callerWAV string) {
	t := s.t
	t.Helper()
	ivanovWAV := filepath.Join(s.dir, "ivanov.wav")
	toneWAV(t, ivanovWAV, calleeTone, toneSec, wavSec)
	s.ivanov = startBaresip(t, s.r, "baresip-ivanov", "ivanov", "secret-ivanov", ivanovWAV, "auto")
	s.caller = startBaresip(t, s.r, "baresip-client", "client", "secret-client", callerWAV, "manual")
	s.r.waitRegistered("ivanov@"+seedDomain, "127.0.0.1:"+itoa(s.ivanov.sipPort), 15*time.Second)
	s.r.waitRegistered("client@"+seedDomain, "127.0.0.1:"+itoa(s.caller.sipPort), 15*time.Second)
}

// dial calls number from the caller and waits until it is answered.
func (s *seed) dial(number string) string {
	t := s.t
	t.Helper()
	resp, err := s.caller.ctl.command("dial", "sip:"+number+"@"+s.r.sipAddr(), 5*time.Second)
	if err != nil || !resp.OK {
		t.Fatalf("dial %s: %v %v", number, err, resp.Raw)
	}
	if _, err := s.caller.ctl.waitEvent("CALL_ESTABLISHED", 15*time.Second, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	var id string
	if !waitFor(10*time.Second, func() bool { id = s.liveCall(); return id != "" }) {
		t.Fatal("the call does not show in /api/v1/calls")
	}
	return id
}

func (s *seed) liveCall() string {
	status, body := s.r.api("GET", "/api/v1/calls", s.r.token(), nil)
	if status != 200 {
		return ""
	}
	var calls []struct{ ID string }
	if json.Unmarshal(body, &calls) != nil || len(calls) == 0 {
		return ""
	}
	return calls[0].ID
}

// press sends keys one by one as RFC 4733 events, each once Ringo has
// seen the one before on call id.
func (s *seed) press(id, keys string) {
	t := s.t
	t.Helper()
	for i := range len(keys) {
		if err := s.caller.ctl.send("sndcode", keys[i:i+1]); err != nil {
			t.Fatal(err)
		}
		want := i + 1
		ok := waitFor(10*time.Second, func() bool { return len(s.digits(id)) >= want })
		if !ok {
			t.Fatalf("Ringo saw digits %q of %q", s.digits(id), keys)
		}
	}
}

func (s *seed) digits(id string) string {
	status, body := s.r.api("GET", "/api/v1/calls/"+id, s.r.token(), nil)
	if status != 200 {
		return ""
	}
	var d struct {
		DTMF []struct{ Digit string } `json:"dtmf"`
	}
	json.Unmarshal(body, &d)
	var b strings.Builder
	for _, x := range d.DTMF {
		b.WriteString(x.Digit)
	}
	return b.String()
}

// played waits until Ringo's log shows the program played prompt.
func (s *seed) played(prompt string) {
	s.t.Helper()
	want := " file=" + prompt + " "
	playedIt := func() bool {
		for _, line := range strings.Split(s.r.proc.output(), "\n") {
			if strings.Contains(line, " msg=play ") && strings.Contains(line, want) {
				return true
			}
		}
		return false
	}
	if !waitFor(20*time.Second, playedIt) {
		s.t.Fatalf("the program never played %s; log:\n%s", prompt, tail(s.r.proc.output(), 30))
	}
}

func (s *seed) hangup() {
	s.t.Helper()
	if resp, err := s.caller.ctl.command("hangup", "", 5*time.Second); err != nil || !resp.OK {
		s.t.Fatalf("hangup: %v", err)
	}
	s.caller.ctl.waitEvent("CALL_CLOSED", 10*time.Second)
}

func (s *seed) tasksDone() {
	s.t.Helper()
	if !waitFor(15*time.Second, func() bool {
		status, body := s.r.api("GET", "/api/v1/tasks", s.r.token(), nil)
		return status == 200 && strings.TrimSpace(string(body)) == "[]"
	}) {
		_, body := s.r.api("GET", "/api/v1/tasks", s.r.token(), nil)
		s.t.Fatalf("tasks still running: %s", body)
	}
}

// recorded waits for the call's record and checks how it was routed and
// ended.
func (s *seed) recorded(outcome, kind, target string) {
	s.t.Helper()
	var got string
	ok := waitFor(10*time.Second, func() bool {
		status, body := s.r.api("GET", "/api/v1/cdr/search?limit=5", s.r.token(), nil)
		if status != 200 {
			return false
		}
		var res struct {
			Records []struct {
				Outcome string
				Route   struct{ Kind, Target string }
				DTMF    string
			} `json:"records"`
		}
		if json.Unmarshal(body, &res) != nil || len(res.Records) == 0 {
			return false
		}
		r := res.Records[0]
		got = fmt.Sprintf("%s %s %s dtmf %q", r.Outcome, r.Route.Kind, r.Route.Target, r.DTMF)
		return r.Outcome == outcome && r.Route.Kind == kind && r.Route.Target == target
	})
	if !ok {
		s.t.Fatalf("the call's record: %s, want %s %s %s", got, outcome, kind, target)
	}
}

// subjectOf decodes a received message's Subject.
func subjectOf(t *testing.T, raw string) (subject, to string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("mail: %v\n%s", err, raw)
	}
	dec := new(mime.WordDecoder)
	subject, err = dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return subject, m.Header.Get("To")
}

func TestSeedStory(t *testing.T) {
	interop(t, "baresip")
	baresipReady(t)
	article, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "fixtures", "callback.sppr"))
	haveArticle := fileExists(article)

	// Subtest names stay short: baresip cuts recording paths at 128 bytes.
	t.Run("attendant", func(t *testing.T) {
		s := startSeed(t, true)
		s.apply("00:00-24:00")
		silence := filepath.Join(s.dir, "client.wav")
		toneWAV(t, silence, callerTone, 0.01, wavSec)
		s.phones(silence)
		id := s.dial("200")
		s.played("welcome")
		s.press(id, "1")
		if _, err := s.ivanov.ctl.waitEvent("CALL_ESTABLISHED", 15*time.Second, "CALL_CLOSED"); err != nil {
			t.Fatalf("Ivanov's phone: %v", err)
		}
		s.hangup()
		s.tasksDone()
		s.caller.quit()
		// The caller heard the menu: speech, not silence.
		// The menu is in the first recording (baresip starts another when
		// the transfer's audio begins).
		dumps, _ := filepath.Glob(filepath.Join(s.caller.recDir, "dump-*-dec.wav"))
		if len(dumps) == 0 {
			all, _ := filepath.Glob(filepath.Join(s.caller.recDir, "*"))
			t.Fatalf("the caller recorded nothing: %v", all)
		}
		sort.Strings(dumps)
		rep, err := analyzeTone(dumps[0], 1000, 600)
		if err != nil {
			t.Fatal(err)
		}
		if rep.ActiveSec < 1 {
			t.Fatalf("the caller heard no menu: %s", rep)
		}
	})

	for _, prog := range []struct {
		name    string
		file    string // "" for the stock program
		subject string
		thanks  string
		fail    []string
	}{
		{"stock", "", "Перезвоните по номеру 5551234", "callbackthanks", []string{"callbackfailed"}},
		{"article", article, "Вам надо перезвонить на номер:5551234", "CallbackTrailer", []string{"Failure", "CallbackNotAvailable"}},
	} {
		t.Run("callback-"+prog.name, func(t *testing.T) {
			if prog.file != "" && !haveArticle {
				t.Skipf("%s is absent (../shared is not beside the repository): the article's program is not ours to copy", article)
			}
			for _, smtpUp := range []bool{true, false} {
				t.Run(map[bool]string{true: "mail", false: "nomail"}[smtpUp], func(t *testing.T) {
					s := startSeed(t, smtpUp)
					s.apply("off")
					if prog.file != "" {
						if code, out := runProc(t, "ringo-env-put", 30*time.Second, "", []string{"RINGO_TOKEN=" + s.r.token()},
							s.r.bin, "env", "put", prog.file, "--domain", seedDomain, "--server", s.r.httpURL()); code != 0 {
							t.Fatalf("ringo env put: %d\n%s", code, out)
						}
					}
					silence := filepath.Join(s.dir, "client.wav")
					toneWAV(t, silence, callerTone, 0.01, wavSec)
					s.phones(silence)
					id := s.dial("201")
					s.press(id, "5551234#")
					if smtpUp {
						select {
						case <-s.smtp.Received():
						case <-time.After(15 * time.Second):
							t.Fatal("no e-mail arrived")
						}
						msgs := s.smtp.Messages()
						subject, to := subjectOf(t, msgs[0].Data)
						if subject != prog.subject || !strings.Contains(to, "ivanov@"+seedDomain) {
							t.Fatalf("mail to %q subject %q, want to ivanov@%s subject %q", to, subject, seedDomain, prog.subject)
						}
						s.played(prog.thanks)
					} else {
						for _, p := range prog.fail {
							s.played(p)
						}
					}
					s.hangup()
					s.tasksDone()
					s.recorded("diverted", "app", "callback#ivanov@"+seedDomain)
				})
			}
		})
	}

	// Hanging up during the prompts sends no mail.
	t.Run("hangup", func(t *testing.T) {
		s := startSeed(t, true)
		s.apply("off")
		silence := filepath.Join(s.dir, "client.wav")
		toneWAV(t, silence, callerTone, 0.01, wavSec)
		s.phones(silence)
		s.dial("201")
		s.played("callbackintro")
		s.hangup()
		s.tasksDone()
		if n := len(s.smtp.Messages()); n != 0 {
			t.Fatalf("%d e-mails sent after the caller hung up", n)
		}
	})
}
