// The row streamer: a source tablet's binlog, from a GTID position, filtered by rules and turned
// into stream events (Vitess's VEvents): begin, field (columns of a table, before its first rows
// and after its shape changes), row, ddl, commit (with the position to resume from), position
// (for transactions that had nothing for this stream, so a target's position still advances),
// rollback (discard since begin: the source connection broke mid-transaction) and heartbeat.
//
// It is an async iterable, so the consumer's pace is the stream's pace: the reader's bounded
// queue pauses the socket when the consumer is slow. Resuming after a crash is starting a new
// streamer at the last `commit`/`position` the consumer made durable.
import { BinlogReader, GtidPosition, type BinlogReaderOptions, type ColumnInfo, type Gtid, type Row, type RowKeyFilter, type RowValue, type StreamItem, type TableMap } from '../mysql/binlog/index.js';
import type { KeyspaceVSchema } from '../vschema/index.js';
import { Client, type ClientOptions } from '../mysql/client.js';
import { keyspaceIdSource, planTable, type Filter, type KeyspaceIdSource, type TablePlan } from './filter.js';

export interface FieldInfo {
  readonly name: string;
  /** TYPE.* of src/mysql/constants. */
  readonly type: number;
  readonly unsigned: boolean;
  readonly collation: number | undefined;
  /** False: UPDATE before images leave this column out (null), as VStreamRequest.keyOnlyBefore asked. */
  readonly inBefore?: false;
}

export interface RowChangeOut {
  readonly before: RowValue[] | null;
  readonly after: RowValue[] | null;
  /**
   * VStreamRequest.rawAfterImages: the after image as the binlog holds it (every column of the
   * source table, see RowImageShape); `after` is then empty (no values).
   */
  readonly afterImage?: Buffer;
}

/** How to read a table's after images passed as bytes: the binlog's columns and the stream's projection. */
export interface RowImageShape {
  /** Every column of the source table, as its table map describes it. */
  readonly columns: readonly ColumnInfo[];
  /** Source column index of each field of the stream (TablePlan.columnIndexes). */
  readonly columnIndexes: readonly number[];
}

export type StreamEvent =
  | { readonly type: 'begin'; readonly gtid: Gtid; readonly timestamp: number }
  | {
      readonly type: 'field';
      readonly database: string;
      readonly table: string;
      readonly fields: readonly FieldInfo[];
      readonly primaryKey: readonly string[] | undefined;
      /** With rawAfterImages, for a table whose rows carry `afterImage`. */
      readonly image?: RowImageShape;
    }
  | { readonly type: 'row'; readonly database: string; readonly table: string; readonly changes: readonly RowChangeOut[] }
  | { readonly type: 'ddl'; readonly database: string; readonly statement: string }
  | { readonly type: 'commit'; readonly gtid: Gtid; readonly position: GtidPosition; readonly timestamp: number }
  | { readonly type: 'position'; readonly position: GtidPosition }
  | { readonly type: 'rollback'; readonly reason: string }
  | { readonly type: 'heartbeat'; readonly position: GtidPosition; readonly lagSeconds: number };

export interface RowStreamerOptions extends Omit<BinlogReaderOptions, 'position'> {
  readonly position: GtidPosition;
  /** The database whose tables the rules name (`vt_customer`); '' for every database. */
  readonly database: string;
  readonly filter: Filter;
  /** The keyspace's VSchema, for key-range rules by primary vindex. */
  readonly vschema?: KeyspaceVSchema;
  /** Override the vindex seam (tests). Defaults to the vindex registry plus `vschema`. */
  readonly keyspaceIds?: KeyspaceIdSource;
  /** UPDATE before images carry the primary key only (VStreamRequest.keyOnlyBefore). */
  readonly keyOnlyBefore?: boolean;
  /** After images as bytes where the table allows (VStreamRequest.rawAfterImages; needs keyOnlyBefore). */
  readonly rawAfterImages?: boolean;
}

interface PlanEntry {
  readonly plan: TablePlan | undefined;
  announced: boolean;
  /** The binlog decoder applies the key-range test (keyFilter): the images it passes on are kept. */
  prefiltered: boolean;
}

/**
 * Filters framed binlog items. Pure (no I/O): the network streamer wraps it, and tests feed it
 * items from binlog files.
 */
export class RowFilter {
  private readonly plans = new WeakMap<TableMap, PlanEntry>();
  private readonly ids: KeyspaceIdSource;
  private pending: StreamEvent | undefined;
  private hadContent = false;

  constructor(
    private readonly database: string,
    private readonly filter: Filter,
    ids: KeyspaceIdSource,
    private readonly keyOnlyBefore = false,
    private readonly rawAfterImages = false,
  ) {
    this.ids = ids;
  }

