package cgpl

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// spawnTree is shared by a task that spawns and every task spawned from it,
// directly or not: it counts the live spawned tasks (bounded by
// Limits.MaxSpawn) and serialises their SysLog lines, since the tasks run in
// parallel and the host's sink need not be safe for concurrent use.
type spawnTree struct {
	live  atomic.Int64
	logMu sync.Mutex
}

// spawn starts the entry cd of the task's module in a new task and returns
// its handle. The new task gets the task's options as they are now (SysLog
// sink, identity, limits, Hub, language, zone, clock, OnExit), except the
// host's Data, which is the host's state for the spawning task only; param
// (already copied by the caller) becomes its Vars().startParameter. Its
// context is a child of the task's, so cancelling the task cancels it. It
// runs on its own goroutine; how it ends goes to OnExit, if set.
func (t *Task) spawn(pos Pos, cd *code, entry string, param Value) *Task {
	limit := int64(t.opts.Limits.MaxSpawn)
	if limit == 0 {
		limit = DefaultMaxSpawn
	}
	if limit < 0 {
		t.fail(pos, "spawn is not allowed for this task")
	}
	if cd.kind != EntrySection {
		t.fail(pos, "spawn needs an entry; %s is %s %s", cd.name, article(cd.kind), cd.kind)
	}
	tree := t.tree
	if tree == nil {
		tree = &spawnTree{}
		t.tree = tree
		if log := t.opts.SysLog; log != nil {
			t.opts.SysLog = func(line string) {
				tree.logMu.Lock()
				defer tree.logMu.Unlock()
				log(line)
			}
		}
	}
	if tree.live.Add(1) > limit {
		tree.live.Add(-1)
		t.fail(pos, "too many spawned tasks (at most %d may run at once)", limit)
	}
	opts := t.opts
	opts.Hub = t.Hub() // shared: a task without a Hub gets one now, for both
	opts.Param = param
	opts.Data = nil
	ctx, cancel := context.WithCancel(t.ctx)
	child := t.mod.NewTask(ctx, opts)
	child.tree = tree
	go func() {
		err := child.runSpawned(entry)
		cancel()
		tree.live.Add(-1)
		if opts.OnExit != nil {
			opts.OnExit(child, err)
		}
	}()
	return child
}

// runSpawned is Run for a spawned task: a Go panic (a bug in a host
// function, say) ends that task with an error instead of the process.
func (t *Task) runSpawned(entry string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: spawned task %s panicked: %v", t.mod.file, entry, r)
		}
	}()
	return t.Run(entry)
}
