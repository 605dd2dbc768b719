package envir

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// entry is an archive entry: a file unless typ says otherwise.
type entry struct {
	name string
	typ  byte
	body string
	link string
	size int64 // header size when no body is written (0: len(body))
}

func file(name, body string) entry { return entry{name: name, typ: tar.TypeReg, body: body} }
func folder(name string) entry     { return entry{name: name, typ: tar.TypeDir} }

// archive builds a tar archive. An entry with size but no body ends it:
// its header is written and nothing else.
func archive(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.body)), Format: tar.FormatPAX}
		if e.typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if e.size > 0 {
			hdr.Size = e.size
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestPutTar(t *testing.T) {
	pack := archive(t,
		folder("./"),
		file("./Welcome.wav", "welcome"),
		folder("./russian/"),
		file("./russian/Welcome.wav", "добро пожаловать"),
		file("./russian/._Welcome.wav", "macOS metadata"),
		file(".DS_Store", "macOS metadata"),
		folder("apps"),
		file("apps/util.sppr", "old"),
		file("apps/Util.sppr", "new"), // a later entry replaces an earlier one
	)
	s := newStore(t, map[string][]string{"": {"Welcome.wav", "Other.wav"}})
	names, err := s.PutTar("", "", bytes.NewReader(pack))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Welcome.wav", "apps/Util.sppr", "russian/Welcome.wav"}; !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if got, want := paths(t, s, "", ""), []string{"Other.wav", "Welcome.wav", "apps/Util.sppr", "russian/Welcome.wav"}; !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	for name, want := range map[string]string{"Welcome.wav": "welcome", "russian/welcome.wav": "добро пожаловать", "apps/util.sppr": "new"} {
		if f, err := s.Get("", "", name); err != nil {
			t.Error(err)
		} else if b, _ := f.Read(); string(b) != want {
			t.Errorf("%s: %q, want %q", name, b, want)
		}
	}

	// Into a domain's language folder, compressed.
	names, err = s.PutTar("example.com", "russian", bytes.NewReader(gzipped(archive(t, file("a.wav", "a"), file("sub/b.wav", "b")))))
	if want := []string{"russian/a.wav", "russian/sub/b.wav"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("language pack: %v, %v; want %v", names, err, want)
	}
	if left := hiddenLeft(t, s); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestPutTarRefused(t *testing.T) {
	good := file("good.wav", "good")
	many := []entry{good}
	for i := range 10 {
		many = append(many, folder(fmt.Sprintf("d%d/", i)))
	}
	tests := []struct {
		name    string
		domain  string
		lang    string
		archive []byte
		err     error
	}{
		{"traversal", "", "", archive(t, good, file("../escape.wav", "x")), ErrInvalid},
		{"traversal inside", "", "", archive(t, good, file("russian/../../escape.wav", "x")), ErrInvalid},
		{"absolute", "", "", archive(t, good, file("/etc/cron.d/x", "x")), ErrInvalid},
		{"backslash", "", "", archive(t, good, file(`..\escape.wav`, "x")), ErrInvalid},
		{"hidden", "", "", archive(t, good, file(".profile", "x")), ErrInvalid},
		{"symbolic link", "", "", archive(t, good, entry{name: "link.wav", typ: tar.TypeSymlink, link: "/etc/passwd"}), ErrInvalid},
		{"hard link", "", "", archive(t, good, entry{name: "link.wav", typ: tar.TypeLink, link: "good.wav"}), ErrInvalid},
		{"device", "", "", archive(t, good, entry{name: "dev", typ: tar.TypeChar}), ErrInvalid},
		{"fifo", "", "", archive(t, good, entry{name: "fifo", typ: tar.TypeFifo}), ErrInvalid},
		{"oversize", "", "", archive(t, good, entry{name: "big.wav", typ: tar.TypeReg, size: 1 << 40}), ErrTooLarge},
		{"oversize folder", "", "", archive(t, good, entry{name: "d/", typ: tar.TypeDir, size: 1 << 40}), ErrTooLarge},
		{"too much in all", "", "", archive(t, good, file("a.wav", strings.Repeat("a", 600)), file("b.wav", strings.Repeat("b", 600))), ErrTooLarge},
		{"too many entries", "", "", archive(t, many...), ErrTooLarge},
		{"file and folder", "", "", archive(t, good, file("x", "x"), file("X/y.wav", "y")), ErrInvalid},
		{"over an existing file", "", "", archive(t, good, file("Existing.wav/x.wav", "x")), ErrInvalid},
		{"over an existing folder", "", "", archive(t, good, file("russian", "x")), ErrInvalid},
		{"language twice", "", "russian", archive(t, good, file("russian/x.wav", "x")), ErrInvalid},
		{"no files", "", "", archive(t, folder("d/")), ErrInvalid},
		{"not an archive", "", "", []byte("RIFF....WAVEfmt not a tar at all, but longer than a block? no"), ErrInvalid},
		{"truncated", "", "", archive(t, good, file("long.wav", strings.Repeat("x", 800)))[:2*512+512+100], ErrInvalid},
		{"bad gzip", "", "", []byte{0x1f, 0x8b, 0, 0}, ErrInvalid},
		{"bad domain", "../x", "", archive(t, good), ErrInvalid},
		{"bad language", "", "x/y", archive(t, good), ErrInvalid},
		{"domain", "example.com", "", archive(t, good, file("../x", "x")), ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, map[string][]string{"": {"Existing.wav", "russian/Welcome.wav"}})
			s.lim = limits{file: 1 << 20, tar: 1000, entries: 10}
			before := paths(t, s, "", "")
			names, err := s.PutTar(tc.domain, tc.lang, bytes.NewReader(tc.archive))
			if !errors.Is(err, tc.err) {
				t.Fatalf("PutTar: %v, %v; want %v", names, err, tc.err)
			}
			t.Log(err)
			if got := paths(t, s, "", ""); !slices.Equal(got, before) {
				t.Errorf("server files %v, want %v", got, before)
			}
			if got := paths(t, s, "", "russian"); len(got) != 1 {
				t.Errorf("russian files %v", got)
			}
			if ents, _ := os.ReadDir(filepath.Join(s.Dir(), "domains")); len(ents) > 0 {
				t.Errorf("domain folders made: %v", ents)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(s.Dir()), "escape.wav")); err == nil {
				t.Error("a file was written outside")
			}
			if left := hiddenLeft(t, s); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
