// Typed reads and writes of the VReplication tables of the sidecar database (vreplication,
// copy_state, vreplication_log), for the engine and the tablet-manager calls. The tables
// themselves are created by src/sidecar.
//
// Two kinds of methods:
// - `sql*` return a statement for the caller to run inside its own transaction: the engine commits
//   a copied batch with its copy_state row, and applied binlog events with the new position, in
//   one transaction, so a crash can neither lose nor repeat them.
// - the rest run on the store's executor at once. Some open their own transaction, so that
//   executor must not be inside one (a BEGIN would commit it).
//
// Every value goes into SQL through src/sql's quoteString/quoteIdent or as a checked integer.
import { GtidPosition } from '../mysql/binlog/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { SqlValue } from '../mysql/values.js';
import { cellText, inTransaction, SIDECAR_COLUMN_BYTES_MAX, SIDECAR_DB_DEFAULT, type SqlExecutor } from '../sidecar/index.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { formatBinlogSource, parseBinlogSource, type BinlogSource } from './binlog-source.js';
import { formatLastPk, parseLastPk, type LastPk } from './lastpk.js';

export type StreamState = 'Init' | 'Copying' | 'Running' | 'Stopped' | 'Error' | 'Lagging';
export const STREAM_STATES: readonly StreamState[] = ['Init', 'Copying', 'Running', 'Stopped', 'Error', 'Lagging'];

/** max_tps and max_replication_lag: this value (int64's maximum, as Vitess writes it) means no limit. */
export const NO_LIMIT = 9223372036854775807n;

/** vreplication.workflow_type, Vitess's VReplicationWorkflowType numbers. */
export const WORKFLOW_TYPE = { Materialize: 0, MoveTables: 1, CreateLookupIndex: 2, Migrate: 3, Reshard: 4, OnlineDDL: 5 } as const;
/** vreplication.workflow_sub_type, Vitess's VReplicationWorkflowSubType numbers. */
export const WORKFLOW_SUB_TYPE = { None: 0, Partial: 1, AtomicCopy: 2 } as const;

/** vreplication_log.type values, spelled as Vitess spells them (Workflow show prints them). */
export const LOG_TYPE = {
  StreamCreate: 'Stream Created',
  StreamUpdate: 'Stream Updated',
  StreamDelete: 'Stream Deleted',
  Message: 'Message',
  CopyStart: 'Started Copy Phase',
  CopyEnd: 'Ended Copy Phase',
  StateChange: 'State Changed',
  Error: 'Error',
} as const;

export const STREAM_STORE_DEFAULTS = {
  /** Log rows readLog returns when the caller names no limit. */
  logRowsMax: 100,
};

/** One row of vreplication. Times are Unix seconds, as Vitess stores them. */
export interface Stream {
  readonly id: number;
  readonly workflow: string;
  readonly source: BinlogSource;
  /** `MariaDB/0-100-42`, or '' before the stream has a position (copy not started). */
  readonly pos: string;
  readonly stopPos: string | null;
  readonly maxTps: bigint;
  readonly maxReplicationLag: bigint;
  readonly cell: string;
  readonly tabletTypes: string;
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
  readonly options: Readonly<Record<string, unknown>>;
}

export interface NewStream {
  readonly workflow: string;
  readonly source: BinlogSource;
  /** The target database the stream writes into (`vt_<keyspace>`). */
  readonly dbName: string;
  /** Where replication starts; '' (the default) to copy first. */
  readonly pos?: string;
  readonly stopPos?: string | null;
  readonly maxTps?: bigint;
  readonly maxReplicationLag?: bigint;
  readonly cell?: string;
  /** Source tablet types in preference order, e.g. `replica,primary`; Vitess's comma list. */
  readonly tabletTypes?: string;
  /** 'Stopped' by default, as Vitess creates streams: the caller starts them. */
  readonly state?: StreamState;
  readonly workflowType?: number;
  readonly workflowSubType?: number;
  readonly deferSecondaryKeys?: boolean;
  readonly tags?: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Tables to copy: one copy_state row each, lastpk NULL (nothing copied yet). */
  readonly copyTables?: readonly string[];
}

