#!/usr/bin/env bash
# Step 13: shard 0 leaves the topology with its tablet records.
set -euo pipefail
source "$(dirname "$0")/env.sh"
vtctldclient DeleteShards --recursive --force customer/0
vtctldclient GetSrvKeyspaces customer
