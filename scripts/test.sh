#!/usr/bin/env bash
# Runs the test suite: installs what is missing, builds, reaps leftovers of an earlier interrupted
# run, runs the tests (their TAP also kept in test-output/last-run.tap, failures repeated at the end),
# then fails if any MariaDB, etcd or tessera process outlived them.
#
#   scripts/test.sh                 everything (what CI runs)
#   scripts/test.sh unit            pure-code tests only (seconds)
#   scripts/test.sh integration     real MariaDB/etcd/process tests
#   scripts/test.sh e2e             whole clusters
#   scripts/test.sh chaos           the chaos suite's short profile (test/chaos; a few minutes;
#                                   TESSERA_CHAOS_PROFILE=long for the long one, by hand)
#   scripts/test.sh dist/test/…js   one file
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh || exit 1

export TESSERA_LOG_LEVEL="${TESSERA_LOG_LEVEL:-warn}"
targets=()
if [ $# -eq 0 ]; then
  for t in unit integration e2e chaos; do [ -d "dist/test/$t" ] && targets+=("dist/test/$t"); done
else
  for a in "$@"; do
    case "$a" in
      unit|integration|e2e|chaos) [ -d "dist/test/$a" ] && targets+=("dist/test/$a") ;;
      *) targets+=("$a") ;;
    esac
  done
fi

node dist/test/harness/reap.js
mkdir -p test-output
tap=test-output/last-run.tap
node --test --test-concurrency="${TESSERA_TEST_CONCURRENCY:-2}" --test-timeout=1800000 "${targets[@]}" | tee "$tap"
rc=${PIPESTATUS[0]}
# Repeat the failures at the end, where a log seen only from its tail still shows them.
[ "$rc" -eq 0 ] || node dist/test/harness/failures.js "$tap"
node dist/test/harness/reap.js --check || rc=1
exit $rc
