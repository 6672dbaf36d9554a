#!/usr/bin/env bash
# Starts the MariaDB of one tablet, as Vitess's scripts/mysqlctl-up.sh does: TABLET_UID names it
# (vt_<uid as 10 digits> under $VTDATAROOT, port 17000+uid); an existing instance is started again.
#   CELL=zone1 TABLET_UID=300 ./scripts/mysqlctl-up.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../env.sh"
cell=${CELL:-zone1}
uid=${TABLET_UID:?set TABLET_UID, e.g. TABLET_UID=300}
printf -v alias '%s-%010d' "$cell" "$uid"
printf -v tablet_dir 'vt_%010d' "$uid"
action=init
[ -d "$VTDATAROOT/$tablet_dir" ] && action=start
echo "Starting MariaDB for tablet $alias ($action)..."
tessera mysqlctl "$action" --tablet-uid "$uid" --mysql-port $((17000 + uid)) --data-root "$VTDATAROOT"
