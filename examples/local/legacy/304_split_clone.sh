#!/usr/bin/env bash
# The seed's SplitClone: rows of customer/0 copied into -80 and 80- by the hash of customer_id,
# then filtered replication keeps them current. Returns when the copy is done.
set -euo pipefail
cd "$(dirname "$0")/.."
source ./env.sh

vtworker \
 $TOPOLOGY_FLAGS \
 -cell zone1 \
 -log_dir "$VTDATAROOT"/tmp \
 -alsologtostderr \
 -use_v3_resharding_mode \
 SplitClone -min_healthy_rdonly_tablets=1 customer/0

# What the seed shows on zone1-300 afterwards.
mariadb -S "$VTDATAROOT"/vt_0000000300/mysql.sock -u vt_dba -e 'select * from _vt.vreplication\G'
