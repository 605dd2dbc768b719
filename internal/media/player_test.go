package media

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// sineWAV is a mono 16-bit WAV of freq Hz at rate for d.
func sineWAV(t testing.TB, freq float64, rate int, d time.Duration) []byte {
	t.Helper()
	n := int(int64(d) * int64(rate) / int64(time.Second))
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(12000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	b, err := wav.Encode(wav.Spec{SampleRate: rate, Channels: 1}, pcm)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// shareAt is the part of x's power at freq: near 1 for a pure tone.
func shareAt(x []int16, freq float64, rate int) float64 {
	ms := dsp.MeanSquare(x)
	if ms == 0 {
		return 0
	}
	return dsp.NewGoertzel(freq, rate).Power(x) / ms
}

func TestPlayerWAVIntoSession(t *testing.T) {
	fmtG722 := Format{PT: 9, Codec: Codec{Name: NameG722, ClockRate: 8000}}
	fmtL16w := Format{PT: 97, Codec: Codec{Name: NameL16, ClockRate: 16000}}
	tests := []struct {
		name    string
		format  Format
		wavRate int
		dec     codec.Decoder
		pcmRate int
	}{
		{"8k WAV into PCMU", fmtPCMU, 8000, codec.PCMUCodec{}, 8000},
		{"16k WAV into PCMU", fmtPCMU, 16000, codec.PCMUCodec{}, 8000},
		{"8k WAV into G.722", fmtG722, 8000, codec.NewG722Decoder(), 16000},
		{"16k WAV into L16/16000", fmtL16w, 16000, codec.L16Codec{}, 16000},
		{"44.1k WAV into L16/16000", fmtL16w, 44100, codec.L16Codec{}, 16000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			s := newSession(t, e, "a")
			phone := newPeer(t)
			s.SetRemote(muxParams(phone.addr, Format{}, tt.format))
			const freq = 600.0
			path := writeFile(t, "p.wav", sineWAV(t, freq, tt.wavRate, 400*time.Millisecond))
			pl, pb, err := s.StartPlayer(NewPromptCache(0, wav.Limits{}), PlayerOptions{}, Item{File: path})
			if err != nil {
				t.Fatal(err)
			}
			if pl.Rate() != tt.pcmRate {
				t.Fatalf("player rate %d, want %d", pl.Rate(), tt.pcmRate)
			}
			var pcm []int16
			buf := make([]int16, 2000)
			for range 20 {
				pkt := phone.recvRTP()
				if pkt.PayloadType != tt.format.PT {
					t.Fatalf("payload type %d, want %d", pkt.PayloadType, tt.format.PT)
				}
				n, err := tt.dec.Decode(buf, pkt.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if n != tt.pcmRate/50 {
					t.Fatalf("packet decodes to %d samples, want %d", n, tt.pcmRate/50)
				}
				pcm = append(pcm, buf[:n]...)
			}
			<-pb.Done()
			if err := pb.Err(); err != nil || pb.Frames() != 20 {
				t.Fatalf("playback: %v after %d frames, want 20", err, pb.Frames())
			}
			ev := <-pl.Events()
			if ev.End != EndDone || ev.Played != 400*time.Millisecond {
				t.Fatalf("event %+v", ev)
			}
			// Skip the codec's and resampler's start-up, keep the body.
			body := pcm[len(pcm)/8 : len(pcm)*7/8]
			if sh := shareAt(body, freq, tt.pcmRate); sh < 0.9 {
				t.Fatalf("%.2f of the power at %g Hz", sh, freq)
			}
			if lv := dsp.LevelDBFS(body); lv < -13 || lv > -6 {
				t.Fatalf("level %.1f dBFS", lv)
			}
		})
	}
}

func prompt(n, rate int) *Prompt {
	p := &Prompt{Name: "ramp", Rate: rate, Samples: make([]int16, n)}
	for i := range p.Samples {
		p.Samples[i] = int16(i + 1)
	}
	return p
}

// drain reads a player to its end and returns the samples and events.
func drain(t *testing.T, pl *Player) ([]int16, []PlayEvent) {
	t.Helper()
	var out []int16
	buf := make([]int16, 160)
	for range 10000 {
		n, ok := pl.ReadFrame(buf)
		if !ok {
			var evs []PlayEvent
			for len(pl.Events()) > 0 {
				evs = append(evs, <-pl.Events())
			}
			return out, evs
		}
		out = append(out, buf[:n]...)
	}
	t.Fatal("player did not end")
	return nil, nil
}

func TestPlayerQueue(t *testing.T) {
	tone := dsp.Tone{Freqs: [2]float64{1000}, Levels: [2]float64{-10}}
	tests := []struct {
		name    string
		items   []Item
		samples int // total, before padding to whole frames
		ends    []PlayEnd
		played  []time.Duration
	}{
		{"prompt once", []Item{{Prompt: prompt(100, 8000)}}, 100, []PlayEnd{EndDone}, []time.Duration{12500 * time.Microsecond}},
		{"prompt looped twice more", []Item{{Prompt: prompt(100, 8000), Loop: 2}}, 300, []PlayEnd{EndDone}, []time.Duration{37500 * time.Microsecond}},
		{"endless loop truncated", []Item{{Prompt: prompt(100, 8000), Loop: -1, Max: 50 * time.Millisecond}}, 400, []PlayEnd{EndTruncated}, []time.Duration{50 * time.Millisecond}},
		{"prompt truncated", []Item{{Prompt: prompt(1000, 8000), Max: 25 * time.Millisecond}}, 200, []PlayEnd{EndTruncated}, []time.Duration{25 * time.Millisecond}},
		{"tone then silence then prompt", []Item{
			{Tone: tone, Max: 30 * time.Millisecond},
			{Max: 10 * time.Millisecond},
			{Prompt: prompt(80, 8000)},
		}, 240 + 80 + 80, []PlayEnd{EndTruncated, EndTruncated, EndDone}, []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, err := NewPlayer(8000, nil, PlayerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range tt.items {
				if _, err := pl.Enqueue(it); err != nil {
					t.Fatal(err)
				}
			}
			out, evs := drain(t, pl)
			if want := (tt.samples + 159) / 160 * 160; len(out) != want {
				t.Fatalf("%d samples, want %d", len(out), want)
			}
			for i, v := range out[tt.samples:] {
				if v != 0 {
					t.Fatalf("padding sample %d = %d", i, v)
				}
			}
			if len(evs) != len(tt.ends) {
				t.Fatalf("events %+v", evs)
			}
			for i, ev := range evs {
				if ev.ID != uint64(i+1) || ev.End != tt.ends[i] || ev.Played != tt.played[i] {
					t.Fatalf("event %d: %+v, want %v after %v", i, ev, tt.ends[i], tt.played[i])
				}
			}
		})
	}
	t.Run("looped prompt repeats its samples", func(t *testing.T) {
		pl, _ := NewPlayer(8000, nil, PlayerOptions{})
		pl.Enqueue(Item{Prompt: prompt(100, 8000), Loop: 1})
		out, _ := drain(t, pl)
		if out[0] != 1 || out[99] != 100 || out[100] != 1 || out[199] != 100 {
			t.Fatalf("loop samples %d %d %d %d", out[0], out[99], out[100], out[199])
		}
	})
}

func TestPlayerPositionSkipStop(t *testing.T) {
	pl, _ := NewPlayer(8000, nil, PlayerOptions{})
	first, _ := pl.Enqueue(Item{Prompt: prompt(8000, 8000)})
	second, _ := pl.Enqueue(Item{Tone: dsp.Tone{Freqs: [2]float64{440}, Levels: [2]float64{-10}}})
	third, _ := pl.Enqueue(Item{Prompt: prompt(8000, 8000)})
	buf := make([]int16, 160)
	if pl.Position() != 0 {
		t.Fatal("position before playing")
	}
	for range 3 {
		pl.ReadFrame(buf)
	}
	if pl.Position() != 60*time.Millisecond || pl.Pending() != 3 {
		t.Fatalf("position %v pending %d", pl.Position(), pl.Pending())
	}
	pl.Skip()
	pl.ReadFrame(buf)
	if ev := <-pl.Events(); ev.ID != first || ev.End != EndStopped || ev.Played != 60*time.Millisecond {
		t.Fatalf("skipped: %+v", ev)
	}
	if pl.Position() != 20*time.Millisecond || shareAt(buf, 440, 8000) < 0.8 {
		t.Fatalf("tone did not start: position %v", pl.Position())
	}
	pl.Stop()
	if n, ok := pl.ReadFrame(buf); ok || n != 0 {
		t.Fatalf("after Stop: %d %v", n, ok)
	}
	got := map[uint64]PlayEnd{}
	for len(pl.Events()) > 0 {
		ev := <-pl.Events()
		got[ev.ID] = ev.End
	}
	if got[second] != EndStopped || got[third] != EndStopped || len(got) != 2 {
		t.Fatalf("events after Stop: %v", got)
	}

	// KeepOpen plays silence while idle and takes new items until Close.
	open, _ := NewPlayer(8000, nil, PlayerOptions{KeepOpen: true})
	if n, ok := open.ReadFrame(buf); !ok || n != 160 || buf[0] != 0 {
		t.Fatalf("idle open player: %d %v", n, ok)
	}
	open.Enqueue(Item{Prompt: prompt(10, 8000)})
	if n, ok := open.ReadFrame(buf); !ok || n != 160 || buf[0] != 1 || buf[10] != 0 {
		t.Fatalf("open player: %d %v %d", n, ok, buf[0])
	}
	open.Close()
	if _, ok := open.ReadFrame(buf); ok {
		t.Fatal("closed player still plays")
	}
	if _, err := open.Enqueue(Item{}); !errors.Is(err, ErrPlayerClosed) {
		t.Fatalf("enqueue after Close: %v", err)
	}
}

func TestPlayerInterruptOnDTMF(t *testing.T) {
	e := newEngine(t)
	s := newSession(t, e, "a")
	phone := newPeer(t)
	s.SetRemote(muxParams(phone.addr, fmtTE101, fmtPCMU))
	long := Item{Tone: dsp.Tone{Freqs: [2]float64{440}, Levels: [2]float64{-10}}, StopDigits: "#5"}
	next := Item{Tone: dsp.Tone{Freqs: [2]float64{1000}, Levels: [2]float64{-10}}, Max: time.Second}
	pl, pb, err := s.StartPlayer(nil, PlayerOptions{}, long, next)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Stop()
	phone.recvRTP() // playing
	if pl.Interrupt('7') {
		t.Fatal("7 is not a stop digit")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		// What a call does: received digits go to the player.
		defer wg.Done()
		for {
			select {
			case ev := <-s.DTMF():
				pl.Interrupt(ev.Digit)
			case <-ctx.Done():
				return
			}
		}
	}()
	ev5, _ := DigitEvent('5')
	for i, end := range []bool{false, false, true} {
		phone.send(s.LocalAddr(), rtpBytes(101, i == 0, uint16(10+i), 8000, 0x77, dtmfBytes(ev5, end, uint16(400*(i+1)))))
	}
	var ev PlayEvent
	select {
	case ev = <-pl.Events():
	case <-time.After(5 * time.Second):
		t.Fatal("no play event after the digit")
	}
	cancel()
	wg.Wait()
	if ev.ID != 1 || ev.End != EndInterrupted || ev.Digit != '5' || ev.Played <= 0 {
		t.Fatalf("event %+v", ev)
	}
	// The next item plays on.
	waitFor(t, "the next item", func() bool { return pl.Position() > 0 && pl.Pending() == 1 })
}

func TestPromptErrors(t *testing.T) {
	good := sineWAV(t, 440, 8000, 100*time.Millisecond)
	mp3 := append([]byte(nil), good...)
	mp3[20] = 0x55 // format tag: MPEG layer 3
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, wav.ErrTruncated},
		{"not RIFF", []byte("this is not a WAV file at all"), wav.ErrNotWAV},
		{"truncated header", good[:30], nil},
		{"unsupported format", mp3, wav.ErrUnsupported},
	}
	cache := NewPromptCache(0, wav.Limits{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, _ := NewPlayer(8000, cache, PlayerOptions{})
			_, err := pl.EnqueueFile(writeFile(t, "bad.wav", tt.data), Item{})
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if pl.Pending() != 0 {
				t.Fatal("a bad prompt was queued")
			}
		})
	}
	pl, _ := NewPlayer(8000, cache, PlayerOptions{})
	if _, err := pl.EnqueueFile(filepath.Join(t.TempDir(), "missing.wav"), Item{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := pl.Enqueue(Item{Prompt: prompt(10, 16000)}); err == nil {
		t.Fatal("a prompt at another rate was queued")
	}
	if _, err := pl.Enqueue(Item{Tone: dsp.Tone{Freqs: [2]float64{5000}}}); err == nil {
		t.Fatal("a tone above Nyquist was queued")
	}
	if st := cache.Stats(); st.Entries != 0 {
		t.Fatalf("errors were cached: %+v", st)
	}
}

func TestPromptCache(t *testing.T) {
	path := writeFile(t, "p.wav", sineWAV(t, 440, 8000, 200*time.Millisecond))
	cache := NewPromptCache(0, wav.Limits{})
	var wg sync.WaitGroup
	got := make([]*Prompt, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := cache.Load(path, 8000)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		}()
	}
	wg.Wait()
	st := cache.Stats()
	if st.Decodes != 1 || st.Hits != 7 || st.Entries != 1 || st.Bytes != 3200 {
		t.Fatalf("after 8 concurrent loads: %+v", st)
	}
	for _, p := range got[1:] {
		if p != got[0] {
			t.Fatal("loads returned different prompts")
		}
	}
	// Another rate is another entry, resampled once.
	p16, err := cache.Load(path, 16000)
	if err != nil || p16.Rate != 16000 || len(p16.Samples) != 3200 {
		t.Fatalf("16 kHz: %v %v", p16, err)
	}
	// A changed file is decoded again.
	later := time.Now().Add(time.Hour)
	os.WriteFile(path, sineWAV(t, 440, 8000, 100*time.Millisecond), 0o644)
	os.Chtimes(path, later, later)
	p, err := cache.Load(path, 8000)
	if err != nil || len(p.Samples) != 800 || cache.Stats().Decodes != 3 {
		t.Fatalf("after the file changed: %v %v %+v", p, err, cache.Stats())
	}

	// The size bound evicts the least recently used.
	small := NewPromptCache(4000, wav.Limits{})
	a := writeFile(t, "a.wav", sineWAV(t, 440, 8000, 100*time.Millisecond)) // 1600 bytes decoded
	b := writeFile(t, "b.wav", sineWAV(t, 440, 8000, 100*time.Millisecond))
	c := writeFile(t, "c.wav", sineWAV(t, 440, 8000, 100*time.Millisecond))
	for _, f := range []string{a, b, a, c} {
		if _, err := small.Load(f, 8000); err != nil {
			t.Fatal(err)
		}
	}
	if st := small.Stats(); st.Entries != 2 || st.Bytes != 3200 || st.Decodes != 3 {
		t.Fatalf("bounded cache: %+v", st)
	}
	small.Load(a, 8000) // still there
	small.Load(b, 8000) // evicted
	if st := small.Stats(); st.Decodes != 4 {
		t.Fatalf("eviction order: %+v", st)
	}
}

