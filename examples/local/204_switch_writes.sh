#!/usr/bin/env bash
# Step 5: writes too: commerce stops taking writes to customer and corder, customer takes them, and
# commerce2customer_reverse replicates them back to commerce. Prints the write pause.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_workflow customer commerce2customer 202_move_tables.sh
vtctldclient MoveTables --workflow commerce2customer --target-keyspace customer switchtraffic --tablet-types primary
mysql --table < "$(dirname "$0")/select_commerce_data.sql"
next_step "./205_clean_commerce.sh — complete the move: drop the tables from commerce, remove the routing rules"
