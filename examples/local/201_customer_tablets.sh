#!/usr/bin/env bash
# Step 2: the customer keyspace, sharded in two: -80 (tablets 300 primary, 301 replica, 302 rdonly)
# and 80- (400, 401, 402), each tablet its own `tessera tablet` process joining the running cluster,
# then InitShardPrimary for each shard (the seeds' `InitShardMaster -force customer/-80 zone1-300`).
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$TESSERA_DATAROOT/logs"
ctl CreateKeyspace --durability-policy none customer || true
for shard in -80 80-; do
  base=$([ "$shard" = "-80" ] && echo 300 || echo 400)
  for i in 0 1 2; do
    uid=$((base + i))
    type=$([ $i -eq 2 ] && echo rdonly || echo replica)
    [ -f "$TESSERA_DATAROOT/tablet-$uid.pid" ] && kill -0 "$(cat "$TESSERA_DATAROOT/tablet-$uid.pid")" 2>/dev/null && continue
    nohup node "$TESSERA_ROOT/bin/tessera" tablet --tablet-uid "$uid" --keyspace customer --shard "$shard" --tablet-type "$type" \
      "${TOPO_FLAGS[@]}" > "$TESSERA_DATAROOT/logs/tablet-$uid.log" 2>&1 &
    echo $! > "$TESSERA_DATAROOT/tablet-$uid.pid"
  done
done
for uid in 300 301 302 400 401 402; do
  until curl -sf "http://127.0.0.1:$((15000 + uid))/debug/health" -o /dev/null || curl -s "http://127.0.0.1:$((15000 + uid))/debug/health" | grep -q tabletAlias; do sleep 0.5; done
done
ctl InitShardPrimary --force customer/-80 zone1-300
ctl InitShardPrimary --force customer/80- zone1-400
for uid in 302 402; do ctl ChangeTabletType "zone1-$uid" rdonly; done
ctl GetTablets --keyspace customer
