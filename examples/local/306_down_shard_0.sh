#!/usr/bin/env bash
# Step 12: the reshard is complete (its streams go), and shard 0's tablets stop.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_workflow customer cust2cust 303_reshard.sh
vtctldclient Reshard --workflow cust2cust --target-keyspace customer complete
for uid in 200 201 202; do
  f="$TESSERA_DATAROOT/tablet-$uid.pid"
  if [ -f "$f" ]; then
    kill "$(cat "$f")" 2>/dev/null && while kill -0 "$(cat "$f")" 2>/dev/null; do sleep 0.2; done
    rm -f "$f"
  fi
  tessera mysqlctl shutdown --tablet-uid "$uid" >/dev/null
done
next_step "./307_delete_shard_0.sh — delete shard 0 from the topology"
