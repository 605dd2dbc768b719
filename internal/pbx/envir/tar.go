package envir

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// PutTar unpacks a tar archive (gzip-compressed or not) into domain's
// environment ("" for the server's), in the folder of language lang ("" for
// the root), with its folders: an archive of a whole environment or of a
// language pack installs it in one step. It returns the paths of the files
// stored, in the layer.
//
// Only regular files and folders are accepted; links, devices, absolute
// names, "..", hidden names, entries over MaxFileSize, archives over
// MaxTarSize or MaxTarEntries, and files that would take a folder's place
// (or the reverse) make it fail, and then nothing is stored: the archive is
// read whole into a hidden folder of the layer and checked before any file
// is moved into place. (macOS metadata entries, "._*" and .DS_Store, are
// skipped.)
func (s *Store) PutTar(domain, lang string, r io.Reader) (names []string, err error) {
	l, err := s.writable(domain)
	if err != nil {
		return nil, err
	}
	if lang, err = CheckLang(lang); err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("archive: %v: %w", err, ErrInvalid)
		}
		defer gz.Close()
		r = gz
	} else {
		r = br
	}
	if err := os.MkdirAll(l.disk, 0o750); err != nil {
		return nil, fmt.Errorf("environment %s: %w", l.where, err)
	}
	if l.name == LayerDomain {
		defer func() {
			if err != nil {
				os.Remove(l.disk) // made for this archive: only if still empty
			}
		}()
	}
	stage, err := os.MkdirTemp(l.disk, ".tar-*")
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", l.where, err)
	}
	defer os.RemoveAll(stage)
	items, err := readTar(tar.NewReader(r), lang, stage, s.lim)
	if err != nil {
		return nil, err
	}

	s.wmu.Lock()
	defer s.wmu.Unlock()
	for _, it := range items {
		if err := l.fits(it.elems); err != nil {
			return nil, err
		}
	}
	defer s.gen.Add(1)
	names = make([]string, 0, len(items))
	for _, it := range items {
		rel, err := l.place(it.elems, func(string) (string, error) { return it.staged, nil })
		if err != nil {
			// Only a failing disk gets here, the names having been checked.
			return names, fmt.Errorf("archive: stored %d of %d files: %w", len(names), len(items), err)
		}
		names = append(names, rel)
	}
	slices.Sort(names)
	return names, nil
}

// tarItem is a file of an archive, read into staged.
type tarItem struct {
	elems  []string // in the layer, language folder included
	staged string
}

// readTar reads every entry of an archive, checking it, and writes the
// files into stage. A later entry of the same name (up to case) replaces
// an earlier one, as tar does.
func readTar(tr *tar.Reader, lang, stage string, lim limits) ([]tarItem, error) {
	var items []tarItem
	byName := map[string]int{}   // lower-case path → index in items
	folders := map[string]bool{} // lower-case paths of folders, given or implied
	var total int64
	for n := 1; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("archive: entry %d: %v: %w", n, err, ErrInvalid)
		}
		if n > lim.entries {
			return nil, fmt.Errorf("archive: more than %d entries: %w", lim.entries, ErrTooLarge)
		}
		// Every entry's size counts, so that no entry can make the reader
		// skip unbounded data.
		if hdr.Size < 0 || hdr.Size > lim.file {
			return nil, fmt.Errorf("archive: %s: %d bytes, more than %d: %w", hdr.Name, hdr.Size, lim.file, ErrTooLarge)
		}
		if total += hdr.Size; total > lim.tar {
			return nil, fmt.Errorf("archive: more than %d bytes of files: %w", lim.tar, ErrTooLarge)
		}
		rel, skip, err := tarName(hdr.Name)
		if err != nil {
			return nil, err
		}
		if skip {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeReg:
		case tar.TypeSymlink, tar.TypeLink:
			return nil, fmt.Errorf("archive: %s is a link; only files and folders are accepted: %w", hdr.Name, ErrInvalid)
		default:
			return nil, fmt.Errorf("archive: %s is not a file or a folder (type %q); only files and folders are accepted: %w", hdr.Name, hdr.Typeflag, ErrInvalid)
		}
		elems, err := target(lang, rel)
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		key := strings.ToLower(path.Join(elems...))
		for i := 1; i < len(elems); i++ {
			folders[strings.ToLower(path.Join(elems[:i]...))] = true
		}
		if hdr.Typeflag == tar.TypeDir {
			folders[key] = true
			continue
		}
		staged := filepath.Join(stage, strconv.Itoa(n))
		if err := stageFile(staged, tr, hdr.Size); err != nil {
			return nil, fmt.Errorf("archive: %s: %w", hdr.Name, err)
		}
		if i, ok := byName[key]; ok {
			items[i] = tarItem{elems: elems, staged: staged}
			continue
		}
		byName[key] = len(items)
		items = append(items, tarItem{elems: elems, staged: staged})
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("archive: no files in it: %w", ErrInvalid)
	}
	for key := range byName {
		if folders[key] {
			return nil, fmt.Errorf("archive: %s is both a file and a folder: %w", key, ErrInvalid)
		}
	}
	return items, nil
}

func stageFile(name string, r io.Reader, size int64) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	body := &errReader{r: r}
	n, err := io.Copy(f, body)
	switch {
	case body.err != nil:
		err = fmt.Errorf("reading the archive: %v: %w", body.err, ErrInvalid)
	case err == nil && n != size:
		err = fmt.Errorf("reading the archive: %d bytes of %d: %w", n, size, ErrInvalid)
	case err == nil:
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// errReader keeps the error of reading, apart from those of writing.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// tarName checks the name of an archive entry and gives its path in the
// environment: "./" prefixes and a folder's trailing "/" are dropped. skip
// is true for the archive's root folder and for macOS metadata.
func tarName(name string) (rel string, skip bool, err error) {
	n := name
	for strings.HasPrefix(n, "./") {
		n = strings.TrimLeft(n[2:], "/")
	}
	n = strings.TrimSuffix(n, "/")
	if n == "" || n == "." {
		return "", true, nil
	}
	dir, base := path.Split(n)
	if strings.HasPrefix(base, "._") || base == ".DS_Store" {
		if dir == "" {
			return "", true, nil
		}
		n, skip = strings.TrimSuffix(dir, "/"), true // the folder must still be a good name
	}
	if err := CheckName(n); err != nil {
		return "", false, fmt.Errorf("archive: entry %q: %w", name, err)
	}
	if skip {
		return "", true, nil
	}
	return n, false, nil
}

// fits checks that a file can be stored at elems: no file of the layer
// takes the place of one of its folders, and no folder its place.
func (l layer) fits(elems []string) error {
	stored := make([]string, 0, len(elems))
	for i, e := range elems {
		got, fi, err := l.match(path.Join(stored...), e)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		stored = append(stored, got)
		switch last := i == len(elems)-1; {
		case !last && !fi.IsDir():
			return fmt.Errorf("archive: %s: %s is a file of the environment, not a folder: %w", path.Join(elems...), path.Join(stored...), ErrInvalid)
		case last && !fi.Mode().IsRegular():
			return fmt.Errorf("archive: %s is a folder or a link in the environment, not a file: %w", path.Join(stored...), ErrInvalid)
		}
	}
	return nil
}
