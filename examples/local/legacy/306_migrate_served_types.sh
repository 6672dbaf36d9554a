#!/usr/bin/env bash
# The seed's cut-over: rdonly, then replica reads move to -80 and 80-, then the primary (master)
# writes; customer/0 then gets the reverse streams from both new shards.
set -euo pipefail
cd "$(dirname "$0")/.."
source ./env.sh

vtctlclient -server localhost:15999 MigrateServedTypes customer/0 rdonly
vtctlclient -server localhost:15999 MigrateServedTypes customer/0 replica


vtctlclient -server localhost:15999 MigrateServedTypes customer/0 master

mysql --table < select_customer-80_data.sql
mysql --table < select_customer80-_data.sql
