#!/usr/bin/env bash
# Step 2: keyspace customer, unsharded (shard 0), with tablets 200 (primary), 201 (replica) and
# 202 (rdonly), each its own `tessera tablet` process joining the running cluster; the tables
# arrive in the next step, by MoveTables.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_cluster
ctl CreateKeyspace --durability-policy none customer || true
for uid in 200 201 202; do start_tablet "$uid" customer 0 "$([ "$uid" = 202 ] && echo rdonly || echo replica)"; done
for uid in 200 201 202; do wait_tablet "$uid"; done
ctl InitShardPrimary --force customer/0 zone1-200
ctl ChangeTabletType zone1-202 rdonly
ctl RebuildKeyspaceGraph customer
ctl RebuildVSchemaGraph
ctl RefreshStateByShard customer/0
ctl GetTablets --keyspace customer
next_step "./202_move_tables.sh — copy customer and corder from commerce into customer (MoveTables)"
