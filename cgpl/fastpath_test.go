package cgpl_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ringo-pbx/ringo/cgpl"
)

// These tests cover the fast paths of the compiler and runtime (value
// stack, reused frames, boxed numbers, strings grown in place): each
// program's results must be what the generic operators give.

func TestFastPaths(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"numbers outside the shared table and negative ones", `entry Main is
			x = 1000; y = -300; big = 9223372036854775807;
			SysLog(x + 24); SysLog(x * x); SysLog(y - 1); SysLog(-y); SysLog(y / 7); SysLog(y % 7);
			SysLog(big + 1); SysLog(-5 + 0); SysLog(x < 2000); SysLog(x >= 1001); SysLog(x == 1000); SysLog(x != 1000);
		end;`, []string{"#1024", "#1000000", "#-301", "#300", "#-42", "#-6", "#-9223372036854775808", "#-5",
			"YES", "#null#", "YES", "#null#"}},
		{"many boxed numbers stay distinct", `entry Main is
			a = NewArray(); i = 0;
			while i < 1000 loop a[i] = i * 1000 + 7; i += 1; end loop;
			s = 0; i = 0;
			while i < 1000 loop
				if a[i] != i * 1000 + 7 then SysLog("wrong at " + String(i)); end if;
				s += a[i]; i += 1;
			end loop;
			SysLog(s);
		end;`, []string{"#499507000"}},
		{"mixed types fall back to the generic operators", `entry Main is
			SysLog(1 == "1"); SysLog("a" < "b"); SysLog("b" >= "a"); SysLog(null == null); SysLog(1 != null);
			SysLog(GMTTime() + 60 > GMTTime()); SysLog(3 == 3); SysLog("x" + "y" == "xy");
		end;`, []string{"#null#", "YES", "YES", "YES", "YES", "YES", "YES", "YES"}},
		{"strings appended in a loop keep every earlier value", `entry Main is
			s = "ab"; s += "cd"; keep = s; s += "ef"; s = s + "gh"; alias = s;
			s += "ij"; alias += "XY"; other = keep + "!";
			SysLog(s); SysLog(keep); SysLog(alias); SysLog(other);
			SysLog(Same(keep, keep)); SysLog(Same(s, alias));
		end;`, []string{"abcdefghij", "abcd", "abcdefghXY", "abcd!", "YES", "#null#"}},
		{"several strings grown at once", `entry Main is
			a = NewArray(); i = 0;
			while i < 6 loop a[i] = ""; i += 1; end loop;
			n = 0;
			while n < 200 loop
				i = 0;
				while i < 6 loop x = a[i]; x += String(i); a[i] = x; i += 1; end loop;
				n += 1;
			end loop;
			SysLog(Length(a[0])); SysLog(Substring(a[5], 195, 5)); SysLog(FindSubstring(a[3], "4"));
		end;`, []string{"#200", "55555", "#-1"}},
		{"a string doubled onto itself", `entry Main is
			s = "ab"; i = 0; while i < 5 loop s = s + s; i += 1; end loop;
			SysLog(Length(s)); SysLog(Substring(s, 60, 4));
		end;`, []string{"#64", "abab"}},
		{"deep recursion grows the stack while arguments are evaluated", `
			function Sum(n, acc) is if n == 0 then return acc; end if; return Sum(n - 1, acc + Depth(n)); end;
			function Depth(n) is a = 1; b = 2; c = 3; return n + a + b + c - 6; end;
			entry Main is SysLog(Sum(500, 0)); SysLog(Max(Sum(10, 0), Sum(20, Sum(3, 0)))); end;`,
			[]string{"#125250", "#216"}},
		{"nested built-in calls", `entry Main is
			SysLog(Substring(String(Length("abc") * 100), Length("x"), Length(String(Max(1, 2)))));
			SysLog(ToUpperCase("a" + ToLowerCase("BC")));
		end;`, []string{"0", "ABC"}},
		{"task variables", `var total = 5, label;
			procedure Add(n) is total += n; label = "t=" + String(total); end;
			entry Main is Add(1); Add(10); SysLog(total); SysLog(label); end;`, []string{"#16", "t=16"}},
		{"a task variable declared twice is one variable", `var a = 1, b = 2; var a = 3, c;
			entry Main is SysLog(a); SysLog(b); SysLog(c); a += 1; SysLog(a); end;`, []string{"#3", "#2", "#null#", "#4"}},
		{"locals start null on every call", `
			function F(n) is if n > 0 then x = n; end if; return x; end;
			entry Main is SysLog(F(3)); SysLog(F(0)); SysLog(F(4)); end;`, []string{"#3", "#null#", "#4"}},
		{"array and dictionary fast paths", `entry Main is
			a = NewArray(); a[0] = "x"; a[1] = "y"; a[0] = "z"; SysLog(a); SysLog(a[5]); SysLog(a[-1]); SysLog(a["1"]);
			d = NewDictionary(); d.k = 1; d.("k2") = 2; SysLog(d.k + d.("k2")); SysLog(d[0]); SysLog(d.missing);
			n = null; SysLog(n[0]); SysLog(n.x);
		end;`, []string{"(z,y)", "#null#", "#null#", "y", "#3", "k", "#null#", "#null#", "#null#"}},
		{"conditions", `entry Main is
			x = 5; s = "s";
			if x > 3 and s == "s" then SysLog("and"); end if;
			if x < 3 or not (s != "s") then SysLog("or not"); end if;
			if x then SysLog("truthy"); end if;
			SysLog(x > 3 ? "big" : "small"); SysLog(not x); SysLog(x < 3 | x > 4); SysLog(true & false);
			i = 0; loop i += 1; exitif i * 2 >= 10; end loop; SysLog(i);
		end;`, []string{"and", "or not", "truthy", "big", "#null#", "YES", "#null#", "#5"}},
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

