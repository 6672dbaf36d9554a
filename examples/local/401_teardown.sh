#!/usr/bin/env bash
# Stop everything the steps started; the data stays (`tessera up --clean` starts afresh).
set -uo pipefail
source "$(dirname "$0")/env.sh"
for f in "$TESSERA_DATAROOT"/tablet-*.pid; do
  [ -f "$f" ] || continue
  kill "$(cat "$f")" 2>/dev/null && while kill -0 "$(cat "$f")" 2>/dev/null; do sleep 0.2; done
  uid=$(basename "$f" .pid); uid=${uid#tablet-}
  tessera mysqlctl shutdown --tablet-uid "$uid" >/dev/null
  rm -f "$f" "$TESSERA_DATAROOT/tablet-$uid.port"
done
tessera down
