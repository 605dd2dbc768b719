package cgpl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Loader reads the files of a program's environment (CommuniGate's
// Real-Time Application Environment): the modules a program calls
// ("Util.sppr" for Util::F) and the files ReadEnvirFile reads. Names are
// slash-separated paths relative to the environment, as fs.ValidPath
// accepts them ("prompts.txt", "russian/prompts.txt").
type Loader interface {
	// Load returns the content of the named file and a name for it in
	// messages (its path, say). A missing file is an error that wraps
	// fs.ErrNotExist.
	Load(ctx context.Context, name string) (src []byte, fileName string, err error)
}

// MaxLoadSize bounds a file a Loader of this package reads.
const MaxLoadSize = 16 << 20

// DirLoader loads files from a directory. Names cannot leave it: "..",
// absolute paths and symbolic links pointing outside are refused.
type DirLoader struct {
	Dir string
}

// Load reads Dir/name.
func (l DirLoader) Load(ctx context.Context, name string) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if !fs.ValidPath(name) || strings.Contains(name, `\`) {
		return nil, "", fmt.Errorf("load %q: %w", name, fs.ErrInvalid)
	}
	fileName := filepath.Join(l.Dir, filepath.FromSlash(name))
	f, err := os.OpenInRoot(l.Dir, filepath.FromSlash(name))
	if err != nil {
		return nil, fileName, loadError(fileName, err)
	}
	defer f.Close()
	src, err := readBounded(f, fileName)
	return src, fileName, err
}

// FSLoader loads files from a file system (an embedded one, a test's
// fstest.MapFS).
type FSLoader struct {
	FS fs.FS
}

// Load reads name from the file system.
func (l FSLoader) Load(ctx context.Context, name string) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if !fs.ValidPath(name) {
		return nil, name, fmt.Errorf("load %q: %w", name, fs.ErrInvalid)
	}
	f, err := l.FS.Open(name)
	if err != nil {
		return nil, name, loadError(name, err)
	}
	defer f.Close()
	src, err := readBounded(f, name)
	return src, name, err
}

// loadError reports a file that could not be opened under the name the
// loader gives it.
func loadError(fileName string, err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = fs.ErrNotExist // the same words on every system
	case errors.As(err, &pe):
		err = pe.Err
	}
	return &fs.PathError{Op: "load", Path: fileName, Err: err}
}

func readBounded(r io.Reader, name string) ([]byte, error) {
	src, err := io.ReadAll(io.LimitReader(r, MaxLoadSize+1))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	if len(src) > MaxLoadSize {
		return nil, fmt.Errorf("load %s: larger than %d bytes", name, MaxLoadSize)
	}
	return src, nil
}

// envirFileName checks a ReadEnvirFile name and gives the names to try:
// the file in the language's folder first, then in the root.
func envirFileNames(name, lang string) ([]string, error) {
	if !fs.ValidPath(name) || name == "." || strings.Contains(name, `\`) {
		return nil, fmt.Errorf("%q is not a file name of the environment", name)
	}
	if lang == "" {
		return []string{name}, nil
	}
	return []string{path.Join(lang, name), name}, nil
}
