#!/usr/bin/env bash
# Whole-system media benchmark (not a test): SIPp calls through Ringo with RTP, Ringo pinned to
# one core and SIPp, dumpcap and tshark to the other. Packet rate, loss and lateness are read from
# a loopback capture of Ringo's RTP ports (dumpcap, then tshark's RTP analysis and bench/media/rtpstat
# on tshark's per-packet output), with Ringo's own per-leg counters beside them.
#
# Steps (STEPS, in this order by default):
#   playback  N calls to tone@ held HOLD_S: N one-leg streams Ringo generates (50 pkt/s each),
#             SIPp sending 50 pkt/s towards Ringo on each call as a phone does
#   prompt    calls to playback@ at RATE calls/s for PROMPT_S s: answer, play the 2 s prompt,
#             hang up (the Asterisk "Answer(),Playback(),Hangup()" step), SIPp sending RTP
#   echo      N calls to echo@ held HOLD_S, SIPp sending 50 pkt/s on each (100 pkt/s through Ringo)
#   bridged   N anchored calls SIPp UAC -> Ringo -> SIPp UAS (registered account "uas", alias 200),
#             both sides sending 50 pkt/s (200 pkt/s through Ringo per call)
#   memory    N echo calls held, no capture: Ringo's RSS and Go heap before and after, per call
# Ringo is started afresh for every row.
#
# Usage: bench/media/run.sh                      (results in $OUT; Markdown tables on stdout)
# Knobs: STEPS="playback prompt echo bridged memory"
#        PLAYBACK_N="100 200" ECHO_N="100 200" BRIDGED_N="50 100" MEMORY_N=500 PROMPT_RATES="25 50"
#        MEASURE_S=10 (each of the two windows, CPU then capture, once every call is up) SETTLE_S=3
#        RAMP=100 (calls/s while the held calls are set up)
#        HOLD_S= PROMPT_S= (default: long enough for the ramp, SETTLE_S and the two windows)
#        CAPTURE=true|false (false: no dumpcap, to see what capturing costs) KEEP_PCAP=false LATE_MS=5
#        GCTRACE=true (Ringo's garbage collections in each row's ringo.log, GODEBUG=gctrace=1)
#        REPEAT=1 (each row this many times, each with a fresh Ringo: the spread shows the noise)
#        RINGO_CPU=0 LOAD_CPU=1 RTP_PORTS=20000-24999 USERS=200
#        RINGO_BIN= (a ringo binary to measure; default: go build ./cmd/ringo of this tree)
#        SIP_PORT=5085 HTTP_PORT=8091 UAC_PORT=5086 UAS_PORT=5087 REG_PORT=5088 CTRL_PORT=5093
#        UAC_MP=26000 UAS_MP=26100
# Needs: sipp (sip-tester), tshark and dumpcap (tshark; capturing on lo needs root or the
# capture capabilities), taskset, curl, go; sox is used for the RTP file when present.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/ringo-media-bench.XXXXXX)}
STEPS=${STEPS:-"playback prompt echo bridged memory"}
PLAYBACK_N=${PLAYBACK_N:-"100 200"}
ECHO_N=${ECHO_N:-"100 200"}
BRIDGED_N=${BRIDGED_N:-"50 100"}
MEMORY_N=${MEMORY_N:-500}
PROMPT_RATES=${PROMPT_RATES:-"25 50"}
PROMPT_S=${PROMPT_S:-}
MEASURE_S=${MEASURE_S:-10}
SETTLE_S=${SETTLE_S:-3}
RAMP=${RAMP:-100}
HOLD_S=${HOLD_S:-}
CAPTURE=${CAPTURE:-true}
KEEP_PCAP=${KEEP_PCAP:-false}
GCTRACE=${GCTRACE:-false}
REPEAT=${REPEAT:-1}
LATE_MS=${LATE_MS:-5}
RINGO_CPU=${RINGO_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
RTP_PORTS=${RTP_PORTS:-20000-24999}
USERS=${USERS:-200}
RINGO_BIN=${RINGO_BIN:-}
SIP_PORT=${SIP_PORT:-5085}
HTTP_PORT=${HTTP_PORT:-8091}
UAC_PORT=${UAC_PORT:-5086}
UAS_PORT=${UAS_PORT:-5087}
REG_PORT=${REG_PORT:-5088}
CTRL_PORT=${CTRL_PORT:-5093}
UAC_MP=${UAC_MP:-26000}
UAS_MP=${UAS_MP:-26100}
SIP=127.0.0.1:$SIP_PORT
HTTP=127.0.0.1:$HTTP_PORT
RTP_LO=${RTP_PORTS%-*}
RTP_HI=${RTP_PORTS#*-}
SIPP_DIR="$HERE/sipp"
CLK=$(getconf CLK_TCK)

die() { echo "media bench: $*" >&2; exit 2; }
need() { command -v "$1" >/dev/null || die "$1 is missing: $2"; }
need sipp "apt-get install sip-tester"
need taskset "apt-get install util-linux"
need curl "apt-get install curl"
need tshark "apt-get install tshark"
need dumpcap "apt-get install tshark"
need editcap "apt-get install tshark"
need ss "apt-get install iproute2"
need go "https://go.dev/dl/"
case "$CAPTURE" in true | false) ;; *) die "CAPTURE must be true or false" ;; esac
[ "$(nproc)" -ge 2 ] || echo "media bench: only $(nproc) CPU: Ringo and the load generators share it" >&2

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$OUT"
echo "results in $OUT" >&2

