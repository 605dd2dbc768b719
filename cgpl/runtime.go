package cgpl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Func is a built-in that a call in a program can name: a library function,
// a runtime function (SysLog, Vars…) or one the host registers (the PBX's
// call-control functions). Fn may block (ReadInput, PlayFile): a task runs
// on its own goroutine, so that blocks only this task; a blocking Fn should
// return when the task's context is done.
//
// args is only valid during the call: the runtime reuses its storage for
// the next call, so Fn must copy what it keeps (a goroutine it starts, a
// value it stores) rather than keep the slice.
type Func struct {
	Name             string
	MinArgs, MaxArgs int // MaxArgs -1: no limit
	// Procedure marks a built-in that is called as a statement only.
	Procedure bool
	Fn        func(t *Task, args []Value) (Value, error)

	pure   func(args []Value) (Value, error) // a library function, called without Fn's wrapper
	byName int8                              // ProcCall or FuncCall: compiled as a call of a section
}

const (
	byNameProc = 1 + iota
	byNameFunc
)

// Registry holds the built-ins a program may call, by case-insensitive name.
type Registry struct {
	funcs map[string]*Func
}

// NewRegistry returns a registry with the core library and the runtime
// functions; the host adds its own with Register.
func NewRegistry() *Registry {
	r := &Registry{funcs: map[string]*Func{}}
	procs := map[string]bool{}
	for _, n := range LibraryProcedures() {
		procs[strings.ToLower(n)] = true
	}
	for _, p := range Library() {
		fn := p.Fn
		r.Register(Func{Name: p.Name, MinArgs: p.MinArgs, MaxArgs: p.MaxArgs, Procedure: procs[strings.ToLower(p.Name)],
			Fn: func(_ *Task, args []Value) (Value, error) { return fn(args) }, pure: fn})
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
	// MaxSpawn bounds the live tasks started by spawn from a task and, in
	// turn, from those tasks (one count for the whole tree); 0 means
	// DefaultMaxSpawn, a negative value forbids spawn.
	MaxSpawn int
}

// DefaultMaxSpawn is the bound on live spawned tasks when Limits.MaxSpawn is 0.
const DefaultMaxSpawn = 100

// DefaultLimits are generous for PBX programs and stop runaway ones.
func DefaultLimits() Limits {
	return Limits{MaxSteps: 100_000_000, SliceSteps: 10_000, MaxMemory: 64 << 20, MaxDepth: 1000, MaxSpawn: DefaultMaxSpawn}
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
	// Zone is the task's time zone (the owner's preference); nil is the
	// server's. SetTimeZone changes it for the task.
	Zone *time.Location
	// Now is the clock (time.Now when nil); tests fix it.
	Now func() time.Time
	// Language is the owner's language (a prompt folder such as "russian");
	// SetLanguage changes it for the task, GetLanguage reads it.
	Language string
	// Hub holds the queues and meetings the task shares with others (the
	// host makes one for all its tasks); nil gives the task a private one.
	Hub *Hub
	// OnExit, when set, is called when a task started by spawn ends, on
	// that task's goroutine, with what Run returned: nil, a *RuntimeError
	// for a program exception, or the context's error when cancelled. The
	// tasks a spawned task spawns inherit it. It is not called for the task
	// the host runs itself (the host has Run's result).
	OnExit func(t *Task, err error)
	// Host provides the functions that need the server (the account
	// directory, the router…); nil, or a nil field, makes them behave as
	// without a server. Spawned tasks share it.
	Host *Host

	links *linkSet // the modules the program is linked with (from its Module)
}

// Language is the task's current language ("" for the default).
func (t *Task) Language() string { return t.opts.Language }

// Task is one running program.
type Task struct {
	ctx    context.Context
	mod    *Module // the module whose code runs (see enterModule)
	root   *Module // the module the task was made of
	opts   TaskOptions
	vars   *Dict   // Vars(), made on first use
	global []Value // task variables of mod, by the module's slots
	mem    int64
	depth  int

	// modGlobals holds the task variables of each module the task has
	// entered, once it has called into another module.
	modGlobals map[*Module][]Value
	appStatus  atomic.Pointer[Value] // SetApplicationStatus

	// The instruction budget: steps counts statements; at nextCheck (the
	// end of the time slice or the budget, whichever is first) checkpoint
	// looks at the context and the budget.
	steps     int64
	nextCheck int64
	sliceEnd  int64

	// stack holds the locals of the active calls and the arguments of
	// built-in calls being made, sp is its top; frames are reused by depth.
	stack  []Value
	sp     int
	frames []*frame

	nums    []Number           // storage for boxing numbers (see num)
	strBufs [appendBufs][]byte // strings growing in place (see appendString)
	strUsed [appendBufs]int64  // the step at which each was last appended to
	strNext int
	recent  [appendBufs]String // recent results of appends not yet in a buffer
	recNext int

	evMu   sync.Mutex
	events chan Value // queued events (dictionaries), read by ReadInput; made on first use

	hub *taskHub // the queues and meetings the task is in, guarded by its Hub's mutex

	tree *spawnTree // shared with the tasks spawned from this one; made by the first spawn
}

// maxQueuedEvents bounds a task's event queue; SendEvent to a full queue fails.
const maxQueuedEvents = 1024

// HandleKind makes a task a CG/PL object (a task handle).
func (t *Task) HandleKind() string { return "task" }

// queue returns the task's event queue, making it on first use (most tasks
// never get an event; the queue's buffer is the largest part of a task).
func (t *Task) queue() chan Value {
	t.evMu.Lock()
	defer t.evMu.Unlock()
	if t.events == nil {
		t.events = make(chan Value, maxQueuedEvents)
	}
	return t.events
}

// Send queues an event for the task, as SendEvent does; it reports false
// when the queue is full.
func (t *Task) Send(ev *Dict) bool {
	select {
	case t.queue() <- ev:
		return true
	default:
		return false
	}
}

// Events is the task's event queue, for hosts that wait on it together
// with their own inputs (DTMF).
func (t *Task) Events() <-chan Value { return t.queue() }

// NewTask prepares a task of the module; Run starts it.
func (m *Module) NewTask(ctx context.Context, opts TaskOptions) *Task {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits()
	}
	if m.links != nil {
		opts.links = m.links
	}
	t := &Task{ctx: ctx, mod: m, root: m, opts: opts}
	if m.nglobals > 0 {
		t.global = make([]Value, m.nglobals)
	}
	if opts.Param != nil {
		t.varsDict().Set("startParameter", opts.Param)
	}
	t.sliceEnd = max(opts.Limits.SliceSteps, 1)
	t.setNextCheck()
	return t
}

