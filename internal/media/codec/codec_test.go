package codec

import (
	"testing"
	"time"
)

func TestCodecFraming(t *testing.T) {
	tests := []struct {
		c          Codec
		samples    int
		timestamps uint32
		pcmCh      int
		rtpmap     string
	}{
		{PCMU(), 160, 160, 1, "PCMU/8000"},
		{PCMA(), 160, 160, 1, "PCMA/8000"},
		// G.722 samples at 16 kHz but its RTP clock runs at 8 kHz.
		{G722(), 320, 160, 1, "G722/8000"},
		{Opus(111), 960, 960, 1, "opus/48000/2"},
		{L16(16000, 2, 96), 320, 320, 2, "L16/16000/2"},
	}
	for _, tt := range tests {
		if got := tt.c.FrameSamples(); got != tt.samples {
			t.Errorf("%v: FrameSamples = %d, want %d", tt.c, got, tt.samples)
		}
		if got := tt.c.FrameTimestamps(); got != tt.timestamps {
			t.Errorf("%v: FrameTimestamps = %d, want %d", tt.c, got, tt.timestamps)
		}
		if got := tt.c.PCMChannels(); got != tt.pcmCh {
			t.Errorf("%v: PCMChannels = %d, want %d", tt.c, got, tt.pcmCh)
		}
		if got := tt.c.Rtpmap(); got != tt.rtpmap {
			t.Errorf("Rtpmap = %q, want %q", got, tt.rtpmap)
		}
	}
	c := PCMU()
	c.Ptime = 30 * time.Millisecond
	if c.FrameSamples() != 240 || c.FrameTimestamps() != 240 {
		t.Errorf("30 ms PCMU: %d samples, %d timestamps", c.FrameSamples(), c.FrameTimestamps())
	}
	c.Ptime = 0 // unset means the default 20 ms
	if c.FrameSamples() != 160 {
		t.Errorf("unset ptime: %d samples", c.FrameSamples())
	}
	if got := PCMU().String(); got != "PCMU/8000 pt=0 20ms" {
		t.Errorf("String = %q", got)
	}
}

func TestCodecMatches(t *testing.T) {
	if !Opus(111).Matches(Codec{Name: "OPUS", ClockRate: 48000, Channels: 2, PayloadType: 96}) {
		t.Error("opus with another payload type and case does not match")
	}
	if PCMU().Matches(PCMA()) {
		t.Error("PCMU matches PCMA")
	}
	if L16(8000, 1, 0).Matches(L16(16000, 1, 0)) {
		t.Error("L16 matches across rates")
	}
	if !PCMU().Matches(Codec{Name: "pcmu", ClockRate: 8000}) {
		t.Error("zero channels is not mono")
	}
}

// Every per-frame codec call must run without allocating: the engine runs
// thousands of them per second per core.
func TestCodecsDoNotAllocate(t *testing.T) {
	r := Builtin()
	for _, c := range r.Codecs() {
		enc, err := r.NewEncoder(c)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := r.NewDecoder(c)
		if err != nil {
			t.Fatal(err)
		}
		pcm := sine(c.FrameSamples()*c.PCMChannels(), c.SampleRate, 440, 6000)
		payload := make([]byte, 4000)
		out := make([]int16, 5760)
		var n int
		step := func() {
			n, err = enc.Encode(payload, pcm)
			if err != nil {
				t.Fatal(err)
			}
			if _, err = dec.Decode(out, payload[:n]); err != nil {
				t.Fatal(err)
			}
		}
		for range 20 { // let lazily sized scratch buffers settle
			step()
		}
		if a := testing.AllocsPerRun(50, step); a != 0 {
			t.Errorf("%v: %v allocations per encode+decode", c, a)
		}
	}
}
