# Sourced by the step scripts: where things are and how to reach them.
TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TESSERA_DATAROOT="${TESSERA_DATAROOT:-$TESSERA_ROOT/tessera-data}"
# Vitess's name for the same directory (the seeds' commands use it: $VTDATAROOT/vt_0000000500/mysql.sock).
export VTDATAROOT="$TESSERA_DATAROOT"
tessera() { node "$TESSERA_ROOT/bin/tessera" "$@"; }
# ctld and the gate on the ports `tessera up` uses by default; a cluster on other ports sets these.
TESSERA_CTLD_SERVER="${TESSERA_CTLD_SERVER:-localhost:15999}"
TESSERA_GATE_PORT="${TESSERA_GATE_PORT:-15306}"
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
