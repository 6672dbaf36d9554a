// TEMPORARY (replaced by the sidecar branch): typed reads and writes of _vt.vreplication,
// copy_state and vreplication_log.
import type { Result } from '../mysql/client-result.js';
import type { SqlValue } from '../mysql/values.js';
import { quoteIdent, quoteString, valueLiteral } from '../sql/index.js';

export type StreamState = 'Init' | 'Copying' | 'Running' | 'Stopped' | 'Error' | 'Lagging';

export interface StreamRecord {
  readonly id: number;
  readonly workflow: string;
  readonly source: string;
  readonly pos: string;
  readonly stopPos: string;
  readonly maxTps: bigint;
  readonly maxReplicationLag: bigint;
  readonly cell: string;
  readonly tabletTypes: readonly ('primary' | 'replica' | 'rdonly')[];
  readonly timeUpdated: number;
  readonly transactionTimestamp: number;
  readonly state: StreamState;
  readonly message: string;
  readonly dbName: string;
  readonly rowsCopied: number;
  readonly tags: string;
  readonly timeHeartbeat: number;
  readonly workflowType: number;
  readonly timeThrottled: number;
  readonly componentThrottled: string;
  readonly reasonThrottled: string;
  readonly workflowSubType: number;
  readonly deferSecondaryKeys: boolean;
  readonly options: string;
}

export interface NewStream {
  readonly workflow: string;
  readonly source: string;
  readonly pos?: string;
  readonly stopPos?: string;
  readonly maxTps?: bigint;
  readonly maxReplicationLag?: bigint;
  readonly cell?: string;
  readonly tabletTypes?: readonly string[];
  readonly state: StreamState;
  readonly dbName: string;
  readonly workflowType?: number;
  readonly workflowSubType?: number;
  readonly deferSecondaryKeys?: boolean;
  readonly options?: string;
  /** Tables to copy: one copy_state row each. */
  readonly copyTables?: readonly string[];
}

export type Executor = (sql: string) => Promise<Pick<Result, 'rows' | 'affectedRows' | 'insertId'>>;

const NO_LIMIT = 9223372036854775807n;

