# Sourced by the step scripts: where things are and how to reach them.
TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TESSERA_DATAROOT="${TESSERA_DATAROOT:-$TESSERA_ROOT/tessera-data}"
# Vitess's name for the same directory (the seeds' commands use it: $VTDATAROOT/vt_0000000500/mysql.sock).
export VTDATAROOT="$TESSERA_DATAROOT"
tessera() { node "$TESSERA_ROOT/bin/tessera" "$@"; }
# ctld and the gate on the ports `tessera up` uses by default; a cluster on other ports sets these.
export TESSERA_CTLD_SERVER="${TESSERA_CTLD_SERVER:-localhost:15999}" # `tessera ctl` reaches it without --server
TESSERA_GATE_PORT="${TESSERA_GATE_PORT:-15306}"
TESSERA_GATE_HTTP_PORT="${TESSERA_GATE_HTTP_PORT:-15001}" # the gate's /metrics and status page
ctl() { tessera ctl --server "$TESSERA_CTLD_SERVER" "$@"; }
# `mysql` reaches the gate, unless it is given a socket (-S) or a host (-h) of its own: then it is
# the plain client, as the seeds use it to reach one tablet's MariaDB
# (`mysql -S $VTDATAROOT/vt_0000000500/mysql.sock -u vt_dba`).
mysql() {
  local a
  for a in "$@"; do
    case "$a" in -S* | --socket* | -h* | --host*) mariadb "$@"; return ;; esac
  done
  mariadb -h 127.0.0.1 -P "$TESSERA_GATE_PORT" -u user "$@"
}
# The topology of the running cluster (tessera-up.json: a directory in combined mode, etcd in
# distributed mode), so the steps that start tablets work in both; the file topology otherwise.
read -r _impl _addr _root < <(node -e 'try { const s = JSON.parse(require("fs").readFileSync(process.argv[1] + "/tessera-up.json", "utf8")); console.log(s.topo.implementation, s.topo.address, s.topo.root); } catch { console.log("file", process.argv[1] + "/topo", "/tessera/global"); }' "$TESSERA_DATAROOT")
TOPO_FLAGS=(--topo-implementation "$_impl" --topo-global-server-address "$_addr" --topo-global-root "$_root")
# The same as one string, as the seeds expand it unquoted: vtworker $TOPOLOGY_FLAGS …
TOPOLOGY_FLAGS="--topo-implementation $_impl --topo-global-server-address $_addr --topo-global-root $_root"
unset _impl _addr _root
# The Vitess tutorial's spellings of the admin client: both reach ctld.
vtctldclient() { ctl "$@"; }
vtctlclient() { ctl "$@"; }
# The seeds' vtworker (SplitClone, SplitDiff) runs on the topology directly, as vtworker did.
vtworker() { tessera worker "$@"; }

# The tablets the steps start listen on 15000+uid (HTTP), 16000+uid (RPC) and 17000+uid (MariaDB), as
# the Vitess tutorial's do. TESSERA_TABLET_PORTS=free picks free ports instead, for a cluster that runs
# beside others (the docs test runs the guides so); the HTTP port is kept in tablet-<uid>.port.
tablet_http_port() { # uid
  if [ -f "$TESSERA_DATAROOT/tablet-$1.port" ]; then cat "$TESSERA_DATAROOT/tablet-$1.port"; else echo $((15000 + $1)); fi
}
start_tablet() { # uid keyspace shard type: one tablet process joining the running cluster, unless it runs
  local uid=$1 keyspace=$2 shard=$3 type=$4 pidfile="$TESSERA_DATAROOT/tablet-$1.pid" ports=() p g m
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && return 0
  mkdir -p "$TESSERA_DATAROOT/logs"
  if [ "${TESSERA_TABLET_PORTS:-}" = free ]; then
    read -r p g m < <(node -e 'const net = require("net"); const s = [0, 1, 2].map(() => net.createServer());
      Promise.all(s.map((x) => new Promise((r) => x.listen(0, "127.0.0.1", () => r(x.address().port))))).then((p) => { s.forEach((x) => x.close()); console.log(p.join(" ")); });')
    echo "$p" > "$TESSERA_DATAROOT/tablet-$uid.port"
    ports=(--port "$p" --grpc-port "$g" --mysql-port "$m")
  fi
  nohup node "$TESSERA_ROOT/bin/tessera" tablet --tablet-uid "$uid" --keyspace "$keyspace" --shard "$shard" --tablet-type "$type" \
    "${ports[@]}" "${TOPO_FLAGS[@]}" > "$TESSERA_DATAROOT/logs/tablet-$uid.log" 2>&1 &
  echo $! > "$pidfile"
}
wait_tablet() { # uid: until the tablet answers on its HTTP port
  local url
  url="http://127.0.0.1:$(tablet_http_port "$1")/debug/health"
  until curl -sf "$url" -o /dev/null || curl -s "$url" | grep -q tabletAlias; do
    kill -0 "$(cat "$TESSERA_DATAROOT/tablet-$1.pid")" 2>/dev/null || { echo "tablet $1 exited; see $TESSERA_DATAROOT/logs/tablet-$1.log" >&2; return 1; }
    sleep 0.5
  done
}

# A process a docs page starts by hand in the background: `wait_http <url> <pid> <log>` waits until
# the URL answers with a 2xx status (a tablet: serving), and fails, naming the log, if the process
# has exited meanwhile.
wait_http() {
  until curl -sf "$1" -o /dev/null; do
    kill -0 "$2" 2>/dev/null || { echo "process $2 exited; see $3" >&2; return 1; }
    sleep 0.2
  done
}

# A step run out of order says what to run first: `require_shard customer/-80 302_new_shards.sh`.
require_cluster() {
  ctl GetKeyspaces >/dev/null 2>&1 || { echo "the cluster is not running; run 101_initial_cluster.sh first" >&2; exit 1; }
}
require_shard() { # keyspace/shard step
  require_cluster
  ctl GetShard "$1" 2>/dev/null | grep -q '"primary_alias": {' || { echo "$1 does not exist or has no primary; run $2 first" >&2; exit 1; }
}
require_workflow() { # keyspace workflow step
  require_cluster
  ctl Workflow --keyspace "$1" list 2>/dev/null | grep -q "\"$2\"" || { echo "workflow $1.$2 does not exist; run $3 first" >&2; exit 1; }
}
# What to look at, and the step after this one.
next_step() { echo; echo "Next: $*"; }
