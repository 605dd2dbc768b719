package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/pbx/envir"
	"github.com/ringo-pbx/ringo/internal/store"
)

// Bounds of the bodies of environment uploads: a file, and an archive
// (its files, plus a header and padding per entry).
const (
	maxEnvFileBody = envir.MaxFileSize
	maxEnvTarBody  = envir.MaxTarSize + envir.MaxTarEntries*1024 + 1<<20
	// maxApplyBody bounds a provisioning document with environment files
	// (base64 in the JSON); larger sets go as archives.
	maxApplyBody = 64 << 20
)

const tarType = "application/x-tar"

// WithEnvironments serves the server's and the domains' application
// environments from st.
func (s *Server) WithEnvironments(st *envir.Store) *Server {
	s.env = st
	return s
}

// environmentRoutes adds the routes of the server's environment (for the
// server administrator) and of a domain's (for its administrator too).
func (s *Server) environmentRoutes(route func(string, scope, http.HandlerFunc)) {
	for _, r := range []struct {
		prefix string
		sc     scope
	}{
		{"/api/v1/environments/server/files", serverOnly},
		{"/api/v1/domains/{domain}/environment/files", ownDomain},
	} {
		route("GET "+r.prefix, r.sc, s.envGet)
		route("GET "+r.prefix+"/{path...}", r.sc, s.envGet)
		route("PUT "+r.prefix, r.sc, s.envPut)
		route("PUT "+r.prefix+"/{path...}", r.sc, s.envPut)
		route("POST "+r.prefix, r.sc, s.envPostTar)
		route("POST "+r.prefix+"/{$}", r.sc, s.envPostTar)
		route("DELETE "+r.prefix+"/{path...}", r.sc, s.envDelete)
	}
}

// envLayer is the layer a request addresses: "" for the server's, or the
// domain of the path, which must exist. It answers the request itself when
// it cannot be served.
func (s *Server) envLayer(w http.ResponseWriter, r *http.Request) (domain string, ok bool) {
	if s.env == nil {
		writeError(w, http.StatusServiceUnavailable, "application environments are not kept by this server")
		return "", false
	}
	domain = r.PathValue("domain")
	if domain == "" {
		return "", true
	}
	d, found := s.dir.Domain(domain)
	if !found {
		fail(w, fmt.Errorf("domain %s: %w", domain, store.ErrNotFound))
		return "", false
	}
	return d.Name, true
}

// envGet lists the layer's files (the folder itself) or sends one.
func (s *Server) envGet(w http.ResponseWriter, r *http.Request) {
	domain, ok := s.envLayer(w, r)
	if !ok {
		return
	}
	lang, name := r.URL.Query().Get("lang"), r.PathValue("path")
	if name == "" {
		list, err := s.env.List(domain, lang)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, list)
		return
	}
	f, err := s.env.Get(domain, lang, name)
	if err != nil {
		fail(w, err)
		return
	}
	rc, err := f.Open()
	if err != nil {
		fail(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", envContentType(f.Path))
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", f.ModTime, rs)
		return
	}
	io.Copy(w, rc)
}

// envPut stores the body as the file of the path, or unpacks it when it is
// an archive sent to the folder itself.
func (s *Server) envPut(w http.ResponseWriter, r *http.Request) {
	domain, ok := s.envLayer(w, r)
	if !ok {
		return
	}
	lang, name := r.URL.Query().Get("lang"), r.PathValue("path")
	if isTar(r) && name == "" {
		s.envTar(w, r, domain, lang)
		return
	}
	if name == "" {
		fail(w, fmt.Errorf("%w: give the file's name in the path, or send an archive as %s", errBadRequest, tarType))
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEnvFileBody))
	if err != nil {
		fail(w, fmt.Errorf("request body: %w", err))
		return
	}
	if err := s.env.Put(domain, lang, name, data); err != nil {
		fail(w, err)
		return
	}
	f, err := s.env.Get(domain, lang, name)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, envir.Entry{Path: f.Path, Size: f.Size, Modified: f.ModTime})
}

// envPostTar unpacks an archive into the layer (?tar=1, or the archive's
// content type).
func (s *Server) envPostTar(w http.ResponseWriter, r *http.Request) {
	domain, ok := s.envLayer(w, r)
	if !ok {
		return
	}
	if q := r.URL.Query().Get("tar"); !isTar(r) && q != "1" && q != "true" {
		fail(w, fmt.Errorf("%w: POST unpacks an archive: add ?tar=1 or send it as %s; PUT stores one file", errBadRequest, tarType))
		return
	}
	s.envTar(w, r, domain, r.URL.Query().Get("lang"))
}

func (s *Server) envTar(w http.ResponseWriter, r *http.Request, domain, lang string) {
	names, err := s.env.PutTar(domain, lang, http.MaxBytesReader(w, r.Body, maxEnvTarBody))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"files": names})
}

// envContentType is the type a file is sent with: the environment's own
// kinds first, as the system's table may not know them.
func envContentType(name string) string {
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".wav":
		return "audio/wav"
	case ".sppr", ".txt":
		return "text/plain; charset=utf-8"
	default:
		if ct := mime.TypeByExtension(ext); ct != "" {
			return ct
		}
	}
	return "application/octet-stream"
}

func isTar(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == tarType || ct == "application/gzip" || ct == "application/x-gtar"
}

func (s *Server) envDelete(w http.ResponseWriter, r *http.Request) {
	domain, ok := s.envLayer(w, r)
	if !ok {
		return
	}
	if err := s.env.Remove(domain, r.URL.Query().Get("lang"), r.PathValue("path")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// hasEnvironment reports whether a provisioning document sets environment
// files.
func hasEnvironment(doc directory.Doc) bool {
	if doc.Server != nil && len(doc.Server.Environment) > 0 {
		return true
	}
	for _, dd := range doc.Domains {
		if len(dd.Environment) > 0 {
			return true
		}
	}
	return false
}

// applyEnvironment stores the environment files of a document (checked
// already), the server's then each domain's, noting each in the report: a
// file whose content is already there is unchanged.
func (s *Server) applyEnvironment(doc directory.Doc, rep *directory.Report) error {
	put := func(domain string, f directory.EnvFile) error {
		name := f.EnvName()
		changed := true
		cur, err := s.env.Get(domain, f.Lang, name)
		switch {
		case err == nil:
			if b, err := cur.Read(); err == nil && bytes.Equal(b, f.Data) {
				changed = false
			}
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
		if changed {
			if err := s.env.Put(domain, f.Lang, name, f.Data); err != nil {
				return err
			}
		}
		item := path.Join(strings.ToLower(f.Lang), name)
		if domain != "" {
			item += "@" + domain
		}
		rep.Items = append(rep.Items, directory.Change{Kind: "file", Name: item, Changed: changed})
		if changed {
			rep.Changed++
		} else {
			rep.Unchanged++
		}
		return nil
	}
	if doc.Server != nil {
		for _, f := range doc.Server.Environment {
			if err := put("", f); err != nil {
				return err
			}
		}
	}
	for _, dd := range doc.Domains {
		dn, err := directory.CheckDomainName(dd.Name)
		if err != nil {
			return err
		}
		for _, f := range dd.Environment {
			if err := put(dn, f); err != nil {
				return err
			}
		}
	}
	return nil
}
