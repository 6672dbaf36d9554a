# Sourced by the step scripts: where things are and how to reach them.
TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TESSERA_DATAROOT="${TESSERA_DATAROOT:-$TESSERA_ROOT/tessera-data}"
tessera() { node "$TESSERA_ROOT/bin/tessera" "$@"; }
ctl() { tessera ctl --server localhost:15999 "$@"; }
export VTDATAROOT="${VTDATAROOT:-$TESSERA_DATAROOT}"
# `mysql` reaches the gate, unless it is given a socket (-S) or a host (-h) of its own: then it is
# the plain client, as the seeds use it to reach one tablet's MariaDB
# (`mysql -S $VTDATAROOT/vt_0000000500/mysql.sock -u vt_dba`).
mysql() {
  local a
  for a in "$@"; do
    case "$a" in -S* | --socket* | -h* | --host*) mariadb "$@"; return ;; esac
  done
  mariadb -h 127.0.0.1 -P 15306 -u user "$@"
}
TOPO_FLAGS=(--topo-implementation file --topo-global-server-address "$TESSERA_DATAROOT/topo")
# The Vitess tutorial's spellings of the admin client: both reach ctld.
vtctldclient() { ctl "$@"; }
vtctlclient() { ctl "$@"; }
