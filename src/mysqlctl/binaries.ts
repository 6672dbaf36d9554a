// Finding MariaDB's programs. A missing binary is the most common first-run failure, so the error
// says exactly how to install it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { ER, TesseraError } from '../mysql/errors.js';

export interface MariadbBinaries {
  readonly mariadbd: string;
  readonly installDb: string;
  readonly client: string;
  readonly version: string;
}

const SEARCH_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/usr/local/mysql/bin'];

function find(names: readonly string[], firstDirs: readonly string[]): string | undefined {
  // TESSERA_MARIADB_SEARCH_PATH replaces the whole search (used to test the not-installed error).
  const only = process.env.TESSERA_MARIADB_SEARCH_PATH;
  const dirs = only !== undefined ? only.split(':') : [...firstDirs, ...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_DIRS];
  for (const name of names) {
    for (const d of dirs) {
      const p = `${d}/${name}`;
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        // keep looking
      }
    }
  }
  return undefined;
}

let cached: MariadbBinaries | undefined;

export function mariadbBinaries(): MariadbBinaries {
  if (cached) return cached;
  const base = process.env.TESSERA_MARIADB_BASEDIR;
  const first = base ? [`${base}/bin`, `${base}/sbin`] : [];
  const mariadbd = find(['mariadbd', 'mysqld'], first);
  const installDb = find(['mariadb-install-db', 'mysql_install_db'], first);
  const client = find(['mariadb', 'mysql'], first);
  if (!mariadbd || !installDb || !client) {
    throw new TesseraError(
      ER.UNKNOWN_ERROR,
      'MariaDB is not installed (mariadbd, mariadb-install-db and the mariadb client were not found on PATH or in /usr/sbin). ' +
        'Install it with: apt-get update && apt-get install -y mariadb-server mariadb-client ' +
        '(or run scripts/bootstrap.sh, which installs everything Tessera needs).',
    );
  }
  const out = execFileSync(mariadbd, ['--version'], { encoding: 'utf8' });
  const m = /Ver\s+(\S+)/.exec(out);
  cached = { mariadbd, installDb, client, version: m ? m[1] : 'unknown' };
  return cached;
}
