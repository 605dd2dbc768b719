package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the ringo command line in-process and returns stdout and the exit status.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	root := rootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.Execute()
	code := 0
	if err != nil {
		code = 1
		var ee exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), code
}

func TestCgplCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.sppr", "entry Main is\n  SysLog(\"hello\");\n  SysLog(1 + 2);\nend;\nentry Other is\n  SysLog(\"other\");\nend;\n")
	bad := write("bad.sppr", "entry Main is\n  x = ;\nend;\n")
	exc := write("exc.sppr", "entry Main is\n  SysLog(\"a\");\n  x = NewArray() + 1;\nend;\n")
	call := write("call.sppr", "entry Main is\n  if AcceptCall() != null then\n    SysLog(\"no call\");\n    stop;\n  end if;\nend;\n")

	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"cgpl", "run", good}, 0, "hello\n#3\n"},
		{[]string{"cgpl", "run", good, "--entry", "other"}, 0, "other\n"},
		{[]string{"cgpl", "run", call}, 0, "no call\n"},
		{[]string{"cgpl", "check", good, call}, 0, ""},
		{[]string{"cgpl", "check", good, bad}, 2, bad + ":2:7: "},
		{[]string{"cgpl", "run", bad}, 2, bad + ":2:7: "},
		{[]string{"cgpl", "run", exc}, 1, "a\n" + exc + ":3:"},
	}
	for _, tc := range tests {
		out, code := runCLI(t, tc.args...)
		if code != tc.wantCode {
			t.Errorf("ringo %s: exit %d, want %d (output %q)", strings.Join(tc.args[:2], " "), code, tc.wantCode, out)
		}
		if tc.wantOut != "" && !strings.HasPrefix(out, tc.wantOut) {
			t.Errorf("ringo %s: output %q, want %q first", strings.Join(tc.args, " "), out, tc.wantOut)
		}
	}
}

// TestCgplModules: run and check find the modules a program calls (M.sppr
// for M::F) and the files ReadEnvirFile reads in the program's directory.
func TestCgplModules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("Greet.sppr", "function Hello(n) is\n  return \"Hello, \" + n;\nend;\n")
	write("prompt.txt", "from the environment")
	app := write("app.sppr", "function Greet::Hello(n) external;\nentry Main is\n  SysLog(Greet::Hello(\"Jim\"));\n"+
		"  SysLog(String(ReadEnvirFile(\"prompt.txt\")));\n  SysLog(FuncCall(\"Greet::Hello\", \"Ann\"));\nend;\n")
	missing := write("missing.sppr", "procedure Nowhere::Run() external;\nentry Main is\n  Nowhere::Run();\nend;\n")
	mismatch := write("mismatch.sppr", "procedure Greet::Hello(n) external;\nentry Main is\n  Greet::Hello(1);\nend;\n")

	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"cgpl", "run", app}, 0, "Hello, Jim\nfrom the environment\nHello, Ann\n"},
		{[]string{"cgpl", "check", app}, 0, ""},
		{[]string{"cgpl", "check", missing}, 2, missing + ":1:20: module Nowhere: load " + filepath.Join(dir, "Nowhere.sppr") + ": file does not exist"},
		{[]string{"cgpl", "run", mismatch}, 2, mismatch + ":1:18: Greet::Hello is a function in module Greet (" + filepath.Join(dir, "Greet.sppr") + ":1:1), not a procedure"},
	}
	for _, tc := range tests {
		out, code := runCLI(t, tc.args...)
		if code != tc.wantCode || !strings.HasPrefix(out, tc.wantOut) {
			t.Errorf("ringo %s: exit %d, output %q; want %d, %q", strings.Join(tc.args, " "), code, out, tc.wantCode, tc.wantOut)
		}
	}
}
