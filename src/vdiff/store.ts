// Typed reads and writes of the VDiff sidecar tables (`vdiff`, `vdiff_table`, `vdiff_log`,
// `vdiff_row`; DDL in src/sidecar/schema.ts). Progress of a table — its last compared key, its
// counts and the differing rows found since the last checkpoint — is written in one transaction,
// so a crash neither loses a found difference nor records one twice after the resume.
import { ER, TesseraError } from '../mysql/errors.js';
import type { SqlValue } from '../mysql/values.js';
import { cellText, inTransaction, type SqlExecutor } from '../sidecar/index.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { formatLastPk, parseLastPk, type LastPk } from '../vreplication/lastpk.js';
import { loadValue, storeValue, type StoredValue } from './values.js';

export type VDiffState = 'pending' | 'started' | 'stopped' | 'completed' | 'error';
export const VDIFF_STATES: readonly VDiffState[] = ['pending', 'started', 'stopped', 'completed', 'error'];
export type TableState = 'pending' | 'started' | 'completed' | 'error';
export type DiffKind = 'ExtraRowsSource' | 'ExtraRowsTarget' | 'MismatchedRows';

/** The options of one VDiff, stored as Vitess stores them (options JSON of `_vt.vdiff`). */
export interface VDiffOptions {
  readonly core_options: {
    readonly tables: string;
    readonly auto_retry: boolean;
    /** Rows to compare per table at most; 0: all. */
    readonly max_rows: number;
    readonly checksum: boolean;
    /** Seconds an epoch (a set of snapshots) may last before a new one is taken; 0: no limit. */
    readonly max_diff_seconds: number;
    /** How long a target stream may take to reach the source snapshot's position. */
    readonly timeout_seconds: number;
    readonly update_table_stats: boolean;
  };
  readonly report_options: {
    readonly only_pks: boolean;
    readonly debug_query: boolean;
    readonly format: string;
    /** Differing rows recorded per table and kind; 0: all. */
    readonly max_sample_rows: number;
    readonly row_diff_column_truncate_at: number;
  };
  readonly picker_options: {
    readonly source_cell: string;
    readonly target_cell: string;
    readonly tablet_types: string;
  };
}

/** One table's counts, as Vitess's report names them. */
export interface TableCounts {
  ProcessedRows: number;
  MatchingRows: number;
  MismatchedRows: number;
  ExtraRowsSource: number;
  ExtraRowsTarget: number;
}

export function zeroCounts(): TableCounts {
  return { ProcessedRows: 0, MatchingRows: 0, MismatchedRows: 0, ExtraRowsSource: 0, ExtraRowsTarget: 0 };
}

export interface VDiffRecord {
  readonly id: number;
  readonly uuid: string;
  readonly workflow: string;
  readonly keyspace: string;
  readonly shard: string;
  readonly dbName: string;
  readonly state: VDiffState;
  readonly options: VDiffOptions;
  /** Unix seconds, or null. */
  readonly createdAt: number | null;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly lastError: string;
}

export interface VDiffTableRecord {
  readonly table: string;
  readonly state: TableState;
  readonly lastpk: LastPk | null;
  readonly tableRows: number;
  readonly rowsCompared: number;
  readonly mismatch: boolean;
  readonly counts: TableCounts;
  /** The source positions the last epoch compared at (shard → GTID position). */
  readonly positions: Record<string, string>;
}

/** One differing row: its key, and each side's row (column names with values) where it has one. */
export interface DiffRow {
  readonly id?: number;
  readonly table: string;
  readonly kind: DiffKind;
  readonly pk: LastPk;
  readonly columns: readonly string[];
  readonly source: readonly SqlValue[] | null;
  readonly target: readonly SqlValue[] | null;
}

export const VDIFF_STORE_LIMITS = {
  /** Longest last_error and log message kept (the columns' sizes). */
  lastErrorBytes: 1000,
  logMessageChars: 10_000,
  /** Text of one multi-row INSERT of differing rows at a checkpoint (well under max_allowed_packet). */
  insertBytes: 1024 * 1024,
};

