#!/usr/bin/env bash
# Step 10: replica and rdonly reads of customer go to the new shards; writes stay on 0.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_workflow customer cust2cust 303_reshard.sh
vtctldclient Reshard --workflow cust2cust --target-keyspace customer switchtraffic --tablet-types "rdonly,replica"
next_step "./305_switch_writes.sh — writes to the new shards"
