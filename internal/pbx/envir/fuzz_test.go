package envir

import (
	"path/filepath"
	"strings"
	"testing"
)

// An archive entry name that tarName accepts is a local path of plain
// elements, whatever the input.
func FuzzTarName(f *testing.F) {
	for _, s := range []string{"a.wav", "./russian/a.wav", "russian/", "../x", "/etc/passwd", `a\b`, "a/./b", ".//x",
		"./", "._x", "d/._x", "../._x", "a//b", "a/b/", "...", "x\x00y", "\xff", strings.Repeat("a/", 20) + "b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		rel, skip, err := tarName(name)
		if err != nil || skip {
			if rel != "" {
				t.Fatalf("tarName(%q) = %q with skip %v, err %v", name, rel, skip, err)
			}
			return
		}
		if !filepath.IsLocal(rel) || strings.ContainsAny(rel, "\\\x00") || strings.HasPrefix(rel, "/") {
			t.Fatalf("tarName(%q) = %q: not a local path", name, rel)
		}
		for _, e := range strings.Split(rel, "/") {
			if e == "" || e == "." || e == ".." || strings.HasPrefix(e, ".") {
				t.Fatalf("tarName(%q) = %q: element %q", name, rel, e)
			}
		}
		if err := CheckName(rel); err != nil {
			t.Fatalf("tarName(%q) = %q, which CheckName refuses: %v", name, rel, err)
		}
	})
}
