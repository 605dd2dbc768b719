package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/ringo-pbx/ringo/internal/api"
	"github.com/ringo-pbx/ringo/internal/cdr"
	cdrpostgres "github.com/ringo-pbx/ringo/internal/cdr/postgres"
	cdrsqlite "github.com/ringo-pbx/ringo/internal/cdr/sqlite"
	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/media"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
	"github.com/ringo-pbx/ringo/internal/pbx/stock"
	"github.com/ringo-pbx/ringo/internal/sip"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

func serveCmd() *cobra.Command {
	var cfgFile, sipAddr, httpAddr, rtpPorts, smtpAddr, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the PBX (embedded defaults: data in ./ringo-data, SIP on :5060, API on 127.0.0.1:8080)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cfgFile)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if f.Changed("data") || cfg.Data == "" {
				cfg.Data = dataDir
			}
			if f.Changed("sip") {
				cfg.SIP.Addr = sipAddr
			}
			if f.Changed("http") {
				cfg.HTTP.Addr = httpAddr
			}
			if f.Changed("rtp-ports") {
				cfg.RTP.Ports = rtpPorts
			}
			if f.Changed("smtp") {
				cfg.SMTP.Relay = smtpAddr
			}
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			return serve(cmd.Context(), cfg, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgFile, "config", "", "settings file (YAML); flags override it")
	f.StringVar(&sipAddr, "sip", "0.0.0.0:5060", "SIP UDP and TCP listen address")
	f.StringVar(&httpAddr, "http", "127.0.0.1:8080", "HTTP API listen address")
	f.StringVar(&rtpPorts, "rtp-ports", "10000-20000", "RTP port range LO-HI")
	f.StringVar(&smtpAddr, "smtp", "", "SMTP relay HOST:PORT for outgoing mail")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, cfg.Data)
	if err != nil {
		return err
	}
	defer st.Close()
	dir, err := directory.Open(ctx, st)
	if err != nil {
		return err
	}
	// The files PBX programs see: DATA/environments over the stock ones.
	envs, err := envir.Open(filepath.Join(cfg.Data, "environments"), stock.FS())
	if err != nil {
		return err
	}
	token, err := adminToken(cfg.Data)
	if err != nil {
		return err
	}
	loc, err := sip.NewLocation(ctx, st, log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sipSrv, err := sip.New(cfg, log, dir, loc, reg)
	if err != nil {
		return err
	}
	var records interface {
		cdr.Store
		cdr.JournalStore
	}
	if cfg.Records.Engine == config.RecordsPostgres {
		records, err = cdrpostgres.Open(ctx, cfg.Records.DSN)
	} else {
		records, err = cdrsqlite.Open(ctx, cfg.Data)
	}
	if err != nil {
		return err
	}
	defer records.Close()
	recWriter := cdr.NewWriter(records, cdr.WriterOptions{})
	defer recWriter.Close()
	if n, err := cdr.Recover(ctx, records, recWriter); err != nil {
		return fmt.Errorf("recover calls open at the last stop: %w", err)
	} else if n > 0 {
		log.Warn("recorded calls that were open when Ringo last stopped as interrupted", "calls", n)
	}
	if days := cfg.Records.RetentionDays; days > 0 {
		ret := &cdr.Retention{Store: records, Log: log, Keep: time.Duration(days) * 24 * time.Hour}
		go ret.Run(ctx)
	}
	journal := cdr.NewJournal(records, log)
	if cfg.Records.Enabled {
		sipSrv.SetRecorder(recWriter)
		sipSrv.SetJournal(journal)
	}
	if err := sipSrv.Listen(ctx); err != nil {
		return err
	}
	mediaCtx, stopMedia := context.WithCancel(context.Background())
	defer stopMedia()
	eng, err := mediaEngine(mediaCtx, cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	sipSrv.SetMedia(eng)
	log.Info("media", "service", "rtp", "ports", cfg.RTP.Ports, "anchor", cfg.RTP.Anchor)
	tasks, err := startPBX(mediaCtx, cfg, dir, sipSrv, envs, log)
	if err != nil {
		return err
	}
	defer tasks.Close()
	httpL, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http %s: %w", cfg.HTTP.Addr, err)
	}
	for _, tr := range []string{"udp", "tcp", "tls"} {
		if a, ok := sipSrv.Addrs()[tr]; ok {
			log.Info("listening", "service", "sip", "transport", tr, "addr", a)
		}
	}
	log.Info("listening", "service", "http", "addr", httpL.Addr().String(), "token", filepath.Join(cfg.Data, "admin.token"))
	if len(dir.Domains()) == 0 {
		log.Warn("no domain is provisioned yet: add one with `ringo apply -f FILE.yaml` or `ringo domain add NAME`")
	}

	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	locDone := make(chan struct{})
	go func() { loc.Run(runCtx); close(locDone) }()
	journalDone := make(chan struct{})
	go func() { journal.Run(runCtx); close(journalDone) }()
	sipErr := make(chan error, 1)
	go func() { sipErr <- sipSrv.Serve(runCtx) }()
	httpSrv := &http.Server{
		Handler:           api.New(token, dir, loc, sipSrv, log, reg).WithRecords(records).WithEnvironments(envs).WithTasks(tasks).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(httpL) }()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var runErr error
	select {
	case sig := <-sigs:
		log.Info("draining", "signal", sig.String(), "activeCalls", sipSrv.ActiveCalls(), "deadline", cfg.Calls.DrainTimeout.String())
		dctx, cancel := context.WithTimeout(context.Background(), cfg.Calls.DrainTimeout)
		sipSrv.Drain(dctx)
		cancel()
	case <-ctx.Done():
	case err := <-sipErr:
		runErr = err
	case err := <-httpErr:
		runErr = fmt.Errorf("http: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	httpSrv.Shutdown(sctx)
	cancel()
	stop()
	<-locDone
	sipSrv.FlushRecords()
	<-journalDone
	log.Info("stopped")
	return runErr
}

// mediaEngine opens the RTP port range on the SIP listener's address (all
// addresses when that is 0.0.0.0). The address it advertises is only the
// default: the SIP server picks, per call, the one each phone reaches.
func mediaEngine(ctx context.Context, cfg config.Config) (*media.Engine, error) {
	lo, hi, err := config.PortRange(cfg.RTP.Ports)
	if err != nil {
		return nil, fmt.Errorf("rtp.ports: %w", err)
	}
	ec := media.EngineConfig{PortMin: lo, PortMax: hi}
	if host, _, err := net.SplitHostPort(cfg.SIP.Addr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
			ec.BindAddr = ip.Unmap()
		}
	}
	for _, a := range []string{cfg.RTP.Advertise, cfg.SIP.Advertise} {
		if ip, err := netip.ParseAddr(a); err == nil && !ip.IsUnspecified() {
			ec.Advertise = ip.Unmap()
			break
		}
	}
	if !ec.Advertise.IsValid() && !ec.BindAddr.IsValid() {
		ec.Advertise = firstAddress()
	}
	eng, err := media.NewEngine(ctx, ec)
	if err != nil {
		return nil, fmt.Errorf("media engine: %w", err)
	}
	return eng, nil
}

// firstAddress is the first non-loopback IPv4 address, else loopback.
func firstAddress() netip.Addr {
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok {
					return ip
				}
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

// adminToken reads DATA/admin.token, creating it on first start.
func adminToken(dir string) (string, error) {
	path := filepath.Join(dir, "admin.token")
	b, err := os.ReadFile(path)
	if err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("admin token: %w", err)
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	t := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return t, nil
}
