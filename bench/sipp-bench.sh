#!/usr/bin/env bash
# Whole-system SIP benchmark (not a test): SIPp UAC -> Ringo (B2BUA) -> SIPp UAS,
# signalling only, Ringo pinned to one core and the load generators to the other;
# then REGISTER with digest; then an overload step that must be shed with 503.
# Optionally the same call steps through Kamailio as a stateful proxy (REFERENCE=kamailio).
#
# Usage: bench/sipp-bench.sh            (results in $OUT, a Markdown table on stdout)
# Knobs: CALL_RATES="500 1000 ..." REG_RATES="..." STEP=20 USERS=1000 RINGO_CPU=0 LOAD_CPU=1
#        OVERLOAD_RATE=... MAX_RATE=... (Ringo's calls.maxRate for the overload step), HOLD_MS=100
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/ringo-bench.XXXXXX)}
CALL_RATES=${CALL_RATES:-"250 500 1000 1500 2000"}
REG_RATES=${REG_RATES:-"1000 2000 4000 6000"}
STEP=${STEP:-20}
USERS=${USERS:-1000}
RINGO_CPU=${RINGO_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HOLD_MS=${HOLD_MS:-100}
OVERLOAD_RATE=${OVERLOAD_RATE:-}
MAX_RATE=${MAX_RATE:-}
REFERENCE=${REFERENCE:-}
SIP=127.0.0.1:5080
HTTP=127.0.0.1:8090
UAS_PORT=5082
mkdir -p "$OUT"
cd "$OUT"
echo "results in $OUT" >&2

command -v sipp >/dev/null || { echo "sipp is missing: apt-get install sip-tester" >&2; exit 2; }
command -v taskset >/dev/null || { echo "taskset is missing: apt-get install util-linux" >&2; exit 2; }

(cd "$ROOT" && go build -o "$OUT/ringo" ./cmd/ringo)
CLK=$(getconf CLK_TCK)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Users: u1000.. with passwords pw1000..; the callee account "uas" has alias 200.
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

start_ringo() {
  local maxrate=${1:-0}
  rm -rf data
  cat > ringo.yaml <<EOF
security: { failLimit: 100000000 }
registrar: { maxExpires: 7200 }
calls: { maxRate: $maxrate }
EOF
  taskset -c "$RINGO_CPU" ./ringo serve --data data --config ringo.yaml --sip "$SIP" --http "$HTTP" --log-level warn \
    > ringo.log 2>&1 &
  RINGO_PID=$!
  pids+=("$RINGO_PID")
  for _ in $(seq 100); do curl -sf "http://$HTTP/healthz" >/dev/null && break; sleep 0.1; done
  ./ringo apply -f accounts.yaml --data data --server "http://$HTTP" >/dev/null
}

# percentiles reads sorted numbers and prints the median and the 95th percentile.
percentiles() {
  awk '{a[NR] = $1} END {
    if (NR == 0) { print "- -"; exit }
    m = int(NR * 0.5) + 1; if (m > NR) m = NR
    p = int(NR * 0.95); if (p < 1) p = 1
    printf "%.0f %.0f\n", a[m], a[p]
  }'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
goroutines() { curl -s "http://$HTTP/metrics" | awk '/^go_goroutines / {print $2}'; }

# register the SIPp UAS as "uas" at 127.0.0.1:UAS_PORT
register_uas() {
  taskset -c "$LOAD_CPU" sipp "$SIP" -sf "$HERE/sipp/uac_register.xml" -inf uas.csv -key expires 7200 \
    -key contact "127.0.0.1:$UAS_PORT" -i 127.0.0.1 -p 5083 -m 1 -nostdin -timeout 10s >/dev/null 2>&1
}

start_uas() {
  taskset -c "$LOAD_CPU" sipp -sf "$HERE/sipp/uas_answer.xml" -i 127.0.0.1 -p "$UAS_PORT" -mi 127.0.0.1 -mp 25010 \
    -nostdin -timeout 3600s -max_recv_loops 100000 -max_sched_loops 100000 >/dev/null 2>&1 &
  UAS_PID=$!
  pids+=("$UAS_PID")
}

# call_step RATE LABEL TARGET_PID: one step of RATE calls/s for STEP seconds; prints a table row
call_step() {
  local rate=$1 label=$2 pid=$3 n=$(($1 * STEP))
  local t0 c0 w0 t1 c1 g0 g1
  g0=$(goroutines || echo -)
  c0=$(cpu_ticks "$pid"); w0=$(date +%s.%N)
  rm -f uac_call_*_rtt.csv uac_call_*.csv
  set +e
  taskset -c "$LOAD_CPU" sipp "$SIP" -sf "$HERE/sipp/uac_call.xml" -inf users.csv -s 200 -d "$HOLD_MS" \
    -r "$rate" -m "$n" -l $((rate * 4 + 100)) -i 127.0.0.1 -p 5081 -mi 127.0.0.1 -mp 25000 \
    -timeout $((STEP + 30))s -recv_timeout 10s -nostdin -trace_stat -stf "call_$label.csv" -trace_rtt -rtt_freq 1 -trace_err \
    -max_recv_loops 100000 -max_sched_loops 100000 >/dev/null 2>&1
  local rc=$?
  set -e
  c1=$(cpu_ticks "$pid"); w1=$(date +%s.%N)
  g1=$(goroutines || echo -)
  local cpu ok fail med p95
  cpu=$(awk -v a="$c0" -v b="$c1" -v s="$w0" -v e="$w1" -v k="$CLK" 'BEGIN {printf "%.0f", 100 * (b - a) / k / (e - s)}')
  ok=$(tail -1 "call_$label.csv" | awk -F';' '{print $16}')
  fail=$(tail -1 "call_$label.csv" | awk -F';' '{print $18}')
  read -r med p95 < <(awk -F';' '$3 == 1 {print $2}' uac_call_*_rtt.csv 2>/dev/null | sort -n |
    percentiles)
  echo "| $label | $rate | $ok | $fail | $med | $p95 | $cpu | $g0 → $g1 | $rc |"
}

reg_step() {
  local rate=$1 n=$(($1 * STEP)) c0 c1 w0 w1 r0 r1
  c0=$(cpu_ticks "$RINGO_PID"); w0=$(date +%s.%N); r0=$(rss_kb "$RINGO_PID")
  rm -f uac_register_*_rtt.csv
  set +e
  taskset -c "$LOAD_CPU" sipp "$SIP" -sf "$HERE/sipp/uac_register.xml" -inf users.csv -key expires 3600 \
    -key contact 127.0.0.1:5099 -r "$rate" -m "$n" -l $((rate * 2 + 100)) -i 127.0.0.1 -p 5084 \
    -timeout $((STEP + 30))s -recv_timeout 10s -nostdin -trace_stat -stf "reg_$rate.csv" -trace_rtt -rtt_freq 1 -trace_err \
    -max_recv_loops 100000 -max_sched_loops 100000 >/dev/null 2>&1
  local rc=$?
  set -e
  c1=$(cpu_ticks "$RINGO_PID"); w1=$(date +%s.%N); r1=$(rss_kb "$RINGO_PID")
  local cpu ok fail med p95
  cpu=$(awk -v a="$c0" -v b="$c1" -v s="$w0" -v e="$w1" -v k="$CLK" 'BEGIN {printf "%.0f", 100 * (b - a) / k / (e - s)}')
  ok=$(tail -1 "reg_$rate.csv" | awk -F';' '{print $16}')
  fail=$(tail -1 "reg_$rate.csv" | awk -F';' '{print $18}')
  read -r med p95 < <(awk -F';' '$3 == 1 {print $2}' uac_register_*_rtt.csv 2>/dev/null | sort -n |
    percentiles)
  echo "| REGISTER | $rate | $ok | $fail | $med | $p95 | $cpu | RSS $r0 → $r1 kB | $rc |"
}

echo "| step | rate/s | ok | failed | median ms | p95 ms | Ringo CPU % | goroutines | sipp rc |"
echo "|---|---|---|---|---|---|---|---|---|"

start_ringo 0
register_uas
start_uas
for r in $CALL_RATES; do call_step "$r" "calls-$r" "$RINGO_PID"; done
for r in $REG_RATES; do reg_step "$r"; done
echo "registrations: $(curl -s "http://$HTTP/healthz" | tr -d ' \n')"
kill "$RINGO_PID" "$UAS_PID" 2>/dev/null || true
wait "$RINGO_PID" "$UAS_PID" 2>/dev/null || true

if [ -n "$OVERLOAD_RATE" ]; then
  start_ringo "${MAX_RATE:-0}"
  register_uas
  start_uas
  call_step "$OVERLOAD_RATE" "overload-$OVERLOAD_RATE(maxRate=${MAX_RATE:-0})" "$RINGO_PID"
  echo "503 sent: $(curl -s "http://$HTTP/metrics" | awk '/ringo_sip_responses_total\{code="503",method="INVITE"\}/ {print $2}')"
  kill "$RINGO_PID" "$UAS_PID" 2>/dev/null || true
fi
