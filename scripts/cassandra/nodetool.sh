#!/usr/bin/env bash
# Runs Cassandra's nodetool from the same Maven Central jars (there is no bin/nodetool without the tarball):
# `nodetool.sh <dc1|dc2|jmx-port> <command...>`, e.g. `nodetool.sh dc2 repair -full taxiway`.
# Talks JMX to a node of the two-DC cluster started by `start.sh --dcs 2` (dc1: 127.0.0.1:7299, dc2: 127.0.0.1:7399).
# Env: CASSANDRA_LIB_DIR, CASSANDRA_VERSION, CASSANDRA_JAVA as for start.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="${CASSANDRA_VERSION:-5.0.8}"
lib="${CASSANDRA_LIB_DIR:-$repo/.cassandra/lib-$version}"
[ $# -ge 2 ] || { echo "usage: nodetool.sh <dc1|dc2|jmx-port> <nodetool command...>" >&2; exit 2; }
case "$1" in dc1) port=7299 ;; dc2) port=7399 ;; *[!0-9]*|'') echo "nodetool.sh: $1 is not dc1, dc2 or a port" >&2; exit 2 ;; *) port="$1" ;; esac
shift
java_bin="${CASSANDRA_JAVA:-}"
if [ -z "$java_bin" ]; then
  for c in /usr/lib/jvm/java-17-openjdk-*/bin/java "$(command -v java || true)"; do [ -x "$c" ] && { java_bin="$c"; break; }; done
fi
# Java 17 module flags of Cassandra's conf/jvm17-clients.options.
mods=()
for m in java.base/jdk.internal.misc java.base/jdk.internal.ref java.base/sun.nio.ch java.management.rmi/com.sun.jmx.remote.internal.rmi \
         java.rmi/sun.rmi.registry java.rmi/sun.rmi.server java.sql/java.sql; do mods+=(--add-exports "$m=ALL-UNNAMED"); done
for m in java.base/java.lang.module java.base/jdk.internal.loader java.base/jdk.internal.ref java.base/jdk.internal.reflect \
         java.base/sun.nio.ch java.base/java.io java.base/java.nio java.base/java.lang java.base/java.util; do mods+=(--add-opens "$m=ALL-UNNAMED"); done
# Quiet logback (the jar ships none: everything would log at DEBUG); the node's own config is fine here.
exec "$java_bin" "${mods[@]}" -Xmx128m -Duser.home=/tmp -Dlogback.configurationFile="$here/logback.xml" -Dcassandra.logdir=/tmp \
  -cp "$lib/*" org.apache.cassandra.tools.NodeTool -h 127.0.0.1 -p "$port" "$@"