func TestFastPathExceptions(t *testing.T) {
	lim := cgpl.Limits{MaxSteps: 1 << 30, SliceSteps: 1000, MaxDepth: 100, MaxMemory: 1 << 20}
	tests := []struct{ name, src, wantPos, wantMsg string }{
		{"division by zero", "entry Main is\n  x = 0;\n  y = 7 / x;\nend;\n", "t.sppr:3:9", "division by zero"},
		{"modulo by a zero constant", "entry Main is\n  x = 7;\n  y = x % 0;\nend;\n", "t.sppr:3:9", "division by zero"},
		{"comparison of a string and a number", "entry Main is\n  x = \"a\";\n  if x < 1 then SysLog(1); end if;\nend;\n", "t.sppr:3:8", "comparison"},
		{"array index out of range", "entry Main is\n  a = NewArray();\n  a[3] = 1;\nend;\n", "t.sppr:3:4", "out of range"},
		{"member of a number", "entry Main is\n  x = 1;\n  y = x.key;\nend;\n", "t.sppr:3:9", "not a dictionary"},
		{"an append loop is charged to the memory limit", "entry Main is\n  s = \"\";\n  loop\n    s += \"0123456789\";\n  end loop;\nend;\n", "t.sppr:4:", "memory"},
		{"depth counts calls made while evaluating arguments", "function F(n) is\n  return F(F(n));\nend;\nentry Main is\n  SysLog(F(0));\nend;\n", "t.sppr:2:", "deeper"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, tc.src, lim)
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

// TestAppendIsLinear checks that an append loop is charged (and so costs)
// linear memory: 200,000 appends of 10 bytes fit in 8 MiB, where charging
// every intermediate string would need about 200 GB.
func TestAppendIsLinear(t *testing.T) {
	src := `entry Main is
		s = ""; i = 0;
		while i < 200000 loop s += "0123456789"; i += 1; end loop;
		SysLog(Length(s));
	end;`
	out, err := run(t, src, cgpl.Limits{MaxSteps: 1 << 30, SliceSteps: 10000, MaxDepth: 10, MaxMemory: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(out) != "[#2000000]" {
		t.Fatalf("SysLog %q", out)
	}
}

// TestTasksShareAppendedStrings sends strings that one task keeps appending
// to, to other tasks running at the same time (for the race detector: the
// bytes a string covers are never written again).
func TestTasksShareAppendedStrings(t *testing.T) {
	mod, err := cgpl.Compile("t.sppr", []byte(`
		entry Main is
			peer = Vars().startParameter;
			s = "x"; i = 0;
			while i < 300 loop
				s += String(i % 10);
				if peer then SendEvent(peer, "chunk", s); end if;
				i += 1;
			end loop;
			if peer then SendEvent(peer, "done"); return; end if;
			n = 0;
			loop
				e = ReadInput(10);
				exitif e == null or e.what == "done";
				if Substring(e.parameter, 0, 2) != "x0" then SysLog("bad"); end if;
				n += 1;
			end loop;
			SysLog(n);
		end;`), cgpl.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	reader := mod.NewTask(context.Background(), cgpl.TaskOptions{SysLog: func(l string) { got = append(got, l) }})
	done := make(chan error, 2)
	go func() { done <- reader.Run("") }()
	go func() { done <- mod.NewTask(context.Background(), cgpl.TaskOptions{Param: reader}).Run("") }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, "|") != "#300" {
		t.Fatalf("SysLog %q", got)
	}
}