function str(v: SqlValue): string {
  if (v === null) return '';
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

export function encodeLastPk(values: readonly SqlValue[]): string {
  return JSON.stringify(values.map((v) => (v === null ? null : typeof v === 'bigint' ? { i: v.toString() } : Buffer.isBuffer(v) ? { b: v.toString('base64') } : v)));
}

export function decodeLastPk(text: string): SqlValue[] {
  const arr = JSON.parse(text) as (null | number | string | { i?: string; b?: string })[];
  return arr.map((v) => (v === null || typeof v !== 'object' ? v : v.i !== undefined ? BigInt(v.i) : Buffer.from(v.b ?? '', 'base64')));
}

export class StreamStore {
  constructor(
    readonly exec: Executor,
    readonly sidecarDb = '_vt',
  ) {}

  private t(name: string): string {
    return `${quoteIdent(this.sidecarDb)}.${name}`;
  }

  private rec(r: SqlValue[]): StreamRecord {
    return {
      id: Number(r[0]),
      workflow: str(r[1]),
      source: str(r[2]),
      pos: str(r[3]),
      stopPos: str(r[4]),
      maxTps: BigInt(str(r[5]) || '0'),
      maxReplicationLag: BigInt(str(r[6]) || '0'),
      cell: str(r[7]),
      tabletTypes: str(r[8]).split(',').map((x) => x.trim()).filter((x) => x) as StreamRecord['tabletTypes'],
      timeUpdated: Number(r[9] ?? 0),
      transactionTimestamp: Number(r[10] ?? 0),
      state: str(r[11]) as StreamState,
      message: str(r[12]),
      dbName: str(r[13]),
      rowsCopied: Number(r[14] ?? 0),
      tags: str(r[15]),
      timeHeartbeat: Number(r[16] ?? 0),
      workflowType: Number(r[17] ?? 0),
      timeThrottled: Number(r[18] ?? 0),
      componentThrottled: str(r[19]),
      reasonThrottled: str(r[20]),
      workflowSubType: Number(r[21] ?? 0),
      deferSecondaryKeys: Number(r[22] ?? 0) !== 0,
      options: str(r[23]),
    };
  }

  private static readonly COLS =
    'id, workflow, source, pos, stop_pos, max_tps, max_replication_lag, cell, tablet_types, time_updated, transaction_timestamp, state, message, db_name, rows_copied, tags, time_heartbeat, workflow_type, time_throttled, component_throttled, reason_throttled, workflow_sub_type, defer_secondary_keys, options';

  async readStreams(f: { workflow?: string; dbName?: string } = {}): Promise<StreamRecord[]> {
    const where: string[] = [];
    if (f.workflow !== undefined) where.push(`workflow = ${quoteString(f.workflow)}`);
    if (f.dbName !== undefined) where.push(`db_name = ${quoteString(f.dbName)}`);
    const r = await this.exec(`SELECT ${StreamStore.COLS} FROM ${this.t('vreplication')}${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY id`);
    return r.rows.map((x) => this.rec(x));
  }

  async readStream(id: number): Promise<StreamRecord | undefined> {
    const r = await this.exec(`SELECT ${StreamStore.COLS} FROM ${this.t('vreplication')} WHERE id = ${id}`);
    return r.rows.length ? this.rec(r.rows[0]) : undefined;
  }

  async insertStream(s: NewStream): Promise<number> {
    const r = await this.exec(
      `INSERT INTO ${this.t('vreplication')} (workflow, source, pos, stop_pos, max_tps, max_replication_lag, cell, tablet_types, time_updated, transaction_timestamp, state, message, db_name, workflow_type, workflow_sub_type, defer_secondary_keys, options) VALUES (` +
        [
          quoteString(s.workflow), quoteString(s.source), quoteString(s.pos ?? ''), quoteString(s.stopPos ?? ''),
          String(s.maxTps ?? NO_LIMIT), String(s.maxReplicationLag ?? NO_LIMIT), quoteString(s.cell ?? ''), quoteString((s.tabletTypes ?? []).join(',')),
          'UNIX_TIMESTAMP()', '0', quoteString(s.state), "''", quoteString(s.dbName), String(s.workflowType ?? 0), String(s.workflowSubType ?? 0),
          s.deferSecondaryKeys ? '1' : '0', quoteString(s.options ?? '{}'),
        ].join(', ') + ')',
    );
    const id = Number(r.insertId);
    for (const t of s.copyTables ?? []) {
      await this.exec(`INSERT INTO ${this.t('copy_state')} (vrepl_id, table_name, lastpk) VALUES (${id}, ${quoteString(t)}, NULL)`);
    }
    return id;
  }

  async setState(id: number, state: StreamState, message: string): Promise<void> {
    await this.exec(`UPDATE ${this.t('vreplication')} SET state = ${quoteString(state)}, message = ${quoteString(message.slice(0, 1000))} WHERE id = ${id}`);
  }

  async setMessage(id: number, message: string): Promise<void> {
    await this.exec(`UPDATE ${this.t('vreplication')} SET message = ${quoteString(message.slice(0, 1000))} WHERE id = ${id}`);
  }

  async update(id: number, fields: { state?: StreamState; message?: string; options?: string; cell?: string; tabletTypes?: readonly string[]; stopPos?: string; source?: string }): Promise<void> {
    const sets: string[] = [];
    if (fields.state !== undefined) sets.push(`state = ${quoteString(fields.state)}`);
    if (fields.message !== undefined) sets.push(`message = ${quoteString(fields.message)}`);
    if (fields.options !== undefined) sets.push(`options = ${quoteString(fields.options)}`);
    if (fields.cell !== undefined) sets.push(`cell = ${quoteString(fields.cell)}`);
    if (fields.tabletTypes !== undefined) sets.push(`tablet_types = ${quoteString(fields.tabletTypes.join(','))}`);
    if (fields.stopPos !== undefined) sets.push(`stop_pos = ${quoteString(fields.stopPos)}`);
    if (fields.source !== undefined) sets.push(`source = ${quoteString(fields.source)}`);
    if (sets.length === 0) return;
    await this.exec(`UPDATE ${this.t('vreplication')} SET ${sets.join(', ')} WHERE id = ${id}`);
  }

  async setThrottled(id: number, component: string, reason: string): Promise<void> {
    await this.exec(`UPDATE ${this.t('vreplication')} SET time_throttled = UNIX_TIMESTAMP(), component_throttled = ${quoteString(component)}, reason_throttled = ${quoteString(reason)} WHERE id = ${id}`);
  }

  async deleteStream(id: number): Promise<void> {
    await this.exec(`DELETE FROM ${this.t('copy_state')} WHERE vrepl_id = ${id}`);
    await this.exec(`DELETE FROM ${this.t('vreplication_log')} WHERE vrepl_id = ${id}`);
    await this.exec(`DELETE FROM ${this.t('vreplication')} WHERE id = ${id}`);
  }

  async readCopyState(id: number): Promise<{ table: string; lastPk: SqlValue[] | null }[]> {
    const r = await this.exec(`SELECT table_name, lastpk FROM ${this.t('copy_state')} WHERE vrepl_id = ${id} ORDER BY id`);
    return r.rows.map((x) => ({ table: str(x[0]), lastPk: x[1] === null ? null : decodeLastPk(str(x[1])) }));
  }

  sqlSetPos(id: number, pos: string, transactionTimestamp: number, rowsCopied = 0): string {
    return `UPDATE ${this.t('vreplication')} SET pos = ${quoteString(pos)}, time_updated = UNIX_TIMESTAMP()${transactionTimestamp > 0 ? `, transaction_timestamp = ${transactionTimestamp}` : ''}${rowsCopied > 0 ? `, rows_copied = rows_copied + ${rowsCopied}` : ''}, message = '' WHERE id = ${id}`;
  }

  sqlHeartbeat(id: number): string {
    return `UPDATE ${this.t('vreplication')} SET time_heartbeat = UNIX_TIMESTAMP() WHERE id = ${id}`;
  }

  sqlSetCopyState(id: number, table: string, lastPk: readonly SqlValue[]): string {
    return `UPDATE ${this.t('copy_state')} SET lastpk = ${quoteString(encodeLastPk(lastPk))} WHERE vrepl_id = ${id} AND table_name = ${quoteString(table)}`;
  }

  sqlDeleteCopyState(id: number, table: string): string {
    return `DELETE FROM ${this.t('copy_state')} WHERE vrepl_id = ${id} AND table_name = ${quoteString(table)}`;
  }

  async log(id: number, type: string, state: string, message: string): Promise<void> {
    const last = await this.exec(`SELECT id, message FROM ${this.t('vreplication_log')} WHERE vrepl_id = ${id} ORDER BY id DESC LIMIT 1`);
    if (last.rows.length > 0 && str(last.rows[0][1]) === message) {
      await this.exec(`UPDATE ${this.t('vreplication_log')} SET count = count + 1, updated_at = NOW() WHERE id = ${valueLiteral(last.rows[0][0])}`);
      return;
    }
    await this.exec(`INSERT INTO ${this.t('vreplication_log')} (vrepl_id, type, state, message) VALUES (${id}, ${quoteString(type)}, ${quoteString(state)}, ${quoteString(message)})`);
  }

  async readLog(id: number, limit = 20): Promise<{ id: number; type: string; state: string; message: string; count: number; createdAt: string; updatedAt: string }[]> {
    const r = await this.exec(`SELECT id, type, state, message, count, created_at, updated_at FROM ${this.t('vreplication_log')} WHERE vrepl_id = ${id} ORDER BY id DESC LIMIT ${limit}`);
    return r.rows.map((x) => ({ id: Number(x[0]), type: str(x[1]), state: str(x[2]), message: str(x[3]), count: Number(x[4]), createdAt: str(x[5]), updatedAt: str(x[6]) }));
  }
}

/** TEMPORARY: the sidecar tables this store uses (the sidecar module owns them). */
export function tempSidecarDdl(db: string): string[] {
  const q = quoteIdent(db);
  return [
    `CREATE DATABASE IF NOT EXISTS ${q}`,
    `CREATE TABLE IF NOT EXISTS ${q}.vreplication (id int NOT NULL AUTO_INCREMENT, workflow varbinary(1000) DEFAULT NULL, source mediumblob NOT NULL, pos varbinary(10000) NOT NULL, stop_pos varbinary(10000) DEFAULT NULL, max_tps bigint NOT NULL, max_replication_lag bigint NOT NULL, cell varbinary(1000) DEFAULT NULL, tablet_types varbinary(100) DEFAULT NULL, time_updated bigint NOT NULL, transaction_timestamp bigint NOT NULL, state varbinary(100) NOT NULL, message varbinary(1000) DEFAULT NULL, db_name varbinary(255) NOT NULL, rows_copied bigint NOT NULL DEFAULT 0, tags varbinary(1024) NOT NULL DEFAULT '', time_heartbeat bigint NOT NULL DEFAULT 0, workflow_type int NOT NULL DEFAULT 0, time_throttled bigint NOT NULL DEFAULT 0, component_throttled varchar(255) NOT NULL DEFAULT '', reason_throttled varchar(255) NOT NULL DEFAULT '', workflow_sub_type int NOT NULL DEFAULT 0, defer_secondary_keys tinyint(1) NOT NULL DEFAULT 0, options json NOT NULL DEFAULT '{}', PRIMARY KEY (id), KEY workflow_idx (workflow(64))) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS ${q}.copy_state (id bigint unsigned NOT NULL AUTO_INCREMENT, vrepl_id int NOT NULL, table_name varbinary(128) NOT NULL, lastpk varbinary(2000) DEFAULT NULL, PRIMARY KEY (id), UNIQUE KEY vrepl_id (vrepl_id, table_name)) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS ${q}.vreplication_log (id bigint NOT NULL AUTO_INCREMENT, vrepl_id int NOT NULL, type varbinary(256) NOT NULL, state varbinary(100) NOT NULL, created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, message text NOT NULL, count bigint NOT NULL DEFAULT 1, PRIMARY KEY (id)) ENGINE=InnoDB`,
  ];
}
