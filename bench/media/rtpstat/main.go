// Command rtpstat analyses the RTP of a loopback capture taken during a media
// benchmark (bench/media/run.sh): packet rate, loss and lateness of the
// streams Ringo sends, and for relayed media (echo, bridged calls) the delay
// and loss between each packet entering Ringo and leaving it.
//
// Its input is tshark's per-packet output followed, optionally, by tshark's
// own RTP stream table, as one command gives them:
//
//	tshark -r cap.pcap -d udp.port==20000-24999,rtp -z rtp,streams \
//	  -T fields -E separator=/t -e frame.time_epoch -e udp.srcport -e udp.dstport \
//	  -e rtp.ssrc -e rtp.seq -e rtp.timestamp | rtpstat -lo 20000 -hi 24999 -mode relay
//
// Ports in [lo, hi] are Ringo's: a packet from one is a packet Ringo sent.
// Results are printed as key=value lines (see the README beside run.sh).
//
// Lateness of a stream Ringo sends: each packet's transit, its arrival time
// less its RTP timestamp in seconds, is compared with the smallest transit of
// the same stream over the preceding window (1 s): a packet more than -late
// (5 ms) above it left Ringo that much behind its schedule. Every packet of a
// burst after a stall counts, not only the first. For relayed media the
// same is computed, and also each packet's own relay delay: the time from
// its arrival at Ringo's port to the departure of its copy, matched by
// sequence number (Ringo renumbers a relayed stream by a constant offset).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pkt is one captured RTP packet.
type pkt struct {
	t        int64 // arrival, ns since the epoch
	src, dst int
	ssrc     uint32
	seq      uint16
	ts       uint32
}

type streamKey struct {
	src, dst int
	ssrc     uint32
}

// streamStats is what one stream's packets show.
type streamStats struct {
	packets   int
	expected  int64
	durNS     int64
	late      int
	lateNS    []int64 // lateness of every packet (for percentiles)
	gaps      int     // inter-arrival above nominal+late
	maxDelta  int64
	tsJumps   int
	firstT    int64
	lastT     int64
	duplicate int
}

type config struct {
	lo, hi     int
	clock      int64
	ptimeNS    int64
	lateNS     int64
	windowNS   int64
	mode       string
	calls      string
	calls0     string
	edgeNS     int64
	minPackets int
}

func main() {
	var c config
	var late, window, ptime, edge time.Duration
	flag.IntVar(&c.lo, "lo", 20000, "lowest port of Ringo's RTP range")
	flag.IntVar(&c.hi, "hi", 24999, "highest port of Ringo's RTP range")
	flag.Int64Var(&c.clock, "clock", 8000, "RTP clock rate of the streams")
	flag.DurationVar(&ptime, "ptime", 20*time.Millisecond, "packet interval")
	flag.DurationVar(&late, "late", 5*time.Millisecond, "a packet later than this behind its schedule is late")
	flag.DurationVar(&window, "window", time.Second, "schedule reference: the earliest transit over this window")
	flag.DurationVar(&edge, "edge", 200*time.Millisecond, "relay: ignore input packets this close to the end of the capture")
	flag.StringVar(&c.mode, "mode", "originate", "originate (Ringo generates the streams: tone, prompt) or relay (echo, bridged)")
	flag.StringVar(&c.calls, "calls", "", "relay: GET /api/v1/calls at the end of the capture (pairs the legs of each call; Ringo's counters)")
	flag.StringVar(&c.calls0, "calls0", "", "GET /api/v1/calls at the start of the capture (Ringo's counters over the capture)")
	flag.IntVar(&c.minPackets, "min-packets", 10, "streams with fewer packets in the capture are left out")
	flag.Parse()
	c.lateNS, c.windowNS, c.ptimeNS, c.edgeNS = int64(late), int64(window), int64(ptime), int64(edge)
	if c.mode != "originate" && c.mode != "relay" {
		fmt.Fprintln(os.Stderr, "rtpstat: -mode must be originate or relay")
		os.Exit(2)
	}
	pkts, table, err := readInput(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpstat:", err)
		os.Exit(1)
	}
	out := analyse(c, pkts)
	if table != nil {
		out = append(out, tsharkTable(c, table)...)
	}
	if c.calls != "" && c.calls0 != "" {
		kvs, err := ringoCounters(c.calls0, c.calls)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rtpstat:", err)
			os.Exit(1)
		}
		out = append(out, kvs...)
	}
	w := bufio.NewWriter(os.Stdout)
	for _, kv := range out {
		fmt.Fprintf(w, "%s=%s\n", kv[0], kv[1])
	}
	w.Flush()
}

