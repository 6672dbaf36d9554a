# Sourced by the step scripts: where things are and how to reach them.
TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TESSERA_DATAROOT="${TESSERA_DATAROOT:-$TESSERA_ROOT/tessera-data}"
tessera() { node "$TESSERA_ROOT/bin/tessera" "$@"; }
ctl() { tessera ctl --server localhost:15999 "$@"; }
mysql() { mariadb -h 127.0.0.1 -P 15306 -u user "$@"; }
TOPO_FLAGS=(--topo-implementation file --topo-global-server-address "$TESSERA_DATAROOT/topo")
# The Vitess tutorial's spellings of the admin client: both reach ctld.
vtctldclient() { ctl "$@"; }
vtctlclient() { ctl "$@"; }
