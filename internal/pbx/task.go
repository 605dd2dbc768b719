package pbx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
	"github.com/ringo-pbx/ringo/internal/store"
)

// File is an environment file a task reads: a file on disk (Path) or one
// held in memory (the stock environment's, Data), named Name.
type File struct {
	Layer string // domain, server or stock
	Name  string
	Path  string
	Data  []byte
}

// Environments find the programs and files of tasks: for an account of
// domain, in language lang, the domain's files, then the server's, then
// the stock ones.
type Environments interface {
	Program(ctx context.Context, domain, lang, name string, reg *cgpl.Registry) (*cgpl.Module, error)
	Open(domain, lang, name string) (File, error)
}

// Directory answers what tasks ask about addresses.
type Directory interface {
	// RouteLocal returns the account name@domain an address reaches, or
	// false.
	RouteLocal(address, domain string) (string, bool)
}

// Config is what a Manager needs.
type Config struct {
	Env       Environments
	Directory Directory // may be nil
	Services  Services
	Prompts   *media.PromptCache // nil: a private one
	Log       *slog.Logger
	// Limits bound each task (cgpl.DefaultLimits when zero).
	Limits cgpl.Limits
	// MaxTasks bounds the live tasks (10000 when 0).
	MaxTasks int
	// Now is the tasks' clock (time.Now when nil): `ringo sim` runs a call
	// at another time.
	Now func() time.Time
	// Trace, when set, hears what every task does.
	Trace func(TraceEvent)
	// OnWait, when set, is called when a task is about to wait for input
	// with none buffered: a simulated caller presses its next key there.
	OnWait func(tk *Task)
}

// Manager runs PBX tasks: one goroutine per task, each running a CG/PL
// program with the call-control built-ins bound to its call.
type Manager struct {
	cfg  Config
	reg  *cgpl.Registry
	hub  *cgpl.Hub
	ctx  context.Context
	stop context.CancelFunc
	seq  atomic.Uint64
	wg   sync.WaitGroup

	mu    sync.Mutex
	tasks map[string]*Task

	hostFuncs *cgpl.Host
}

// NewManager makes a manager whose tasks end when ctx does.
func NewManager(ctx context.Context, cfg Config) *Manager {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Prompts == nil {
		cfg.Prompts = media.NewPromptCache(64<<20, promptLimits)
	}
	if cfg.MaxTasks <= 0 {
		cfg.MaxTasks = 10000
	}
	if cfg.Services.Mail != nil {
		cfg.Services.Mail = tracingMailer{cfg.Services.Mail}
	}
	reg := cgpl.NewRegistry()
	Declare(reg)
	RegisterServices(reg, cfg.Services)
	registerCallFuncs(reg)
	ctx, stop := context.WithCancel(ctx)
	m := &Manager{cfg: cfg, reg: reg, hub: cgpl.NewHub(cgpl.DefaultHubLimits()), ctx: ctx, stop: stop,
		tasks: map[string]*Task{}}
	m.hostFuncs = m.host()
	return m
}

// Registry is the built-ins tasks see, for checking programs.
func (m *Manager) Registry() *cgpl.Registry { return m.reg }

// Close kills every task and waits for them to end.
func (m *Manager) Close() {
	m.stop()
	m.wg.Wait()
}

// Task is one running program.
type Task struct {
	m       *Manager
	id      string
	app     string
	owner   *store.Account
	via     string
	started time.Time
	cancel  context.CancelFunc
	t       *cgpl.Task
	call    callapi.Call // nil for a task without a call
	log     *slog.Logger

	// Digits wait here for ReadInput; wake is signalled on each.
	mu        sync.Mutex
	dtmf      []byte
	wake      chan struct{}
	gone      chan struct{} // closed when the call leaves the task
	goneOnce  sync.Once
	interrupt bool // SetInterruptOnDTMF
	bridging  bridgeState

	// Media state, used by the task's own goroutine only.
	player    *media.Player
	playerOn  *media.Session
	playback  *media.Playback
	played    time.Duration
	completed bool
	startAt   time.Duration
}

