#!/usr/bin/env bash
# Starts a single Cassandra 5.0 node from Maven Central jars (fetched once, cached) and waits until CQL answers.
# Prints the contact point (host:port) on stdout once the native protocol answers; progress goes to stderr.
# Reuses a node that already answers on the port. `start.sh --clean` wipes the node's data first.
# Env (all optional): CASSANDRA_PORT (CQL, 9042), CASSANDRA_STORAGE_PORT (7000), CASSANDRA_DIR (node folder,
# <repo>/.cassandra/node), CASSANDRA_LIB_DIR (jars, <repo>/.cassandra/lib-<version>), CASSANDRA_VERSION (5.0.8),
# CASSANDRA_HEAP (1g), CASSANDRA_START_TIMEOUT_S (180), CASSANDRA_JAVA (a Java 17 or 11 binary).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="${CASSANDRA_VERSION:-5.0.8}"
host=127.0.0.1
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
  if [ "${1:-}" = "--clean" ]; then say "wiping $base/data"; rm -rf "$base/data"; fi
  mkdir -p "$base/data" "$base/logs" "$base/tmp" "$base/triggers" "$base/conf"
  # One template, per-node ports: a second node (the outage test's) must not collide with the dev node.
  sed -e "s/^native_transport_port: .*/native_transport_port: $port/" \
      -e "s/^storage_port: .*/storage_port: $storage_port/" \
      -e "s/127\.0\.0\.1:7000/127.0.0.1:$storage_port/" "$here/cassandra.yaml" >"$base/conf/cassandra.yaml"
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
