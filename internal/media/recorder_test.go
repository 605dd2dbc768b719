package media

import (
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// sendTone sends freq Hz as PCMU from phone to s every 20 ms, as a phone
// does, until stop is closed.
func sendTone(t *testing.T, phone *peer, s *Session, freq float64, stop <-chan struct{}) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tone := NewTone(freq, 8000, 0.5, 0)
		pcm := make([]int16, 160)
		payload := make([]byte, 160)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		ssrc := uint32(freq)
		for i := 0; ; i++ {
			tone.ReadFrame(pcm)
			codec.PCMUCodec{}.Encode(payload, pcm)
			b := rtpBytes(0, i == 0, uint16(i), uint32(160*i), ssrc, payload)
			if _, err := phone.c.WriteToUDPAddrPort(b, s.LocalAddr()); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return done
}

// A stereo recording of a call over loopback: each phone's tone on its own
// channel, the length exactly MaxLength.
func TestRecorderStereoOverLoopback(t *testing.T) {
	goroutineLeakCheck(t)
	e := newEngine(t)
	a, b := newSession(t, e, "caller"), newSession(t, e, "callee")
	phoneA, phoneB := newPeer(t), newPeer(t)
	a.SetRemote(muxParams(phoneA.addr, fmtTE101, fmtPCMU))
	b.SetRemote(muxParams(phoneB.addr, fmtTE101, fmtPCMU))
	br, err := Relay(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Stop()
	path := filepath.Join(t.TempDir(), "d", "call.wav")
	rec, err := Record(a, b, RecorderOptions{File: path, MaxLength: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	sentA := sendTone(t, phoneA, a, 440, stop)
	sentB := sendTone(t, phoneB, b, 1000, stop)
	select {
	case <-rec.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("recording did not end")
	}
	close(stop)
	<-sentA
	<-sentB
	res := rec.Result()
	if res.Err != nil || res.End != RecordMaxLength || res.Duration != time.Second || res.File != path || res.Dropped != 0 {
		t.Fatalf("result %+v", res)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	au, err := wav.Read(f, wav.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if au.Channels != 2 || au.SampleRate != 8000 || au.Duration() != time.Second {
		t.Fatalf("file %v", au)
	}
	left, right := deinterleave(au.Samples)
	// The start is silence until the queues fill; judge the rest.
	for _, ch := range []struct {
		name        string
		pcm         []int16
		want, other float64
	}{{"left", left[4000:], 440, 1000}, {"right", right[4000:], 1000, 440}} {
		if sh := shareAt(ch.pcm, ch.want, 8000); sh < 0.8 {
			t.Errorf("%s channel: %.2f of the power at %g Hz", ch.name, sh, ch.want)
		}
		if sh := shareAt(ch.pcm, ch.other, 8000); sh > 0.05 {
			t.Errorf("%s channel: %.2f of the power at %g Hz", ch.name, sh, ch.other)
		}
	}
	if n := sinkCount(a); n != 0 {
		t.Errorf("%d sinks left on the caller's session", n)
	}
}

// sinkCount is the number of audio sinks on s.
func sinkCount(s *Session) int {
	if l := s.sinks.Load(); l != nil {
		return len(l.sinks)
	}
	return 0
}

func deinterleave(s []int16) (l, r []int16) {
	for i := 0; i+1 < len(s); i += 2 {
		l = append(l, s[i])
		r = append(r, s[i+1])
	}
	return l, r
}

// Each way a recording ends, in memory and to a file.
func TestRecorderEnds(t *testing.T) {
	goroutineLeakCheck(t)
	dir := t.TempDir()
	taken := filepath.Join(dir, "taken.wav")
	if err := os.WriteFile(taken, []byte("not mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    RecorderOptions
		stereo  bool
		act     func(r *Recorder, a, b *Session)
		end     RecordEnd
		minDur  time.Duration
		maxDur  time.Duration
		wantErr bool
	}{
		{name: "max length in memory", opts: RecorderOptions{MaxLength: 200 * time.Millisecond},
			end: RecordMaxLength, minDur: 200 * time.Millisecond, maxDur: 200 * time.Millisecond},
		{name: "max length at 16 kHz, stereo", opts: RecorderOptions{Rate: 16000, MaxLength: 100 * time.Millisecond}, stereo: true,
			end: RecordMaxLength, minDur: 100 * time.Millisecond, maxDur: 100 * time.Millisecond},
		{name: "max length, µ-law", opts: RecorderOptions{Format: wav.FormatMuLaw, MaxLength: 60 * time.Millisecond},
			end: RecordMaxLength, minDur: 60 * time.Millisecond, maxDur: 60 * time.Millisecond},
		{name: "silence", opts: RecorderOptions{Silence: 300 * time.Millisecond},
			end: RecordSilence, minDur: 300 * time.Millisecond, maxDur: 300 * time.Millisecond},
		{name: "stopped", opts: RecorderOptions{}, act: func(r *Recorder, _, _ *Session) { r.Stop() },
			end: RecordStopped, maxDur: time.Second},
		{name: "session closed", opts: RecorderOptions{File: filepath.Join(dir, "closed.wav")}, stereo: true,
			act: func(_ *Recorder, _, b *Session) { b.Close() }, end: RecordClosed, maxDur: time.Second},
		{name: "file exists", opts: RecorderOptions{File: taken}, end: RecordFailed, wantErr: true},
		{name: "directory not writable", opts: RecorderOptions{File: filepath.Join(taken, "x.wav")}, end: RecordFailed, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			a, b := newSession(t, e, "a"), newSession(t, e, "b")
			var right *Session
			if tt.stereo {
				right = b
			}
			r, err := Record(a, right, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.act != nil {
				tt.act(r, a, b)
			}
			select {
			case <-r.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("recording did not end")
			}
			res := r.Result()
			if res.End != tt.end || (res.Err != nil) != tt.wantErr || res.Duration < tt.minDur || res.Duration > tt.maxDur {
				t.Fatalf("result: end %v, err %v, %v recorded", res.End, res.Err, res.Duration)
			}
			if tt.wantErr {
				if b, _ := os.ReadFile(taken); string(b) != "not mine" {
					t.Fatal("a file that was there was changed")
				}
				return
			}
			data := res.WAV
			if tt.opts.File != "" {
				if data, err = os.ReadFile(tt.opts.File); err != nil {
					t.Fatal(err)
				}
			}
			au, err := wav.Decode(data, wav.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			rate := max(tt.opts.Rate, DefaultRecordRate)
			chans := 1
			if tt.stereo {
				chans = 2
			}
			format := max(tt.opts.Format, wav.FormatPCM)
			if au.SampleRate != rate || au.Channels != chans || au.Format != format || au.Duration() != res.Duration {
				t.Fatalf("WAV %v for a result of %v", au, res.Duration)
			}
			// Nothing was sent: the recording is silence.
			if slices.ContainsFunc(au.Samples, func(v int16) bool { return v > 8 || v < -8 }) {
				t.Fatal("silence recorded as sound")
			}
			// Stop after the end changes nothing.
			r.Stop()
			if r.Result().End != tt.end {
				t.Fatal("Stop after the end changed the result")
			}
		})
	}
}

func TestRecorderOptionErrors(t *testing.T) {
	e := newEngine(t)
	a := newSession(t, e, "a")
	other := newSession(t, newEngine(t), "other")
	tests := []struct {
		name        string
		left, right *Session
		opts        RecorderOptions
	}{
		{"no session", nil, nil, RecorderOptions{}},
		{"44.1 kHz", a, nil, RecorderOptions{Rate: 44100}},
		{"negative rate", a, nil, RecorderOptions{Rate: -8000}},
		{"negative max length", a, nil, RecorderOptions{MaxLength: -time.Second}},
		{"negative silence", a, nil, RecorderOptions{Silence: -time.Second}},
		{"threshold above full scale", a, nil, RecorderOptions{Silence: time.Second, SilenceThreshold: 3}},
		{"MP3", a, nil, RecorderOptions{Format: 0x55}},
		{"two clocks", a, other, RecorderOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := Record(tt.left, tt.right, tt.opts); !errors.Is(err, ErrRecordOptions) {
				if r != nil {
					r.Stop()
				}
				t.Fatalf("err = %v, want ErrRecordOptions", err)
			}
		})
	}
	if sinkCount(a) != 0 {
		t.Fatal("a refused recording left a sink behind")
	}
}

// Ticks driven by hand: the channels are interleaved sample by sample,
// skipped ticks are made up, repeated deadlines are not recorded twice.
func TestRecorderTicks(t *testing.T) {
	e := newEngine(t)
	a, b := newSession(t, e, "a"), newSession(t, e, "b")
	r, err := newRecorder(a, b, RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go r.run()
	left, right := make([]int16, 160*12), make([]int16, 160*12)
	for i := range left {
		left[i], right[i] = int16(i+1), -int16(i+1)
	}
	// 16 kHz in, resampled by the queue, would blur the ramp: feed 8 kHz.
	r.queues[0].WriteAudio(left, 8000)
	r.queues[1].WriteAudio(right, 8000)
	base := time.Unix(1000, 0)
	period := e.Clock().Period()
	steps := []struct {
		at   time.Duration // from the first deadline
		want int64         // frames taken after the tick
	}{
		{0, 1}, {0, 1}, {period, 2}, {4 * period, 5}, {4 * period, 5}, {3 * period, 5},
		{(5 + recordCatchUp + 20) * period, 5 + recordCatchUp + 21},
	}
	for i, st := range steps {
		if !r.Tick(base.Add(st.at)) {
			t.Fatalf("step %d: the recorder ended", i)
		}
		if r.ticks != st.want {
			t.Fatalf("step %d at %v: %d frames, want %d", i, st.at, r.ticks, st.want)
		}
	}
	r.Stop()
	if r.Tick(base.Add(time.Hour)) {
		t.Fatal("a stopped recorder goes on ticking")
	}
	res := r.Result()
	want := time.Duration(5+recordCatchUp) * period
	if res.End != RecordStopped || res.Duration != want || res.Err != nil {
		t.Fatalf("result %+v, want %v stopped", res, want)
	}
	au, err := wav.Decode(res.WAV, wav.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	l, rt := deinterleave(au.Samples)
	// The queue holds back its reserve (40 ms) before reading starts, then
	// plays the ramp as it came, both channels in step; the queues ran dry
	// after 12 frames of ramp.
	var wantL, wantR []int16
	for i := range l {
		v := int16(0)
		if i < len(left) {
			v = left[i]
		}
		wantL, wantR = append(wantL, v), append(wantR, -v)
	}
	if !slices.Equal(l, wantL) || !slices.Equal(rt, wantR) {
		t.Fatalf("left %v… right %v…", l[:8], rt[:8])
	}
}

// Audio a session receives reaches a sink until it is removed; removing a
// function sink (which Go cannot compare) works too.
func TestAudioSinkFuncRemove(t *testing.T) {
	e := newEngine(t)
	s := newSession(t, e, "a")
	phone := newPeer(t)
	s.SetRemote(muxParams(phone.addr, fmtTE101, fmtPCMU))
	var got atomic.Int64
	rm1 := s.AddAudioSink(AudioSinkFunc(func(pcm []int16, rate int) { got.Add(int64(len(pcm))) }))
	rm2 := s.AddAudioSink(AudioSinkFunc(func(pcm []int16, rate int) {}))
	payload := make([]byte, 160)
	phone.send(s.LocalAddr(), rtpBytes(0, true, 1, 160, 7, payload))
	waitFor(t, "audio at the sink", func() bool { return got.Load() == 160 })
	rm1()
	rm1()
	if n := sinkCount(s); n != 1 {
		t.Fatalf("%d sinks after removing one of two", n)
	}
	rm2()
	if n := sinkCount(s); n != 0 {
		t.Fatalf("%d sinks after removing both", n)
	}
}

// The clock side of recording a stereo call: a packet in on each leg,
// decoded into the queues, and one frame of each taken on a tick. It
// allocates nothing; writing the file happens elsewhere.
func BenchmarkRecorderFrame(b *testing.B) {
	n := newMemNet()
	n.quiet = true
	e := newEngine(b, func(c *EngineConfig) { c.Listen = n.listen })
	sa, sb := newSession(b, e, "a"), newSession(b, e, "b")
	fromA, fromB := netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:4000")
	sa.SetRemote(muxParams(fromA, fmtTE101, fmtPCMU))
	sb.SetRemote(muxParams(fromB, fmtTE101, fmtPCMU))
	r, err := newRecorder(sa, sb, RecorderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	r.attach()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for c := range r.chunks {
			r.free <- c
		}
	}()
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(float64(i)))
	}
	payload := make([]byte, 160)
	codec.PCMUCodec{}.Encode(payload, pcm)
	pa := rtpBytes(0, false, 0, 0, 0x1234, payload)
	pb := rtpBytes(0, false, 0, 0, 0x5678, payload)
	bufA, bufB := make([]byte, len(pa)), make([]byte, len(pb))
	now := time.Now()
	deadline := now
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		copy(bufA, pa)
		putHeader(bufA, false, 0, uint16(i), uint32(160*i), 0x1234)
		sa.receive(bufA, fromA, now, false)
		copy(bufB, pb)
		putHeader(bufB, false, 0, uint16(i), uint32(160*i), 0x5678)
		sb.receive(bufB, fromB, now, false)
		deadline = deadline.Add(r.period)
		r.Tick(deadline)
	}
	b.StopTimer()
	r.Stop()
	<-drained
	if r.dropped != 0 {
		b.Fatalf("%d frames dropped", r.dropped)
	}
}