// readInput splits tshark's output into packets and the lines of its RTP
// stream table.
func readInput(r io.Reader) ([]pkt, []string, error) {
	var pkts []pkt
	var table []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			if strings.TrimSpace(line) != "" {
				table = append(table, line)
			}
			continue
		}
		if f[3] == "" || f[4] == "" || f[5] == "" {
			continue // not decoded as RTP
		}
		p, err := parsePacket(f)
		if err != nil {
			return nil, nil, fmt.Errorf("line %q: %w", line, err)
		}
		pkts = append(pkts, p)
	}
	return pkts, table, sc.Err()
}

func parsePacket(f []string) (pkt, error) {
	var p pkt
	var err error
	if p.t, err = parseEpoch(f[0]); err != nil {
		return p, err
	}
	if p.src, err = strconv.Atoi(f[1]); err != nil {
		return p, err
	}
	if p.dst, err = strconv.Atoi(f[2]); err != nil {
		return p, err
	}
	ssrc, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(f[3]), "0x"), 16, 32)
	if err != nil {
		return p, err
	}
	p.ssrc = uint32(ssrc)
	seq, err := strconv.ParseUint(f[4], 10, 16)
	if err != nil {
		return p, err
	}
	p.seq = uint16(seq)
	ts, err := strconv.ParseUint(f[5], 10, 32)
	if err != nil {
		return p, err
	}
	p.ts = uint32(ts)
	return p, nil
}

// parseEpoch reads "1700000000.123456789" without losing nanoseconds to a
// float.
func parseEpoch(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	v, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, err
	}
	frac = (frac + "000000000")[:9]
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, err
	}
	return v*1e9 + ns, nil
}

func (c config) ours(port int) bool { return port >= c.lo && port <= c.hi }

// analyse computes every figure from the packets.
func analyse(c config, pkts []pkt) [][2]string {
	slices.SortStableFunc(pkts, func(a, b pkt) int { return cmp64(a.t, b.t) })
	var capStart, capEnd int64
	if len(pkts) > 0 {
		capStart, capEnd = pkts[0].t, pkts[len(pkts)-1].t
	}
	streams := map[streamKey][]pkt{}
	var order []streamKey
	for _, p := range pkts {
		k := streamKey{p.src, p.dst, p.ssrc}
		if _, ok := streams[k]; !ok {
			order = append(order, k)
		}
		streams[k] = append(streams[k], p)
	}
	var outS, inS []*streamStats
	var out [][2]string
	add := func(k string, v any) { out = append(out, [2]string{k, fmt.Sprint(v)}) }
	for _, k := range order {
		ps := streams[k]
		if len(ps) < c.minPackets {
			continue
		}
		st := streamFigures(c, ps)
		switch {
		case c.ours(k.src):
			outS = append(outS, st)
		case c.ours(k.dst):
			inS = append(inS, st)
		}
	}
	add("capture_s", fmt.Sprintf("%.2f", float64(capEnd-capStart)/1e9))
	add("captured_packets", len(pkts))
	// Silences of a whole side: no packet at all from Ringo (out) or to it (in)
	// for longer than a packet interval plus the lateness limit. With many
	// streams at independent phases, one means the sender as a whole (or the
	// machine) stalled, not one stream.
	for _, side := range []string{"out", "in"} {
		var last, maxGap, maxAt int64
		n := 0
		for _, p := range pkts {
			if (side == "out") != (c.ours(p.src) && !c.ours(p.dst)) || (side == "in" && !c.ours(p.dst)) {
				continue
			}
			if last != 0 && p.t-last > c.ptimeNS+c.lateNS {
				n++
				if p.t-last > maxGap {
					maxGap, maxAt = p.t-last, last
				}
			}
			last = p.t
		}
		add(side+"_silences", n)
		add(side+"_silence_max_ms", ms(maxGap))
		if maxGap > 0 {
			// when it began, as a Unix time, to compare with logs
			add(side+"_silence_max_start", fmt.Sprintf("%d.%03d", maxAt/1e9, maxAt%1e9/1e6))
		}
	}
	for _, side := range []struct {
		name string
		ss   []*streamStats
	}{{"out", outS}, {"in", inS}} {
		var n, late, gaps, jumps int
		var expected, dur, maxDelta int64
		var lat []int64
		for _, s := range side.ss {
			n += s.packets
			late += s.late
			gaps += s.gaps
			jumps += s.tsJumps
			expected += s.expected
			dur += s.durNS
			maxDelta = max(maxDelta, s.maxDelta)
			lat = append(lat, s.lateNS...)
		}
		p := side.name + "_"
		add(p+"streams", len(side.ss))
		add(p+"packets", n)
		pps := 0.0
		if dur > 0 {
			// packets per second per stream: intervals over time
			pps = float64(n-len(side.ss)) / (float64(dur) / 1e9)
		}
		add(p+"pps_per_stream", fmt.Sprintf("%.2f", pps))
		lost := expected - int64(n)
		add(p+"lost", lost)
		add(p+"lost_pct", pct(lost, expected))
		add(p+"late", late)
		add(p+"late_pct", pct(int64(late), int64(n)))
		slices.Sort(lat)
		add(p+"lateness_p50_ms", ms(percentile(lat, 0.50)))
		add(p+"lateness_p99_ms", ms(percentile(lat, 0.99)))
		add(p+"lateness_p999_ms", ms(percentile(lat, 0.999)))
		add(p+"lateness_max_ms", ms(percentile(lat, 1)))
		add(p+"gaps", gaps)
		add(p+"max_delta_ms", ms(maxDelta))
		add(p+"ts_jumps", jumps)
	}
	if c.mode == "relay" {
		var pairs map[int]int
		if c.calls != "" {
			var err error
			if pairs, err = legPairs(c.calls); err != nil {
				fmt.Fprintln(os.Stderr, "rtpstat:", err)
				os.Exit(1)
			}
		}
		out = append(out, relay(c, streams, order, pairs, capEnd)...)
	}
	return out
}

