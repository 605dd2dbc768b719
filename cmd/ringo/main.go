// Command ringo is the Ringo PBX: the server and its admin command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	_ "time/tzdata" // time zones work on hosts without tzdata
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// dataDir is the shared --data flag: where serve keeps its data and where
// client commands find the admin token.
var dataDir string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT)
	defer stop()
	root := rootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ringo:", err)
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "ringo",
		Short:         "Ringo, a programmable PBX",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&dataDir, "data", "./ringo-data", "data directory")
	root.AddCommand(serveCmd(), applyCmd(), domainCmd(), accountCmd(), aliasCmd(), forwarderCmd(),
		registrationsCmd(), callsCmd(), taskCmd(), simCmd(), envCmd(), cdrCmd(), cgplCmd(), versionCmd())
	addClientFlags(root)
	return root
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, args []string) { fmt.Fprintln(cmd.OutOrStdout(), "ringo", version) },
	}
}
