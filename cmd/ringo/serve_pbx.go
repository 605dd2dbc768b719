package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/mail"
	"github.com/ringo-pbx/ringo/internal/pbx"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
	"github.com/ringo-pbx/ringo/internal/sip"
)

// startPBX runs the PBX programs of the SIP server's calls: signals to
// app#account and rule targets #app start tasks on it.
func startPBX(ctx context.Context, cfg config.Config, dir *directory.Directory, srv *sip.Server, envs *envir.Store, log *slog.Logger) (*pbx.Manager, error) {
	var mailer pbx.Mailer
	if cfg.SMTP.Relay != "" {
		s, err := mail.NewSender(mail.ConfigOf(cfg.SMTP))
		if err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
		mailer = s
	}
	m := pbx.NewManager(ctx, pbx.Config{
		Env:       pbx.Stored(envs),
		Directory: pbx.DirectoryRouter(dir),
		Services:  pbx.Services{Mail: mailer, HTTP: &http.Client{Timeout: 30 * time.Second}},
		Log:       log.With("service", "pbx"),
	})
	srv.SetApps(m)
	log.Info("pbx", "environments", envs.Dir(), "mail", cfg.SMTP.Relay != "")
	return m, nil
}
