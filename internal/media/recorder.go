package media

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// Recording defaults and limits.
const (
	// DefaultRecordRate is the rate a recording is made at unless told
	// otherwise: the telephone band needs no more.
	DefaultRecordRate = 8000
	// MaxMemoryRecording caps a recording kept in memory, which a program
	// gets as a value: without a cap a forgotten recording would grow
	// until the process runs out of memory.
	MaxMemoryRecording = 10 * time.Minute

	// recordChunkFrames is how many frames go to the writer goroutine at a
	// time: 0.5 s, one write system call.
	recordChunkFrames = 25
	// recordMaxChunks bounds the chunks a recorder owns. A disk stalled for
	// longer than they hold (8 s) loses audio rather than memory.
	recordMaxChunks = 16
	// recordReserve is the jitter each channel's queue absorbs; it delays
	// the recording, not the call.
	recordReserve = 40 * time.Millisecond
	// recordMaxDelay bounds what a queue holds when packets bunch up.
	recordMaxDelay = 300 * time.Millisecond
	// recordCatchUp is the most frames one tick takes to make up for ticks
	// the clock skipped; beyond that the lost time stays lost.
	recordCatchUp = 10
)

// ErrRecordOptions wraps every invalid RecorderOptions.
var ErrRecordOptions = errors.New("media: invalid recorder options")

// RecordEnd says why a recording ended.
type RecordEnd uint8

// Ways a recording ends.
const (
	RecordStopped   RecordEnd = iota // Stop was called
	RecordMaxLength                  // it reached MaxLength
	RecordSilence                    // the first channel was quiet for Silence
	RecordClosed                     // a recorded session closed
	RecordFailed                     // the output could not be written
)

func (e RecordEnd) String() string {
	switch e {
	case RecordStopped:
		return "stopped"
	case RecordMaxLength:
		return "maxlength"
	case RecordSilence:
		return "silence"
	case RecordClosed:
		return "closed"
	case RecordFailed:
		return "failed"
	}
	return fmt.Sprintf("RecordEnd(%d)", uint8(e))
}

// RecorderOptions set up a recording.
type RecorderOptions struct {
	// Rate is the recording's sample rate: 8000 (the default) or 16000.
	Rate int
	// Format is the WAV encoding: wav.FormatPCM (16-bit, the default),
	// wav.FormatMuLaw or wav.FormatALaw.
	Format uint16
	// MaxLength ends the recording after this much audio; 0 means no limit
	// for a file and MaxMemoryRecording in memory.
	MaxLength time.Duration
	// Silence ends the recording once the first channel (the caller of a
	// stereo recording) has been quiet this long; 0 never does.
	Silence time.Duration
	// SilenceThreshold is the level below which audio counts as quiet, in
	// dBFS; 0 means dsp.DefaultSilenceThreshold.
	SilenceThreshold float64
	// File is where the WAV file goes; its directory is created if need
	// be, and an existing file is never overwritten. Empty keeps the
	// recording in memory (RecordResult.WAV).
	File string
}

// RecordResult is what a finished recording holds.
type RecordResult struct {
	End RecordEnd
	// Duration is the audio in the output.
	Duration time.Duration
	// Dropped is audio lost because the output fell behind.
	Dropped time.Duration
	// File is the file written (RecorderOptions.File), or "".
	File string
	// WAV is the recording of a memory recorder: a complete WAV file.
	WAV []byte
	// Err is set when the output could not be written in full.
	Err error
}

// Recorder records the incoming audio of one session (mono) or two
// (stereo: the first on the left channel, the second on the right). It is
// paced by the media clock: every tick takes one frame from each channel's
// queue, so the channels stay aligned and gaps in the audio (loss, hold)
// are recorded as silence. Encoding and file writing happen on a goroutine
// of its own, never on the clock.
type Recorder struct {
	opts     RecorderOptions
	spec     wav.Spec
	period   time.Duration
	frameLen int // samples per channel per frame
	sessions []*Session
	queues   []*AudioQueue
	removes  []func()
	silence  *dsp.SilenceDetector
	maxFr    int64 // frames before MaxLength; 0 without one

	mu        sync.Mutex
	entry     *ClockEntry
	ended     bool
	end       RecordEnd
	base      time.Time // one period before the first tick's deadline
	ticks     int64     // frames taken from the queues
	dropped   int64     // frames lost for want of a chunk
	cur       []int16   // the chunk being filled
	allocated int
	frame     [][]int16 // one frame per channel, reused

	chunks  chan []int16 // full chunks for the writer; closed at the end
	free    chan []int16 // chunks the writer is done with
	written atomic.Int64 // frames in the output so far
	done    chan struct{}
	res     RecordResult
}

