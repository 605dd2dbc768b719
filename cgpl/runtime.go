package cgpl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Func is a built-in that a call in a program can name: a library function,
// a runtime function (SysLog, Vars…) or one the host registers (the PBX's
// call-control functions). Fn may block (ReadInput, PlayFile): a task runs
// on its own goroutine, so that blocks only this task; a blocking Fn should
// return when the task's context is done.
type Func struct {
	Name             string
	MinArgs, MaxArgs int // MaxArgs -1: no limit
	Fn               func(t *Task, args []Value) (Value, error)
}

// Registry holds the built-ins a program may call, by case-insensitive name.
type Registry struct {
	funcs map[string]*Func
}

// NewRegistry returns a registry with the core library and the runtime
// functions; the host adds its own with Register.
func NewRegistry() *Registry {
	r := &Registry{funcs: map[string]*Func{}}
	for _, p := range Library() {
		fn := p.Fn
		r.Register(Func{Name: p.Name, MinArgs: p.MinArgs, MaxArgs: p.MaxArgs,
			Fn: func(_ *Task, args []Value) (Value, error) { return fn(args) }})
	}
	for _, f := range runtimeFuncs() {
		r.Register(f)
	}
	return r
}

// Register adds or replaces a built-in.
func (r *Registry) Register(f Func) {
	c := f
	r.funcs[strings.ToLower(f.Name)] = &c
}

// Lookup finds a built-in by name.
func (r *Registry) Lookup(name string) (*Func, bool) {
	f, ok := r.funcs[strings.ToLower(name)]
	return f, ok
}

// arity answers Check's question about built-ins.
func (r *Registry) arity(name string) (int, int, bool) {
	f, ok := r.Lookup(name)
	if !ok {
		return 0, 0, false
	}
	return f.MinArgs, f.MaxArgs, true
}

// Limits bound what one task may use; exceeding one raises a program
// exception that ends that task only.
type Limits struct {
	// MaxSteps is the instruction budget of the whole task (statements and
	// loop iterations); 0 means no limit.
	MaxSteps int64
	// SliceSteps: after this many steps the task checks for cancellation and
	// lets other goroutines run.
	SliceSteps int64
	// MaxMemory bounds the bytes of strings, arrays and dictionaries the task
	// builds (an estimate); 0 means no limit.
	MaxMemory int64
	// MaxDepth bounds nested calls of program sections.
	MaxDepth int
}

// DefaultLimits are generous for PBX programs and stop runaway ones.
func DefaultLimits() Limits {
	return Limits{MaxSteps: 100_000_000, SliceSteps: 10_000, MaxMemory: 64 << 20, MaxDepth: 1000}
}

// TaskOptions set up a task.
type TaskOptions struct {
	Limits Limits
	// SysLog receives each SysLog(x) line.
	SysLog func(line string)
	// Email and Domain are the owner's identity (MyEmail, MyDomain).
	Email, Domain string
	// Param becomes Vars().startParameter.
	Param Value
	// Data is for the host: it finds its state for this task here.
	Data any
}

// Task is one running program.
type Task struct {
	ctx    context.Context
	mod    *Module
	opts   TaskOptions
	vars   *Dict
	global map[string]Value
	steps  int64
	slice  int64
	mem    int64
	depth  int
	events chan Value // queued events (dictionaries), read by ReadInput
}

// maxQueuedEvents bounds a task's event queue; SendEvent to a full queue fails.
const maxQueuedEvents = 1024

// HandleKind makes a task a CG/PL object (a task handle).
func (t *Task) HandleKind() string { return "task" }

// Send queues an event for the task, as SendEvent does; it reports false
// when the queue is full.
func (t *Task) Send(ev *Dict) bool {
	select {
	case t.events <- ev:
		return true
	default:
		return false
	}
}

// Events is the task's event queue, for hosts that wait on it together
// with their own inputs (DTMF).
func (t *Task) Events() <-chan Value { return t.events }

// NewTask prepares a task of the module; Run starts it.
func (m *Module) NewTask(ctx context.Context, opts TaskOptions) *Task {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits()
	}
	t := &Task{ctx: ctx, mod: m, opts: opts, vars: NewDict(), global: map[string]Value{},
		events: make(chan Value, maxQueuedEvents)}
	if opts.Param != nil {
		t.vars.Set("startParameter", opts.Param)
	}
	return t
}

// Context is the task's context: done when the task is cancelled.
func (t *Task) Context() context.Context { return t.ctx }

// Data is the host's value from TaskOptions.
func (t *Task) Data() any { return t.opts.Data }

// Email is the identity of the task's owner.
func (t *Task) Email() string { return t.opts.Email }

// RuntimeError is a program exception: where it was raised and why.
type RuntimeError struct {
	Pos Pos
	Msg string
}

func (e *RuntimeError) Error() string { return e.Pos.String() + ": " + e.Msg }

