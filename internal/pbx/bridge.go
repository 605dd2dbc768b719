package pbx

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
	callapi "github.com/ringo-pbx/ringo/internal/call"
	"github.com/ringo-pbx/ringo/internal/media"
)

// Bridging two tasks' calls, as CommuniGate's StartBridge does: task A
// (holding a caller) asks task B (holding another call) to take its
// media; B accepts, and the two callers talk through Ringo while both
// tasks keep running. Either side may break the bridge; the other learns
// of it by an event.

const (
	startBridgeEvent = "StartBridge"
	breakBridgeEvent = "BreakBridge"
)

// startBridgeWait bounds how long StartBridge waits for the other task.
const startBridgeWait = 5 * time.Minute

// bridge is two tasks' calls relayed to each other.
type bridge struct {
	once sync.Once
	a, b *Task
	br   *media.Bridge
}

// bridgeState is a task's side of bridging, under Task.mu.
type bridgeState struct {
	cur   *bridge
	reply chan string // StartBridge's answer: "" accepted, else the error
}

func (br *bridge) other(tk *Task) *Task {
	if tk == br.a {
		return br.b
	}
	return br.a
}

// stop ends the bridge once; the task that did not break it gets the
// BreakBridge event.
func (br *bridge) stop(by *Task) {
	br.once.Do(func() {
		br.br.Stop()
		for _, tk := range []*Task{br.a, br.b} {
			tk.mu.Lock()
			if tk.bridging.cur == br {
				tk.bridging.cur = nil
			}
			tk.mu.Unlock()
		}
		if o := br.other(by); o != nil {
			ev := cgpl.NewDict()
			ev.Set("what", cgpl.String(breakBridgeEvent))
			o.t.Send(ev)
		}
	})
}

// breakBridge ends the task's bridge, if any.
func (tk *Task) breakBridge() bool {
	tk.mu.Lock()
	br := tk.bridging.cur
	tk.mu.Unlock()
	if br == nil {
		return false
	}
	br.stop(tk)
	return true
}

// eventSender is the task that sent an event dictionary.
func eventSender(v cgpl.Value) (*Task, *cgpl.Dict) {
	d, ok := v.(*cgpl.Dict)
	if !ok {
		return nil, nil
	}
	t, ok := d.Get("sender").(*cgpl.Task)
	if !ok {
		return nil, d
	}
	return taskOf(t), d
}

func isStartBridge(v cgpl.Value) bool {
	tk, d := eventSender(v)
	if tk == nil {
		return false
	}
	w, _ := d.Get("what").(cgpl.String)
	return strings.EqualFold(string(w), startBridgeEvent)
}

func registerBridgeFuncs(reg *cgpl.Registry, bind func(string, int, int, bool, func(*Task, []cgpl.Value) (cgpl.Value, error))) {
	bind("StartBridge", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		peer, ok := a[0].(*cgpl.Task)
		if !ok || taskOf(peer) == nil {
			return cgpl.String("not a task handle"), nil
		}
		return errValue(tk.startBridge(peer)), nil
	})
	bind("AcceptBridge", 1, 1, false, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		return errValue(tk.acceptBridge(a[0])), nil
	})
	bind("RejectBridge", 2, 2, true, func(tk *Task, a []cgpl.Value) (cgpl.Value, error) {
		from, _ := eventSender(a[0])
		if from == nil || !isStartBridge(a[0]) {
			return nil, nil
		}
		why := "rejected"
		if s, ok := a[1].(cgpl.String); ok && s != "" {
			why = string(s)
		}
		from.answerBridge(why)
		return nil, nil
	})
	bind("BreakBridge", 0, 0, false, func(tk *Task, _ []cgpl.Value) (cgpl.Value, error) {
		if !tk.breakBridge() {
			return cgpl.String("no bridge"), nil
		}
		tk.trace(TraceEvent{Kind: "bridge", Detail: "broken"})
		return nil, nil
	})
	for _, name := range []string{"IsStartBridgeEvent", "IsBreakBridgeEvent"} {
		what := strings.TrimSuffix(strings.TrimPrefix(name, "Is"), "Event")
		reg.Register(cgpl.Func{Name: name, MinArgs: 1, MaxArgs: 1, Fn: func(_ *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
			if what == startBridgeEvent {
				return boolValue(isStartBridge(a[0])), nil
			}
			return boolValue(isSystemEvent(a[0], what)), nil
		}})
	}
}

// startBridge asks peer to take this task's call and waits for its
// answer.
func (tk *Task) startBridge(peer *cgpl.Task) error {
	pt := taskOf(peer)
	if pt == tk {
		return errors.New("a task cannot bridge with itself")
	}
	if tk.call.Mode() == callapi.Disconnected {
		return callapi.ErrDisconnected
	}
	reply := make(chan string, 1)
	tk.mu.Lock()
	if tk.bridging.cur != nil {
		tk.mu.Unlock()
		return errors.New("already bridged")
	}
	tk.bridging.reply = reply
	tk.mu.Unlock()
	defer func() {
		tk.mu.Lock()
		tk.bridging.reply = nil
		tk.mu.Unlock()
	}()
	ev := cgpl.NewDict()
	ev.Set("what", cgpl.String(startBridgeEvent))
	ev.Set("sender", tk.t)
	if !peer.Send(ev) {
		return errors.New("the task's event queue is full")
	}
	tk.trace(TraceEvent{Kind: "bridge", Detail: "asked " + pt.app + "#" + pt.owner.Name})
	timer := time.NewTimer(startBridgeWait)
	defer timer.Stop()
	select {
	case why := <-reply:
		if why != "" {
			return errors.New(why)
		}
		return nil
	case <-tk.gone:
		return callapi.ErrDisconnected
	case <-tk.t.Context().Done():
		return tk.t.Context().Err()
	case <-timer.C:
		return errors.New("no answer from the task")
	}
}

// answerBridge delivers the answer to this task's StartBridge, if it is
// still waiting.
func (tk *Task) answerBridge(why string) {
	tk.mu.Lock()
	ch := tk.bridging.reply
	tk.mu.Unlock()
	if ch != nil {
		select {
		case ch <- why:
		default:
		}
	}
}

// acceptBridge connects this task's call with the call of the task that
// sent the StartBridge event ev, answering that call first if pending.
func (tk *Task) acceptBridge(ev cgpl.Value) error {
	from, _ := eventSender(ev)
	if from == nil || !isStartBridge(ev) {
		return errors.New("not a StartBridge event")
	}
	fail := func(err error) error {
		from.answerBridge(err.Error())
		return err
	}
	if m := from.call.Mode(); m == callapi.Incoming || m == callapi.Provisioned {
		if err := from.call.Accept(from.t.Context()); err != nil {
			return fail(err)
		}
	}
	mine, theirs := tk.call.Session(), from.call.Session()
	if mine == nil || theirs == nil {
		return fail(callapi.ErrNoMedia)
	}
	// The sessions carry the other caller from now on, not prompts.
	mine.StopPlayback()
	theirs.StopPlayback()
	rb, err := media.Relay(theirs, mine)
	if err != nil {
		return fail(err)
	}
	br := &bridge{a: from, b: tk, br: rb}
	for _, t := range []*Task{from, tk} {
		t.mu.Lock()
		t.bridging.cur = br
		t.mu.Unlock()
	}
	tk.trace(TraceEvent{Kind: "bridge", Detail: "accepted " + from.app + "#" + from.owner.Name})
	from.answerBridge("")
	return nil
}
