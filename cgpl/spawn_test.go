package cgpl_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
)

// exits collects the OnExit reports of spawned tasks.
type exits struct {
	ch chan error
}

func newExits() *exits { return &exits{ch: make(chan error, 100)} }

func (e *exits) hook(_ *cgpl.Task, err error) { e.ch <- err }

// wait waits for n spawned tasks to end and returns their errors.
func (e *exits) wait(t *testing.T, n int) []error {
	t.Helper()
	var errs []error
	for range n {
		select {
		case err := <-e.ch:
			errs = append(errs, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d spawned tasks ended", len(errs), n)
		}
	}
	return errs
}

func compileSpawn(t *testing.T, src string) *cgpl.Module {
	t.Helper()
	mod, err := cgpl.Compile("t.sppr", []byte(src), cgpl.NewRegistry())
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return mod
}

func TestSpawnWorkersReportBack(t *testing.T) {
	mod := compileSpawn(t, `
		entry Worker is
			p = Vars().startParameter;
			SysLog("worker " + String(p.n) + " of " + MyEmail());
			SendEvent(p.parent, "result", p.n * 10);
		end;
		entry Quiet is end;
		entry Main is
			p = NewDictionary();
			p.parent = ThisTask();
			p.n = 1;
			a = spawn Worker(p);
			p.n = 2;
			b = spawn Worker(p);
			spawn Quiet;
			sum = 0;
			i = 0;
			while i < 2 loop
				e = ReadInput(10);
				if Same(e.sender, a) then sum += e.parameter; elif Same(e.sender, b) then sum += 100 * e.parameter; end if;
				i += 1;
			end loop;
			SysLog("sum " + String(sum));
		end;`)
	var mu sync.Mutex
	var out []string
	ex := newExits()
	task := mod.NewTask(context.Background(), cgpl.TaskOptions{Email: "ivanov@example.com", OnExit: ex.hook,
		SysLog: func(l string) { mu.Lock(); out = append(out, l); mu.Unlock() }})
	if err := task.Run(""); err != nil {
		t.Fatal(err)
	}
	for _, err := range ex.wait(t, 3) {
		if err != nil {
			t.Errorf("spawned task: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(out)
	if got := strings.Join(out, "|"); got != "sum 2010|worker 1 of ivanov@example.com|worker 2 of ivanov@example.com" {
		t.Fatalf("SysLog: %q", got)
	}
}

func TestSpawnCompileErrors(t *testing.T) {
	src := "entry Main is\n  spawn P;\n  x = spawn Ghost(1);\n  spawn Main(1, 2);\nend;\nprocedure P() is end;\n"
	_, err := cgpl.Compile("t.sppr", []byte(src), cgpl.NewRegistry())
	var el cgpl.ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("want compile errors, got %v", err)
	}
	want := []string{
		"t.sppr:2:9: spawn needs an entry; P is a procedure",
		"t.sppr:3:13: spawn of unknown entry Ghost",
		"t.sppr:4:9: spawn passes at most one parameter, got 2",
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

func TestSpawnLimit(t *testing.T) {
	mod := compileSpawn(t, `
		entry Waiter is e = ReadInput(60); end;
		entry Main is
			i = 0;
			loop
				spawn Waiter;
				i += 1;
				SysLog(i);
			end loop;
		end;`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out []string
	ex := newExits()
	lim := cgpl.DefaultLimits()
	lim.MaxSpawn = 3
	err := mod.NewTask(ctx, cgpl.TaskOptions{Limits: lim, OnExit: ex.hook, SysLog: func(l string) { out = append(out, l) }}).Run("")
	var re *cgpl.RuntimeError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "too many spawned tasks") {
		t.Fatalf("want the spawn limit exception, got %v", err)
	}
	if got := strings.Join(out, "|"); got != "#1|#2|#3" {
		t.Fatalf("SysLog %q", got)
	}
	// The waiters are still there; cancelling the parent's context ends them.
	cancel()
	for _, err := range ex.wait(t, 3) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("waiter ended with %v, want context.Canceled", err)
		}
	}

	lim.MaxSpawn = -1
	err = mod.NewTask(context.Background(), cgpl.TaskOptions{Limits: lim}).Run("")
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "spawn is not allowed") {
		t.Fatalf("want spawn refused, got %v", err)
	}
}

// The limit counts the whole tree: a spawned task's own spawns count too.
func TestSpawnLimitCountsGrandchildren(t *testing.T) {
	mod := compileSpawn(t, `
		entry Chain is
			parent = Vars().startParameter;
			child = spawn Chain(parent);
			SendEvent(parent, "spawned");
			e = ReadInput(60);
		end;
		entry Main is
			spawn Chain(ThisTask());
			n = 0;
			loop
				e = ReadInput(10);
				exitif e == null;
				n += 1;
			end loop;
		end;`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ex := newExits()
	lim := cgpl.DefaultLimits()
	lim.MaxSpawn = 4
	done := make(chan error, 1)
	go func() {
		done <- mod.NewTask(ctx, cgpl.TaskOptions{Limits: lim, OnExit: ex.hook}).Run("")
	}()
	// Chain 1..4 start; the 4th fails to spawn a 5th and ends by an exception.
	var re *cgpl.RuntimeError
	if err := ex.wait(t, 1)[0]; !errors.As(err, &re) || !strings.Contains(re.Msg, "at most 4") {
		t.Fatalf("want the limit exception in the last of the chain, got %v", err)
	}
	cancel()
	for _, err := range ex.wait(t, 3) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("chain task ended with %v, want context.Canceled", err)
		}
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("parent: %v", err)
	}
}

func TestSpawnCancelEndsChildren(t *testing.T) {
	mod := compileSpawn(t, `
		entry Spin is loop x = 1; end loop; end;
		entry Wait is e = ReadInput(1000); end;
		entry Main is
			spawn Spin;
			spawn Wait;
			e = ReadInput(1000);
		end;`)
	ctx, cancel := context.WithCancel(context.Background())
	ex := newExits()
	done := make(chan error, 1)
	lim := cgpl.DefaultLimits()
	lim.MaxSteps = 0 // Spin would otherwise end on its budget
	go func() { done <- mod.NewTask(ctx, cgpl.TaskOptions{Limits: lim, OnExit: ex.hook}).Run("") }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("parent: %v", err)
	}
	for _, err := range ex.wait(t, 2) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("child ended with %v, want context.Canceled", err)
		}
	}
}

func TestSpawnedExceptionGoesToOnExit(t *testing.T) {
	mod := compileSpawn(t, `
		entry Bad is SendEvent(ThisTask(), 5); end;
		entry Main is
			t = spawn Bad;
			SysLog(IsTask(t));
		end;`)
	var out []string
	ex := newExits()
	if err := mod.NewTask(context.Background(), cgpl.TaskOptions{OnExit: ex.hook, SysLog: func(l string) { out = append(out, l) }}).Run(""); err != nil {
		t.Fatalf("the parent should not see the child's exception: %v", err)
	}
	var re *cgpl.RuntimeError
	if err := ex.wait(t, 1)[0]; !errors.As(err, &re) || !strings.Contains(re.Msg, "event name") || re.Pos.Line != 2 {
		t.Fatalf("OnExit got %v", err)
	}
	if strings.Join(out, "|") != "YES" {
		t.Fatalf("SysLog %q", out)
	}

	// Without OnExit nothing is reported, and nothing breaks.
	if err := mod.NewTask(context.Background(), cgpl.TaskOptions{}).Run(""); err != nil {
		t.Fatal(err)
	}
}
