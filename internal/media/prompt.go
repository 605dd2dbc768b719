package media

import (
	"container/list"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// Prompt is a decoded prompt: mono PCM at one sample rate. It is shared
// read-only by every player that plays it.
type Prompt struct {
	Name    string
	Rate    int
	Samples []int16
}

// Duration is the prompt's playing time.
func (p *Prompt) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(int64(len(p.Samples)) * int64(time.Second) / int64(p.Rate))
}

func (p *Prompt) String() string { return fmt.Sprintf("%s @%d %v", p.Name, p.Rate, p.Duration()) }

// DefaultPromptCacheBytes bounds a PromptCache made with size 0: about
// 25 minutes of 8 kHz prompts, or 13 of 16 kHz ones.
const DefaultPromptCacheBytes = 24 << 20

// PromptCache keeps decoded prompts so that a file played on many calls
// is read, decoded and resampled once per sample rate. Entries are keyed
// by path, modification time and size (an edited file is decoded again)
// and by the target rate; the least recently used go when the decoded
// samples exceed the size bound. It is safe for concurrent use, and
// concurrent loads of one prompt decode it once.
type PromptCache struct {
	max int64
	lim wav.Limits

	mu    sync.Mutex
	items map[promptKey]*promptEntry
	lru   list.List // of *promptEntry, most recent first
	bytes int64

	hits, decodes atomic.Uint64
}

type promptKey struct {
	name string
	mod  int64 // modification time (files) or content hash (bytes)
	size int64
	rate int
}

type promptEntry struct {
	key   promptKey
	ready chan struct{}
	p     *Prompt
	err   error
	elem  *list.Element
}

// NewPromptCache returns a cache holding up to maxBytes of decoded samples
// (DefaultPromptCacheBytes when maxBytes <= 0); lim bounds each file read.
func NewPromptCache(maxBytes int64, lim wav.Limits) *PromptCache {
	if maxBytes <= 0 {
		maxBytes = DefaultPromptCacheBytes
	}
	return &PromptCache{max: maxBytes, lim: lim, items: map[promptKey]*promptEntry{}}
}

// PromptCacheStats are a cache's counters.
type PromptCacheStats struct {
	Entries int    `json:"entries"`
	Bytes   int64  `json:"bytes"`
	Hits    uint64 `json:"hits"`
	Decodes uint64 `json:"decodes"`
}

// Stats returns the cache's counters.
func (c *PromptCache) Stats() PromptCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return PromptCacheStats{Entries: len(c.items), Bytes: c.bytes, Hits: c.hits.Load(), Decodes: c.decodes.Load()}
}

// Load returns the WAV file at path as mono PCM at rate Hz. A missing,
// corrupt or unsupported file is an error; errors are not cached.
func (c *PromptCache) Load(path string, rate int) (*Prompt, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("media: prompt %s: %w", path, err)
	}
	key := promptKey{name: path, mod: fi.ModTime().UnixNano(), size: fi.Size(), rate: rate}
	return c.get(key, func() ([]byte, error) { return os.ReadFile(path) })
}

// LoadBytes is Load for a WAV file held in memory (an embedded prompt);
// name labels it and, with a hash of data, keys it.
func (c *PromptCache) LoadBytes(name string, data []byte, rate int) (*Prompt, error) {
	h := fnv.New64a()
	h.Write(data)
	key := promptKey{name: name, mod: int64(h.Sum64()), size: int64(len(data)), rate: rate}
	return c.get(key, func() ([]byte, error) { return data, nil })
}

func (c *PromptCache) get(key promptKey, read func() ([]byte, error)) (*Prompt, error) {
	c.mu.Lock()
	if e, ok := c.items[key]; ok {
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		<-e.ready
		if e.err == nil {
			c.hits.Add(1)
		}
		return e.p, e.err
	}
	e := &promptEntry{key: key, ready: make(chan struct{})}
	c.items[key] = e
	c.mu.Unlock()

	c.decodes.Add(1)
	e.p, e.err = decodePrompt(key.name, read, key.rate, c.lim)

	c.mu.Lock()
	if e.err != nil {
		delete(c.items, key)
	} else {
		e.elem = c.lru.PushFront(e)
		c.bytes += promptBytes(e.p)
		// Evict the least recently used, but never the prompt just loaded:
		// one larger than the bound is still played.
		for c.bytes > c.max && c.lru.Len() > 1 {
			old := c.lru.Back().Value.(*promptEntry)
			c.lru.Remove(old.elem)
			delete(c.items, old.key)
			c.bytes -= promptBytes(old.p)
		}
	}
	c.mu.Unlock()
	close(e.ready)
	return e.p, e.err
}

func promptBytes(p *Prompt) int64 { return int64(len(p.Samples)) * 2 }

// DecodePrompt reads a WAV file from memory as mono PCM at rate Hz,
// without caching.
func DecodePrompt(name string, data []byte, rate int, lim wav.Limits) (*Prompt, error) {
	return decodePrompt(name, func() ([]byte, error) { return data, nil }, rate, lim)
}

func decodePrompt(name string, read func() ([]byte, error), rate int, lim wav.Limits) (*Prompt, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("media: prompt %s: target rate %d", name, rate)
	}
	data, err := read()
	if err != nil {
		return nil, fmt.Errorf("media: prompt %s: %w", name, err)
	}
	a, err := wav.Decode(data, lim)
	if err != nil {
		return nil, fmt.Errorf("media: prompt %s: %w", name, err)
	}
	mono := a.Mono()
	if a.SampleRate == rate {
		return &Prompt{Name: name, Rate: rate, Samples: mono}, nil
	}
	out, err := resampleAll(mono, a.SampleRate, rate)
	if err != nil {
		return nil, fmt.Errorf("media: prompt %s: %w", name, err)
	}
	return &Prompt{Name: name, Rate: rate, Samples: out}, nil
}

// resampleAll converts a whole prompt at once. The filter's delay is taken
// off the front and its tail flushed with zeros, so the output lines up
// with the input and has its length.
func resampleAll(in []int16, from, to int) ([]int16, error) {
	r, err := dsp.NewResampler(from, to)
	if err != nil {
		return nil, err
	}
	want := int(int64(len(in)) * int64(to) / int64(from))
	delay := int(r.Delay() + 0.5)
	pad := int(int64(delay+1)*int64(from)/int64(to)) + 64
	src := make([]int16, len(in)+pad)
	copy(src, in)
	buf := make([]int16, r.OutLen(len(src)))
	n, err := r.Process(buf, src)
	if err != nil {
		return nil, err
	}
	buf = buf[:n]
	if delay > len(buf) {
		delay = len(buf)
	}
	buf = buf[delay:]
	if len(buf) > want {
		buf = buf[:want]
	}
	return buf, nil
}

// EncoderFor builds an encoder for c and returns the PCM rate it takes
// (16 kHz for G.722, whose RTP clock says 8000).
func EncoderFor(c Codec) (Encoder, int, error) {
	reg := codec.Builtin()
	f, ok := reg.Lookup(c.Name, int(c.ClockRate), int(c.channels()))
	if !ok {
		return nil, 0, fmt.Errorf("media: encoder for %s: %w", c, codec.ErrUnknownCodec)
	}
	enc, err := reg.NewEncoder(codec.Codec{Name: c.Name, PayloadType: f.Codec.PayloadType,
		ClockRate: int(c.ClockRate), Channels: int(c.channels()), Fmtp: c.Fmtp})
	if err != nil {
		return nil, 0, fmt.Errorf("media: %w", err)
	}
	return enc, f.Codec.SampleRate, nil
}
