package sip

import (
	"context"
	"encoding/binary"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringo-pbx/ringo/internal/config"
	"github.com/ringo-pbx/ringo/internal/directory"
	"github.com/ringo-pbx/ringo/internal/media/codec"
	"github.com/ringo-pbx/ringo/internal/media/dsp"
	"github.com/ringo-pbx/ringo/internal/media/wav"
)

// sendTone sends n packets of freq Hz as PCMU from p to Ringo, every
// 20 ms as a phone does.
func sendTone(t *testing.T, p *rtpPeer, to netip.AddrPort, freq float64, n int) {
	pcm := make([]int16, 160)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	ssrc := uint32(freq)
	for i := range n {
		for j := range pcm {
			k := i*160 + j
			pcm[j] = int16(12000 * math.Sin(2*math.Pi*freq*float64(k)/8000))
		}
		payload := make([]byte, 160)
		codec.PCMUCodec{}.Encode(payload, pcm)
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: ssrc, Marker: i == 0},
			Payload: payload}).Marshal()
		if err != nil {
			t.Error(err)
			return
		}
		p.conn.WriteToUDPAddrPort(b, to)
		<-tick.C
	}
}

// toneShare is the part of the power of x's louder 20 ms blocks that is at
// freq: near 1 when they hold that tone alone.
func toneShare(x []int16, freq float64) float64 {
	g := dsp.NewGoertzel(freq, 8000)
	var at, all float64
	for off := 0; off+160 <= len(x); off += 160 {
		b := x[off : off+160]
		if ms := dsp.MeanSquare(b); ms > 1e4 {
			at += g.Power(b)
			all += ms
		}
	}
	if all == 0 {
		return 0
	}
	return at / all
}

// An account with recordCalls has its anchored calls recorded in stereo,
// caller left and callee right, from the answer to the end; the record
// lists the file once it is complete.
func TestCallRecording(t *testing.T) {
	tests := []struct {
		name     string
		recorded string // the account with recordCalls, or ""
	}{
		{"the callee records", "1002"},
		{"the caller records", "1001"},
		{"nobody records", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			e := startEnv(t, func(c *config.Config) { c.Data = data })
			if tt.recorded != "" {
				yes := true
				if _, err := e.dir.PutAccount(context.Background(), testDomain, directory.AccountSpec{Name: tt.recorded, RecordCalls: &yes}); err != nil {
					t.Fatal(err)
				}
			}
			_, callee, a, b, s, toRingoA, toRingoB := anchoredCall(t, e)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); sendTone(t, a, toRingoA, 400, 40) }()
			go func() { defer wg.Done(); sendTone(t, b, toRingoB, 1000, 40) }()
			wg.Wait()
			if err := s.Bye(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			wait(t, callee.byes, "BYE at callee")
			rec := wait(t, e.records, "the call's record")
			dir := e.srv.RecordingsDir()
			if tt.recorded == "" {
				if len(rec.Recordings) != 0 {
					t.Fatalf("recordings %+v of a call nobody records", rec.Recordings)
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Fatalf("recordings directory: %v", err)
				}
				return
			}
			if len(rec.Recordings) != 1 {
				t.Fatalf("recordings %+v, want one", rec.Recordings)
			}
			got := rec.Recordings[0]
			want := regexp.MustCompile(`^pbx\.test/\d{4}/\d{2}/\d{2}/` + regexp.QuoteMeta(rec.ID) + `\.wav$`)
			if !want.MatchString(got.File) || !got.Started.Equal(rec.Answered) {
				t.Fatalf("recording %+v of call %s answered %v", got, rec.ID, rec.Answered)
			}
			raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(got.File)))
			if err != nil {
				t.Fatal(err)
			}
			// The record came once the file was complete: its header
			// carries the real size, not the "unknown" marker.
			if size := binary.LittleEndian.Uint32(raw[40:44]); int(size) != len(raw)-44 {
				t.Fatalf("data size %d in the header of a file of %d bytes", size, len(raw))
			}
			au, err := wav.Decode(raw, wav.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			talk := rec.Durations.Talk
			if au.Channels != 2 || au.SampleRate != 8000 || au.Duration() < talk-200*time.Millisecond || au.Duration() > talk+100*time.Millisecond {
				t.Fatalf("recording %v of a call of %v", au, talk)
			}
			var left, right []int16
			for i := 0; i+1 < len(au.Samples); i += 2 {
				left, right = append(left, au.Samples[i]), append(right, au.Samples[i+1])
			}
			for _, ch := range []struct {
				name        string
				pcm         []int16
				want, other float64
			}{{"left (caller)", left, 400, 1000}, {"right (callee)", right, 1000, 400}} {
				if sh := toneShare(ch.pcm, ch.want); sh < 0.8 {
					t.Errorf("%s: %.2f of the power at %g Hz", ch.name, sh, ch.want)
				}
				if sh := toneShare(ch.pcm, ch.other); sh > 0.05 {
					t.Errorf("%s: %.2f of the power at %g Hz", ch.name, sh, ch.other)
				}
			}
			e.portsFree(t)
		})
	}
}

func TestRecordingPath(t *testing.T) {
	at := time.Date(2026, 3, 4, 23, 30, 0, 0, time.FixedZone("MSK", 3*3600))
	tests := []struct {
		domain, id, want string
	}{
		{"pbx.test", "abc-1", "pbx.test/2026/03/04/abc-1.wav"},
		{"pbx.test", "../x", ""},
		{"..", "abc", ""},
		{"a/b", "abc", ""},
		{"pbx.test", `a\b`, ""},
		{"", "abc", ""},
		{"pbx.test", "", ""},
		{"pbx.test", "a\x00b", ""},
	}
	for _, tt := range tests {
		got, err := recordingPath(tt.domain, tt.id, at)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("recordingPath(%q, %q) = %q, %v; want %q", tt.domain, tt.id, got, err, tt.want)
		}
	}
	if !strings.HasSuffix(recordingsDirOf(t), filepath.Join("data", "recordings")) {
		t.Error("recordings are not kept under the data directory")
	}
}

func recordingsDirOf(t *testing.T) string {
	cfg := config.Default()
	cfg.Data = filepath.Join(t.TempDir(), "data")
	return (&Server{cfg: cfg}).RecordingsDir()
}