// streamFigures measures one stream, its packets in arrival order.
func streamFigures(c config, ps []pkt) *streamStats {
	st := &streamStats{firstT: ps[0].t, lastT: ps[len(ps)-1].t}
	seen := map[int64]bool{}
	var extSeq, extTS int64
	var minSeq, maxSeq int64
	tick := int64(1e9) / c.clock
	step := c.ptimeNS / tick // timestamp units per packet
	// sliding minimum of transit over the window: indices into ps
	type tr struct{ t, v int64 }
	var win []tr
	for i, p := range ps {
		if i == 0 {
			extSeq, extTS = int64(p.seq), int64(p.ts)
			minSeq, maxSeq = extSeq, extSeq
		} else {
			prev := ps[i-1]
			ds := int64(int16(p.seq - prev.seq))
			dt := int64(int32(p.ts - prev.ts))
			extSeq += ds
			extTS += dt
			if ds == 1 && dt != step {
				st.tsJumps++
			}
			d := p.t - prev.t
			st.maxDelta = max(st.maxDelta, d)
			if d > c.ptimeNS+c.lateNS {
				st.gaps++
			}
		}
		if seen[extSeq] {
			st.duplicate++
			continue
		}
		seen[extSeq] = true
		st.packets++
		minSeq, maxSeq = min(minSeq, extSeq), max(maxSeq, extSeq)
		transit := p.t - extTS*tick
		for len(win) > 0 && win[0].t < p.t-c.windowNS {
			win = win[1:]
		}
		for len(win) > 0 && win[len(win)-1].v >= transit {
			win = win[:len(win)-1]
		}
		win = append(win, tr{p.t, transit})
		lateness := transit - win[0].v
		st.lateNS = append(st.lateNS, lateness)
		if lateness > c.lateNS {
			st.late++
		}
	}
	st.expected = maxSeq - minSeq + 1
	st.durNS = st.lastT - st.firstT
	return st
}

