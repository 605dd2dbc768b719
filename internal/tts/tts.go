// Package tts turns text into telephone audio with espeak-ng, the speech
// synthesiser Debian ships (package espeak-ng). It is small, runs offline
// and speaks Russian as well as English, which is what the stock prompts
// and programs that read text to callers need.
//
// espeak-ng runs as a child process per text: the text goes in on its
// standard input (never through a shell or the argument list, where a
// leading dash would be an option), WAV comes out on its standard output,
// and the process is killed when the context ends or the timeout passes.
// Its 22.05 kHz output is resampled with the media DSP code to the rate a
// call wants.
package tts

import (
	"bytes"
	"container/list"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// ErrNotInstalled means the espeak-ng program was not found.
var ErrNotInstalled = errors.New("tts: espeak-ng is not installed (Debian: apt-get install espeak-ng)")

// Defaults of Config.
const (
	DefaultBinary     = "espeak-ng"
	DefaultTimeout    = 20 * time.Second
	DefaultSpeed      = 150 // words per minute; espeak-ng's own 175 is hurried on a phone
	DefaultCacheBytes = 16 << 20
	DefaultMaxText    = 4000
)

// Config sets a Synthesizer up.
type Config struct {
	// Binary is the espeak-ng program, a path or a name looked up in PATH
	// (DefaultBinary when empty).
	Binary string
	// Timeout bounds one synthesis (DefaultTimeout when 0).
	Timeout time.Duration
	// Speed is in words per minute (DefaultSpeed when 0).
	Speed int
	// CacheBytes bounds the audio kept for repeated texts
	// (DefaultCacheBytes when 0; negative keeps none).
	CacheBytes int64
	// MaxText bounds the text, in characters (DefaultMaxText when 0).
	MaxText int
	// MaxProcs bounds the espeak-ng processes running at once (2 when 0).
	MaxProcs int
}

// Synthesizer speaks texts, keeping recent results. It is safe for
// concurrent use.
type Synthesizer struct {
	cfg   Config
	procs chan struct{}

	mu    sync.Mutex
	lru   *list.List // of *entry, most recent first
	byKey map[key]*list.Element
	bytes int64
}

type key struct {
	text, voice string
	rate        int
}

type entry struct {
	k   key
	wav []byte
}

// New returns a Synthesizer with cfg's defaults filled in.
func New(cfg Config) *Synthesizer {
	if cfg.Binary == "" {
		cfg.Binary = DefaultBinary
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Speed <= 0 {
		cfg.Speed = DefaultSpeed
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.MaxText <= 0 {
		cfg.MaxText = DefaultMaxText
	}
	if cfg.MaxProcs <= 0 {
		cfg.MaxProcs = 2
	}
	return &Synthesizer{cfg: cfg, procs: make(chan struct{}, cfg.MaxProcs), lru: list.New(), byKey: map[key]*list.Element{}}
}

// Synthesize speaks text with a fresh Synthesizer's defaults and no cache.
func Synthesize(ctx context.Context, text, lang string, rate int) ([]byte, error) {
	return New(Config{CacheBytes: -1}).Synthesize(ctx, text, lang, rate)
}

var voiceName = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{1,8})*$`)

// Voice is the espeak-ng voice for a language: a CommuniGate language
// name ("english", "russian", the empty default) or an espeak-ng voice
// such as "de" or "en-us".
func Voice(lang string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(lang))
	switch l {
	case "", "english", "default":
		return "en", nil
	case "russian":
		return "ru", nil
	case "ukrainian":
		return "uk", nil
	case "german":
		return "de", nil
	case "french":
		return "fr", nil
	case "spanish":
		return "es", nil
	case "italian":
		return "it", nil
	case "portuguese":
		return "pt", nil
	case "dutch":
		return "nl", nil
	case "polish":
		return "pl", nil
	}
	if voiceName.MatchString(l) {
		return l, nil
	}
	return "", fmt.Errorf("tts: no voice for the language %q", lang)
}

// Synthesize returns text spoken in lang as a WAV file of 16-bit mono PCM
// at rate Hz (8000 and 16000 are the telephone rates).
func (s *Synthesizer) Synthesize(ctx context.Context, text, lang string, rate int) ([]byte, error) {
	voice, err := Voice(lang)
	if err != nil {
		return nil, err
	}
	if rate < 8000 || rate > 48000 {
		return nil, fmt.Errorf("tts: sample rate %d Hz: want 8000 to 48000", rate)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("tts: no text")
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("tts: the text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(text); n > s.cfg.MaxText {
		return nil, fmt.Errorf("tts: text of %d characters, over the limit of %d", n, s.cfg.MaxText)
	}
	k := key{text, voice, rate}
	if b, ok := s.cached(k); ok {
		return b, nil
	}
	pcm, inRate, err := s.speak(ctx, text, voice)
	if err != nil {
		return nil, err
	}
	out, err := resample(pcm, inRate, rate)
	if err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	b, err := wav.Encode(wav.Spec{SampleRate: rate, Channels: 1}, out)
	if err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	s.store(k, b)
	return bytes.Clone(b), nil
}

// speak runs espeak-ng on text and returns its audio.
func (s *Synthesizer) speak(ctx context.Context, text, voice string) ([]int16, int, error) {
	bin, err := exec.LookPath(s.cfg.Binary)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	select {
	case s.procs <- struct{}{}:
		defer func() { <-s.procs }()
	case <-ctx.Done():
		return nil, 0, fmt.Errorf("tts: waiting for espeak-ng: %w", ctx.Err())
	}
	// -b 1: the text is UTF-8; -z: no pause after the last sentence;
	// --stdin: read the whole text before speaking, as one utterance.
	cmd := exec.CommandContext(ctx, bin, "-v", voice, "-s", strconv.Itoa(s.cfg.Speed), "-b", "1", "-z", "--stdin", "--stdout")
	cmd.Stdin = strings.NewReader(text)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &limited{w: &stderr, n: 4096}
	cmd.WaitDelay = time.Second // a killed espeak-ng's pipes are not waited for longer
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, 0, fmt.Errorf("tts: espeak-ng did not finish within %v: %w", s.cfg.Timeout, ctx.Err())
			}
			return nil, 0, fmt.Errorf("tts: espeak-ng: %w", ctx.Err())
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no message"
		}
		return nil, 0, fmt.Errorf("tts: espeak-ng -v %s: %w (%s)", voice, err, msg)
	}
	a, err := wav.Decode(streamed(stdout.Bytes()), wav.Limits{})
	if err != nil {
		return nil, 0, fmt.Errorf("tts: espeak-ng output: %w", err)
	}
	if a.Frames() == 0 {
		return nil, 0, errors.New("tts: espeak-ng produced no audio")
	}
	return a.Mono(), a.SampleRate, nil
}

// streamed marks the data chunk's size unknown. espeak-ng writing to a pipe
// cannot go back to fill the sizes in, and leaves 0x7ffff000 there, which
// the reader would take for a truncated file of 2 GiB.
func streamed(b []byte) []byte {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return b
	}
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		if id == "data" {
			binary.LittleEndian.PutUint32(b[p+4:p+8], 0xFFFFFFFF)
			return b
		}
		if size < 0 || size > len(b) {
			return b
		}
		p += 8 + size + size&1
	}
	return b
}

// resample converts mono PCM to outRate, compensating the filter's delay
// so that the result lines up with the input and has its length.
func resample(pcm []int16, inRate, outRate int) ([]int16, error) {
	if inRate == outRate {
		return pcm, nil
	}
	r, err := dsp.NewResampler(inRate, outRate)
	if err != nil {
		return nil, err
	}
	delay := int(r.Delay() + 0.5)
	want := int(int64(len(pcm)) * int64(outRate) / int64(inRate))
	// Zeros after the end flush the filter's tail out.
	in := make([]int16, len(pcm)+(delay+1)*inRate/outRate+64)
	copy(in, pcm)
	out := make([]int16, r.OutLen(len(in)))
	n, err := r.Process(out, in)
	if err != nil {
		return nil, err
	}
	out = out[:n]
	if delay+want > len(out) {
		want = len(out) - delay
	}
	return out[delay : delay+want], nil
}

func (s *Synthesizer) cached(k key) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byKey[k]
	if !ok {
		return nil, false
	}
	s.lru.MoveToFront(el)
	return bytes.Clone(el.Value.(*entry).wav), true
}

func (s *Synthesizer) store(k key, b []byte) {
	size := entrySize(k, b)
	if s.cfg.CacheBytes < 0 || size > s.cfg.CacheBytes {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byKey[k]; ok {
		return // stored meanwhile by a concurrent call for the same text
	}
	s.byKey[k] = s.lru.PushFront(&entry{k: k, wav: b})
	s.bytes += size
	for s.bytes > s.cfg.CacheBytes {
		old := s.lru.Back()
		e := old.Value.(*entry)
		s.lru.Remove(old)
		delete(s.byKey, e.k)
		s.bytes -= entrySize(e.k, e.wav)
	}
}

func entrySize(k key, b []byte) int64 { return int64(len(b) + len(k.text) + len(k.voice) + 64) }

// limited keeps the first n bytes written to w and drops the rest.
type limited struct {
	w *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
