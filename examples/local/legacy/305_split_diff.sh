#!/usr/bin/env bash
# The seed's SplitDiff of each new shard against customer/0 (exits 1 on a mismatch).
set -euo pipefail
cd "$(dirname "$0")/.."
source ./env.sh

vtworker $TOPOLOGY_FLAGS -cell zone1 SplitDiff -min_healthy_rdonly_tablets=1 customer/-80
vtworker $TOPOLOGY_FLAGS -cell zone1 SplitDiff -min_healthy_rdonly_tablets=1 customer/80-
