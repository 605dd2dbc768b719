package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringo-pbx/ringo/cgpl"
	"github.com/ringo-pbx/ringo/internal/mail"
	"github.com/ringo-pbx/ringo/internal/pbx"
)

func cgplCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cgpl", Short: "Run and check CG/PL programs"}
	var entry, smtpAddr string
	run := &cobra.Command{
		Use:   "run FILE.sppr",
		Short: "Run a program as a task with no call attached; SysLog lines go to standard output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc := pbx.Services{HTTP: &http.Client{Timeout: time.Minute}}
			if smtpAddr != "" {
				s, err := mail.NewSender(mail.Config{Relay: smtpAddr})
				if err != nil {
					return err
				}
				svc.Mail = s
			}
			mod, err := compileFile(cmd.Context(), args[0], cmd.ErrOrStderr(), svc)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			task := mod.NewTask(cmd.Context(), cgpl.TaskOptions{
				SysLog: func(line string) { fmt.Fprintln(out, line) },
			})
			if err := task.Run(entry); err != nil {
				var re *cgpl.RuntimeError
				if errors.As(err, &re) {
					fmt.Fprintln(cmd.ErrOrStderr(), re.Error())
					return exitError{code: 1, err: errors.New("program exception")}
				}
				return exitError{code: 1, err: err}
			}
			return nil
		},
	}
	run.Flags().StringVar(&entry, "entry", "Main", "entry to start")
	run.Flags().StringVar(&smtpAddr, "smtp", "", "SMTP relay HOST:PORT for SendEMail and SubmitEMail")
	check := &cobra.Command{
		Use:   "check FILE.sppr...",
		Short: "Compile programs without running them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := false
			for _, f := range args {
				if _, err := compileFile(cmd.Context(), f, cmd.ErrOrStderr(), pbx.Services{}); err != nil {
					var ee exitError
					if !errors.As(err, &ee) || ee.code != 2 {
						return err
					}
					failed = true
				}
			}
			if failed {
				return exitError{code: 2, err: errors.New("compile errors")}
			}
			return nil
		},
	}
	cmd.AddCommand(run, check)
	return cmd
}

// compileFile compiles a program with the modules it calls, which are
// looked up (M.sppr for M::F) in the program's directory, the environment
// ReadEnvirFile reads too; compile errors are printed as
// FILE:LINE:COL: message lines and come back as exit status 2.
func compileFile(ctx context.Context, path string, stderr io.Writer, svc pbx.Services) (*cgpl.Module, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	reg := cgpl.NewRegistry()
	pbx.Declare(reg)
	pbx.RegisterServices(reg, svc)
	env := cgpl.NewEnvironment(cgpl.DirLoader{Dir: filepath.Dir(path)}, reg)
	mod, err := env.Compile(ctx, path, src)
	if err != nil {
		var el cgpl.ErrorList
		if errors.As(err, &el) {
			fmt.Fprintln(stderr, el.Error())
			return nil, exitError{code: 2, err: fmt.Errorf("%s: %d compile error(s)", path, len(el))}
		}
		return nil, exitError{code: 2, err: err}
	}
	return mod, nil
}
