#!/usr/bin/env bash
# Partial MoveTables, step 4: switch the reads and writes of shard -80 to customer2. The table
# routing rules keep pointing at customer; the shard routing rule customer/-80 -> customer2 sends
# every query for that shard to customer2 (gates run with --enable-partial-keyspace-migration).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../env.sh"
vtctlclient MoveTables -- SwitchTraffic customer2.partial1
vtctldclient GetShardRoutingRules
