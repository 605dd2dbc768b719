package pbx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/mail"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/router"
	"github.com/ringo-pbx/ringo/internal/store"
)

// SimConfig is a simulated call: who calls whom, when, and the keys the
// caller presses, in order, each when a program waits for input.
type SimConfig struct {
	Dir  *directory.Directory
	Env  Environments
	From string // the caller, name@domain
	To   string // the address dialled: name@domain, an alias, app#account@domain
	At   time.Time
	DTMF string
	// Unregistered lists accounts whose phones are off; every other account
	// has a phone that answers.
	Unregistered map[string]bool
	// MailFails makes every e-mail fail, as with the relay down.
	MailFails bool
}

// SimLine is one line of a transcript.
type SimLine struct {
	Kind   string        `json:"kind"`
	Task   string        `json:"task,omitempty"` // app#account@domain
	Text   string        `json:"text"`
	File   string        `json:"file,omitempty"`
	Length time.Duration `json:"lengthMs,omitempty"`
	Err    string        `json:"error,omitempty"`
}

// MarshalJSON writes Length in milliseconds.
func (l SimLine) MarshalJSON() ([]byte, error) {
	type plain SimLine
	p := struct {
		plain
		Length int64 `json:"lengthMs,omitempty"`
	}{plain(l), l.Length.Milliseconds()}
	return json.Marshal(p)
}

// Transcript is what a simulated call did.
type Transcript struct{ Lines []SimLine }

// Write prints the transcript as text, one line each.
func (tr *Transcript) Write(w io.Writer) error {
	for _, l := range tr.Lines {
		text := l.Text
		if l.File != "" {
			text += " → " + l.File
			if l.Length > 0 {
				text += fmt.Sprintf(" (%.1fs)", l.Length.Seconds())
			}
		}
		if l.Err != "" {
			text += " [" + l.Err + "]"
		}
		indent := ""
		if l.Task != "" && l.Kind != "start" && l.Kind != "end" {
			indent = "  "
		}
		if _, err := fmt.Fprintln(w, indent+text); err != nil {
			return err
		}
	}
	return nil
}

// sim runs one simulated call.
type sim struct {
	cfg  SimConfig
	m    *Manager
	mu   sync.Mutex
	tr   Transcript
	keys []byte
	wg   sync.WaitGroup // live simulated calls
}

func (s *sim) add(l SimLine) {
	s.mu.Lock()
	s.tr.Lines = append(s.tr.Lines, l)
	s.mu.Unlock()
}

type failingMail struct{}

func (failingMail) Send(context.Context, mail.Message) error {
	return fmt.Errorf("the mail relay is not reachable")
}

type simMail struct{}

func (simMail) Send(context.Context, mail.Message) error { return nil }