// Record starts recording left's incoming audio, and right's on the
// right channel when right is not nil. The recording runs until Stop, a
// limit in opts, or either session closing; Done tells when its output is
// complete.
func Record(left, right *Session, opts RecorderOptions) (*Recorder, error) {
	r, err := newRecorder(left, right, opts)
	if err != nil {
		return nil, err
	}
	r.attach()
	go r.run()
	r.mu.Lock()
	if !r.ended {
		r.entry = left.eng.clock.Add(r)
	}
	r.mu.Unlock()
	return r, nil
}

// newRecorder checks the options and builds a recorder that is neither
// fed nor paced yet.
func newRecorder(left, right *Session, opts RecorderOptions) (*Recorder, error) {
	if left == nil {
		return nil, fmt.Errorf("%w: no session to record", ErrRecordOptions)
	}
	if right != nil && right.eng.clock != left.eng.clock {
		return nil, fmt.Errorf("%w: sessions %s and %s run on different clocks", ErrRecordOptions, left.name, right.name)
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRecordRate
	}
	if opts.Rate != 8000 && opts.Rate != 16000 {
		return nil, fmt.Errorf("%w: rate %d Hz, want 8000 or 16000", ErrRecordOptions, opts.Rate)
	}
	if opts.MaxLength < 0 || opts.Silence < 0 {
		return nil, fmt.Errorf("%w: negative duration", ErrRecordOptions)
	}
	if opts.File == "" && (opts.MaxLength == 0 || opts.MaxLength > MaxMemoryRecording) {
		opts.MaxLength = MaxMemoryRecording
	}
	sessions := []*Session{left}
	if right != nil {
		sessions = append(sessions, right)
	}
	spec := wav.Spec{SampleRate: opts.Rate, Channels: len(sessions), Format: opts.Format}
	if _, err := wav.NewBuffer(spec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecordOptions, err)
	}
	period := left.eng.clock.Period()
	r := &Recorder{
		opts:     opts,
		spec:     spec,
		period:   period,
		frameLen: samplesIn(period, opts.Rate),
		sessions: sessions,
		chunks:   make(chan []int16, recordMaxChunks),
		free:     make(chan []int16, recordMaxChunks),
		done:     make(chan struct{}),
	}
	if r.frameLen < 1 {
		return nil, fmt.Errorf("%w: clock period %v is too short", ErrRecordOptions, period)
	}
	if opts.MaxLength > 0 {
		r.maxFr = int64((opts.MaxLength + period - 1) / period)
	}
	if opts.Silence > 0 {
		det, err := dsp.NewSilenceDetector(opts.Rate, opts.SilenceThreshold, opts.Silence)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRecordOptions, err)
		}
		r.silence = det
	}
	for range sessions {
		r.queues = append(r.queues, NewAudioQueue(opts.Rate, recordReserve, recordMaxDelay))
		r.frame = append(r.frame, make([]int16, r.frameLen))
	}
	return r, nil
}

// attach starts feeding the queues from the sessions.
func (r *Recorder) attach() {
	for i, s := range r.sessions {
		r.removes = append(r.removes, s.AddAudioSink(r.queues[i]))
	}
}

// Stop ends the recording (on a digit, for instance); what was recorded
// is kept. It does not wait for the output: see Done.
func (r *Recorder) Stop() { r.finish(RecordStopped) }

// Done is closed once the recording has ended and its output is complete.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Result waits for the recording to end and returns it.
func (r *Recorder) Result() RecordResult {
	<-r.done
	return r.res
}

// Duration is the audio written so far.
func (r *Recorder) Duration() time.Duration {
	return time.Duration(r.written.Load()) * r.period
}

func (r *Recorder) String() string {
	kind := "memory"
	if r.opts.File != "" {
		kind = r.opts.File
	}
	return fmt.Sprintf("Recorder(%d Hz, %dch, %s)", r.spec.SampleRate, r.spec.Channels, kind)
}

// Tick implements Tickable: it records the frames due by deadline,
// normally one.
func (r *Recorder) Tick(deadline time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return false
	}
	for _, s := range r.sessions {
		if s.closed.Load() {
			r.finishLocked(RecordClosed)
			return false
		}
	}
	if r.base.IsZero() {
		r.base = deadline.Add(-r.period)
	}
	owed := int64(deadline.Sub(r.base)/r.period) - r.ticks
	if owed > recordCatchUp {
		// The clock stalled for long: record what the queues can still
		// hold and let the rest of the gap go.
		r.ticks += owed - recordCatchUp
		owed = recordCatchUp
	}
	for range owed {
		if !r.recordFrameLocked() {
			return false
		}
	}
	return true
}

