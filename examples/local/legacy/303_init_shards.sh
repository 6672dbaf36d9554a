#!/usr/bin/env bash
# The seed's next lines: 300 and 400 become the new shards' primaries and get customer/0's schema.
# Afterwards `use customer/-80` and `use customer/80-` show the new, empty tables.
set -euo pipefail
cd "$(dirname "$0")/.."
source ./env.sh

vtctlclient -server localhost:15999 InitShardMaster -force customer/-80 zone1-300
vtctlclient -server localhost:15999 InitShardMaster -force customer/80- zone1-400
vtctlclient -server localhost:15999 CopySchemaShard customer/0 customer/-80
vtctlclient -server localhost:15999 CopySchemaShard customer/0 customer/80-