# --- ports ------------------------------------------------------------------------------------
# udp_bound PORT / tcp_bound PORT: whether something listens there.
udp_bound() { [ -n "$(ss -Hlnu "sport = :$1" 2>/dev/null)" ]; }
tcp_bound() { [ -n "$(ss -Hlnt "sport = :$1" 2>/dev/null)" ]; }
check_ports() {
  local p busy=()
  for p in "$SIP_PORT" "$UAC_PORT" "$UAS_PORT" "$REG_PORT" "$CTRL_PORT" $((CTRL_PORT + 1)) $((CTRL_PORT + 2)) \
    "$UAC_MP" $((UAC_MP + 1)) "$UAS_MP" $((UAS_MP + 1)); do
    udp_bound "$p" && busy+=("udp/$p")
  done
  for p in "$SIP_PORT" "$HTTP_PORT"; do tcp_bound "$p" && busy+=("tcp/$p"); done
  [ ${#busy[@]} -eq 0 ] || die "ports in use: ${busy[*]} (another benchmark running? change *_PORT)"
  local n
  n=$(ss -Hlnu 2>/dev/null | awk -v lo="$RTP_LO" -v hi="$RTP_HI" '{n = split($4, a, ":"); p = a[n] + 0; if (p >= lo && p <= hi) c++} END {print c + 0}')
  # Ringo passes over ports others hold, and the capture keeps only packets to and from SIPp's
  # media ports, so this is only a warning.
  [ "$n" = 0 ] || echo "media bench: note: $n UDP ports in RTP_PORTS=$RTP_PORTS are held by other programs" >&2
}
check_ports

# --- build and files --------------------------------------------------------------------------
if [ -n "$RINGO_BIN" ]; then
  cp "$RINGO_BIN" "$OUT/ringo"
else
  (cd "$ROOT" && go build -o "$OUT/ringo" ./cmd/ringo)
fi
(cd "$ROOT" && go build -o "$OUT/rtpstat" ./bench/media/rtpstat)

# Callers u1000.. (password pw1000..); the callee account "uas" with alias 200.
{
  echo "SEQUENTIAL"
  for ((i = 1000; i < 1000 + USERS; i++)); do echo "u$i;[authentication username=u$i password=pw$i]"; done
} > users.csv
printf 'SEQUENTIAL\nuas;[authentication username=uas password=uaspw]\n' > uas.csv
{
  echo "domains:"
  echo "  - name: bench.test"
  echo "    main: true"
  echo "    accounts:"
  echo "      - { name: uas, password: uaspw, aliases: [\"200\"] }"
  for ((i = 1000; i < 1000 + USERS; i++)); do echo "      - { name: u$i, password: pw$i }"; done
} > accounts.yaml
cat > ringo.yaml <<EOF
security: { failLimit: 100000000 }
registrar: { maxExpires: 7200 }
calls: { drainTimeout: 1s }
records: { enabled: false }
rtp: { anchor: true, ports: $RTP_PORTS }
EOF
# What SIPp streams: 3 s of a 440 Hz tone in raw mu-law, sent as 20 ms PCMU packets and looped.
if command -v sox >/dev/null; then
  sox -n -r 8000 -c 1 -e u-law -t raw rtp.ulaw synth 3 sine 440 vol 0.3
else
  head -c 24000 /dev/urandom > rtp.ulaw
fi
RTP_STREAM="$OUT/rtp.ulaw,-1,0"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -r), $(nproc) CPU, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  if [ -n "$RINGO_BIN" ]; then
    echo "ringo: the binary $RINGO_BIN"
  else
    echo "ringo: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$([ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -1)" ] && echo ' (working tree with changes)')"
  fi
  echo "sipp: $(sipp -v 2>&1 | awk '/SIPp v/ {print $2; exit}'), tshark: $(tshark --version 2>/dev/null | awk 'NR == 1 {print $3}')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "knobs: STEPS='$STEPS' PLAYBACK_N='$PLAYBACK_N' ECHO_N='$ECHO_N' BRIDGED_N='$BRIDGED_N' MEMORY_N='$MEMORY_N' PROMPT_RATES='$PROMPT_RATES' MEASURE_S=$MEASURE_S SETTLE_S=$SETTLE_S RAMP=$RAMP HOLD_S=${HOLD_S:-auto} CAPTURE=$CAPTURE LATE_MS=$LATE_MS"
} > env.txt
cat env.txt >&2

