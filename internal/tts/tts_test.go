package tts

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// needEspeak skips a test when espeak-ng is not installed, unless
// RINGO_INTEROP=require (as in CI), which makes it fail.
func needEspeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(DefaultBinary); err != nil {
		msg := "espeak-ng is not installed (Debian: apt-get install -y --no-install-recommends espeak-ng)"
		if os.Getenv("RINGO_INTEROP") == "require" {
			t.Fatal(msg + "; RINGO_INTEROP=require makes this fatal")
		}
		t.Skip(msg + "; set RINGO_INTEROP=require to fail instead")
	}
}

// speech checks that b is a WAV file of mono 16-bit PCM at rate holding
// audible speech of a plausible length for text: a mix of sound and
// pauses (not silence, not one steady tone), most of its energy in the
// voice band.
func speech(t *testing.T, b []byte, text string, rate int) *wav.Audio {
	t.Helper()
	a, err := wav.Decode(b, wav.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if a.SampleRate != rate || a.Channels != 1 || a.Format != wav.FormatPCM || a.BitsPerSample != 16 {
		t.Fatalf("format %v, want 16-bit mono PCM at %d Hz", a, rate)
	}
	chars := len([]rune(text))
	if min, max := time.Duration(chars)*30*time.Millisecond, time.Duration(chars)*150*time.Millisecond+time.Second; a.Duration() < min || a.Duration() > max {
		t.Errorf("%v for %d characters, want %v to %v", a.Duration(), chars, min, max)
	}
	if l := dsp.LevelDBFS(a.Samples); l < -35 {
		t.Errorf("level %.1f dBFS: too quiet to be speech", l)
	}
	frame := rate / 50
	loud, quiet := 0, 0
	for i := 0; i+frame <= len(a.Samples); i += frame {
		if dsp.LevelDBFS(a.Samples[i:i+frame]) > -40 {
			loud++
		} else {
			quiet++
		}
	}
	if total := loud + quiet; loud < total/3 || quiet == 0 {
		t.Errorf("%d of %d frames loud: speech has both sound and pauses", loud, total)
	}
	// Voiced speech sits around 100-1000 Hz; above 3.4 kHz there is little.
	var voice, high float64
	for f := 150.0; f <= 1000; f += 50 {
		voice += dsp.NewGoertzel(f, rate).Power(a.Samples)
	}
	for f := 3500.0; f < float64(rate)/2-100; f += 50 {
		high += dsp.NewGoertzel(f, rate).Power(a.Samples)
	}
	if voice < 3*high {
		t.Errorf("voice band %.3g, above 3.5 kHz %.3g: not speech-like", voice, high)
	}
	return a
}

func TestSynthesizeSpeech(t *testing.T) {
	needEspeak(t)
	s := New(Config{})
	tests := []struct {
		text, lang string
		rate       int
	}{
		{"Welcome. If you know the extension, dial it now.", "english", 8000},
		{"Please hold while we connect your call.", "", 16000},
		{"Здравствуйте. Оставьте свой номер телефона, и вам перезвонят.", "russian", 8000},
		{"Ваше сообщение отправлено.", "Russian", 16000},
	}
	for _, tc := range tests {
		t.Run(tc.lang+" "+tc.text, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b, err := s.Synthesize(ctx, tc.text, tc.lang, tc.rate)
			if err != nil {
				t.Fatal(err)
			}
			speech(t, b, tc.text, tc.rate)
		})
	}
}

// Longer text takes longer to say, at either rate.
func TestSynthesizeLength(t *testing.T) {
	needEspeak(t)
	ctx := context.Background()
	short, err := Synthesize(ctx, "Goodbye.", "english", 8000)
	if err != nil {
		t.Fatal(err)
	}
	long, err := Synthesize(ctx, "Goodbye. Thank you for calling, and have a very nice day.", "english", 8000)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := wav.Decode(short, wav.Limits{})
	b, _ := wav.Decode(long, wav.Limits{})
	if b.Duration() < 3*a.Duration() {
		t.Fatalf("%v for a long text, %v for a short one", b.Duration(), a.Duration())
	}
}