// stopped unwinds a task that executed "stop" (or returned from its entry).
type stopped struct{}

// Run runs the entry (Main by default, case-insensitive) to its end. It
// returns nil when the program ends normally (or by stop), a *RuntimeError
// for a program exception, or the context's error when cancelled.
func (t *Task) Run(entry string) (err error) {
	if entry == "" {
		entry = "Main"
	}
	sec := t.mod.sections[strings.ToLower(entry)]
	if sec == nil || sec.kind != EntrySection {
		return fmt.Errorf("%s: no entry %s", t.mod.file, entry)
	}
	defer func() {
		if r := recover(); r != nil {
			switch v := r.(type) {
			case stopped:
				err = nil
			case *RuntimeError:
				err = v
			case cancelled:
				err = v.err
			default:
				panic(r)
			}
		}
	}()
	for _, g := range t.mod.globals {
		t.global[g.name] = nil
		if g.init != nil {
			t.global[g.name] = g.init(t, &frame{})
		}
	}
	sec.call(t, nil, t.mod.prog.Position())
	return nil
}

type cancelled struct{ err error }

// step charges one step of the instruction budget.
func (t *Task) step(pos Pos) {
	t.steps++
	t.slice++
	if t.slice >= t.opts.Limits.SliceSteps {
		t.slice = 0
		if err := t.ctx.Err(); err != nil {
			panic(cancelled{err})
		}
	}
	if max := t.opts.Limits.MaxSteps; max > 0 && t.steps > max {
		t.fail(pos, "instruction budget of %d steps exhausted", max)
	}
}

// charge accounts n bytes of memory built by the program.
func (t *Task) charge(pos Pos, n int) {
	t.mem += int64(n)
	if max := t.opts.Limits.MaxMemory; max > 0 && t.mem > max {
		t.fail(pos, "memory limit of %d bytes exceeded", max)
	}
}

func (t *Task) fail(pos Pos, format string, args ...any) {
	panic(&RuntimeError{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// check turns an error from an operation into a program exception at pos.
func (t *Task) check(pos Pos, err error) {
	if err == nil {
		return
	}
	var re *RuntimeError
	if errors.As(err, &re) {
		panic(re)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		panic(cancelled{err})
	}
	panic(&RuntimeError{Pos: pos, Msg: err.Error()})
}

// ReadEvent waits up to d for the next event: null on timeout (or at once
// for d <= 0 with nothing queued). Cancelling the task ends the wait.
func (t *Task) ReadEvent(d time.Duration) (Value, error) {
	select {
	case ev := <-t.events:
		return ev, nil
	default:
	}
	if d <= 0 {
		return nil, nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case ev := <-t.events:
		return ev, nil
	case <-timer.C:
		return nil, nil
	case <-t.ctx.Done():
		return nil, t.ctx.Err()
	}
}

func isLatinLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// runtimeFuncs are the built-ins that need the running task.
func runtimeFuncs() []Func {
	return []Func{
		{Name: "SysLog", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			if t.opts.SysLog != nil {
				if s, ok := a[0].(String); ok {
					t.opts.SysLog(string(s))
				} else {
					t.opts.SysLog(ObjectToString(a[0]))
				}
			}
			return nil, nil
		}},
		{Name: "ThisTask", MinArgs: 0, MaxArgs: 0, Fn: func(t *Task, _ []Value) (Value, error) { return t, nil }},
		{Name: "SendEvent", MinArgs: 2, MaxArgs: 3, Fn: func(t *Task, a []Value) (Value, error) {
			to, ok := a[0].(*Task)
			if !ok {
				return String("not a task handle"), nil
			}
			name, ok := a[1].(String)
			if !ok || len(name) == 0 || !isLatinLetter(name[0]) {
				return nil, Throw("SendEvent: the event name must be a string starting with a Latin letter")
			}
			ev := NewDict()
			ev.Set("what", name)
			ev.Set("sender", t)
			if len(a) == 3 && a[2] != nil {
				ev.Set("parameter", a[2])
			}
			if !to.Send(ev) {
				return String("event queue is full"), nil
			}
			return nil, nil
		}},
		{Name: "ReadInput", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			secs, _ := a[0].(Number)
			return t.ReadEvent(time.Duration(secs) * time.Second)
		}},
		{Name: "Vars", MinArgs: 0, MaxArgs: 0, Fn: func(t *Task, _ []Value) (Value, error) { return t.vars, nil }},
		{Name: "MyEmail", MinArgs: 0, MaxArgs: 0, Fn: func(t *Task, _ []Value) (Value, error) {
			if t.opts.Email == "" {
				return nil, nil
			}
			return String(t.opts.Email), nil
		}},
		{Name: "MyDomain", MinArgs: 0, MaxArgs: 0, Fn: func(t *Task, _ []Value) (Value, error) {
			if t.opts.Domain == "" {
				return nil, nil
			}
			return String(t.opts.Domain), nil
		}},
	}
}