# --- processes --------------------------------------------------------------------------------
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  return 0
}
trap cleanup EXIT

# stop_pid PID SECONDS: wait for PID to exit by itself for SECONDS, then TERM, then KILL.
stop_pid() {
  local pid=$1 secs=$2 i
  [ -n "$pid" ] || return 0
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  # forget it, so that the exit trap never signals a later process given the same PID
  local p keep=()
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

token() { cat "$OUT/data/admin.token"; }
api() { curl -sf -m 10 -H "Authorization: Bearer $(token)" "http://$HTTP$1"; }
# metric NAME: a value from /metrics text on standard input.
metric() { awk -v m="$1" '$1 == m {printf "%.0f\n", $2; f = 1} END {if (!f) print 0}'; }
active_calls() { curl -s -m 5 "http://$HTTP/metrics" | metric ringo_active_calls; }

RINGO_PID=
start_ringo() {
  rm -rf "$OUT/data"
  local godebug=${GODEBUG:-}
  [ "$GCTRACE" = true ] && godebug=${godebug:+$godebug,}gctrace=1
  date +%s.%N > ringo.started
  GODEBUG=$godebug taskset -c "$RINGO_CPU" "$OUT/ringo" serve --data "$OUT/data" --config "$OUT/ringo.yaml" --sip "$SIP" \
    --http "$HTTP" --log-level warn > ringo.log 2>&1 &
  RINGO_PID=$!
  pids+=("$RINGO_PID")
  local i
  for ((i = 0; i < 100; i++)); do curl -sf -m 1 "http://$HTTP/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf -m 1 "http://$HTTP/healthz" >/dev/null || { tail ringo.log >&2; die "ringo did not start"; }
  "$OUT/ringo" apply -f "$OUT/accounts.yaml" --data "$OUT/data" --server "http://$HTTP" >/dev/null
}
stop_ringo() { kill -TERM "$RINGO_PID" 2>/dev/null || true; stop_pid "$RINGO_PID" 10; RINGO_PID=; }

# sipp_bg NAME ARGS...: SIPp pinned to LOAD_CPU in the background, logs in NAME.*; SIPP_PID.
sipp_bg() {
  local name=$1
  shift
  taskset -c "$LOAD_CPU" sipp "$@" -i 127.0.0.1 -nostdin -trace_err -error_file "$name.errors.log" \
    -max_recv_loops 100000 -max_sched_loops 100000 > "$name.out" 2>&1 &
  SIPP_PID=$!
  pids+=("$SIPP_PID")
}

UAS_PID=
start_uas() {
  # register the SIPp UAS as "uas" (Contact 127.0.0.1:UAS_PORT), then answer on that port
  taskset -c "$LOAD_CPU" sipp "$SIP" -sf "$ROOT/bench/sipp/uac_register.xml" -inf "$OUT/uas.csv" -key expires 7200 \
    -key contact "127.0.0.1:$UAS_PORT" -i 127.0.0.1 -p "$REG_PORT" -ci 127.0.0.1 -cp $((CTRL_PORT + 2)) \
    -m 1 -nostdin -timeout 10s > register.out 2>&1 || die "registering the UAS failed (see $PWD/register.out)"
  sipp_bg uas "$SIP" -sf "$SIPP_DIR/uas_rtp_answer.xml" -p "$UAS_PORT" -mi 127.0.0.1 -mp "$UAS_MP" \
    -ci 127.0.0.1 -cp $((CTRL_PORT + 1)) -key rtp_stream "$RTP_STREAM" -timeout 3600s -trace_stat -stf uas_stat.csv
  UAS_PID=$SIPP_PID
}

# --- measurements -----------------------------------------------------------------------------
ticks() { [ -n "${1:-}" ] && awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# major page faults (a page read back from disk: the process waited for it)
majflt() { [ -n "${1:-}" ] && awk '{sub(/^.*\) /, ""); print $10}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# cpu_line N: "user+nice+system irq+softirq steal total" of core N, in ticks.
cpu_line() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4, $7 + $8, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
# Kernel receive drops on Ringo's RTP sockets (/proc/net/udp: last column, local port in range).
udp_drops() {
  awk -v lo="$RTP_LO" -v hi="$RTP_HI" '
    function hex(s,   i, v) { v = 0; s = toupper(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return v }
    NR > 1 { split($2, a, ":"); p = hex(a[2]); if (p >= lo && p <= hi) d += $NF }
    END { print d + 0 }' /proc/net/udp
}

# snapshot PREFIX: CPU, memory and counters into the shell variables PREFIX_*.
snapshot() {
  local p=$1
  printf -v "${p}_t" '%s' "$(date +%s.%N)"
  printf -v "${p}_ringo" '%s' "$(ticks "$RINGO_PID")"
  printf -v "${p}_uac" '%s' "$(ticks "${UAC_PID:-}")"
  printf -v "${p}_uas" '%s' "$(ticks "${UAS_PID:-}")"
  printf -v "${p}_cap" '%s' "$(ticks "${CAP_PID:-}")"
  printf -v "${p}_c0" '%s' "$(cpu_line "$RINGO_CPU")"
  printf -v "${p}_c1" '%s' "$(cpu_line "$LOAD_CPU")"
  printf -v "${p}_drops" '%s' "$(udp_drops)"
  printf -v "${p}_rmaj" '%s' "$(majflt "$RINGO_PID")"
  printf -v "${p}_smaj" '%s' "$(($(majflt "${UAC_PID:-}") + $(majflt "${UAS_PID:-}")))"
}
# ringo_state PREFIX [gc]: what is read from Ringo itself, into PREFIX_*: outside the CPU window,
# as it costs Ringo. With "gc", a collection first (the heap profile's ?gc=1), so that the heap
# figure is the live heap; RSS is read before it.
ringo_state() {
  local p=$1 m
  printf -v "${p}_rss" '%s' "$(rss_kb "$RINGO_PID")"
  [ "${2:-}" = gc ] && api "/debug/pprof/heap?gc=1" > /dev/null
  printf -v "${p}_mt" '%s' "$(date +%s.%N)"
  m=$(curl -s -m 5 "http://$HTTP/metrics")
  printf -v "${p}_heap" '%s' "$(metric go_memstats_heap_inuse_bytes <<< "$m")"
  printf -v "${p}_gor" '%s' "$(metric go_goroutines <<< "$m")"
  printf -v "${p}_pin" '%s' "$(metric ringo_media_packets_received_total <<< "$m")"
  printf -v "${p}_pout" '%s' "$(metric ringo_media_packets_sent_total <<< "$m")"
  printf -v "${p}_active" '%s' "$(metric ringo_active_calls <<< "$m")"
}

# window_figures: CPU figures of the window between snapshots a and b, as key=value lines.
window_figures() {
  # shellcheck disable=SC2154 # set by snapshot
  awk -v t0="$a_t" -v t1="$b_t" -v k="$CLK" \
    -v r0="$a_ringo" -v r1="$b_ringo" -v u0="$a_uac" -v u1="$b_uac" -v s0="$a_uas" -v s1="$b_uas" \
    -v d0="$a_cap" -v d1="$b_cap" -v c00="$a_c0" -v c01="$b_c0" -v c10="$a_c1" -v c11="$b_c1" \
    -v x0="$a_drops" -v x1="$b_drops" -v m0="$a_rmaj" -v m1="$b_rmaj" -v n0="$a_smaj" -v n1="$b_smaj" 'BEGIN {
      w = t1 - t0; split(c00, a, " "); split(c01, b, " "); split(c10, c, " "); split(c11, d, " ")
      ringo = (r1 - r0) / k / w * 100; sipp = ((u1 - u0) + (s1 - s0)) / k / w * 100; cap = (d1 - d0) / k / w * 100
      t0c = b[4] - a[4]; t1c = d[4] - c[4]
      # other: process time on each core that is none of ours (Ringo is pinned to the first core,
      # SIPp and dumpcap to the second); irq and softirq time is shown apart.
      o0 = ((b[1] - a[1]) - (r1 - r0)) / t0c * 100; o1 = ((d[1] - c[1]) - (u1 - u0) - (s1 - s0) - (d1 - d0)) / t1c * 100
      printf "window_s=%.2f\nringo_cpu=%.1f\nsipp_cpu=%.1f\ndumpcap_cpu=%.1f\n", w, ringo, sipp, cap
      printf "other_cpu_core_ringo=%.1f\nother_cpu_core_load=%.1f\n", (o0 < 0 ? 0 : o0), (o1 < 0 ? 0 : o1)
      printf "softirq_core_ringo=%.1f\nsoftirq_core_load=%.1f\n", (b[2] - a[2]) / t0c * 100, (d[2] - c[2]) / t1c * 100
      printf "steal_core_ringo=%.1f\nsteal_core_load=%.1f\n", (b[3] - a[3]) / t0c * 100, (d[3] - c[3]) / t1c * 100
      printf "kernel_drops=%d\nringo_major_faults=%d\nsipp_major_faults=%d\n", x1 - x0, m1 - m0, n1 - n0
    }'
}

kv() { awk -F= -v k="$1" '$1 == k {v = $2} END {print (v == "" ? "-" : v)}' "$2"; }

# sipp_result STATFILE: "ok failed" from the last line of SIPp's statistics.
sipp_result() {
  if [ -s "$1" ]; then tail -1 "$1" | awk -F';' '{print $16 + 0, $18 + 0}'; else echo "- -"; fi
}
# setup_ms: median and p95 of response time 1 (INVITE with credentials -> 200) in ms.
setup_ms() {
  cat ./*_rtt.csv 2>/dev/null | awk -F';' '$3 == 1 {print $2}' | sort -n | awk '{a[NR] = $1} END {
    if (NR == 0) { print "- -"; exit }
    m = int(NR * 0.5) + 1; if (m > NR) m = NR; p = int(NR * 0.95); if (p < 1) p = 1
    printf "%.0f %.0f\n", a[m], a[p] }'
}

# wait_calls N SECONDS: until Ringo has N calls up; prints how many it has.
wait_calls() {
  local n=$1 secs=$2 i up=0
  for ((i = 0; i < secs * 5; i++)); do
    up=$(active_calls)
    [ "$up" -ge "$n" ] && break
    kill -0 "$UAC_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "$up"
}

CAP_PID=
# start_capture FILE SECONDS: dumpcap on lo, headers only, of the packets between Ringo's even (RTP)
# ports and SIPp's media ports: no RTCP, and nothing of other programs that use ports in the range.
# Setting up the capture's kernel buffer stalls loopback traffic for a moment (about 0.7 s with a
# 256 MiB buffer, 0.1 s with 64 MiB), so the capture starts CAPTURE_LEAD_S before the measured
# window and is cut to the window (editcap) before the analysis.
CAPTURE_LEAD_S=2
start_capture() {
  CAP_PID=
  [ "$CAPTURE" = true ] || return 0
  local sp="(port $UAC_MP or port $UAS_MP)"
  local f="udp and $sp and ((src portrange $RTP_LO-$RTP_HI and udp[0:2] & 1 = 0) or (dst portrange $RTP_LO-$RTP_HI and udp[2:2] & 1 = 0))"
  taskset -c "$LOAD_CPU" dumpcap -i lo -f "$f" -s 96 -B 32 -P -w "$1" -a "duration:$(($2 + CAPTURE_LEAD_S + 2))" \
    > dumpcap.log 2>&1 &
  CAP_PID=$!
  pids+=("$CAP_PID")
  local i
  for ((i = 0; i < 50; i++)); do grep -q "^Capturing on" dumpcap.log 2>/dev/null && break; sleep 0.1; done
  grep -q "^Capturing on" dumpcap.log || { cat dumpcap.log >&2; die "dumpcap did not start (root needed to capture on lo)"; }
  sleep "$CAPTURE_LEAD_S"
}

# analyse MODE: tshark's RTP analysis of capture.pcap through rtpstat into rtp.kv.
analyse() {
  [ "$CAPTURE" = true ] || { : > rtp.kv; return 0; }
  local drops
  drops=$(sed -n 's|.*received/dropped on interface.*: *[0-9]*/\([0-9]*\) .*|\1|p' dumpcap.log)
  local calls=()
  [ -s calls_b.json ] && [ -s calls_a.json ] && calls=(-calls calls_b.json -calls0 calls_a.json)
  # shellcheck disable=SC2154 # a_t, b_t: the window, set by snapshot
  timeout 300 editcap -A "$a_t" -B "$b_t" capture.pcap window.pcap
  timeout 900 taskset -c "$LOAD_CPU" tshark -r window.pcap -n -d "udp.port==$RTP_LO-$RTP_HI,rtp" -z rtp,streams \
    -T fields -E separator=/t -e frame.time_epoch -e udp.srcport -e udp.dstport -e rtp.ssrc -e rtp.seq \
    -e rtp.timestamp 2>tshark.err | "$OUT/rtpstat" -lo "$RTP_LO" -hi "$RTP_HI" -mode "$1" -late "${LATE_MS}ms" \
    "${calls[@]}" > rtp.kv
  echo "capture_dropped=${drops:-?}" >> rtp.kv
  [ "$KEEP_PCAP" = true ] || rm -f capture.pcap window.pcap
}

# verdict KIND FAILED PPS LATE LOSS UP N: "yes" when every call was up and none failed, the
# streams ran at 50 pkt/s (within 2 %) and less than 0.1 % of the packets were lost; for the
# streams Ringo generates (playback, prompt) also less than 0.1 % late. For relayed media the
# relay delay is shown but not judged: SIPp sends every call's packet in one burst each 20 ms,
# so the delay is mostly queueing behind that burst.
verdict() {
  awk -v kind="$1" -v f="$2" -v pps="$3" -v late="$4" -v loss="$5" -v up="$6" -v n="$7" 'BEGIN {
    if (pps == "-" || loss == "-") { print (f == 0 && up >= n ? "calls ok, no capture" : "no"); exit }
    ok = f == 0 && up >= n && pps >= 49 && pps <= 51 && loss < 0.1
    if (kind == "playback" || kind == "prompt") ok = ok && late != "-" && late < 0.1
    print ok ? "yes" : "no" }'
}

# --- steps ------------------------------------------------------------------------------------
# table NAME HEADER SEPARATOR: starts a Markdown table unless NAME's is the last one started.
TABLE=
table() {
  [ "$TABLE" = "$1" ] && return 0
  TABLE=$1
  printf '\n%s\n%s\n' "$2" "$3" | tee -a "$OUT/results.md"
}
row() { echo "$*" | tee -a "$OUT/results.md"; }

# measure_windows SECONDS [calls]: two windows of SECONDS on the same calls. First the CPU window,
# with nothing but the calls running: Ringo's CPU, memory and counters (window.kv; the state
# after it is read with a collection first, for the live heap). Then, with CAPTURE, the capture
# window (capture_window.kv, keys prefixed cap_), whose packets analyse reads: capturing on
# loopback costs every sender CPU for each packet (its copy to the capture is made as it is
# sent), Ringo included, so CPU is not taken from that window. With "calls", GET /api/v1/calls
# around the capture window (calls_a.json, calls_b.json), for Ringo's per-leg counters.
measure_windows() {
  local secs=$1
  CAP_PID=
  ringo_state a
  snapshot a
  sleep "$secs"
  snapshot b
  ringo_state b gc
  window_figures > window.kv
  : > capture_window.kv
  [ "$CAPTURE" = true ] || return 0
  start_capture capture.pcap "$secs"
  if [ "${2:-}" = calls ]; then api /api/v1/calls > calls_a.json; fi
  snapshot a
  sleep "$secs"
  snapshot b
  if [ "${2:-}" = calls ]; then api /api/v1/calls > calls_b.json; fi
  window_figures | sed 's/^/cap_/' > capture_window.kv
}

# worst K FILE: the larger of K and cap_K (the two windows).
worst() {
  awk -F= -v k="$1" '$1 == k || $1 == "cap_" k {if (v == "" || $2 + 0 > v + 0) v = $2} END {print (v == "" ? "-" : v)}' "$2"
}

# held_step KIND N: N calls held at once (KIND playback, echo, bridged, memory); one table row.
held_step() {
  local kind=$1 n=$2 dir svc mode capture_was=$CAPTURE
  dir="$OUT/$kind-$n${RUN_SUFFIX:-}"
  rm -rf "$dir"
  mkdir -p "$dir"
  cd "$dir"
  case "$kind" in
    playback) svc=tone mode=originate ;;
    echo) svc=echo mode=relay ;;
    bridged) svc=200 mode=relay ;;
    memory) svc=echo mode=relay CAPTURE=false ;;
  esac
  local ramp_s=$(((n + RAMP - 1) / RAMP)) extra=0
  [ "$CAPTURE" = true ] && extra=$((CAPTURE_LEAD_S + MEASURE_S))
  local hold=${HOLD_S:-$((ramp_s + SETTLE_S + MEASURE_S + extra + 15))}
  start_ringo
  UAS_PID=
  [ "$kind" = bridged ] && start_uas
  sleep 1
  ringo_state z gc
  sipp_bg uac "$SIP" -sf "$SIPP_DIR/uac_rtp_hold.xml" -inf "$OUT/users.csv" -s "$svc" -d $((hold * 1000)) \
    -r "$RAMP" -m "$n" -l "$n" -p "$UAC_PORT" -mi 127.0.0.1 -mp "$UAC_MP" -ci 127.0.0.1 -cp "$CTRL_PORT" \
    -key rtp_stream "$RTP_STREAM" -timeout $((hold + ramp_s + 60))s -recv_timeout 30s \
    -trace_stat -stf uac_stat.csv -trace_rtt -rtt_freq 1
  UAC_PID=$SIPP_PID
  local up
  up=$(wait_calls "$n" $((ramp_s + 30)))
  sleep "$SETTLE_S"
  measure_windows "$MEASURE_S" calls
  stop_pid "$CAP_PID" $((CAPTURE_LEAD_S + 10))
  stop_pid "$UAC_PID" $((hold + ramp_s + 90))
  if [ -n "$UAS_PID" ]; then kill -TERM "$UAS_PID" 2>/dev/null || true; stop_pid "$UAS_PID" 5; fi
  stop_ringo
  analyse "$mode"
  CAPTURE=$capture_was
  # shellcheck disable=SC2154 # set by ringo_state
  {
    echo "calls=$n"
    echo "calls_up=$up"
    echo "hold_s=$hold"
    echo "rss_idle_kb=$z_rss"
    echo "rss_kb=$b_rss"
    echo "heap_idle=$z_heap"
    echo "heap=$b_heap"
    echo "goroutines_idle=$z_gor"
    echo "goroutines=$b_gor"
    echo "active_calls=$b_active"
    awk -v a="$a_pin" -v b="$b_pin" -v c="$a_pout" -v d="$b_pout" -v t0="$a_mt" -v t1="$b_mt" \
      'BEGIN {printf "ringo_pps_in=%.0f\nringo_pps_out=%.0f\n", (b - a) / (t1 - t0), (d - c) / (t1 - t0)}'
    read -r ok failed < <(sipp_result uac_stat.csv)
    echo "sipp_ok=$ok"
    echo "sipp_failed=$failed"
    read -r med p95 < <(setup_ms)
    echo "setup_median_ms=$med"
    echo "setup_p95_ms=$p95"
    cat window.kv capture_window.kv rtp.kv
  } > step.kv
  local f=step.kv cpu pps late lat99 loss percore rsscall heapcall
  cpu=$(kv ringo_cpu $f)
  percore=$(awk -v n="$up" -v c="$cpu" 'BEGIN {print (c > 0 ? sprintf("%.0f", n * 100 / c) : "-")}')
  rsscall=$(awk -v a="$z_rss" -v b="$b_rss" -v n="$up" 'BEGIN {print (n > 0 ? sprintf("%.1f", (b - a) / n) : "-")}')
  heapcall=$(awk -v a="$z_heap" -v b="$b_heap" -v n="$up" 'BEGIN {print (n > 0 ? sprintf("%.1f", (b - a) / 1024 / n) : "-")}')
  pps=$(kv out_pps_per_stream $f)
  loss=$(kv tshark_out_lost_pct $f)
  if [ "$mode" = relay ]; then
    # Ringo's share: the time from a packet's arrival at Ringo's port to its copy leaving
    late=$(kv relay_late_pct $f) lat99=$(kv relay_delay_p99_ms $f)
    loss=$(awk -v a="$(kv relay_dropped_pct $f)" -v b="$loss" 'BEGIN {print (a == "-" || b == "-") ? b : (a + 0 > b + 0 ? a : b)}')
  else
    # behind the stream's own schedule (RTP timestamps)
    late=$(kv out_late_pct $f) lat99=$(kv out_lateness_p99_ms $f)
  fi
  table held "| step | calls up | Ringo CPU % | per core | CPU % under capture | pkt/s per stream | late > ${LATE_MS} ms % | p99 ms | loss % | Ringo pkt/s in / out | kernel drops | RSS KiB/call | heap KiB/call | SIPp CPU % | other CPU % (Ringo's core / load core) | steal % | failed calls | pass |" \
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  row "| $kind${RUN_SUFFIX:-} | $up/$n | $cpu | $percore | $(kv cap_ringo_cpu $f) | $pps | $late | $lat99 | $loss | $(kv ringo_pps_in $f) / $(kv ringo_pps_out $f) | $(worst kernel_drops $f) | $rsscall | $heapcall | $(kv sipp_cpu $f) | $(worst other_cpu_core_ringo $f) / $(worst other_cpu_core_load $f) | $(worst steal_core_ringo $f) / $(worst steal_core_load $f) | $(kv sipp_failed $f) | $(verdict "$kind" "$(kv sipp_failed $f)" "$pps" "$late" "$loss" "$up" "$n") |"
  cd "$OUT"
}

