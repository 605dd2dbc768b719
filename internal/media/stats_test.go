package media

import "testing"

func TestRecvStatsSequence(t *testing.T) {
	tests := []struct {
		name  string
		seqs  []uint16
		res   []seqResult
		lost  int64
		ext   uint32
		recvd uint64
	}{
		{"in order", []uint16{10, 11, 12}, []seqResult{seqNewSource, seqOK, seqOK}, 0, 12, 3},
		{"gap then late", []uint16{10, 12, 11}, []seqResult{seqNewSource, seqOK, seqLate}, 0, 12, 3},
		{"loss", []uint16{10, 13}, []seqResult{seqNewSource, seqOK}, 2, 13, 2},
		{"duplicates", []uint16{10, 11, 11, 10}, []seqResult{seqNewSource, seqOK, seqDup, seqDup}, 0, 11, 2},
		{"wrap", []uint16{65534, 65535, 0, 1}, []seqResult{seqNewSource, seqOK, seqOK, seqOK}, 0, 65536 + 1, 4},
		{"restart after a jump", []uint16{10, 11, 20000, 20001, 20002}, []seqResult{seqNewSource, seqOK, seqJump, seqNewSource, seqOK}, 0, 20002, 2},
		{"single stray jump", []uint16{10, 11, 20000, 12}, []seqResult{seqNewSource, seqOK, seqJump, seqOK}, 0, 12, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recvStats
			for i, s := range tt.seqs {
				if got := r.update(1, s, uint32(s)*160, uint32(s)*160, 8000); got != tt.res[i] {
					t.Fatalf("packet %d (seq %d): %d, want %d", i, s, got, tt.res[i])
				}
			}
			if r.lost() != tt.lost || r.pub.ext.Load() != tt.ext || r.pub.received.Load() != tt.recvd {
				t.Fatalf("lost %d ext %d received %d", r.lost(), r.pub.ext.Load(), r.pub.received.Load())
			}
		})
	}
}

func TestRecvStatsJitter(t *testing.T) {
	var steady, jittery recvStats
	for i := range uint32(200) {
		steady.update(1, uint16(i), i*160, 5000+i*160, 8000)
		delay := uint32(0)
		if i%2 == 1 {
			delay = 80 // every other packet 10 ms late
		}
		jittery.update(1, uint16(i), i*160, 5000+i*160+delay, 8000)
	}
	if j := steady.pub.jitter.Load(); j != 0 {
		t.Fatalf("steady jitter %d", j)
	}
	// |D| is 80 every packet, so the A.8 estimate converges to 80.
	if j := jittery.pub.jitter.Load(); j < 78 || j > 80 {
		t.Fatalf("jitter %d, want ≈80", j)
	}
	if d := jittery.jitterDuration().Milliseconds(); d != 9 && d != 10 {
		t.Fatalf("jitter %v", jittery.jitterDuration())
	}
	// A new SSRC starts over.
	if jittery.update(2, 7, 0, 0, 8000) != seqNewSource || jittery.pub.jitter.Load() != 0 || jittery.lost() != 0 {
		t.Fatal("no reset on a new source")
	}
}