// fakeEspeak writes a stand-in for espeak-ng: a shell script that records
// its arguments and standard input in dir and answers as espeak-ng does
// on a pipe (sizes 0x7ffff000) with a 22.05 kHz tone, after body.
func fakeEspeak(t *testing.T, body string) (bin, dir string) {
	t.Helper()
	dir = t.TempDir()
	pcm := make([]int16, 22050/2) // 500 ms of 440 Hz
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/22050))
	}
	b, err := wav.Encode(wav.Spec{SampleRate: 22050, Channels: 1}, pcm)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(b[4:8], 0x7ffff024)
	binary.LittleEndian.PutUint32(b[40:44], 0x7ffff000)
	if err := os.WriteFile(filepath.Join(dir, "out.wav"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nd='" + dir + "'\necho \"$@\" > \"$d/args\"\ncat > \"$d/stdin\"\necho x >> \"$d/runs\"\n" + body + "\ncat \"$d/out.wav\"\n"
	bin = filepath.Join(dir, "espeak-ng")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

func runs(t *testing.T, dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, "runs"))
	return strings.Count(string(b), "x")
}

func TestTextGoesInOnStandardInput(t *testing.T) {
	bin, dir := fakeEspeak(t, "")
	text := `-v xx --stdout; rm -rf / $(reboot) "quoted" 'single' ` + "\nЗдравствуйте"
	b, err := New(Config{Binary: bin}).Synthesize(context.Background(), text, "russian", 8000)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := os.ReadFile(filepath.Join(dir, "stdin"))
	if string(in) != strings.TrimSpace(text) {
		t.Errorf("stdin %q", in)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if got := strings.TrimSpace(string(args)); got != "-v ru -s 150 -b 1 -z --stdin --stdout" {
		t.Errorf("arguments %q", got)
	}
	a, err := wav.Decode(b, wav.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// 500 ms at 22.05 kHz becomes 500 ms at 8 kHz, the tone intact.
	if a.SampleRate != 8000 || a.Frames() != 4000 {
		t.Fatalf("%v, %d frames", a, a.Frames())
	}
	mid := a.Samples[1000:3000]
	if p, q := dsp.NewGoertzel(440, 8000).Power(mid), dsp.NewGoertzel(1000, 8000).Power(mid); p < 1000*q {
		t.Errorf("440 Hz power %.3g, 1 kHz %.3g", p, q)
	}
	// No delay: the tone starts at the start, within a few samples.
	if first := firstAbove(a.Samples, 2000); first > 10 {
		t.Errorf("the tone starts at sample %d", first)
	}
}

func firstAbove(x []int16, level int16) int {
	for i, v := range x {
		if v > level || v < -level {
			return i
		}
	}
	return len(x)
}

func TestCache(t *testing.T) {
	bin, dir := fakeEspeak(t, "")
	ctx := context.Background()
	s := New(Config{Binary: bin})
	a, err := s.Synthesize(ctx, "Welcome.", "english", 8000)
	if err != nil {
		t.Fatal(err)
	}
	a[100] ^= 0xFF // the caller's copy is its own
	b, err := s.Synthesize(ctx, "Welcome.", "", 8000)
	if err != nil {
		t.Fatal(err)
	}
	if runs(t, dir) != 1 {
		t.Fatalf("espeak-ng ran %d times for one text", runs(t, dir))
	}
	if a[100] == b[100] {
		t.Fatal("the cached audio was changed through a returned slice")
	}
	for _, again := range []struct{ text, lang string }{{"Welcome.", "english"}, {"Welcome.", "russian"}, {"Goodbye.", "english"}} {
		if _, err := s.Synthesize(ctx, again.text, again.lang, 16000); err != nil {
			t.Fatal(err)
		}
	}
	if runs(t, dir) != 4 {
		t.Fatalf("espeak-ng ran %d times, want once per text, language and rate", runs(t, dir))
	}

	// The bound holds: with room for one entry, the older one goes.
	small := New(Config{Binary: bin, CacheBytes: int64(len(b)) + 200})
	for _, text := range []string{"one", "two", "one"} {
		if _, err := small.Synthesize(ctx, text, "", 8000); err != nil {
			t.Fatal(err)
		}
	}
	if runs(t, dir) != 7 || small.bytes > small.cfg.CacheBytes || small.lru.Len() != 1 {
		t.Fatalf("%d runs, cache %d bytes in %d entries", runs(t, dir), small.bytes, small.lru.Len())
	}
	none := New(Config{Binary: bin, CacheBytes: -1})
	none.Synthesize(ctx, "one", "", 8000)
	none.Synthesize(ctx, "one", "", 8000)
	if runs(t, dir) != 9 {
		t.Fatalf("%d runs without a cache", runs(t, dir))
	}
}

func TestTimeoutKills(t *testing.T) {
	bin, _ := fakeEspeak(t, "exec sleep 30")
	start := time.Now()
	_, err := New(Config{Binary: bin, Timeout: 300 * time.Millisecond}).Synthesize(context.Background(), "x", "", 8000)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not finish within 300ms") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	_, err = New(Config{Binary: bin}).Synthesize(ctx, "x", "", 8000)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cancelling took %v", d)
	}
}

