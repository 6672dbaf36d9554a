#!/usr/bin/env bash
# Step 11: writes too: shard 0 stops taking them, -80 and 80- catch up and take them, and
# cust2cust_reverse replicates them back to 0. Prints the write pause.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_workflow customer cust2cust 303_reshard.sh
vtctldclient Reshard --workflow cust2cust --target-keyspace customer switchtraffic --tablet-types "primary"
mysql --table < "$(dirname "$0")/select_customer-80_data.sql"
mysql --table < "$(dirname "$0")/select_customer80-_data.sql"
next_step "./306_down_shard_0.sh — complete the reshard and stop shard 0's tablets"