  /**
   * With rawAfterImages, the columns of after images the decoder builds values for: none, the
   * image travels as bytes (the target reads the key from it too) and `after` is empty. Only
   * where before images are key-only too (no row condition on the rule, a primary key in the
   * binlog), and for key-range rules tested by the decoder (keyFilter).
   */
  afterColumns(t: TableMap): Uint8Array | undefined {
    if (!this.rawAfterImages || !this.keyOnlyBefore) return undefined;
    const plan = this.planFor(t).plan;
    if (plan === undefined || t.primaryKey === undefined || t.primaryKey.length === 0) return undefined;
    if (plan.keep !== undefined && (plan.keepMany === undefined || plan.keyColumnIndex === undefined)) return undefined;
    // Old-format temporals without fraction digits cannot be decoded (the reader fails on them anyway).
    if (t.columns.some((c) => c.decimals < 0)) return undefined;
    return new Uint8Array(t.columns.length);
  }

  /**
   * With keyOnlyBefore, the columns of an UPDATE's before image the stream sends: the table's
   * primary key. Whole images when the rule filters rows (its condition may read any column of the
   * old row) or the binlog names no primary key.
   */
  beforeColumns(t: TableMap): Uint8Array | undefined {
    if (!this.keyOnlyBefore) return undefined;
    const plan = this.planFor(t).plan;
    if (plan === undefined || plan.keep !== undefined || t.primaryKey === undefined || t.primaryKey.length === 0) return undefined;
    const mask = new Uint8Array(t.columns.length);
    for (const i of t.primaryKey) mask[i] = 1;
    return mask;
  }

  /**
   * For a key-range rule, the binlog decoder's test on the key column: a row image is decoded
   * whole only when its keyspace id is in the range (each target of a split keeps its share).
   */
  keyFilter(t: TableMap): RowKeyFilter | undefined {
    const entry = this.planFor(t);
    const plan = entry.plan;
    if (plan?.keepMany === undefined || plan.keyColumnIndex === undefined) return undefined;
    const columns = new Uint8Array(t.columns.length);
    columns[plan.keyColumnIndex] = 1;
    entry.prefiltered = true;
    return { columns, keepMany: plan.keepMany };
  }

  private planFor(t: TableMap): PlanEntry {
    let e = this.plans.get(t);
    if (e === undefined) {
      e = { plan: this.database === '' || t.database === this.database ? planTable(this.filter, t, this.ids) : undefined, announced: false, prefiltered: false };
      this.plans.set(t, e);
    }
    return e;
  }

  /** Whether rows of this table reach the stream (the decoder skips the others). */
  wants(t: TableMap): boolean {
    return this.planFor(t).plan !== undefined;
  }

  /** Stream events for one framed item, appended to `out`. */
  push(item: StreamItem, out: StreamEvent[]): void {
    switch (item.kind) {
      case 'begin':
        // Begin is held back until the transaction has something for this stream.
        this.pending = { type: 'begin', gtid: item.gtid, timestamp: item.timestamp };
        this.hadContent = false;
        return;
      case 'rows': {
        const ev = item.event;
        const entry = this.planFor(ev.table);
        const plan = entry.plan;
        if (plan === undefined) return;
        const changes: RowChangeOut[] = [];
        const keep = entry.prefiltered ? undefined : plan.keep;
        for (const rc of ev.rows) {
          // An update moving a row out of (or into) the range is a delete (or insert) here.
          const before = rc.before !== null && (keep === undefined || keep(rc.before)) ? project(rc.before, plan) : null;
          // An image as bytes is kept whole (keep is undefined, or the decoder tested its key).
          if (rc.afterImage !== undefined) {
            changes.push({ before, after: NO_VALUES, afterImage: rc.afterImage });
            continue;
          }
          const after = rc.after !== null && (keep === undefined || keep(rc.after)) ? project(rc.after, plan) : null;
          if (before === null && after === null) continue;
          changes.push({ before, after });
        }
        if (changes.length === 0) return;
        this.content(out);
        if (!entry.announced) {
          entry.announced = true;
          const mask = this.beforeColumns(ev.table);
          out.push({
            type: 'field',
            database: ev.table.database,
            table: plan.table,
            fields: plan.columnIndexes.map((i, k) => {
              const c = ev.table.columns[i];
              const f: FieldInfo = { name: plan.columnNames[k], type: c.type, unsigned: c.unsigned, collation: c.collation };
              return mask !== undefined && mask[i] === 0 ? { ...f, inBefore: false } : f;
            }),
            primaryKey: ev.table.primaryKey?.map((i) => ev.table.columnNames()[i]),
            ...(this.afterColumns(ev.table) !== undefined ? { image: { columns: ev.table.columns, columnIndexes: plan.columnIndexes } } : {}),
          });
        }
        out.push({ type: 'row', database: ev.table.database, table: plan.table, changes });
        return;
      }
      case 'query': {
        if (!item.ddl) return;
        const q = item.event;
        if (!ddlConcerns(q.database, q.query, this.database)) return;
        this.content(out);
        out.push({ type: 'ddl', database: q.database || this.database, statement: q.query });
        return;
      }
      case 'commit':
        if (this.hadContent) out.push({ type: 'commit', gtid: item.gtid, position: item.position, timestamp: item.timestamp });
        else out.push({ type: 'position', position: item.position });
        this.pending = undefined;
        this.hadContent = false;
        return;
      case 'rollback':
        if (this.hadContent) out.push({ type: 'rollback', reason: item.reason });
        this.pending = undefined;
        this.hadContent = false;
        return;
      case 'heartbeat':
        out.push({ type: 'heartbeat', position: item.position, lagSeconds: item.lagSeconds });
        return;
      case 'rotate':
        return;
    }
  }