// varsDict is the task's Vars() dictionary.
func (t *Task) varsDict() *Dict {
	if t.vars == nil {
		t.vars = NewDict()
	}
	return t.vars
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
	if t.modGlobals != nil { // an earlier Run called into other modules
		t.global, t.modGlobals = t.modGlobals[t.root], nil
	}
	t.mod = t.root
	sec := t.mod.sections[strings.ToLower(entry)]
	if sec == nil || sec.kind != EntrySection {
		return fmt.Errorf("%s: no entry %s", t.mod.file, entry)
	}
	// A task that ends leaves its queues and meetings, however it ends.
	defer t.leaveHub()
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
	t.sp, t.depth = 0, 0
	clear(t.stack) // left over if an earlier Run of this task ended by an exception
	t.initGlobals()
	// Returning from the starting entry ends the task, as stop does.
	top := sec.nlocals
	if top > len(t.stack) {
		t.growStack(top)
	}
	t.sp = top
	sec.invoke(t, t.stack[:top:top], t.mod.prog.Position())
	return nil
}

// initGlobals sets the task variables of the current module to their
// initial values.
func (t *Task) initGlobals() {
	for _, g := range t.mod.globals {
		t.global[g.slot] = nil
		if g.init != nil {
			t.global[g.slot] = g.init(t, &frame{locals: make([]Value, g.nlocals)})
		}
	}
}

