package cgpl

import (
	"strconv"
	"sync"
)

// Hub holds what tasks share (CG/PL's queues and meetings): the host
// creates one (NewHub) and passes it to every task in TaskOptions.Hub. A
// task without one gets a private hub on first use, so a lone task (ringo
// cgpl run) can still use the functions on itself.
//
// As in CommuniGate, queues and meetings belong to an account: they are
// kept by the task's owner (TaskOptions.Email) and then by name, so tasks
// of different accounts never see each other's. A Hub is safe for
// concurrent use; its sizes are bounded by HubLimits.
//
// Choices where the spec is UNCERTAIN (shared/research/cgpl.md §4.11):
//   - queue, set and key names are case-sensitive strings;
//   - Enqueue's pty is a digit 0..9 (a number or a one-digit string,
//     default 5); a higher priority goes ahead of a lower one, tasks of the
//     same priority are first in, first out;
//   - Enqueue of a task already in the queue updates its parameter; with
//     the same priority it keeps its place, with another it moves behind
//     the tasks of its new priority;
//   - CheckQueue and Dequeue act on the calling task's own entry;
//   - a meeting's parameter is set by CreateMeeting; ActivateMeeting makes
//     the calling task the meeting's active task and stores its parameter
//     as activeParameter; FindMeeting gives {parameter, id, activeParameter}
//     (id and activeParameter only while the meeting is active);
//   - DeactivateMeeting is for the active task (null when the meeting is
//     not active at all, an error string when another task activated it);
//     ClearMeeting deactivates the meeting whichever task activated it;
//   - every meeting function but FindMeeting gives an error string for a
//     meeting that does not exist (CreateMeeting: for one that does);
//   - a task that ends leaves the queues it is in (as Dequeue) and
//     deactivates the meetings it activated.
//
// Stored parameters are copies (tasks run in parallel): Enqueue and
// CreateMeeting/ActivateMeeting copy the caller's value, FindMeeting gives
// each caller its own copy.
type Hub struct {
	limits HubLimits

	mu     sync.Mutex
	owners map[string]*hubOwner
}

// HubLimits bound what a hub holds. A full queue or an owner with too many
// queues makes Enqueue give null; too many meetings or a name too long an
// error string or a program exception (see the functions).
type HubLimits struct {
	MaxQueues      int // non-empty queues of one owner
	MaxQueueLength int // tasks in one queue
	MaxMeetings    int // meetings of one owner (all sets)
	MaxNameLength  int // bytes of a queue, set or key name
	MaxParamSize   int // estimated bytes of one stored parameter
}

// DefaultHubLimits are generous for a PBX.
func DefaultHubLimits() HubLimits {
	return HubLimits{MaxQueues: 1000, MaxQueueLength: 10_000, MaxMeetings: 10_000, MaxNameLength: 256, MaxParamSize: 64 << 10}
}

// NewHub returns an empty hub; zero fields of limits take the defaults.
func NewHub(limits HubLimits) *Hub {
	d := DefaultHubLimits()
	if limits.MaxQueues <= 0 {
		limits.MaxQueues = d.MaxQueues
	}
	if limits.MaxQueueLength <= 0 {
		limits.MaxQueueLength = d.MaxQueueLength
	}
	if limits.MaxMeetings <= 0 {
		limits.MaxMeetings = d.MaxMeetings
	}
	if limits.MaxNameLength <= 0 {
		limits.MaxNameLength = d.MaxNameLength
	}
	if limits.MaxParamSize <= 0 {
		limits.MaxParamSize = d.MaxParamSize
	}
	return &Hub{limits: limits, owners: map[string]*hubOwner{}}
}

type hubOwner struct {
	queues   map[string]*taskQueue
	meetings map[meetingKey]*meeting
}

type meetingKey struct{ set, key string }

type taskQueue struct {
	entries []queueEntry
}

type queueEntry struct {
	task  *Task
	param Value
	pty   int
}

type meeting struct {
	param       Value
	active      *Task
	activeParam Value
}

// taskHub is what the hub keeps about one task, guarded by Hub.mu: the
// queues it may be in and the meetings it may have activated, so that
// leave finds them without a scan.
type taskHub struct {
	queues   map[string]struct{}
	meetings map[meetingKey]struct{}
}

// QueueLength is the number of tasks in the owner's queue name.
func (h *Hub) QueueLength(owner, name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o := h.owners[owner]; o != nil {
		if q := o.queues[name]; q != nil {
			return len(q.entries)
		}
	}
	return 0
}

// MeetingCount is the number of meetings the owner has.
func (h *Hub) MeetingCount(owner string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o := h.owners[owner]; o != nil {
		return len(o.meetings)
	}
	return 0
}

