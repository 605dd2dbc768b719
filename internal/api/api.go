// Package api is Ringo's HTTP admin API (/api/v1), health check and
// Prometheus metrics. The server administrator authenticates with the bearer
// token; a domain administrator (an account with the domainAdmin right) with
// HTTP Basic name@domain:password, and sees and changes only that domain.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ringo-pbx/ringo/internal/cdr"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
	"github.com/ringo-pbx/ringo/internal/sip"
	"github.com/ringo-pbx/ringo/internal/store"
)

// maxBody bounds a request body; a provisioning document is far smaller.
const maxBody = 4 << 20

// Server serves the admin API.
type Server struct {
	token  string
	dir    *directory.Directory
	loc    *sip.Location
	sip    *sip.Server
	log    *slog.Logger
	gather prometheus.Gatherer
	cdr    cdr.Store
	// recordings is the directory call records name recordings in; ""
	// means the SIP server's.
	recordings string
	// env holds the application environments; nil: none are kept.
	env *envir.Store
	// tasks are the running PBX programs; nil when none run here.
	tasks Tasks
	// exportPage is the number of records an export reads from the store at
	// a time: it bounds the memory an export holds.
	exportPage int
}

// WithRecords serves call-record search from st.
func (s *Server) WithRecords(st cdr.Store) *Server {
	s.cdr = st
	return s
}

// New builds the API handler.
func New(token string, dir *directory.Directory, loc *sip.Location, sipSrv *sip.Server, log *slog.Logger, g prometheus.Gatherer) *Server {
	return &Server{token: token, dir: dir, loc: loc, sip: sipSrv, log: log, gather: g, exportPage: cdr.MaxLimit}
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	api := http.NewServeMux()
	// Every route says what a domain administrator may do with it, so that
	// a new endpoint cannot be opened to them by omission.
	route := func(pattern string, sc scope, h http.HandlerFunc) { api.Handle(pattern, allow(sc, h)) }
	route("GET /api/v1/domains", confined, s.listDomains)
	route("POST /api/v1/domains", serverOnly, s.postDomain)
	route("GET /api/v1/domains/{domain}", ownDomain, s.getDomain)
	route("PUT /api/v1/domains/{domain}", serverOnly, s.putDomain)
	route("DELETE /api/v1/domains/{domain}", serverOnly, s.deleteDomain)
	route("GET /api/v1/domains/{domain}/accounts", ownDomain, s.listAccounts)
	route("POST /api/v1/domains/{domain}/accounts", ownDomain, s.putAccount)
	route("GET /api/v1/domains/{domain}/accounts/{name}", ownDomain, s.getAccount)
	route("PUT /api/v1/domains/{domain}/accounts/{name}", ownDomain, s.putAccount)
	route("DELETE /api/v1/domains/{domain}/accounts/{name}", ownDomain, s.deleteAccount)
	route("GET /api/v1/domains/{domain}/aliases", ownDomain, s.listAliases)
	route("POST /api/v1/domains/{domain}/aliases", ownDomain, s.postAlias)
	route("DELETE /api/v1/domains/{domain}/aliases/{alias}", ownDomain, s.deleteAlias)
	route("GET /api/v1/domains/{domain}/forwarders", ownDomain, s.listForwarders)
	route("PUT /api/v1/domains/{domain}/forwarders/{name}", ownDomain, s.putForwarder)
	route("DELETE /api/v1/domains/{domain}/forwarders/{name}", ownDomain, s.deleteForwarder)
	s.environmentRoutes(route)
	route("POST /api/v1/apply", serverOnly, s.apply)
	route("GET /api/v1/registrations", confined, s.registrations)
	route("GET /api/v1/calls", serverOnly, s.calls)
	route("GET /api/v1/calls/{id}", serverOnly, s.call)
	route("GET /api/v1/conferences", serverOnly, s.conferences)
	route("GET /api/v1/tasks", serverOnly, s.listTasks)
	route("DELETE /api/v1/tasks/{id}", serverOnly, s.killTask)
	route("GET /api/v1/security/blocked", serverOnly, s.blocked)
	route("GET /api/v1/cdr/search", confined, s.cdrSearch)
	route("POST /api/v1/cdr/search", confined, s.cdrSearch)
	route("GET /api/v1/cdr/export", confined, s.cdrExport)
	route("POST /api/v1/cdr/export", confined, s.cdrExport)
	route("GET /api/v1/cdr/{id}", confined, s.cdrGet)
	route("GET /api/v1/cdr/{id}/recordings/{n}", confined, s.cdrRecording)
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})

	mux := http.NewServeMux()
	mux.Handle("/api/", s.auth(api))
	// Profiles, for performance work on a live server: for the server
	// administrator only, as they show the whole process.
	mux.Handle("/debug/pprof/", s.auth(allow(serverOnly, pprof.Index)))
	mux.Handle("/debug/pprof/profile", s.auth(allow(serverOnly, pprof.Profile)))
	mux.Handle("/debug/pprof/trace", s.auth(allow(serverOnly, pprof.Trace)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "activeCalls": s.sip.ActiveCalls(), "registrations": s.loc.Count()})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{}))
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// fail maps an error to its HTTP status.
func fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, directory.ErrInvalid), errors.Is(err, errBadRequest), errors.Is(err, cdr.ErrQuery), errors.Is(err, envir.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, envir.ErrTooLarge), errors.As(err, new(*http.MaxBytesError)):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, store.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

