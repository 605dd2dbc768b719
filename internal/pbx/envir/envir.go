// Package envir keeps the application environments PBX programs run in:
// the files a task reads (its program and the modules it calls, prompts,
// data files).
//
// There are three layers. The stock environment is built into the binary
// (an fs.FS, read-only); the server environment and one environment per
// domain are directories under the store's root:
//
//	DIR/server/...            the server environment
//	DIR/domains/DOMAIN/...    a domain's environment
//
// Each layer has English files in its root and other languages in folders
// named by the language in lower case (russian/). A task of an account in
// domain D, in language L, finds a file in D's language folder, then D's
// root, then the server's language folder and root, then the stock ones: a
// domain can override one English prompt without copying every language.
// Every element of a name is matched case-insensitively, and a name without
// an extension that is not found as given is looked up with ".wav".
//
// Files are changed through the Store only (Put, PutTar, Remove); every
// change is atomic per file, and compiled programs see it at the next
// Program.
package envir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// Layers, as File.Layer names them.
const (
	LayerDomain = "domain"
	LayerServer = "server"
	LayerStock  = "stock"
)

// Limits of what the store accepts.
const (
	// MaxFileSize bounds one file.
	MaxFileSize = 32 << 20
	// MaxTarSize bounds the content of the files of one archive, and
	// MaxTarEntries the number of its entries.
	MaxTarSize    = 128 << 20
	MaxTarEntries = 2000

	maxNameLen  = 1024
	maxElemLen  = 255
	maxDepth    = 16
	maxPrograms = 1024 // compiled programs kept; beyond, the cache starts afresh
)

var (
	// ErrInvalid is wrapped by the errors about names, languages, domains
	// and archive entries that the store does not accept.
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge is wrapped by the errors about a file or an archive over
	// the limits.
	ErrTooLarge = errors.New("too large")
)

var (
	langRE   = regexp.MustCompile(`^[a-z][a-z_-]{0,31}$`)
	domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
)

// Store is the server's and the domains' environments on disk, over the
// stock one.
type Store struct {
	dir   string // absolute
	stock fs.FS  // nil: none

	lim limits

	gen atomic.Uint64 // bumped by every change made through the store
	wmu sync.Mutex    // serialises changes

	mu    sync.Mutex
	progs map[progKey]*progSlot
}

// Open opens the environments kept in dir (DATA/environments), creating
// it, over the stock environment (nil for none).
func Open(dir string, stock fs.FS) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("environments %s: %w", dir, err)
	}
	for _, d := range []string{abs, filepath.Join(abs, "server"), filepath.Join(abs, "domains")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("environments: %w", err)
		}
	}
	return &Store{dir: abs, stock: stock, lim: limits{file: MaxFileSize, tar: MaxTarSize, entries: MaxTarEntries}, progs: map[progKey]*progSlot{}}, nil
}

// limits are the store's bounds: the constants, smaller in tests.
type limits struct {
	file, tar int64
	entries   int
}

// Dir is the directory the store keeps its files in.
func (s *Store) Dir() string { return s.dir }

// File is a file of an environment, as Resolve and Get find it.
type File struct {
	// Layer is LayerDomain, LayerServer or LayerStock.
	Layer string
	// Path is the file's name in its layer as it is stored, in its
	// language folder if it is in one: "russian/Welcome.wav".
	Path    string
	Size    int64
	ModTime time.Time
	// DiskPath is the file on disk; "" for a stock file.
	DiskPath string

	where string // the layer in messages: "domains/example.com", "server", "stock"
	fsys  fs.FS  // the stock environment, for a stock file
}

// String names the file in messages: its layer and path.
func (f File) String() string { return f.where + "/" + f.Path }

// Open opens the file for reading. A disk file is an *os.File (an
// io.ReadSeeker).
func (f File) Open() (io.ReadCloser, error) {
	switch {
	case f.DiskPath != "":
		return os.Open(f.DiskPath)
	case f.fsys != nil:
		return f.fsys.Open(f.Path)
	}
	return nil, &fs.PathError{Op: "open", Path: f.Path, Err: fs.ErrNotExist}
}

// Read returns the file's content, up to MaxFileSize bytes.
func (f File) Read() ([]byte, error) { return f.read(MaxFileSize) }

