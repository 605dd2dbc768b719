package cgpl_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
)

// runOpts compiles and runs src with opts (SysLog is set to collect).
func runOpts(t *testing.T, src string, opts cgpl.TaskOptions) ([]string, error) {
	t.Helper()
	mod, err := cgpl.Compile("t.sppr", []byte(src), cgpl.NewRegistry())
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var out []string
	opts.SysLog = func(l string) { out = append(out, l) }
	return out, mod.NewTask(context.Background(), opts).Run("")
}

func TestProcCallFuncCall(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"procedure and function by name", `
			procedure Say(x, y) is SysLog(x + y); end;
			function Twice(n) is return n * 2; end;
			entry Main is
				ProcCall("Say", "a", "b");
				SysLog(FuncCall("Twice", 21));
				SysLog(FuncCall("tWiCe", 1) + FuncCall("TWICE", 2));
				name = "Say"; ProcCall(name, "c", "d");
			end;`, []string{"ab", "#42", "#6", "cd"}},
		{"no arguments, method form", `
			function Five() is return 5; end;
			procedure Hello() is SysLog("hello"); end;
			entry Main is SysLog(FuncCall("Five")); ProcCall("Hello"); "Hello".ProcCall(); SysLog("five".FuncCall()); end;`,
			[]string{"#5", "hello", "hello", "#5"}},
		{"a function's value can be discarded", `
			function F() is SysLog("in F"); return 1; end;
			entry Main is FuncCall("F"); end;`, []string{"in F"}},
		{"arguments land in the callee's own slots", `
			function Add(a, b) is c = a + b; return c; end;
			function Mul(a, b) is return a * b; end;
			entry Main is
				x = 1;
				SysLog(FuncCall("Add", FuncCall("Mul", 2, FuncCall("Add", 1, 2)), FuncCall("Add", x, FuncCall("Mul", 3, 3))));
				SysLog(Add(FuncCall("Mul", 2, 5), Mul(FuncCall("Add", 1, 1), 7)));
			end;`, []string{"#16", "#24"}},
		{"recursion by name", `
			function Fib(n) is if n < 2 then return n; end if; return FuncCall("fib", n - 1) + FuncCall("Fib", n - 2); end;
			entry Main is SysLog(FuncCall("Fib", 15)); end;`, []string{"#610"}},
		{"locals start null on each call", `
			procedure P(n) is SysLog(IsString(x)); x = "set"; if n > 0 then ProcCall("P", n - 1); end if; SysLog(x); end;
			entry Main is ProcCall("P", 1); ProcCall("P", 0); end;`,
			[]string{"#null#", "#null#", "set", "set", "#null#", "set"}},
		{"task variables", `var n = 0;
			procedure Bump() is n += 1; end;
			entry Main is ProcCall("Bump"); ProcCall("bump"); SysLog(n); end;`, []string{"#2"}},
		{"stop inside", `procedure P() is SysLog("in"); stop; end; entry Main is ProcCall("P"); SysLog("not reached"); end;`,
			[]string{"in"}},
		{"own section named like the built-in wins", `
			procedure ProcCall(x) is SysLog("mine " + x); end;
			entry Main is ProcCall("x"); end;`, []string{"mine x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.src, cgpl.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(out, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("SysLog %q, want %q", out, tc.want)
			}
		})
	}
}

