#!/usr/bin/env bash
# Step 13: shard 0 leaves the topology with its tablet records.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_cluster
vtctldclient DeleteShards --recursive --force customer/0
vtctldclient GetSrvKeyspaces customer
next_step "partial/501_customer2_keyspace.sh — move customer to customer2 one shard at a time; or ./401_teardown.sh to stop everything"
