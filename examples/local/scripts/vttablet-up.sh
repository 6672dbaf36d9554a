#!/usr/bin/env bash
# Starts one tablet as its own process, as Vitess's scripts/vttablet-up.sh does: KEYSPACE, SHARD,
# CELL and TABLET_UID name it; a uid whose last digit is above 1 is an rdonly tablet, others
# replicas. Its MariaDB (scripts/mysqlctl-up.sh) is adopted. Returns once the tablet answers.
#   SHARD=-80 CELL=zone1 KEYSPACE=customer TABLET_UID=300 ./scripts/vttablet-up.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../env.sh"
cell=${CELL:-zone1}
keyspace=${KEYSPACE:-commerce}
shard=${SHARD:-0}
uid=${TABLET_UID:?set TABLET_UID, e.g. TABLET_UID=300}
printf -v alias '%s-%010d' "$cell" "$uid"
tablet_type=replica
[ "${uid: -1}" -gt 1 ] && tablet_type=rdonly
mkdir -p "$VTDATAROOT/logs"
pidfile="$VTDATAROOT/tablet-$uid.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "tablet $alias already runs (pid $(cat "$pidfile"))"
  exit 0
fi
echo "Starting tablet $alias ($keyspace/$shard, $tablet_type)..."
nohup node "$TESSERA_ROOT/bin/tessera" tablet --tablet-uid "$uid" --cell "$cell" --keyspace "$keyspace" --shard "$shard" \
  --tablet-type "$tablet_type" --data-root "$VTDATAROOT" $TOPOLOGY_FLAGS > "$VTDATAROOT/logs/tablet-$uid.log" 2>&1 &
echo $! > "$pidfile"
for _ in $(seq 1 600); do
  curl -s "http://127.0.0.1:$((15000 + uid))/debug/health" | grep -q tabletAlias && { echo "tablet $alias is up: http://127.0.0.1:$((15000 + uid))/debug/status"; exit 0; }
  kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "tablet $alias exited; see $VTDATAROOT/logs/tablet-$uid.log" >&2; exit 1; }
  sleep 0.5
done
echo "tablet $alias did not come up in 5 minutes; see $VTDATAROOT/logs/tablet-$uid.log" >&2
exit 1
