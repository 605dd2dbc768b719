package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/sip"
)

var (
	serverURL string
	tokenFlag string
	userFlag  string
	jsonOut   bool
)

func addClientFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&serverURL, "server", "", "API URL (default $RINGO_SERVER or http://127.0.0.1:8080)")
	pf.StringVar(&tokenFlag, "token", "", "admin token (default $RINGO_TOKEN or the one in DATA/admin.token)")
	pf.StringVar(&userFlag, "user", "", "act as the domain administrator NAME@DOMAIN instead of with the token; the password is read from $RINGO_PASSWORD")
	pf.BoolVar(&jsonOut, "json", false, "print JSON")
}

// client talks to a running server's admin API.
type client struct {
	base string
	// Either token (the server administrator) or user and password (a
	// domain administrator, sent as HTTP Basic).
	token          string
	user, password string
	http           *http.Client
}

func newClient() (*client, error) {
	base := serverURL
	if base == "" {
		base = os.Getenv("RINGO_SERVER")
	}
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	base = strings.TrimRight(base, "/")
	if userFlag != "" {
		if tokenFlag != "" {
			return nil, errors.New("give --token or --user, not both")
		}
		if _, _, err := splitAddr(userFlag); err != nil {
			return nil, fmt.Errorf("--user: %w", err)
		}
		// The password comes from the environment only: a flag would show
		// in the process list and the shell history, and there is no prompt
		// so that scripts never hang.
		pw := os.Getenv("RINGO_PASSWORD")
		if pw == "" {
			return nil, fmt.Errorf("--user %s: set the password in RINGO_PASSWORD", userFlag)
		}
		return &client{base: base, user: userFlag, password: pw, http: &http.Client{Timeout: 30 * time.Second}}, nil
	}
	tok := tokenFlag
	if tok == "" {
		tok = os.Getenv("RINGO_TOKEN")
	}
	if tok == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
		if err != nil {
			return nil, fmt.Errorf("no admin token: set RINGO_TOKEN, pass --token, or --data pointing at the server's data directory (%w)", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	return &client{base: base, token: tok, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// authorize adds the client's credentials to req.
func (c *client) authorize(req *http.Request) {
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
		return
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
}

// answerError turns an error answer into an error naming the request.
func answerError(method, path string, res *http.Response, data []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return fmt.Errorf("%s %s: %s: %s", method, path, res.Status, e.Error)
	}
	return fmt.Errorf("%s %s: %s", method, path, res.Status)
}

// stream sends a GET and copies a successful answer's body to w as it
// arrives, however long that takes: only the wait for the answer's headers
// is bounded, not the transfer.
func (c *client) stream(ctx context.Context, path string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return err
	}
	c.authorize(req)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 30 * time.Second
	hc := &http.Client{Transport: tr}
	defer hc.CloseIdleConnections()
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w (is `ringo serve` running?)", path, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return answerError("GET", path, res, data)
	}
	if _, err := io.Copy(w, res.Body); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *client) do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	c.authorize(req)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is `ringo serve` running?)", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return answerError(method, path, res, data)
	}
	if out != nil && len(data) > 0 {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = data
			return nil
		}
		return json.Unmarshal(data, out)
	}
	return nil
}

func printJSON(cmd *cobra.Command, raw json.RawMessage) {
	cmd.OutOrStdout().Write(raw)
}

func table(cmd *cobra.Command) *tabwriter.Writer {
	return tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
}

// splitAddr splits name@domain.
func splitAddr(s string) (name, domain string, err error) {
	name, domain, ok := strings.Cut(s, "@")
	if !ok || name == "" || domain == "" {
		return "", "", fmt.Errorf("%q: want NAME@DOMAIN", s)
	}
	return name, domain, nil
}

func esc(s string) string { return url.PathEscape(s) }

func applyCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE.yaml",
		Short: "Create or update domains, accounts, aliases, forwarders and environment files from a file (idempotent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.New("apply needs -f FILE.yaml")
			}
			doc, err := readDoc(file)
			if err != nil {
				return err
			}
			c, err := newClient()
			if err != nil {
				return err
			}
			var rep directory.Report
			if err := c.do("POST", "/api/v1/apply", doc, &rep); err != nil {
				return err
			}
			if jsonOut {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			for _, it := range rep.Items {
				if it.Changed {
					fmt.Fprintf(cmd.OutOrStdout(), "%s %s: changed\n", it.Kind, it.Name)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d changed, %d unchanged\n", rep.Changed, rep.Unchanged)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "provisioning file (YAML)")
	return cmd
}

// readDoc reads and checks a provisioning file, reporting every problem with the file name.
func readDoc(file string) (directory.Doc, error) {
	var doc directory.Doc
	f, err := os.Open(file)
	if err != nil {
		return doc, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return doc, fmt.Errorf("%s: %w", file, err)
	}
	if err := readEnvFiles(file, &doc); err != nil {
		return doc, err
	}
	if err := doc.Check(); err != nil {
		return doc, fmt.Errorf("%s: %w", file, err)
	}
	return doc, nil
}

// readEnvFiles reads the environment files a provisioning file names,
// relative to it, into the document: the server stores what it is sent.
func readEnvFiles(file string, doc *directory.Doc) error {
	read := func(files []directory.EnvFile) error {
		for i := range files {
			f := &files[i]
			if f.File == "" {
				continue // Check says what is missing
			}
			p := filepath.FromSlash(f.File)
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(file), p)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("%s: environment file: %w", file, err)
			}
			f.Data = data
		}
		return nil
	}
	if doc.Server != nil {
		if err := read(doc.Server.Environment); err != nil {
			return err
		}
	}
	for _, dd := range doc.Domains {
		if err := read(dd.Environment); err != nil {
			return err
		}
	}
	return nil
}

func domainCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "domain", Short: "List, add and remove domains"}
	var main, direct bool
	add := &cobra.Command{
		Use: "add NAME", Short: "Add (or update) a domain", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			spec := directory.DomainSpec{Name: args[0], Main: main}
			if cmd.Flags().Changed("direct-media") {
				spec.DirectMedia = &direct // left out, the domain keeps its setting
			}
			return c.do("PUT", "/api/v1/domains/"+esc(args[0]), spec, nil)
		},
	}
	add.Flags().BoolVar(&main, "main", false, "requests to the server's IP address belong to this domain")
	add.Flags().BoolVar(&direct, "direct-media", false, "calls between accounts of domains that allow it keep their media between the phones (--direct-media=false withdraws it)")
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List domains", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do("GET", "/api/v1/domains", nil, &raw); err != nil {
				return err
			}
			if jsonOut {
				printJSON(cmd, raw)
				return nil
			}
			var ds []struct {
				Name  string `json:"name"`
				Main  bool   `json:"main"`
				Prefs struct {
					DirectMedia bool `json:"directMedia"`
				} `json:"prefs"`
			}
			json.Unmarshal(raw, &ds)
			tw := table(cmd)
			fmt.Fprintln(tw, "DOMAIN\tMAIN\tDIRECT MEDIA")
			for _, d := range ds {
				fmt.Fprintf(tw, "%s\t%v\t%v\n", d.Name, d.Main, d.Prefs.DirectMedia)
			}
			return tw.Flush()
		},
	}, add, &cobra.Command{
		Use: "rm NAME", Short: "Remove a domain with all its accounts", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			return c.do("DELETE", "/api/v1/domains/"+esc(args[0]), nil, nil)
		},
	})
	return cmd
}

func accountCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "List, add, change and remove accounts"}
	var password, realName, language, timezone string
	var aliases []string
	upsert := func(create bool) func(cmd *cobra.Command, args []string) error {
		return func(cmd *cobra.Command, args []string) error {
			name, dom, err := splitAddr(args[0])
			if err != nil {
				return err
			}
			spec := directory.AccountSpec{Name: name, Password: password}
			f := cmd.Flags()
			if f.Changed("real-name") {
				spec.RealName = &realName
			}
			if f.Changed("alias") {
				spec.Aliases = &aliases
			}
			if f.Changed("language") {
				spec.Language = &language
			}
			if f.Changed("timezone") {
				spec.Timezone = &timezone
			}
			c, err := newClient()
			if err != nil {
				return err
			}
			if !create {
				if err := c.do("GET", "/api/v1/domains/"+esc(dom)+"/accounts/"+esc(name), nil, nil); err != nil {
					return err
				}
			}
			return c.do("PUT", "/api/v1/domains/"+esc(dom)+"/accounts/"+esc(name), spec, nil)
		}
	}
	mk := func(use, short string, create bool) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: upsert(create)}
		f := c.Flags()
		f.StringVar(&password, "password", "", "password (stored only as digest hashes)")
		f.StringVar(&realName, "real-name", "", "real name")
		f.StringSliceVar(&aliases, "alias", nil, "aliases (extension numbers), replacing the current ones")
		f.StringVar(&language, "language", "", "language folder for prompts, such as russian")
		f.StringVar(&timezone, "timezone", "", "time zone, such as Europe/Moscow")
		return c
	}
	cmd.AddCommand(mk("add NAME@DOMAIN", "Add (or update) an account", true),
		mk("set NAME@DOMAIN", "Change an existing account", false),
		&cobra.Command{
			Use: "list DOMAIN", Short: "List a domain's accounts", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := newClient()
				if err != nil {
					return err
				}
				var raw json.RawMessage
				if err := c.do("GET", "/api/v1/domains/"+esc(args[0])+"/accounts", nil, &raw); err != nil {
					return err
				}
				if jsonOut {
					printJSON(cmd, raw)
					return nil
				}
				var as []struct {
					Name     string   `json:"name"`
					RealName string   `json:"realName"`
					Aliases  []string `json:"aliases"`
					HasPw    bool     `json:"hasPassword"`
				}
				json.Unmarshal(raw, &as)
				tw := table(cmd)
				fmt.Fprintln(tw, "ACCOUNT\tREAL NAME\tALIASES\tPASSWORD")
				for _, a := range as {
					fmt.Fprintf(tw, "%s@%s\t%s\t%s\t%v\n", a.Name, args[0], a.RealName, strings.Join(a.Aliases, ","), a.HasPw)
				}
				return tw.Flush()
			},
		},
		&cobra.Command{
			Use: "show NAME@DOMAIN", Short: "Show an account", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				name, dom, err := splitAddr(args[0])
				if err != nil {
					return err
				}
				c, err := newClient()
				if err != nil {
					return err
				}
				var raw json.RawMessage
				if err := c.do("GET", "/api/v1/domains/"+esc(dom)+"/accounts/"+esc(name), nil, &raw); err != nil {
					return err
				}
				printJSON(cmd, raw)
				return nil
			},
		},
		&cobra.Command{
			Use: "rm NAME@DOMAIN", Short: "Remove an account", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				name, dom, err := splitAddr(args[0])
				if err != nil {
					return err
				}
				c, err := newClient()
				if err != nil {
					return err
				}
				return c.do("DELETE", "/api/v1/domains/"+esc(dom)+"/accounts/"+esc(name), nil, nil)
			},
		})
	return cmd
}

func aliasCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "alias", Short: "List, add and remove aliases (extension numbers)"}
	cmd.AddCommand(&cobra.Command{
		Use: "list DOMAIN", Short: "List a domain's aliases", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do("GET", "/api/v1/domains/"+esc(args[0])+"/aliases", nil, &raw); err != nil {
				return err
			}
			if jsonOut {
				printJSON(cmd, raw)
				return nil
			}
			var as []struct{ Alias, Account string }
			json.Unmarshal(raw, &as)
			tw := table(cmd)
			fmt.Fprintln(tw, "ALIAS\tACCOUNT")
			for _, a := range as {
				fmt.Fprintf(tw, "%s@%s\t%s@%s\n", a.Alias, args[0], a.Account, args[0])
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use: "add ALIAS NAME@DOMAIN", Short: "Make ALIAS@DOMAIN reach NAME@DOMAIN", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, dom, err := splitAddr(args[1])
			if err != nil {
				return err
			}
			c, err := newClient()
			if err != nil {
				return err
			}
			return c.do("POST", "/api/v1/domains/"+esc(dom)+"/aliases", map[string]string{"alias": args[0], "account": name}, nil)
		},
	}, &cobra.Command{
		Use: "rm ALIAS@DOMAIN", Short: "Remove an alias", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			al, dom, err := splitAddr(args[0])
			if err != nil {
				return err
			}
			c, err := newClient()
			if err != nil {
				return err
			}
			return c.do("DELETE", "/api/v1/domains/"+esc(dom)+"/aliases/"+esc(al), nil, nil)
		},
	})
	return cmd
}

func forwarderCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "forwarder", Short: "List, set and remove forwarders"}
	cmd.AddCommand(&cobra.Command{
		Use: "set NAME@DOMAIN TARGET", Short: "Forward NAME@DOMAIN to TARGET (name or name@domain)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, dom, err := splitAddr(args[0])
			if err != nil {
				return err
			}
			c, err := newClient()
			if err != nil {
				return err
			}
			return c.do("PUT", "/api/v1/domains/"+esc(dom)+"/forwarders/"+esc(name), map[string]string{"to": args[1]}, nil)
		},
	}, &cobra.Command{
		Use: "rm NAME@DOMAIN", Short: "Remove a forwarder", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, dom, err := splitAddr(args[0])
			if err != nil {
				return err
			}
			c, err := newClient()
			if err != nil {
				return err
			}
			return c.do("DELETE", "/api/v1/domains/"+esc(dom)+"/forwarders/"+esc(name), nil, nil)
		},
	})
	return cmd
}

func registrationsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "registrations", Short: "List registered contacts", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do("GET", "/api/v1/registrations", nil, &raw); err != nil {
				return err
			}
			if jsonOut {
				printJSON(cmd, raw)
				return nil
			}
			var bs []struct {
				AOR, Contact, Source, Transport, UserAgent string
				Expires                                    int
			}
			json.Unmarshal(raw, &bs)
			tw := table(cmd)
			fmt.Fprintln(tw, "AOR\tCONTACT\tSOURCE\tTRANSPORT\tEXPIRES\tUSER AGENT")
			for _, b := range bs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%ds\t%s\n", b.AOR, b.Contact, b.Source, b.Transport, b.Expires, b.UserAgent)
			}
			return tw.Flush()
		},
	}
}

func callsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "call", Short: "Live calls"}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List live calls with their media", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do("GET", "/api/v1/calls", nil, &raw); err != nil {
				return err
			}
			if jsonOut {
				printJSON(cmd, raw)
				return nil
			}
			var cs []sip.CallInfo
			if err := json.Unmarshal(raw, &cs); err != nil {
				return fmt.Errorf("reading the call list: %w", err)
			}
			tw := table(cmd)
			fmt.Fprintln(tw, "ID\tFROM\tTO\tSTATE\tSINCE\tMEDIA")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.From, c.To, c.State, time.Since(c.Started).Round(time.Second), mediaBrief(c))
			}
			return tw.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "show ID", Short: "Show a live call's media chain and counters per leg", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do("GET", "/api/v1/calls/"+esc(args[0]), nil, &raw); err != nil {
				return err
			}
			if jsonOut {
				printJSON(cmd, raw)
				return nil
			}
			var d sip.CallDetail
			if err := json.Unmarshal(raw, &d); err != nil {
				return fmt.Errorf("reading the call: %w", err)
			}
			printCall(cmd.OutOrStdout(), d)
			return nil
		},
	})
	return cmd
}

// mediaBrief is a call's media in a few words: its mode and, per leg,
// the packets received and sent.
func mediaBrief(c sip.CallInfo) string {
	parts := []string{c.Media}
	for _, l := range c.Legs {
		parts = append(parts, fmt.Sprintf("%s %d/%d", l.Leg, l.PacketsIn, l.PacketsOut))
	}
	return strings.Join(parts, " ")
}

func printCall(w io.Writer, d sip.CallDetail) {
	fmt.Fprintf(w, "call     %s\nfrom     %s\nto       %s\nstate    %s\nstarted  %s\n", d.ID, d.From, d.To, d.State, d.Started.Format(time.RFC3339))
	if !d.Answered.IsZero() {
		fmt.Fprintf(w, "answered %s\n", d.Answered.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "media    %s\n", d.Media)
	for _, s := range d.Sessions {
		c := s.Counters
		fmt.Fprintf(w, "\nleg %s (session %d)\n", s.Name, s.ID)
		fmt.Fprintf(w, "  local    %s\n", s.Local)
		if s.Remote != "" {
			fmt.Fprintf(w, "  remote   %s (SDP)\n", s.Remote)
		}
		if s.Latched != "" {
			fmt.Fprintf(w, "  latched  %s\n", s.Latched)
		}
		if len(s.Codecs) > 0 {
			fmt.Fprintf(w, "  codecs   %s\n", strings.Join(s.Codecs, ", "))
		}
		if s.Direction != "" {
			fmt.Fprintf(w, "  direction %s\n", s.Direction)
		}
		fmt.Fprintf(w, "  packets  in %d, out %d, lost %d, late %d, dropped %d\n", c.PacketsIn, c.PacketsOut, c.Lost, c.Late, c.Dropped)
		fmt.Fprintf(w, "  jitter   %.1f ms\n", c.JitterMS)
		fmt.Fprintf(w, "  chain    %s\n", strings.Join(s.Chain, " → "))
	}
}
