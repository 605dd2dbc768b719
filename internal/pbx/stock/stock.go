// Package stock holds the stock application environment, built into the
// binary: the built-in PBX programs and their prompts, English in the root
// and other languages in their folders (russian/). It is the last layer a
// task's files are looked up in, after the domain's and the server's.
package stock

import (
	"embed"
	"io"
	"io/fs"
	"path"
	"strings"
)

// The whole directory is embedded, whatever files it holds, so that adding
// a program or a language folder needs no change here (a pattern such as
// *.wav would not compile while no WAV file exists); FS hides what is not
// part of the environment.
//
//go:embed *
var files embed.FS

// FS is the stock environment: every file of this directory and its
// folders except the package's own (Go files, Markdown, testdata) and
// hidden ones.
func FS() fs.FS { return filtered{files} }

// hidden reports whether the embedded file name (a valid path) is not part
// of the environment.
func hidden(name string) bool {
	if name == "." {
		return false
	}
	for _, e := range strings.Split(name, "/") {
		if strings.HasPrefix(e, ".") || strings.HasPrefix(e, "_") {
			return true
		}
	}
	if strings.Contains(name, "/") {
		return false // language folders hold environment files only
	}
	switch path.Ext(name) {
	case ".go", ".md":
		return true
	}
	return name == "testdata"
}

// filtered is the embedded files without the hidden ones.
type filtered struct{ fsys embed.FS }

func (f filtered) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if hidden(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if d, ok := file.(fs.ReadDirFile); ok {
		return &dir{ReadDirFile: d, name: name}, nil
	}
	return file, nil
}

func (f filtered) ReadDir(name string) ([]fs.DirEntry, error) {
	if hidden(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	ents, err := f.fsys.ReadDir(name)
	if err != nil {
		return nil, err
	}
	return visible(name, ents), nil
}

func (f filtered) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) || hidden(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return f.fsys.ReadFile(name)
}

func visible(dirName string, ents []fs.DirEntry) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(ents))
	for _, e := range ents {
		if !hidden(path.Join(dirName, e.Name())) {
			out = append(out, e)
		}
	}
	return out
}

// dir is an open directory whose listing leaves the hidden files out.
type dir struct {
	fs.ReadDirFile
	name string
	ents []fs.DirEntry // what is left to list; nil until the first ReadDir
	read bool
}

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		all, err := d.ReadDirFile.ReadDir(-1)
		if err != nil {
			return nil, err
		}
		d.ents, d.read = visible(d.name, all), true
	}
	if n <= 0 {
		out := d.ents
		d.ents = nil
		return out, nil
	}
	if len(d.ents) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.ents))
	out := d.ents[:n:n]
	d.ents = d.ents[n:]
	return out, nil
}
