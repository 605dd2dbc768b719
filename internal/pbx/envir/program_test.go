package envir

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
)

// run runs a task of mod in language lang and returns its SysLog lines.
// With follow, the task's loads follow its SetLanguage (WithLanguage).
func run(t *testing.T, mod *cgpl.Module, lang string, follow bool) string {
	t.Helper()
	var mu sync.Mutex
	var b strings.Builder
	opts := cgpl.TaskOptions{
		Language: lang,
		Limits:   cgpl.Limits{MaxSteps: 1e6, SliceSteps: 1e4, MaxMemory: 1 << 24, MaxDepth: 200},
		SysLog: func(line string) {
			mu.Lock()
			defer mu.Unlock()
			b.WriteString(line + "\n")
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var task *cgpl.Task
	if follow {
		ctx = WithLanguage(ctx, func() string { return task.Language() })
	}
	task = mod.NewTask(ctx, opts)
	if err := task.Run(""); err != nil {
		t.Fatalf("task: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return b.String()
}

func util(v string) []byte {
	return []byte("function Val() is\n  return \"" + v + "\";\nend;\n")
}

const mainSrc = "function Util::Val() external;\nentry Main is\n  SysLog(Util::Val());\nend;\n"

func TestProgramCache(t *testing.T) {
	s := newStore(t, nil)
	reg := cgpl.NewRegistry()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Put("", "", "Main.sppr", []byte(mainSrc)))
	must(s.Put("", "", "util.sppr", util("server")))
	program := func(lang, want string) *cgpl.Module {
		t.Helper()
		m, err := s.Program(ctx, "example.com", lang, "main", reg)
		if err != nil {
			t.Fatal(err)
		}
		if got := run(t, m, lang, false); got != want+"\n" {
			t.Fatalf("program prints %q, want %q", got, want)
		}
		return m
	}
	m1 := program("", "server")
	if m := program("", "server"); m != m1 {
		t.Error("an unchanged program was compiled again")
	}

	// Through the store: a domain's module overrides the server's.
	must(s.Put("example.com", "", "UTIL.sppr", util("domain")))
	m2 := program("", "domain")
	if got := run(t, m1, "", false); got != "server\n" {
		t.Errorf("a running version changed: %q", got)
	}

	// Behind the store's back: a file rewritten in place…
	dom := filepath.Join(s.Dir(), "domains", "example.com")
	must(os.WriteFile(filepath.Join(dom, "UTIL.sppr"), util("domain, edited"), 0o640))
	m3 := program("", "domain, edited")
	if m3 == m2 {
		t.Error("the program was not compiled again")
	}
	// …and a file added in a folder looked in before. Coarse file-system
	// clocks may give the folder the same time as before within a few
	// milliseconds, so its time is set apart explicitly.
	program("russian", "domain, edited")
	must(os.Mkdir(filepath.Join(dom, "russian"), 0o750))
	must(os.WriteFile(filepath.Join(dom, "russian", "util.sppr"), util("domain, russian"), 0o640))
	must(os.Chtimes(dom, time.Time{}, time.Now().Add(time.Hour)))
	program("russian", "domain, russian")
	program("", "domain, edited")

	must(s.Remove("example.com", "", "util.sppr"))
	must(s.Remove("example.com", "russian", "util.sppr"))
	program("russian", "server")

	// A changed main program too.
	must(s.Put("", "", "main.sppr", []byte("entry Main is\n  SysLog(\"new main\");\nend;\n")))
	program("", "new main")

	if _, err := s.Program(ctx, "example.com", "", "nothing", reg); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing program: %v", err)
	}
	must(s.Put("", "", "broken.sppr", []byte("entry Main is\n  x = ;\nend;\n")))
	var el cgpl.ErrorList
	if _, err := s.Program(ctx, "example.com", "", "broken", reg); !errors.As(err, &el) || !strings.Contains(err.Error(), "server/broken.sppr") {
		t.Errorf("compile error: %v", err)
	}
	if _, err := s.Program(ctx, "example.com", "../x", "main", reg); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad language: %v", err)
	}
}

// ReadEnvirFile resolves per layer: the domain's root before the server's
// language folder; and after SetLanguage, with WithLanguage, in the new
// language.
func TestLoaderReadEnvirFile(t *testing.T) {
	s := newStore(t, nil)
	for _, f := range []struct{ domain, name, content string }{
		{"", "russian/greeting.txt", "server-ru"},
		{"", "greeting.txt", "server-en"},
		{"", "french/greeting.txt", "server-fr"},
		{"example.com", "greeting.txt", "domain-en"},
		{"example.com", "russian/only.txt", "domain-ru"},
	} {
		if err := s.Put(f.domain, "", f.name, []byte(f.content)); err != nil {
			t.Fatal(err)
		}
	}
	src := `entry Main is
  SysLog(String(ReadEnvirFile("Greeting.txt")));
  SysLog(String(ReadEnvirFile("only.txt")));
  SetLanguage("french");
  SysLog(String(ReadEnvirFile("greeting.txt")));
  SetLanguage(null);
  SysLog(String(ReadEnvirFile("only.txt")));
end;
`
	if err := s.Put("", "", "reader.sppr", []byte(src)); err != nil {
		t.Fatal(err)
	}
	m, err := s.Program(context.Background(), "example.com", "russian", "reader", cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	// Without WithLanguage the loader keeps the language it was made with:
	// after SetLanguage, cgpl's "french/greeting.txt" is a path in it, and
	// the file in the server's french folder wins over the domain's root.
	for follow, want := range map[bool]string{
		true:  "domain-en\ndomain-ru\ndomain-en\n#null#\n",
		false: "domain-en\ndomain-ru\nserver-fr\ndomain-ru\n",
	} {
		if got := run(t, m, "russian", follow); got != want {
			t.Errorf("follow %v: %q, want %q", follow, got, want)
		}
	}
	// The server layer alone: its language folder before its root.
	l := s.Loader("", "russian")
	for name, want := range map[string]string{"russian/greeting.txt": "server-ru", "greeting.txt": "server-ru", "Greeting": ""} {
		src, fileName, err := l.Load(context.Background(), name)
		if want == "" {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Load(%q): %q, %v", name, src, err)
			}
			continue
		}
		if err != nil || string(src) != want || fileName != "server/russian/greeting.txt" {
			t.Errorf("Load(%q) = %q, %q, %v; want %q", name, src, fileName, err, want)
		}
	}
}

// Tasks start while the program changes: each gets a version that
// compiles, and the last change is seen once the changes stop.
func TestProgramConcurrent(t *testing.T) {
	s := newStore(t, nil)
	reg := cgpl.NewRegistry()
	if err := s.Put("", "", "main.sppr", []byte(mainSrc)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("", "", "util.sppr", util("v0")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := s.Program(context.Background(), "example.com", "", "main", reg); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 20 {
		if err := s.Put("example.com", "", "util.sppr", util("v"+strings.Repeat("1", i))); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	m, err := s.Program(context.Background(), "example.com", "", "main", reg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := run(t, m, "", false), "v"+strings.Repeat("1", 19)+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
