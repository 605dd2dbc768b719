// Package interop_test runs real third-party SIP peers (SIPp, baresip,
// SIPVicious) against a freshly built ringo binary.
//
// Every test starts its own Ringo on free loopback ports with a temporary
// data directory, bounds every external process with a context timeout and
// stops processes by PID. Synchronisation is done on observable events
// (HTTP health, API state, ctrl_tcp events, sockets being bound), never on
// fixed sleeps.
//
// Gates: `go test -short` skips the whole package. A missing external tool
// skips the test, unless RINGO_INTEROP=require, in which case it fails.
package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// ---------------------------------------------------------------------------
// Test binary setup: gating and building ringo once.

var (
	buildOnce sync.Once
	buildDir  string // temp dir holding the ringo binary, removed by TestMain
	ringoBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// ringoBinary builds ./cmd/ringo once per test binary run (only when a test
// actually needs it, so `-run` of something else or -short stays cheap).
func ringoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		// Neither the binary's name nor its path contains "ringo": other
		// sessions on this machine restart their own server with name-based
		// kills (pkill/killall ringo), which must not hit the server under
		// test.
		buildDir, err = os.MkdirTemp("", "pbx-interop-bin-")
		if err != nil {
			buildErr = err
			return
		}
		bin := filepath.Join(buildDir, "pbx-under-test")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "./cmd/ringo")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ringo in %s: %v\n%s", root, err, out)
			return
		}
		ringoBin = bin
	})
	if buildErr != nil {
		t.Fatalf("cannot build ringo: %v", buildErr)
	}
	return ringoBin
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// interop gates a test: skipped with -short; skipped (or failed with
// RINGO_INTEROP=require) when one of the external tools is missing.
func interop(t *testing.T, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("interop tests run real SIP peers; skipped in -short mode")
	}
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("external tool(s) not installed: %s (Debian: apt-get install -y --no-install-recommends sip-tester baresip baresip-core sipvicious linphone-cli)",
			strings.Join(missing, ", "))
		if os.Getenv("RINGO_INTEROP") == "require" {
			t.Fatal(msg + "; RINGO_INTEROP=require makes this fatal")
		}
		t.Skip(msg + "; set RINGO_INTEROP=require to fail instead")
	}
}

func testdata(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	if !fileExists(p) {
		t.Fatalf("missing test data file %s", p)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ---------------------------------------------------------------------------
// Free ports. Ports handed out once are never handed out again by this
// process, so two helpers cannot pick the same port between probe and use.

var (
	portMu    sync.Mutex
	usedPorts = map[int]bool{}
)

func udpFree(port int) bool {
	c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func tcpFree(port int) bool {
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freePort returns a port that is free on 127.0.0.1 for TCP and UDP
// (SIP listens on both), found by binding port 0.
func freePort(t *testing.T) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 100; i++ {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if usedPorts[port] || !udpFree(port) {
			continue
		}
		usedPorts[port] = true
		return port
	}
	t.Fatal("no free TCP+UDP port found")
	return 0
}

// freePortPair returns a port p such that p and p+1 are free for TCP and
// UDP on 127.0.0.1, below the Linux ephemeral range.
func freePortPair(t *testing.T) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 200; i++ {
		p := 20000 + 2*rand.IntN(6000)
		if usedPorts[p] || usedPorts[p+1] || !udpFree(p) || !udpFree(p+1) || !tcpFree(p) || !tcpFree(p+1) {
			continue
		}
		usedPorts[p], usedPorts[p+1] = true, true
		t.Cleanup(func() { releasePorts(p, 2) })
		return p
	}
	t.Fatal("no pair of free TCP+UDP ports found")
	return 0
}

// freeUDPPort returns a port free for UDP on 127.0.0.1.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 100; i++ {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if usedPorts[port] {
			continue
		}
		usedPorts[port] = true
		return port
	}
	t.Fatal("no free UDP port found")
	return 0
}

// freeUDPRange returns the even first port of n consecutive free UDP ports,
// below the Linux ephemeral range so that port-0 binds do not land in it.
func freeUDPRange(t *testing.T, n int) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	// Every even base in 20000..32767-n is tried once, from a random start:
	// a busy machine, or a long run of tests, still finds a range if one is
	// there. The ports go back to the pool when the test ends.
	const lo, hi = 20000, 32768
	bases := (hi - lo - n) / 2
	start := rand.IntN(bases)
