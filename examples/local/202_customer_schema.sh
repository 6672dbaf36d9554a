#!/usr/bin/env bash
# Step 3: the customer tables on both shards and the sharded VSchema (hash on customer_id, ids from
# commerce's sequences), then the serving graph.
set -euo pipefail
source "$(dirname "$0")/env.sh"
dir="$(dirname "$0")"
ctl ApplySchema --sql-file "$dir/create_customer_sharded.sql" customer
ctl ApplyVSchema --vschema-file "$dir/vschema_customer_sharded.json" customer
ctl RebuildKeyspaceGraph customer
ctl RebuildVSchemaGraph
ctl RefreshStateByShard customer/-80
ctl RefreshStateByShard customer/80-
