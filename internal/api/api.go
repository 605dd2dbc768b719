// Package api is Ringo's HTTP admin API (/api/v1, bearer-token auth),
// health check and Prometheus metrics.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
}

// WithRecords serves call-record search from st.
func (s *Server) WithRecords(st cdr.Store) *Server {
	s.cdr = st
	return s
}

// New builds the API handler.
func New(token string, dir *directory.Directory, loc *sip.Location, sipSrv *sip.Server, log *slog.Logger, g prometheus.Gatherer) *Server {
	return &Server{token: token, dir: dir, loc: loc, sip: sipSrv, log: log, gather: g}
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/domains", s.listDomains)
	api.HandleFunc("POST /api/v1/domains", s.postDomain)
	api.HandleFunc("GET /api/v1/domains/{domain}", s.getDomain)
	api.HandleFunc("PUT /api/v1/domains/{domain}", s.putDomain)
	api.HandleFunc("DELETE /api/v1/domains/{domain}", s.deleteDomain)
	api.HandleFunc("GET /api/v1/domains/{domain}/accounts", s.listAccounts)
	api.HandleFunc("POST /api/v1/domains/{domain}/accounts", s.putAccount)
	api.HandleFunc("GET /api/v1/domains/{domain}/accounts/{name}", s.getAccount)
	api.HandleFunc("PUT /api/v1/domains/{domain}/accounts/{name}", s.putAccount)
	api.HandleFunc("DELETE /api/v1/domains/{domain}/accounts/{name}", s.deleteAccount)
	api.HandleFunc("GET /api/v1/domains/{domain}/aliases", s.listAliases)
	api.HandleFunc("POST /api/v1/domains/{domain}/aliases", s.postAlias)
	api.HandleFunc("DELETE /api/v1/domains/{domain}/aliases/{alias}", s.deleteAlias)
	api.HandleFunc("GET /api/v1/domains/{domain}/forwarders", s.listForwarders)
	api.HandleFunc("PUT /api/v1/domains/{domain}/forwarders/{name}", s.putForwarder)
	api.HandleFunc("DELETE /api/v1/domains/{domain}/forwarders/{name}", s.deleteForwarder)
	api.HandleFunc("POST /api/v1/apply", s.apply)
	api.HandleFunc("GET /api/v1/registrations", s.registrations)
	api.HandleFunc("GET /api/v1/calls", s.calls)
	api.HandleFunc("GET /api/v1/security/blocked", s.blocked)
	api.HandleFunc("GET /api/v1/cdr/search", s.cdrSearch)
	api.HandleFunc("POST /api/v1/cdr/search", s.cdrSearch)
	api.HandleFunc("GET /api/v1/cdr/{id}", s.cdrGet)
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})

	mux := http.NewServeMux()
	mux.Handle("/api/", s.auth(api))
	// Profiles, for performance work on a live server; behind the token like the API.
	mux.Handle("/debug/pprof/", s.auth(http.HandlerFunc(pprof.Index)))
	mux.Handle("/debug/pprof/profile", s.auth(http.HandlerFunc(pprof.Profile)))
	mux.Handle("/debug/pprof/trace", s.auth(http.HandlerFunc(pprof.Trace)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "activeCalls": s.sip.ActiveCalls(), "registrations": s.loc.Count()})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		// An empty configured token admits nobody (not "Bearer " with nothing).
		if !ok || s.token == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringo"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
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
	case errors.Is(err, directory.ErrInvalid), errors.Is(err, errBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

var errBadRequest = errors.New("bad request")

// decode reads a JSON body strictly: unknown fields and trailing data are errors.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %v", errBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: request body: trailing data", errBadRequest)
	}
	return nil
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.dir.Domains())
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
	if err := decode(r, &doc); err != nil {
		fail(w, err)
		return
	}
	rep, err := s.dir.Apply(r.Context(), doc)
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
	for _, b := range s.loc.All() {
		if dom != "" && !strings.HasSuffix(b.AOR, "@"+dom) {
			continue
		}
		out = append(out, bindingView{Binding: b, ExpiresIn: int(b.Expires.Sub(now).Seconds())})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) calls(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.sip.Calls())
}

func (s *Server) blocked(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.sip.Blocked())
}

// cdrSearchRequest is a call-record search: a compact query (the CLI's
// form, e.g. "ivanov 1234 outcome:noanswer from:2026-11-01") or a filter
// tree, a page size and the cursor of the previous page.
type cdrSearchRequest struct {
	Query  string      `json:"query,omitempty"`
	Filter *cdr.Filter `json:"filter,omitempty"`
	Domain string      `json:"domain,omitempty"`
	Limit  int         `json:"limit,omitempty"`
	Cursor string      `json:"cursor,omitempty"`
	Facets bool        `json:"facets,omitempty"`
}

type cdrSearchResponse struct {
	cdr.Page
	Facets *cdr.Facets `json:"facets,omitempty"`
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
	f := req.Filter
	if req.Query != "" {
		if f != nil {
			writeError(w, http.StatusBadRequest, "give either query or filter, not both")
			return
		}
		parsed, err := cdr.ParseQuery(req.Query)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		f = parsed
	}
	if f != nil {
		if err := f.Validate(); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	q := cdr.Query{Filter: f, Domain: req.Domain, Limit: min(req.Limit, cdr.MaxLimit), Cursor: req.Cursor}
	page, err := s.cdr.Search(r.Context(), q)
	if err != nil {
		if errors.Is(err, cdr.ErrQuery) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		fail(w, err)
		return
	}
	out := cdrSearchResponse{Page: page}
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
	rec, err := s.cdr.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}