  private content(out: StreamEvent[]): void {
    if (!this.hadContent && this.pending !== undefined) out.push(this.pending);
    this.pending = undefined;
    this.hadContent = true;
  }
}

/** `after` of a change whose after image travels as bytes. */
const NO_VALUES: RowValue[] = Object.freeze([]) as unknown as RowValue[];

function project(row: Row, plan: TablePlan): RowValue[] {
  const idx = plan.columnIndexes;
  const out: RowValue[] = new Array(idx.length);
  // Columns absent from a partial image stay undefined at runtime; the type says RowValue for
  // consumers of FULL images, which is what mysqlctl configures.
  for (let k = 0; k < idx.length; k++) out[k] = row[idx[k]] as RowValue;
  return out;
}

/** A DDL statement belongs to the stream when run in its database or naming it. */
function ddlConcerns(defaultDb: string, statement: string, database: string): boolean {
  if (database === '' || defaultDb === database) return true;
  return statement.includes(`${database}.`) || statement.includes(`\`${database}\`.`);
}

/**
 * Fraction digits of every TIME/DATETIME/TIMESTAMP column of a database, per table, from
 * information_schema: the binlog lacks them for MariaDB 5.3-format columns.
 */
export async function loadOldTemporalHints(opts: ClientOptions, database: string): Promise<Map<string, number[]>> {
  const c = await Client.connect(opts);
  try {
    const where = database === '' ? "TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')" : `TABLE_SCHEMA = '${database.replace(/'/g, "''")}'`;
    const r = await c.query(
      `SELECT TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION, DATETIME_PRECISION FROM information_schema.COLUMNS WHERE ${where} AND DATA_TYPE IN ('time', 'datetime', 'timestamp')`,
    );
    const out = new Map<string, number[]>();
    for (const row of r.rows) {
      const key = `${String(row[0])}.${String(row[1])}`;
      let arr = out.get(key);
      if (arr === undefined) {
        arr = [];
        out.set(key, arr);
      }
      arr[Number(row[2]) - 1] = Number(row[3] ?? 0);
    }
    return out;
  } finally {
    c.close();
  }
}

export class RowStreamer implements AsyncIterable<StreamEvent> {
  readonly reader: BinlogReader;
  private readonly filter: RowFilter;
  private readonly opts: RowStreamerOptions;
  private hints = new Map<string, number[]>();

  constructor(opts: RowStreamerOptions) {
    this.opts = opts;
    const filter = new RowFilter(opts.database, opts.filter, opts.keyspaceIds ?? keyspaceIdSource(opts.vschema), opts.keyOnlyBefore, opts.rawAfterImages);
    this.filter = filter;
    this.reader = new BinlogReader({
      ...opts,
      tableFilter: (t) => filter.wants(t),
      updateBeforeColumns: opts.keyOnlyBefore ? (t) => filter.beforeColumns(t) : undefined,
      afterImageColumns: opts.rawAfterImages ? (t) => filter.afterColumns(t) : undefined,
      rowKeyFilter: (t) => filter.keyFilter(t),
      oldTemporalHints: opts.oldTemporalHints ?? ((db, table) => this.hints.get(`${db}.${table}`)),
    });
  }

  /** The position after the last whole source transaction seen (streamed or filtered out). */
  get position(): GtidPosition {
    return this.reader.position;
  }

  close(): void {
    this.reader.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    const o = this.opts;
    if (o.oldTemporalHints === undefined) {
      this.hints = await loadOldTemporalHints({ host: o.host, port: o.port, socketPath: o.socketPath, user: o.user, password: o.password, connectTimeoutMs: o.connectTimeoutMs }, o.database);
    }
    const out: StreamEvent[] = [];
    for await (const item of this.reader) {
      out.length = 0;
      this.filter.push(item, out);
      for (const ev of out) yield ev;
    }
  }
}