func TestProcCallExceptions(t *testing.T) {
	const prelude = "procedure P(x) is\n  SysLog(x);\nend;\nfunction F() is\n  return 1;\nend;\n"
	tests := []struct {
		name, src string
		lim       cgpl.Limits
		wantPos   string
		wantMsg   string
	}{
		{"unknown section", prelude + "entry Main is\n  ProcCall(\"Q\", 1);\nend;\n", cgpl.Limits{}, "t.sppr:8:3", "no procedure Q"},
		{"procedure called as a function", prelude + "entry Main is\n  x = FuncCall(\"P\", 1);\nend;\n", cgpl.Limits{}, "t.sppr:8:7", "P is a procedure, not a function"},
		{"function called as a procedure", prelude + "entry Main is\n  ProcCall(\"F\");\nend;\n", cgpl.Limits{}, "t.sppr:8:3", "F is a function, not a procedure"},
		{"entry", prelude + "entry Main is\n  ProcCall(\"main\");\nend;\n", cgpl.Limits{}, "t.sppr:8:3", "Main is an entry"},
		{"too many arguments", prelude + "entry Main is\n  ProcCall(\"P\", 1, 2);\nend;\n", cgpl.Limits{}, "t.sppr:8:3", "takes 1 argument, got 2"},
		{"too few arguments", prelude + "entry Main is\n  SysLog(FuncCall(\"F\", 3));\nend;\n", cgpl.Limits{}, "t.sppr:8:10", "takes 0 arguments, got 1"},
		{"name not a string", prelude + "entry Main is\n  ProcCall(1);\nend;\n", cgpl.Limits{}, "t.sppr:8:3", "must be a string"},
		{"other module", prelude + "entry Main is\n  ProcCall(\"Lib::P\", 1);\nend;\n", cgpl.Limits{}, "t.sppr:8:3", "module Lib is not available"},
		{"declared external", "procedure M::P() external;\nentry Main is\n  ProcCall(\"M::P\");\nend;\n", cgpl.Limits{}, "t.sppr:3:3", "module M is not available"},
		{"depth limit", "function D(n) is\n  return FuncCall(\"D\", n + 1);\nend;\nentry Main is\n  SysLog(D(0));\nend;\n",
			cgpl.Limits{MaxSteps: 1 << 30, SliceSteps: 1000, MaxDepth: 50}, "t.sppr:2:10", "deeper than 50"},
		{"budget", "procedure L() is\n  loop\n    x = 1;\n  end loop;\nend;\nentry Main is\n  ProcCall(\"L\");\nend;\n",
			cgpl.Limits{MaxSteps: 1000, SliceSteps: 100, MaxDepth: 10}, "t.sppr:", "budget"},
		{"exception inside keeps its position", prelude + "function G() is\n  return 1 - \"a\";\nend;\nentry Main is\n  SysLog(FuncCall(\"G\"));\nend;\n",
			cgpl.Limits{}, "t.sppr:8:12", "string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, tc.src, tc.lim)
			var re *cgpl.RuntimeError
			if !errors.As(err, &re) {
				t.Fatalf("want a program exception, got %v", err)
			}
			if !strings.HasPrefix(re.Error(), tc.wantPos) || !strings.Contains(re.Msg, tc.wantMsg) {
				t.Fatalf("exception %q, want position %s and %q", re.Error(), tc.wantPos, tc.wantMsg)
			}
		})
	}
}

func TestProcCallCompileErrors(t *testing.T) {
	for _, src := range []string{
		`entry Main is x = ProcCall("P"); end;`, // a procedure has no value
		`entry Main is ProcCall(); end;`,        // the name is required
		`entry Main is FuncCall(); end;`,
	} {
		if _, err := cgpl.Compile("t.sppr", []byte(src), cgpl.NewRegistry()); err == nil {
			t.Errorf("%s compiled", src)
		}
	}
}

