package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/store/sqlite"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden transcripts in testdata/sim")

// The stories of the example company, simulated: what each call meets,
// plays, reads and sends, compared with golden transcripts.
func TestSimStories(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := readDoc(filepath.Join("..", "..", "docs", "examples", "specialists.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Apply(ctx, doc); err != nil {
		t.Fatal(err)
	}
	st.Close()

	const (
		monday11 = "2026-11-23T11:00:00+03:00" // Ivanov at work
		monday20 = "2026-11-23T20:00:00+03:00" // after hours
	)
	stories := []struct {
		name string
		args []string
	}{
		{"menu-to-ivanov", []string{"--to", "200@specialists.example", "--dtmf", "1", "--at", monday11}},
		{"menu-extension", []string{"--to", "200@specialists.example", "--dtmf", "202", "--at", monday11}},
		{"menu-after-hours-callback", []string{"--to", "200@specialists.example", "--dtmf", "15551234#", "--at", monday20}},
		{"callback-mail-fails", []string{"--to", "201@specialists.example", "--dtmf", "5551234#", "--at", monday20, "--mail-fails"}},
		{"callback-hang-up", []string{"--to", "201@specialists.example", "--at", monday20}},
		{"ivanov-unregistered", []string{"--to", "ivanov@specialists.example", "--at", monday11, "--unregistered", "ivanov@specialists.example"}},
	}
	for _, s := range stories {
		t.Run(s.name, func(t *testing.T) {
			args := append([]string{"sim", "--data", data, "--from", "petrov@specialists.example"}, s.args...)
			out, code := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("ringo sim exited %d:\n%s", code, out)
			}
			golden := filepath.Join("testdata", "sim", s.name+".txt")
			if *updateGolden {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if out != string(want) {
				t.Errorf("transcript differs from %s:\n--- got\n%s--- want\n%s", golden, out, want)
			}
		})
	}
}
