#!/usr/bin/env bash
# The seed's "Create new shards", line by line: tablets 300-302 for -80 and 400-402 for 80-, each a
# MariaDB (scripts/mysqlctl-up.sh) and a tablet process (scripts/vttablet-up.sh); 302 and 402 are
# rdonly, the others replicas. Run from the state after ../301_customer_sharded.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

source ./env.sh

for i in 300 301 302; do
 CELL=zone1 TABLET_UID=$i ./scripts/mysqlctl-up.sh
 SHARD=-80 CELL=zone1 KEYSPACE=customer TABLET_UID=$i ./scripts/vttablet-up.sh
done

for i in 400 401 402; do
 CELL=zone1 TABLET_UID=$i ./scripts/mysqlctl-up.sh
 SHARD=80- CELL=zone1 KEYSPACE=customer TABLET_UID=$i ./scripts/vttablet-up.sh
done
