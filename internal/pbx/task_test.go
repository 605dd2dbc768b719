package pbx

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/mail"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/store"
)

// fsEnv serves programs and files from one file system, for tests.
type fsEnv struct{ fsys fs.FS }

func (e fsEnv) Program(ctx context.Context, domain, lang, name string, reg *cgpl.Registry) (*cgpl.Module, error) {
	src, err := fs.ReadFile(e.fsys, name+".sppr")
	if err != nil {
		return nil, err
	}
	return cgpl.Compile(name+".sppr", src, reg)
}

func (e fsEnv) Open(domain, lang, name string) (File, error) {
	data, err := fs.ReadFile(e.fsys, name+".wav")
	if err != nil {
		return File{}, err
	}
	return File{Name: name + ".wav", Data: data}, nil
}

// scriptedCall is a call without a phone: it answers as asked, keeps what
// the program did with it, and has no media (prompts return at once).
type scriptedCall struct {
	mu      sync.Mutex
	mode    callapi.Mode
	h       callapi.Handler
	actions []string
	// transferOK says which targets answer a transfer.
	transferOK map[string]bool
	done       chan struct{} // closed when the program releases the call
	doneOnce   sync.Once
}

func newScriptedCall() *scriptedCall {
	return &scriptedCall{mode: callapi.Incoming, transferOK: map[string]bool{}, done: make(chan struct{})}
}

func (c *scriptedCall) note(s string) {
	c.mu.Lock()
	c.actions = append(c.actions, s)
	c.mu.Unlock()
}

func (c *scriptedCall) release() { c.doneOnce.Do(func() { close(c.done) }) }

func (c *scriptedCall) Actions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{}, c.actions...)
}

func (c *scriptedCall) ID() string                   { return "call1" }
func (c *scriptedCall) SetHandler(h callapi.Handler) { c.h = h }
func (c *scriptedCall) Mode() callapi.Mode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mode
}
func (c *scriptedCall) Accept(context.Context) error {
	c.note("accept")
	c.mu.Lock()
	c.mode = callapi.Connected
	c.mu.Unlock()
	return nil
}
func (c *scriptedCall) Provision(context.Context, bool) error { return nil }
func (c *scriptedCall) Reject(code int, reason string) error {
	c.note("reject")
	c.mu.Lock()
	c.mode = callapi.Disconnected
	c.mu.Unlock()
	c.release()
	return nil
}
func (c *scriptedCall) Redirect(_ context.Context, target string) error {
	c.note("redirect " + target)
	return nil
}
func (c *scriptedCall) Transfer(_ context.Context, target string) error {
	c.note("transfer " + target)
	if !c.transferOK[target] {
		return errors.New("486 Busy Here")
	}
	c.mu.Lock()
	c.mode = callapi.Disconnected
	c.mu.Unlock()
	c.release()
	return nil
}
func (c *scriptedCall) Hangup(reason string) {
	c.note("hangup")
	c.mu.Lock()
	c.mode = callapi.Disconnected
	c.mu.Unlock()
	c.release()
}
func (c *scriptedCall) Session() *media.Session          { return nil }
func (c *scriptedCall) SendDTMF(string) error            { return nil }
func (c *scriptedCall) JoinConference(room string) error { c.note("conference " + room); return nil }
func (c *scriptedCall) ConferenceSize(string) int        { return 0 }
func (c *scriptedCall) Info() callapi.Info {
	return callapi.Info{RemoteURI: "sip:1001@example.com", RequestURI: "sip:200@example.com"}
}

// waitActions waits until the program has done n things with the call.
func (c *scriptedCall) waitActions(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(c.Actions()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the program did only %v", c.Actions())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// press feeds digits to the program as a phone would.
func (c *scriptedCall) press(keys string) {
	for i := range len(keys) {
		c.h.Digit(keys[i])
	}
}

type mailbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (b *mailbox) Send(_ context.Context, m mail.Message) error {
	b.mu.Lock()
	b.sent = append(b.sent, m)
	b.mu.Unlock()
	return nil
}

func stockEnv(t *testing.T) Environments {
	t.Helper()
	return fsEnv{os.DirFS("stock")}
}

func startManager(t *testing.T, env Environments, mb *mailbox) *Manager {
	t.Helper()
	m := NewManager(context.Background(), Config{Env: env, Services: Services{Mail: mb}})
	t.Cleanup(m.Close)
	return m
}

func waitReleased(t *testing.T, c *scriptedCall) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the program did not release the call; it did %v", c.Actions())
	}
}

