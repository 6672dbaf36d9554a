# Sourced by the step scripts: where things are and how to reach them.
TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TESSERA_DATAROOT="${TESSERA_DATAROOT:-$TESSERA_ROOT/tessera-data}"
# Vitess's name for the same directory (the seeds' commands use it: $VTDATAROOT/vt_0000000500/mysql.sock).
export VTDATAROOT="$TESSERA_DATAROOT"
tessera() { node "$TESSERA_ROOT/bin/tessera" "$@"; }
ctl() { tessera ctl --server localhost:15999 "$@"; }
mysql() { mariadb -h 127.0.0.1 -P 15306 -u user "$@"; }
TOPO_FLAGS=(--topo-implementation file --topo-global-server-address "$TESSERA_DATAROOT/topo")
# The same as one string, as the seeds expand it unquoted: vtworker $TOPOLOGY_FLAGS …
TOPOLOGY_FLAGS="--topo-implementation file --topo-global-server-address $TESSERA_DATAROOT/topo"
# The Vitess tutorial's spellings of the admin client: both reach ctld.
vtctldclient() { ctl "$@"; }
vtctlclient() { ctl "$@"; }
# The seeds' vtworker (SplitClone, SplitDiff) runs on the topology directly, as vtworker did.
vtworker() { tessera worker "$@"; }