// Simulate plays a call through the directory, the callee's rules and
// the programs it reaches, with a caller that presses cfg.DTMF and hangs
// up when it has nothing more to press. No phone, no network: prompts are
// resolved and timed, not played; e-mail is noted, not sent.
func Simulate(ctx context.Context, cfg SimConfig) (*Transcript, error) {
	s := &sim{cfg: cfg, keys: []byte(cfg.DTMF)}
	var mailer Mailer = simMail{}
	if cfg.MailFails {
		mailer = failingMail{}
	}
	start := time.Now()
	s.m = NewManager(ctx, Config{
		Env: cfg.Env, Directory: DirectoryRouter(cfg.Dir), Services: Services{Mail: mailer},
		Log:    discardLog(),
		Now:    func() time.Time { return cfg.At.Add(time.Since(start)) },
		Trace:  s.onTrace,
		OnWait: s.onWait,
	})
	defer s.m.Close()

	from, fromDomain, _ := strings.Cut(cfg.From, "@")
	s.add(SimLine{Kind: "call", Text: fmt.Sprintf("call from %s to %s at %s", cfg.From, cfg.To, cfg.At.Format(time.RFC3339))})
	user, domain, ok := strings.Cut(cfg.To, "@")
	if !ok {
		domain = fromDomain
	}
	if _, known := cfg.Dir.Domain(domain); !known {
		return nil, fmt.Errorf("sim: %s is not a local domain", domain)
	}
	if _, ok := cfg.Dir.Account(fromDomain, from); !ok {
		s.add(SimLine{Kind: "note", Text: "the caller " + cfg.From + " is not a local account"})
	}
	c := s.newCall(cfg.To)
	if app, owner, isApp := strings.Cut(user, "#"); isApp {
		t, err := cfg.Dir.Resolve(owner, domain)
		if err != nil || t.Account == nil {
			s.add(SimLine{Kind: "end", Text: "404 no such account " + owner})
			return &s.tr, nil
		}
		s.startApp(c, app, t.Account, "address")
	} else {
		t, err := cfg.Dir.Resolve(user, domain)
		if err != nil || t.Account == nil {
			s.add(SimLine{Kind: "end", Text: "404 " + user + "@" + domain + " is nobody"})
			return &s.tr, nil
		}
		if len(t.Via) > 0 {
			s.add(SimLine{Kind: "route", Text: "route " + user + " → " + aor(t.Account) + " (" + strings.Join(t.Via, ", ") + ")"})
		}
		s.deliver(c, t.Account, 0)
	}
	s.wg.Wait()
	// The programs may still be ending (the caller hung up); wait for them.
	deadline := time.Now().Add(30 * time.Second)
	for len(s.m.Tasks()) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return &s.tr, nil
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func aor(a *store.Account) string { return a.Name + "@" + a.Domain }

// deliver takes a call to an account: its rules first, then its phones.
func (s *sim) deliver(c *simCall, acc *store.Account, hops int) {
	at := s.m.cfg.Now()
	registered := !s.cfg.Unregistered[aor(acc)]
	if hops < 5 {
		if t, ok := router.Before(acc, at, registered); ok {
			s.add(SimLine{Kind: "rule", Text: fmt.Sprintf("rule %s of %s → %s", t.Kind, aor(acc), t)})
			if t.App != "" {
				s.startApp(c, t.App, acc, "rule "+t.Kind)
				return
			}
			next, err := s.cfg.Dir.Resolve(localPart(t.Address), domainOr(t.Address, acc.Domain))
			if err != nil || next.Account == nil {
				s.add(SimLine{Kind: "note", Text: "the rule's address " + t.Address + " is nobody; ignored"})
			} else {
				s.deliver(c, next.Account, hops+1)
				return
			}
		}
	}
	if !registered {
		s.add(SimLine{Kind: "end", Text: "480 " + aor(acc) + " has no registered phone"})
		c.end()
		return
	}
	s.add(SimLine{Kind: "answer", Text: "answered by " + aor(acc) + "'s phone"})
	c.end()
}

func localPart(addr string) string {
	u, _, _ := strings.Cut(strings.TrimPrefix(addr, "sip:"), "@")
	return u
}

func domainOr(addr, def string) string {
	if _, d, ok := strings.Cut(addr, "@"); ok {
		return d
	}
	return def
}

func (s *sim) startApp(c *simCall, app string, owner *store.Account, via string) {
	c.app, c.owner = app, owner
	if _, err := s.m.Start(app, owner, c, via, nil); err != nil {
		s.add(SimLine{Kind: "end", Text: "404 no program " + app, Err: err.Error()})
		c.end()
	}
}

func (s *sim) onTrace(ev TraceEvent) {
	task := ev.App + "#" + ev.Owner
	l := SimLine{Kind: ev.Kind, Task: task, Err: ev.Err}
	switch ev.Kind {
	case "start":
		l.Text = "task " + task + " started (" + ev.Detail + ")"
	case "end":
		l.Text = "task " + task + " ended"
	case "accept":
		l.Text = "answer the call"
	case "play":
		l.Text, l.File, l.Length = "play "+ev.Detail, ev.File, ev.Length
	case "input":
		l.Text = "key " + ev.Detail
	case "mail":
		l.Text = "mail " + ev.Detail
	case "transfer", "redirect":
		l.Text = ev.Kind + " to " + ev.Detail
	default:
		l.Text = ev.Kind + " " + ev.Detail
	}
	s.add(l)
}

// onWait presses the caller's next key, or hangs up when there is none.
func (s *sim) onWait(tk *Task) {
	s.mu.Lock()
	var k byte
	has := len(s.keys) > 0
	if has {
		k, s.keys = s.keys[0], s.keys[1:]
	}
	s.mu.Unlock()
	c, _ := tk.call.(*simCall)
	if c == nil {
		return
	}
	if has {
		c.h.Digit(k)
		return
	}
	if c.Mode() != callapi.Disconnected {
		s.add(SimLine{Kind: "hangup", Text: "the caller hangs up"})
		c.disconnect("caller hung up")
	}
}

// simCall is a call as a simulated caller makes it.
type simCall struct {
	s     *sim
	to    string
	app   string
	owner *store.Account
	h     callapi.Handler

	mu   sync.Mutex
	mode callapi.Mode
	once sync.Once
}

func (s *sim) newCall(to string) *simCall {
	s.wg.Add(1)
	return &simCall{s: s, to: to, mode: callapi.Incoming}
}

// end is the end of the call as far as the simulation goes.
func (c *simCall) end() {
	c.mu.Lock()
	c.mode = callapi.Disconnected
	c.mu.Unlock()
	c.once.Do(c.s.wg.Done)
}

func (c *simCall) disconnect(reason string) {
	c.end()
	if c.h != nil {
		c.h.Disconnected(reason)
	}
}

func (c *simCall) ID() string                   { return "sim" }
func (c *simCall) SetHandler(h callapi.Handler) { c.h = h }
func (c *simCall) Mode() callapi.Mode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mode
}