func (f File) read(limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes: %w", f, limit, ErrTooLarge)
	}
	return b, nil
}

// CheckName reports whether name can name a file of an environment: a
// relative slash-separated path without empty, "." or ".." elements,
// elements starting with "." (hidden files), backslashes or control
// characters.
func CheckName(name string) error {
	_, err := splitName(name)
	return err
}

func splitName(name string) ([]string, error) {
	bad := func(why string) ([]string, error) {
		return nil, fmt.Errorf("file name %q: %s: %w", name, why, ErrInvalid)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > maxNameLen:
		return bad(fmt.Sprintf("longer than %d bytes", maxNameLen))
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case strings.HasPrefix(name, "/"):
		return bad("an absolute path; give it relative to the environment")
	case strings.Contains(name, `\`):
		return bad(`folders are separated by "/", not "\"`)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return bad("control characters are not allowed")
		}
	}
	elems := strings.Split(name, "/")
	if len(elems) > maxDepth {
		return bad(fmt.Sprintf("more than %d folders deep", maxDepth))
	}
	for _, e := range elems {
		switch {
		case e == "":
			return bad("an empty folder name")
		case e == "." || e == "..":
			return bad(`"." and ".." are not allowed`)
		case strings.HasPrefix(e, "."):
			return bad(`names starting with "." are not allowed`)
		case len(e) > maxElemLen:
			return bad(fmt.Sprintf("a name longer than %d bytes", maxElemLen))
		}
	}
	return elems, nil
}

// CheckLang lower-cases and checks a language folder name ("" for the
// default language, English, which lives in the root).
func CheckLang(lang string) (string, error) {
	l := strings.ToLower(lang)
	if l != "" && !langRE.MatchString(l) {
		return "", fmt.Errorf("language %q: a folder name such as russian: %w", lang, ErrInvalid)
	}
	return l, nil
}

func checkDomain(domain string) (string, error) {
	d := strings.ToLower(domain)
	if len(d) > 253 || !domainRE.MatchString(d) {
		return "", fmt.Errorf("domain name %q: %w", domain, ErrInvalid)
	}
	return d, nil
}

// layer is one environment a name is looked up in.
type layer struct {
	name  string // LayerDomain, LayerServer, LayerStock
	where string
	disk  string // root directory; "" for the stock layer
	fsys  fs.FS  // the stock layer
}

func (s *Store) serverLayer() layer {
	return layer{name: LayerServer, where: "server", disk: filepath.Join(s.dir, "server")}
}

// domainLayer is the layer of a checked, lower-case domain name.
func (s *Store) domainLayer(domain string) layer {
	return layer{name: LayerDomain, where: "domains/" + domain, disk: filepath.Join(s.dir, "domains", domain)}
}

// layers are the layers a task of domain looks in, in order.
func (s *Store) layers(domain string) []layer {
	ls := make([]layer, 0, 3)
	if domain != "" {
		ls = append(ls, s.domainLayer(domain))
	}
	ls = append(ls, s.serverLayer())
	if s.stock != nil {
		ls = append(ls, layer{name: LayerStock, where: "stock", fsys: s.stock})
	}
	return ls
}

// writable is the layer of domain ("" for the server's) that changes go
// to.
func (s *Store) writable(domain string) (layer, error) {
	if domain == "" {
		return s.serverLayer(), nil
	}
	d, err := checkDomain(domain)
	if err != nil {
		return layer{}, err
	}
	return s.domainLayer(d), nil
}

// noteFunc is told about each directory and file on disk a lookup
// depended on (see progSlot).
type noteFunc func(path string, fi fs.FileInfo)

// Resolve finds the file name for a task of an account in domain ("" for
// none) whose language is lang ("" for the default): in the domain's
// environment (language folder, then root), then the server's, then the
// stock one. Each element of name is matched case-insensitively, and a
// name without an extension tries name, then name.wav, in each folder. A
// file that is in none of them is an error wrapping fs.ErrNotExist.
func (s *Store) Resolve(domain, lang, name string) (File, error) {
	return s.resolve(domain, lang, name, nil)
}