// TestProcCallFromGo calls the built-in's Fn as a host would, from inside a
// host function, with args in the stack window the runtime gave it.
func TestProcCallFromGo(t *testing.T) {
	reg := cgpl.NewRegistry()
	pc, _ := reg.Lookup("FuncCall")
	reg.Register(cgpl.Func{Name: "HostCall", MinArgs: 2, MaxArgs: 2, Fn: func(tk *cgpl.Task, a []cgpl.Value) (cgpl.Value, error) {
		return pc.Fn(tk, []cgpl.Value{a[0], a[1], a[1]})
	}})
	mod, err := cgpl.Compile("t.sppr", []byte(`
		function Add(a, b) is x = a + b; y = x; return y; end;
		entry Main is SysLog(HostCall("Add", 20) + HostCall("add", FuncCall("Add", 1, 1))); end;`), reg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = mod.NewTask(context.Background(), cgpl.TaskOptions{SysLog: func(l string) { out = append(out, l) }}).Run("")
	if err != nil || strings.Join(out, "|") != "#44" {
		t.Fatalf("out %q, err %v", out, err)
	}
}

func TestQueuesOneTask(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"empty", `entry Main is SysLog(ReadQueue("q")); SysLog(CheckQueue("q")); Dequeue("q"); end;`,
			[]string{"#null#", "#null#"}},
		{"enqueue, check, read", `entry Main is
			SysLog(Enqueue("q", "p1"));
			SysLog(CheckQueue("q"));
			SysLog(CheckQueue("other"));
			r = ReadQueue("q");
			SysLog(Same(r.id, ThisTask())); SysLog(r.parameter);
			SysLog(CheckQueue("q")); SysLog(ReadQueue("q"));
		end;`, []string{"{length=#1;position=#0;}", "{length=#1;position=#0;}", "#null#", "YES", "p1", "#null#", "#null#"}},
		{"enqueue again updates the parameter, keeps the place", `entry Main is
			SysLog(Enqueue("q", "a")); SysLog(Enqueue("q", "b", 5)); SysLog(Enqueue("q", "c", "5"));
			SysLog(ReadQueue("q").parameter);
		end;`, []string{"{length=#1;position=#0;}", "{length=#1;position=#0;}", "{length=#1;position=#0;}", "c"}},
		{"dequeue", `entry Main is Enqueue("q"); Dequeue("q"); SysLog(CheckQueue("q")); SysLog(ReadQueue("q")); end;`,
			[]string{"#null#", "#null#"}},
		{"parameter is a copy", `entry Main is
			p = NewDictionary(); p.n = 1; Enqueue("q", p); p.n = 2;
			SysLog(ReadQueue("q").parameter.n);
		end;`, []string{"#1"}},
		{"no parameter", `entry Main is Enqueue("q"); r = ReadQueue("q"); SysLog(IsTask(r.id)); SysLog(r.parameter); end;`,
			[]string{"YES", "#null#"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.src, cgpl.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(out, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("SysLog %q, want %q", out, tc.want)
			}
		})
	}
}

func TestHubExceptions(t *testing.T) {
	for _, tc := range []struct{ src, msg string }{
		{`entry Main is Enqueue(1); end;`, "queue name must be a string"},
		{`entry Main is Enqueue(""); end;`, "queue name is empty"},
		{`entry Main is Enqueue("q", null, 10); end;`, "priority must be a digit"},
		{`entry Main is Enqueue("q", null, "high"); end;`, "priority must be a digit"},
		{`entry Main is SysLog(ReadQueue(null)); end;`, "must be a string"},
		{`entry Main is SysLog(CreateMeeting("s", 5)); end;`, "meeting key must be a string"},
		{`entry Main is SysLog(FindMeeting(null, "k")); end;`, "meeting set name must be a string"},
	} {
		_, err := run(t, tc.src, cgpl.Limits{})
		var re *cgpl.RuntimeError
		if !errors.As(err, &re) || !strings.Contains(re.Msg, tc.msg) {
			t.Errorf("%s: got %v, want an exception with %q", tc.src, err, tc.msg)
		}
	}
}

