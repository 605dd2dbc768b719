package envir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Entry is a file of a layer, as List shows it.
type Entry struct {
	// Path is the file's name in the layer, in its language folder if it
	// is in one ("russian/Welcome.wav").
	Path     string    `json:"path"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
}

// target checks a file name of a layer and gives its elements: name in
// the language folder lang ("" for the root). A name that starts with the
// language folder itself is refused, as a language folder holds no further
// language folders.
func target(lang, name string) ([]string, error) {
	elems, err := splitName(name)
	if err != nil {
		return nil, err
	}
	if lang, err = CheckLang(lang); err != nil {
		return nil, err
	}
	if lang == "" {
		return elems, nil
	}
	if strings.EqualFold(elems[0], lang) {
		return nil, fmt.Errorf("file name %q is in the language folder %s already; give the language or the folder, not both: %w", name, lang, ErrInvalid)
	}
	return append([]string{lang}, elems...), nil
}

// Put stores data as the file name of domain's environment ("" for the
// server's), in the folder of language lang ("" for the root), replacing
// the file of that name up to case. Folders are made as needed (reusing
// existing ones whatever their case); the file is replaced atomically.
func (s *Store) Put(domain, lang, name string, data []byte) error {
	l, err := s.writable(domain)
	if err != nil {
		return err
	}
	elems, err := target(lang, name)
	if err != nil {
		return err
	}
	if int64(len(data)) > s.lim.file {
		return fmt.Errorf("file %s: %d bytes, more than %d: %w", name, len(data), s.lim.file, ErrTooLarge)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer s.gen.Add(1) // also after a failure: a folder may have been made
	_, err = l.place(elems, func(dir string) (string, error) { return writeTemp(dir, bytes.NewReader(data)) })
	return err
}

// writeTemp writes r to a new hidden file of dir, synced, and returns its
// path.
func writeTemp(dir string, r io.Reader) (string, error) {
	f, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Chmod(0o640)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// place puts a file at elems in the layer: the folders are found up to
// case or made, src makes the content as a file of the final folder (or
// of the same file system), which is renamed over the file, and a file of
// the same name in another case is removed. It returns the path as
// stored.
func (l layer) place(elems []string, src func(dir string) (string, error)) (string, error) {
	if err := os.MkdirAll(l.disk, 0o750); err != nil {
		return "", fmt.Errorf("environment %s: %w", l.where, err)
	}
	stored := make([]string, 0, len(elems))
	for _, e := range elems[:len(elems)-1] {
		dir := path.Join(stored...)
		got, fi, err := l.match(dir, e)
		switch {
		case err == nil && fi.IsDir():
		case err == nil:
			return "", fmt.Errorf("%s: %s is a file, not a folder: %w", l.where, path.Join(dir, got), ErrInvalid)
		case errors.Is(err, fs.ErrNotExist):
			got = e
			if err := os.Mkdir(l.osPath(path.Join(dir, e)), 0o750); err != nil {
				return "", fmt.Errorf("environment %s: %w", l.where, err)
			}
		default:
			return "", err
		}
		stored = append(stored, got)
	}
	dir := path.Join(stored...)
	last := elems[len(elems)-1]
	old, fi, err := l.match(dir, last)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return "", fmt.Errorf("%s: %s is a folder or a link, not a file: %w", l.where, path.Join(dir, old), ErrInvalid)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	tmp, err := src(l.osPath(dir))
	if err != nil {
		return "", fmt.Errorf("environment %s: write %s: %w", l.where, path.Join(dir, last), err)
	}
	rel := path.Join(dir, last)
	if err := os.Rename(tmp, l.osPath(rel)); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("environment %s: write %s: %w", l.where, rel, err)
	}
	if old != "" && old != last {
		// The same name in another case: the new file replaces it.
		if err := os.Remove(l.osPath(path.Join(dir, old))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("environment %s: replace %s: %w", l.where, path.Join(dir, old), err)
		}
	}
	return rel, nil
}

// Get finds the file name of domain's environment ("" for the server's) in
// the folder of language lang ("" for the root), up to case, and only
// there: no other folder or layer is looked in.
func (s *Store) Get(domain, lang, name string) (File, error) {
	l, err := s.writable(domain)
	if err != nil {
		return File{}, err
	}
	elems, err := target(lang, name)
	if err != nil {
		return File{}, err
	}
	f, err := l.lookup(elems, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, &fs.PathError{Op: "open", Path: l.where + "/" + path.Join(elems...), Err: fs.ErrNotExist}
	}
	return f, err
}

// Remove removes the file or folder (with everything in it) name of
// domain's environment ("" for the server's), in the folder of language
// lang, found up to case. Folders left empty are removed too.
func (s *Store) Remove(domain, lang, name string) error {
	l, err := s.writable(domain)
	if err != nil {
		return err
	}
	elems, err := target(lang, name)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	stored := make([]string, 0, len(elems))
	var fi fs.FileInfo
	for _, e := range elems {
		var got string
		got, fi, err = l.match(path.Join(stored...), e)
		if errors.Is(err, fs.ErrNotExist) {
			return &fs.PathError{Op: "remove", Path: l.where + "/" + path.Join(elems...), Err: fs.ErrNotExist}
		}
		if err != nil {
			return err
		}
		stored = append(stored, got)
	}
	rel := path.Join(stored...)
	defer s.gen.Add(1)
	if fi.IsDir() {
		// Out of sight first, so that no task sees it half removed.
		trash, err := os.MkdirTemp(l.disk, ".rm-*")
		if err != nil {
			return fmt.Errorf("environment %s: remove %s: %w", l.where, rel, err)
		}
		defer os.RemoveAll(trash)
		if err := os.Rename(l.osPath(rel), filepath.Join(trash, "x")); err != nil {
			return fmt.Errorf("environment %s: remove %s: %w", l.where, rel, err)
		}
	} else if err := os.Remove(l.osPath(rel)); err != nil {
		return fmt.Errorf("environment %s: remove %s: %w", l.where, rel, err)
	}
	for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
		if os.Remove(l.osPath(dir)) != nil {
			break // not empty
		}
	}
	return nil
}

// RemoveDomain removes domain's whole environment, as when the domain is
// removed.
func (s *Store) RemoveDomain(domain string) error {
	d, err := checkDomain(domain)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer s.gen.Add(1)
	if err := os.RemoveAll(s.domainLayer(d).disk); err != nil {
		return fmt.Errorf("environment of %s: %w", d, err)
	}
	return nil
}

// List lists the files of domain's environment ("" for the server's): the
// files of the folder of language lang, or with lang "" every file of the
// layer, language folders included. A layer without files lists none.
func (s *Store) List(domain, lang string) ([]Entry, error) {
	l, err := s.writable(domain)
	if err != nil {
		return nil, err
	}
	if lang, err = CheckLang(lang); err != nil {
		return nil, err
	}
	out := []Entry{}
	top := ""
	if lang != "" {
		got, fi, err := l.match("", lang)
		if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		top = got
	}
	err = filepath.WalkDir(l.osPath(top), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != l.osPath(top) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(l.disk, p)
		if err != nil {
			return err
		}
		out = append(out, Entry{Path: filepath.ToSlash(rel), Size: fi.Size(), Modified: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", l.where, err)
	}
	return out, nil
}
