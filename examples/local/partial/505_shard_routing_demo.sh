#!/usr/bin/env bash
# Partial MoveTables, step 5: show that shard routing, not replication, answers. The seed stops
# "customer2.partial", a workflow that does not exist (Tessera's error names the ones that do); the
# workflow that would copy the update back into customer is customer.partial1_reverse, so that is
# the one stopped. Then customer2's MariaDB is updated directly, a query aimed at customer:-80
# through the gate shows the routed emails, and customer's own -80 primary still has the old ones.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../env.sh"
# The seed's line, as printed.
vtctlclient Workflow customer2.partial stop || echo "(as expected: there is no workflow customer2.partial)"
# Stop the reverse workflow, so that nothing copies the update back into customer.
vtctlclient Workflow customer.partial1_reverse stop
# Update customer2 database directly.
mysql -S $VTDATAROOT/vt_0000000500/mysql.sock -u vt_dba -e "update vt_customer2.customer set email = concat('routed.', email)"
# Use shard targeting using customer (not customer2).
mysql --table -e "use customer:-80; select customer_id, email from customer order by customer_id"
# customer's own -80 primary (tablet 300) still holds the old emails: the rows above came from customer2.
old=$(mysql -S $VTDATAROOT/vt_0000000300/mysql.sock -u vt_dba --batch --skip-column-names -e "select count(*) from vt_customer.customer where email like 'routed.%'")
echo "customer/-80 rows with routed. emails on customer's own primary: $old"
[ "$old" = 0 ]
