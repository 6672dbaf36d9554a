#!/usr/bin/env bash
# Quick start: installs what is missing, then brings up the local cluster and prints how to connect.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec node bin/tessera up --detach "$@"
