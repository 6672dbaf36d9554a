#!/usr/bin/env bash
# Step 12: the reshard is complete (its streams go), and shard 0's tablets stop.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_cluster
if ctl Workflow --keyspace customer list 2>/dev/null | grep -q '"cust2cust"'; then
  vtctldclient Reshard --workflow cust2cust --target-keyspace customer complete
elif ctl GetShard customer/0 2>/dev/null | grep -q '"is_primary_serving": true'; then
  echo "customer/0 still serves and there is no workflow customer.cust2cust; run 303_reshard.sh first" >&2
  exit 1
else
  echo "The cust2cust workflow is already complete: customer is served by -80 and 80-."
fi
for uid in 200 201 202; do
  f="$TESSERA_DATAROOT/tablet-$uid.pid"
  if [ -f "$f" ]; then
    kill "$(cat "$f")" 2>/dev/null && while kill -0 "$(cat "$f")" 2>/dev/null; do sleep 0.2; done
    rm -f "$f"
  fi
  tessera mysqlctl shutdown --tablet-uid "$uid" >/dev/null
done
next_step "./307_delete_shard_0.sh — delete shard 0 from the topology"
