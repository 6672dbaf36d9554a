#!/usr/bin/env bash
# Step 9: Reshard customer/0 into -80 and 80-: the schema is copied to the new shards, every row is
# copied into the shard hash names for it, and the binlog keeps them current. Waits for the copy.
set -euo pipefail
source "$(dirname "$0")/env.sh"
vtctldclient Reshard --workflow cust2cust --target-keyspace customer create --source-shards '0' --target-shards '-80,80-' --wait
vtctldclient Reshard --workflow cust2cust --target-keyspace customer status
