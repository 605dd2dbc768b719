package dsp

import (
	"math"
	"testing"
)

func TestLevelDBFS(t *testing.T) {
	tests := []struct {
		name string
		x    []int16
		want float64
	}{
		{"full-scale square", []int16{-32768, -32768, -32768, -32768}, 0},
		{"full-scale sine", sine(8000, 8000, 1000, 32767, 0.1), -3.01},
		{"0 dBm0 sine", sine(8000, 8000, 1000, PeakDBm0, 0.1), -6.23},
		{"-40 dBFS sine", sine(8000, 8000, 1000, 32768*math.Sqrt2*0.01, 0.1), -40},
	}
	for _, tt := range tests {
		if got := LevelDBFS(tt.x); math.Abs(got-tt.want) > 0.02 {
			t.Errorf("%s: %.3f dBFS, want %.2f", tt.name, got, tt.want)
		}
	}
	if LevelDBFS(make([]int16, 10)) != -math.MaxFloat64 || MeanSquare(nil) != 0 {
		t.Error("digital silence has a level")
	}
}

func TestAmplitudeDBm0(t *testing.T) {
	if a := AmplitudeDBm0(0); a != PeakDBm0 {
		t.Errorf("0 dBm0 = %v", a)
	}
	if a := AmplitudeDBm0(-20); math.Abs(a-PeakDBm0/10) > 1e-9 {
		t.Errorf("-20 dBm0 = %v", a)
	}
}
