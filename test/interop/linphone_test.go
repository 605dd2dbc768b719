package interop_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestLinphoneGRUU calls a real Linphone (linphonec 5.1) registered with
// +sip.instance and "Supported: gruu": Ringo returns a pub-gruu, Linphone
// uses it as the Contact of its dialogs, and the call must work end to end,
// including the in-dialog BYE Ringo sends to that GRUU when the caller
// (baresip 1001, dialling 1002's alias 202) hangs up, and the BYE Linphone
// sends itself.
func TestLinphoneGRUU(t *testing.T) {
	interop(t, "linphonec", "baresip")
	callerWAV, calleeWAV := baresipReady(t)

	t.Run("baresip-hangs-up", func(t *testing.T) { linphoneCall(t, callerWAV, calleeWAV, true) })
	t.Run("linphone-hangs-up", func(t *testing.T) { linphoneCall(t, callerWAV, calleeWAV, false) })
}

func linphoneCall(t *testing.T, callerWAV, calleeWAV string, baresipHangsUp bool) {
	r := startRingo(t, defaultConfig)
	r.provision()

	lp := startLinphone(t, r, "linphone-1002", "1002", "secret1002", calleeWAV)
	caller := startBaresip(t, r, "baresip-1001", "1001", "secret1001", callerWAV, "manual")
	r.waitRegistered("1001@pbx.test", "127.0.0.1:"+itoa(caller.sipPort), 15*time.Second)
	r.waitRegistered("1002@pbx.test", "127.0.0.1:"+itoa(lp.sipPort), 15*time.Second)

	// Linphone asked for a GRUU and Ringo gave it one.
	instance := "urn:uuid:" + lp.uuid
	if b := r.instanceBinding("1002@pbx.test", lp.sipPort); strings.Trim(b.Instance, "<>") != instance {
		t.Errorf("1002's binding %s has instance %q, want <%s> (the +sip.instance of Linphone's REGISTER)", b.Contact, b.Instance, instance)
	}
	lp.waitRegistered(10 * time.Second)
	gruu := lp.checkRegisterGRUU()

	target := "sip:202@" + r.sipAddr()
	resp, err := caller.ctl.command("dial", target, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.OK {
		t.Fatalf("dial %s refused by baresip: %s", target, resp.Raw)
	}
	const step = 15 * time.Second
	if _, err := caller.ctl.waitEvent("CALL_ESTABLISHED", step, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	line, err := lp.expect(`Call \d+ with .* connected\.`, step, `Call \d+ with .* (ended|error)`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linphone: %s", line)
	established := time.Now()
	if _, err := caller.ctl.waitEvent("CALL_RTPESTAB", step, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	// The point of the test: Linphone's dialog Contact is its GRUU.
	if ok := lp.findSIP("sent", func(m sipMsg) bool {
		return strings.HasPrefix(m.startLine(), "SIP/2.0 200") && strings.HasSuffix(m.cseq(), " INVITE")
	}); ok == nil {
		t.Errorf("linphone sent no 200 OK to the INVITE")
	} else if ct := ok.header("Contact"); !strings.Contains(ct, gruu) {
		t.Errorf("linphone's 200 OK to the INVITE has Contact %q, not its GRUU %s: the test does not exercise the GRUU", ct, gruu)
	}

	// Keep the call up for the length of the tone, watching for an early end.
	hold := time.Until(established.Add(time.Duration((toneSec + 1) * float64(time.Second))))
	if ev, err := caller.ctl.waitEvent("CALL_CLOSED", hold); err == nil {
		t.Fatalf("baresip's call closed early (%s) after %v", ev.Param, time.Since(established))
	}
	if line, _ := lp.expect(`Call \d+ with .* (ended|error)`, 0); line != "" {
		t.Fatalf("linphone's call ended early: %s", line)
	}

	if baresipHangsUp {
		if resp, err := caller.ctl.command("hangup", "", 5*time.Second); err != nil {
			t.Fatal(err)
		} else if !resp.OK {
			t.Errorf("baresip: hangup refused: %s", resp.Raw)
		}
		if _, err := caller.ctl.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Error(err)
		}
		// Ringo sends the BYE to Linphone's remote target: its GRUU.
		if line, err := lp.expect(`Call \d+ with .* ended`, 10*time.Second, `Call \d+ with .* error`); err != nil {
			t.Errorf("baresip's hang-up did not end Linphone's call: %v", err)
		} else {
			t.Logf("linphone: %s", line)
		}
		bye := lp.findSIP("received", func(m sipMsg) bool { return strings.HasPrefix(m.startLine(), "BYE ") })
		if bye == nil {
			t.Errorf("linphone received no BYE")
		} else {
			t.Logf("linphone received %s", bye.startLine())
			if !strings.Contains(bye.startLine(), gruu) {
				t.Errorf("the BYE to Linphone has Request-URI %q, want its GRUU %s (its dialog Contact)", bye.startLine(), gruu)
			}
			if lp.findSIP("sent", func(m sipMsg) bool {
				return strings.HasPrefix(m.startLine(), "SIP/2.0 200") && strings.HasSuffix(m.cseq(), " BYE")
			}) == nil {
				t.Errorf("linphone did not answer the BYE with 200 OK")
			}
		}
	} else {
		lp.send("terminate")
		if line, err := lp.expect(`Call \d+ with .* ended`, 10*time.Second, `Call \d+ with .* error`); err != nil {
			t.Error(err)
		} else {
			t.Logf("linphone: %s", line)
		}
		if ev, err := caller.ctl.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Errorf("Linphone's hang-up did not end baresip's call: %v", err)
		} else {
			t.Logf("baresip: CALL_CLOSED (%s)", ev.Param)
		}
		if lp.findSIP("received", func(m sipMsg) bool {
			return strings.HasPrefix(m.startLine(), "SIP/2.0 200") && strings.HasSuffix(m.cseq(), " BYE")
		}) == nil {
			t.Errorf("Linphone's BYE was not answered with 200 OK")
		}
	}

	// Quit both so the recordings are complete on disk.
	lp.quit()
	caller.quit()
	checkTone(t, "linphone heard baresip", lp.recPath, callerTone, calleeTone)
	checkTone(t, "baresip heard linphone", caller.recording("dec"), calleeTone, callerTone)
}

// ---------------------------------------------------------------------------
// linphonec, driven through a FIFO on its stdin.

type linphone struct {
	t        *testing.T
	name     string
	dir      string
	uuid     string // the +sip.instance, without <urn:uuid:...>
	sipPort  int
	recPath  string
	debugLog string
	fifo     *os.File
	proc     *proc

	mu  sync.Mutex
	pos int // output consumed by expect
}

type linphoneConfig struct {
	SIPPort, RTPPort         int
	User, Pass, PBX, PBXHost string
	LocalIP, UUID            string
}

// startLinphone starts linphonec registered to Ringo as user over UDP,
// auto-answering, playing wav into calls and recording what it receives.
func startLinphone(t *testing.T, r *ringo, name, user, pass, wav string) *linphone {
	t.Helper()
	l := &linphone{t: t, name: name, dir: filepath.Join(t.TempDir(), name)}
	// Without its data directory liblinphone opens no SIP listening point.
	if err := os.MkdirAll(filepath.Join(l.dir, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	l.sipPort = freePort(t)
	l.uuid = newUUID(t)
	l.recPath = filepath.Join(l.dir, "rx.wav")
	l.debugLog = filepath.Join(l.dir, "sip.log")
	cfg := linphoneConfig{
		SIPPort: l.sipPort, RTPPort: freeUDPRange(t, 2),
		User: user, Pass: pass, PBX: r.sipAddr(), PBXHost: "127.0.0.1",
		LocalIP: "127.0.0.1", UUID: l.uuid,
	}
	rc := filepath.Join(l.dir, "linphonerc")
	renderTemplate(t, testdata(t, "linphone/linphonerc.tmpl"), rc, cfg)

	// The test holds the FIFO open read-write (which does not block on
	// Linux), so linphonec never sees end of file between commands.
	fifoPath := filepath.Join(l.dir, "stdin.fifo")
	if err := syscall.Mkfifo(fifoPath, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(fifoPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.fifo = f
	t.Cleanup(func() { f.Close() })
	env := []string{"HOME=" + l.dir, "XDG_DATA_HOME=" + filepath.Join(l.dir, ".local", "share"),
		"XDG_CONFIG_HOME=" + filepath.Join(l.dir, ".config")}
	// sh execs linphonec, so the PID is linphonec's.
	l.proc = startProc(t, name, 2*time.Minute, l.dir, env,
		"sh", "-c", `exec linphonec "$@" < "$0"`, fifoPath,
		"-c", rc, "-a", "-S", "-d", "6", "-l", l.debugLog)
	l.proc.grace = 5 * time.Second
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s SIP messages (%s):\n%s", name, l.debugLog, l.sipSummary())
		}
	})
	l.send("soundcard use files")
	l.send("play " + wav)
	l.send("record " + l.recPath)
	return l
}

func newUUID(t *testing.T) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// send writes one command line to linphonec's stdin.
func (l *linphone) send(cmd string) {
	l.t.Helper()
	l.fifo.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := l.fifo.WriteString(cmd + "\n"); err != nil {
		l.t.Fatalf("%s: write %q to stdin: %v", l.name, cmd, err)
	}
}

// expect waits up to timeout for a line of linphonec's output matching
// pattern, after the output consumed by earlier calls, and consumes up to
// it. A line matching abort before it is an error; so is linphonec exiting.
// With timeout 0 it only looks at the output so far ("" if no match).
func (l *linphone) expect(pattern string, timeout time.Duration, abort ...string) (string, error) {
	re := regexp.MustCompile(pattern)
	var abortRe []*regexp.Regexp
	for _, a := range abort {
		abortRe = append(abortRe, regexp.MustCompile(a))
	}
	var line string
	var err error
	waitFor(timeout, func() bool {
		exited := l.proc.exited() // read before the output, so no line is missed
		out := l.proc.output()
		l.mu.Lock()
		defer l.mu.Unlock()
		for l.pos < len(out) {
			end := strings.IndexByte(out[l.pos:], '\n')
			if end < 0 {
				break // an incomplete line: wait for the rest
			}
			s := strings.TrimSpace(out[l.pos : l.pos+end])
			l.pos += end + 1
			if re.MatchString(s) {
				line = s
				return true
			}
			for _, a := range abortRe {
				if a.MatchString(s) {
					err = fmt.Errorf("%s: %q while waiting for /%s/", l.name, s, pattern)
					return true
				}
			}
		}
		if exited {
			err = fmt.Errorf("%s: linphonec exited (code %d) while waiting for /%s/", l.name, l.proc.exitCode, pattern)
			return true
		}
		return false
	})
	if line == "" && err == nil && timeout > 0 {
		err = fmt.Errorf("%s: no output line matching /%s/ within %v", l.name, pattern, timeout)
	}
	return line, err
}

// waitRegistered waits for linphonec's account to reach the registered
// state (Ringo's binding can be visible before linphonec has processed the
// 200 OK), then asks "status register": commands on linphonec's stdin run
// in order, so once it answers, the earlier ones (sound files) are done too.
func (l *linphone) waitRegistered(timeout time.Duration) {
	l.t.Helper()
	ok := waitFor(timeout, func() bool {
		if l.proc.exited() {
			return true
		}
		data, _ := os.ReadFile(l.debugLog)
		return strings.Contains(string(data), "to [LinphoneRegistrationOk]")
	})
	if l.proc.exited() {
		l.t.Fatalf("%s: linphonec exited (code %d) before registering", l.name, l.proc.exitCode)
	}
	if !ok {
		l.t.Fatalf("%s: linphonec's account did not reach LinphoneRegistrationOk within %v", l.name, timeout)
	}
	l.send("status register")
	if _, err := l.expect(`^registered, identity=\S+`, 5*time.Second, `^registered=`); err != nil {
		l.t.Fatal(err)
	}
}

// quit asks linphonec to quit (which finishes the recording) and waits for
// it to exit, then stops it by PID if it does not.
func (l *linphone) quit() {
	l.t.Helper()
	if l.proc.exited() {
		return
	}
	l.send("quit")
	if _, ok := l.proc.wait(10 * time.Second); ok {
		return
	}
	l.t.Logf("%s did not quit within 10s of the quit command; stopping it", l.name)
	l.proc.stop(3 * time.Second)
}

// checkRegisterGRUU checks from Linphone's own log that its REGISTER asked
// for a GRUU and that Ringo's 200 OK gave it one; it returns the GRUU.
func (l *linphone) checkRegisterGRUU() string {
	t := l.t
	t.Helper()
	instance := `+sip.instance="<urn:uuid:` + l.uuid + `>"`
	reg := l.findSIP("sent", func(m sipMsg) bool { return strings.HasPrefix(m.startLine(), "REGISTER ") })
	if reg == nil {
		t.Fatalf("%s: no REGISTER in linphonec's log", l.name)
	}
	if ct := reg.header("Contact"); !strings.Contains(ct, instance) {
		t.Errorf("%s: REGISTER Contact %q lacks %s", l.name, ct, instance)
	}
	if sup := reg.header("Supported"); !regexp.MustCompile(`(?i)(^|[\s,])gruu($|[\s,])`).MatchString(sup) {
		t.Errorf("%s: REGISTER Supported %q lacks gruu", l.name, sup)
	}
	ok := l.findSIP("received", func(m sipMsg) bool {
		return strings.HasPrefix(m.startLine(), "SIP/2.0 200") && strings.HasSuffix(m.cseq(), " REGISTER")
	})
	if ok == nil {
		t.Fatalf("%s: no 200 OK to REGISTER in linphonec's log", l.name)
	}
	m := regexp.MustCompile(`pub-gruu="([^"]+)"`).FindStringSubmatch(ok.header("Contact"))
	if m == nil {
		t.Fatalf("%s: Ringo's 200 OK to a REGISTER with Supported: gruu and +sip.instance has no pub-gruu: Contact %q", l.name, ok.header("Contact"))
	}
	gruu := m[1]
	if !strings.Contains(gruu, ";gr=urn:uuid:"+l.uuid) {
		t.Errorf("%s: pub-gruu %q does not carry gr=urn:uuid:%s", l.name, gruu, l.uuid)
	}
	t.Logf("%s: registered with pub-gruu %s", l.name, gruu)
	return gruu
}

// sipMsg is one SIP message from linphonec's debug log.
type sipMsg struct {
	dir   string // "sent" or "received"
	peer  string
	lines []string
}

func (m sipMsg) startLine() string {
	if len(m.lines) == 0 {
		return ""
	}
	return m.lines[0]
}

// header returns the values of the named header, joined by ", ".
func (m sipMsg) header(name string) string {
	var vals []string
	for _, h := range m.lines[1:] {
		if h == "" {
			break
		}
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return strings.Join(vals, ", ")
}

func (m sipMsg) cseq() string { return m.header("CSeq") }

var (
	lpLogStamp = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3} `)
	lpSent     = regexp.MustCompile(`message sent to \[([^\]]+)\]`)
	lpReceived = regexp.MustCompile(`received \[\d+\] new bytes from \[([^\]]+)\]`)
)

// sipMessages parses the SIP messages linphonec logged (-d 6) as sent or
// received: the message follows the "message sent to"/"received ... from"
// line, up to the next time-stamped log line.
func (l *linphone) sipMessages() []sipMsg {
	data, err := os.ReadFile(l.debugLog)
	if err != nil {
		return nil
	}
	var msgs []sipMsg
	var cur *sipMsg
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if lpLogStamp.MatchString(line) {
			if cur != nil && len(cur.lines) > 0 {
				msgs = append(msgs, *cur)
			}
			cur = nil
			if m := lpSent.FindStringSubmatch(line); m != nil {
				cur = &sipMsg{dir: "sent", peer: m[1]}
			} else if m := lpReceived.FindStringSubmatch(line); m != nil {
				cur = &sipMsg{dir: "received", peer: m[1]}
			}
			continue
		}
		if cur != nil && (len(cur.lines) > 0 || line != "") {
			cur.lines = append(cur.lines, line)
		}
	}
	if cur != nil && len(cur.lines) > 0 {
		msgs = append(msgs, *cur)
	}
	return msgs
}

// findSIP returns the last message in direction dir matching match.
func (l *linphone) findSIP(dir string, match func(sipMsg) bool) *sipMsg {
	msgs := l.sipMessages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].dir == dir && match(msgs[i]) {
			return &msgs[i]
		}
	}
	return nil
}

// sipSummary lists the SIP messages with their key headers, for failures.
func (l *linphone) sipSummary() string {
	var b strings.Builder
	for _, m := range l.sipMessages() {
		arrow := "<-"
		if m.dir == "sent" {
			arrow = "->"
		}
		fmt.Fprintf(&b, "%s %s %s\n", arrow, m.peer, m.startLine())
		for _, h := range []string{"CSeq", "Contact", "Supported", "Route", "Record-Route"} {
			if v := m.header(h); v != "" {
				fmt.Fprintf(&b, "      %s: %s\n", h, v)
			}
		}
	}
	return b.String()
}

// instanceBinding returns the binding of aor whose contact has port, with
// its +sip.instance (not in the shared registration type).
func (r *ringo) instanceBinding(aor string, port int) struct{ Contact, Instance string } {
	r.t.Helper()
	_, body := r.registrations()
	var regs []struct {
		AOR      string `json:"aor"`
		Contact  string `json:"contact"`
		Instance string `json:"instance"`
	}
	if err := json.Unmarshal(body, &regs); err != nil {
		r.t.Fatalf("GET /api/v1/registrations: %v", err)
	}
	for _, reg := range regs {
		if reg.AOR == aor && strings.Contains(reg.Contact, fmt.Sprintf(":%d", port)) {
			return struct{ Contact, Instance string }{reg.Contact, reg.Instance}
		}
	}
	r.t.Fatalf("no binding of %s with port %d in %s", aor, port, body)
	return struct{ Contact, Instance string }{}
}
