#!/usr/bin/env bash
# Step 4: rows into the sharded keyspace through the gate — the hash vindex sends customers 1, 2, 3
# and 5 to -80 and 4 to 80- — then the same tables read per shard, as the seeds do.
set -euo pipefail
source "$(dirname "$0")/env.sh"
dir="$(dirname "$0")"
mysql customer <<'SQL'
insert ignore into customer(customer_id, email) values (1, 'alice@domain.com'), (2, 'bob@domain.com'), (3, 'charlie@domain.com'), (4, 'dan@domain.com'), (5, 'eve@domain.com');
insert ignore into corder(order_id, customer_id, sku, price) values (1, 1, 'SKU-1001', 100), (2, 2, 'SKU-1002', 30), (3, 3, 'SKU-1002', 30), (4, 4, 'SKU-1002', 30), (5, 5, 'SKU-1002', 30);
SQL
mysql --table < "$dir/select_customer-80_data.sql"
mysql --table < "$dir/select_customer80-_data.sql"
mysql --table customer -e 'select * from customer order by customer_id'