// relay matches every packet Ringo sent on a port with the packet that
// arrived on the port it relays from (the same port for echo, the call's
// other leg for a bridged call) and measures the delay in between and the
// packets that arrived and were never sent on.
func relay(c config, streams map[streamKey][]pkt, order []streamKey, pairs map[int]int, capEnd int64) [][2]string {
	// input packets by Ringo's port
	in := map[int][]pkt{}
	for _, k := range order {
		if c.ours(k.dst) && !c.ours(k.src) {
			in[k.dst] = append(in[k.dst], streams[k]...)
		}
	}
	for port := range in {
		slices.SortStableFunc(in[port], func(a, b pkt) int { return cmp64(a.t, b.t) })
	}
	from := func(outPort int) int {
		if pairs == nil {
			return outPort // echo: what arrives on a port leaves by it
		}
		if p, ok := pairs[outPort]; ok {
			return p
		}
		return -1
	}
	var delays []int64
	var outN, matched, unmatched, late, inConsidered, dropped, unpaired int
	used := map[int]bool{}
	for _, k := range order {
		if !c.ours(k.src) || c.ours(k.dst) {
			continue
		}
		ops := streams[k]
		if len(ops) < c.minPackets {
			continue
		}
		src := from(k.src)
		ips := in[src]
		if src < 0 || len(ips) == 0 {
			unpaired++
			continue
		}
		used[src] = true
		// The offset between sequence numbers in and out: the most common
		// difference to the latest packet that had arrived.
		hist := map[uint16]int{}
		j := -1
		for _, op := range ops {
			for j+1 < len(ips) && ips[j+1].t <= op.t {
				j++
			}
			if j >= 0 {
				hist[op.seq-ips[j].seq]++
			}
		}
		var off uint16
		best := -1
		for d, n := range hist {
			if n > best || (n == best && d < off) {
				off, best = d, n
			}
		}
		arrival := map[uint16]int64{}
		for _, ip := range ips {
			if _, ok := arrival[ip.seq]; !ok {
				arrival[ip.seq] = ip.t
			}
		}
		sent := map[uint16]bool{}
		for _, op := range ops {
			outN++
			sent[op.seq-off] = true
			t0, ok := arrival[op.seq-off]
			if !ok || t0 > op.t || op.t-t0 > int64(time.Second) {
				unmatched++
				continue
			}
			matched++
			d := op.t - t0
			delays = append(delays, d)
			if d > c.lateNS {
				late++
			}
		}
		// Input packets that were not sent on: only those that arrived
		// after this stream's first packet left and well before the end.
		first := ops[0].t
		for _, ip := range ips {
			if ip.t < first || ip.t > capEnd-c.edgeNS {
				continue
			}
			inConsidered++
			if !sent[ip.seq] {
				dropped++
			}
		}
	}
	slices.Sort(delays)
	var r [][2]string
	add := func(k string, v any) { r = append(r, [2]string{k, fmt.Sprint(v)}) }
	add("relay_out_packets", outN)
	add("relay_matched", matched)
	add("relay_unmatched", unmatched)
	add("relay_unpaired_streams", unpaired)
	add("relay_late", late)
	add("relay_late_pct", pct(int64(late), int64(matched)))
	add("relay_delay_p50_ms", ms(percentile(delays, 0.50)))
	add("relay_delay_p99_ms", ms(percentile(delays, 0.99)))
	add("relay_delay_p999_ms", ms(percentile(delays, 0.999)))
	add("relay_delay_max_ms", ms(percentile(delays, 1)))
	add("relay_in_packets", inConsidered)
	add("relay_dropped", dropped)
	add("relay_dropped_pct", pct(int64(dropped), int64(inConsidered)))
	return r
}

