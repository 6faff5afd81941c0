#!/usr/bin/env bash
# Starts a single Cassandra 5.0 node (or, with --dcs 2, a two-data-centre cluster) from Maven Central jars
# (fetched once, cached) and waits until CQL answers.
# Prints the contact point(s) (host:port[,host:port]) on stdout once the native protocol answers; progress goes to stderr.
# Reuses a node that already answers on the port. `start.sh --clean` wipes the node's data first.
# Env (all optional): CASSANDRA_PORT (CQL, 9042), CASSANDRA_STORAGE_PORT (7000), CASSANDRA_DIR (node folder,
# <repo>/.cassandra/node), CASSANDRA_LIB_DIR (jars, <repo>/.cassandra/lib-<version>), CASSANDRA_VERSION (5.0.8),
# CASSANDRA_HEAP (1g), CASSANDRA_START_TIMEOUT_S (180), CASSANDRA_JAVA (a Java 17 or 11 binary).
#
# `start.sh --dcs 2` (or CASSANDRA_DCS=2): two nodes, one per data centre, GossipingPropertyFileSnitch:
# 127.0.0.1 is dc1 (the seed), 127.0.0.2 is dc2, both on CQL port CASSANDRA_2DC_PORT (9142) and storage
# port CASSANDRA_2DC_STORAGE_PORT (7100), so the cluster runs beside the single dev/CI node on 127.0.0.1:9042.
# Folders <repo>/.cassandra/two-dc/dc1 and dc2 (CASSANDRA_2DC_DIR), heap CASSANDRA_HEAP (default 640m
# each), hinted handoff on, JMX on 127.0.0.1:7299 (dc1) and 7399 (dc2) for scripts/cassandra/nodetool.sh.
# Prints "127.0.0.1:9142,127.0.0.2:9142". Per-node knobs used for it (also usable alone): CASSANDRA_HOST,
# CASSANDRA_DC (sets the snitch), CASSANDRA_RACK, CASSANDRA_SEEDS, CASSANDRA_CLUSTER_NAME,
# CASSANDRA_INITIAL_TOKEN, CASSANDRA_JMX_PORT, CASSANDRA_HINTS=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="${CASSANDRA_VERSION:-5.0.8}"

clean=""
dcs="${CASSANDRA_DCS:-1}"
while [ $# -gt 0 ]; do
  case "$1" in
    --clean) clean=--clean ;;
    --dcs) dcs="${2:-}"; shift ;;
    --dcs=*) dcs="${1#--dcs=}" ;;
    *) echo "cassandra: unknown argument $1 (expected --clean, --dcs 1|2)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$dcs" = 2 ]; then
  # The seed (dc1) first: dc2 joins by gossiping with it. One node per DC, distinct tokens.
  two="${CASSANDRA_2DC_DIR:-$repo/.cassandra/two-dc}"
  p2="${CASSANDRA_2DC_PORT:-9142}"
  sp2="${CASSANDRA_2DC_STORAGE_PORT:-7100}"
  out=()
  for i in 1 2; do
    token=0; [ "$i" = 2 ] && token=4611686018427387904
    cp=$(CASSANDRA_DCS=1 CASSANDRA_HOST="127.0.0.$i" CASSANDRA_DC="dc$i" CASSANDRA_RACK=rack1 CASSANDRA_DIR="$two/dc$i" \
      CASSANDRA_PORT="$p2" CASSANDRA_STORAGE_PORT="$sp2" CASSANDRA_SEEDS="127.0.0.1:$sp2" CASSANDRA_CLUSTER_NAME=taxiway-2dc \
      CASSANDRA_INITIAL_TOKEN="$token" CASSANDRA_JMX_PORT="$((7199 + 100 * i))" CASSANDRA_HINTS=1 \
      CASSANDRA_HEAP="${CASSANDRA_HEAP:-640m}" bash "$0" $clean) || exit 1
    out+=("$cp")
  done
  (IFS=,; echo "${out[*]}")
  exit 0
fi
[ "$dcs" = 1 ] || { echo "cassandra: --dcs must be 1 or 2, got \"$dcs\"" >&2; exit 2; }