// TestQueuePriority: tasks of a shared hub, enqueued with priorities, are
// read highest priority first, first in first out within one.
func TestQueuePriority(t *testing.T) {
	hub := cgpl.NewHub(cgpl.HubLimits{})
	mod, err := cgpl.Compile("t.sppr", []byte(`
		entry Main is
			p = Vars().startParameter;
			SysLog(Enqueue("q", p.name, p.pty).position);
			e = ReadInput(10);
		end;
		entry Reader is
			loop
				r = ReadQueue("q");
				exitif r == null;
				SysLog(r.parameter);
				Void(SendEvent(r.id, "done"));
			end loop;
		end;`), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	items := []struct {
		name string
		pty  cgpl.Value
		pos  string
	}{{"a", nil, "#0"}, {"b", cgpl.String("7"), "#0"}, {"c", cgpl.Number(5), "#2"}, {"d", cgpl.Number(9), "#0"}, {"e", cgpl.Number(0), "#4"}}
	var wg sync.WaitGroup
	outs := make([][]string, len(items))
	for i, it := range items {
		p := cgpl.NewDict()
		p.Set("name", cgpl.String(it.name))
		if it.pty != nil {
			p.Set("pty", it.pty)
		}
		task := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: "acd@example.com", Param: p,
			SysLog: func(l string) { outs[i] = append(outs[i], l) }})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := task.Run(""); err != nil {
				t.Error(err)
			}
		}()
		waitFor(t, func() bool { return hub.QueueLength("acd@example.com", "q") == i+1 })
	}
	var got []string
	reader := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: "acd@example.com",
		SysLog: func(l string) { got = append(got, l) }})
	if err := reader.Run("Reader"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if strings.Join(got, "") != "dbace" {
		t.Errorf("read order %q, want d b a c e", got)
	}
	for i, it := range items {
		if strings.Join(outs[i], "|") != it.pos {
			t.Errorf("%s: position %q, want %s", it.name, outs[i], it.pos)
		}
	}
	if n := hub.QueueLength("acd@example.com", "q"); n != 0 {
		t.Errorf("%d left in the queue", n)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// TestQueueExchange: one task enqueues itself and waits; another reads it
// from the queue and sends it an event back with the work done.
func TestQueueExchange(t *testing.T) {
	hub := cgpl.NewHub(cgpl.HubLimits{})
	mod, err := cgpl.Compile("t.sppr", []byte(`
		entry Caller is
			SysLog(Enqueue("support", "caller 1"));
			e = ReadInput(10);
			SysLog(e.what + " " + e.parameter);
			SysLog(CheckQueue("support"));
		end;
		entry Agent is
			r = ReadQueue("support");
			SysLog(IsTask(r.id));
			SysLog(SendEvent(r.id, "connected", "agent for " + r.parameter));
			SysLog(ReadQueue("support"));
		end;`), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	const owner = "sales@example.com"
	var callerOut, agentOut []string
	caller := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, SysLog: func(l string) { callerOut = append(callerOut, l) }})
	done := make(chan error, 1)
	go func() { done <- caller.Run("Caller") }()
	waitFor(t, func() bool { return hub.QueueLength(owner, "support") == 1 })

	// An agent of another account does not see the queue.
	other := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: "other@example.com", SysLog: func(string) {}})
	if err := other.Run("Agent"); err == nil {
		t.Fatal("another account's agent read the queue")
	}
	agent := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, SysLog: func(l string) { agentOut = append(agentOut, l) }})
	if err := agent.Run("Agent"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(callerOut, "|"); got != "{length=#1;position=#0;}|connected agent for caller 1|#null#" {
		t.Errorf("caller: %s", got)
	}
	if got := strings.Join(agentOut, "|"); got != "YES|#null#|#null#" {
		t.Errorf("agent: %s", got)
	}
}

// TestTaskEndLeavesQueues: a task that ends, however it ends, is taken out
// of its queues and its meetings are deactivated.
func TestTaskEndLeavesQueues(t *testing.T) {
	for _, tc := range []struct{ name, end string }{
		{"return", ""}, {"stop", "stop;"}, {"exception", `x = 1 - "a";`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := cgpl.NewHub(cgpl.HubLimits{})
			_, _ = runOpts(t, `entry Main is
				Void(Enqueue("a", 1)); Void(Enqueue("b", 2, 9));
				Void(CreateMeeting("conf", "100", "room"));
				Void(ActivateMeeting("conf", "100"));
				`+tc.end+`
			end;`, cgpl.TaskOptions{Hub: hub, Email: "x@example.com"})
			if hub.QueueLength("x@example.com", "a")+hub.QueueLength("x@example.com", "b") != 0 {
				t.Error("the task is still queued")
			}
			out, err := runOpts(t, `entry Main is m = FindMeeting("conf", "100"); SysLog(m.parameter); SysLog(m.id); end;`,
				cgpl.TaskOptions{Hub: hub, Email: "x@example.com"})
			if err != nil || strings.Join(out, "|") != "room|#null#" {
				t.Errorf("meeting after the task ended: %q %v", out, err)
			}
		})
	}
}