type cancelled struct{ err error }

// step charges one step of the instruction budget: an increment and a
// compare, inlined; the rest is in checkpoint.
func (t *Task) step(pos Pos) {
	t.steps++
	if t.steps >= t.nextCheck {
		t.checkpoint(pos)
	}
}

// checkpoint runs at the end of each time slice (SliceSteps steps: it
// checks for cancellation) and past the budget (MaxSteps: it raises).
func (t *Task) checkpoint(pos Pos) {
	if t.steps >= t.sliceEnd {
		slice := max(t.opts.Limits.SliceSteps, 1)
		t.sliceEnd = t.steps + slice
		if err := t.ctx.Err(); err != nil {
			panic(cancelled{err})
		}
		t.releaseAppendBuffers(t.steps - slice)
	}
	if max := t.opts.Limits.MaxSteps; max > 0 && t.steps > max {
		t.fail(pos, "instruction budget of %d steps exhausted", max)
	}
	t.setNextCheck()
}

func (t *Task) setNextCheck() {
	t.nextCheck = t.sliceEnd
	if max := t.opts.Limits.MaxSteps; max > 0 && max < t.nextCheck {
		t.nextCheck = max + 1
	}
}

// frameAt returns the reusable frame for calls at depth d.
func (t *Task) frameAt(d int) *frame {
	for d >= len(t.frames) {
		t.frames = append(t.frames, &frame{})
	}
	return t.frames[d]
}

// growStack makes room for the stack to reach need. It starts a new, larger
// stack rather than moving the old one: the active calls keep their windows
// in the old one (which stays alive as long as they do), new calls get
// theirs in the new one at the same offsets.
func (t *Task) growStack(need int) {
	t.stack = make([]Value, max(2*len(t.stack), need+32, 64))
}

// smallNums are the boxed numbers -256..1023, shared by every task.
var smallNums = func() (v [1280]Value) {
	for i := range v {
		v[i] = Number(i - 256)
	}
	return
}()

// eface is the layout of an interface value (Value) in memory.
type eface struct {
	typ, data unsafe.Pointer
}

// numberType is the type word of a Value holding a Number.
var numberType = func() unsafe.Pointer {
	var v Value = Number(1 << 40)
	return (*eface)(unsafe.Pointer(&v)).typ
}()

// numChunk is how many boxed numbers share one allocation.
const numChunk = 128

// num boxes n as a Value. Putting a Number in an interface would allocate
// 8 bytes each time (the arithmetic of a loop does it at every step); num
// takes small numbers from a shared table and the others from a chunk of
// storage that the task allocates 128 numbers at a time (as gopher-lua does
// for its numbers). A chunk stays alive while any of its numbers is
// referenced; a slot is written once, before the value is made, and never
// again.
func (t *Task) num(n Number) Value {
	if uint64(n+256) < uint64(len(smallNums)) {
		return smallNums[n+256]
	}
	return t.boxNum(n)
}

func (t *Task) boxNum(n Number) Value {
	if len(t.nums) == 0 {
		t.nums = make([]Number, numChunk)
	}
	p := &t.nums[0]
	t.nums = t.nums[1:]
	*p = n
	var v Value
	e := (*eface)(unsafe.Pointer(&v))
	e.typ = numberType
	e.data = unsafe.Pointer(p)
	return v
}

// appendBufs is how many strings of a task can grow in place at once.
const appendBufs = 4

