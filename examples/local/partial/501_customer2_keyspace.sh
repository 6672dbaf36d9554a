#!/usr/bin/env bash
# Partial MoveTables, step 1 (run after the tutorial's 307): keyspace customer2 with the same shards
# as customer — -80 (tablets 500 primary, 501 replica, 502 rdonly) and 80- (600, 601, 602) — and
# customer's sharded VSchema. Its tables arrive by MoveTables, one shard at a time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../env.sh"
vtctldclient CreateKeyspace --durability-policy none customer2 || true
for uid in 500 501 502; do start_tablet "$uid" customer2 -80 "$([ "$uid" = 502 ] && echo rdonly || echo replica)"; done
for uid in 600 601 602; do start_tablet "$uid" customer2 80- "$([ "$uid" = 602 ] && echo rdonly || echo replica)"; done
for uid in 500 501 502 600 601 602; do wait_tablet "$uid"; done
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