func TestMeetings(t *testing.T) {
	hub := cgpl.NewHub(cgpl.HubLimits{})
	mod, err := cgpl.Compile("t.sppr", []byte(`
		entry Host is
			SysLog(FindMeeting("conf", "100"));
			SysLog(CreateMeeting("conf", "100", "room 100"));
			SysLog(CreateMeeting("conf", "100"));
			SysLog(ActivateMeeting("conf", "100", "host"));
			SysLog(ActivateMeeting("conf", "100", "host again"));
			m = FindMeeting("conf", "100");
			SysLog(m.parameter); SysLog(Same(m.id, ThisTask())); SysLog(m.activeParameter);
			SysLog(SendEvent(Vars().startParameter, "ready"));
			e = ReadInput(10);
			SysLog(e.what);
			SysLog(DeactivateMeeting("conf", "100"));
			SysLog(DeactivateMeeting("conf", "100"));
			SysLog(FindMeeting("conf", "100"));
			SysLog(RemoveMeeting("conf", "100"));
			SysLog(RemoveMeeting("conf", "100"));
			SysLog(FindMeeting("conf", "100"));
			SysLog(ActivateMeeting("conf", "100"));
			SysLog(DeactivateMeeting("conf", "100"));
			SysLog(ClearMeeting("conf", "100"));
		end;
		entry Guest is
			m = FindMeeting("conf", "100");
			SysLog(m.parameter);
			SysLog(IsTask(m.id));
			SysLog(ActivateMeeting("conf", "100"));
			SysLog(DeactivateMeeting("conf", "100"));
			SysLog(FindMeeting("conf", "200"));
			SysLog(FindMeeting("other", "100"));
			SysLog(SendEvent(m.id, "joined"));
		end;
		entry Clear is
			SysLog(CreateMeeting("s", "k", "p"));
			SysLog(ActivateMeeting("s", "k"));
			SysLog(SendEvent(Vars().startParameter, "active"));
			e = ReadInput(10); // "cleared", from the clearer
			e = ReadInput(10); // "go", once the clearer has ended
			SysLog(FindMeeting("s", "k").id);
		end;
		entry Clearer is
			SysLog(ClearMeeting("s", "k"));
			SysLog(FindMeeting("s", "k"));
			SysLog(ActivateMeeting("s", "k"));
			SysLog(Same(FindMeeting("s", "k").id, ThisTask()));
			SysLog(SendEvent(Vars().startParameter, "cleared"));
		end;`), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	const owner = "conf@example.com"
	// The test itself is a task of the same module that waits for "ready".
	waiter := mod.NewTask(context.Background(), cgpl.TaskOptions{})
	var hostOut, guestOut []string
	host := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, Param: waiter,
		SysLog: func(l string) { hostOut = append(hostOut, l) }})
	done := make(chan error, 1)
	go func() { done <- host.Run("Host") }()
	if ev, err := waiter.ReadEvent(10 * time.Second); err != nil || ev == nil {
		t.Fatalf("host not ready: %v", err)
	}
	guest := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, SysLog: func(l string) { guestOut = append(guestOut, l) }})
	if err := guest.Run("Guest"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantHost := []string{"#null#", "#null#", "meeting already exists", "#null#", "#null#", "room 100", "YES", "host again", "#null#",
		"joined", "#null#", "#null#", "{parameter=\"room 100\";}", "#null#", "meeting not found", "#null#",
		"meeting not found", "meeting not found", "meeting not found"}
	if strings.Join(hostOut, "|") != strings.Join(wantHost, "|") {
		t.Errorf("host:\n got %q\nwant %q", hostOut, wantHost)
	}
	wantGuest := []string{"room 100", "YES", "meeting is active in another task", "meeting is active in another task", "#null#", "#null#", "#null#"}
	if strings.Join(guestOut, "|") != strings.Join(wantGuest, "|") {
		t.Errorf("guest:\n got %q\nwant %q", guestOut, wantGuest)
	}
	if n := hub.MeetingCount(owner); n != 0 {
		t.Errorf("%d meetings left", n)
	}

	// ClearMeeting deactivates a meeting another task activated.
	var clearOut, clearerOut []string
	active := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, Param: waiter,
		SysLog: func(l string) { clearOut = append(clearOut, l) }})
	go func() { done <- active.Run("Clear") }()
	if ev, err := waiter.ReadEvent(10 * time.Second); err != nil || ev == nil {
		t.Fatalf("not active: %v", err)
	}
	clearer := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, Param: active,
		SysLog: func(l string) { clearerOut = append(clearerOut, l) }})
	if err := clearer.Run("Clearer"); err != nil {
		t.Fatal(err)
	}
	// The clearer has ended, so its activation is gone: let the first task look.
	goEv := cgpl.NewDict()
	goEv.Set("what", cgpl.String("go"))
	active.Send(goEv)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(clearOut, "|"); got != "#null#|#null#|#null#|#null#" {
		t.Errorf("active task: %s", got)
	}
	if got := strings.Join(clearerOut, "|"); got != "#null#|{parameter=p;}|#null#|YES|#null#" {
		t.Errorf("clearer: %s", got)
	}
}