func TestPromptResampleKeepsLengthAndAlignment(t *testing.T) {
	// A click at 100 ms stays near 100 ms after resampling.
	in := make([]int16, 8000)
	in[800] = 20000
	out, err := resampleAll(in, 8000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 16000 {
		t.Fatalf("%d samples", len(out))
	}
	peak := 0
	for i, v := range out {
		if v > out[peak] {
			peak = i
		}
	}
	if peak < 1598 || peak > 1602 {
		t.Fatalf("click at %d, want 1600", peak)
	}
}

// One 20 ms frame of a looping prompt, encoded to PCMU: the playback's
// whole per-tick work apart from the socket.
func BenchmarkPlayerFrame(b *testing.B) {
	pl, _ := NewPlayer(8000, nil, PlayerOptions{})
	pl.Enqueue(Item{Prompt: prompt(8000, 8000), Loop: -1, StopDigits: AnyDigit})
	pcm := make([]int16, 160)
	out := make([]byte, 160)
	enc := codec.PCMUCodec{}
	b.ReportAllocs()
	for b.Loop() {
		n, _ := pl.ReadFrame(pcm)
		enc.Encode(out, pcm[:n])
	}
}

// A tone item, generated per frame.
func BenchmarkPlayerToneFrame(b *testing.B) {
	pl, _ := NewPlayer(8000, nil, PlayerOptions{})
	pl.Enqueue(Item{Tone: dsp.Tone{Freqs: [2]float64{1000}, Levels: [2]float64{-8.8}}})
	pcm := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		pl.ReadFrame(pcm)
	}
}

