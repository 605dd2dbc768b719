package dsp

import (
	"fmt"
	"slices"
	"testing"
)

func constFrame(n int, v int16) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = v
	}
	return f
}

func TestMixerEachHearsOthers(t *testing.T) {
	m := NewMixer(4)
	a, b, c := m.Join(), m.Join(), m.Join()
	a.Write([]int16{100, 200, 300, 400})
	b.Write([]int16{10, 20, 30, 40})
	c.Write([]int16{1, 2, 3, 4})
	m.Mix()
	tests := []struct {
		name string
		mb   *Member
		want []int16
	}{
		{"a", a, []int16{11, 22, 33, 44}},
		{"b", b, []int16{101, 202, 303, 404}},
		{"c", c, []int16{110, 220, 330, 440}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.mb.Output(), tt.want) {
			t.Errorf("%s hears %v, want %v", tt.name, tt.mb.Output(), tt.want)
		}
	}
	// Inputs are consumed: with no new writes everyone hears silence.
	m.Mix()
	for _, mb := range []*Member{a, b, c} {
		if !slices.Equal(mb.Output(), make([]int16, 4)) {
			t.Errorf("stale input heard: %v", mb.Output())
		}
	}
}

func TestMixerMuteDeafAndAbsent(t *testing.T) {
	m := NewMixer(2)
	a, b, c := m.Join(), m.Join(), m.Join()
	b.SetMuted(true)
	c.SetDeaf(true)
	a.Write([]int16{1000, -1000})
	b.Write([]int16{50, 50}) // muted: nobody hears it
	c.Write([]int16{7, 7})
	m.Mix()
	if got := a.Output(); !slices.Equal(got, []int16{7, 7}) {
		t.Errorf("a hears %v", got)
	}
	if got := b.Output(); !slices.Equal(got, []int16{1007, -993}) {
		t.Errorf("muted b hears %v", got)
	}
	if got := c.Output(); !slices.Equal(got, []int16{0, 0}) {
		t.Errorf("deaf c hears %v", got)
	}
	if !b.Muted() || !c.Deaf() || a.Muted() || a.Deaf() {
		t.Error("flags not reported")
	}
	// A member without input this frame contributes nothing but still hears.
	b.SetMuted(false)
	a.Write([]int16{5, 5})
	m.Mix()
	if got := b.Output(); !slices.Equal(got, []int16{5, 5}) {
		t.Errorf("silent b hears %v", got)
	}
}

func TestMixerSaturates(t *testing.T) {
	m := NewMixer(3)
	a, b, c := m.Join(), m.Join(), m.Join()
	a.Write([]int16{30000, -30000, 32767})
	b.Write([]int16{30000, -30000, -32768})
	c.Write([]int16{0, 0, 1})
	m.Mix()
	if got := c.Output(); !slices.Equal(got, []int16{32767, -32768, -1}) {
		t.Errorf("c hears %v", got)
	}
	if got := a.Output(); !slices.Equal(got, []int16{30000, -30000, -32767}) {
		t.Errorf("a hears %v", got)
	}
}

func TestMixerJoinLeaveAndShortWrites(t *testing.T) {
	m := NewMixer(3)
	a, b := m.Join(), m.Join()
	b.Write([]int16{9}) // padded with silence
	m.Mix()
	if got := a.Output(); !slices.Equal(got, []int16{9, 0, 0}) {
		t.Errorf("a hears %v", got)
	}
	b.Write([]int16{1, 2, 3, 4, 5}) // cut to the frame
	m.Mix()
	if got := a.Output(); !slices.Equal(got, []int16{1, 2, 3}) {
		t.Errorf("a hears %v", got)
	}
	m.Leave(b)
	m.Leave(b)
	if m.Len() != 1 {
		t.Fatalf("%d members after leave", m.Len())
	}
	b.Write([]int16{1, 1, 1})
	m.Mix()
	if got := a.Output(); !slices.Equal(got, []int16{0, 0, 0}) {
		t.Errorf("a hears a departed member: %v", got)
	}
	if m.String() != "Mixer(1 members, 3 samples)" || m.FrameSamples() != 3 {
		t.Errorf("String = %q", m.String())
	}
}

// The subtract-own shortcut must equal the definition: the saturated sum of
// all other unmuted inputs, for random members, flags and levels.
func TestMixerMatchesDefinition(t *testing.T) {
	r := rng(11)
	m := NewMixer(160)
	var ms []*Member
	for range 12 {
		ms = append(ms, m.Join())
	}
	for round := range 20 {
		ins := make([][]int16, len(ms))
		for i, mb := range ms {
			mb.SetMuted(r.float() < 0.2)
			mb.SetDeaf(r.float() < 0.1)
			if r.float() < 0.15 {
				continue // no packet this frame
			}
			ins[i] = make([]int16, 160)
			for k := range ins[i] {
				ins[i][k] = int16(r.float()*40000 - 20000)
			}
			mb.Write(ins[i])
		}
		m.Mix()
		for i, mb := range ms {
			for k := range 160 {
				var s int32
				for j, in := range ins {
					if j != i && in != nil && !ms[j].Muted() {
						s += int32(in[k])
					}
				}
				want := sat32(s)
				if mb.Deaf() {
					want = 0
				}
				if got := mb.Output()[k]; got != want {
					t.Fatalf("round %d member %d sample %d: %d, want %d", round, i, k, got, want)
				}
			}
		}
	}
}

func TestMixerDoesNotAllocate(t *testing.T) {
	m := NewMixer(160)
	var ms []*Member
	for range 10 {
		ms = append(ms, m.Join())
	}
	frame := sine(160, 8000, 440, 3000, 0)
	if a := testing.AllocsPerRun(100, func() {
		for _, mb := range ms {
			mb.Write(frame)
		}
		m.Mix()
	}); a != 0 {
		t.Errorf("%v allocations per frame", a)
	}
}

// BenchmarkMixer reports the cost of one 20 ms frame at 8 kHz for the whole
// conference; ns/op divided by the member count is the cost per member.
func BenchmarkMixer(b *testing.B) {
	for _, n := range []int{3, 10, 100} {
		b.Run(fmt.Sprintf("members%d_20ms", n), func(b *testing.B) {
			m := NewMixer(160)
			var ms []*Member
			for range n {
				ms = append(ms, m.Join())
			}
			frame := sine(160, 8000, 440, 3000, 0)
			b.ReportAllocs()
			for b.Loop() {
				for _, mb := range ms {
					mb.Write(frame)
				}
				m.Mix()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/member")
		})
	}
}
