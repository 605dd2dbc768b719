package envir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// paths lists the paths of a layer's files.
func paths(t *testing.T, s *Store, domain, lang string) []string {
	t.Helper()
	es, err := s.List(domain, lang)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range es {
		out = append(out, e.Path)
	}
	return out
}

// hiddenLeft lists the hidden files and folders under the store's
// directory (temporary files left behind).
func hiddenLeft(t *testing.T, s *Store) []string {
	t.Helper()
	var left []string
	filepath.WalkDir(s.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && p != s.Dir() {
			left = append(left, p)
		}
		return nil
	})
	return left
}

func TestPutGetRemoveList(t *testing.T) {
	s := newStore(t, nil)
	steps := []struct {
		name string
		do   func() error
		err  error
	}{
		{"put", func() error { return s.Put("", "", "Welcome.wav", []byte("one")) }, nil},
		{"put in a language", func() error { return s.Put("", "russian", "Welcome.wav", []byte("ru")) }, nil},
		{"put in a folder", func() error { return s.Put("", "", "apps/util.sppr", []byte("u")) }, nil},
		{"replace in another case", func() error { return s.Put("", "", "WELCOME.wav", []byte("two")) }, nil},
		{"reuse a folder in another case", func() error { return s.Put("", "", "Apps/Main.sppr", []byte("m")) }, nil},
		{"language twice", func() error { return s.Put("", "russian", "Russian/x.wav", nil) }, ErrInvalid},
		{"file as a folder", func() error { return s.Put("", "", "WELCOME.wav/x", nil) }, ErrInvalid},
		{"folder as a file", func() error { return s.Put("", "", "apps", nil) }, ErrInvalid},
		{"bad name", func() error { return s.Put("", "", "../x.wav", nil) }, ErrInvalid},
		{"bad language", func() error { return s.Put("", "ru/x", "x.wav", nil) }, ErrInvalid},
		{"bad domain", func() error { return s.Put("a b", "", "x.wav", nil) }, ErrInvalid},
		{"too large", func() error { return s.Put("", "", "big.wav", make([]byte, MaxFileSize+1)) }, ErrTooLarge},
		{"domain", func() error { return s.Put("Example.COM", "", "Menu.wav", []byte("menu")) }, nil},
	}
	for _, st := range steps {
		if err := st.do(); !errors.Is(err, st.err) || (err == nil) != (st.err == nil) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.err)
		}
	}
	if got, want := paths(t, s, "", ""), []string{"WELCOME.wav", "apps/Main.sppr", "apps/util.sppr", "russian/Welcome.wav"}; !slices.Equal(got, want) {
		t.Errorf("server files %v, want %v", got, want)
	}
	if got, want := paths(t, s, "", "Russian"), []string{"russian/Welcome.wav"}; !slices.Equal(got, want) {
		t.Errorf("russian files %v, want %v", got, want)
	}
	if got := paths(t, s, "", "french"); len(got) != 0 {
		t.Errorf("french files %v", got)
	}
	if got, want := paths(t, s, "example.com", ""), []string{"Menu.wav"}; !slices.Equal(got, want) {
		t.Errorf("domain files %v, want %v", got, want)
	}
	if got := paths(t, s, "other.test", ""); len(got) != 0 {
		t.Errorf("files of a domain without any: %v", got)
	}
	if left := hiddenLeft(t, s); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}

	// Get looks in one folder of one layer only.
	if f, err := s.Get("", "", "welcome.WAV"); err != nil || f.Path != "WELCOME.wav" || f.Layer != LayerServer {
		t.Errorf("Get: %+v, %v", f, err)
	} else if b, _ := f.Read(); string(b) != "two" {
		t.Errorf("Get: content %q", b)
	}
	if _, err := s.Get("example.com", "", "Welcome.wav"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of the server's file in a domain: %v", err)
	}
	if _, err := s.Get("", "russian", "apps/util.sppr"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of a root file in a language: %v", err)
	}

	if err := s.Remove("", "", "apps/UTIL.sppr"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("", "", "apps/util.sppr"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removing twice: %v", err)
	}
	if err := s.Remove("", "", "apps/main.sppr"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "server", "apps")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an emptied folder is left: %v", err)
	}
	if err := s.Remove("", "", "RUSSIAN"); err != nil { // a folder, with its files
		t.Fatal(err)
	}
	if got, want := paths(t, s, "", ""), []string{"WELCOME.wav"}; !slices.Equal(got, want) {
		t.Errorf("after removing: %v, want %v", got, want)
	}
	if err := s.RemoveDomain("example.com"); err != nil {
		t.Fatal(err)
	}
	if got := paths(t, s, "example.com", ""); len(got) != 0 {
		t.Errorf("files of a removed domain: %v", got)
	}
	if left := hiddenLeft(t, s); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