func TestHubBounds(t *testing.T) {
	hub := cgpl.NewHub(cgpl.HubLimits{MaxQueues: 2, MaxQueueLength: 3, MaxMeetings: 2, MaxNameLength: 8, MaxParamSize: 100})
	mod, err := cgpl.Compile("t.sppr", []byte(`
		entry Main is
			SysLog(Enqueue(Vars().startParameter));
			e = ReadInput(10);
		end;
		entry Limits is
			big = "";
			i = 0; while i < 200 loop big += "x"; i += 1; end loop;
			SysLog(Enqueue("q1", big));
			SysLog(CreateMeeting("s", "k1"));
			SysLog(CreateMeeting("s", "k2"));
			SysLog(CreateMeeting("s", "k3"));
			SysLog(RemoveMeeting("s", "k1"));
			SysLog(CreateMeeting("s", "k3", big));
			SysLog(CreateMeeting("s", "k3", "small"));
			SysLog(ActivateMeeting("s", "k3", big));
			Void(Enqueue("123456789"));
		end;`), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	const owner = "b@example.com"
	var tasks []*cgpl.Task
	done := make(chan error, 10)
	// enqueue starts a task that enqueues itself in q and waits; it gives
	// what Enqueue returned.
	enqueue := func(q string) string {
		lines := make(chan string, 1)
		task := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, Param: cgpl.String(q),
			SysLog: func(l string) { lines <- l }})
		tasks = append(tasks, task)
		go func() { done <- task.Run("") }()
		return <-lines
	}
	for i, want := range []string{"{length=#1;position=#0;}", "{length=#2;position=#1;}", "{length=#3;position=#2;}", "#null#"} {
		if got := enqueue("q1"); got != want {
			t.Errorf("task %d in a queue of at most 3: %s, want %s", i, got, want)
		}
	}
	if got := enqueue("q2"); got != "{length=#1;position=#0;}" {
		t.Errorf("second queue: %s", got)
	}
	if got := enqueue("q3"); got != "#null#" {
		t.Errorf("third queue of at most 2: %s", got)
	}

	var out []string
	lim := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, SysLog: func(l string) { out = append(out, l) }})
	err = lim.Run("Limits")
	var re *cgpl.RuntimeError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "longer than 8 bytes") {
		t.Errorf("long name: %v", err)
	}
	want := []string{"#null#", "#null#", "#null#", "too many meetings", "#null#", "parameter too large", "#null#", "parameter too large"}
	if strings.Join(out, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", out, want)
	}
	// Another account has its own bounds.
	other := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: "c@example.com", Param: cgpl.String("q1"), SysLog: func(string) {}})
	go func() { done <- other.Run("") }()
	waitFor(t, func() bool { return hub.QueueLength("c@example.com", "q1") == 1 })
	for _, task := range append(tasks, other) {
		ev := cgpl.NewDict()
		ev.Set("what", cgpl.String("go"))
		task.Send(ev)
	}
	for range len(tasks) + 1 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if hub.QueueLength(owner, "q1")+hub.QueueLength(owner, "q2")+hub.QueueLength("c@example.com", "q1") != 0 {
		t.Error("tasks left in queues")
	}
}

