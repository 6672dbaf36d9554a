#!/usr/bin/env bash
# Partial MoveTables, step 3: VDiff works as-is on a partial workflow (the seed's line): it compares
# customer/-80 with customer2/-80.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../env.sh"
vtctlclient VDiff customer2.partial1