# prompt_step RATE: calls to playback@ at RATE/s for PROMPT_S s; one table row.
prompt_step() {
  local rate=$1 dir="$OUT/prompt-$1${RUN_SUFFIX:-}"
  # steady state: the prompt lasts 2 s, so the calls up settle at about 2 x RATE after a few seconds
  local warm=$((SETTLE_S + 2)) measure=$MEASURE_S extra=0
  [ "$CAPTURE" = true ] && extra=$CAPTURE_LEAD_S
  local secs=${PROMPT_S:-$((warm + 2 * measure + extra + 5))}
  [ "$CAPTURE" = true ] && [ $((warm + 2 * measure + extra + 5)) -gt "$secs" ] && measure=$(((secs - warm - extra - 5) / 2))
  [ "$measure" -ge 2 ] || die "PROMPT_S=$secs is too short for SETTLE_S=$SETTLE_S"
  local n=$((rate * secs))
  rm -rf "$dir"
  mkdir -p "$dir"
  cd "$dir"
  start_ringo
  UAS_PID=
  sleep 1
  sipp_bg uac "$SIP" -sf "$SIPP_DIR/uac_rtp_wait_bye.xml" -inf "$OUT/users.csv" -s playback \
    -r "$rate" -m "$n" -l $((rate * 10 + 100)) -p "$UAC_PORT" -mi 127.0.0.1 -mp "$UAC_MP" -ci 127.0.0.1 \
    -cp "$CTRL_PORT" -key rtp_stream "$RTP_STREAM" -timeout $((secs + 60))s -recv_timeout 20s \
    -trace_stat -stf uac_stat.csv -trace_rtt -rtt_freq 1
  UAC_PID=$SIPP_PID
  sleep "$warm"
  measure_windows "$measure"
  stop_pid "$CAP_PID" $((CAPTURE_LEAD_S + 10))
  stop_pid "$UAC_PID" $((secs + 90))
  stop_ringo
  analyse originate
  # shellcheck disable=SC2154 # set by ringo_state
  {
    echo "rate=$rate"
    echo "calls=$n"
    echo "calls_up_start=$a_active"
    echo "calls_up_end=$b_active"
    read -r ok failed < <(sipp_result uac_stat.csv)
    echo "sipp_ok=$ok"
    echo "sipp_failed=$failed"
    read -r med p95 < <(setup_ms)
    echo "setup_median_ms=$med"
    echo "setup_p95_ms=$p95"
    cat window.kv capture_window.kv rtp.kv
  } > step.kv
  local f=step.kv cpu up percore
  cpu=$(kv ringo_cpu $f)
  up=$(awk -v a="$a_active" -v b="$b_active" 'BEGIN {printf "%.0f", (a + b) / 2}')
  percore=$(awk -v n="$up" -v c="$cpu" 'BEGIN {print (c > 0 ? sprintf("%.0f", n * 100 / c) : "-")}')
  table prompt "| step | calls/s | ok | failed | setup median / p95 ms | playbacks up | Ringo CPU % | playbacks per core | CPU % under capture | pkt/s per stream | late > ${LATE_MS} ms % | p99 ms | loss % | kernel drops | SIPp CPU % | other CPU % (Ringo's core / load core) | steal % | pass |" \
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  row "| prompt${RUN_SUFFIX:-} | $rate | $(kv sipp_ok $f) | $(kv sipp_failed $f) | $(kv setup_median_ms $f) / $(kv setup_p95_ms $f) | $up | $cpu | $percore | $(kv cap_ringo_cpu $f) | $(kv out_pps_per_stream $f) | $(kv out_late_pct $f) | $(kv out_lateness_p99_ms $f) | $(kv tshark_out_lost_pct $f) | $(worst kernel_drops $f) | $(kv sipp_cpu $f) | $(worst other_cpu_core_ringo $f) / $(worst other_cpu_core_load $f) | $(worst steal_core_ringo $f) / $(worst steal_core_load $f) | $(verdict prompt "$(kv sipp_failed $f)" "$(kv out_pps_per_stream $f)" "$(kv out_late_pct $f)" "$(kv tshark_out_lost_pct $f)" 1 1) |"
  cd "$OUT"
}

: > results.md
RUN_SUFFIX=
for step in $STEPS; do
  for ((run = 1; run <= REPEAT; run++)); do
    [ "$REPEAT" -gt 1 ] && RUN_SUFFIX=-run$run
    case "$step" in
      playback) for n in $PLAYBACK_N; do held_step playback "$n"; done ;;
      echo) for n in $ECHO_N; do held_step echo "$n"; done ;;
      bridged) for n in $BRIDGED_N; do held_step bridged "$n"; done ;;
      memory) for n in $MEMORY_N; do held_step memory "$n"; done ;;
      prompt) for r in $PROMPT_RATES; do prompt_step "$r"; done ;;
      *) die "unknown step $step (playback prompt echo bridged memory)" ;;
    esac
  done
done