// owner returns the owner's record, making it when make is set (h.mu held).
func (h *Hub) owner(name string, create bool) *hubOwner {
	o := h.owners[name]
	if o == nil && create {
		o = &hubOwner{queues: map[string]*taskQueue{}, meetings: map[meetingKey]*meeting{}}
		h.owners[name] = o
	}
	return o
}

// dropIfEmpty forgets an owner with nothing left (h.mu held).
func (h *Hub) dropIfEmpty(name string, o *hubOwner) {
	if o != nil && len(o.queues) == 0 && len(o.meetings) == 0 {
		delete(h.owners, name)
	}
}

func (q *taskQueue) find(t *Task) int {
	for i, e := range q.entries {
		if e.task == t {
			return i
		}
	}
	return -1
}

func queueStatus(length, position int) *Dict {
	d := NewDict()
	d.Set("length", Number(length))
	d.Set("position", Number(position))
	return d
}

// enqueue puts t in its owner's queue (or updates its entry); nil when the
// queue is full or the owner has too many queues.
func (h *Hub) enqueue(t *Task, name string, param Value, pty int) *Dict {
	h.mu.Lock()
	defer h.mu.Unlock()
	owner := t.opts.Email
	o := h.owner(owner, true)
	q := o.queues[name]
	if q == nil {
		if len(o.queues) >= h.limits.MaxQueues {
			h.dropIfEmpty(owner, o)
			return nil
		}
		q = &taskQueue{}
	}
	if i := q.find(t); i >= 0 {
		if q.entries[i].pty == pty {
			q.entries[i].param = param
			return queueStatus(len(q.entries), i)
		}
		q.entries = append(q.entries[:i], q.entries[i+1:]...)
	} else if len(q.entries) >= h.limits.MaxQueueLength {
		return nil
	}
	pos := len(q.entries)
	for pos > 0 && q.entries[pos-1].pty < pty {
		pos--
	}
	q.entries = append(q.entries, queueEntry{})
	copy(q.entries[pos+1:], q.entries[pos:])
	q.entries[pos] = queueEntry{task: t, param: param, pty: pty}
	o.queues[name] = q
	th := t.hubState()
	if th.queues == nil {
		th.queues = map[string]struct{}{}
	}
	th.queues[name] = struct{}{}
	return queueStatus(len(q.entries), pos)
}

// checkQueue gives t's place in its owner's queue, or nil.
func (h *Hub) checkQueue(t *Task, name string) *Dict {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o := h.owners[t.opts.Email]; o != nil {
		if q := o.queues[name]; q != nil {
			if i := q.find(t); i >= 0 {
				return queueStatus(len(q.entries), i)
			}
		}
	}
	return nil
}

// dequeue takes t out of its owner's queue, if it is there (h.mu held).
func (h *Hub) dequeueLocked(t *Task, name string) {
	owner := t.opts.Email
	o := h.owners[owner]
	if o == nil {
		return
	}
	if q := o.queues[name]; q != nil {
		if i := q.find(t); i >= 0 {
			q.entries[i] = queueEntry{}
			q.entries = append(q.entries[:i], q.entries[i+1:]...)
			if len(q.entries) == 0 {
				delete(o.queues, name)
			}
		}
	}
	if t.hub != nil {
		delete(t.hub.queues, name)
	}
	h.dropIfEmpty(owner, o)
}

func (h *Hub) dequeue(t *Task, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dequeueLocked(t, name)
}

// readQueue pops the first task of t's owner's queue.
func (h *Hub) readQueue(t *Task, name string) (*Task, Value, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	owner := t.opts.Email
	o := h.owners[owner]
	if o == nil {
		return nil, nil, false
	}
	q := o.queues[name]
	if q == nil || len(q.entries) == 0 {
		return nil, nil, false
	}
	e := q.entries[0]
	q.entries[0] = queueEntry{}
	q.entries = q.entries[1:]
	if len(q.entries) == 0 {
		delete(o.queues, name)
		h.dropIfEmpty(owner, o)
	}
	if e.task.hub != nil {
		delete(e.task.hub.queues, name)
	}
	return e.task, e.param, true
}

// Errors the meeting functions give (as CG/PL strings).
const (
	errMeetingExists   = "meeting already exists"
	errMeetingNotFound = "meeting not found"
	errMeetingBusy     = "meeting is active in another task"
	errTooManyMeetings = "too many meetings"
	errParamTooLarge   = "parameter too large"
)

func (h *Hub) createMeeting(t *Task, k meetingKey, param Value) Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	owner := t.opts.Email
	o := h.owner(owner, true)
	if o.meetings[k] != nil {
		return String(errMeetingExists)
	}
	if len(o.meetings) >= h.limits.MaxMeetings {
		h.dropIfEmpty(owner, o)
		return String(errTooManyMeetings)
	}
	o.meetings[k] = &meeting{param: param}
	return nil
}