function int(n: number, what: string): string {
  if (!Number.isSafeInteger(n)) throw new TesseraError(ER.WRONG_ARGUMENTS, `vdiff store: ${what} must be an integer, not ${n}`);
  return String(n);
}

function cut(s: string, n: number): string {
  const b = Buffer.from(s, 'utf8');
  return b.length <= n ? s : b.subarray(0, n).toString('utf8').replace(/\uFFFD$/, '');
}

function nullableNum(v: SqlValue | undefined): number | null {
  const t = cellText(v);
  return t === '' ? null : Number(t);
}

const VDIFF_COLUMNS = 'id, vdiff_uuid, workflow, keyspace, shard, db_name, state, options, UNIX_TIMESTAMP(created_at), UNIX_TIMESTAMP(started_at), UNIX_TIMESTAMP(completed_at), last_error';

export class VDiffStore {
  private readonly db: string;

  constructor(
    private readonly exec: SqlExecutor,
    sidecarDb: string,
  ) {
    this.db = quoteIdent(sidecarDb);
  }

  private inTransaction<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return inTransaction(this.exec, fn);
  }

  private record(r: SqlValue[]): VDiffRecord {
    return {
      id: Number(cellText(r[0])),
      uuid: cellText(r[1]),
      workflow: cellText(r[2]),
      keyspace: cellText(r[3]),
      shard: cellText(r[4]),
      dbName: cellText(r[5]),
      state: cellText(r[6]) as VDiffState,
      options: JSON.parse(cellText(r[7]) || '{}') as VDiffOptions,
      createdAt: nullableNum(r[8]),
      startedAt: nullableNum(r[9]),
      completedAt: nullableNum(r[10]),
      lastError: cellText(r[11]),
    };
  }

  /** Creates a VDiff and its tables (pending) in one transaction; a UUID already here: 1062. */
  async create(v: { uuid: string; workflow: string; keyspace: string; shard: string; dbName: string; options: VDiffOptions; tables: readonly string[]; state: VDiffState }): Promise<number> {
    return this.inTransaction(async (exec) => {
      const r = await exec.query(
        `INSERT INTO ${this.db}.vdiff (vdiff_uuid, workflow, keyspace, shard, db_name, state, options) VALUES (` +
          [v.uuid, v.workflow, v.keyspace, v.shard, v.dbName, v.state, JSON.stringify(v.options)].map(quoteString).join(', ') +
          ')',
      );
      const id = Number(r.insertId);
      for (const t of v.tables) {
        await exec.query(
          `INSERT INTO ${this.db}.vdiff_table (vdiff_id, table_name, state, report) VALUES (${quoteString(String(id))}, ${quoteString(t)}, 'pending', ${quoteString(JSON.stringify(zeroCounts()))})`,
        );
      }
      return id;
    });
  }

  async read(filter: { uuid?: string; workflow?: string; keyspace?: string; dbName?: string; states?: readonly VDiffState[] }): Promise<VDiffRecord[]> {
    const where: string[] = [];
    if (filter.uuid !== undefined) where.push(`vdiff_uuid = ${quoteString(filter.uuid)}`);
    if (filter.workflow !== undefined) where.push(`workflow = ${quoteString(filter.workflow)}`);
    if (filter.keyspace !== undefined) where.push(`keyspace = ${quoteString(filter.keyspace)}`);
    if (filter.dbName !== undefined) where.push(`db_name = ${quoteString(filter.dbName)}`);
    if (filter.states !== undefined) where.push(`state IN (${filter.states.map(quoteString).join(', ')})`);
    const r = await this.exec.query(`SELECT ${VDIFF_COLUMNS} FROM ${this.db}.vdiff${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`);
    return r.rows.map((x) => this.record(x));
  }

  async readOne(id: number): Promise<VDiffRecord | null> {
    const r = await this.exec.query(`SELECT ${VDIFF_COLUMNS} FROM ${this.db}.vdiff WHERE id = ${int(id, 'id')}`);
    return r.rows.length ? this.record(r.rows[0]) : null;
  }

  async setState(id: number, state: VDiffState, lastError?: string): Promise<void> {
    const sets = [`state = ${quoteString(state)}`];
    if (lastError !== undefined) sets.push(`last_error = ${quoteString(cut(lastError, VDIFF_STORE_LIMITS.lastErrorBytes))}`);
    if (state === 'started') sets.push('started_at = COALESCE(started_at, CURRENT_TIMESTAMP)', 'completed_at = NULL');
    if (state === 'completed') sets.push('completed_at = CURRENT_TIMESTAMP');
    await this.exec.query(`UPDATE ${this.db}.vdiff SET ${sets.join(', ')} WHERE id = ${int(id, 'id')}`);
  }

  /** The VDiff's liveness: written at every checkpoint. */
  sqlLiveness(id: number): string {
    return `UPDATE ${this.db}.vdiff SET liveness_timestamp = CURRENT_TIMESTAMP WHERE id = ${int(id, 'id')}`;
  }

  async tables(id: number): Promise<VDiffTableRecord[]> {
    const r = await this.exec.query(
      `SELECT table_name, state, lastpk, table_rows, rows_compared, mismatch, report FROM ${this.db}.vdiff_table WHERE vdiff_id = ${quoteString(String(id))} ORDER BY table_name`,
    );
    return r.rows.map((x) => {
      const report = JSON.parse(cellText(x[6]) || '{}') as Partial<TableCounts> & { positions?: Record<string, string> };
      const lp = cellText(x[2]);
      return {
        table: cellText(x[0]),
        state: cellText(x[1]) as TableState,
        lastpk: lp === '' ? null : parseLastPk(lp),
        tableRows: Number(cellText(x[3]) || 0),
        rowsCompared: Number(cellText(x[4]) || 0),
        mismatch: cellText(x[5]) === '1',
        counts: { ...zeroCounts(), ...report },
        positions: report.positions ?? {},
      };
    });
  }

  async setTableState(id: number, table: string, state: TableState, tableRows?: number): Promise<void> {
    await this.exec.query(
      `UPDATE ${this.db}.vdiff_table SET state = ${quoteString(state)}${tableRows === undefined ? '' : `, table_rows = ${int(tableRows, 'table_rows')}`} ` +
        `WHERE vdiff_id = ${quoteString(String(id))} AND table_name = ${quoteString(table)}`,
    );
  }

  /** Every table back to pending (resume), keeping its last key and counts. */
  async resetTables(id: number): Promise<void> {
    await this.exec.query(`UPDATE ${this.db}.vdiff_table SET state = 'pending' WHERE vdiff_id = ${quoteString(String(id))}`);
  }

  /**
   * A checkpoint of one table: its last compared key, its counts and positions, and the differing
   * rows found since the previous checkpoint, committed together.
   */
  async checkpoint(id: number, table: string, lastpk: LastPk | null, counts: TableCounts, positions: Record<string, string>, rows: readonly DiffRow[], state?: TableState): Promise<void> {
    await this.inTransaction(async (exec) => {
      // The differing rows as multi-row INSERTs of about VDIFF_STORE_LIMITS.insertBytes each.
      let values: string[] = [];
      let bytes = 0;
      const flush = async () => {
        if (values.length === 0) return;
        await exec.query(`INSERT INTO ${this.db}.vdiff_row (vdiff_id, table_name, kind, pk, source_row, target_row) VALUES ${values.join(', ')}`);
        values = [];
        bytes = 0;
      };
      for (const d of rows) {
        const v =
          `(${int(id, 'id')}, ${quoteString(d.table)}, ${quoteString(d.kind)}, ` +
          `${quoteString(JSON.stringify({ columns: d.pk.columns, values: d.pk.values.map(storeValue) }))}, ` +
          `${d.source === null ? 'NULL' : quoteString(JSON.stringify({ columns: d.columns, values: d.source.map(storeValue) }))}, ` +
          `${d.target === null ? 'NULL' : quoteString(JSON.stringify({ columns: d.columns, values: d.target.map(storeValue) }))})`;
        values.push(v);
        bytes += v.length;
        if (bytes >= VDIFF_STORE_LIMITS.insertBytes) await flush();
      }
      await flush();
      const mismatch = counts.MismatchedRows + counts.ExtraRowsSource + counts.ExtraRowsTarget > 0;
      await exec.query(
        `UPDATE ${this.db}.vdiff_table SET ${lastpk === null ? '' : `lastpk = ${quoteString(formatLastPk(lastpk))}, `}rows_compared = ${int(counts.ProcessedRows, 'rows')}, ` +
          `mismatch = ${mismatch ? 1 : 0}, report = ${quoteString(JSON.stringify({ ...counts, positions }))}${state ? `, state = ${quoteString(state)}` : ''} ` +
          `WHERE vdiff_id = ${quoteString(String(id))} AND table_name = ${quoteString(table)}`,
      );
      await exec.query(this.sqlLiveness(id));
    });
  }

  /** Differing rows recorded, in the order found: `afterId` pages on, `limit` rows at most (0: all). */
  async diffRows(id: number, o: { table?: string; kind?: DiffKind; afterId?: number; limit?: number }): Promise<DiffRow[]> {
    const where = [`vdiff_id = ${int(id, 'id')}`];
    if (o.table !== undefined) where.push(`table_name = ${quoteString(o.table)}`);
    if (o.kind !== undefined) where.push(`kind = ${quoteString(o.kind)}`);
    if (o.afterId !== undefined) where.push(`id > ${int(o.afterId, 'afterId')}`);
    const r = await this.exec.query(
      `SELECT id, table_name, kind, pk, source_row, target_row FROM ${this.db}.vdiff_row WHERE ${where.join(' AND ')} ORDER BY id${o.limit ? ` LIMIT ${int(o.limit, 'limit')}` : ''}`,
    );
    return r.rows.map((x) => {
      const pk = JSON.parse(cellText(x[3])) as { columns: string[]; values: StoredValue[] };
      const side = (v: SqlValue | undefined) => {
        const t = cellText(v);
        return t === '' ? null : (JSON.parse(t) as { columns: string[]; values: StoredValue[] });
      };
      const s = side(x[4]);
      const t = side(x[5]);
      return {
        id: Number(cellText(x[0])),
        table: cellText(x[1]),
        kind: cellText(x[2]) as DiffKind,
        pk: { columns: pk.columns, values: pk.values.map(loadValue) },
        columns: s?.columns ?? t?.columns ?? [],
        source: s === null ? null : s.values.map(loadValue),
        target: t === null ? null : t.values.map(loadValue),
      };
    });
  }

  async log(id: number, message: string): Promise<void> {
    await this.exec.query(`INSERT INTO ${this.db}.vdiff_log (vdiff_id, message) VALUES (${int(id, 'id')}, ${quoteString(message.slice(0, VDIFF_STORE_LIMITS.logMessageChars))})`);
  }

  async readLog(id: number, limit: number): Promise<{ createdAt: number; message: string }[]> {
    const r = await this.exec.query(
      `SELECT UNIX_TIMESTAMP(created_at), message FROM ${this.db}.vdiff_log WHERE vdiff_id = ${int(id, 'id')} ORDER BY id DESC LIMIT ${int(limit, 'limit')}`,
    );
    return r.rows.map((x) => ({ createdAt: Number(cellText(x[0])), message: cellText(x[1]) })).reverse();
  }

  /** Deletes VDiffs with their tables, log and rows. */
  async delete(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    const list = ids.map((i) => int(i, 'id')).join(', ');
    await this.inTransaction(async (exec) => {
      await exec.query(`DELETE FROM ${this.db}.vdiff_row WHERE vdiff_id IN (${list})`);
      await exec.query(`DELETE FROM ${this.db}.vdiff_log WHERE vdiff_id IN (${list})`);
      await exec.query(`DELETE FROM ${this.db}.vdiff_table WHERE vdiff_id IN (${ids.map((i) => quoteString(String(i))).join(', ')})`);
      await exec.query(`DELETE FROM ${this.db}.vdiff WHERE id IN (${list})`);
    });
  }
}
