package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/pbx"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
	"github.com/ringo-pbx/ringo/internal/pbx/stock"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

// simCmd plays a simulated call through the directory, rules and
// programs of the data directory, and prints what happened.
func simCmd() *cobra.Command {
	var from, to, dtmf, at string
	var unregistered []string
	var mailFails bool
	cmd := &cobra.Command{
		Use:   "sim --from CALLER --to ADDRESS [--dtmf KEYS] [--at TIME]",
		Short: "Simulate a call: the rules it meets, the programs it runs, the prompts they play, the keys read, the mail sent",
		Long: `sim plays a call into an address through the same directory, real-time rules and programs
a real call meets, with a simulated caller: it presses the --dtmf keys one by one, each when a
program waits for input, and hangs up when it has none left. Prompts are resolved in the
environments and timed, not played; e-mail is noted, not sent. It reads the data directory
(--data) and needs no running server.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			when := time.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return fmt.Errorf("--at %q: want a time such as 2026-11-23T20:00:00+03:00: %w", at, err)
				}
				when = t
			}
			if !strings.Contains(from, "@") {
				return fmt.Errorf("--from %q: want name@domain", from)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			st, err := sqlite.Open(ctx, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			dir, err := directory.Open(ctx, st)
			if err != nil {
				return err
			}
			envs, err := envir.Open(filepath.Join(dataDir, "environments"), stock.FS())
			if err != nil {
				return err
			}
			off := map[string]bool{}
			for _, u := range unregistered {
				off[u] = true
			}
			tr, err := pbx.Simulate(ctx, pbx.SimConfig{Dir: dir, Env: pbx.Stored(envs), From: from, To: to, At: when,
				DTMF: dtmf, Unregistered: off, MailFails: mailFails})
			if err != nil {
				return err
			}
			if jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(tr.Lines)
			}
			return tr.Write(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the caller, name@domain")
	f.StringVar(&to, "to", "", "the address dialled: name@domain, an alias, or app#account@domain")
	f.StringVar(&dtmf, "dtmf", "", "keys the caller presses, in order")
	f.StringVar(&at, "at", "", "when the call happens (RFC 3339; default now)")
	f.StringSliceVar(&unregistered, "unregistered", nil, "accounts (name@domain) whose phones are off")
	f.BoolVar(&mailFails, "mail-fails", false, "simulate a mail relay that is down")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("to")
	return cmd
}
