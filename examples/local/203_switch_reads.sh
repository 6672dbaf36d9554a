#!/usr/bin/env bash
# Step 4: reads from replica and rdonly tablets of customer and corder go to the customer keyspace.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_workflow customer commerce2customer 202_move_tables.sh
vtctldclient MoveTables --workflow commerce2customer --target-keyspace customer switchtraffic --tablet-types 'rdonly,replica'
next_step "./204_switch_writes.sh — writes too (prints the write pause)"
