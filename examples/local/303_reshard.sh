#!/usr/bin/env bash
# Step 9: Reshard customer/0 into -80 and 80-: the schema is copied to the new shards, every row is
# copied into the shard hash names for it, and the binlog keeps them current. Waits for the copy.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_shard customer/-80 302_new_shards.sh; require_shard customer/80- 302_new_shards.sh
vtctldclient Reshard --workflow cust2cust --target-keyspace customer create --source-shards '0' --target-shards '-80,80-' --wait
vtctldclient Reshard --workflow cust2cust --target-keyspace customer status
# Where hash put the tutorial's customers: 1, 2, 3 and 5 in -80, 4 in 80-.
for shard in -80 80-; do
  mysql -N -e "use customer/$shard; select concat('customer/$shard holds customers ', group_concat(customer_id order by customer_id)) from customer where customer_id <= 5"
done
next_step "./304_switch_reads.sh — replica and rdonly reads to the new shards"