var errBadRequest = errors.New("bad request")

// decode reads a JSON body strictly: unknown fields and trailing data are errors.
func decode(r *http.Request, v any) error { return decodeMax(r, v, maxBody) }

// decodeMax is decode for a body of up to max bytes; a larger one is an
// *http.MaxBytesError.
func decodeMax(r *http.Request, v any, max int64) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return fmt.Errorf("request body: %w", err)
		}
		return fmt.Errorf("%w: request body: %v", errBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: request body: trailing data", errBadRequest)
	}
	return nil
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request) {
	doms := s.dir.Domains()
	if p := who(r); !p.server {
		doms = slices.DeleteFunc(doms, func(d store.Domain) bool { return d.Name != p.domain })
	}
	writeJSON(w, http.StatusOK, doms)
}

func (s *Server) getDomain(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dir.Domain(r.PathValue("domain"))
	if !ok {
		fail(w, fmt.Errorf("domain %s: %w", r.PathValue("domain"), store.ErrNotFound))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) postDomain(w http.ResponseWriter, r *http.Request) {
	var spec directory.DomainSpec
	if err := decode(r, &spec); err != nil {
		fail(w, err)
		return
	}
	s.saveDomain(w, r.Context(), spec)
}

func (s *Server) putDomain(w http.ResponseWriter, r *http.Request) {
	var spec directory.DomainSpec
	if r.ContentLength != 0 {
		if err := decode(r, &spec); err != nil {
			fail(w, err)
			return
		}
	}
	spec.Name = r.PathValue("domain")
	s.saveDomain(w, r.Context(), spec)
}

func (s *Server) saveDomain(w http.ResponseWriter, ctx context.Context, spec directory.DomainSpec) {
	changed, err := s.dir.PutDomain(ctx, spec)
	if err != nil {
		fail(w, err)
		return
	}
	d, _ := s.dir.Domain(spec.Name)
	writeJSON(w, http.StatusOK, map[string]any{"domain": d, "changed": changed})
}

func (s *Server) deleteDomain(w http.ResponseWriter, r *http.Request) {
	if err := s.dir.DeleteDomain(r.Context(), r.PathValue("domain")); err != nil {
		fail(w, err)
		return
	}
	if s.env != nil {
		// A domain made again later starts without the old one's files.
		if err := s.env.RemoveDomain(r.PathValue("domain")); err != nil {
			s.log.Warn("the removed domain's environment was not removed", "domain", r.PathValue("domain"), "error", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// accountView is an account as the API shows it: never a password or hash.
type accountView struct {
	store.Account
	HasPassword bool `json:"hasPassword"`
}

func view(a store.Account) accountView {
	return accountView{Account: a, HasPassword: a.HA1MD5 != ""}
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	accs, err := s.dir.Accounts(r.PathValue("domain"))
	if err != nil {
		fail(w, err)
		return
	}
	out := make([]accountView, 0, len(accs))
	for _, a := range accs {
		out = append(out, view(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	a, ok := s.dir.Account(r.PathValue("domain"), r.PathValue("name"))
	if !ok {
		fail(w, fmt.Errorf("account %s@%s: %w", r.PathValue("name"), r.PathValue("domain"), store.ErrNotFound))
		return
	}
	writeJSON(w, http.StatusOK, view(a))
}

func (s *Server) putAccount(w http.ResponseWriter, r *http.Request) {
	var spec directory.AccountSpec
	if err := decode(r, &spec); err != nil {
		fail(w, err)
		return
	}
	if n := r.PathValue("name"); n != "" {
		if spec.Name != "" && !strings.EqualFold(spec.Name, n) {
			fail(w, fmt.Errorf("%w: name in body (%s) differs from the path (%s)", errBadRequest, spec.Name, n))
			return
		}
		spec.Name = n
	}
	if p := who(r); !p.server && spec.DomainAdmin != nil {
		cur, _ := s.dir.Account(r.PathValue("domain"), spec.Name)
		if *spec.DomainAdmin != cur.Prefs.DomainAdmin {
			writeError(w, http.StatusForbidden, "only the server administrator grants or withdraws domain administration")
			return
		}
	}
	changed, err := s.dir.PutAccount(r.Context(), r.PathValue("domain"), spec)
	if err != nil {
		fail(w, err)
		return
	}
	a, _ := s.dir.Account(r.PathValue("domain"), spec.Name)
	writeJSON(w, http.StatusOK, map[string]any{"account": view(a), "changed": changed})
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	if err := s.dir.DeleteAccount(r.Context(), r.PathValue("domain"), r.PathValue("name")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type aliasView struct {
	Alias   string `json:"alias"`
	Account string `json:"account"`
}

func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) {
	accs, err := s.dir.Accounts(r.PathValue("domain"))
	if err != nil {
		fail(w, err)
		return
	}
	out := []aliasView{}
	for _, a := range accs {
		for _, al := range a.Aliases {
			out = append(out, aliasView{Alias: al, Account: a.Name})
		}
	}
	slices.SortFunc(out, func(a, b aliasView) int { return strings.Compare(a.Alias, b.Alias) })
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) postAlias(w http.ResponseWriter, r *http.Request) {
	var v aliasView
	if err := decode(r, &v); err != nil {
		fail(w, err)
		return
	}
	dom := r.PathValue("domain")
	a, ok := s.dir.Account(dom, v.Account)
	if !ok {
		fail(w, fmt.Errorf("account %s@%s: %w", v.Account, dom, store.ErrNotFound))
		return
	}
	changed, err := s.dir.SetAliases(r.Context(), dom, a.Name, append(a.Aliases, v.Alias))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alias": v, "changed": changed})
}

func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request) {
	dom, alias := r.PathValue("domain"), strings.ToLower(r.PathValue("alias"))
	accs, err := s.dir.Accounts(dom)
	if err != nil {
		fail(w, err)
		return
	}
	for _, a := range accs {
		if i := slices.Index(a.Aliases, alias); i >= 0 {
			if _, err := s.dir.SetAliases(r.Context(), dom, a.Name, slices.Delete(a.Aliases, i, i+1)); err != nil {
				fail(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	fail(w, fmt.Errorf("alias %s@%s: %w", alias, dom, store.ErrNotFound))
}

func (s *Server) listForwarders(w http.ResponseWriter, r *http.Request) {
	fs, err := s.dir.Forwarders(r.PathValue("domain"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, fs)
}

func (s *Server) putForwarder(w http.ResponseWriter, r *http.Request) {
	var v struct {
		To string `json:"to"`
	}
	if err := decode(r, &v); err != nil {
		fail(w, err)
		return
	}
	changed, err := s.dir.PutForwarder(r.Context(), r.PathValue("domain"), r.PathValue("name"), v.To)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changed": changed})
}

func (s *Server) deleteForwarder(w http.ResponseWriter, r *http.Request) {
	if err := s.dir.DeleteForwarder(r.Context(), r.PathValue("domain"), r.PathValue("name")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	var doc directory.Doc
	if err := decodeMax(r, &doc, maxApplyBody); err != nil {
		fail(w, err)
		return
	}
	if s.env == nil && hasEnvironment(doc) {
		writeError(w, http.StatusServiceUnavailable, "application environments are not kept by this server")
		return
	}
	rep, err := s.dir.Apply(r.Context(), doc)
	if err == nil && s.env != nil {
		err = s.applyEnvironment(doc, &rep)
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

type bindingView struct {
	store.Binding
	ExpiresIn int `json:"expires"`
}

func (s *Server) registrations(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	out := []bindingView{}
	dom := strings.ToLower(r.URL.Query().Get("domain"))
	if p := who(r); !p.server {
		if dom != "" && dom != p.domain {
			forbid(w, p)
			return
		}
		dom = p.domain
	}
	for _, b := range s.loc.All() {
		if dom != "" && !strings.HasSuffix(b.AOR, "@"+dom) {
			continue
		}
		out = append(out, bindingView{Binding: b, ExpiresIn: int(b.Expires.Sub(now).Seconds())})
	}
	writeJSON(w, http.StatusOK, out)
}

// calls lists live calls with a summary of each one's media.
func (s *Server) calls(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.sip.Calls())
}

// conferences lists the open conference rooms and their members.
func (s *Server) conferences(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.sip.Conferences())
}

// call shows a live call with each media session's chain and counters.
func (s *Server) call(w http.ResponseWriter, r *http.Request) {
	c, ok := s.sip.Call(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "no live call "+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) blocked(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.sip.Blocked())
}

// cdrFilterRequest says which call records: a compact query (the CLI's
// form, e.g. "ivanov 1234 outcome:noanswer from:2026-11-01") or a filter
// tree, and optionally a domain.
type cdrFilterRequest struct {
	Query  string      `json:"query,omitempty"`
	Filter *cdr.Filter `json:"filter,omitempty"`
	Domain string      `json:"domain,omitempty"`
}

// cdrSearchRequest is a call-record search: which records, a page size and
// the cursor of the previous page.
type cdrSearchRequest struct {
	cdrFilterRequest
	Limit  int    `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
	Facets bool   `json:"facets,omitempty"`
}

type cdrSearchResponse struct {
	cdr.Page
	Facets *cdr.Facets `json:"facets,omitempty"`
}

// query checks the request and turns it into a store query, confined to the
// domain of a domain administrator.
func (req cdrFilterRequest) query(p principal) (cdr.Query, error) {
	f := req.Filter
	if req.Query != "" {
		if f != nil {
			return cdr.Query{}, fmt.Errorf("%w: give either query or filter, not both", errBadRequest)
		}
		parsed, err := cdr.ParseQuery(req.Query)
		if err != nil {
			return cdr.Query{}, err
		}
		f = parsed
	}
	if f != nil {
		if err := f.Validate(); err != nil {
			return cdr.Query{}, err
		}
	}
	q := cdr.Query{Filter: f, Domain: req.Domain}
	p.confine(&q)
	return q, nil
}

func (s *Server) cdrSearch(w http.ResponseWriter, r *http.Request) {
	if s.cdr == nil {
		writeError(w, http.StatusServiceUnavailable, "call records are not kept by this server")
		return
	}
	var req cdrSearchRequest
	if r.Method == http.MethodPost {
		if err := decode(r, &req); err != nil {
			fail(w, err)
			return
		}
	} else {
		q := r.URL.Query()
		req.Query, req.Domain, req.Cursor = q.Get("q"), q.Get("domain"), q.Get("cursor")
		req.Facets = q.Get("facets") == "1" || q.Get("facets") == "true"
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 {
				writeError(w, http.StatusBadRequest, "limit must be a positive number")
				return
			}
			req.Limit = n
		}
	}
	p := who(r)
	q, err := req.query(p)
	if err != nil {
		fail(w, err)
		return
	}
	q.Limit, q.Cursor = min(req.Limit, cdr.MaxLimit), req.Cursor
	page, err := s.cdr.Search(r.Context(), q)
	if err != nil {
		fail(w, err)
		return
	}
	out := cdrSearchResponse{Page: page}
	// The query is confined already; this keeps a domain administrator's
	// answer confined even if an engine did not.
	out.Records = slices.DeleteFunc(out.Records, func(rec cdr.Record) bool { return !p.sees(rec) })
	if out.Records == nil {
		out.Records = []cdr.Record{}
	}
	if req.Facets {
		fc, err := s.cdr.Facets(r.Context(), q)
		if err != nil {
			fail(w, err)
			return
		}
		out.Facets = &fc
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cdrGet(w http.ResponseWriter, r *http.Request) {
	if s.cdr == nil {
		writeError(w, http.StatusServiceUnavailable, "call records are not kept by this server")
		return
	}
	id := r.PathValue("id")
	rec, err := s.cdr.Get(r.Context(), id)
	// A record of another domain is answered exactly like a missing one, so
	// that a domain administrator cannot probe for other domains' calls.
	if errors.Is(err, store.ErrNotFound) || (err == nil && !who(r).sees(rec)) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("call record %s: %v", id, store.ErrNotFound))
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}