func TestErrors(t *testing.T) {
	failing, _ := fakeEspeak(t, "echo 'no voice' >&2; exit 1")
	garbage, dir := fakeEspeak(t, "")
	os.WriteFile(filepath.Join(dir, "out.wav"), []byte("this is not audio, it is text"), 0o644)
	tests := []struct {
		name             string
		cfg              Config
		text, lang, want string
		rate             int
		is               error
	}{
		{"missing", Config{Binary: filepath.Join(t.TempDir(), "espeak-ng")}, "x", "", "espeak-ng is not installed", 8000, ErrNotInstalled},
		{"fails", Config{Binary: failing}, "x", "", "exit status 1 (no voice)", 8000, nil},
		{"not audio", Config{Binary: garbage}, "x", "", "espeak-ng output", 8000, wav.ErrNotWAV},
		{"no text", Config{Binary: failing}, "  ", "", "no text", 8000, nil},
		{"long text", Config{Binary: failing, MaxText: 5}, "123456", "", "over the limit of 5", 8000, nil},
		{"bad rate", Config{Binary: failing}, "x", "", "sample rate 100", 100, nil},
		{"bad language", Config{Binary: failing}, "x", "Klingon language", "no voice", 8000, nil},
		{"bad UTF-8", Config{Binary: failing}, "\xff", "", "UTF-8", 8000, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg).Synthesize(context.Background(), tc.text, tc.lang, tc.rate)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("%v is not %v", err, tc.is)
			}
		})
	}
}

func TestVoice(t *testing.T) {
	for lang, want := range map[string]string{"": "en", "english": "en", "English": "en", "russian": "ru", " Russian ": "ru",
		"german": "de", "en-us": "en-us", "de": "de"} {
		if got, err := Voice(lang); err != nil || got != want {
			t.Errorf("Voice(%q) = %q, %v; want %q", lang, got, err, want)
		}
	}
	for _, lang := range []string{"-v", "../x", "en us", "x"} {
		if v, err := Voice(lang); err == nil {
			t.Errorf("Voice(%q) = %q, want an error", lang, v)
		}
	}
}

func TestStreamedHeader(t *testing.T) {
	b, _ := wav.Encode(wav.Spec{SampleRate: 22050, Channels: 1}, make([]int16, 10))
	binary.LittleEndian.PutUint32(b[40:44], 0x7ffff000)
	if _, err := wav.Decode(bytes.Clone(b), wav.Limits{}); err == nil {
		t.Fatal("the reader takes espeak-ng's placeholder size")
	}
	a, err := wav.Decode(streamed(b), wav.Limits{})
	if err != nil || a.Frames() != 10 {
		t.Fatalf("%v %v", a, err)
	}
	for _, junk := range [][]byte{nil, []byte("RIFF"), []byte("RIFF\x00\x00\x00\x00WAVEdata")} {
		streamed(junk) // no panic
	}
}
