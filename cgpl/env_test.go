package cgpl

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// etRun runs a task of mod and returns its SysLog lines.
func etRun(t *testing.T, mod *Module, opts TaskOptions) (string, error) {
	t.Helper()
	var mu sync.Mutex
	var b strings.Builder
	opts.SysLog = func(line string) {
		mu.Lock()
		defer mu.Unlock()
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if opts.Limits == (Limits{}) {
		opts.Limits = Limits{MaxSteps: 1e6, SliceSteps: 1e4, MaxMemory: 1 << 24, MaxDepth: 200}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := mod.NewTask(ctx, opts).Run("")
	mu.Lock()
	defer mu.Unlock()
	return b.String(), err
}

func etFile(src string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(src)} }

func TestEnvironmentLinksAndCaches(t *testing.T) {
	fsys := fstest.MapFS{
		"main.sppr": etFile("function Util::Twice(x) external;\nentry Main is\n  SysLog(Util::Twice(21));\nend;\n"),
		"Util.sppr": etFile("function Twice(x) is\n  return x * 2;\nend;\n"),
	}
	env := NewEnvironment(FSLoader{FS: fsys}, NewRegistry())
	ctx := context.Background()
	m1, err := env.Program(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := etRun(t, m1, TaskOptions{}); out != "#42\n" || err != nil {
		t.Fatalf("first version: %q, %v", out, err)
	}
	util1 := env.units["util"].mod
	m2, err := env.Program(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	if env.units["util"].mod != util1 || m2.prog != m1.prog {
		t.Error("unchanged files were compiled again")
	}
	// A changed module is used by the next program; the one linked before
	// keeps the version it was linked with.
	fsys["Util.sppr"] = etFile("function Twice(x) is\n  return x * 2 + 1;\nend;\n")
	m3, err := env.Program(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	if env.units["util"].mod == util1 {
		t.Error("a changed module was not compiled again")
	}
	if out, _ := etRun(t, m3, TaskOptions{}); out != "#43\n" {
		t.Errorf("new version: %q", out)
	}
	if out, _ := etRun(t, m1, TaskOptions{}); out != "#42\n" {
		t.Errorf("old program: %q", out)
	}
}

func TestEnvironmentModuleVariables(t *testing.T) {
	fsys := fstest.MapFS{
		"main.sppr": etFile(`function Count::Next() external;
procedure Count::Start() external;
var mine = "main's";
entry Main is
  SysLog(Count::Next());
  SysLog(Count::Next());
  SysLog(mine);
  Count::Start();
  SysLog(ReadInput(5).what);
end;
`),
		// Count's variables are per task, initialised on the task's first
		// call, and seen by the tasks it spawns as their own.
		"Count.sppr": etFile(`procedure Cb::Back(n) external;
var n = Init();
function Init() is
  SysLog("init Count");
  return 10;
end;
function Next() is
  n += 1;
  Cb::Back(n);
  return n;
end;
entry Worker is
  SysLog("worker " + String(Next()));
  Void(SendEvent(Vars().startParameter, "done"));
end;
procedure Start() is
  w = spawn Worker(ThisTask());
end;
`),
		"Cb.sppr": etFile("procedure Back(n) is\n  SysLog(\"back \" + String(n) + \" \" + mine);\nend;\nvar mine = \"Cb's\";\n"),
	}
	env := NewEnvironment(FSLoader{FS: fsys}, NewRegistry())
	mod, err := env.Program(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	want := "init Count\nback 11 Cb's\n#11\nback 12 Cb's\n#12\nmain's\ninit Count\nback 11 Cb's\nworker 11\ndone\n"
	for i := 0; i < 2; i++ { // a second task starts afresh
		if out, err := etRun(t, mod, TaskOptions{}); out != want || err != nil {
			t.Fatalf("task %d: %q, %v; want %q", i, out, err, want)
		}
	}
	// The same task run twice starts with fresh module variables too.
	task := mod.NewTask(context.Background(), TaskOptions{})
	for i := 0; i < 2; i++ {
		if err := task.Run("Main"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEnvironmentMainModuleCycle: the module named by the program's own
// file is the program itself, with the same task variables.
func TestEnvironmentMainModuleCycle(t *testing.T) {
	fsys := fstest.MapFS{
		"app.sppr": etFile(`function Lib::Call() external;
var hits = 0;
procedure Hit() is
  hits += 1;
end;
entry Main is
  Hit();
  SysLog(Lib::Call());
  SysLog(hits);
end;
`),
		"lib.sppr": etFile("procedure App::Hit() external;\nfunction Call() is\n  App::Hit();\n  return \"called\";\nend;\n"),
	}
	env := NewEnvironment(FSLoader{FS: fsys}, NewRegistry())
	mod, err := env.Program(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := etRun(t, mod, TaskOptions{}); out != "called\n#2\n" || err != nil {
		t.Fatalf("%q, %v", out, err)
	}
}

func TestEnvironmentCompileErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"Lib.sppr":    etFile("function F(x) is\n  return x;\nend;\nprocedure P() is\nend;\nprocedure X() external;\n"),
		"Broken.sppr": etFile("entry Main is\n  x = ;\nend;\n"),
	}
	env := NewEnvironment(FSLoader{FS: fsys}, NewRegistry())
	cases := []struct{ src, want string }{
		{"procedure Nope::P() external;\n", `p.sppr:1:17: module Nope: load Nope.sppr: file does not exist (near "Nope::P")`},
		{"procedure Lib::Q() external;\n", `p.sppr:1:16: module Lib (Lib.sppr) has no procedure Q (near "Lib::Q")`},
		{"procedure Lib::F(x) external;\n", `p.sppr:1:16: Lib::F is a function in module Lib (Lib.sppr:1:1), not a procedure (near "Lib::F")`},
		{"function Lib::F(x, y) external;\n", `p.sppr:1:15: function Lib::F takes 1 parameter in module Lib (Lib.sppr:1:1), not 2 (near "Lib::F")`},
		{"procedure Lib::X() external;\n", `p.sppr:1:16: module Lib (Lib.sppr) has no procedure X (near "Lib::X")`},
		{"procedure Broken::P() external;\nprocedure Broken::Q() external;\n", "p.sppr:1:19: module Broken does not compile (near \"Broken::P\")\nBroken.sppr:2:7: expected an expression (near \";\")"},
		{"entry Main is\n  x = ;\nend;\n", `p.sppr:2:7: expected an expression (near ";")`},
	}
	for _, c := range cases {
		_, err := env.Compile(context.Background(), "p.sppr", []byte(c.src))
		var el ErrorList
		if !errors.As(err, &el) || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.src, err, c.want)
		}
	}
	if _, err := env.Program(context.Background(), "../etc"); err == nil || !strings.Contains(err.Error(), "not a module name") {
		t.Errorf("Program(../etc): %v", err)
	}
	if _, err := env.Program(context.Background(), "Missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Program(Missing): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := env.Compile(ctx, "p.sppr", []byte("procedure Lib::P() external;\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestEnvironmentRunTimeErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"Lib.sppr":    etFile("function F(x) is\n  return x;\nend;\nprocedure P() is\nend;\n"),
		"Broken.sppr": etFile("entry Main is\n  x = ;\nend;\n"),
		"lower.sppr":  etFile("function G() is\n  return \"lower\";\nend;\n"),
	}
	env := NewEnvironment(FSLoader{FS: fsys}, NewRegistry())
	cases := []struct{ call, want string }{
		{`SysLog(FuncCall("LOWER::g"));`, ""},
		{`ProcCall("Lib::P");`, ""},
		{`SysLog(FuncCall("Nope::F", 1));`, "t.sppr:2:10: FuncCall: module Nope: load Nope.sppr: file does not exist"},
		{`SysLog(FuncCall("Broken::F", 1));`, `t.sppr:2:10: FuncCall: module Broken does not compile: Broken.sppr:2:7: expected an expression (near ";")`},
		{`SysLog(FuncCall("Lib::Q", 1));`, "t.sppr:2:10: FuncCall: module Lib (Lib.sppr) has no section q"},
		{`SysLog(FuncCall("Lib::P"));`, "t.sppr:2:10: FuncCall: Lib::P is a procedure, not a function"},
		{`SysLog(FuncCall("Lib::F"));`, "t.sppr:2:10: FuncCall: function Lib::F takes 1 argument, got 0"},
		{`SysLog(FuncCall("::F"));`, `t.sppr:2:10: FuncCall: "::F" is not a section name`},
		{`SysLog(FuncCall("a/b::F"));`, `t.sppr:2:10: FuncCall: "a/b::F" is not a section name`},
	}
	for _, c := range cases {
		src := "entry Main is\n  " + c.call + "\nend;\n"
		mod, err := env.Compile(context.Background(), "t.sppr", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		out, err := etRun(t, mod, TaskOptions{})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.call, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%s:\n got %v (output %q)\nwant %s", c.call, err, out, c.want)
		}
	}
	// A program compiled on its own has no modules.
	mod, err := Compile("t.sppr", []byte("procedure Lib::P() external;\nentry Main is\n  Lib::P();\nend;\n"), NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := etRun(t, mod, TaskOptions{}); err == nil || !strings.Contains(err.Error(), "t.sppr:3:3: module Lib is not available") {
		t.Errorf("without an environment: %v", err)
	}
	// An external declaration without a module cannot be called.
	mod, err = Compile("t.sppr", []byte("procedure P() external;\nentry Main is\n  P();\nend;\n"), NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := etRun(t, mod, TaskOptions{}); err == nil || !strings.Contains(err.Error(), "t.sppr:3:3: P is declared external without a module") {
		t.Errorf("external without a module: %v", err)
	}
}

// TestEnvironmentConcurrent: programs linked and run from many goroutines,
// modules loaded by name at the same time (for the race detector).
func TestEnvironmentConcurrent(t *testing.T) {
	fsys := fstest.MapFS{
		"main.sppr": etFile("function A::F(x) external;\nentry Main is\n  SysLog(A::F(1) + FuncCall(\"B::G\", 2));\nend;\n"),
		"A.sppr":    etFile("var k = 10;\nfunction F(x) is\n  k += x;\n  return k;\nend;\n"),
		"B.sppr":    etFile("function A::F(x) external;\nfunction G(x) is\n  return A::F(x);\nend;\n"),
	}
	env := NewEnvironment(FSLoader{FS: fsys}, NewRegistry())
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mod, err := env.Program(context.Background(), "main")
			if err != nil {
				errs <- err
				return
			}
			for j := 0; j < 3; j++ {
				out, err := etRun(t, mod, TaskOptions{})
				if err != nil || out != "#24\n" {
					errs <- errors.New(out)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDirLoader(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "env")
	if err := os.MkdirAll(filepath.Join(dir, "russian"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"env/a.txt": "a", "env/russian/a.txt": "а", "secret.txt": "s", "env/Util.sppr": "function F() is\n  return 1;\nend;\n",
	} {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	symlinked := os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(dir, "link.txt")) == nil
	l := DirLoader{Dir: dir}
	ctx := context.Background()
	if src, name, err := l.Load(ctx, "russian/a.txt"); err != nil || string(src) != "а" || name != filepath.Join(dir, "russian", "a.txt") {
		t.Errorf("Load: %q %q %v", src, name, err)
	}
	if _, _, err := l.Load(ctx, "none.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	for _, bad := range []string{"../secret.txt", "/etc/passwd", `russian\a.txt`, "", "a/../../secret.txt"} {
		if _, _, err := l.Load(ctx, bad); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load(%q): %v", bad, err)
		}
	}
	if symlinked {
		if src, _, err := l.Load(ctx, "link.txt"); err == nil {
			t.Errorf("a link out of the directory was followed: %q", src)
		}
	}
	// ReadEnvirFile reads through the same loader, language folder first.
	env := NewEnvironment(l, NewRegistry())
	mod, err := env.Compile(ctx, filepath.Join(dir, "main.sppr"), []byte(`function Util::F() external;
entry Main is
  SysLog(String(ReadEnvirFile("a.txt")));
  SetLanguage("russian");
  SysLog(String(ReadEnvirFile("a.txt")));
  SysLog(ReadEnvirFile("none.txt"));
  SysLog(Util::F());
  SysLog(ReadEnvirFile("../secret.txt"));
end;
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := etRun(t, mod, TaskOptions{})
	if out != "a\nа\n#null#\n#1\n" || err == nil || !strings.Contains(err.Error(), `main.sppr:8:10: ReadEnvirFile: "../secret.txt" is not a file name of the environment`) {
		t.Errorf("ReadEnvirFile: %q, %v", out, err)
	}
	// Without an environment there is no file; the memory limit counts.
	plain, _ := Compile("p.sppr", []byte("entry Main is\n  SysLog(ReadEnvirFile(\"a.txt\"));\nend;\n"), NewRegistry())
	if out, err := etRun(t, plain, TaskOptions{}); out != "#null#\n" || err != nil {
		t.Errorf("no environment: %q, %v", out, err)
	}
	mod, _ = env.Compile(ctx, "p.sppr", []byte("entry Main is\n  SysLog(ReadEnvirFile(\"a.txt\"));\nend;\n"))
	if _, err := etRun(t, mod, TaskOptions{Limits: Limits{MaxSteps: 100, SliceSteps: 100, MaxMemory: 10, MaxDepth: 10}}); err == nil || !strings.Contains(err.Error(), "memory limit") {
		t.Errorf("memory limit: %v", err)
	}
}
