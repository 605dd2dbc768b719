package cgpl_test

// The same programs in CG/PL and in Lua (gopher-lua), side by side:
//
//	go test -run XXX -bench . -benchmem ./cgpl/
//
// Each benchmark has a /cgpl and a /lua sub-benchmark running the same
// algorithm; both check their result against one computed in Go and fail
// when it differs. The CG/PL side runs each iteration as a fresh task of a
// module compiled once, under DefaultLimits (budget, memory and depth
// checks on); the Lua side runs the main chunk, compiled once, on an
// LState made once. Results are in docs/benchmarks.md.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ringo-pbx/ringo/cgpl"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// benchCGPL compiles src once and runs its Main as a new task per
// iteration; the SysLog lines of each run, joined by "|", must equal want.
func benchCGPL(b *testing.B, src, want string) {
	b.Helper()
	mod, err := cgpl.Compile("bench.sppr", []byte(src), cgpl.NewRegistry())
	if err != nil {
		b.Fatalf("compile: %v", err)
	}
	var out []string
	opts := cgpl.TaskOptions{Limits: cgpl.DefaultLimits(), SysLog: func(l string) { out = append(out, l) }}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out = out[:0]
		if err := mod.NewTask(context.Background(), opts).Run("Main"); err != nil {
			b.Fatalf("run: %v", err)
		}
		if got := strings.Join(out, "|"); got != want {
			b.Fatalf("CG/PL result %q, want %q", got, want)
		}
	}
}

// benchLua compiles src once and runs it per iteration on one LState; the
// chunk's return value, as tostring gives it, must equal want.
func benchLua(b *testing.B, src, want string) {
	b.Helper()
	chunk, err := parse.Parse(strings.NewReader(src), "bench.lua")
	if err != nil {
		b.Fatalf("parse: %v", err)
	}
	proto, err := lua.Compile(chunk, "bench.lua")
	if err != nil {
		b.Fatalf("compile: %v", err)
	}
	L := lua.NewState()
	defer L.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		L.Push(L.NewFunctionFromProto(proto))
		if err := L.PCall(0, 1, nil); err != nil {
			b.Fatalf("run: %v", err)
		}
		got := L.Get(-1).String()
		L.Pop(1)
		if got != want {
			b.Fatalf("Lua result %q, want %q", got, want)
		}
	}
}

func fibGo(n int) int {
	if n < 2 {
		return n
	}
	return fibGo(n-1) + fibGo(n-2)
}

func BenchmarkFib27(b *testing.B) {
	want := strconv.Itoa(fibGo(27)) // 196418
	b.Run("cgpl", func(b *testing.B) {
		benchCGPL(b, `
function Fib(n) is
  if n < 2 then
    return n;
  end if;
  return Fib(n - 1) + Fib(n - 2);
end function;

entry Main is
  SysLog(String(Fib(27)));
end entry;
`, want)
	})
	b.Run("lua", func(b *testing.B) {
		benchLua(b, `
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end
return fib(27)
`, want)
	})
}

// BenchmarkStringBuild appends to a string 100,000 times, the naive way
// (s = s + piece) in both languages. (Lua's usual idiom, table.concat of
// the pieces, is slower still in gopher-lua at this size: 100,000 values
// overflow its default registry, and growing it step by step took 4.5 s.)
func BenchmarkStringBuild(b *testing.B) {
	var sb strings.Builder
	for i := range 100_000 {
		sb.WriteString(strconv.Itoa(i % 10))
	}
	s := sb.String()
	want := fmt.Sprintf("%d %s", len(s), s[len(s)-12:])
	b.Run("cgpl", func(b *testing.B) {
		benchCGPL(b, `
entry Main is
  s = "";
  i = 0;
  while i < 100000 loop
    s += String(i % 10);
    i += 1;
  end loop;
  SysLog(String(s.length()) + " " + s.substring(s.length() - 12, 12));
end entry;
`, want)
	})
	b.Run("lua", func(b *testing.B) {
		benchLua(b, `
local s = ""
for i = 0, 99999 do
  s = s .. tostring(i % 10)
end
return #s .. " " .. string.sub(s, -12)
`, want)
	})
}

// BenchmarkDictFillLookup fills a dictionary with 100,000 keys and reads
// every one back.
func BenchmarkDictFillLookup(b *testing.B) {
	sum := 0
	for i := range 100_000 {
		sum += i
	}
	want := fmt.Sprintf("%d %d", 100_000, sum)
	b.Run("cgpl", func(b *testing.B) {
		benchCGPL(b, `
entry Main is
  d = NewDictionary();
  i = 0;
  while i < 100000 loop
    d.("key" + String(i)) = i;
    i += 1;
  end loop;
  sum = 0;
  i = 0;
  while i < 100000 loop
    sum += d.("key" + String(i));
    i += 1;
  end loop;
  SysLog(String(Length(d)) + " " + String(sum));
end entry;
`, want)
	})
	b.Run("lua", func(b *testing.B) {
		benchLua(b, `
local d = {}
local n = 0
for i = 0, 99999 do
  d["key" .. i] = i
end
for _ in pairs(d) do n = n + 1 end
local sum = 0
for i = 0, 99999 do
  sum = sum + d["key" .. i]
end
return n .. " " .. sum
`, want)
	})
}