func (s *Store) resolve(domain, lang, name string, note noteFunc) (File, error) {
	elems, err := splitName(name)
	if err != nil {
		return File{}, err
	}
	if lang, err = CheckLang(lang); err != nil {
		return File{}, err
	}
	if domain != "" {
		if domain, err = checkDomain(domain); err != nil {
			return File{}, err
		}
	}
	names := [][]string{elems}
	if path.Ext(elems[len(elems)-1]) == "" {
		wav := append([]string(nil), elems...)
		wav[len(wav)-1] += ".wav"
		names = append(names, wav)
	}
	var folders [][]string
	if lang != "" {
		folders = append(folders, []string{lang})
	}
	folders = append(folders, nil)
	for _, l := range s.layers(domain) {
		if l.disk != "" {
			fi, err := os.Stat(l.disk)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					return File{}, fmt.Errorf("environment %s: %w", l.where, err)
				}
				if note != nil {
					// A domain's folder appearing changes its parent.
					if pfi, err := os.Stat(filepath.Dir(l.disk)); err == nil {
						note(filepath.Dir(l.disk), pfi)
					}
				}
				continue
			}
			if note != nil {
				note(l.disk, fi)
			}
		}
		for _, folder := range folders {
			for _, n := range names {
				f, err := l.lookup(append(append([]string(nil), folder...), n...), note)
				if err == nil {
					return f, nil
				}
				if !errors.Is(err, fs.ErrNotExist) {
					return File{}, err
				}
			}
		}
	}
	return File{}, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// lookup finds the regular file elems in the layer, matching each element
// case-insensitively. Symbolic links and hidden files are not followed.
func (l layer) lookup(elems []string, note noteFunc) (File, error) {
	stored := make([]string, 0, len(elems))
	for i, e := range elems {
		dir := path.Join(stored...)
		got, fi, err := l.match(dir, e)
		if err != nil {
			return File{}, err
		}
		stored = append(stored, got)
		rel := path.Join(stored...)
		if note != nil && l.disk != "" {
			note(l.osPath(rel), fi)
		}
		if i < len(elems)-1 {
			if !fi.IsDir() {
				return File{}, fs.ErrNotExist
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			return File{}, fs.ErrNotExist
		}
		f := File{Layer: l.name, Path: rel, Size: fi.Size(), ModTime: fi.ModTime(), where: l.where}
		if l.disk != "" {
			f.DiskPath = l.osPath(rel)
		} else {
			f.fsys = l.fsys
		}
		return f, nil
	}
	return File{}, fs.ErrNotExist // no elements: not reached, names are checked
}

func (l layer) osPath(rel string) string {
	if rel == "" {
		return l.disk
	}
	return filepath.Join(l.disk, filepath.FromSlash(rel))
}

// match finds the entry of folder dir (a stored path, "" for the root)
// whose name is e up to case: e itself when it is there, else the first in
// name order. Hidden entries never match.
func (l layer) match(dir, e string) (string, fs.FileInfo, error) {
	fi, err := l.lstat(path.Join(dir, e))
	if err == nil {
		return e, fi, nil
	}
	if !missing(err) {
		return "", nil, fmt.Errorf("environment %s: %w", l.where, err)
	}
	ents, err := l.readDir(dir)
	if err != nil {
		if missing(err) {
			return "", nil, fs.ErrNotExist
		}
		return "", nil, fmt.Errorf("environment %s: %w", l.where, err)
	}
	for _, ent := range ents {
		if n := ent.Name(); strings.EqualFold(n, e) && !strings.HasPrefix(n, ".") {
			fi, err := ent.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // removed meanwhile
				}
				return "", nil, fmt.Errorf("environment %s: %w", l.where, err)
			}
			return n, fi, nil
		}
	}
	return "", nil, fs.ErrNotExist
}

func (l layer) lstat(rel string) (fs.FileInfo, error) {
	if l.disk != "" {
		return os.Lstat(l.osPath(rel))
	}
	if rel == "" {
		rel = "."
	}
	return fs.Stat(l.fsys, rel)
}

func (l layer) readDir(rel string) ([]fs.DirEntry, error) {
	if l.disk != "" {
		return os.ReadDir(l.osPath(rel))
	}
	if rel == "" {
		rel = "."
	}
	return fs.ReadDir(l.fsys, rel)
}

// missing reports whether err says a path is not there: ENOTDIR is what
// looking inside a file that takes a folder's place gives.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
