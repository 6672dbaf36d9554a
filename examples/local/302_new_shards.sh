#!/usr/bin/env bash
# Step 8: the new shards -80 (tablets 300-302) and 80- (400-402), each tablet its own process; they
# overlap the serving shard 0, so they serve nothing until traffic is switched to them.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_shard customer/0 201_customer_tablets.sh
for uid in 300 301 302; do start_tablet "$uid" customer -80 "$([ "$uid" = 302 ] && echo rdonly || echo replica)"; done
for uid in 400 401 402; do start_tablet "$uid" customer 80- "$([ "$uid" = 402 ] && echo rdonly || echo replica)"; done
for uid in 300 301 302 400 401 402; do wait_tablet "$uid"; done
vtctldclient InitShardPrimary --force customer/-80 zone1-300
vtctldclient InitShardPrimary --force customer/80- zone1-400
vtctldclient ChangeTabletType zone1-302 rdonly
vtctldclient ChangeTabletType zone1-402 rdonly
vtctldclient RefreshStateByShard customer/-80
vtctldclient RefreshStateByShard customer/80-
vtctldclient GetTablets --keyspace customer
next_step "./303_reshard.sh — copy customer/0 into -80 and 80- (Reshard)"