host="${CASSANDRA_HOST:-127.0.0.1}"
port="${CASSANDRA_PORT:-9042}"
storage_port="${CASSANDRA_STORAGE_PORT:-7000}"
base="${CASSANDRA_DIR:-$repo/.cassandra/node}"
lib="${CASSANDRA_LIB_DIR:-$repo/.cassandra/lib-$version}"
timeout_s="${CASSANDRA_START_TIMEOUT_S:-180}"
pidfile="$base/cassandra.pid"
say() { echo "cassandra: $*" >&2; }

# True when host:port speaks the CQL native protocol: an OPTIONS request (v4) answered by SUPPORTED (opcode 0x06).
cql_answers() {
  local reply
  reply=$(timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port && printf '\x04\x00\x00\x00\x05\x00\x00\x00\x00' >&3 && head -c 5 <&3 | od -An -tx1" 2>/dev/null) || return 1
  [[ "$reply" == *"84 00 00 00 06"* ]]
}

# Cassandra 5.0 runs on Java 11 or 17 only (Java 24+ refuses its SecurityManager): never trust JAVA_HOME blindly.
java_major() { "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'; }
pick_java() {
  local c m
  for c in "${CASSANDRA_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" \
           /usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/*-17*/bin/java /usr/lib/jvm/java-11-openjdk-*/bin/java; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    m=$(java_major "$c")
    if [ "$m" = 17 ] || [ "$m" = 11 ]; then echo "$c"; return 0; fi
  done
  return 1
}

mkdir -p "$base"
# Parallel test processes may all ask for the node: one starts it, the others wait here and reuse it.
exec 9>"$base/start.lock"
flock 9

if cql_answers; then
  say "a node already answers CQL on $host:$port: reusing it"
  echo "$host:$port"
  exit 0
fi
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  say "node pid $(cat "$pidfile") is running but CQL does not answer yet: waiting for it"
else
  java_bin=$(pick_java) || { say "no Java 17 or 11 found (set CASSANDRA_JAVA)"; exit 1; }
  if [ ! -f "$lib/cassandra-all-$version.jar" ]; then
    say "fetching Cassandra $version jars with Maven into $lib (cached in ~/.m2 too)"
    mvn -q -B -f "$here/pom.xml" package -Dcassandra.version="$version" -Dlib.dir="$lib" >&2
  fi
  if [ "$clean" = "--clean" ]; then say "wiping $base/data"; rm -rf "$base/data"; fi
  mkdir -p "$base/data" "$base/logs" "$base/tmp" "$base/triggers" "$base/conf"
  # One template, per-node ports: a second node (the outage test's) must not collide with the dev node.
  sed -e "s/^native_transport_port: .*/native_transport_port: $port/" \
      -e "s/^storage_port: .*/storage_port: $storage_port/" \
      -e "s/127\.0\.0\.1:7000/127.0.0.1:$storage_port/" "$here/cassandra.yaml" >"$base/conf/cassandra.yaml"
  # Multi-node knobs (start.sh --dcs 2 sets them); unset, the single node's yaml is exactly the template's.
  yaml="$base/conf/cassandra.yaml"
  [ "$host" = 127.0.0.1 ] || sed -i -e "s/^listen_address: .*/listen_address: $host/" -e "s/^rpc_address: .*/rpc_address: $host/" "$yaml"
  [ -z "${CASSANDRA_SEEDS:-}" ] || sed -i "s/- seeds: .*/- seeds: \"$CASSANDRA_SEEDS\"/" "$yaml"
  [ -z "${CASSANDRA_CLUSTER_NAME:-}" ] || sed -i "s/^cluster_name: .*/cluster_name: $CASSANDRA_CLUSTER_NAME/" "$yaml"
  [ -z "${CASSANDRA_INITIAL_TOKEN:-}" ] || sed -i "s/^initial_token: .*/initial_token: $CASSANDRA_INITIAL_TOKEN/" "$yaml"
  # Hints: a write a down replica missed is kept by the coordinator (max_hint_window 3 h) and replayed when it returns.
  [ "${CASSANDRA_HINTS:-0}" != 1 ] || sed -i "s/^hinted_handoff_enabled: .*/hinted_handoff_enabled: true/" "$yaml"
  if [ -n "${CASSANDRA_DC:-}" ]; then
    sed -i "s/^endpoint_snitch: .*/endpoint_snitch: GossipingPropertyFileSnitch/" "$yaml"
    printf 'dc=%s\nrack=%s\n' "$CASSANDRA_DC" "${CASSANDRA_RACK:-rack1}" >"$base/conf/cassandra-rackdc.properties"
  fi
  heap="${CASSANDRA_HEAP:-1g}"
  # JVM flags from Cassandra's conf/jvm-server.options and conf/jvm17-server.options.
  opts=(-ea -da:net.openhft... -Xss256k -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError "-Xms256m" "-Xmx$heap"
    -Djava.net.preferIPv4Stack=true -Dchronicle.analytics.disable=true
    -Djdk.attach.allowAttachSelf=true -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11
    "-javaagent:$lib/jamm-0.4.0.jar")
  if [ "$(java_major "$java_bin")" = 17 ]; then
    for m in java.base/jdk.internal.misc java.management.rmi/com.sun.jmx.remote.internal.rmi \
             java.management/com.sun.jmx.remote.security java.rmi/sun.rmi.registry java.rmi/sun.rmi.server \
             java.sql/java.sql java.base/java.lang.ref jdk.unsupported/sun.misc; do
      opts+=(--add-exports "$m=ALL-UNNAMED")
    done
    for m in java.base/java.lang.module java.base/jdk.internal.loader java.base/jdk.internal.ref \
             java.base/jdk.internal.reflect java.base/jdk.internal.math java.base/jdk.internal.module \
             java.base/jdk.internal.util.jar jdk.management/com.sun.management.internal java.base/sun.nio.ch \
             java.base/java.io java.base/java.lang.reflect java.base/java.lang java.base/java.util java.base/java.nio; do
      opts+=(--add-opens "$m=ALL-UNNAMED")
    done
    # Only a full JDK has these modules; a JRE runs without them.
    if "$java_bin" --list-modules 2>/dev/null | grep -q '^jdk.compiler'; then
      opts+=(--add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
             --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED)
    fi
  fi
  # Test-node speedups: no gossip settle wait, no blocking schema flushes, superuser set up at once.
  opts+=(-Dcassandra-foreground=yes "-Dcassandra.config=file://$base/conf/cassandra.yaml"
    "-Dcassandra.storagedir=$base/data" "-Dcassandra.logdir=$base/logs" "-Dlogback.configurationFile=$here/logback.xml"
    "-Djava.io.tmpdir=$base/tmp" "-Dcassandra.triggers_dir=$base/triggers" -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.unsafesystem=true -Dcassandra.superuser_setup_delay_ms=0)
  # The snitch reads its data centre from this file (a URL), else from the classpath.
  [ -z "${CASSANDRA_DC:-}" ] || opts+=("-Dcassandra-rackdc.properties=file://$base/conf/cassandra-rackdc.properties")
  # JMX on 127.0.0.1 only, for nodetool (repair); off unless asked for, as before.
  [ -z "${CASSANDRA_JMX_PORT:-}" ] || opts+=("-Dcassandra.jmx.local.port=$CASSANDRA_JMX_PORT")
  say "starting Cassandra $version on $host:$port with $java_bin (data in $base/data, log $base/logs/system.log)"
  # setsid: the node outlives this script and ignores the caller's Ctrl-C; stop.sh ends it. Lock fd 9 is not inherited.
  setsid "$java_bin" "${opts[@]}" -cp "$lib/*" org.apache.cassandra.service.CassandraDaemon \
    >"$base/logs/stdout.log" 2>&1 </dev/null 9>&- &
  echo $! >"$pidfile"
fi

pid=$(cat "$pidfile")
start=$SECONDS
until cql_answers; do
  if ! kill -0 "$pid" 2>/dev/null; then
    say "node exited during startup; last log lines:"
    tail -n 40 "$base/logs/stdout.log" >&2 || true
    rm -f "$pidfile"
    exit 1
  fi
  if (( SECONDS - start > timeout_s )); then
    say "CQL did not answer within ${timeout_s}s (pid $pid still running; see $base/logs/system.log)"
    exit 1
  fi
  sleep 1
done
say "CQL answers on $host:$port after $((SECONDS - start))s (pid $pid)"
echo "$host:$port"