// recordFrameLocked takes one frame from each queue into the current
// chunk; it reports false once the recording has ended.
func (r *Recorder) recordFrameLocked() bool {
	for i, q := range r.queues {
		q.ReadFrame(r.frame[i])
	}
	r.ticks++
	quiet := r.silence != nil && r.silence.Process(r.frame[0])
	if r.cur == nil {
		r.cur = r.chunk()
	}
	if r.cur == nil {
		r.dropped++
	} else {
		r.cur = r.appendFrame(r.cur)
		if len(r.cur) == cap(r.cur) {
			// Never blocks: the channel holds every chunk there is.
			r.chunks <- r.cur
			r.cur = nil
		}
	}
	switch {
	case r.maxFr > 0 && r.ticks >= r.maxFr:
		r.finishLocked(RecordMaxLength)
	case quiet:
		r.finishLocked(RecordSilence)
	default:
		return true
	}
	return false
}

// appendFrame appends the current frame, interleaved, to dst.
func (r *Recorder) appendFrame(dst []int16) []int16 {
	if len(r.frame) == 1 {
		return append(dst, r.frame[0]...)
	}
	l, rt := r.frame[0], r.frame[1]
	n := len(dst)
	dst = dst[:n+2*len(l)]
	for i := range l {
		dst[n+2*i] = l[i]
		dst[n+2*i+1] = rt[i]
	}
	return dst
}

// chunk returns an empty chunk, or nil when all of them are waiting for
// the writer.
func (r *Recorder) chunk() []int16 {
	select {
	case c := <-r.free:
		return c[:0]
	default:
	}
	if r.allocated == recordMaxChunks {
		return nil
	}
	r.allocated++
	return make([]int16, 0, recordChunkFrames*r.frameLen*len(r.queues))
}

func (r *Recorder) finish(end RecordEnd) {
	r.mu.Lock()
	r.finishLocked(end)
	r.mu.Unlock()
}

// finishLocked ends the recording once: it stops the feed and the
// pacing and hands the writer the last, partial chunk.
func (r *Recorder) finishLocked(end RecordEnd) {
	if r.ended {
		return
	}
	r.ended, r.end = true, end
	if r.entry != nil {
		r.entry.Stop()
	}
	for _, remove := range r.removes {
		remove()
	}
	for _, q := range r.queues {
		q.Close()
	}
	if len(r.cur) > 0 {
		r.chunks <- r.cur
	}
	r.cur = nil
	close(r.chunks)
}

// recordOutput is where the writer puts the audio.
type recordOutput interface {
	Write(pcm []int16) error
}

// run is the writer goroutine: it opens the output, writes the chunks as
// they come and completes the file once the recording ends. It also ends
// the recording when a session closes, in case the clock no longer runs.
func (r *Recorder) run() {
	defer close(r.done)
	var (
		out  recordOutput
		file *os.File
		fw   *wav.Writer
		buf  *wav.Buffer
		err  error
	)
	if r.opts.File != "" {
		file, fw, err = createRecording(r.opts.File, r.spec)
		out = fw
	} else {
		buf, err = wav.NewBuffer(r.spec)
		out = buf
	}
	if err != nil {
		out = nil
		r.res.Err = err
		r.finish(RecordFailed)
	}
	var closed [2]<-chan struct{}
	for i, s := range r.sessions {
		closed[i] = s.Done()
	}
	frameSamples := r.frameLen * len(r.queues)
	for chunks := r.chunks; chunks != nil; {
		select {
		case c, ok := <-chunks:
			if !ok {
				chunks = nil
				break
			}
			if out != nil && r.res.Err == nil {
				if err := out.Write(c); err != nil {
					r.res.Err = fmt.Errorf("media: recording %s: %w", r.opts.File, err)
					r.finish(RecordFailed)
				} else {
					r.written.Add(int64(len(c) / frameSamples))
				}
			}
			r.free <- c // never blocks: it holds every chunk there is
		case <-closed[0]:
			closed[0] = nil
			r.finish(RecordClosed)
		case <-closed[1]:
			closed[1] = nil
			r.finish(RecordClosed)
		}
	}
	if fw != nil {
		if err := closeRecording(file, fw); err != nil && r.res.Err == nil {
			r.res.Err = err
		}
	}
	if buf != nil {
		r.res.WAV = buf.Bytes()
	}
	r.mu.Lock()
	r.res.End = r.end
	r.res.Dropped = time.Duration(r.dropped) * r.period
	r.mu.Unlock()
	r.res.Duration = r.Duration()
	r.res.File = r.opts.File
}

// createRecording makes the file and writes its header; the header keeps
// the "unknown size" marker until the file is closed, so a recording cut
// short by a crash still plays.
func createRecording(path string, spec wav.Spec) (*os.File, *wav.Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, nil, fmt.Errorf("media: recording directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("media: recording: %w", err)
	}
	w, err := wav.NewWriter(f, spec)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, nil, fmt.Errorf("media: recording %s: %w", path, err)
	}
	return f, w, nil
}

// closeRecording fixes the header's sizes and makes the file durable.
func closeRecording(f *os.File, w *wav.Writer) error {
	err := w.Close()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("media: recording %s: %w", f.Name(), err)
	}
	return nil
}
