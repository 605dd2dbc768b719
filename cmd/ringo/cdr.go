package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringo-pbx/ringo/internal/cdr"
)

func cdrCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cdr", Short: "Call records"}
	var from, to, cursor string
	var limit int
	var facets bool
	search := &cobra.Command{
		Use:   "search [QUERY]",
		Short: `Search call records: words and number fragments, with filters such as outcome:noanswer direction:inbound dur>30 var:crm=42`,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var parts []string
			if len(args) == 1 {
				parts = append(parts, args[0])
			}
			if from != "" {
				parts = append(parts, "from:"+from)
			}
			if to != "" {
				parts = append(parts, "to:"+to)
			}
			v := url.Values{}
			v.Set("q", strings.Join(parts, " "))
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
	f.StringVar(&from, "from", "", "earliest end time (2026-11-01 or RFC 3339)")
	f.StringVar(&to, "to", "", "latest end time (a date includes the whole day)")
	f.IntVar(&limit, "limit", 0, "records per page (default 50)")
	f.StringVar(&cursor, "cursor", "", "continue after a previous page")
	f.BoolVar(&facets, "facets", false, "also count the matches by outcome and direction")
	cmd.AddCommand(search)
	return cmd
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
