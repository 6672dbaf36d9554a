// The accounts every Tessera-managed MariaDB has, with Vitess's names (COMPATIBILITY.md). They are
// created once in the cached template data directory, with the binlog off, so that no instance ever
// carries GTIDs for them and replicas built from the same template agree from the first event.
//
// Passwords are empty, as in Vitess's local example: the accounts listen on 127.0.0.1 and the
// instance's own socket only. vt_app and vt_filtered lack SUPER and READ_ONLY ADMIN on purpose: a
// replica's read_only=ON then stops them, which is MariaDB's stand-in for super_read_only.

import { SIDECAR_DB_DEFAULT } from '../sidecar/index.js';

export const DBA_USER = 'vt_dba';
export const APP_USER = 'vt_app';
export const ALLPRIVS_USER = 'vt_allprivs';
export const REPL_USER = 'vt_repl';
export const FILTERED_USER = 'vt_filtered';
// The template holds the default sidecar database only; a tablet creates and versions its
// keyspace's sidecar database at start (src/sidecar).
export const SIDECAR_DB = SIDECAR_DB_DEFAULT;

const APP_GRANTS =
  'SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, FILE, REFERENCES, INDEX, ALTER, ' +
  'SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, BINLOG MONITOR, ' +
  'CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EVENT, TRIGGER';

const ALLPRIVS_GRANTS = `${APP_GRANTS}, CREATE USER`;

/** Network hosts each account may come from besides the socket ('localhost'). */
const TCP_HOSTS = ['127.0.0.1', '::1', '%'];

export function initSql(): string {
  const stmts: string[] = [
    'SET sql_log_bin = 0',
    "DELETE FROM mysql.global_priv WHERE User = ''",
    'DROP DATABASE IF EXISTS test',
  ];
  const account = (user: string, hosts: readonly string[], grants: string, withGrant = false) => {
    for (const h of hosts) {
      stmts.push(`CREATE USER IF NOT EXISTS '${user}'@'${h}'`);
      stmts.push(`GRANT ${grants} ON *.* TO '${user}'@'${h}'${withGrant ? ' WITH GRANT OPTION' : ''}`);
    }
  };
  // vt_dba: everything, from the socket and loopback only.
  account(DBA_USER, ['localhost', '127.0.0.1', '::1'], 'ALL PRIVILEGES', true);
  account(APP_USER, ['localhost', ...TCP_HOSTS], APP_GRANTS);
  account(ALLPRIVS_USER, ['localhost', ...TCP_HOSTS], ALLPRIVS_GRANTS);
  account(REPL_USER, ['localhost', ...TCP_HOSTS], 'REPLICATION SLAVE, BINLOG MONITOR, REPLICATION MASTER ADMIN, SLAVE MONITOR');
  account(FILTERED_USER, ['localhost', ...TCP_HOSTS], `${APP_GRANTS}, REPLICATION MASTER ADMIN`);
  stmts.push(`CREATE DATABASE IF NOT EXISTS ${SIDECAR_DB}`);
  stmts.push('FLUSH PRIVILEGES');
  return stmts.map((s) => `${s};`).join('\n') + '\n';
}
