#!/usr/bin/env bash
# Step 2: keyspace customer, unsharded (shard 0), with tablets 200 (primary), 201 (replica) and
# 202 (rdonly), each its own `tessera tablet` process joining the running cluster; the tables
# arrive in the next step, by MoveTables.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_cluster
mkdir -p "$TESSERA_DATAROOT/logs"
ctl CreateKeyspace --durability-policy none customer || true
for uid in 200 201 202; do
  type=$([ "$uid" = 202 ] && echo rdonly || echo replica)
  [ -f "$TESSERA_DATAROOT/tablet-$uid.pid" ] && kill -0 "$(cat "$TESSERA_DATAROOT/tablet-$uid.pid")" 2>/dev/null && continue
  nohup node "$TESSERA_ROOT/bin/tessera" tablet --tablet-uid "$uid" --keyspace customer --shard 0 --tablet-type "$type" \
    "${TOPO_FLAGS[@]}" > "$TESSERA_DATAROOT/logs/tablet-$uid.log" 2>&1 &
  echo $! > "$TESSERA_DATAROOT/tablet-$uid.pid"
done
for uid in 200 201 202; do
  until curl -sf "http://127.0.0.1:$((15000 + uid))/debug/health" -o /dev/null || curl -s "http://127.0.0.1:$((15000 + uid))/debug/health" | grep -q tabletAlias; do sleep 0.5; done
done
ctl InitShardPrimary --force customer/0 zone1-200
ctl ChangeTabletType zone1-202 rdonly
ctl RebuildKeyspaceGraph customer
ctl RebuildVSchemaGraph
ctl RefreshStateByShard customer/0
ctl GetTablets --keyspace customer
next_step "./202_move_tables.sh — copy customer and corder from commerce into customer (MoveTables)"
