// Command genprompts makes the stock prompts: it speaks every prompt of
// internal/pbx/stock's table (stock.Prompts) with espeak-ng, in English
// into internal/pbx/stock/NAME.wav and in Russian into
// internal/pbx/stock/russian/NAME.wav, as 8 kHz mono µ-law WAV trimmed of
// leading and trailing silence and brought to one loudness. The beep is a
// 1 kHz tone of 300 ms. The files are committed: the binary embeds them
// and neither building nor testing needs espeak-ng.
//
// Run it from the repository root after changing a prompt's text:
//
//	go run ./internal/tts/cmd/genprompts            # every prompt
//	go run ./internal/tts/cmd/genprompts -only welcome,goodbye
//
// A file whose content comes out the same is not rewritten.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
	"github.com/ringo-pbx/ringo/internal/pbx/stock"
	"github.com/ringo-pbx/ringo/internal/tts"
)

// Prompts are for the telephone: 8 kHz µ-law is what G.711 calls carry,
// and half the size of 16-bit PCM.
const rate = 8000

func main() {
	dir := flag.String("dir", filepath.Join("internal", "pbx", "stock"), "the stock environment's directory")
	only := flag.String("only", "", "comma-separated prompt names to make (default: all)")
	flag.Parse()
	if err := run(context.Background(), *dir, *only, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "genprompts:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, only string, out io.Writer) error {
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	known := map[string]bool{}
	for _, p := range stock.Prompts() {
		known[p.Name] = true
	}
	for n := range want {
		if !known[n] {
			return fmt.Errorf("no stock prompt is named %q", n)
		}
	}
	synth := tts.New(tts.Config{CacheBytes: -1, Timeout: time.Minute})
	var total int64
	for _, p := range stock.Prompts() {
		if len(want) > 0 && !want[p.Name] {
			continue
		}
		for _, lang := range stock.PromptLanguages() {
			pcm, err := render(ctx, synth, p, lang)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", p.Name, langName(lang), err)
			}
			b, err := wav.Encode(wav.Spec{SampleRate: rate, Channels: 1, Format: wav.FormatMuLaw}, pcm)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", p.Name, langName(lang), err)
			}
			path := filepath.Join(dir, lang, p.Name+".wav")
			changed, err := writeIfChanged(path, b)
			if err != nil {
				return err
			}
			mark := ""
			if changed {
				mark = " (written)"
			}
			total += int64(len(b))
			fmt.Fprintf(out, "%-40s %5.2fs %7d bytes%s\n", path, float64(len(pcm))/rate, len(b), mark)
		}
	}
	fmt.Fprintf(out, "total %d bytes\n", total)
	return nil
}

func langName(lang string) string {
	if lang == "" {
		return "english"
	}
	return lang
}

// render is a prompt's audio at rate.
func render(ctx context.Context, synth *tts.Synthesizer, p stock.Prompt, lang string) ([]int16, error) {
	if p.Tone {
		return beep()
	}
	text := p.Text(lang)
	if text == "" {
		return nil, errors.New("no text")
	}
	b, err := synth.Synthesize(ctx, text, langName(lang), rate)
	if err != nil {
		return nil, err
	}
	a, err := wav.Decode(b, wav.Limits{})
	if err != nil {
		return nil, err
	}
	pcm := level(trim(a.Mono(), rate))
	if len(pcm) == 0 {
		return nil, errors.New("espeak-ng produced silence")
	}
	return pcm, nil
}

// beep is a 1 kHz tone of 300 ms at −12 dBm0, ramped at both ends (a
// cadence gives the ramp down) so it starts and stops without a click.
func beep() ([]int16, error) {
	g, err := dsp.NewToneGenerator(dsp.Tone{Freqs: [2]float64{1000}, Levels: [2]float64{-12},
		Cadence: []time.Duration{300 * time.Millisecond, 100 * time.Millisecond}}, rate)
	if err != nil {
		return nil, err
	}
	pcm := make([]int16, rate*300/1000)
	g.Generate(pcm)
	return pcm, nil
}

// trim cuts the silence before and after the speech, keeping a margin so
// that soft first and last sounds stay whole, and fades the ends in and
// out over a few milliseconds.
func trim(pcm []int16, rate int) []int16 {
	var peak int
	for _, v := range pcm {
		peak = max(peak, abs(int(v)))
	}
	if peak == 0 {
		return nil
	}
	floor := peak / 100 // −40 dB below the peak
	first, last := -1, -1
	for i, v := range pcm {
		if abs(int(v)) > floor {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	margin := rate * 30 / 1000
	out := append([]int16(nil), pcm[max(0, first-margin):min(len(pcm), last+margin+1)]...)
	fade := min(rate*5/1000, len(out)/2)
	for i := 0; i < fade; i++ {
		g := float64(i) / float64(fade)
		out[i] = int16(float64(out[i]) * g)
		out[len(out)-1-i] = int16(float64(out[len(out)-1-i]) * g)
	}
	return out
}

// Every prompt is brought to the same speech level, −20 dBFS over its
// voiced stretches, as long as its peaks stay below −1 dBFS.
const (
	targetDBFS = -20.0
	peakDBFS   = -1.0
)

func level(pcm []int16) []int16 {
	frame := rate / 50
	var sum float64
	var n int
	var peak int
	for i := 0; i+frame <= len(pcm); i += frame {
		f := pcm[i : i+frame]
		if dsp.LevelDBFS(f) > -45 {
			sum += dsp.MeanSquare(f) * float64(len(f))
			n += len(f)
		}
	}
	for _, v := range pcm {
		peak = max(peak, abs(int(v)))
	}
	if n == 0 || peak == 0 {
		return pcm
	}
	current := 10 * math.Log10(sum/float64(n)/(32768*32768))
	gain := math.Pow(10, (targetDBFS-current)/20)
	gain = min(gain, 32768*math.Pow(10, peakDBFS/20)/float64(peak))
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = int16(math.Round(float64(v) * gain))
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// writeIfChanged writes b to path unless the file already holds it, so a
// run that changes nothing leaves the tree clean.
func writeIfChanged(path string, b []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return false, err
	}
	return true, nil
}
