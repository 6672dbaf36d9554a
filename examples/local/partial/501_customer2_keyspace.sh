#!/usr/bin/env bash
# Partial MoveTables, step 1 (run after the tutorial's 307): keyspace customer2 with the same shards
# as customer — -80 (tablets 500 primary, 501 replica, 502 rdonly) and 80- (600, 601, 602) — and
# customer's sharded VSchema. Its tables arrive by MoveTables, one shard at a time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../env.sh"
mkdir -p "$TESSERA_DATAROOT/logs"
vtctldclient CreateKeyspace --durability-policy none customer2 || true
start_tablet() { # uid shard type
  local uid=$1 shard=$2 type=$3
  [ -f "$TESSERA_DATAROOT/tablet-$uid.pid" ] && kill -0 "$(cat "$TESSERA_DATAROOT/tablet-$uid.pid")" 2>/dev/null && return 0
  nohup node "$TESSERA_ROOT/bin/tessera" tablet --tablet-uid "$uid" --keyspace customer2 --shard "$shard" --tablet-type "$type" \
    "${TOPO_FLAGS[@]}" > "$TESSERA_DATAROOT/logs/tablet-$uid.log" 2>&1 &
  echo $! > "$TESSERA_DATAROOT/tablet-$uid.pid"
}
for uid in 500 501 502; do start_tablet "$uid" -80 "$([ "$uid" = 502 ] && echo rdonly || echo replica)"; done
for uid in 600 601 602; do start_tablet "$uid" 80- "$([ "$uid" = 602 ] && echo rdonly || echo replica)"; done
for uid in 500 501 502 600 601 602; do
  until curl -s "http://127.0.0.1:$((15000 + uid))/debug/health" | grep -q tabletAlias; do sleep 0.5; done
done
vtctldclient InitShardPrimary --force customer2/-80 zone1-500
vtctldclient InitShardPrimary --force customer2/80- zone1-600
vtctldclient ChangeTabletType zone1-502 rdonly
vtctldclient ChangeTabletType zone1-602 rdonly
vtctldclient ApplyVSchema --vschema-file "$here/../vschema_customer_sharded.json" customer2
vtctldclient RebuildKeyspaceGraph customer2
vtctldclient RebuildVSchemaGraph
vtctldclient RefreshStateByShard customer2/-80
vtctldclient RefreshStateByShard customer2/80-
vtctldclient GetTablets --keyspace customer2
