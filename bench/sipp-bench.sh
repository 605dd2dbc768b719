#!/usr/bin/env bash
# Whole-system SIP benchmark (not a test): SIPp UAC -> Ringo (B2BUA) -> SIPp UAS,
# signalling only, Ringo pinned to one core and the load generators to the other;
# then REGISTER with digest; then an overload step that must be shed with 503.
# Optionally the same call and REGISTER steps through Kamailio as a stateful proxy and
# registrar (REFERENCE=kamailio, config bench/kamailio/kamailio.cfg), as the reference line.
#
# Usage: bench/sipp-bench.sh            (results in $OUT, a Markdown table on stdout)
# Knobs: SOAK_RATE=N SOAK_SECONDS=120 (goroutines sampled every 10 s), CALL_RATES="500 1000 ..." REG_RATES="..." STEP=20 USERS=1000 RINGO_CPU=0 LOAD_CPU=1
#        OVERLOAD_RATE=... MAX_RATE=... (Ringo's calls.maxRate for the overload step), HOLD_MS=100
#        RECORDS=true|false (call records), ANCHOR=true|false (media anchored at Ringo)
#        REFERENCE=kamailio KAM_CHILDREN=4 KAM_SHM_MB=1024 (Kamailio: UDP workers, shared memory in MB)
# Kamailio runs on RINGO_CPU (all its processes; CPU % is summed over them), SIPp on LOAD_CPU,
# with the same rates, scenarios and step lengths as Ringo.
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
SOAK_RATE=${SOAK_RATE:-}
RECORDS=${RECORDS:-true} # false: measure SIP alone, without writing call records
ANCHOR=${ANCHOR:-true}   # false: SDP passed between the phones, media not anchored at Ringo
SOAK_SECONDS=${SOAK_SECONDS:-120}
KAM_CHILDREN=${KAM_CHILDREN:-4}
KAM_SHM_MB=${KAM_SHM_MB:-1024}
KAM_CFG="$HERE/kamailio/kamailio.cfg"
SIP=127.0.0.1:5080
HTTP=127.0.0.1:8090
UAS_PORT=5082
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$OUT"
echo "results in $OUT" >&2

command -v sipp >/dev/null || { echo "sipp is missing: apt-get install sip-tester" >&2; exit 2; }
command -v taskset >/dev/null || { echo "taskset is missing: apt-get install util-linux" >&2; exit 2; }
case "$REFERENCE" in
  "") ;;
  kamailio)
    command -v kamailio >/dev/null ||
      { echo "kamailio is missing: apt-get install --no-install-recommends kamailio" >&2; exit 2; }
    command -v kamcmd >/dev/null || { echo "kamcmd is missing (package kamailio)" >&2; exit 2; } ;;
  *) echo "unknown REFERENCE=$REFERENCE (only kamailio)" >&2; exit 2 ;;
esac

(cd "$ROOT" && go build -o "$OUT/ringo" ./cmd/ringo)
CLK=$(getconf CLK_TCK)