next:
	for k := 0; k < bases; k++ {
		base := lo + 2*((start+k)%bases)
		for p := base; p < base+n; p++ {
			if usedPorts[p] || !udpFree(p) {
				continue next
			}
		}
		for p := base; p < base+n; p++ {
			usedPorts[p] = true
		}
		t.Cleanup(func() { releasePorts(base, n) })
		return base
	}
	t.Fatalf("no range of %d free UDP ports found", n)
	return 0
}

// releasePorts returns n ports from base to the pool.
func releasePorts(base, n int) {
	portMu.Lock()
	defer portMu.Unlock()
	for p := base; p < base+n; p++ {
		delete(usedPorts, p)
	}
}

// udpBound reports whether some process has a UDP socket bound to
// 127.0.0.1:port (or 0.0.0.0:port), read from /proc/net/udp without binding.
func udpBound(port int) bool {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return !udpFree(port) // fallback: probe by binding
	}
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if strings.HasSuffix(f[1], want) && (strings.HasPrefix(f[1], "0100007F") || strings.HasPrefix(f[1], "00000000")) {
			return true
		}
	}
	return false
}

// waitFor polls cond every 50 ms until it returns true or the deadline passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// External processes: bounded by a context timeout, output captured to a file,
// stopped by PID.

type proc struct {
	t        *testing.T
	name     string
	cmd      *exec.Cmd
	outPath  string
	cancel   context.CancelFunc
	ctx      context.Context
	done     chan struct{}
	waitErr  error
	exitCode int
	// grace is how long the end-of-test cleanup waits after SIGTERM before
	// SIGKILL (0: SIGKILL at once); tailLines is how much output it logs
	// when the test failed.
	grace     time.Duration
	tailLines int
}