// appendString is x + y for an append to a variable (s += y, s = s + y).
// A string that keeps being appended to gets a buffer with spare room
// after its end; while x is the whole content of such a buffer, y is
// copied into the room and the result is a string over the longer content.
// Bytes of the buffer are written once, before any string covers them, so
// every string stays immutable; a string built elsewhere from a buffered
// one just copies it. The memory charged is what is copied: len(y) for an
// append in place, the whole string when it moves to a new buffer, which
// grows geometrically, so a loop of appends costs linear time and memory
// instead of quadratic. The first append to a string is an ordinary
// concatenation; a second one onto its result moves it into a buffer, so a
// one-off s += y keeps no spare room.
func (t *Task) appendString(pos Pos, x, y String) Value {
	if len(y) == 0 {
		return x
	}
	if len(x) == 0 {
		return y
	}
	n := len(x) + len(y)
	px := unsafe.StringData(string(x))
	for i := range t.strBufs {
		b := t.strBufs[i]
		if len(b) != len(x) || unsafe.SliceData(b) != px {
			continue
		}
		if cap(b)-len(b) < len(y) {
			t.charge(pos, n)
			b = make([]byte, len(x), growCap(n))
			copy(b, x)
		} else {
			t.charge(pos, len(y))
		}
		b = append(b, y...)
		t.strBufs[i] = b
		t.strUsed[i] = t.steps
		return String(unsafe.String(unsafe.SliceData(b), len(b)))
	}
	t.charge(pos, n)
	for i, r := range t.recent {
		if len(r) == len(x) && unsafe.StringData(string(r)) == px {
			// The second append onto this string: give it a buffer.
			t.recent[i] = ""
			b := make([]byte, len(x), growCap(n))
			copy(b, x)
			b = append(b, y...)
			t.strBufs[t.strNext] = b
			t.strUsed[t.strNext] = t.steps
			t.strNext = (t.strNext + 1) % appendBufs
			return String(unsafe.String(unsafe.SliceData(b), len(b)))
		}
	}
	r := x + y
	t.recent[t.recNext] = r
	t.recNext = (t.recNext + 1) % appendBufs
	return r
}

// releaseAppendBuffers lets go of the append buffers not appended to since
// step idleSince (all of them for math.MaxInt64) and of the recent results,
// so that a task does not keep a large string alive after the program has
// dropped it: at the end of each time slice, and before ReadInput waits.
// A string whose buffer was released is copied on its next append.
func (t *Task) releaseAppendBuffers(idleSince int64) {
	for i := range t.strBufs {
		if t.strUsed[i] < idleSince {
			t.strBufs[i] = nil
		}
	}
	t.recent = [appendBufs]String{}
}

// growCap is the capacity of an append buffer for n bytes: double, and
// half again for large strings.
func growCap(n int) int {
	if n < 1<<16 {
		return max(2*n, 64)
	}
	return n + n/2
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
	q := t.queue()
	select {
	case ev := <-q:
		return ev, nil
	default:
	}
	if d <= 0 {
		return nil, nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case ev := <-q:
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
	fns := append(append(timeFuncs(), languageFuncs()...), hubFuncs()...)
	fns = append(append(fns, hostFuncs()...), convertFuncs()...)
	return append(fns, []Func{
		{Name: "ProcCall", MinArgs: 1, MaxArgs: -1, Procedure: true, Fn: callByNameFn(true), byName: byNameProc},
		{Name: "FuncCall", MinArgs: 1, MaxArgs: -1, Fn: callByNameFn(false), byName: byNameFunc},
		{Name: "SysLog", MinArgs: 1, MaxArgs: 1, Procedure: true, Fn: func(t *Task, a []Value) (Value, error) {
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
				// The receiver gets its own copy: the sender may change its
				// array or dictionary afterwards, and tasks run in parallel.
				ev.Set("parameter", CopyValue(a[2]))
			}
			if !to.Send(ev) {
				return String("event queue is full"), nil
			}
			return nil, nil
		}},
		{Name: "ReadInput", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			secs, _ := a[0].(Number)
			if secs > 0 {
				t.releaseAppendBuffers(math.MaxInt64)
			}
			return t.ReadEvent(time.Duration(secs) * time.Second)
		}},
		{Name: "Vars", MinArgs: 0, MaxArgs: 0, Fn: func(t *Task, _ []Value) (Value, error) { return t.varsDict(), nil }},
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
	}...)
}
