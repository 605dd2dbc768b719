// Package pgtest gives tests a PostgreSQL server: the one RINGO_TEST_POSTGRES
// names (a DSN whose role may create databases), or else a throwaway cluster
// made with the local PostgreSQL binaries (initdb, pg_ctl) in a temporary
// directory, listening on a free port of 127.0.0.1 and stopped by Close.
// Each test gets a database of its own, so tests can run in parallel.
//
// When no binaries are found or the cluster does not start, tests skip with
// the reason, unless RINGO_INTEROP=require, in which case they fail (CI sets
// it). A RINGO_TEST_POSTGRES that cannot be reached always fails: it was
// asked for.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Env names the variable holding the DSN of an existing server.
const Env = "RINGO_TEST_POSTGRES"

// Timeouts of the cluster's external commands.
const (
	initTimeout  = 2 * time.Minute
	startTimeout = 90 * time.Second
	stopTimeout  = 30 * time.Second
)

// Server starts (once, on first use) and hands out databases.
type Server struct {
	once    sync.Once
	admin   *pgxpool.Pool
	dsn     string // of the maintenance database
	err     error  // why there is no server
	missing bool   // err says the server is unavailable here rather than broken
	cl      *cluster
	mu      sync.Mutex
	n       int
}

// New returns a server that starts on the first call of DB.
func New() *Server { return &Server{} }

func (s *Server) start() {
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout+startTimeout)
	defer cancel()
	if dsn := os.Getenv(Env); dsn != "" {
		s.dsn = dsn
	} else {
		s.cl, s.err = startCluster(ctx)
		if s.err != nil {
			s.missing = true
			return
		}
		s.dsn = s.cl.dsn
	}
	s.admin, s.err = pgxpool.New(ctx, s.dsn)
	if s.err == nil {
		s.err = s.admin.Ping(ctx)
	}
	if s.err != nil {
		s.err = fmt.Errorf("postgres at %s: %w", redact(s.dsn), s.err)
		return
	}
	// The engine needs pg_trgm, which some distributions package apart
	// from the server (postgresql-contrib).
	var trgm bool
	if s.err = s.admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')").Scan(&trgm); s.err == nil && !trgm {
		s.err, s.missing = errors.New("the pg_trgm extension is not installed (postgresql-contrib)"), s.cl != nil
	}
}

// DB creates an empty database and returns its DSN. A database on an
// external server is dropped when t ends; a throwaway cluster goes whole.
func (s *Server) DB(t testing.TB) string {
	t.Helper()
	dsn, drop := s.Create(t)
	if s.cl == nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := drop(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	return dsn
}

// Create creates an empty database that outlives tb (a benchmark's shared
// data, say) and returns its DSN and how to drop it. Without a server it
// skips tb or fails it, as DB does.
func (s *Server) Create(tb testing.TB) (dsn string, drop func(context.Context) error) {
	tb.Helper()
	s.once.Do(s.start)
	if s.err != nil {
		msg := fmt.Sprintf("no PostgreSQL server for this test: %v", s.err)
		switch {
		case !s.missing:
			tb.Fatal(msg)
		case strings.EqualFold(os.Getenv("RINGO_INTEROP"), "require"):
			tb.Fatal(msg + "; RINGO_INTEROP=require makes this fatal")
		default:
			tb.Skip(msg + "; install PostgreSQL (initdb, pg_ctl, pg_trgm) or set " + Env + ", or set RINGO_INTEROP=require to fail instead")
		}
	}
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	var b [4]byte
	rand.Read(b[:])
	name := fmt.Sprintf("ringo_test_%d_%d_%s", os.Getpid(), n, hex.EncodeToString(b[:]))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// template0 can be copied while other tests connect to template1.
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	dsn, err := withDatabase(s.dsn, name)
	if err != nil {
		tb.Fatal(err)
	}
	return dsn, func(ctx context.Context) error {
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
}

// Close stops the throwaway cluster and removes its directory.
func (s *Server) Close() error {
	if s.admin != nil {
		s.admin.Close()
	}
	if s.cl != nil {
		return s.cl.stop()
	}
	return nil
}

// withDatabase returns dsn (URL or keyword/value form) naming database db.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("%s: %w", Env, err)
		}
		u.Path = "/" + db
		return u.String(), nil
	}
	// In the keyword/value form the last setting of a keyword wins.
	return dsn + " dbname=" + db, nil
}

// redact hides a password in dsn for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxx")
		}
		return u.String()
	}
	f := strings.Fields(dsn)
	for i, kv := range f {
		if strings.HasPrefix(kv, "password=") {
			f[i] = "password=xxx"
		}
	}
	return strings.Join(f, " ")
}

// cluster is a throwaway PostgreSQL cluster.
type cluster struct {
	bin  string // directory of initdb, pg_ctl and postgres
	dir  string // temporary directory: data/, the socket and the log
	cred *runAs // nil unless the cluster runs as another user
	dsn  string
}

// binDir finds the PostgreSQL server binaries: Debian and Ubuntu keep them
// in /usr/lib/postgresql/<major>/bin (the newest is taken), elsewhere they
// are usually on PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil && isExec(filepath.Join(filepath.Dir(p), "initdb")) {
			return filepath.Dir(p), nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin")
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func startCluster(ctx context.Context) (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin}
	// initdb refuses to run as root: run the cluster as the postgres user.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and there is no postgres user to run the cluster as: %w", err)
		}
		if c.cred, err = newRunAs(u); err != nil {
			return nil, err
		}
	}
	// Under the system temporary directory rather than a test's: the
	// postgres user must be able to reach it, and the socket path must be short.
	if c.dir, err = os.MkdirTemp("", "ringo-pg-"); err != nil {
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, c.cred.uid, c.cred.gid); err != nil {
			os.RemoveAll(c.dir)
			return nil, err
		}
	}
	data := filepath.Join(c.dir, "data")
	if out, err := c.run(ctx, initTimeout, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(c.dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	// A free port can be taken by someone else before the server binds it: try a few.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			c.stop()
			return nil, err
		}
		opts := fmt.Sprintf("-k %s -c listen_addresses=127.0.0.1 -p %d -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200", c.dir, port)
		out, err := c.run(ctx, startTimeout, "pg_ctl", "-D", data, "-l", filepath.Join(c.dir, "log"), "-w", "-t", strconv.Itoa(int(startTimeout/time.Second)-10), "-o", opts, "start")
		if err == nil {
			c.dsn = fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", port)
			return c, nil
		}
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		if attempt < 3 && strings.Contains(string(log), "already in use") {
			continue
		}
		c.stop()
		return nil, fmt.Errorf("pg_ctl start: %w: %s\n%s", err, out, tail(string(log), 2000))
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs one of the cluster's commands, bounded by timeout, and returns its output.
func (c *cluster) run(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	// The server pg_ctl leaves running must not hold the output pipe open.
	cmd.WaitDelay = 5 * time.Second
	if c.cred != nil {
		c.cred.apply(cmd)
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// stop stops the server at once (nothing in it is worth a checkpoint) and
// removes the directory.
func (c *cluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	var err error
	if _, statErr := os.Stat(filepath.Join(c.dir, "data", "postmaster.pid")); statErr == nil {
		var out string
		if out, err = c.run(ctx, stopTimeout, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "-t", "20", "stop"); err != nil {
			err = fmt.Errorf("pg_ctl stop: %w: %s", err, out)
		}
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
