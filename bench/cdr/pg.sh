#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for bench/cdr and prints its DSN:
#
#   eval "$(bench/cdr/pg.sh start /tmp/pgbench)"   # sets RINGO_BENCH_DSN
#   go run ./bench/cdr -engine postgres -dsn "$RINGO_BENCH_DSN" -n 10000000 -dir /tmp/cdr10m-pg
#   bench/cdr/pg.sh stop /tmp/pgbench
#
# The server keeps PostgreSQL's durability settings (fsync, synchronous
# commit) so that ingest compares fairly with SQLite's synchronous=FULL;
# shared_buffers is raised to 2 GB as any tuned server would be.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?data directory}
port=${PGPORT_BENCH:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    run "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
  fi
  run "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=2GB -c max_wal_size=8GB" start >/dev/null
  run "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE ringo_bench" 2>/dev/null || true
  echo "export RINGO_BENCH_DSN='postgres://postgres@127.0.0.1:$port/ringo_bench?sslmode=disable'"
  ;;
stop)
  run "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
  ;;
esac