func TestStockProgramsCompile(t *testing.T) {
	m := startManager(t, stockEnv(t), nil)
	names, _ := fs.Glob(os.DirFS("stock"), "*.sppr")
	if len(names) < 4 {
		t.Fatalf("stock programs: %v", names)
	}
	for _, n := range names {
		src, _ := os.ReadFile("stock/" + n)
		if _, err := cgpl.Compile(n, src, m.Registry()); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestAutoAttendant(t *testing.T) {
	pbx := &store.Account{Name: "pbx", Domain: "example.com", Prefs: store.Prefs{Settings: map[string]any{
		"departments": []any{"sales", "support", "operator"}, "directoryPrefix": "1", "directoryDigits": float64(3),
	}}}
	tests := []struct {
		name   string
		keys   string
		ok     []string // transfer targets that answer
		expect []string
	}{
		// "1" begins an extension, so sales is 2 and support 3.
		{"a department", "3", []string{"support"}, []string{"accept", "transfer support"}},
		{"an extension", "105", []string{"105"}, []string{"accept", "transfer 105"}},
		{"the operator", "0", []string{"operator"}, []string{"accept", "transfer operator"}},
		// After a failed transfer the menu starts again: "2" then "0".
		{"busy, then another", "2,0", []string{"operator"}, []string{"accept", "transfer sales", "transfer operator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := startManager(t, stockEnv(t), nil)
			c := newScriptedCall()
			for _, k := range tt.ok {
				c.transferOK[k] = true
			}
			if _, err := m.Start("pbx", pbx, c, "rule always", nil); err != nil {
				t.Fatal(err)
			}
			for i, keys := range strings.Split(tt.keys, ",") {
				if i > 0 {
					c.waitActions(t, i+1)
				}
				c.press(keys)
			}
			waitReleased(t, c)
			if got := c.Actions(); strings.Join(got, "|") != strings.Join(tt.expect, "|") {
				t.Fatalf("actions %v, want %v", got, tt.expect)
			}
		})
	}
}

func TestAutoAttendantGoesToTheOperatorAfterWrongDigits(t *testing.T) {
	pbx := &store.Account{Name: "pbx", Domain: "example.com", Prefs: store.Prefs{Settings: map[string]any{
		"departments": []any{"sales", "operator"},
	}}}
	m := startManager(t, stockEnv(t), nil)
	c := newScriptedCall()
	c.transferOK["operator"] = true
	if _, err := m.Start("pbx", pbx, c, "", nil); err != nil {
		t.Fatal(err)
	}
	c.press("777")
	waitReleased(t, c)
	if got := strings.Join(c.Actions(), "|"); got != "accept|transfer operator" {
		t.Fatalf("actions %s", got)
	}
}

func TestCallbackMailsTheNumber(t *testing.T) {
	mb := &mailbox{}
	m := startManager(t, stockEnv(t), mb)
	ivanov := &store.Account{Name: "ivanov", Domain: "example.com", Prefs: store.Prefs{Language: "russian"}}
	c := newScriptedCall()
	tk, err := m.Start("callback", ivanov, c, "rule afterhours", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.press("12*3456#")
	waitTask(t, m, tk.ID())
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if len(mb.sent) != 1 {
		t.Fatalf("mails %+v", mb.sent)
	}
	msg := mb.sent[0]
	if msg.To[0] != "ivanov@example.com" || !strings.Contains(msg.Subject, "3456") || strings.Contains(msg.Subject, "12") {
		t.Fatalf("mail %+v", msg)
	}
	if !strings.Contains(msg.Subject, "Перезвоните") {
		t.Errorf("a Russian-speaking account gets a Russian subject: %q", msg.Subject)
	}
}

// waitTask waits until task id has ended.
func waitTask(t *testing.T, m *Manager, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		found := false
		for _, ti := range m.Tasks() {
			found = found || ti.ID == id
		}
		if !found {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("task %s still running", id)
}

func TestTaskEnds(t *testing.T) {
	env := fsEnv{fstest.MapFS{
		"boom.sppr":  {Data: []byte("entry Main is\n  AcceptCall();\n  x = NewArray();\n  x.nope.more = 1;\nend;\n")},
		"wait.sppr":  {Data: []byte("entry Main is\n  loop\n    x = ReadInput(60);\n    exitif IsDisconnectEvent(x);\n  end loop;\n  SysLog(\"gone\");\nend;\n")},
		"quiet.sppr": {Data: []byte("entry Main is\n  null;\nend;\n")},
	}}
	owner := &store.Account{Name: "a", Domain: "example.com"}

	t.Run("a program exception releases the call", func(t *testing.T) {
		m := startManager(t, env, nil)
		c := newScriptedCall()
		if _, err := m.Start("boom", owner, c, "", nil); err != nil {
			t.Fatal(err)
		}
		waitReleased(t, c)
		if got := strings.Join(c.Actions(), "|"); got != "accept|hangup" {
			t.Fatalf("actions %s", got)
		}
	})
	t.Run("a program that decides nothing refuses the call", func(t *testing.T) {
		m := startManager(t, env, nil)
		c := newScriptedCall()
		if _, err := m.Start("quiet", owner, c, "", nil); err != nil {
			t.Fatal(err)
		}
		waitReleased(t, c)
		if got := strings.Join(c.Actions(), "|"); got != "hangup" {
			t.Fatalf("actions %s", got)
		}
	})
	t.Run("the hang-up reaches ReadInput", func(t *testing.T) {
		m := startManager(t, env, nil)
		c := newScriptedCall()
		tk, err := m.Start("wait", owner, c, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.h.Disconnected("hangup")
		waitTask(t, m, tk.ID())
	})
	t.Run("kill", func(t *testing.T) {
		m := startManager(t, env, nil)
		c := newScriptedCall()
		tk, err := m.Start("wait", owner, c, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if list := m.Tasks(); len(list) != 1 || list[0].App != "wait" || list[0].Owner != "a@example.com" {
			t.Fatalf("tasks %+v", list)
		}
		if err := m.Kill(tk.ID()); err != nil {
			t.Fatal(err)
		}
		waitTask(t, m, tk.ID())
		waitReleased(t, c)
		if err := m.Kill(tk.ID()); !errors.Is(err, ErrNoTask) {
			t.Fatalf("second kill: %v", err)
		}
	})
	t.Run("a missing program starts no task", func(t *testing.T) {
		m := startManager(t, env, nil)
		if _, err := m.Start("absent", owner, newScriptedCall(), "", nil); err == nil {
			t.Fatal("started a missing program")
		}
	})
}