// startProc starts argv in dir (created if needed) with stdout and stderr
// going to a file; the process is killed (by PID) after timeout or at the
// end of the test.
func startProc(t *testing.T, name string, timeout time.Duration, dir string, env []string, argv ...string) *proc {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(dir, name+".out")
	f, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.Stdin = nil
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{t: t, name: name, cmd: cmd, outPath: outPath, cancel: cancel, ctx: ctx, done: make(chan struct{}), exitCode: -1, tailLines: 40}
	go func() {
		p.waitErr = cmd.Wait()
		if cmd.ProcessState != nil {
			p.exitCode = cmd.ProcessState.ExitCode()
		}
		f.Close()
		cancel()
		close(p.done)
	}()
	t.Logf("started %s (pid %d): %s", name, cmd.Process.Pid, strings.Join(argv, " "))
	t.Cleanup(func() {
		if !p.exited() {
			if p.grace > 0 {
				if code := p.stop(p.grace); code != 0 {
					t.Logf("%s (pid %d) exited with code %d when stopped at the end of the test", name, p.pid(), code)
				}
			} else {
				p.kill()
			}
		}
		if t.Failed() {
			logTail(t, name+" output", outPath, p.tailLines)
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to timeout for the process to exit and returns its exit
// code (-1 if killed by a signal). ok is false if it was still running.
func (p *proc) wait(timeout time.Duration) (code int, ok bool) {
	select {
	case <-p.done:
		return p.exitCode, true
	case <-time.After(timeout):
		return -1, false
	}
}

// timedOut reports whether the process was killed by its context timeout.
func (p *proc) timedOut() bool {
	return p.exited() && errors.Is(p.ctx.Err(), context.DeadlineExceeded) && p.exitCode == -1
}

// signal sends sig to the process (by PID) if it is still running.
func (p *proc) signal(sig os.Signal) {
	if !p.exited() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill SIGKILLs the process (by PID) if it is still running and waits for it.
func (p *proc) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs.
func (p *proc) stop(grace time.Duration) int {
	p.signal(syscall.SIGTERM)
	if code, ok := p.wait(grace); ok {
		return code
	}
	p.t.Logf("%s (pid %d) did not exit %v after SIGTERM; killing", p.name, p.pid(), grace)
	p.kill()
	return p.exitCode
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.outPath)
	return string(b)
}

// runProc runs argv to completion (bounded by timeout) and returns its exit
// code and combined output.
func runProc(t *testing.T, name string, timeout time.Duration, dir string, env []string, argv ...string) (int, string) {
	t.Helper()
	p := startProc(t, name, timeout, dir, env, argv...)
	<-p.done
	if p.timedOut() {
		t.Logf("%s was killed after its %v timeout", name, timeout)
	}
	return p.exitCode, p.output()
}

// logTail logs the last n lines of a file.
func logTail(t *testing.T, label, path string, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("--- %s: %v", label, err)
		return
	}
	t.Logf("--- %s (%s), last %d lines:\n%s", label, path, n, tail(string(data), n))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ---------------------------------------------------------------------------
// Ringo under test.

type ringo struct {
	t        *testing.T
	bin      string
	dataDir  string
	cfgPath  string
	sipPort  int
	httpPort int
	rtpPorts string
	runs     int
	proc     *proc
}

// ringoConfig is a config file holding only the contract's security keys.
func ringoConfig(failLimit int, failWindow, blockFor string) string {
	return fmt.Sprintf("security:\n  failLimit: %d\n  failWindow: %s\n  blockFor: %s\n", failLimit, failWindow, blockFor)
}

// defaultConfig effectively disables brute-force blocking, so tests that
// deliberately send a wrong password do not lock themselves out.
var defaultConfig = ringoConfig(1000, "1m", "10m")

// startRingo starts a new Ringo with a fresh data dir on free ports and
// waits until /healthz answers 200. It is stopped (SIGTERM, then SIGKILL) at
// the end of the test.
func startRingo(t *testing.T, config string) *ringo {
	t.Helper()
	bin := ringoBinary(t)
	dir := t.TempDir()
	r := &ringo{
		t:       t,
		bin:     bin,
		dataDir: filepath.Join(dir, "data"),
		cfgPath: filepath.Join(dir, "config.yaml"),
	}
	if err := os.MkdirAll(r.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	r.sipPort = freePort(t)
	r.httpPort = freePort(t)
	// Room for the load test's calls to be anchored: ~50 calls up at once,
	// two sessions each, an RTP and an RTCP port per session.
	base := freeUDPRange(t, 400)
	r.rtpPorts = fmt.Sprintf("%d-%d", base, base+399)
	r.start()
	return r
}

func (r *ringo) sipAddr() string   { return fmt.Sprintf("127.0.0.1:%d", r.sipPort) }
func (r *ringo) httpURL() string   { return fmt.Sprintf("http://127.0.0.1:%d", r.httpPort) }
func (r *ringo) tokenPath() string { return filepath.Join(r.dataDir, "admin.token") }

// start (re)starts the ringo process with r's settings and waits for health.
func (r *ringo) start() {
	t := r.t
	t.Helper()
	r.runs++
	logDir := filepath.Join(filepath.Dir(r.dataDir), fmt.Sprintf("run%d", r.runs))
	r.proc = startProc(t, fmt.Sprintf("ringo-run%d", r.runs), 15*time.Minute, logDir, nil,
		r.bin, "serve",
		"--data", r.dataDir,
		"--config", r.cfgPath,
		"--sip", r.sipAddr(),
		"--http", fmt.Sprintf("127.0.0.1:%d", r.httpPort),
		"--rtp-ports", r.rtpPorts)
	r.proc.grace = 40 * time.Second // the end-of-test stop is a SIGTERM drain
	r.proc.tailLines = 80
	client := &http.Client{Timeout: time.Second}
	healthy := waitFor(30*time.Second, func() bool {
		if r.proc.exited() {
			return true
		}
		resp, err := client.Get(r.httpURL() + "/healthz")
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if r.proc.exited() {
		t.Fatalf("ringo exited (code %d) before becoming healthy; log:\n%s", r.proc.exitCode, tail(r.proc.output(), 40))
	}
	if !healthy {
		t.Fatalf("ringo did not answer 200 on /healthz within 30s; log:\n%s", tail(r.proc.output(), 40))
	}
	if !waitFor(10*time.Second, func() bool { return fileExists(r.tokenPath()) }) {
		t.Fatalf("ringo is healthy but %s was not written", r.tokenPath())
	}
	t.Logf("ringo healthy: sip %s http %s rtp %s data %s", r.sipAddr(), r.httpURL(), r.rtpPorts, r.dataDir)
}

// stop sends SIGTERM and returns the exit code (SIGKILL after 40 s).
func (r *ringo) stop() int {
	return r.proc.stop(40 * time.Second)
}

func (r *ringo) token() string {
	r.t.Helper()
	b, err := os.ReadFile(r.tokenPath())
	if err != nil {
		r.t.Fatalf("read admin token: %v", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		r.t.Fatalf("%s is empty", r.tokenPath())
	}
	return tok
}

// api performs an admin API request with the given bearer token ("" = none).
func (r *ringo) api(method, path, token string, body io.Reader) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.httpURL()+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// apply provisions file with `ringo apply` and returns its stdout+stderr.
func (r *ringo) apply(file string) string {
	r.t.Helper()
	code, out := runProc(r.t, "ringo-apply", 60*time.Second, "", nil,
		r.bin, "apply", "-f", file, "--server", r.httpURL(), "--data", r.dataDir)
	if code != 0 {
		r.t.Fatalf("ringo apply -f %s exited %d:\n%s", file, code, out)
	}
	return out
}

// provision applies testdata/accounts.yaml (1001 alias 201, 1002 alias 202).
func (r *ringo) provision() {
	r.t.Helper()
	r.apply(testdata(r.t, "accounts.yaml"))
}

type registration struct {
	AOR       string `json:"aor"`
	Contact   string `json:"contact"`
	Expires   int    `json:"expires"`
	Source    string `json:"source"`
	Transport string `json:"transport"`
}

func (r *ringo) registrations() ([]registration, []byte) {
	r.t.Helper()
	code, body := r.api("GET", "/api/v1/registrations", r.token(), nil)
	if code != http.StatusOK {
		r.t.Fatalf("GET /api/v1/registrations: %d %s", code, body)
	}
	var regs []registration
	if err := json.Unmarshal(body, &regs); err != nil {
		r.t.Fatalf("GET /api/v1/registrations: bad JSON array: %v\n%s", err, body)
	}
	return regs, body
}

func (r *ringo) bindingsOf(aor string) []registration {
	regs, _ := r.registrations()
	var out []registration
	for _, reg := range regs {
		if reg.AOR == aor {
			out = append(out, reg)
		}
	}
	return out
}

// waitRegistered polls the API until aor has a binding whose contact
// contains contactPart ("" = any) and returns it.
func (r *ringo) waitRegistered(aor, contactPart string, timeout time.Duration) registration {
	r.t.Helper()
	var found registration
	var last []byte
	ok := waitFor(timeout, func() bool {
		regs, body := r.registrations()
		last = body
		for _, reg := range regs {
			if reg.AOR == aor && strings.Contains(reg.Contact, contactPart) {
				found = reg
				return true
			}
		}
		return false
	})
	if !ok {
		r.t.Fatalf("no registration of %s (contact containing %q) within %v; /api/v1/registrations = %s", aor, contactPart, timeout, last)
	}
	return found
}

// ---------------------------------------------------------------------------
// SIPp.

type sipp struct {
	t    *testing.T
	name string
	dir  string
	proc *proc
}

// startSipp runs sipp in its own directory (it writes its traces into the
// current directory) with traces enabled; args must include the scenario.
func startSipp(t *testing.T, name string, timeout time.Duration, args ...string) *sipp {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	argv := append([]string{"sipp"}, args...)
	argv = append(argv, "-nostdin", "-trace_err", "-trace_screen")
	s := &sipp{t: t, name: name, dir: dir}
	s.proc = startProc(t, name, timeout, dir, nil, argv...)
	t.Cleanup(func() {
		if t.Failed() {
			s.dump()
		}
	})
	return s
}

// runSipp runs sipp to completion and returns its exit code.
func runSipp(t *testing.T, name string, timeout time.Duration, args ...string) (*sipp, int) {
	t.Helper()
	s := startSipp(t, name, timeout, args...)
	<-s.proc.done
	if s.proc.timedOut() {
		t.Errorf("%s: sipp killed after its %v timeout", name, timeout)
	}
	return s, s.proc.exitCode
}

// file returns the first trace file ending in suffix (e.g. "_screen.log").
func (s *sipp) file(suffix string) string {
	m, _ := filepath.Glob(filepath.Join(s.dir, "*"+suffix))
	sort.Strings(m)
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

func (s *sipp) read(suffix string) string {
	p := s.file(suffix)
	if p == "" {
		return ""
	}
	b, _ := os.ReadFile(p)
	return string(b)
}

func (s *sipp) dump() {
	for _, suf := range []string{"_screen.log", "_errors.log", "_messages.log"} {
		if p := s.file(suf); p != "" {
			logTail(s.t, s.name+" "+suf, p, 60)
		}
	}
}

// stats returns SIPp's cumulative successful/failed call counters, from the
// -trace_stat CSV if present, else from the final screen.
func (s *sipp) stats() (success, failed int, err error) {
	if csv := s.read("_.csv"); csv != "" {
		lines := strings.Split(strings.TrimSpace(csv), "\n")
		if len(lines) >= 2 {
			head := strings.Split(lines[0], ";")
			last := strings.Split(lines[len(lines)-1], ";")
			col := func(name string) (int, error) {
				for i, h := range head {
					if h == name && i < len(last) {
						return strconv.Atoi(strings.TrimSpace(last[i]))
					}
				}
				return 0, fmt.Errorf("column %s not in stats CSV", name)
			}
			if success, err = col("SuccessfulCall(C)"); err != nil {
				return
			}
			failed, err = col("FailedCall(C)")
			return
		}
	}
	screen := s.read("_screen.log")
	if screen == "" {
		return 0, 0, errors.New("no SIPp stats CSV or screen log")
	}
	// "  Successful call        |        0                  |        1000"
	grab := func(label string) (int, error) {
		var v = -1
		for _, line := range strings.Split(screen, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), label) {
				f := strings.Split(line, "|")
				if len(f) >= 3 {
					if n, err := strconv.Atoi(strings.TrimSpace(f[2])); err == nil {
						v = n
					}
				}
			}
		}
		if v < 0 {
			return 0, fmt.Errorf("%q not on the SIPp screen", label)
		}
		return v, nil
	}
	if success, err = grab("Successful call"); err != nil {
		return
	}
	failed, err = grab("Failed call")
	return
}

// sippRegister registers user with SIPp from 127.0.0.1:localPort, Contact
// 127.0.0.1:contactPort, using testdata/sipp/register.xml; it returns the
// run and SIPp's exit code (0 = registered).
func sippRegister(t *testing.T, r *ringo, name, user, pass string, expires, localPort, contactPort int, extra ...string) (*sipp, int) {
	t.Helper()
	args := []string{r.sipAddr(),
		"-sf", testdata(t, "sipp/register.xml"),
		"-s", user, "-ap", pass,
		"-key", "expires", strconv.Itoa(expires),
		"-key", "contact", fmt.Sprintf("127.0.0.1:%d", contactPort),
		"-i", "127.0.0.1", "-p", strconv.Itoa(localPort),
		"-m", "1", "-trace_msg",
		"-timeout", "20", "-timeout_error", "-recv_timeout", "5000"}
	args = append(args, extra...)
	return runSipp(t, name, 40*time.Second, args...)
}

// ---------------------------------------------------------------------------
// baresip, driven over ctrl_tcp.

type baresip struct {
	t        *testing.T
	name     string
	dir      string
	recDir   string
	sipPort  int
	ctrlPort int
	proc     *proc
	ctl      *ctrlClient
}

type baresipConfig struct {
	SIPListen, CtrlListen, AudioSource, RecDir, RTPPorts, LocalIP string
}

type baresipAccount struct {
	User, Pass, PBX, Transport, AnswerMode, Codecs string
}

// startBaresip starts a headless baresip registered to Ringo as user, sending
// wav as its microphone, and connects to its ctrl_tcp port.
func startBaresip(t *testing.T, r *ringo, name, user, pass, wav, answerMode string) *baresip {
	t.Helper()
	return startBaresipCodecs(t, r, name, user, pass, wav, answerMode, "pcmu,pcma")
}

// startBaresipCodecs is startBaresip offering and accepting only codecs
// (baresip names: pcmu, pcma, g722, opus).
func startBaresipCodecs(t *testing.T, r *ringo, name, user, pass, wav, answerMode, codecs string) *baresip {
	t.Helper()
	b := &baresip{t: t, name: name, dir: filepath.Join(t.TempDir(), name)}
	b.recDir = filepath.Join(b.dir, "rec")
	if err := os.MkdirAll(b.recDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// baresip also binds SIP/TLS on the port after its SIP port: take both,
	// below the ephemeral range, where no outgoing connection can take the
	// second one between the check and baresip's start.
	b.sipPort = freePortPair(t)
	b.ctrlPort = freePort(t)
	rtp := freeUDPRange(t, 20)
	cfg := baresipConfig{
		SIPListen:   fmt.Sprintf("127.0.0.1:%d", b.sipPort),
		CtrlListen:  fmt.Sprintf("127.0.0.1:%d", b.ctrlPort),
		AudioSource: wav,
		RecDir:      b.recDir,
		RTPPorts:    fmt.Sprintf("%d-%d", rtp, rtp+19),
		LocalIP:     "127.0.0.1",
	}
	renderTemplate(t, testdata(t, "baresip/config.tmpl"), filepath.Join(b.dir, "config"), cfg)
	acc := baresipAccount{User: user, Pass: pass, PBX: r.sipAddr(), Transport: "udp", AnswerMode: answerMode, Codecs: codecs}
	renderTemplate(t, testdata(t, "baresip/accounts.tmpl"), filepath.Join(b.dir, "accounts"), acc)
	if err := os.WriteFile(filepath.Join(b.dir, "contacts"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(b.dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	b.proc = startProc(t, name, 3*time.Minute, b.dir, []string{"HOME=" + home}, "baresip", "-f", b.dir)
	var conn net.Conn
	ok := waitFor(15*time.Second, func() bool {
		if b.proc.exited() {
			return true
		}
		c, err := net.DialTimeout("tcp", cfg.CtrlListen, time.Second)
		if err != nil {
			return false
		}
		conn = c
		return true
	})
	if b.proc.exited() {
		t.Fatalf("%s: baresip exited (code %d) at start:\n%s", name, b.proc.exitCode, tail(b.proc.output(), 30))
	}
	if !ok {
		t.Fatalf("%s: ctrl_tcp %s not reachable within 15s:\n%s", name, cfg.CtrlListen, tail(b.proc.output(), 30))
	}
	b.ctl = newCtrlClient(t, name, conn)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s ctrl_tcp messages:\n%s", name, strings.Join(b.ctl.history(), "\n"))
		}
	})
	return b
}

// quit asks baresip to quit over ctrl_tcp and waits for the process to
// exit (SIGTERM, then SIGKILL if it does not), so its recordings are closed.
func (b *baresip) quit() {
	b.t.Helper()
	if b.proc.exited() {
		return
	}
	_ = b.ctl.send("quit", "")
	if _, ok := b.proc.wait(10 * time.Second); ok {
		return
	}
	// baresip waits for its un-REGISTER to be answered; a second SIGTERM
	// makes it stop without waiting.
	b.t.Logf("%s did not quit within 10s of the quit command; sending SIGTERM", b.name)
	b.proc.signal(syscall.SIGTERM)
	if _, ok := b.proc.wait(3 * time.Second); ok {
		return
	}
	b.proc.stop(3 * time.Second)
}

// recording returns the path of the single dump-*-<kind>.wav file
// (kind "dec" = received audio, "enc" = sent audio).
func (b *baresip) recording(kind string) string {
	b.t.Helper()
	m, _ := filepath.Glob(filepath.Join(b.recDir, "dump-*-"+kind+".wav"))
	if len(m) != 1 {
		all, _ := filepath.Glob(filepath.Join(b.recDir, "*"))
		b.t.Fatalf("%s: want exactly one dump-*-%s.wav in %s, have %v", b.name, kind, b.recDir, all)
	}
	return m[0]
}

func renderTemplate(t *testing.T, tmplPath, out string, data any) {
	t.Helper()
	tmpl, err := template.ParseFiles(tmplPath)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	// baresip gets no comment lines: accounts parsing is line-oriented.
	var lines []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ctrlMsg is one ctrl_tcp message (a response or an event).
type ctrlMsg struct {
	Event      bool   `json:"event"`
	Response   bool   `json:"response"`
	OK         bool   `json:"ok"`
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
	Data       string `json:"data"`
	Token      string `json:"token"`
	Raw        string `json:"-"`
}

// ctrlClient speaks baresip's ctrl_tcp protocol: netstring-framed JSON.
// Requests are {"command","params","token"}; responses carry the token;
// events have "event":true. Events are kept in arrival order until a
// waitEvent consumes them, so an event that arrives before it is waited for
// is not lost.
type ctrlClient struct {
	t      *testing.T
	name   string
	conn   net.Conn
	mu     sync.Mutex
	log    []string
	events []ctrlMsg     // not yet consumed
	notify chan struct{} // poked when an event arrives
	resp   map[string]chan ctrlMsg
	next   int
	closed chan struct{}
}

func newCtrlClient(t *testing.T, name string, conn net.Conn) *ctrlClient {
	c := &ctrlClient{t: t, name: name, conn: conn, notify: make(chan struct{}, 1),
		resp: map[string]chan ctrlMsg{}, closed: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { conn.Close() })
	return c
}

func (c *ctrlClient) readLoop() {
	defer close(c.closed)
	br := bufio.NewReader(c.conn)
	for {
		payload, err := readNetstring(br)
		if err != nil {
			c.record("<< connection closed: " + err.Error())
			return
		}
		var m ctrlMsg
		if err := json.Unmarshal(payload, &m); err != nil {
			c.record("<< undecodable: " + string(payload))
			continue
		}
		m.Raw = string(payload)
		c.record("<< " + m.Raw)
		c.mu.Lock()
		if m.Response {
			ch := c.resp[m.Token]
			delete(c.resp, m.Token)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		if m.Event {
			c.events = append(c.events, m)
		}
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}

func (c *ctrlClient) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, time.Now().Format("15:04:05.000")+" "+s)
}

func (c *ctrlClient) history() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

func readNetstring(br *bufio.Reader) ([]byte, error) {
	lenStr, err := br.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("bad netstring length %q", lenStr)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("netstring not terminated by ','")
	}
	return buf[:n], nil
}

func (c *ctrlClient) write(command, params string) (string, chan ctrlMsg, error) {
	c.mu.Lock()
	c.next++
	tok := strconv.Itoa(c.next)
	ch := make(chan ctrlMsg, 1)
	c.resp[tok] = ch
	c.mu.Unlock()
	body, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": tok})
	c.record(">> " + string(body))
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := fmt.Fprintf(c.conn, "%d:%s,", len(body), body)
	return tok, ch, err
}

// send writes a command without waiting for the response.
func (c *ctrlClient) send(command, params string) error {
	_, _, err := c.write(command, params)
	return err
}

// command sends a command and waits for its response.
func (c *ctrlClient) command(command, params string, timeout time.Duration) (ctrlMsg, error) {
	_, ch, err := c.write(command, params)
	if err != nil {
		return ctrlMsg{}, err
	}
	select {
	case m := <-ch:
		return m, nil
	case <-c.closed:
		return ctrlMsg{}, fmt.Errorf("%s: ctrl_tcp closed while waiting for the response to %q", c.name, command)
	case <-time.After(timeout):
		return ctrlMsg{}, fmt.Errorf("%s: no response to %q within %v", c.name, command, timeout)
	}
}

// waitEvent waits for the first unconsumed event of type want and consumes
// it (events of other types stay queued). If an event whose type is in
// abortOn is queued before it, that is an error (e.g. CALL_CLOSED while
// waiting for CALL_ESTABLISHED).
func (c *ctrlClient) waitEvent(want string, timeout time.Duration, abortOn ...string) (ctrlMsg, error) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		for i, m := range c.events {
			if m.Type == want {
				c.events = append(c.events[:i:i], c.events[i+1:]...)
				c.mu.Unlock()
				return m, nil
			}
			for _, a := range abortOn {
				if m.Type == a {
					c.mu.Unlock()
					return m, fmt.Errorf("%s: got %s (%s) while waiting for %s", c.name, m.Type, m.Param, want)
				}
			}
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-c.closed:
			return ctrlMsg{}, fmt.Errorf("%s: ctrl_tcp closed while waiting for %s", c.name, want)
		case <-deadline:
			return ctrlMsg{}, fmt.Errorf("%s: no %s event within %v", c.name, want, timeout)
		}
	}
}

// ---------------------------------------------------------------------------
// WAV files and tone analysis.

// toneWAV writes an 8 kHz mono S16LE WAV: toneSec of a freq Hz sine at half
// full scale, then silence up to totalSec (baresip's aufile ends the call at
// end of file, so the silence keeps the call up).
func toneWAV(t *testing.T, path string, freq, toneSec, totalSec float64) {
	t.Helper()
	toneWAVAt(t, path, 8000, 1, freq, toneSec, totalSec)
}

// toneWAVAt is toneWAV at rate samples/s with the tone on every one of
// channels.
func toneWAVAt(t *testing.T, path string, rate, channels int, freq, toneSec, totalSec float64) {
	t.Helper()
	n := int(totalSec * float64(rate))
	toneN := int(toneSec * float64(rate))
	s := make([]int16, n*channels)
	for i := 0; i < toneN; i++ {
		v := int16(16384 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for c := range channels {
			s[i*channels+c] = v
		}
	}
	if err := writeWAVN(path, rate, channels, s); err != nil {
		t.Fatal(err)
	}
}

func writeWAV(path string, rate int, samples []int16) error {
	return writeWAVN(path, rate, 1, samples)
}

// writeWAVN writes interleaved 16-bit PCM of channels channels.
func writeWAVN(path string, rate, channels int, samples []int16) error {
	var b bytes.Buffer
	dataLen := uint32(2 * len(samples))
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, 36+dataLen)
	b.WriteString("WAVE")
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1)) // PCM
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*2*channels))
	binary.Write(&b, binary.LittleEndian, uint16(2*channels))
	binary.Write(&b, binary.LittleEndian, uint16(16))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, dataLen)
	binary.Write(&b, binary.LittleEndian, samples)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// readWAV reads a 16-bit PCM WAV (any chunk layout, as libsndfile writes it)
// and returns its rate and the first channel's samples. A data chunk whose
// size was never finalised is read to the end of the file.
func readWAV(path string) (rate int, samples []int16, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, err
	}
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return 0, nil, fmt.Errorf("%s: not a RIFF/WAVE file (%d bytes)", path, len(data))
	}
	var channels, bits, format int
	pos := 12
	for pos+8 <= len(data) {
		id := string(data[pos : pos+4])
		size := int(binary.LittleEndian.Uint32(data[pos+4 : pos+8]))
		body := pos + 8
		switch id {
		case "fmt ":
			if body+16 > len(data) {
				return 0, nil, fmt.Errorf("%s: short fmt chunk", path)
			}
			format = int(binary.LittleEndian.Uint16(data[body:]))
			channels = int(binary.LittleEndian.Uint16(data[body+2:]))
			rate = int(binary.LittleEndian.Uint32(data[body+4:]))
			bits = int(binary.LittleEndian.Uint16(data[body+14:]))
		case "data":
			if format != 1 && format != 0xFFFE {
				return 0, nil, fmt.Errorf("%s: WAV format %d is not PCM", path, format)
			}
			if bits != 16 || channels < 1 {
				return 0, nil, fmt.Errorf("%s: want 16-bit PCM, have %d bits %d channels", path, bits, channels)
			}
			end := body + size
			if size == 0 || end > len(data) {
				end = len(data)
			}
			frame := 2 * channels
			for i := body; i+frame <= end; i += frame {
				samples = append(samples, int16(binary.LittleEndian.Uint16(data[i:])))
			}
			return rate, samples, nil
		}
		pos = body + size + size%2
	}
	return 0, nil, fmt.Errorf("%s: no data chunk", path)
}

