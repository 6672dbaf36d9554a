#!/usr/bin/env bash
# Stop everything the steps started; the data stays (`tessera up --clean` starts afresh).
set -uo pipefail
source "$(dirname "$0")/env.sh"
for f in "$TESSERA_DATAROOT"/tablet-*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    # A tablet stops in a few seconds; one that has not after 60 s is killed, and said so.
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "tablet $(basename "$f" .pid) (pid $pid) did not stop within 60 s of SIGTERM; killing it (its log: $TESSERA_DATAROOT/logs/$(basename "$f" .pid).log)" >&2
      kill -9 "$pid" 2>/dev/null
    fi
  fi
  uid=$(basename "$f" .pid); uid=${uid#tablet-}
  tessera mysqlctl shutdown --tablet-uid "$uid" >/dev/null
  rm -f "$f" "$TESSERA_DATAROOT/tablet-$uid.port"
done
tessera down
