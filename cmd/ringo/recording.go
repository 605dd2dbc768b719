package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func cdrRecordingCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "recording ID [N]",
		Short: "Download recording N (default 1) of a call record as a WAV file",
		Long: `Download a call's recording: N counts the record's recordings from 1. The file is
written to ID-N.wav, or to the -o file ("-" for standard output); a file appears only
once the download is complete.`,
		Example: `  ringo cdr recording mwto1z1a1-NuDB -o call.wav`,
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, n := args[0], 1
			if len(args) == 2 {
				v, err := strconv.Atoi(args[1])
				if err != nil || v < 1 {
					return fmt.Errorf("recording number %q: want 1 or more", args[1])
				}
				n = v
			}
			c, err := newClient()
			if err != nil {
				return err
			}
			path := fmt.Sprintf("/api/v1/cdr/%s/recordings/%d", esc(id), n)
			switch out {
			case "-":
				return c.stream(cmd.Context(), path, cmd.OutOrStdout())
			case "":
				// The id names the file here, so it may not name a path.
				out = fmt.Sprintf("%s-%d.wav", strings.NewReplacer("/", "_", `\`, "_").Replace(id), n)
			}
			if err := writeFileAtomic(out, func(w io.Writer) error { return c.stream(cmd.Context(), path, w) }); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "wrote", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", `write to this file ("-": standard output) instead of ID-N.wav`)
	return cmd
}
