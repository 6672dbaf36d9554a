#!/usr/bin/env bash
# Step 1: the initial cluster — keyspace commerce (unsharded) with a primary, a replica and an rdonly
# tablet, the tutorial's tables, sequences and rows, a gate and ctld with its web UI.
set -euo pipefail
source "$(dirname "$0")/env.sh"
# Run again while the cluster runs, it says what it found and shows the data.
if tessera status 2>/dev/null | grep -q '^cluster: running'; then
  echo "The cluster is already running from $TESSERA_DATAROOT:"
  tessera status
else
  # TESSERA_MODE=distributed runs each component as its own process, on etcd.
  tessera up --detach ${TESSERA_MODE:+--mode "$TESSERA_MODE"}
fi
mysql --table < "$(dirname "$0")/select_commerce_data.sql"
next_step "./201_customer_tablets.sh — start the customer keyspace's tablets; the web UI is at http://127.0.0.1:15000/"