/** Fields `updateStream` may change. */
export interface StreamPatch {
  readonly source?: BinlogSource;
  readonly pos?: string;
  readonly stopPos?: string | null;
  readonly maxTps?: bigint;
  readonly maxReplicationLag?: bigint;
  readonly cell?: string;
  readonly tabletTypes?: string;
  readonly state?: StreamState;
  readonly message?: string;
  readonly tags?: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

export interface CopyState {
  /** copy_state.id: a chunk's row (a table copied in parallel has one row per chunk). */
  readonly rowId: number;
  readonly table: string;
  /**
   * null until the first batch of the table is committed. For a chunk, the key after which its
   * rows are still to come: the previous chunk's end until its first batch commits.
   */
  readonly lastpk: LastPk | null;
  /** The chunk's last key (inclusive); null: to the table's end. */
  readonly chunkEnd: LastPk | null;
  /** The chunk has no rows left; the table's rows go once every chunk is done. */
  readonly chunkDone: boolean;
  /** Rows and bytes of the table copied so far, counted batch by batch with lastpk. */
  readonly rowsCopied: number;
  readonly bytesCopied: number;
}

export interface LogEntry {
  readonly id: number;
  readonly vreplId: number;
  readonly type: string;
  readonly state: string;
  /** MariaDB DATETIME text, server time zone. */
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly message: string;
  /** How many times this message came in a row. */
  readonly count: number;
}

const STREAM_COLUMNS = [
  'id', 'workflow', 'source', 'pos', 'stop_pos', 'max_tps', 'max_replication_lag', 'cell', 'tablet_types', 'time_updated',
  'transaction_timestamp', 'state', 'message', 'db_name', 'rows_copied', 'tags', 'time_heartbeat', 'workflow_type',
  'time_throttled', 'component_throttled', 'reason_throttled', 'workflow_sub_type', 'defer_secondary_keys', 'options',
] as const;

/** Unix seconds now. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The longest prefix of `s` within `max` UTF-8 bytes, cut between characters. */
function cutBytes(s: string, max: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return s;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

/** The first `max` characters (code points) of `s`, for VARCHAR columns. */
function cutChars(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : chars.slice(0, max).join('');
}

function int(v: number | bigint, what: string): string {
  if (typeof v === 'bigint') return v.toString();
  if (!Number.isSafeInteger(v)) throw new Error(`${what} must be an integer, not ${v}`);
  return String(v);
}

function state(s: StreamState): string {
  if (!STREAM_STATES.includes(s)) throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid stream state '${s}'; use one of ${STREAM_STATES.join(', ')}`);
  return quoteString(s);
}

/** A position as stored: `MariaDB/0-100-42`, or '' for none. */
export function formatStreamPos(pos: string): string {
  const p = GtidPosition.parse(pos);
  return p.isEmpty ? '' : p.toString();
}

function big(v: SqlValue | undefined): bigint {
  return typeof v === 'bigint' ? v : BigInt(cellText(v) || '0');
}

function num(v: SqlValue | undefined): number {
  return Number(cellText(v) || '0');
}

export class StreamStore {
  /** The sidecar database's name, quoted for SQL. */
  private readonly db: string;

  constructor(
    private readonly exec: SqlExecutor,
    readonly sidecarDb: string = SIDECAR_DB_DEFAULT,
  ) {
    this.db = quoteIdent(sidecarDb);
  }

  private inTransaction<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return inTransaction(this.exec, fn);
  }

  // ---- statements for the engine's own transactions ------------------------------------------------

  /**
   * Progress of a stream: its position and times, and (during the copy) rows copied so far —
   * `rowsCopied` sets the total, `rowsCopiedAdd` adds a batch's rows to it (what concurrent insert
   * workers write, each in its own transaction).
   */
  sqlSetPos(id: number, pos: string, timeUpdated: number, transactionTimestamp: number, rowsCopied?: number, rowsCopiedAdd?: number): string {
    // The message is cleared as Vitess clears it: progress means the last retry message is stale.
    return (
      `UPDATE ${this.db}.vreplication SET pos = ${quoteString(formatStreamPos(pos))}, time_updated = ${int(timeUpdated, 'time_updated')}, ` +
      `transaction_timestamp = ${int(transactionTimestamp, 'transaction_timestamp')}` +
      (rowsCopied === undefined ? '' : `, rows_copied = ${int(rowsCopied, 'rows_copied')}`) +
      (rowsCopiedAdd === undefined ? '' : `, rows_copied = rows_copied + ${int(rowsCopiedAdd, 'rows_copied')}`) +
      `, message = '' WHERE id = ${int(id, 'id')}`
    );
  }

  /**
   * One chunk's progress, committed with the batch that made it: its last key, the batch's rows and
   * bytes, and whether the chunk is done.
   */
  sqlSetChunkState(rowId: number, lastpk: LastPk | null, rows: number, bytes: number, done: boolean): string {
    return (
      `UPDATE ${this.db}.copy_state SET ${lastpk === null ? '' : `lastpk = ${quoteString(formatLastPk(lastpk))}, `}` +
      `rows_copied = rows_copied + ${int(rows, 'rows')}, bytes_copied = bytes_copied + ${int(bytes, 'bytes')}, chunk_done = ${done ? 1 : 0} ` +
      `WHERE id = ${int(rowId, 'copy_state id')}`
    );
  }

  /** A copy batch's rows added to the stream's total (by concurrent copy workers, each in its own transaction). */
  sqlAddRowsCopied(id: number, rows: number, timeUpdated: number): string {
    return `UPDATE ${this.db}.vreplication SET rows_copied = rows_copied + ${int(rows, 'rows')}, time_updated = ${int(timeUpdated, 'time_updated')}, message = '' WHERE id = ${int(id, 'id')}`;
  }

  /**
   * A table not started yet, cut into chunks: its one row replaced by one row per chunk (run in
   * one transaction). Chunk i starts after `ends[i-1]` and ends at `ends[i]`; the last at the
   * table's end.
   */
  sqlSplitCopyState(id: number, table: string, ends: readonly LastPk[]): string[] {
    const rows: string[] = [];
    for (let i = 0; i <= ends.length; i++) {
      const after = i === 0 ? 'NULL' : quoteString(formatLastPk(ends[i - 1]));
      const end = i === ends.length ? 'NULL' : quoteString(formatLastPk(ends[i]));
      rows.push(`(${int(id, 'id')}, ${quoteString(table)}, ${after}, ${end})`);
    }
    return [
      this.sqlDeleteCopyState(id, table),
      `INSERT INTO ${this.db}.copy_state (vrepl_id, table_name, lastpk, chunk_end) VALUES ${rows.join(', ')}`,
    ];
  }

  /**
   * The last key copied of `table`, committed with the batch that copied it, and that batch's rows
   * and bytes added to the table's counts.
   */
  sqlSetCopyState(id: number, table: string, lastpk: LastPk, rows = 0, bytes = 0): string {
    return (
      `UPDATE ${this.db}.copy_state SET lastpk = ${quoteString(formatLastPk(lastpk))}, ` +
      `rows_copied = rows_copied + ${int(rows, 'rows')}, bytes_copied = bytes_copied + ${int(bytes, 'bytes')} ` +
      `WHERE vrepl_id = ${int(id, 'id')} AND table_name = ${quoteString(table)}`
    );
  }

  /** `table` is copied: its copy_state row goes. */
  sqlDeleteCopyState(id: number, table: string): string {
    return `DELETE FROM ${this.db}.copy_state WHERE vrepl_id = ${int(id, 'id')} AND table_name = ${quoteString(table)}`;
  }

  /**
   * An atomic copy starts over: every table's copy_state row back to "nothing copied" and the
   * stream's rows_copied to 0 (run with the target tables emptied; see atomic-copy.ts).
   */
  sqlRestartCopyState(id: number): string[] {
    return [
      `UPDATE ${this.db}.copy_state SET lastpk = NULL, rows_copied = 0, bytes_copied = 0, chunk_done = 0 WHERE vrepl_id = ${int(id, 'id')}`,
      `UPDATE ${this.db}.vreplication SET rows_copied = 0, pos = '' WHERE id = ${int(id, 'id')}`,
    ];
  }

  /** Every table of the stream is copied: all its copy_state rows go (an atomic copy ends in one transaction). */
  sqlDeleteAllCopyState(id: number): string {
    return `DELETE FROM ${this.db}.copy_state WHERE vrepl_id = ${int(id, 'id')}`;
  }

  /** A state change, for when it must commit with other writes (the stop position reached). */
  sqlSetState(id: number, s: StreamState, message: string): string {
    return (
      `UPDATE ${this.db}.vreplication SET state = ${state(s)}, message = ${quoteString(cutBytes(message, SIDECAR_COLUMN_BYTES_MAX.vreplicationMessage))} ` +
      `WHERE id = ${int(id, 'id')}`
    );
  }

  /** A heartbeat from an idle source: the stream is current as of `time`. */
  sqlSetHeartbeat(id: number, time: number): string {
    return `UPDATE ${this.db}.vreplication SET time_updated = ${int(time, 'time')}, time_heartbeat = ${int(time, 'time')} WHERE id = ${int(id, 'id')}`;
  }

  // ---- streams -------------------------------------------------------------------------------------

  /** Creates a stream and its copy_state rows in one transaction; returns the stream's id. */
  async insertStream(s: NewStream): Promise<number> {
    const now = nowSeconds();
    const values = [
      quoteString(s.workflow),
      quoteString(formatBinlogSource(s.source)),
      quoteString(formatStreamPos(s.pos ?? '')),
      s.stopPos ? quoteString(formatStreamPos(s.stopPos)) : 'NULL',
      int(s.maxTps ?? NO_LIMIT, 'max_tps'),
      int(s.maxReplicationLag ?? NO_LIMIT, 'max_replication_lag'),
      quoteString(s.cell ?? ''),
      quoteString(s.tabletTypes ?? ''),
      int(now, 'time_updated'),
      '0',
      state(s.state ?? 'Stopped'),
      "''",
      quoteString(s.dbName),
      quoteString(s.tags ?? ''),
      int(s.workflowType ?? WORKFLOW_TYPE.Materialize, 'workflow_type'),
      int(s.workflowSubType ?? WORKFLOW_SUB_TYPE.None, 'workflow_sub_type'),
      s.deferSecondaryKeys ? '1' : '0',
      quoteString(JSON.stringify(s.options ?? {})),
    ];
    return this.inTransaction(async (exec) => {
      const r = await exec.query(
        `INSERT INTO ${this.db}.vreplication (workflow, source, pos, stop_pos, max_tps, max_replication_lag, cell, tablet_types, time_updated, ` +
          'transaction_timestamp, state, message, db_name, tags, workflow_type, workflow_sub_type, defer_secondary_keys, options) ' +
          `VALUES (${values.join(', ')})`,
      );
      const id = Number(r.insertId);
      const tables = s.copyTables ?? [];
      if (tables.length > 0) {
        await exec.query(
          `INSERT INTO ${this.db}.copy_state (vrepl_id, table_name) VALUES ` + tables.map((t) => `(${id}, ${quoteString(t)})`).join(', '),
        );
      }
      return id;
    });
  }

  private decode(row: SqlValue[]): Stream {
    const at = (c: (typeof STREAM_COLUMNS)[number]) => row[STREAM_COLUMNS.indexOf(c)];
    const id = num(at('id'));
    let source: BinlogSource;
    try {
      source = parseBinlogSource(cellText(at('source')));
    } catch (err) {
      const e = TesseraError.from(err);
      throw new TesseraError(e, `stream ${id} in ${this.sidecarDb}.vreplication: ${e.message}`, { cause: err });
    }
    let options: Record<string, unknown> = {};
    const optionsText = cellText(at('options'));
    if (optionsText !== '') {
      const parsed: unknown = JSON.parse(optionsText);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) options = parsed as Record<string, unknown>;
    }
    const stopPos = at('stop_pos');
    return {
      id,
      workflow: cellText(at('workflow')),
      source,
      pos: cellText(at('pos')),
      stopPos: stopPos === null || cellText(stopPos) === '' ? null : cellText(stopPos),
      maxTps: big(at('max_tps')),
      maxReplicationLag: big(at('max_replication_lag')),
      cell: cellText(at('cell')),
      tabletTypes: cellText(at('tablet_types')),
      timeUpdated: num(at('time_updated')),
      transactionTimestamp: num(at('transaction_timestamp')),
      state: cellText(at('state')) as StreamState,
      message: cellText(at('message')),
      dbName: cellText(at('db_name')),
      rowsCopied: num(at('rows_copied')),
      tags: cellText(at('tags')),
      timeHeartbeat: num(at('time_heartbeat')),
      workflowType: num(at('workflow_type')),
      timeThrottled: num(at('time_throttled')),
      componentThrottled: cellText(at('component_throttled')),
      reasonThrottled: cellText(at('reason_throttled')),
      workflowSubType: num(at('workflow_sub_type')),
      deferSecondaryKeys: num(at('defer_secondary_keys')) !== 0,
      options,
    };
  }

  /** Streams, by id; all of them, or those of a workflow and/or a target database. */
  async readStreams(filter: { workflow?: string; db?: string } = {}): Promise<Stream[]> {
    const where: string[] = [];
    if (filter.workflow !== undefined) where.push(`workflow = ${quoteString(filter.workflow)}`);
    if (filter.db !== undefined) where.push(`db_name = ${quoteString(filter.db)}`);
    const r = await this.exec.query(
      `SELECT ${STREAM_COLUMNS.map(quoteIdent).join(', ')} FROM ${this.db}.vreplication` + (where.length ? ` WHERE ${where.join(' AND ')}` : '') + ' ORDER BY id',
    );
    return r.rows.map((row) => this.decode(row));
  }

  async readStream(id: number): Promise<Stream | null> {
    const r = await this.exec.query(`SELECT ${STREAM_COLUMNS.map(quoteIdent).join(', ')} FROM ${this.db}.vreplication WHERE id = ${int(id, 'id')}`);
    return r.rows.length === 0 ? null : this.decode(r.rows[0]!);
  }

  private async update(id: number, sets: readonly string[]): Promise<void> {
    if (sets.length === 0) return;
    const r = await this.exec.query(`UPDATE ${this.db}.vreplication SET ${sets.join(', ')} WHERE id = ${int(id, 'id')}`);
    // affectedRows counts changed rows only; a stream that exists but already had these values is
    // told apart from a missing one by reading it.
    if (Number(r.affectedRows) === 0 && (await this.readStream(id)) === null) {
      throw new TesseraError(ER.WRONG_ARGUMENTS, `no stream ${id} in ${this.sidecarDb}.vreplication; list the streams with Workflow show`);
    }
  }

  async setState(id: number, s: StreamState, message: string): Promise<void> {
    await this.update(id, [`state = ${state(s)}`, `message = ${quoteString(cutBytes(message, SIDECAR_COLUMN_BYTES_MAX.vreplicationMessage))}`]);
  }

  async setMessage(id: number, message: string): Promise<void> {
    await this.update(id, [`message = ${quoteString(cutBytes(message, SIDECAR_COLUMN_BYTES_MAX.vreplicationMessage))}`]);
  }

  /** Records a throttle: who paused the stream and why. Empty component and reason clear it. */
  async setThrottled(id: number, component: string, reason: string): Promise<void> {
    await this.update(id, [
      `time_throttled = ${nowSeconds()}`,
      `component_throttled = ${quoteString(cutChars(component, SIDECAR_COLUMN_BYTES_MAX.componentThrottledChars))}`,
      `reason_throttled = ${quoteString(cutChars(reason, SIDECAR_COLUMN_BYTES_MAX.reasonThrottledChars))}`,
    ]);
  }

  /** Changes the named fields of a stream (Workflow update, start, stop). */
  async updateStream(id: number, p: StreamPatch): Promise<void> {
    const sets: string[] = [];
    if (p.source !== undefined) sets.push(`source = ${quoteString(formatBinlogSource(p.source))}`);
    if (p.pos !== undefined) sets.push(`pos = ${quoteString(formatStreamPos(p.pos))}`);
    if (p.stopPos !== undefined) sets.push(`stop_pos = ${p.stopPos ? quoteString(formatStreamPos(p.stopPos)) : 'NULL'}`);
    if (p.maxTps !== undefined) sets.push(`max_tps = ${int(p.maxTps, 'max_tps')}`);
    if (p.maxReplicationLag !== undefined) sets.push(`max_replication_lag = ${int(p.maxReplicationLag, 'max_replication_lag')}`);
    if (p.cell !== undefined) sets.push(`cell = ${quoteString(p.cell)}`);
    if (p.tabletTypes !== undefined) sets.push(`tablet_types = ${quoteString(p.tabletTypes)}`);
    if (p.state !== undefined) sets.push(`state = ${state(p.state)}`);
    if (p.message !== undefined) sets.push(`message = ${quoteString(cutBytes(p.message, SIDECAR_COLUMN_BYTES_MAX.vreplicationMessage))}`);
    if (p.tags !== undefined) sets.push(`tags = ${quoteString(p.tags)}`);
    if (p.options !== undefined) sets.push(`options = ${quoteString(JSON.stringify(p.options))}`);
    await this.update(id, sets);
  }

  /**
   * Deletes a workflow's streams with their copy_state and log rows, in one transaction; `db`
   * narrows it to one target database. Returns the ids deleted.
   */
  async deleteStreams(workflow: string, filter: { db?: string } = {}): Promise<number[]> {
    return this.inTransaction(async (exec) => {
      const r = await exec.query(
        `SELECT id FROM ${this.db}.vreplication WHERE workflow = ${quoteString(workflow)}` +
          (filter.db !== undefined ? ` AND db_name = ${quoteString(filter.db)}` : '') +
          ' ORDER BY id FOR UPDATE',
      );
      const ids = r.rows.map((row) => num(row[0]));
      if (ids.length === 0) return ids;
      const list = ids.join(', ');
      await exec.query(`DELETE FROM ${this.db}.copy_state WHERE vrepl_id IN (${list})`);
      await exec.query(`DELETE FROM ${this.db}.post_copy_action WHERE vrepl_id IN (${list})`);
      await exec.query(`DELETE FROM ${this.db}.vreplication_log WHERE vrepl_id IN (${list})`);
      await exec.query(`DELETE FROM ${this.db}.vreplication WHERE id IN (${list})`);
      return ids;
    });
  }

  // ---- copy_state ----------------------------------------------------------------------------------

  /** Tables of stream `id` still to copy, in the order they were added, with their last keys. */
  async readCopyState(id: number): Promise<CopyState[]> {
    const r = await this.exec.query(
      `SELECT table_name, lastpk, rows_copied, bytes_copied, id, chunk_end, chunk_done FROM ${this.db}.copy_state WHERE vrepl_id = ${int(id, 'id')} ORDER BY id`,
    );
    return r.rows.map((row) => {
      const table = cellText(row[0]);
      const rowsCopied = num(row[2]);
      const bytesCopied = num(row[3]);
      const rowId = num(row[4]);
      const chunkDone = num(row[6]) !== 0;
      try {
        const lastpk = row[1] === null ? null : parseLastPk(cellText(row[1]));
        const chunkEnd = row[5] === null ? null : parseLastPk(cellText(row[5]));
        return { rowId, table, lastpk, chunkEnd, chunkDone, rowsCopied, bytesCopied };
      } catch (err) {
        const e = TesseraError.from(err);
        throw new TesseraError(e, `stream ${id}, table ${table}: ${e.message}`, { cause: err });
      }
    });
  }

  // ---- post_copy_action ------------------------------------------------------------------------------

  /** Records a statement to run on `table` when its copy ends. */
  sqlInsertPostCopyAction(id: number, table: string, sql: string): string {
    return (
      `INSERT INTO ${this.db}.post_copy_action (vrepl_id, table_name, action) ` +
      `VALUES (${int(id, 'id')}, ${quoteString(table)}, ${quoteString(JSON.stringify({ type: 'sql', task: sql }))})`
    );
  }

  sqlDeletePostCopyAction(actionId: number): string {
    return `DELETE FROM ${this.db}.post_copy_action WHERE id = ${int(actionId, 'id')}`;
  }

  /** The statements waiting for their tables' copies to end, oldest first. */
  sqlReadPostCopyActions(id: number): string {
    return `SELECT id, table_name, action FROM ${this.db}.post_copy_action WHERE vrepl_id = ${int(id, 'id')} ORDER BY id`;
  }

  // ---- vreplication_log ----------------------------------------------------------------------------

  /**
   * Adds a log entry; the same type, state and message as the stream's last entry bumps that
   * entry's count and updated_at instead, so a retry loop leaves one row, not thousands.
   */
  async log(id: number, type: string, s: string, message: string): Promise<void> {
    const t = cutBytes(type, SIDECAR_COLUMN_BYTES_MAX.logType);
    const st = cutBytes(s, SIDECAR_COLUMN_BYTES_MAX.logState);
    const m = cutBytes(message, SIDECAR_COLUMN_BYTES_MAX.logMessage);
    const last = await this.exec.query(
      `SELECT id, type, state, message FROM ${this.db}.vreplication_log WHERE vrepl_id = ${int(id, 'id')} ORDER BY id DESC LIMIT 1`,
    );
    const row = last.rows[0];
    if (row !== undefined && cellText(row[1]) === t && cellText(row[2]) === st && cellText(row[3]) === m) {
      await this.exec.query(`UPDATE ${this.db}.vreplication_log SET count = count + 1, updated_at = NOW() WHERE id = ${int(num(row[0]), 'id')}`);
      return;
    }
    await this.exec.query(
      `INSERT INTO ${this.db}.vreplication_log (vrepl_id, type, state, message) VALUES (${int(id, 'id')}, ${quoteString(t)}, ${quoteString(st)}, ${quoteString(m)})`,
    );
  }

  /** The stream's last `limit` log entries, oldest first. */
  async readLog(id: number, limit: number = STREAM_STORE_DEFAULTS.logRowsMax): Promise<LogEntry[]> {
    const r = await this.exec.query(
      `SELECT id, vrepl_id, type, state, created_at, updated_at, message, count FROM ${this.db}.vreplication_log ` +
        `WHERE vrepl_id = ${int(id, 'id')} ORDER BY id DESC LIMIT ${int(limit, 'limit')}`,
    );
    return r.rows.reverse().map((row) => ({
      id: num(row[0]),
      vreplId: num(row[1]),
      type: cellText(row[2]),
      state: cellText(row[3]),
      createdAt: cellText(row[4]),
      updatedAt: cellText(row[5]),
      message: cellText(row[6]),
      count: num(row[7]),
    }));
  }
}
