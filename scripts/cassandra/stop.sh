#!/usr/bin/env bash
# Stops the node started by scripts/cassandra/start.sh: SIGTERM (drains and flushes), SIGKILL after a grace period.
# Env: CASSANDRA_DIR (node folder, default <repo>/.cassandra/node), CASSANDRA_STOP_GRACE_S (default 60).
# `stop.sh --dcs 2` (or CASSANDRA_DCS=2) stops both nodes of the two-DC cluster (CASSANDRA_2DC_DIR).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ "${1:-}" = "--dcs" ] && [ "${2:-}" = 2 ] || [ "${1:-}" = "--dcs=2" ] || [ "${CASSANDRA_DCS:-1}" = 2 ]; then
  two="${CASSANDRA_2DC_DIR:-$(cd "$here/../.." && pwd)/.cassandra/two-dc}"
  CASSANDRA_DCS=1 CASSANDRA_DIR="$two/dc2" bash "$0" & CASSANDRA_DCS=1 CASSANDRA_DIR="$two/dc1" bash "$0"; wait
  exit 0
fi
base="${CASSANDRA_DIR:-$(cd "$here/../.." && pwd)/.cassandra/node}"
pidfile="$base/cassandra.pid"
grace="${CASSANDRA_STOP_GRACE_S:-60}"
if [ ! -f "$pidfile" ]; then echo "cassandra: no pid file ($pidfile): nothing to stop" >&2; exit 0; fi
pid=$(cat "$pidfile")
if ! kill -0 "$pid" 2>/dev/null; then echo "cassandra: pid $pid is not running" >&2; rm -f "$pidfile"; exit 0; fi
# A node frozen with SIGSTOP (outage tests) must be continued, or it never handles SIGTERM.
kill -CONT "$pid" 2>/dev/null || true
kill -TERM "$pid"
for ((i = 0; i < grace; i++)); do
  kill -0 "$pid" 2>/dev/null || { echo "cassandra: stopped pid $pid" >&2; rm -f "$pidfile"; exit 0; }
  sleep 1
done
echo "cassandra: pid $pid ignored SIGTERM for ${grace}s: killing it" >&2
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile"
