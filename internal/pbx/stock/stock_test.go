package stock

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// The stock environment holds environment files only, never the package's
// own, and is a well-behaved file system (listings agree with Open).
func TestFS(t *testing.T) {
	fsys := FS()
	var want []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			want = append(want, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want {
		if strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".md") {
			t.Errorf("%s is in the stock environment", p)
		}
	}
	for _, p := range []string{"README.md", "stock.go", "stock_test.go"} {
		if _, err := fs.Stat(fsys, p); err == nil {
			t.Errorf("%s is visible", p)
		}
	}
	if err := fstest.TestFS(fsys, want...); err != nil {
		t.Fatal(err)
	}
}

func TestHidden(t *testing.T) {
	for name, want := range map[string]bool{
		".":                   false,
		"pbx.sppr":            false,
		"Welcome.wav":         false,
		"russian":             false,
		"russian/Welcome.wav": false,
		"russian/notes.md":    false,
		"README.md":           true,
		"stock.go":            true,
		"stock_test.go":       true,
		"testdata":            true,
		".DS_Store":           true,
		"russian/.keep":       true,
		"_drafts/x.sppr":      true,
		"russian/_old/x.wav":  true,
	} {
		if got := hidden(name); got != want {
			t.Errorf("hidden(%q) = %v, want %v", name, got, want)
		}
	}
}