// toneReport describes a recording, measured in 20 ms blocks.
type toneReport struct {
	Seconds     float64 // length of the recording
	RMSdBFS     float64 // RMS of the whole recording
	ActiveSec   float64 // duration of blocks louder than -40 dBFS
	ActiveRMS   float64 // RMS (dBFS) of the active blocks
	BandRatio   float64 // share of the active blocks' energy at freq (Goertzel)
	OtherRatio  float64 // same, at a control frequency
	Freq, Other float64
}

func (r toneReport) String() string {
	return fmt.Sprintf("length %.2fs, rms %.1f dBFS, active %.2fs at %.1f dBFS, energy share at %.0f Hz %.3f (at %.0f Hz %.3f)",
		r.Seconds, r.RMSdBFS, r.ActiveSec, r.ActiveRMS, r.Freq, r.BandRatio, r.Other, r.OtherRatio)
}

func dBFS(meanSquare float64) float64 {
	if meanSquare <= 0 {
		return -200
	}
	return 10 * math.Log10(meanSquare/(32768.0*32768.0))
}

// goertzelShare returns the share of the block's energy at freq:
// 2|X(f)|^2 / (N * sum x^2), which is 1 for a pure sine of that frequency
// completing whole cycles in the block.
func goertzelShare(x []float64, freq float64, rate int) float64 {
	n := len(x)
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, v := range x {
		s0 := v + coeff*s1 - s2
		s2, s1 = s1, s0
		energy += v * v
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(n) * energy)
}