// meeting finds one of t's owner's meetings (h.mu held).
func (h *Hub) meeting(t *Task, k meetingKey) (*hubOwner, *meeting) {
	o := h.owners[t.opts.Email]
	if o == nil {
		return nil, nil
	}
	return o, o.meetings[k]
}

func (h *Hub) activateMeeting(t *Task, k meetingKey, param Value) Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, m := h.meeting(t, k)
	switch {
	case m == nil:
		return String(errMeetingNotFound)
	case m.active != nil && m.active != t:
		return String(errMeetingBusy)
	}
	m.active, m.activeParam = t, param
	th := t.hubState()
	if th.meetings == nil {
		th.meetings = map[meetingKey]struct{}{}
	}
	th.meetings[k] = struct{}{}
	return nil
}

// deactivate clears a meeting's active task (h.mu held).
func (m *meeting) deactivate(k meetingKey) {
	if m.active != nil && m.active.hub != nil {
		delete(m.active.hub.meetings, k)
	}
	m.active, m.activeParam = nil, nil
}

func (h *Hub) deactivateMeeting(t *Task, k meetingKey, anyTask bool) Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, m := h.meeting(t, k)
	switch {
	case m == nil:
		return String(errMeetingNotFound)
	case m.active != nil && m.active != t && !anyTask:
		return String(errMeetingBusy)
	}
	m.deactivate(k)
	return nil
}

func (h *Hub) removeMeeting(t *Task, k meetingKey) Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	o, m := h.meeting(t, k)
	if m == nil {
		return String(errMeetingNotFound)
	}
	m.deactivate(k)
	delete(o.meetings, k)
	h.dropIfEmpty(t.opts.Email, o)
	return nil
}

func (h *Hub) findMeeting(t *Task, k meetingKey) Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, m := h.meeting(t, k)
	if m == nil {
		return nil
	}
	d := NewDict()
	if m.param != nil {
		d.Set("parameter", CopyValue(m.param))
	}
	if m.active != nil {
		d.Set("id", m.active)
		if m.activeParam != nil {
			d.Set("activeParameter", CopyValue(m.activeParam))
		}
	}
	return d
}

// leave takes a task that ends out of the queues it is in and deactivates
// the meetings it activated.
func (h *Hub) leave(t *Task) {
	h.mu.Lock()
	defer h.mu.Unlock()
	th := t.hub
	if th == nil {
		return
	}
	for name := range th.queues {
		h.dequeueLocked(t, name)
	}
	if o := h.owners[t.opts.Email]; o != nil {
		for k := range th.meetings {
			if m := o.meetings[k]; m != nil && m.active == t {
				m.deactivate(k)
			}
		}
	}
	th.queues, th.meetings = nil, nil
}

// valueSize estimates the bytes of v, stopping once past limit (so that a
// value that contains itself ends).
func valueSize(v Value, limit int) int {
	n := 0
	var walk func(v Value)
	walk = func(v Value) {
		if n > limit {
			return
		}
		n += 16
		switch x := v.(type) {
		case String:
			n += len(x)
		case Data:
			n += len(x)
		case *Array:
			for _, e := range x.Elems {
				walk(e)
			}
		case *Dict:
			for _, k := range x.Keys() {
				n += len(k)
				walk(x.Get(k))
			}
		case *XML:
			n += x.size(limit - n + 1)
		}
	}
	walk(v)
	return n
}

// hubState is what t's hub keeps about t (h.mu held).
func (t *Task) hubState() *taskHub {
	if t.hub == nil {
		t.hub = &taskHub{}
	}
	return t.hub
}

// Hub is the task's hub: TaskOptions.Hub, or a private one made on first
// use.
func (t *Task) Hub() *Hub {
	if t.opts.Hub == nil {
		t.opts.Hub = NewHub(HubLimits{})
	}
	return t.opts.Hub
}

// leaveHub runs when the task ends (Run returns).
func (t *Task) leaveHub() {
	if t.opts.Hub != nil {
		t.opts.Hub.leave(t)
	}
}

// hubName checks a queue, set or key name argument.
func (t *Task) hubName(fn, what string, v Value) (string, error) {
	s, ok := v.(String)
	if !ok {
		return "", Throw("%s: the %s must be a string, not %s", fn, what, TypeName(v))
	}
	if len(s) == 0 {
		return "", Throw("%s: the %s is empty", fn, what)
	}
	if max := t.Hub().limits.MaxNameLength; len(s) > max {
		return "", Throw("%s: the %s is longer than %d bytes", fn, what, max)
	}
	return string(s), nil
}

