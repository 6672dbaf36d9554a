#!/usr/bin/env bash
# Partial MoveTables, step 2: move customer and corder of shard -80 only into customer2, as the seed
# types it. The streams run on customer2/-80 alone (workflow_sub_type Partial), and the shard
# routing rules send every shard of customer2 back to customer until it is switched.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../env.sh"
vtctlclient MoveTables -- -source customer --tables 'customer,corder' --source_shards '-80' Create customer2.partial1
until status=$(vtctldclient MoveTables --workflow partial1 --target-keyspace customer2 status --format json) &&
  grep -q '"table_copy_state": {}' <<<"$status" && ! grep -q '"status": "\(Init\|Copying\|Stopped\|Error\)"' <<<"$status"; do
  sleep 1
done
vtctldclient MoveTables --workflow partial1 --target-keyspace customer2 status
vtctldclient GetShardRoutingRules