// analyzeTone measures a recording for a tone at freq (and a control freq).
func analyzeTone(path string, freq, other float64) (toneReport, error) {
	rate, s, err := readWAV(path)
	if err != nil {
		return toneReport{}, err
	}
	rep := toneReport{Freq: freq, Other: other}
	if rate <= 0 || len(s) == 0 {
		return rep, fmt.Errorf("%s: empty recording (rate %d, %d samples)", path, rate, len(s))
	}
	rep.Seconds = float64(len(s)) / float64(rate)
	block := rate / 50 // 20 ms: whole cycles of 1000 Hz and 600 Hz at 8 kHz
	var total, activeE, bandE, otherE float64
	var activeN int
	x := make([]float64, block)
	for off := 0; off+block <= len(s); off += block {
		var e float64
		for i := 0; i < block; i++ {
			x[i] = float64(s[off+i])
			e += x[i] * x[i]
		}
		total += e
		if dBFS(e/float64(block)) < -40 {
			continue
		}
		activeN += block
		activeE += e
		bandE += e * goertzelShare(x, freq, rate)
		otherE += e * goertzelShare(x, other, rate)
	}
	rep.RMSdBFS = dBFS(total / float64(len(s)))
	rep.ActiveSec = float64(activeN) / float64(rate)
	if activeN > 0 {
		rep.ActiveRMS = dBFS(activeE / float64(activeN))
		rep.BandRatio = bandE / activeE
		rep.OtherRatio = otherE / activeE
	} else {
		rep.ActiveRMS = -200
	}
	return rep, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func getenv(k string) string { return os.Getenv(k) }

const sigUSR1 = syscall.SIGUSR1

// grepLine returns the first line of s containing sub.
func grepLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
