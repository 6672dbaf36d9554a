#!/usr/bin/env bash
# Step 6: the move is complete: customer and corder are dropped from commerce, the routing rules and
# the workflows are removed.
set -euo pipefail
source "$(dirname "$0")/env.sh"
vtctldclient MoveTables --workflow commerce2customer --target-keyspace customer complete
vtctldclient GetRoutingRules