// hubParam copies a parameter to store; ok false when it is too large.
func (t *Task) hubParam(v Value) (Value, bool) {
	if v == nil {
		return nil, true
	}
	max := t.Hub().limits.MaxParamSize
	if valueSize(v, max) > max {
		return nil, false
	}
	return CopyValue(v), true
}

// meetingArgs checks the set and key arguments of a meeting function.
func (t *Task) meetingArgs(fn string, a []Value) (meetingKey, error) {
	set, err := t.hubName(fn, "meeting set name", a[0])
	if err != nil {
		return meetingKey{}, err
	}
	key, err := t.hubName(fn, "meeting key", a[1])
	if err != nil {
		return meetingKey{}, err
	}
	return meetingKey{set, key}, nil
}

// queuePriority reads Enqueue's pty: a digit 0..9, default 5.
func queuePriority(v Value) (int, error) {
	switch x := v.(type) {
	case nil:
		return 5, nil
	case Number:
		if x >= 0 && x <= 9 {
			return int(x), nil
		}
	case String:
		if len(x) == 1 && x[0] >= '0' && x[0] <= '9' {
			n, _ := strconv.Atoi(string(x))
			return n, nil
		}
	}
	return 0, Throw("Enqueue: the priority must be a digit 0..9, not %s", ObjectToString(v))
}

// hubFuncs are the queue and meeting built-ins.
func hubFuncs() []Func {
	arg := func(a []Value, i int) Value {
		if i < len(a) {
			return a[i]
		}
		return nil
	}
	meetingOp := func(name string, nargs int, op func(h *Hub, t *Task, k meetingKey, param Value) Value) Func {
		return Func{Name: name, MinArgs: 2, MaxArgs: nargs, Fn: func(t *Task, a []Value) (Value, error) {
			k, err := t.meetingArgs(name, a)
			if err != nil {
				return nil, err
			}
			p, ok := t.hubParam(arg(a, 2))
			if !ok {
				return String(errParamTooLarge), nil
			}
			return op(t.Hub(), t, k, p), nil
		}}
	}
	return []Func{
		{Name: "Enqueue", MinArgs: 1, MaxArgs: 3, Fn: func(t *Task, a []Value) (Value, error) {
			name, err := t.hubName("Enqueue", "queue name", a[0])
			if err != nil {
				return nil, err
			}
			pty, err := queuePriority(arg(a, 2))
			if err != nil {
				return nil, err
			}
			p, ok := t.hubParam(arg(a, 1))
			if !ok {
				return nil, nil
			}
			if d := t.Hub().enqueue(t, name, p, pty); d != nil {
				return d, nil
			}
			return nil, nil
		}},
		{Name: "CheckQueue", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			name, err := t.hubName("CheckQueue", "queue name", a[0])
			if err != nil {
				return nil, err
			}
			if d := t.Hub().checkQueue(t, name); d != nil {
				return d, nil
			}
			return nil, nil
		}},
		{Name: "Dequeue", MinArgs: 1, MaxArgs: 1, Procedure: true, Fn: func(t *Task, a []Value) (Value, error) {
			name, err := t.hubName("Dequeue", "queue name", a[0])
			if err != nil {
				return nil, err
			}
			t.Hub().dequeue(t, name)
			return nil, nil
		}},
		{Name: "ReadQueue", MinArgs: 1, MaxArgs: 1, Fn: func(t *Task, a []Value) (Value, error) {
			name, err := t.hubName("ReadQueue", "queue name", a[0])
			if err != nil {
				return nil, err
			}
			task, param, ok := t.Hub().readQueue(t, name)
			if !ok {
				return nil, nil
			}
			d := NewDict()
			d.Set("id", task)
			if param != nil {
				d.Set("parameter", param)
			}
			return d, nil
		}},
		meetingOp("CreateMeeting", 3, (*Hub).createMeeting),
		meetingOp("ActivateMeeting", 3, (*Hub).activateMeeting),
		meetingOp("DeactivateMeeting", 2, func(h *Hub, t *Task, k meetingKey, _ Value) Value { return h.deactivateMeeting(t, k, false) }),
		meetingOp("ClearMeeting", 2, func(h *Hub, t *Task, k meetingKey, _ Value) Value { return h.deactivateMeeting(t, k, true) }),
		meetingOp("RemoveMeeting", 2, func(h *Hub, t *Task, k meetingKey, _ Value) Value { return h.removeMeeting(t, k) }),
		meetingOp("FindMeeting", 2, func(h *Hub, t *Task, k meetingKey, _ Value) Value { return h.findMeeting(t, k) }),
	}
}