func (c *simCall) Accept(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mode == callapi.Disconnected {
		return callapi.ErrDisconnected
	}
	c.mode = callapi.Connected
	return nil
}

func (c *simCall) Provision(context.Context, bool) error { return nil }

func (c *simCall) Reject(code int, reason string) error {
	c.s.add(SimLine{Kind: "end", Text: fmt.Sprintf("%d %s", code, reason)})
	c.end()
	return nil
}

// sendOn takes the call on to target, as a redirect or transfer does: the
// next account's rules and program run before this returns, so that the
// transcript reads in order.
func (c *simCall) sendOn(target string) error {
	domain := c.owner.Domain
	t, err := c.s.cfg.Dir.Resolve(localPart(target), domainOr(target, domain))
	if err != nil || t.Account == nil {
		return fmt.Errorf("%w: %s", callapi.ErrNotFound, target)
	}
	if c.s.cfg.Unregistered[aor(t.Account)] && len(t.Account.Prefs.Rules) == 0 {
		return fmt.Errorf("480 %s has no registered phone", aor(t.Account))
	}
	c.mu.Lock()
	c.mode = callapi.Disconnected
	c.mu.Unlock()
	next := c.s.newCall(target)
	c.s.deliver(next, t.Account, 0)
	c.once.Do(c.s.wg.Done)
	// Wait for what the call does over there, then return.
	c.s.waitCall(next)
	return nil
}

func (s *sim) waitCall(c *simCall) {
	deadline := time.Now().Add(30 * time.Second)
	for c.Mode() != callapi.Disconnected && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		busy := false
		for _, t := range s.m.Tasks() {
			busy = busy || (t.App == c.app && c.owner != nil && t.Owner == aor(c.owner))
		}
		if !busy {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (c *simCall) Redirect(_ context.Context, target string) error { return c.sendOn(target) }
func (c *simCall) Transfer(_ context.Context, target string) error { return c.sendOn(target) }

func (c *simCall) Hangup(reason string) { c.end() }

func (c *simCall) Session() *media.Session { return nil }
func (c *simCall) SendDTMF(string) error   { return nil }
func (c *simCall) JoinConference(room string) error {
	c.s.add(SimLine{Kind: "conference", Text: "join conference room " + room})
	return nil
}
func (c *simCall) ConferenceSize(string) int { return 0 }
func (c *simCall) Info() callapi.Info {
	return callapi.Info{RemoteURI: "sip:" + c.s.cfg.From, LocalURI: "sip:" + c.to, RequestURI: "sip:" + c.to,
		Authenticated: c.s.cfg.From}
}

// DirectoryRouter answers what programs ask about addresses (RouteLocalURI)
// from the directory.
func DirectoryRouter(d *directory.Directory) Directory { return dirRouter{d} }

type dirRouter struct{ d *directory.Directory }

func (r dirRouter) RouteLocal(address, domain string) (string, bool) {
	if r.d == nil {
		return "", false
	}
	t, err := r.d.Resolve(localPart(address), domainOr(address, domain))
	if err != nil || t.Account == nil {
		return "", false
	}
	return aor(t.Account), true
}