// TaskInfo describes a task for the API.
type TaskInfo struct {
	ID      string    `json:"id"`
	App     string    `json:"app"`
	Owner   string    `json:"owner"`
	Call    string    `json:"call,omitempty"`
	Mode    string    `json:"mode"`
	Via     string    `json:"via,omitempty"`
	Started time.Time `json:"started"`
}

func (tk *Task) info() TaskInfo {
	in := TaskInfo{ID: tk.id, App: tk.app, Owner: tk.owner.Name + "@" + tk.owner.Domain, Via: tk.via,
		Started: tk.started, Mode: callapi.Disconnected.String()}
	if tk.call != nil {
		in.Call = tk.call.ID()
		in.Mode = tk.call.Mode().String()
	}
	return in
}

// Tasks lists the live tasks, oldest first.
func (m *Manager) Tasks() []TaskInfo {
	m.mu.Lock()
	list := make([]*Task, 0, len(m.tasks))
	for _, t := range m.tasks {
		list = append(list, t)
	}
	m.mu.Unlock()
	out := make([]TaskInfo, 0, len(list))
	for _, t := range list {
		out = append(out, t.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// ErrNoTask means no live task has the id.
var ErrNoTask = errors.New("no such task")

// Kill ends a task: its program stops at once and its call, if it still
// holds one, is released.
func (m *Manager) Kill(id string) error {
	m.mu.Lock()
	t := m.tasks[id]
	m.mu.Unlock()
	if t == nil {
		return fmt.Errorf("%w: %s", ErrNoTask, id)
	}
	t.cancel()
	return nil
}

// StartCall implements the SIP server's Apps: it runs app as owner's task
// with c pending.
func (m *Manager) StartCall(app string, owner *store.Account, c callapi.Call, via string) error {
	_, err := m.Start(app, owner, c, via, nil)
	return err
}

// Start runs program app as a task of owner, with call c (nil for none)
// and param as Vars().startParameter. It returns once the program is
// compiled and the task started; a program that is missing or does not
// compile is an error and no task starts.
func (m *Manager) Start(app string, owner *store.Account, c callapi.Call, via string, param cgpl.Value) (*Task, error) {
	if err := m.ctx.Err(); err != nil {
		return nil, err
	}
	lang := owner.Prefs.Language
	mod, err := m.cfg.Env.Program(m.ctx, owner.Domain, lang, app, m.reg)
	if err != nil {
		return nil, fmt.Errorf("program %s: %w", app, err)
	}
	m.mu.Lock()
	if len(m.tasks) >= m.cfg.MaxTasks {
		m.mu.Unlock()
		return nil, fmt.Errorf("program %s: too many tasks (%d)", app, m.cfg.MaxTasks)
	}
	id := "t" + strconv.FormatUint(m.seq.Add(1), 36)
	ctx, cancel := context.WithCancel(m.ctx)
	tk := &Task{m: m, id: id, app: app, owner: owner, via: via, started: time.Now(), cancel: cancel, call: c,
		wake: make(chan struct{}, 1), gone: make(chan struct{}), interrupt: true,
		log: m.cfg.Log.With("task", id, "app", app, "owner", owner.Name+"@"+owner.Domain)}
	if c != nil {
		tk.log = tk.log.With("call", c.ID())
	}
	var zone *time.Location
	if tz := owner.Prefs.Timezone; tz != "" {
		if z, err := time.LoadLocation(tz); err == nil {
			zone = z
		}
	}
	// The loaders follow the task's language as SetLanguage changes it.
	ctx = envir.WithLanguage(ctx, func() string { return tk.t.Language() })
	ctx = context.WithValue(ctx, taskKey{}, tk)
	tk.t = mod.NewTask(ctx, cgpl.TaskOptions{
		Limits: m.cfg.Limits,
		SysLog: func(line string) { tk.log.Info("SysLog", "line", line) },
		Email:  owner.Name + "@" + owner.Domain, Domain: owner.Domain,
		Param: param, Data: tk, Zone: zone, Language: lang, Hub: m.hub, Host: m.hostFuncs, Now: m.cfg.Now,
		OnExit: func(t *cgpl.Task, err error) {
			if err != nil && !errors.Is(err, context.Canceled) {
				tk.log.Warn("spawned task failed", "error", err)
			}
		},
	})
	m.tasks[id] = tk
	m.wg.Add(1)
	m.mu.Unlock()
	if c != nil {
		c.SetHandler(tk)
	}
	go tk.run()
	return tk, nil
}

// ID is the task's id.
func (tk *Task) ID() string { return tk.id }

func (tk *Task) run() {
	m := tk.m
	defer m.wg.Done()
	defer func() {
		m.mu.Lock()
		delete(m.tasks, tk.id)
		m.mu.Unlock()
	}()
	defer tk.cancel()
	tk.log.Info("task started", "via", tk.via)
	tk.trace(TraceEvent{Kind: "start", Detail: tk.via})
	err := tk.t.Run("Main")
	var rt *cgpl.RuntimeError
	switch {
	case errors.As(err, &rt):
		tk.log.Warn("program exception", "error", err)
		tk.trace(TraceEvent{Kind: "exception", Err: err.Error()})
	case errors.Is(err, context.Canceled):
		tk.log.Info("task killed")
	case err != nil:
		tk.log.Warn("task failed", "error", err)
	default:
		tk.log.Info("task ended")
	}
	if tk.player != nil {
		tk.player.Close()
	}
	tk.breakBridge()
	// A program that ends holding its call releases it: a pending call is
	// refused, an answered one hung up.
	if tk.call != nil && tk.call.Mode() != callapi.Disconnected {
		tk.trace(TraceEvent{Kind: "hangup", Detail: "the program ended holding the call"})
		tk.call.Hangup("program ended")
	}
	tk.trace(TraceEvent{Kind: "end"})
}

// Digit implements call.Handler.
func (tk *Task) Digit(d byte) {
	tk.mu.Lock()
	if len(tk.dtmf) < 256 {
		tk.dtmf = append(tk.dtmf, d)
	}
	tk.mu.Unlock()
	select {
	case tk.wake <- struct{}{}:
	default:
	}
}

// Disconnected implements call.Handler: the program gets the Disconnect
// event (a system event: no sender).
func (tk *Task) Disconnected(reason string) {
	tk.goneOnce.Do(func() {
		close(tk.gone)
		tk.breakBridge()
		ev := cgpl.NewDict()
		ev.Set("what", cgpl.String(disconnectEvent))
		ev.Set("parameter", cgpl.String(reason))
		tk.t.Send(ev)
	})
}

const disconnectEvent = "Disconnect"

// takeDigit removes the first buffered digit.
func (tk *Task) takeDigit() (byte, bool) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if len(tk.dtmf) == 0 {
		return 0, false
	}
	d := tk.dtmf[0]
	tk.dtmf = tk.dtmf[1:]
	return d, true
}

func (tk *Task) hasDigits() bool {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return len(tk.dtmf) > 0
}

// readInput is ReadInput in a PBX task: a buffered digit first, then a
// queued event, else it waits up to d for either.
func (tk *Task) readInput(d time.Duration) (cgpl.Value, error) {
	deadline := time.Now().Add(d)
	waited := false
	for {
		if dg, ok := tk.takeDigit(); ok {
			tk.trace(TraceEvent{Kind: "input", Detail: string([]byte{dg})})
			return cgpl.String([]byte{dg}), nil
		}
		if f := tk.m.cfg.OnWait; f != nil && !waited {
			waited = true
			f(tk)
			continue
		}
		if ev, err := tk.t.ReadEvent(0); ev != nil || err != nil {
			return ev, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		timer := time.NewTimer(left)
		select {
		case <-tk.wake:
		case ev := <-tk.t.Events():
			timer.Stop()
			return ev, nil
		case <-timer.C:
		case <-tk.t.Context().Done():
			timer.Stop()
			return nil, tk.t.Context().Err()
		}
		timer.Stop()
	}
}

// taskOf finds the PBX task a CG/PL task belongs to; spawned tasks and
// tasks run without a call have none.
func taskOf(t *cgpl.Task) *Task {
	tk, _ := t.Data().(*Task)
	return tk
}