pids=()
cleanup() {
  stop_kamailio || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
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
records: { enabled: $RECORDS }
rtp: { anchor: $ANCHOR }
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

# The server under test: SERVER=ringo (RINGO_PID) or SERVER=kamailio (KAM_PID, all processes
# of its process group). srv_cpu_ticks: user+system ticks; srv_mem: kB; srv_state: a gauge
# shown before and after each call step (goroutines for Ringo, shm in use for Kamailio).
SERVER=ringo
srv_cpu_ticks() {
  if [ "$SERVER" = kamailio ]; then kam_cpu_ticks; else cpu_ticks "$RINGO_PID"; fi
}
srv_mem() {
  if [ "$SERVER" = kamailio ]; then echo "PSS $(kam_pss_kb)"; else echo "RSS $(rss_kb "$RINGO_PID")"; fi
}
srv_state() {
  if [ "$SERVER" = kamailio ]; then kam_shm_kb; else goroutines; fi
}

# Kamailio, started in a session (and process group) of its own whose id is its main PID.
KAM_PID=
# kam_pids lists the processes of our Kamailio: its process group and our config path.
kam_pids() {
  [ -n "$KAM_PID" ] || return 0
  pgrep -g "$KAM_PID" -f -- "kamailio -f $KAM_CFG" || true
}
# kam_cpu_ticks sums utime+stime over all our Kamailio processes (fields after "(comm)").
kam_cpu_ticks() {
  local p t=0 v
  for p in $(kam_pids); do
    v=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# kam_pss_kb sums the proportional set size (shared memory counted once) over the processes.
kam_pss_kb() {
  local p t=0 v
  for p in $(kam_pids); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
kamcmd_() { kamcmd -s "unix:$OUT/kamailio_ctl" "$@"; }
kam_shm_kb() { kamcmd_ core.shmmem k 2>/dev/null | awk '$1 == "real_used:" {print $2}' || echo -; }

start_kamailio() {
  rm -rf kamdb kamailio.pid kamailio_ctl
  mkdir kamdb
  # htable "users" (user -> password) and "aliases" (alias -> account) as db_text tables
  local cols='key_name(string) key_type(int) value_type(int) key_value(string) expires(int)'
  {
    echo "$cols"
    echo "uas:0:0:uaspw:0"
    for ((i = 1000; i < 1000 + USERS; i++)); do echo "u$i:0:0:pw$i:0"; done
  } > kamdb/bench_users
  printf '%s\n200:0:0:uas:0\n' "$cols" > kamdb/bench_aliases
  printf 'table_name(string) table_version(int)\nbench_users:2\nbench_aliases:2\n' > kamdb/version
  # -DD: no daemon, so the main process is our child and logs to kamailio.log; setsid: its
  # own process group, so every process it forks can be found and counted.
  setsid taskset -c "$RINGO_CPU" kamailio -f "$KAM_CFG" -DD -E -m "$KAM_SHM_MB" -P "$OUT/kamailio.pid" -Y "$OUT" \
    -A "BENCH_IP=${SIP%:*}" -A "BENCH_PORT=${SIP##*:}" -A "BENCH_CHILDREN=$KAM_CHILDREN" \
    -A "BENCH_DB=\"text://$OUT/kamdb\"" -A "BENCH_CTL=\"unix:$OUT/kamailio_ctl\"" > kamailio.log 2>&1 &
  local bg=$!
  for _ in $(seq 100); do
    [ -s kamailio.pid ] && kamcmd_ core.uptime >/dev/null 2>&1 && break
    kill -0 "$bg" 2>/dev/null || break
    sleep 0.1
  done
  KAM_PID=$(cat kamailio.pid 2>/dev/null || true)
  if [ -z "$KAM_PID" ] || ! kamcmd_ core.uptime >/dev/null 2>&1; then
    echo "kamailio did not start; see $OUT/kamailio.log" >&2
    tail -20 kamailio.log >&2
    exit 1
  fi
  if [ "$(awk '{sub(/^.*\) /, ""); print $3}' "/proc/$KAM_PID/stat")" != "$KAM_PID" ]; then
    echo "kamailio $KAM_PID is not the leader of its process group" >&2
    exit 1
  fi
}

# stop_kamailio: SIGTERM to the main PID (it stops its children), then SIGKILL to any of our
# processes left (same process group and config path only).
stop_kamailio() {
  [ -n "$KAM_PID" ] || return 0
  kill -TERM "$KAM_PID" 2>/dev/null || true
  for _ in $(seq 100); do
    [ -z "$(kam_pids)" ] && break
    sleep 0.1
  done
  local p
  for p in $(kam_pids); do kill -KILL "$p" 2>/dev/null || true; done
  wait "$KAM_PID" 2>/dev/null || true
  KAM_PID=
}

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

# call_step RATE LABEL: one step of RATE calls/s for STEP seconds against $SERVER; prints a table row
call_step() {
  local rate=$1 label=$2 n=$(($1 * STEP)) f=${2// /_}
  local t0 c0 w0 t1 c1 g0 g1
  g0=$(srv_state || echo -)
  c0=$(srv_cpu_ticks); w0=$(date +%s.%N)
  rm -f uac_call_*_rtt.csv uac_call_*.csv
  set +e
  taskset -c "$LOAD_CPU" sipp "$SIP" -sf "$HERE/sipp/uac_call.xml" -inf users.csv -s 200 -d "$HOLD_MS" \
    -r "$rate" -m "$n" -l $((rate * 4 + 100)) -i 127.0.0.1 -p 5081 -mi 127.0.0.1 -mp 25000 \
    -timeout $((STEP + 30))s -recv_timeout 10s -nostdin -trace_stat -stf "call_$f.csv" -trace_rtt -rtt_freq 1 -trace_err \
    -max_recv_loops 100000 -max_sched_loops 100000 >/dev/null 2>&1
  local rc=$?
  set -e
  c1=$(srv_cpu_ticks); w1=$(date +%s.%N)
  g1=$(srv_state || echo -)
  if [ "$SERVER" = kamailio ]; then g0="shm $g0"; g1="$g1 kB"; fi
  local cpu ok fail med p95
  cpu=$(awk -v a="$c0" -v b="$c1" -v s="$w0" -v e="$w1" -v k="$CLK" 'BEGIN {printf "%.0f", 100 * (b - a) / k / (e - s)}')
  ok=$(tail -1 "call_$f.csv" | awk -F';' '{print $16}')
  fail=$(tail -1 "call_$f.csv" | awk -F';' '{print $18}')
  read -r med p95 < <(awk -F';' '$3 == 1 {print $2}' uac_call_*_rtt.csv 2>/dev/null | sort -n |
    percentiles)
  echo "| $label | $rate | $ok | $fail | $med | $p95 | $cpu | $g0 → $g1 | $rc |"
}

# reg_step RATE [LABEL]: REGISTER with digest at RATE/s for STEP seconds against $SERVER
reg_step() {
  local rate=$1 label=${2:-REGISTER} n=$(($1 * STEP)) c0 c1 w0 w1 r0 r1 f
  f=reg_${label// /_}_$rate; f=${f/reg_REGISTER_/reg_}
  c0=$(srv_cpu_ticks); w0=$(date +%s.%N); r0=$(srv_mem)
  rm -f uac_register_*_rtt.csv
  set +e
  taskset -c "$LOAD_CPU" sipp "$SIP" -sf "$HERE/sipp/uac_register.xml" -inf users.csv -key expires 3600 \
    -key contact 127.0.0.1:5099 -r "$rate" -m "$n" -l $((rate * 2 + 100)) -i 127.0.0.1 -p 5084 \
    -timeout $((STEP + 30))s -recv_timeout 10s -nostdin -trace_stat -stf "$f.csv" -trace_rtt -rtt_freq 1 -trace_err \
    -max_recv_loops 100000 -max_sched_loops 100000 >/dev/null 2>&1
  local rc=$?
  set -e
  c1=$(srv_cpu_ticks); w1=$(date +%s.%N); r1=$(srv_mem)
  local cpu ok fail med p95
  cpu=$(awk -v a="$c0" -v b="$c1" -v s="$w0" -v e="$w1" -v k="$CLK" 'BEGIN {printf "%.0f", 100 * (b - a) / k / (e - s)}')
  ok=$(tail -1 "$f.csv" | awk -F';' '{print $16}')
  fail=$(tail -1 "$f.csv" | awk -F';' '{print $18}')
  read -r med p95 < <(awk -F';' '$3 == 1 {print $2}' uac_register_*_rtt.csv 2>/dev/null | sort -n |
    percentiles)
  echo "| $label | $rate | $ok | $fail | $med | $p95 | $cpu | $r0 → ${r1#* } kB | $rc |"
}

echo "| step | rate/s | ok | failed | median ms | p95 ms | server CPU % | goroutines / memory | sipp rc |"
echo "|---|---|---|---|---|---|---|---|---|"

start_ringo 0
register_uas
start_uas
for r in $CALL_RATES; do call_step "$r" "calls-$r"; done
for r in $REG_RATES; do reg_step "$r"; done
echo "registrations: $(curl -s "http://$HTTP/healthz" | tr -d ' \n')"
if [ -n "$SOAK_RATE" ]; then
  # Soak: SOAK_SECONDS at SOAK_RATE; goroutines sampled every 10 s must stay flat.
  ( for _ in $(seq $((SOAK_SECONDS / 10))); do sleep 10; printf '%s ' "$(goroutines)"; done ) > soak_goroutines.txt &
  sampler=$!
  STEP=$SOAK_SECONDS call_step "$SOAK_RATE" "soak-$SOAK_RATE-${SOAK_SECONDS}s"
  wait "$sampler" 2>/dev/null || true
  echo "goroutines every 10 s during the soak: $(cat soak_goroutines.txt)"
fi
kill "$RINGO_PID" "$UAS_PID" 2>/dev/null || true
wait "$RINGO_PID" "$UAS_PID" 2>/dev/null || true

if [ -n "$OVERLOAD_RATE" ]; then
  start_ringo "${MAX_RATE:-0}"
  register_uas
  start_uas
  call_step "$OVERLOAD_RATE" "overload-$OVERLOAD_RATE(maxRate=${MAX_RATE:-0})"
  echo "overload: 503 sent $(curl -s "http://$HTTP/metrics" | awk '/^ringo_sip_responses_total\{code="503",method="INVITE"\}/ {print $2}'), calls answered $(curl -s "http://$HTTP/metrics" | awk '/^ringo_calls_total\{outcome="answered"\}/ {print $2}') (setup times above are of answered calls only)"
  kill "$RINGO_PID" "$UAS_PID" 2>/dev/null || true
  wait "$RINGO_PID" "$UAS_PID" 2>/dev/null || true
fi

# Reference line: the same call and REGISTER steps through Kamailio (stateful proxy + registrar).
if [ "$REFERENCE" = kamailio ]; then
  SERVER=kamailio
  start_kamailio
  register_uas
  start_uas
  for r in $CALL_RATES; do call_step "$r" "kamailio calls-$r"; done
  for r in $REG_RATES; do reg_step "$r" "kamailio REGISTER"; done
  echo "kamailio registrations: $(kamcmd_ stats.get_statistics usrloc: 2>/dev/null |
    awk '$1 == "usrloc:registered_users" {print $3}')"
  stop_kamailio
  kerr=$(grep -c ' ERROR: ' kamailio.log || true)
  [ "$kerr" = 0 ] || echo "kamailio.log has $kerr ERROR lines: $OUT/kamailio.log" >&2
  kill "$UAS_PID" 2>/dev/null || true
  wait "$UAS_PID" 2>/dev/null || true
fi
