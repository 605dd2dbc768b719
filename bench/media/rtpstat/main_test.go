package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const t0 = int64(1_700_000_000) * 1e9

func testConfig(mode string) config {
	return config{lo: 20000, hi: 24999, clock: 8000, ptimeNS: 20e6, lateNS: 5e6, windowNS: 1e9,
		mode: mode, edgeNS: 200e6, minPackets: 10}
}

func figures(kvs [][2]string) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[kv[0]] = kv[1]
	}
	return m
}

// stream makes n packets of one stream at 20 ms, the i-th delayed by delay(i).
func stream(src, dst int, ssrc uint32, seq0 uint16, ts0 uint32, n int, delay func(i int) time.Duration) []pkt {
	var ps []pkt
	for i := range n {
		ps = append(ps, pkt{t: t0 + int64(i)*20e6 + int64(delay(i)), src: src, dst: dst, ssrc: ssrc,
			seq: seq0 + uint16(i), ts: ts0 + uint32(i)*160})
	}
	return ps
}

func none(int) time.Duration { return 0 }

func TestOriginateSteady(t *testing.T) {
	// sequence numbers and timestamps wrap within the stream
	ps := stream(20000, 26000, 1, 65500, 4294967000, 500, none)
	f := figures(analyse(testConfig("originate"), ps))
	for k, want := range map[string]string{"out_streams": "1", "out_packets": "500", "out_lost": "0",
		"out_late": "0", "out_pps_per_stream": "50.00", "out_ts_jumps": "0", "out_gaps": "0", "out_silences": "0"} {
		if f[k] != want {
			t.Errorf("%s = %s, want %s", k, f[k], want)
		}
	}
}

func TestOriginateStallAndLoss(t *testing.T) {
	// packets 100..109 held back and sent in one burst with packet 110: 20..200 ms behind
	// schedule, all 10 of them more than 5 ms; packet 300 lost.
	ps := stream(20000, 26000, 1, 0, 0, 500, func(i int) time.Duration {
		if i >= 100 && i < 110 {
			return time.Duration(110-i) * 20 * time.Millisecond
		}
		return 0
	})
	ps = append(ps[:300], ps[301:]...)
	f := figures(analyse(testConfig("originate"), ps))
	for k, want := range map[string]string{"out_packets": "499", "out_lost": "1", "out_late": "10",
		"out_gaps": "2", "out_silences": "2", "out_lateness_max_ms": "200.00"} {
		if f[k] != want {
			t.Errorf("%s = %s, want %s", k, f[k], want)
		}
	}
}

func TestRelayEcho(t *testing.T) {
	// SIPp's stream into port 20000, echoed out of it renumbered (+1000 seq) 1 ms later,
	// packet 50 7 ms later, packet 200 never sent on.
	in := stream(26000, 20000, 7, 10, 0, 400, none)
	out := stream(20000, 26000, 9, 1010, 5000, 400, func(i int) time.Duration {
		if i == 50 {
			return 7 * time.Millisecond
		}
		return time.Millisecond
	})
	out = append(out[:200], out[201:]...)
	f := figures(analyse(testConfig("relay"), append(in, out...)))
	for k, want := range map[string]string{"relay_matched": "399", "relay_late": "1", "relay_dropped": "1",
		"relay_unmatched": "0", "relay_delay_p50_ms": "1.00", "relay_delay_max_ms": "7.00", "in_late": "0"} {
		if f[k] != want {
			t.Errorf("%s = %s, want %s", k, f[k], want)
		}
	}
}

func TestRelayBridgedPairsFromCalls(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls.json")
	body := `[{"id":"c1","legs":[{"leg":"a","local":"127.0.0.1:20000","packetsIn":10,"packetsOut":10},
	  {"leg":"b","local":"127.0.0.1:20002","packetsIn":10,"packetsOut":10}]}]`
	if err := os.WriteFile(calls, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c := testConfig("relay")
	c.calls = calls
	// UAC -> 20000 relayed out of 20002 to the UAS, and UAS -> 20002 out of 20000
	ps := stream(26000, 20000, 1, 0, 0, 300, none)
	ps = append(ps, stream(20002, 26100, 2, 500, 0, 300, func(int) time.Duration { return 2 * time.Millisecond })...)
	ps = append(ps, stream(26100, 20002, 3, 0, 0, 300, func(int) time.Duration { return 5 * time.Millisecond })...)
	ps = append(ps, stream(20000, 26000, 4, 900, 0, 300, func(int) time.Duration { return 8 * time.Millisecond })...)
	f := figures(analyse(c, ps))
	for k, want := range map[string]string{"relay_matched": "600", "relay_late": "0", "relay_delay_p50_ms": "2.00",
		"relay_delay_max_ms": "3.00", "relay_unpaired_streams": "0", "relay_dropped": "0"} {
		if f[k] != want {
			t.Errorf("%s = %s, want %s", k, f[k], want)
		}
	}
}

func TestReadInputAndTable(t *testing.T) {
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, "1700000000.%09d\t20000\t26000\t0x0000abcd\t%d\t%d\n", i*20_000_000, i, i*160)
	}
	b.WriteString("1700000001.000000000\t20001\t26001\t\t\t\n") // not RTP
	b.WriteString("========================= RTP Streams ========================\n")
	b.WriteString("   Start time      End time     Src IP addr  Port    Dest IP addr  Port       SSRC          Payload  Pkts         Lost   Min Delta(ms)  Mean Delta(ms)   Max Delta(ms)  Min Jitter(ms) Mean Jitter(ms)  Max Jitter(ms) Problems?\n")
	b.WriteString("     0.000086      3.979271       127.0.0.1 20004       127.0.0.1 26000 0x239CC210            g711U   200     2 (1.0%)          16.056          19.996          23.759           0.009           0.526           0.933 \n")
	ps, table, err := readInput(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 20 || ps[19].ssrc != 0xabcd || ps[19].t != t0+19*20e6 {
		t.Fatalf("packets: %d, last %+v", len(ps), ps[len(ps)-1])
	}
	f := figures(tsharkTable(testConfig("originate"), table))
	for k, want := range map[string]string{"tshark_out_streams": "1", "tshark_out_packets": "200", "tshark_out_lost": "2",
		"tshark_out_max_delta_ms": "23.8", "tshark_in_streams": "0"} {
		if f[k] != want {
			t.Errorf("%s = %s, want %s", k, f[k], want)
		}
	}
}
