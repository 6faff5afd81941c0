#!/usr/bin/env bash
# `npm run test:cassandra`: the whole test suite including the Cassandra tests. Uses CASSANDRA_CONTACT_POINTS
# when set; otherwise starts the dev node (scripts/cassandra/start.sh) for this run and stops it at the end,
# unless a node was already running before (then it is left as it was). Extra arguments go to tap.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CASSANDRA_CONTACT_POINTS:-}" ]; then
  pidfile=.cassandra/node/cassandra.pid
  running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
  before=0
  running && before=1
  cp=$(bash scripts/cassandra/start.sh) || { echo "test:cassandra: the dev Cassandra node did not start (needs Java 17 and Maven)" >&2; exit 1; }
  if [ "$before" = 0 ] && running; then
    trap 'echo "test:cassandra: stopping the Cassandra node started for this run" >&2; bash scripts/cassandra/stop.sh' EXIT
  fi
  export CASSANDRA_CONTACT_POINTS="$cp" CASSANDRA_LOCAL_DC="${CASSANDRA_LOCAL_DC:-datacenter1}"
fi
npm test -- "$@"
