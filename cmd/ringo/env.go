package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringo-pbx/ringo/internal/pbx/envir"
)

func envCmd() *cobra.Command {
	var domain, lang string
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Manage the files of the application environments (programs, prompts)",
		Long: `Manage the files PBX programs see: the server's environment, or a domain's with
--domain. --lang names a language folder (russian); without it, names are in the root
(English), where "russian/Welcome.wav" also names a file of the russian folder.

A task of an account in domain D finds a file in D's environment (its language folder,
then the root), then in the server's, then in the stock one built into Ringo.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&domain, "domain", "", "a domain's environment instead of the server's")
	pf.StringVar(&lang, "lang", "", "the language folder (russian); the root (English) by default")

	put := &cobra.Command{
		Use:   "put FILE [NAME]",
		Short: "Store a file (a program NAME.sppr, a prompt NAME.wav…); a .tar archive is unpacked",
		Long: `Store FILE in the environment as NAME (FILE's base name by default), replacing the file
of that name. A program takes effect for the tasks started after it is stored.

A .tar archive (also .tar.gz, .tgz) is unpacked with its folders, as a whole environment
or a language pack; it is refused, and nothing is stored, if it holds links, names
leaving the environment, or files over the size limits.`,
		Example: `  ringo env put pbx.sppr
  ringo env put welcome-ru.wav Welcome.wav --lang russian --domain example.com
  ringo env put russian-prompts.tar --lang russian`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			base := envBase(domain)
			if isArchive(args[0]) {
				if len(args) == 2 {
					return errors.New("an archive is unpacked with its own names: give no NAME")
				}
				var res struct {
					Files []string `json:"files"`
				}
				if err := c.send("POST", base+"?"+envQuery(lang, "tar", "1"), "application/x-tar", f, &res); err != nil {
					return err
				}
				for _, n := range res.Files {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d files stored\n", len(res.Files))
				return nil
			}
			name := filepath.Base(args[0])
			if len(args) == 2 {
				name = args[1]
			}
			if err := envir.CheckName(name); err != nil {
				return err
			}
			var e envir.Entry
			if err := c.send("PUT", envPath(base, name)+"?"+envQuery(lang), "application/octet-stream", f, &e); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%d bytes)\n", e.Path, e.Size)
			return nil
		},
	}

	var out string
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Download a file of the environment",
		Long: `Download the file NAME of the environment (of the folder and layer the flags name; other
layers are not looked in). It is written to its base name in the current directory, or
to the -o file ("-" for standard output); a file appears only once the download is
complete.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			if err := envir.CheckName(args[0]); err != nil {
				return err
			}
			p := envPath(envBase(domain), args[0]) + "?" + envQuery(lang)
			switch out {
			case "-":
				return c.stream(cmd.Context(), p, cmd.OutOrStdout())
			case "":
				out = path.Base(args[0])
			}
			if err := writeFileAtomic(out, func(w io.Writer) error { return c.stream(cmd.Context(), p, w) }); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "wrote", out)
			return nil
		},
	}
	get.Flags().StringVarP(&out, "output", "o", "", `write to this file ("-": standard output)`)

	rm := &cobra.Command{
		Use:   "rm NAME...",
		Short: "Remove files (or folders, with their files) from the environment",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			for _, n := range args {
				if err := envir.CheckName(n); err != nil {
					return err
				}
			}
			for _, n := range args {
				if err := c.do("DELETE", envPath(envBase(domain), n)+"?"+envQuery(lang), nil, nil); err != nil {
					return err
				}
			}
			return nil
		},
	}

	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the files of the environment (with --lang, of one language folder)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do("GET", envBase(domain)+"?"+envQuery(lang), nil, &raw); err != nil {
				return err
			}
			if jsonOut {
				printJSON(cmd, raw)
				return nil
			}
			var es []envir.Entry
			if err := json.Unmarshal(raw, &es); err != nil {
				return fmt.Errorf("reading the file list: %w", err)
			}
			tw := table(cmd)
			fmt.Fprintln(tw, "FILE\tSIZE\tMODIFIED")
			for _, e := range es {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", e.Path, e.Size, e.Modified.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(put, get, rm, ls)
	return cmd
}

// envBase is the API path of the files of domain's environment ("" for
// the server's).
func envBase(domain string) string {
	if domain == "" {
		return "/api/v1/environments/server/files"
	}
	return "/api/v1/domains/" + esc(domain) + "/environment/files"
}

// envPath is the API path of file name, each folder escaped on its own.
func envPath(base, name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = esc(p)
	}
	return base + "/" + strings.Join(parts, "/")
}

// envQuery is the query string of lang and the other key-value pairs.
func envQuery(lang string, kv ...string) string {
	q := url.Values{}
	if lang != "" {
		q.Set("lang", lang)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q.Encode()
}

func isArchive(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".tar") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz")
}

// send sends body as is (a file, an archive) and decodes a JSON answer into
// out (if not nil). Uploads may be large, so only the wait for the answer's
// headers is bounded, not the transfer.
func (c *client) send(method, p, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequest(method, c.base+p, body)
	if err != nil {
		return err
	}
	c.authorize(req)
	req.Header.Set("Content-Type", contentType)
	if f, ok := body.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			req.ContentLength = st.Size()
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 5 * time.Minute
	hc := &http.Client{Transport: tr}
	defer hc.CloseIdleConnections()
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is `ringo serve` running?)", method, p, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return answerError(method, p, res, data)
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}
