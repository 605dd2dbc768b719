package envir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// testStock is a stock environment: each file's content names it.
func testStock() fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, p := range []string{"Welcome.wav", "russian/Welcome.wav", "russian/Stock.wav", "Beep.wav", "Menu.wav"} {
		fsys[p] = &fstest.MapFile{Data: []byte("stock/" + p), Mode: 0o444}
	}
	return fsys
}

// newStore opens a store in a temporary directory over testStock, with the
// given files of each layer ("" is the server's), each holding its name.
func newStore(t *testing.T, files map[string][]string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "environments"), testStock())
	if err != nil {
		t.Fatal(err)
	}
	for dom, names := range files {
		for _, n := range names {
			where := "server"
			if dom != "" {
				where = dom
			}
			if err := s.Put(dom, "", n, []byte(where+"/"+n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

func TestResolve(t *testing.T) {
	s := newStore(t, map[string][]string{
		"":            {"Welcome.wav", "russian/Menu.wav", "notes", "notes.wav", "Data.txt"},
		"example.com": {"Menu.wav", "russian/Own.wav", "Own.wav", "Sub/Deep/File.txt"},
	})
	// A symbolic link put behind the store's back is not followed.
	if err := os.Symlink("/etc/passwd", filepath.Join(s.Dir(), "server", "Link.wav")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		domain, lang, file   string
		layer, path, content string
		err                  error
	}{
		{"server root before stock language", "example.com", "russian", "Welcome", LayerServer, "Welcome.wav", "server/Welcome.wav", nil},
		{"domain root before server language", "example.com", "russian", "menu", LayerDomain, "Menu.wav", "example.com/Menu.wav", nil},
		{"domain language before domain root", "example.com", "russian", "own.wav", LayerDomain, "russian/Own.wav", "example.com/russian/Own.wav", nil},
		{"domain root in English", "example.com", "", "Own", LayerDomain, "Own.wav", "example.com/Own.wav", nil},
		{"server language", "", "russian", "MENU", LayerServer, "russian/Menu.wav", "server/russian/Menu.wav", nil},
		{"another domain sees the server", "other.test", "russian", "Menu", LayerServer, "russian/Menu.wav", "server/russian/Menu.wav", nil},
		{"stock language", "example.com", "russian", "stock", LayerStock, "russian/Stock.wav", "stock/russian/Stock.wav", nil},
		{"stock root", "example.com", "russian", "beep", LayerStock, "Beep.wav", "stock/Beep.wav", nil},
		{"no such language folder", "", "french", "Welcome", LayerServer, "Welcome.wav", "server/Welcome.wav", nil},
		{"language in upper case", "", "RUSSIAN", "menu", LayerServer, "russian/Menu.wav", "server/russian/Menu.wav", nil},
		{"case-insensitive folders", "EXAMPLE.com", "", "sub/DEEP/file.TXT", LayerDomain, "Sub/Deep/File.txt", "example.com/Sub/Deep/File.txt", nil},
		{"name as given before .wav", "", "", "NOTES", LayerServer, "notes", "server/notes", nil},
		{"extension given: no .wav", "", "", "Data", "", "", "", fs.ErrNotExist},
		{"language folder in the name", "", "", "russian/menu", LayerServer, "russian/Menu.wav", "server/russian/Menu.wav", nil},
		{"symbolic link", "", "", "Link.wav", "", "", "", fs.ErrNotExist},
		{"missing", "example.com", "russian", "nothing.wav", "", "", "", fs.ErrNotExist},
		{"a file is not a folder", "", "", "Data.txt/x", "", "", "", fs.ErrNotExist},
		{"empty", "", "", "", "", "", "", ErrInvalid},
		{"absolute", "", "", "/etc/passwd", "", "", "", ErrInvalid},
		{"parent", "", "", "../admin.token", "", "", "", ErrInvalid},
		{"parent inside", "", "", "russian/../../x", "", "", "", ErrInvalid},
		{"dot", "", "", "./Welcome.wav", "", "", "", ErrInvalid},
		{"hidden", "", "", ".put-1", "", "", "", ErrInvalid},
		{"backslash", "", "", `russian\Menu.wav`, "", "", "", ErrInvalid},
		{"empty element", "", "", "russian//Menu.wav", "", "", "", ErrInvalid},
		{"trailing slash", "", "", "russian/", "", "", "", ErrInvalid},
		{"control character", "", "", "a\nb", "", "", "", ErrInvalid},
		{"bad language", "", "../server", "Welcome", "", "", "", ErrInvalid},
		{"bad domain", "../server", "", "Welcome", "", "", "", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := s.Resolve(tc.domain, tc.lang, tc.file)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Resolve(%q, %q, %q) = %+v, %v; want %v", tc.domain, tc.lang, tc.file, f, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q, %q, %q): %v", tc.domain, tc.lang, tc.file, err)
			}
			if f.Layer != tc.layer || f.Path != tc.path {
				t.Errorf("found %s %s, want %s %s", f.Layer, f.Path, tc.layer, tc.path)
			}
			data, err := f.Read()
			if err != nil || string(data) != tc.content {
				t.Errorf("content %q, %v; want %q", data, err, tc.content)
			}
			if (f.DiskPath == "") != (tc.layer == LayerStock) || f.Size != int64(len(tc.content)) {
				t.Errorf("DiskPath %q, Size %d", f.DiskPath, f.Size)
			}
		})
	}
}

// Without a stock environment, the store serves the server's and the
// domains' files.
func TestResolveWithoutStock(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve("example.com", "russian", "Welcome"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
	if err := s.Put("", "russian", "Welcome.wav", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if f, err := s.Resolve("example.com", "russian", "Welcome"); err != nil || f.Path != "russian/Welcome.wav" {
		t.Fatalf("got %+v, %v", f, err)
	}
}
