package cgpl_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/cgpl"
)

// The conformance suite: testdata/conformance holds one program per feature,
// written twice (NAME.basic.sppr in the Basic syntax, NAME.c.sppr in the
// C-like one), each with a golden NAME.basic.out / NAME.c.out: the SysLog
// lines the program must print. Twins must print the same. The goldens were
// written from the language spec (shared/research/cgpl.md sections 1-4) and
// docs/cgpl.md, not from what the implementation printed.
//
// The modules the programs call (M::F, ProcCall("M::F")) and the files
// ReadEnvirFile reads are in testdata/conformance/modules: M.sppr is
// module M, and names in messages are modules/M.sppr.
//
// testdata/conformance/errors holds programs that must fail: a compile error
// (the golden is the exact error text, hints included) or a program
// exception (the golden is the SysLog lines before it, then the exception
// line "file:line:col: message").
//
// File names in goldens are relative to testdata/conformance, with slashes.
//
//	go test ./cgpl/ -run TestConformance -update
//
// rewrites the goldens (never those of knownFailing programs).
var updateConformance = flag.Bool("update", false, "rewrite the golden .out files of testdata/conformance")

const conformanceDir = "testdata/conformance"

// knownFailing lists programs whose golden (the spec's answer) the
// implementation does not meet yet, with the bug. They are run and skipped;
// one that starts passing fails the test so that it is taken off the list.
var knownFailing = map[string]string{}

// conformanceResult runs one program and gives what the golden holds: the
// SysLog lines, then the compile errors or the program exception, if any.
// failed says whether it ended with a compile error or an exception.
func conformanceResult(t *testing.T, rel string, src []byte) (out string, failed bool) {
	t.Helper()
	var b strings.Builder
	defer func() {
		// A Go panic is an implementation bug; report it as the result so
		// that a knownFailing program does not take the test binary down.
		if r := recover(); r != nil {
			b.WriteString(fmt.Sprintf("Go panic: %v\n", r))
			out, failed = b.String(), true
		}
	}()
	env := cgpl.NewEnvironment(moduleLoader{}, cgpl.NewRegistry())
	mod, err := env.Compile(context.Background(), rel, src)
	if err != nil {
		var el cgpl.ErrorList
		if !errors.As(err, &el) {
			t.Fatalf("Compile returned %T, not an ErrorList: %v", err, err)
		}
		return err.Error() + "\n", true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	task := mod.NewTask(ctx, cgpl.TaskOptions{
		SysLog: func(line string) { b.WriteString(line); b.WriteByte('\n') },
		Email:  "ivanov@example.com",
		Domain: "example.com",
		Limits: cgpl.Limits{MaxSteps: 10_000_000, SliceSteps: 10_000, MaxMemory: 64 << 20, MaxDepth: 1000},
	})
	err = task.Run("")
	if err != nil {
		var re *cgpl.RuntimeError
		if !errors.As(err, &re) {
			t.Fatalf("Run returned %v, not a program exception", err)
		}
		b.WriteString(re.Error())
		b.WriteByte('\n')
		return b.String(), true
	}
	return b.String(), false
}

// moduleLoader is the conformance programs' environment.
type moduleLoader struct{}

func (moduleLoader) Load(ctx context.Context, name string) ([]byte, string, error) {
	return cgpl.FSLoader{FS: os.DirFS(conformanceDir)}.Load(ctx, "modules/"+name)
}

func TestConformance(t *testing.T) {
	var files []string
	err := filepath.WalkDir(conformanceDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "modules" {
			return filepath.SkipDir // called by the programs, not programs themselves
		}
		if !d.IsDir() && strings.HasSuffix(path, ".sppr") {
			rel, err := filepath.Rel(conformanceDir, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) < 40 {
		t.Fatalf("only %d programs in %s", len(files), conformanceDir)
	}
	for rel := range knownFailing {
		if _, err := os.Stat(filepath.Join(conformanceDir, filepath.FromSlash(rel))); err != nil {
			t.Errorf("knownFailing names %s: %v", rel, err)
		}
	}

	// Twins: every feature in both syntaxes, printing the same.
	have := map[string]bool{}
	for _, rel := range files {
		have[rel] = true
	}
	for _, rel := range files {
		if strings.Contains(rel, "/") {
			continue // errors/: twins are optional and their positions differ
		}
		stem, ok := strings.CutSuffix(rel, ".basic.sppr")
		if !ok {
			if stem, ok = strings.CutSuffix(rel, ".c.sppr"); !ok {
				t.Errorf("%s: a feature program is NAME.basic.sppr or NAME.c.sppr", rel)
			} else if !have[stem+".basic.sppr"] {
				t.Errorf("%s has no Basic twin", rel)
			}
			continue
		}
		if !have[stem+".c.sppr"] {
			t.Errorf("%s has no C-style twin", rel)
			continue
		}
		basic, err1 := os.ReadFile(filepath.Join(conformanceDir, stem+".basic.out"))
		c, err2 := os.ReadFile(filepath.Join(conformanceDir, stem+".c.out"))
		if err1 == nil && err2 == nil && string(basic) != string(c) {
			t.Errorf("%s: the goldens of the two syntaxes differ", stem)
		}
	}

	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(conformanceDir, filepath.FromSlash(rel))
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, failed := conformanceResult(t, rel, src)
			wantFail := strings.HasPrefix(rel, "errors/")
			golden := strings.TrimSuffix(path, ".sppr") + ".out"
			bug, known := knownFailing[rel]
			if *updateConformance && !known && failed == wantFail {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./cgpl/ -run TestConformance -update creates it)", err)
			}
			ok := got == string(want) && failed == wantFail
			switch {
			case known && ok:
				t.Fatalf("%s now meets its golden: take it off knownFailing (%s)", rel, bug)
			case known:
				t.Skipf("known bug: %s\n got:\n%s\nwant:\n%s", bug, got, want)
			case failed != wantFail && wantFail:
				t.Errorf("%s should fail to compile or raise a program exception, but ran to its end", rel)
			case failed != wantFail:
				t.Errorf("%s failed:\n%s", rel, got)
			case !ok:
				t.Errorf("%s:\n got:\n%s\nwant:\n%s", rel, got, want)
			}
		})
	}
}
