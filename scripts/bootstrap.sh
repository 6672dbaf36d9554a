#!/usr/bin/env bash
# Installs what Tessera needs and is missing, then builds. Idempotent: a second run does nothing but
# an incremental build. Debian packages: mariadb-server, mariadb-client, etcd-server, sysbench,
# chromium (browser tests of the web UI), mariadb-test (MariaDB's regression suite, the measure of
# test/mtr and test/e2e/mtr.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
have mariadbd || need+=(mariadb-server)
have mariadb || need+=(mariadb-client)
have etcd || need+=(etcd-server)
have sysbench || need+=(sysbench)
if [ "${TESSERA_SKIP_BROWSER:-}" = "" ]; then have chromium || need+=(chromium); fi
have tmux || need+=(tmux)
[ -x /usr/share/mysql/mysql-test/mariadb-test-run ] || need+=(mariadb-test)

if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]} with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # The packages' own service start is refused by policy-rc.d on some machines; that is fine:
  # Tessera starts its own MariaDB and etcd instances.
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

npx tsc -p tsconfig.json