// BenchmarkArraySort fills an array with 100,000 pseudo-random strings
// (a Park-Miller generator, exact in Lua's float64 numbers too) and sorts
// it. The strings are digits and lower-case letters, so CG/PL's
// case-insensitive SortStrings and Lua's byte-wise < give the same order.
func BenchmarkArraySort(b *testing.B) {
	strs := make([]string, 100_000)
	x := 42
	for i := range strs {
		x = x * 16807 % 2147483647
		strs[i] = "s" + strconv.Itoa(x)
	}
	slices.Sort(strs)
	want := strings.Join([]string{strs[0], strs[50_000], strs[99_999]}, " ")
	b.Run("cgpl", func(b *testing.B) {
		benchCGPL(b, `
entry Main is
  a = NewArray();
  x = 42;
  i = 0;
  while i < 100000 loop
    x = x * 16807 % 2147483647;
    a[i] = "s" + String(x);
    i += 1;
  end loop;
  SortStrings(a);
  SysLog(a[0] + " " + a[50000] + " " + a[99999]);
end entry;
`, want)
	})
	b.Run("lua", func(b *testing.B) {
		benchLua(b, `
local a = {}
local x = 42
for i = 1, 100000 do
  x = x * 16807 % 2147483647
  a[i] = "s" .. x
end
table.sort(a)
return a[1] .. " " .. a[50001] .. " " .. a[100000]
`, want)
	})
}

// BenchmarkDispatch runs a small opcode interpreter: 300,000 iterations,
// each calling a function that picks a branch of an if-chain and calls a
// small function.
func BenchmarkDispatch(b *testing.B) {
	acc := 0
	for i := range 300_000 {
		switch op := i % 5; op {
		case 0:
			acc += i % 7
		case 1:
			acc = acc * 3 % 65521
		case 2:
			acc = acc*2%1000003 + 1
		case 3:
			acc += 11
		default:
			acc = acc % 9973
		}
	}
	want := strconv.Itoa(acc)
	b.Run("cgpl", func(b *testing.B) {
		benchCGPL(b, `
function Twice(x) is
  return x * 2 % 1000003 + 1;
end function;

function Step(op, acc, i) is
  if op == 0 then
    return acc + i % 7;
  elif op == 1 then
    return acc * 3 % 65521;
  elif op == 2 then
    return Twice(acc);
  elif op == 3 then
    return acc + 11;
  else
    return acc % 9973;
  end if;
end function;

entry Main is
  acc = 0;
  i = 0;
  while i < 300000 loop
    acc = Step(i % 5, acc, i);
    i += 1;
  end loop;
  SysLog(String(acc));
end entry;
`, want)
	})
	b.Run("lua", func(b *testing.B) {
		benchLua(b, `
local function twice(x)
  return x * 2 % 1000003 + 1
end
local function step(op, acc, i)
  if op == 0 then
    return acc + i % 7
  elseif op == 1 then
    return acc * 3 % 65521
  elseif op == 2 then
    return twice(acc)
  elseif op == 3 then
    return acc + 11
  else
    return acc % 9973
  end
end
local acc = 0
for i = 0, 299999 do
  acc = step(i % 5, acc, i)
end
return acc
`, want)
	})
}

// BenchmarkTaskStart is the cost of starting a task of a compiled module
// and running a trivial entry to its end; Lua's counterpart is a new
// LState (with and without its standard libraries) running a compiled
// trivial chunk.
func BenchmarkTaskStart(b *testing.B) {
	b.Run("cgpl", func(b *testing.B) {
		mod, err := cgpl.Compile("start.sppr", []byte("entry Main is\n  x = 1;\nend entry;\n"), cgpl.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := mod.NewTask(ctx, cgpl.TaskOptions{}).Run("Main"); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, libs := range []bool{true, false} {
		name := "lua"
		if !libs {
			name = "lua-nolibs"
		}
		b.Run(name, func(b *testing.B) {
			chunk, err := parse.Parse(strings.NewReader("local x = 1"), "start.lua")
			if err != nil {
				b.Fatal(err)
			}
			proto, err := lua.Compile(chunk, "start.lua")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				L := lua.NewState(lua.Options{SkipOpenLibs: !libs})
				L.Push(L.NewFunctionFromProto(proto))
				if err := L.PCall(0, 0, nil); err != nil {
					b.Fatal(err)
				}
				L.Close()
			}
		})
	}
}
