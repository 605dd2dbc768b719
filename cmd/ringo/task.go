package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringo-pbx/ringo/internal/pbx"
)

// taskCmd lists and kills running PBX programs.
func taskCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "task", Short: "Running PBX programs (tasks)"}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List running tasks", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do("GET", "/api/v1/tasks", nil, &raw); err != nil {
				return err
			}
			if jsonOut {
				printJSON(cmd, raw)
				return nil
			}
			var ts []pbx.TaskInfo
			if err := json.Unmarshal(raw, &ts); err != nil {
				return fmt.Errorf("reading the task list: %w", err)
			}
			tw := table(cmd)
			fmt.Fprintln(tw, "ID\tPROGRAM\tOWNER\tCALL\tMODE\tSINCE\tVIA")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.App, t.Owner, t.Call, t.Mode,
					time.Since(t.Started).Round(time.Second), t.Via)
			}
			return tw.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "kill ID", Short: "End a task; its call, if it holds one, is released", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			if err := c.do("DELETE", "/api/v1/tasks/"+esc(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %s killed\n", args[0])
			return nil
		},
	})
	return cmd
}
