// my.cnf for one MariaDB instance owned by a tablet. The settings are the ones later work relies on
// (see COMPATIBILITY.md): row-based binlog with full images and full metadata for the binlog reader,
// GTID strict mode for safe reparents, crash-safe flushing, and a small memory footprint so that ten
// instances fit on a test machine.
import path from 'node:path';

export interface MycnfOptions {
  readonly tabletUid: number;
  readonly mysqlPort: number;
  readonly dir: string;
  readonly bindAddress: string;
  /** InnoDB buffer pool; small by default so that many instances fit on one machine. */
  readonly innodbBufferPoolSize: string;
  /** Extra `key=value` lines under [mysqld], applied last (they override the defaults). */
  readonly extra: Readonly<Record<string, string>>;
}

/** Fixed because the cached template data directory was created with it. */
export const INNODB_LOG_FILE_SIZE = '32M';

export interface InstancePaths {
  readonly dir: string;
  readonly dataDir: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly cnf: string;
  readonly errorLog: string;
  readonly binlogDir: string;
  readonly relayLogDir: string;
  readonly tmpDir: string;
}

export function instancePaths(dir: string): InstancePaths {
  return {
    dir,
    dataDir: path.join(dir, 'data'),
    socket: path.join(dir, 'mysql.sock'),
    pidFile: path.join(dir, 'mysql.pid'),
    cnf: path.join(dir, 'my.cnf'),
    errorLog: path.join(dir, 'error.log'),
    binlogDir: path.join(dir, 'bin-logs'),
    relayLogDir: path.join(dir, 'relay-logs'),
    tmpDir: path.join(dir, 'tmp'),
  };
}

export function renderMycnf(o: MycnfOptions, runningAsRoot: boolean): string {
  const p = instancePaths(o.dir);
  const uid = o.tabletUid;
  const settings: [string, string][] = [
    ['server_id', String(uid)],
    ['port', String(o.mysqlPort)],
    ['bind_address', o.bindAddress],
    ['socket', p.socket],
    ['datadir', p.dataDir],
    ['pid_file', p.pidFile],
    ['log_error', p.errorLog],
    ['tmpdir', p.tmpDir],
    // Replication and the binlog reader.
    ['log_bin', path.join(p.binlogDir, `vt-${pad10(uid)}-bin`)],
    ['relay_log', path.join(p.relayLogDir, `vt-${pad10(uid)}-relay-bin`)],
    ['relay_log_recovery', '1'],
    ['binlog_format', 'ROW'],
    ['binlog_row_image', 'FULL'],
    ['binlog_row_metadata', 'FULL'],
    ['binlog_checksum', 'CRC32'],
    ['log_slave_updates', 'ON'],
    ['gtid_strict_mode', 'ON'],
    ['gtid_domain_id', '0'],
    // Replicas are made read-only by the tablet; a fresh instance starts read-only like Vitess's.
    ['read_only', 'ON'],
    ['skip_slave_start', 'ON'],
    // The tablet expires binlogs itself, keeping what VReplication streams still need (binlog-retention.ts).
    ['expire_logs_days', '0'],
    ['max_binlog_size', '256M'],
    // Crash safety.
    ['sync_binlog', '1'],
    ['innodb_flush_log_at_trx_commit', '1'],
    // Names, charset.
    ['skip_name_resolve', 'ON'],
    ['character_set_server', 'utf8mb4'],
    ['collation_server', 'utf8mb4_general_ci'],
    // A client's handshake character set is honoured (`skip_character_set_client_handshake = OFF`
    // read as the skip- form and turned it off: a latin1 client got utf8mb4).
    ['character_set_client_handshake', 'ON'],
    // Footprint.
    ['innodb_buffer_pool_size', o.innodbBufferPoolSize],
    ['innodb_log_file_size', INNODB_LOG_FILE_SIZE],
    ['innodb_log_buffer_size', '8M'],
    ['key_buffer_size', '8M'],
    ['aria_pagecache_buffer_size', '8M'],
    ['performance_schema', 'OFF'],
    ['table_open_cache', '400'],
    ['max_connections', '500'],
    ['thread_cache_size', '16'],
    ['innodb_use_native_aio', '0'],
    ['max_allowed_packet', '64M'],
    ['lower_case_table_names', '0'],
    ['explicit_defaults_for_timestamp', 'ON'],
  ];
  if (runningAsRoot) settings.push(['user', 'root']);
  const merged = new Map(settings);
  for (const [k, v] of Object.entries(o.extra)) merged.set(k, v);
  const lines = ['# Written by tessera mysqlctl; rewritten by every `tessera mysqlctl init`.', '[mysqld]'];
  for (const [k, v] of merged) lines.push(`${k} = ${v}`);
  lines.push('', '[client]', `socket = ${p.socket}`, `port = ${o.mysqlPort}`, '');
  return lines.join('\n');
}

export function pad10(uid: number): string {
  return String(uid).padStart(10, '0');
}
