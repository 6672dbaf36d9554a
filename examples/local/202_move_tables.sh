#!/usr/bin/env bash
# Step 3: MoveTables copies customer and corder from commerce to customer and keeps them in sync;
# the routing rules keep every query on commerce until the traffic is switched.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_shard customer/0 201_customer_tablets.sh
vtctldclient MoveTables --workflow commerce2customer --target-keyspace customer create --source-keyspace commerce --tables 'customer,corder'
# The copy is done when no table is left to copy and every stream replicates.
until status=$(vtctldclient MoveTables --workflow commerce2customer --target-keyspace customer status --format json) &&
  grep -q '"table_copy_state": {}' <<<"$status" && ! grep -q '"status": "\(Init\|Copying\|Stopped\|Error\)"' <<<"$status"; do
  sleep 1
done
vtctldclient MoveTables --workflow commerce2customer --target-keyspace customer status
mysql --table < "$(dirname "$0")/select_customer0_data.sql"
next_step "./203_switch_reads.sh — send @replica and @rdonly reads of customer and corder to the customer keyspace"
