#!/usr/bin/env bash
# Step 4: reads from replica and rdonly tablets of customer and corder go to the customer keyspace.
set -euo pipefail
source "$(dirname "$0")/env.sh"
vtctldclient MoveTables --workflow commerce2customer --target-keyspace customer switchtraffic --tablet-types 'rdonly,replica'
