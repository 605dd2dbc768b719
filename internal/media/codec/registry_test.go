package codec

import (
	"errors"
	"testing"
)

func TestNegotiate(t *testing.T) {
	r := Builtin()
	offer := []Codec{
		{Name: "PCMA", PayloadType: 8, ClockRate: 8000},
		{Name: "telephone-event", PayloadType: 101, ClockRate: 8000},
		{Name: "G722", PayloadType: 9, ClockRate: 8000},
		{Name: "opus", PayloadType: 96, ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
		{Name: "PCMU", PayloadType: 0, ClockRate: 8000},
	}
	tests := []struct {
		name  string
		prefs []string
		want  string
		pt    uint8
	}{
		{"first preference offered", []string{"PCMU", "PCMA"}, "PCMU", 0},
		{"skips unoffered", []string{"GSM", "pcma"}, "PCMA", 8},
		{"keeps the peer's dynamic payload type", []string{"opus"}, "opus", 96},
		{"with rate", []string{"G722/8000"}, "G722", 9},
		{"registry order when no prefs", nil, "opus", 96},
	}
	for _, tt := range tests {
		c, err := r.Negotiate(tt.prefs, offer)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if c.Name != tt.want || c.PayloadType != tt.pt {
			t.Errorf("%s: got %v, want %s pt %d", tt.name, c, tt.want, tt.pt)
		}
		if c.SampleRate == 0 || c.Ptime == 0 {
			t.Errorf("%s: negotiated codec not completed: %+v", tt.name, c)
		}
	}
	c, _ := r.Negotiate([]string{"opus"}, offer)
	if c.Fmtp != "useinbandfec=1" {
		t.Errorf("peer fmtp lost: %q", c.Fmtp)
	}
	if g, _ := r.Negotiate([]string{"G722"}, offer); g.SampleRate != 16000 {
		t.Errorf("G722 PCM rate %d, want 16000", g.SampleRate)
	}
}

func TestNegotiateNoCommon(t *testing.T) {
	r := Builtin()
	offer := []Codec{{Name: "GSM", PayloadType: 3, ClockRate: 8000}, {Name: "telephone-event", PayloadType: 101, ClockRate: 8000}}
	if _, err := r.Negotiate(nil, offer); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("got %v, want ErrNoCommonCodec", err)
	}
	if _, err := r.Negotiate([]string{"PCMU"}, []Codec{{Name: "PCMA", ClockRate: 8000}}); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("got %v, want ErrNoCommonCodec", err)
	}
	// Right name, wrong clock rate: not the same codec.
	if _, err := r.Negotiate([]string{"PCMU"}, []Codec{{Name: "PCMU", ClockRate: 16000}}); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("got %v, want ErrNoCommonCodec", err)
	}
}

func TestCommonOrderAndDedup(t *testing.T) {
	r := Builtin()
	offer := []Codec{
		{Name: "L16", PayloadType: 97, ClockRate: 8000},
		{Name: "L16", PayloadType: 98, ClockRate: 16000},
		{Name: "PCMU", PayloadType: 0, ClockRate: 8000},
		{Name: "PCMU", PayloadType: 0, ClockRate: 8000}, // repeated by a sloppy peer
	}
	got := r.Common([]string{"L16/16000", "PCMU", "L16"}, offer)
	want := []uint8{98, 0, 97}
	if len(got) != len(want) {
		t.Fatalf("Common = %v", got)
	}
	for i := range want {
		if got[i].PayloadType != want[i] {
			t.Errorf("Common[%d] = %v, want pt %d", i, got[i], want[i])
		}
	}
}

func TestRegistryBuild(t *testing.T) {
	r := Builtin()
	if _, err := r.NewEncoder(Codec{Name: "GSM", ClockRate: 8000}); !errors.Is(err, ErrUnknownCodec) {
		t.Errorf("unknown encoder: %v", err)
	}
	if _, err := r.NewDecoder(Codec{Name: "GSM", ClockRate: 8000}); !errors.Is(err, ErrUnknownCodec) {
		t.Errorf("unknown decoder: %v", err)
	}
	// A bare SDP description is completed with the registry's PCM rate.
	enc, err := r.NewEncoder(Codec{Name: "opus", PayloadType: 96, ClockRate: 48000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(make([]byte, 1500), make([]int16, 960)); err != nil {
		t.Errorf("opus encoder from bare description: %v", err)
	}
	if _, ok := r.Lookup("g722", 8000, 1); !ok {
		t.Error("Lookup is case-sensitive")
	}
	if n := len(r.Codecs()); n != 7 {
		t.Errorf("%d built-in codecs, want 7", n)
	}
}