// 1,000 sessions playing a looping prompt into PCMU on one clock shard,
// with in-memory sockets. Markers registered before and after the
// sessions time each tick's pass over them; the figure is ns per stream
// per 20 ms tick, the share of one core a stream costs.
func BenchmarkPlayers1000OnClock(b *testing.B) {
	const streams = 1000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := NewClock(ctx, DefaultClockPeriod, 1)
	defer clock.Close()
	var mu sync.Mutex
	var start time.Time
	var total time.Duration
	var ticks int
	tickDone := make(chan struct{}, 1)
	clock.Add(TickFunc(func(time.Time) bool {
		mu.Lock()
		start = time.Now()
		mu.Unlock()
		return true
	}))
	n := newMemNet()
	n.quiet = true
	e := newEngine(b, func(c *EngineConfig) {
		c.Listen = n.listen
		c.Clock = clock
		c.PortMin, c.PortMax = 20000, 20000+4*streams
	})
	cache := NewPromptCache(0, wav.Limits{})
	data := sineWAV(b, 440, 8000, time.Second)
	remote := netip.MustParseAddrPort("10.0.0.1:4000")
	for range streams {
		s, err := e.NewSession(SessionOptions{RTCPMux: true})
		if err != nil {
			b.Fatal(err)
		}
		s.SetRemote(muxParams(remote, fmtTE101, fmtPCMU))
		if _, _, err := s.StartPlayer(cache, PlayerOptions{}, Item{WAV: data, Name: "bench", Loop: -1}); err != nil {
			b.Fatal(err)
		}
	}
	clock.Add(TickFunc(func(time.Time) bool {
		mu.Lock()
		if !start.IsZero() {
			total += time.Since(start)
			ticks++
		}
		mu.Unlock()
		select {
		case tickDone <- struct{}{}:
		default:
		}
		return true
	}))
	<-tickDone
	mu.Lock()
	total, ticks = 0, 0
	mu.Unlock()
	b.ResetTimer()
	for b.Loop() {
		<-tickDone
	}
	mu.Lock()
	defer mu.Unlock()
	if ticks > 0 {
		b.ReportMetric(float64(total.Nanoseconds())/float64(ticks)/streams, "ns/stream-tick")
		b.ReportMetric(float64(total.Nanoseconds())/float64(ticks)/float64(DefaultClockPeriod.Nanoseconds())*100, "%core")
	}
	if st := cache.Stats(); st.Decodes != 1 {
		b.Fatalf("prompt decoded %d times", st.Decodes)
	}
}
