package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

// queryFlags are the filters search and export take besides the query.
type queryFlags struct {
	from, to, outcome, direction string
}

func (q *queryFlags) register(f *pflag.FlagSet) {
	f.StringVar(&q.from, "from", "", "earliest end time (2026-11-01 or RFC 3339)")
	f.StringVar(&q.to, "to", "", "latest end time (a date includes the whole day)")
	f.StringVar(&q.outcome, "outcome", "", "outcomes, comma-separated: answered, busy, noanswer, cancelled, failed, voicemail, diverted, interrupted, missed")
	f.StringVar(&q.direction, "direction", "", "directions, comma-separated: inbound, outbound, internal")
}

// query is the compact query of the arguments and the flags, ANDed.
func (q *queryFlags) query(args []string) string {
	var terms []string
	for _, kv := range [][2]string{{"from", q.from}, {"to", q.to}, {"outcome", q.outcome}, {"direction", q.direction}} {
		if kv[1] != "" {
			terms = append(terms, kv[0]+":"+kv[1])
		}
	}
	user := ""
	if len(args) == 1 {
		user = strings.TrimSpace(args[0])
	}
	switch {
	case user == "":
		return strings.Join(terms, " ")
	case len(terms) == 0:
		return user
	}
	// Parenthesised, so that an OR in the query does not swallow the flags'
	// terms (AND binds tighter).
	return "(" + user + ") " + strings.Join(terms, " ")
}

func cdrCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cdr", Short: "Call records"}
	var qf queryFlags
	var cursor string
	var limit int
	var facets bool
	search := &cobra.Command{
		Use:   "search [QUERY]",
		Short: `Search call records: words and number fragments, with filters such as outcome:noanswer direction:inbound dur>30 var:crm=42`,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := url.Values{}
			v.Set("q", qf.query(args))
			if limit > 0 {
				v.Set("limit", strconv.Itoa(limit))
			}
			if cursor != "" {
				v.Set("cursor", cursor)
			}
			if facets {
				v.Set("facets", "1")
			}
			c, err := newClient()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do("GET", "/api/v1/cdr/search?"+v.Encode(), nil, &raw); err != nil {
				return err
			}
			if jsonOut {
				printJSON(cmd, raw)
				return nil
			}
			var res struct {
				Records []cdr.Record `json:"records"`
				Next    string       `json:"next"`
				Facets  *cdr.Facets  `json:"facets"`
			}
			if err := json.Unmarshal(raw, &res); err != nil {
				return err
			}
			tw := table(cmd)
			fmt.Fprintln(tw, "ENDED\tFROM\tTO\tDIALLED\tOUTCOME\tDURATION\tID")
			for _, r := range res.Records {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Ended.Local().Format(time.DateTime), party(r.Caller), party(r.Callee),
					r.Dialled, r.Outcome, r.Durations.Total.Round(time.Second), r.ID)
			}
			tw.Flush()
			if res.Facets != nil {
				b, _ := json.Marshal(res.Facets)
				fmt.Fprintf(cmd.OutOrStdout(), "facets: %s\n", b)
			}
			if res.Next != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "more: --cursor %s\n", res.Next)
			}
			return nil
		},
	}
	f := search.Flags()
	qf.register(f)
	f.IntVar(&limit, "limit", 0, "records per page (default 50)")
	f.StringVar(&cursor, "cursor", "", "continue after a previous page")
	f.BoolVar(&facets, "facets", false, "also count the matches by outcome and direction")
	cmd.AddCommand(search, cdrExportCmd(), cdrRecordingCmd())
	return cmd
}

func cdrExportCmd() *cobra.Command {
	var qf queryFlags
	var format, out string
	cmd := &cobra.Command{
		Use:   "export [QUERY]",
		Short: "Export every call record a query matches, newest first, as CSV or JSON lines",
		Long: `Export every call record a query matches (the query and the filters are those of
"ringo cdr search"), newest first, as CSV with a header row or as JSON lines (one record per
line, as the API shows it; the CSV columns are listed in docs/api.md). The export is
written to standard output, or with -o to a file that appears only once the export is
complete.`,
		Example: `  ringo cdr export "outcome:missed" --from 2026-11-01 --to 2026-11-30 -o missed.csv
  ringo cdr export --format jsonl > all.jsonl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "csv" && format != "jsonl" {
				return fmt.Errorf("--format %q: want csv or jsonl", format)
			}
			v := url.Values{}
			if q := qf.query(args); q != "" {
				v.Set("q", q)
			}
			v.Set("format", format)
			c, err := newClient()
			if err != nil {
				return err
			}
			path := "/api/v1/cdr/export?" + v.Encode()
			if out == "" || out == "-" {
				return c.stream(cmd.Context(), path, cmd.OutOrStdout())
			}
			return writeFileAtomic(out, func(w io.Writer) error { return c.stream(cmd.Context(), path, w) })
		},
	}
	f := cmd.Flags()
	qf.register(f)
	f.StringVar(&format, "format", "csv", "csv or jsonl")
	f.StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

// writeFileAtomic writes name through a temporary file in the same
// directory, renamed into place only when write succeeds, so that a failed
// or interrupted export leaves no partial file behind.
func writeFileAtomic(name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func party(p cdr.Party) string {
	s := p.Account
	if s == "" {
		s = p.Number
	}
	if p.Name != "" {
		s += " (" + p.Name + ")"
	}
	return s
}
