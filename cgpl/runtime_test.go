package cgpl_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
)

// run compiles and runs src, returning the SysLog lines and Run's error.
func run(t *testing.T, src string, lim cgpl.Limits) ([]string, error) {
	t.Helper()
	mod, err := cgpl.Compile("t.sppr", []byte(src), cgpl.NewRegistry())
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var out []string
	task := mod.NewTask(context.Background(), cgpl.TaskOptions{Limits: lim, SysLog: func(l string) { out = append(out, l) },
		Email: "ivanov@example.com", Domain: "example.com"})
	return out, task.Run("")
}

func TestRun(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"arithmetic and precedence", `entry Main is SysLog(-2 + 1); SysLog(2 + 3 * 4); SysLog(7 / 2); SysLog(7 % 3); end;`,
			[]string{"#-1", "#14", "#3", "#1"}},
		{"strings", `entry Main is s = "Jim" + " " + "Smith"; SysLog(s); SysLog(s.length()); SysLog(Substring(s, 0, 3)); end;`,
			[]string{"Jim Smith", "#9", "Jim"}},
		{"if elif else", `entry Main is
			x = 5;
			if x < 3 then SysLog("small"); elif x < 10 then SysLog("medium"); else SysLog("large"); end if;
		end;`, []string{"medium"}},
		{"loop exitif and while", `entry Main is
			i = 0; loop i += 1; exitif i >= 3; end loop; SysLog(i);
			while i > 0 loop i -= 1; end loop; SysLog(i);
		end;`, []string{"#3", "#0"}},
		{"functions, recursion and procedures", `
			function Fib(n) is if n < 2 then return n; end if; return Fib(n - 1) + Fib(n - 2); end;
			procedure Say(x) is SysLog("say " + String(x)); end;
			entry Main is Say(Fib(15)); end;`, []string{"say 610"}},
		{"locals are per call", `
			function F(n) is x = n; if n > 0 then G = F(n - 1); end if; return x; end;
			entry Main is SysLog(F(3)); end;`, []string{"#3"}},
		{"arrays and dictionaries shared by reference", `entry Main is
			a = NewArray(); b = a; b[0] = "x"; b[1] = "y"; SysLog(a);
			d = NewDictionary(); d.one = 1; d.("two") = 2; e = d; e.three = 3; SysLog(d); SysLog(d[0]);
			d.one = null; SysLog(d);
		end;`, []string{"(x,y)", "{one=#1;three=#3;two=#2;}", "one", "{three=#3;two=#2;}"}},
		{"truth values", `entry Main is
			SysLog(true); SysLog(false); SysLog(not null); SysLog(1 == 1); SysLog(1 == 2);
			if 0 then SysLog("zero is true"); end if;
			SysLog(null and 1); SysLog(null or 1);
		end;`, []string{"YES", "#null#", "YES", "YES", "#null#", "zero is true", "#null#", "YES"}},
		{"ternary is right-associative", `entry Main is x = 2; SysLog(x == 1 ? "one" : x == 2 ? "two" : "many"); end;`,
			[]string{"two"}},
		{"task variables", `var counter = 10;
			procedure Bump() is counter += 1; end;
			entry Main is Bump(); Bump(); SysLog(counter); Vars().x = "v"; SysLog(Vars().x); end;`, []string{"#12", "v"}},
		{"identity", `entry Main is SysLog(MyEmail()); SysLog(MyDomain()); end;`, []string{"ivanov@example.com", "example.com"}},
		{"stop ends the task", `procedure P() is SysLog("in P"); stop; end; entry Main is P(); SysLog("not reached"); end;`,
			[]string{"in P"}},
		{"C-style syntax", `
			function Twice(x) { return x * 2; }
			entry Main {
				myName = "Jim" + " " + "Smith";
				if(myName.length() > 5) { myName = myName.substring(0, 3) + ".."; }
				SysLog(myName);
				i = 0; while i < 3 { i += 1; } SysLog(Twice(i));
			}`, []string{"Jim..", "#6"}},
		{"events to itself", `entry Main is
			SysLog(SendEvent(ThisTask(), "hello", "param"));
			e = ReadInput(1); SysLog(e.what); SysLog(e.parameter); SysLog(Same(e.sender, ThisTask()));
			SysLog(ReadInput(0));
		end;`, []string{"#null#", "hello", "param", "YES", "#null#"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.src, cgpl.Limits{})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if strings.Join(out, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("SysLog:\n%s\nwant:\n%s", strings.Join(out, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestExceptions(t *testing.T) {
	tests := []struct {
		name, src string
		lim       cgpl.Limits
		wantPos   string
		wantMsg   string
		wantOut   []string
	}{
		{"type mismatch", "entry Main is\n  SysLog(\"before\");\n  x = \"a\" - 1;\nend;\n", cgpl.Limits{}, "t.sppr:3:11", "string", []string{"before"}},
		{"budget", "entry Main is\n  loop\n    x = 1;\n  end loop;\nend;\n", cgpl.Limits{MaxSteps: 1000, SliceSteps: 100, MaxDepth: 10}, "t.sppr:", "budget", nil},
		{"recursion depth", "function F(n) is\n  return F(n + 1);\nend;\nentry Main is\n  SysLog(F(0));\nend;\n",
			cgpl.Limits{MaxSteps: 1 << 30, SliceSteps: 1000, MaxDepth: 50}, "t.sppr:2:", "deeper", nil},
		{"memory", "entry Main is\n  s = \"x\";\n  loop\n    s = s + s;\n  end loop;\nend;\n",
			cgpl.Limits{MaxSteps: 1 << 30, SliceSteps: 1000, MaxDepth: 50, MaxMemory: 1 << 20}, "t.sppr:4:", "memory", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.src, tc.lim)
			var re *cgpl.RuntimeError
			if !errors.As(err, &re) {
				t.Fatalf("want a program exception, got %v", err)
			}
			if !strings.HasPrefix(re.Error(), tc.wantPos) || !strings.Contains(re.Msg, tc.wantMsg) {
				t.Fatalf("exception %q, want position %s and %q", re.Error(), tc.wantPos, tc.wantMsg)
			}
			if strings.Join(out, "|") != strings.Join(tc.wantOut, "|") {
				t.Fatalf("SysLog %q, want %q", out, tc.wantOut)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	mod, err := cgpl.Compile("t.sppr", []byte("entry Main is loop x = 1; end loop; end;"), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mod.NewTask(ctx, cgpl.TaskOptions{}).Run("Main") }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled task did not stop")
	}
}

func TestTasksExchangeEvents(t *testing.T) {
	mod, err := cgpl.Compile("t.sppr", []byte(`
		entry Main is
			e = ReadInput(10);
			SysLog("got " + e.what);
			SysLog(SendEvent(e.sender, "pong", e.parameter + "!"));
		end;`), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	server := mod.NewTask(context.Background(), cgpl.TaskOptions{SysLog: func(l string) { got = append(got, l) }})
	client := mod.NewTask(context.Background(), cgpl.TaskOptions{})
	done := make(chan error, 1)
	go func() { done <- server.Run("") }()
	ev := cgpl.NewDict()
	ev.Set("what", cgpl.String("ping"))
	ev.Set("sender", client)
	ev.Set("parameter", cgpl.String("hi"))
	if !server.Send(ev) {
		t.Fatal("queue full")
	}
	reply, err := client.ReadEvent(10 * time.Second)
	if err != nil || reply == nil {
		t.Fatalf("no reply: %v", err)
	}
	if d := reply.(*cgpl.Dict); d.Get("what") != cgpl.String("pong") || d.Get("parameter") != cgpl.String("hi!") {
		t.Fatalf("reply %s", cgpl.ObjectToString(reply))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "got ping|#null#" {
		t.Fatalf("server SysLog %q", got)
	}
}

func TestCompileErrors(t *testing.T) {
	_, err := cgpl.Compile("bad.sppr", []byte("entry Main is\n  x = NoSuchFunction(1);\n  SysLog(1, 2);\nend;\n"), cgpl.NewRegistry())
	var el cgpl.ErrorList
	if !errors.As(err, &el) || len(el) != 2 {
		t.Fatalf("want 2 compile errors, got %v", err)
	}
	if !strings.HasPrefix(el[0].Error(), "bad.sppr:2:7:") || !strings.HasPrefix(el[1].Error(), "bad.sppr:3:3:") {
		t.Fatalf("positions: %v", el)
	}
}

// TestSeedPrograms runs the seed article's example programs when ../shared
// is checked out beside the repository.
func TestSeedPrograms(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "fixtures")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/fixtures is not checked out beside the repository; the seed programs are not part of it")
	}
	for _, name := range []string{"myname-basic.sppr", "myname-c.sppr"} {
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		mod, err := cgpl.Compile(name, src, cgpl.NewRegistry())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := mod.NewTask(context.Background(), cgpl.TaskOptions{}).Run(""); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// TestSandboxParallel: runaway programs end with a program exception within
// their limits while a well-behaved task beside them runs to its end.
func TestSandboxParallel(t *testing.T) {
	lim := cgpl.Limits{MaxSteps: 2_000_000, SliceSteps: 1000, MaxDepth: 200, MaxMemory: 8 << 20}
	bad := map[string]string{
		"infinite loop":      "entry Main is loop x = 1; end loop; end;",
		"huge string":        `entry Main is s = "0123456789"; loop s = s + s; end loop; end;`,
		"endless recursion":  "function F(n) is return F(n + 1) + 1; end; entry Main is x = F(0); end;",
		"growing dictionary": `entry Main is d = NewDictionary(); i = 0; loop d.(String(i)) = "some value to keep"; i += 1; end loop; end;`,
	}
	good := `function Fib(n) is if n < 2 then return n; end if; return Fib(n - 1) + Fib(n - 2); end;
		entry Main is SysLog(Fib(20)); end;`
	type result struct {
		name string
		err  error
		out  []string
	}
	results := make(chan result, len(bad)+1)
	start := func(name, src string) {
		mod, err := cgpl.Compile(name, []byte(src), cgpl.NewRegistry())
		if err != nil {
			t.Errorf("%s: %v", name, err)
			results <- result{name: name, err: err}
			return
		}
		go func() {
			var out []string
			err := mod.NewTask(context.Background(), cgpl.TaskOptions{Limits: lim, SysLog: func(l string) { out = append(out, l) }}).Run("")
			results <- result{name, err, out}
		}()
	}
	for name, src := range bad {
		start(name, src)
	}
	start("good", good)
	for range len(bad) + 1 {
		select {
		case r := <-results:
			var re *cgpl.RuntimeError
			if r.name == "good" {
				if r.err != nil || strings.Join(r.out, "") != "#6765" {
					t.Errorf("the well-behaved task: %v %q", r.err, r.out)
				}
			} else if !errors.As(r.err, &re) {
				t.Errorf("%s: want a program exception, got %v", r.name, r.err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("a task did not end within its limits")
		}
	}
}

func TestLanguage(t *testing.T) {
	mod, err := cgpl.Compile("t.sppr", []byte(`entry Main is
		SysLog(GetLanguage()); SetLanguage("English"); SysLog(GetLanguage()); SetLanguage(null); SysLog(GetLanguage());
	end;`), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	task := mod.NewTask(context.Background(), cgpl.TaskOptions{Language: "russian", SysLog: func(l string) { out = append(out, l) }})
	if err := task.Run(""); err != nil {
		t.Fatal(err)
	}
	if strings.Join(out, "|") != "russian|english|#null#" {
		t.Fatalf("SysLog %q", out)
	}
}
