package stock

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// maxPromptBytes keeps the prompts a small part of the binary.
const maxPromptBytes = 2 << 20

// Every listed prompt is in the root and in each language folder, as the
// 8 kHz µ-law WAV genprompts makes: trimmed, audible, of a length that fits
// its text.
func TestPromptsExist(t *testing.T) {
	fsys := FS()
	var total int
	for _, p := range Prompts() {
		for _, lang := range PromptLanguages() {
			name := path.Join(lang, p.Name+".wav")
			t.Run(name, func(t *testing.T) {
				b, err := fs.ReadFile(fsys, name)
				if err != nil {
					t.Fatalf("%v (make it with go run ./internal/tts/cmd/genprompts)", err)
				}
				total += len(b)
				a, err := wav.Decode(b, wav.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if a.SampleRate != 8000 || a.Channels != 1 || a.Format != wav.FormatMuLaw {
					t.Fatalf("%v, want 8 kHz mono µ-law", a)
				}
				if p.Tone {
					if d := a.Duration(); d < 290*time.Millisecond || d > 310*time.Millisecond {
						t.Errorf("tone of %v, want 300 ms", d)
					}
					mid := a.Samples[400 : len(a.Samples)-400]
					if p1, p2 := dsp.NewGoertzel(1000, 8000).Power(mid), dsp.NewGoertzel(800, 8000).Power(mid); p1 < 1000*p2 {
						t.Errorf("not a 1 kHz tone: %.3g at 1 kHz, %.3g at 800 Hz", p1, p2)
					}
					return
				}
				chars := len([]rune(p.Text(lang)))
				lo, hi := time.Duration(chars)*20*time.Millisecond, time.Duration(chars)*200*time.Millisecond+500*time.Millisecond
				if d := a.Duration(); d < lo || d > hi {
					t.Errorf("%v for %q, want %v to %v", d, p.Text(lang), lo, hi)
				}
				if l := dsp.LevelDBFS(a.Samples); l < -35 {
					t.Errorf("level %.1f dBFS: too quiet", l)
				}
				// Trimmed: sound within 100 ms of either end.
				edge := 800
				if quiet(a.Samples[:edge]) || quiet(a.Samples[len(a.Samples)-edge:]) {
					t.Errorf("more than 100 ms of silence at an end")
				}
			})
		}
	}
	if total > maxPromptBytes {
		t.Errorf("the prompts take %d bytes, over %d", total, maxPromptBytes)
	}
}

// quiet reports whether x holds nothing above −40 dBFS.
func quiet(x []int16) bool {
	for _, v := range x {
		if v > 328 || v < -328 {
			return false
		}
	}
	return true
}

func TestPromptTable(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Prompts() {
		if p.Name == "" || p.Name != strings.ToLower(p.Name) || strings.ContainsAny(p.Name, "./ ") {
			t.Errorf("prompt name %q: want a lower-case file name without extension", p.Name)
		}
		if seen[p.Name] {
			t.Errorf("%s is listed twice", p.Name)
		}
		seen[p.Name] = true
		if !p.Tone && (p.English == "" || p.Russian == "") {
			t.Errorf("%s lacks a text: %+v", p.Name, p)
		}
	}
}

// The stock folders hold no prompt the table does not list, which would
// not be remade when the voice changes.
func TestNoUnlistedPrompts(t *testing.T) {
	listed := map[string]bool{}
	for _, p := range Prompts() {
		listed[p.Name+".wav"] = true
	}
	fsys := FS()
	for _, lang := range PromptLanguages() {
		dir := lang
		if dir == "" {
			dir = "."
		}
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.EqualFold(path.Ext(e.Name()), ".wav") && !listed[strings.ToLower(e.Name())] {
				t.Errorf("%s is not in the prompt table (prompts.go)", path.Join(lang, e.Name()))
			}
		}
	}
}

// Every prompt a built-in program plays by a literal name is listed.
func TestProgramsPlayListedPrompts(t *testing.T) {
	listed := map[string]bool{}
	for _, p := range Prompts() {
		listed[p.Name] = true
	}
	play := regexp.MustCompile(`(?i)PlayFile\(\s*"([^"]+)"\s*[,)]`)
	programs, err := fs.Glob(FS(), "*.sppr")
	if err != nil {
		t.Fatal(err)
	}
	for _, prog := range programs {
		src, err := fs.ReadFile(FS(), prog)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range play.FindAllSubmatch(src, -1) {
			if name := strings.ToLower(strings.TrimSuffix(string(m[1]), ".wav")); !listed[name] {
				t.Errorf("%s plays %q, which is not a stock prompt", prog, m[1])
			}
		}
	}
}