// TestHubConcurrent runs producers and consumers of one queue and tasks
// racing for meetings at once (go test -race checks the locking).
func TestHubConcurrent(t *testing.T) {
	hub := cgpl.NewHub(cgpl.HubLimits{})
	mod, err := cgpl.Compile("t.sppr", []byte(`
		entry Producer is
			p = NewDictionary(); p.n = Vars().startParameter;
			r = Enqueue("work", p, Vars().startParameter % 10);
			if r == null then stop; end if;
			e = ReadInput(30);
			SysLog(e.what);
		end;
		entry Consumer is
			n = 0;
			loop
				r = ReadQueue("work");
				if r == null then
					exitif ReadInput(0) != null;
				else
					r.parameter.n = r.parameter.n + 1;
					Void(SendEvent(r.id, "done", r.parameter));
					n += 1;
				end if;
			end loop;
			SysLog(n);
		end;
		entry Meet is
			k = String(Vars().startParameter % 5);
			i = 0;
			while i < 50 loop
				p = NewDictionary(); p.z = i; p.a = Vars().startParameter; p.list = NewArray(); p.list[0] = p.a;
				Void(CreateMeeting("set", k, p));
				if ActivateMeeting("set", k, i) == null then
					// Another task may have removed or cleared it since.
					m = FindMeeting("set", k);
					if m != null and not IsNumber(m.parameter.list[0]) then SysLog("wrong parameter"); end if;
					Void(DeactivateMeeting("set", k));
				end if;
				Void(FindMeeting("set", k));
				if i % 7 == 0 then Void(RemoveMeeting("set", k)); end if;
				i += 1;
			end loop;
			Void(ClearMeeting("set", k));
		end;`), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	const owner = "load@example.com"
	const producers, consumers, meeters = 200, 4, 20
	var mu sync.Mutex
	var lines []string
	syslog := func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }
	var wg, prodWG sync.WaitGroup
	errs := make(chan error, producers+consumers+meeters)
	startTask := func(entry string, p int, wg *sync.WaitGroup) *cgpl.Task {
		// Consumers poll: no instruction budget.
		lim := cgpl.Limits{SliceSteps: 1000, MaxDepth: 10}
		task := mod.NewTask(context.Background(), cgpl.TaskOptions{Hub: hub, Email: owner, Param: cgpl.Number(p), SysLog: syslog, Limits: lim})
		wg.Add(1)
		go func() { defer wg.Done(); errs <- task.Run(entry) }()
		return task
	}
	var cons []*cgpl.Task
	for i := 0; i < consumers; i++ {
		cons = append(cons, startTask("Consumer", 0, &wg))
	}
	for i := 0; i < producers; i++ {
		startTask("Producer", i, &prodWG)
	}
	for i := 0; i < meeters; i++ {
		startTask("Meet", i, &wg)
	}
	prodWG.Wait()
	for _, c := range cons {
		ev := cgpl.NewDict()
		ev.Set("what", cgpl.String("stop"))
		c.Send(ev)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	done, total := 0, 0
	for _, l := range lines {
		switch {
		case l == "done":
			done++
		case strings.HasPrefix(l, "#"):
			var n int
			fmt.Sscanf(l, "#%d", &n)
			total += n
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if done != producers || total != producers {
		t.Errorf("%d producers served, consumers counted %d; want %d", done, total, producers)
	}
	if hub.QueueLength(owner, "work") != 0 {
		t.Error("queue not empty")
	}
}
