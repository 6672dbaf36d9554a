#!/usr/bin/env bash
# Step 1: the initial cluster — keyspace commerce (unsharded) with a primary, a replica and an rdonly
# tablet, the tutorial's tables, sequences and rows, a gate and ctld with its web UI.
set -euo pipefail
source "$(dirname "$0")/env.sh"
tessera up --detach
mysql --table < "$(dirname "$0")/select_commerce_data.sql"
