#!/usr/bin/env bash
# Step 7: prepare customer for sharding. The sequence tables in commerce hand out the ids that
# auto_increment gave before (created by 101 here; applying them again changes nothing), customer's
# VSchema becomes sharded by hash, and the tables lose auto_increment — on one shard, 0, still.
set -euo pipefail
source "$(dirname "$0")/env.sh"
require_shard customer/0 201_customer_tablets.sh
vtctldclient ApplySchema --sql-file "$(dirname "$0")/create_commerce_seq.sql" commerce
vtctldclient ApplyVSchema --vschema-file "$(dirname "$0")/vschema_customer_sharded.json" customer
vtctldclient ApplySchema --sql 'alter table customer change customer_id customer_id bigint not null' \
  --sql 'alter table corder change order_id order_id bigint not null' customer
vtctldclient GetVSchema customer
next_step "./302_new_shards.sh — start the tablets of -80 and 80- (or legacy/302_new_shards.sh for the seed's path)"