// tsharkTable sums tshark's RTP stream table ("-z rtp,streams") per side.
//
//	Start End SrcIP SrcPort DstIP DstPort SSRC Payload Pkts Lost (x%) MinDelta MeanDelta MaxDelta MinJitter MeanJitter MaxJitter [Problems?]
func tsharkTable(c config, lines []string) [][2]string {
	type agg struct {
		streams, pkts, lost int
		maxDelta, maxJit    float64
		sumMeanJit          float64
	}
	var o, i agg
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 17 {
			continue
		}
		src, err1 := strconv.Atoi(f[3])
		dst, err2 := strconv.Atoi(f[5])
		pk, err3 := strconv.Atoi(f[8])
		lost, err4 := strconv.Atoi(f[9])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			continue
		}
		maxD, _ := strconv.ParseFloat(f[13], 64)
		meanJ, _ := strconv.ParseFloat(f[15], 64)
		maxJ, _ := strconv.ParseFloat(f[16], 64)
		var a *agg
		switch {
		case c.ours(src) && !c.ours(dst):
			a = &o
		case c.ours(dst) && !c.ours(src):
			a = &i
		default:
			continue
		}
		if pk < c.minPackets {
			continue
		}
		a.streams++
		a.pkts += pk
		a.lost += lost
		a.maxDelta = math.Max(a.maxDelta, maxD)
		a.maxJit = math.Max(a.maxJit, maxJ)
		a.sumMeanJit += meanJ
	}
	var r [][2]string
	for _, s := range []struct {
		n string
		a agg
	}{{"out", o}, {"in", i}} {
		p := "tshark_" + s.n + "_"
		mean := 0.0
		if s.a.streams > 0 {
			mean = s.a.sumMeanJit / float64(s.a.streams)
		}
		r = append(r,
			[2]string{p + "streams", strconv.Itoa(s.a.streams)},
			[2]string{p + "packets", strconv.Itoa(s.a.pkts)},
			[2]string{p + "lost", strconv.Itoa(s.a.lost)},
			[2]string{p + "lost_pct", pct(int64(s.a.lost), int64(s.a.pkts+s.a.lost))},
			[2]string{p + "max_delta_ms", fmt.Sprintf("%.1f", s.a.maxDelta)},
			[2]string{p + "max_jitter_ms", fmt.Sprintf("%.2f", s.a.maxJit)},
			[2]string{p + "mean_jitter_ms", fmt.Sprintf("%.2f", mean)})
	}
	return r
}

// apiCall is the part of GET /api/v1/calls that rtpstat reads.
type apiCall struct {
	ID   string `json:"id"`
	Legs []struct {
		Leg        string `json:"leg"`
		Local      string `json:"local"`
		PacketsIn  uint64 `json:"packetsIn"`
		PacketsOut uint64 `json:"packetsOut"`
		Lost       int64  `json:"lost"`
	} `json:"legs"`
}

func readCalls(file string) ([]apiCall, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var calls []apiCall
	if err := json.Unmarshal(b, &calls); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return calls, nil
}

func port(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return -1
	}
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		return -1
	}
	return p
}

// legPairs maps each of Ringo's ports to the port whose input it sends:
// the other leg of a two-leg call, itself for a one-leg (echo) call.
func legPairs(file string) (map[int]int, error) {
	calls, err := readCalls(file)
	if err != nil {
		return nil, err
	}
	pairs := map[int]int{}
	for _, c := range calls {
		switch len(c.Legs) {
		case 1:
			p := port(c.Legs[0].Local)
			pairs[p] = p
		case 2:
			a, b := port(c.Legs[0].Local), port(c.Legs[1].Local)
			pairs[a], pairs[b] = b, a
		}
	}
	return pairs, nil
}

// ringoCounters is what Ringo's own per-leg counters say about the calls
// live at both snapshots, over the time between them.
func ringoCounters(before, after string) ([][2]string, error) {
	c0, err := readCalls(before)
	if err != nil {
		return nil, err
	}
	c1, err := readCalls(after)
	if err != nil {
		return nil, err
	}
	type leg struct {
		in, out uint64
		lost    int64
	}
	m := map[string]leg{}
	for _, c := range c0 {
		for _, l := range c.Legs {
			m[c.ID+"/"+l.Leg+"/"+l.Local] = leg{l.PacketsIn, l.PacketsOut, l.Lost}
		}
	}
	var in, out uint64
	var lost int64
	var legs int
	for _, c := range c1 {
		for _, l := range c.Legs {
			b, ok := m[c.ID+"/"+l.Leg+"/"+l.Local]
			if !ok {
				continue
			}
			legs++
			in += l.PacketsIn - b.in
			out += l.PacketsOut - b.out
			lost += l.Lost - b.lost
		}
	}
	return [][2]string{
		{"ringo_calls_before", strconv.Itoa(len(c0))},
		{"ringo_calls_after", strconv.Itoa(len(c1))},
		{"ringo_legs", strconv.Itoa(legs)},
		{"ringo_packets_in", strconv.FormatUint(in, 10)},
		{"ringo_packets_out", strconv.FormatUint(out, 10)},
		{"ringo_lost", strconv.FormatInt(lost, 10)},
	}, nil
}

func percentile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return sorted[i]
}

func pct(n, of int64) string {
	if of <= 0 {
		return "0"
	}
	return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 3, 64)
}

func ms(ns int64) string { return strconv.FormatFloat(float64(ns)/1e6, 'f', 2, 64) }

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
