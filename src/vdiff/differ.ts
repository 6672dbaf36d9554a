// One table's comparison on a target primary, one epoch at a time.
//
// An epoch is one consistent point: the workflow's streams on this tablet are stopped; on every
// source shard a source tablet opens a consistent snapshot (its vstreamRows call, which keeps the
// snapshot for as long as the call streams) and names its GTID position; each stream is run to
// exactly its source's position (stop_pos) and stops there; a consistent snapshot opens on the
// target; the streams are started again. Replication pauses for that handful of steps, not for the
// diff. Then rows after the table's last compared key are read in key order from every source
// (already filtered by the stream's rule, so only rows belonging to this shard's key range come)
// and from the target, merged, and compared.
//
// Memory is bounded whatever the table: per source at most two batches of the source's vstreamRows
// limits (rows and bytes) in flight, the target read a page at a time (`targetBatchRowsMax` rows,
// about `targetBatchBytesMax` bytes by the width of the rows read before), and the differing rows
// found since the last checkpoint (`checkpointDiffRowsMax`) — every differing row goes to
// `_vt.vdiff_row` at the next checkpoint, never into a list in memory.
//
// An epoch ends at the end of the table, at `--max-diff-duration` (the caller then takes a new
// epoch after the last compared key, so no snapshot holds InnoDB's history for hours), at the row
// limit, or when the VDiff is stopped; each end writes a checkpoint.
import type { Client } from '../mysql/client.js';
import { GtidPosition } from '../mysql/binlog/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { SqlValue } from '../mysql/values.js';
import { logger } from '../log/index.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { cellText } from '../sidecar/index.js';
import { tabletAliasString, type Tablet, type TopoServer } from '../topo/index.js';
import type { VReplicationEngine } from '../vreplication/engine.js';
import type { Stream } from '../vreplication/stream-store.js';
import { renamingVStreamer, sourcePlan } from '../vreplication/source-filter.js';
import type { FieldInfo } from '../vreplication/row-streamer.js';
import type { RowsBatch, VStreamer } from '../vreplication/vstreamer.js';
import type { LastPk } from '../vreplication/lastpk.js';
import { rowBytes } from '../vreplication/vstream-codec.js';
import { compareKeys, keyComparator, sameValue, type Comparator } from './values.js';
import type { DiffKind, DiffRow, TableCounts, VDiffOptions, VDiffStore } from './store.js';
import { rangeWhereSql, rowHashSql } from './checksum.js';
import { compareByChunks } from './chunks.js';
import type { SourceSession, VDiffSourceConnector } from './source.js';

const log = logger('vdiff');

export const VDIFF_DEFAULTS = {
  /** Rows per SELECT of a source's vstreamRows (the source's batch). */
  sourceBatchRowsMax: 10_000,
  /** Bytes of rows per source batch: with one batch read ahead, a source holds at most twice this. */
  sourceBatchBytesMax: 1024 * 1024,
  /** Rows per SELECT on the target snapshot. */
  targetBatchRowsMax: 1_000,
  /** Bytes of rows per SELECT on the target snapshot, about (sized by the width of the rows read before). */
  targetBatchBytesMax: 1024 * 1024,
  /** Rows compared between two checkpoints (last key, counts, differing rows, one transaction). */
  checkpointRowsMax: 10_000,
  /** Differing rows held before a checkpoint writes them out. */
  checkpointDiffRowsMax: 100,
  /** How often a stream's state is read while waiting for it to reach its stop position. */
  pollMs: 25,
  /** How often to look again when a source tablet's snapshot is behind what a stream has applied. */
  sourceBehindRetryMs: 200,
  /** Rows compared per second at most, to spare the source's and target's disks (0: no cap). */
  compareRowsPerSecondMax: 0,
  /** --chunk-checksum: rows per range of keys compared by checksum before any row is read. */
  checksumChunkRowsMax: 20_000,
  /** --chunk-checksum: ranges cut and checksummed ahead of the one being compared (chunks.ts). */
  checksumRangesAhead: 3,
};
export type VDiffLimits = typeof VDIFF_DEFAULTS;

export interface DifferHost {
  readonly alias: string;
  readonly cell: string;
  readonly dbName: string;
  readonly topo: TopoServer;
  readonly limits: VDiffLimits;
  vreplication(): VReplicationEngine;
  dbaClient(): Promise<Client>;
  vstreamerFor(tablet: Tablet): VStreamer & { close?(): void };
  /** A source tablet's VDiff snapshot sessions (chunk checksums). */
  vdiffSourceFor(tablet: Tablet): VDiffSourceConnector;
}

/** Rows one at a time in key order. */
interface Cursor {
  peek(): Promise<SqlValue[] | null>;
  take(): void;
}

/** A vstreamRows call read by pulling: the source produces the next batch while one is processed. */
class RowsPuller {
  private pending: { batch: RowsBatch; resume: () => void } | null = null;
  private wake: (() => void) | null = null;
  private done = false;
  private error: unknown;
  private readonly abort = new AbortController();

  constructor(
    private readonly vs: VStreamer & { close?(): void },
    req: Parameters<VStreamer['vstreamRows']>[0],
  ) {
    vs.vstreamRows(
      req,
      (b) =>
        new Promise<void>((resume) => {
          this.pending = { batch: b, resume };
          this.wake?.();
        }),
      this.abort.signal,
    ).then(
      () => this.finish(undefined),
      (e) => this.finish(e ?? new Error('vstreamRows failed')),
    );
  }

  private finish(err: unknown): void {
    this.done = true;
    this.error = err;
    this.wake?.();
  }

  async next(): Promise<RowsBatch | null> {
    while (this.pending === null) {
      if (this.error !== undefined) throw this.error;
      if (this.done) return null;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
    const p = this.pending;
    this.pending = null;
    p.resume();
    return p.batch;
  }

  close(): void {
    this.abort.abort();
    this.pending?.resume();
    this.pending = null;
    this.vs.close?.();
  }
}

/** One source shard's rows, one at a time, in key order. */
class SourceCursor implements Cursor {
  private rows: readonly SqlValue[][] = [];
  private i = 0;
  private ended = false;

  constructor(
    readonly shard: string,
    readonly puller: RowsPuller,
    readonly position: GtidPosition,
    readonly fields: readonly FieldInfo[],
    readonly pkColumns: readonly string[],
  ) {}

  async peek(): Promise<SqlValue[] | null> {
    while (this.i >= this.rows.length) {
      if (this.ended) return null;
      const b = await this.puller.next();
      if (b === null) {
        this.ended = true;
        return null;
      }
      if (b.kind !== 'rows') continue;
      this.rows = b.rows;
      this.i = 0;
      if (b.done) this.ended = true;
    }
    return this.rows[this.i];
  }

  take(): void {
    this.i++;
  }
}

/** One source shard's rows in (lo, hi] from its snapshot session, a page at a time. */
class SessionCursor implements Cursor {
  private rows: SqlValue[][] = [];
  private i = 0;
  private ended = false;
  private last: readonly SqlValue[] | null;

  constructor(
    private readonly session: SourceSession,
    lo: readonly SqlValue[] | null,
    private readonly hi: readonly SqlValue[] | null,
    private readonly rowsMax: number,
    private readonly bytesMax: number,
  ) {
    this.last = lo;
  }

  async peek(): Promise<SqlValue[] | null> {
    while (this.i >= this.rows.length) {
      if (this.ended) return null;
      const p = await this.session.rows(this.last, this.hi, this.rowsMax, this.bytesMax);
      this.rows = p.rows;
      this.i = 0;
      if (p.lastPk !== null) this.last = p.lastPk;
      if (p.done) this.ended = true;
    }
    return this.rows[this.i];
  }

  take(): void {
    this.i++;
  }
}

/** Rows of the target's first page, before their width is known. */
const TARGET_FIRST_ROWS = 200;

/** The target's rows, read `batch` at a time from the target snapshot (up to `hi` when given). */
class TargetCursor implements Cursor {
  private rows: SqlValue[][] = [];
  private i = 0;
  private ended = false;
  private last: SqlValue[] | null;
  /** Bytes of a row of the last page (0: none read yet). */
  private rowBytes = 0;

  constructor(
    private readonly client: Client,
    private readonly select: string,
    private readonly from: string,
    private readonly keyCols: readonly string[],
    private readonly keyIdx: readonly number[],
    private readonly floatIdx: readonly number[],
    start: readonly SqlValue[] | null,
    private readonly batch: number,
    private readonly batchBytes: number,
    private readonly lit: (v: SqlValue, k: number) => string,
    private readonly hi: readonly SqlValue[] | null = null,
  ) {
    this.last = start === null ? null : [...start];
  }

  async peek(): Promise<SqlValue[] | null> {
    if (this.i < this.rows.length) return this.rows[this.i];
    if (this.ended) return null;
    const where = rangeWhereSql(this.keyCols, this.last, this.hi, this.lit);
    // Wide rows: no more rows than fit the batch's bytes (and a few more than the last page's width says).
    const limit = this.rowBytes > 0 ? Math.max(1, Math.min(this.batch, Math.ceil((this.batchBytes * 1.25) / this.rowBytes))) : Math.min(this.batch, TARGET_FIRST_ROWS);
    const r = await this.client.query(`SELECT ${this.select} FROM ${this.from}${where} ORDER BY ${this.keyCols.join(', ')} LIMIT ${limit}`);
    this.rows = r.rows;
    let bytes = 0;
    for (const row of this.rows) {
      for (const k of this.floatIdx) if (typeof row[k] === 'number') row[k] = shortestFloat32(row[k] as number);
      bytes += rowBytes(row);
    }
    if (this.rows.length) this.rowBytes = bytes / this.rows.length;
    this.i = 0;
    if (this.rows.length < limit) this.ended = true;
    if (this.rows.length === 0) return null;
    const lr = this.rows[this.rows.length - 1];
    this.last = this.keyIdx.map((k) => lr[k]);
    return this.rows[0];
  }

  take(): void {
    this.i++;
  }
}

/** The shortest decimal that reads back as the same float32, as the source's vstreamRows gives FLOAT. */
function shortestFloat32(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p < 9; p++) {
    const c = Number(f.toPrecision(p));
    if (Math.fround(c) === f) return c;
  }
  return f;
}

export function keyLiteral(v: SqlValue, dataType = ''): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  // DECIMAL values are exact strings; compared as a string they would go through DOUBLE.
  if (dataType === 'decimal' && /^-?[0-9]+(\.[0-9]+)?$/.test(v)) return v;
  return quoteString(v);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      res();
    }
  });
}

export interface TableProgress {
  lastpk: LastPk | null;
  counts: TableCounts;
  positions: Record<string, string>;
  /** What the VDiff's log was already told about this table (said once, not every epoch). */
  readonly said?: Set<string>;
  /** Chunk checksums of this run: ranges compared by checksum, and those whose rows were read. */
  readonly ranges?: { compared: number; differing: number };
}

export type EpochEnd = 'done' | 'epoch-time' | 'row-limit' | 'stopped';

export interface EpochContext {
  readonly vdiffId: number;
  readonly uuid: string;
  readonly workflow: string;
  readonly table: string;
  readonly options: VDiffOptions;
  readonly store: VDiffStore;
  readonly signal: AbortSignal;
  /** Rows compared in this run so far (for --limit). */
  rowsThisRun: number;
}

function streamsError(workflow: string, alias: string, why: string): TesseraError {
  return new TesseraError(ER.UNKNOWN_ERROR, `VDiff: workflow ${workflow} on ${alias}: ${why}`, { kind: 'PERMANENT' });
}

/** The workflow's streams on this tablet, each running and done copying, or why VDiff cannot run. */
export async function checkStreams(host: DifferHost, workflow: string): Promise<Stream[]> {
  const vr = host.vreplication();
  const streams = await vr.store.readStreams({ workflow, db: host.dbName });
  if (streams.length === 0) throw new TesseraError(ER.WRONG_ARGUMENTS, `VDiff: workflow ${workflow} has no streams on ${host.alias}`, { kind: 'PERMANENT' });
  for (const s of streams) {
    if (s.state === 'Error') throw streamsError(workflow, host.alias, `stream ${s.id} is in Error (${s.message}); fix it and Workflow start before comparing`);
    if ((await vr.store.readCopyState(s.id)).length > 0 || s.state === 'Copying' || s.state === 'Init') {
      throw new TesseraError(ER.UNKNOWN_ERROR, `VDiff: workflow ${workflow} on ${host.alias}: stream ${s.id} is still copying; compare once the copy phase is done`);
    }
    if (s.state === 'Stopped' && !s.message.startsWith('VDiff') && !s.message.startsWith('Stopped at position')) {
      throw streamsError(workflow, host.alias, `stream ${s.id} is Stopped${s.message ? ` (${s.message})` : ''}; VDiff compares a running workflow: Workflow start it first`);
    }
  }
  return streams;
}

/** Picks a source tablet of a shard by the VDiff's tablet types (in order), its cell first. */
async function pickSource(host: DifferHost, keyspace: string, shard: string, o: VDiffOptions): Promise<Tablet> {
  const types = (o.picker_options.tablet_types || 'primary,replica')
    .toLowerCase()
    .replace(/^in_order:/, '')
    .split(',')
    .map((t) => (t.trim() === 'master' ? 'primary' : t.trim()))
    .filter((t) => t !== '');
  const cells = o.picker_options.source_cell ? o.picker_options.source_cell.split(',').filter((c) => c) : [];
  const all = await host.topo.getTablets({ keyspace, shard });
  for (const t of types) {
    const m = all.filter((x) => x.type === t && x.port_map.grpc && (cells.length === 0 || cells.includes(x.alias.cell)));
    const local = m.filter((x) => x.alias.cell === host.cell);
    const pool = local.length ? local : m;
    if (pool.length) return pool[Math.floor(Math.random() * pool.length)];
  }
  throw new TesseraError(ER.UNKNOWN_ERROR, `VDiff: no ${types.join(' or ')} tablet of ${keyspace}/${shard}${cells.length ? ` in ${cells.join(',')}` : ''} to read the source rows from`, {
    kind: 'UNAVAILABLE',
  });
}

interface TargetTable {
  readonly columns: readonly { name: string; dataType: string; nullable: boolean }[];
  readonly key: readonly string[];
}

/** The target table's columns and its key (primary, else a unique key of NOT NULL columns). */
export async function describeTarget(c: Client, dbName: string, table: string): Promise<TargetTable> {
  const cols = await c.query(
    `SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${quoteString(dbName)} AND TABLE_NAME = ${quoteString(table)} ORDER BY ORDINAL_POSITION`,
  );
  if (cols.rows.length === 0) throw new TesseraError(ER.NO_SUCH_TABLE, `VDiff: table ${dbName}.${table} does not exist on the target`, { kind: 'PERMANENT' });
  const st = await c.query(
    `SELECT INDEX_NAME, COLUMN_NAME, NULLABLE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${quoteString(dbName)} AND TABLE_NAME = ${quoteString(table)} AND NON_UNIQUE = 0 ` +
      `ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
  );
  const keys = new Map<string, { cols: string[]; ok: boolean }>();
  for (const r of st.rows) {
    const name = cellText(r[0]);
    const k = keys.get(name) ?? { cols: [], ok: true };
    k.cols.push(cellText(r[1]));
    if (cellText(r[2]) === 'YES') k.ok = false;
    keys.set(name, k);
  }
  const key = [...keys.values()].find((k) => k.ok);
  if (!key) {
    throw new TesseraError(
      { errno: 1173, sqlState: '42000' },
      `VDiff: table ${table} has no primary key and no unique key of NOT NULL columns, so its rows cannot be compared in key order; add a primary key (ALTER TABLE ${quoteIdent(table)} ADD PRIMARY KEY (...)) or leave it out with --tables`,
      { kind: 'PERMANENT' },
    );
  }
  return { columns: cols.rows.map((r) => ({ name: cellText(r[0]), dataType: cellText(r[1]).toLowerCase(), nullable: cellText(r[2]).toUpperCase() !== 'NO' })), key: key.cols };
}

/**
 * Runs one epoch of one table's comparison from `progress` (updated in place and checkpointed).
 * Returns why it ended.
 */
/** One source shard in an epoch: its snapshot, read as rows (vstreamRows) or through a session. */
interface SourceSide {
  readonly shard: string;
  readonly position: GtidPosition;
  readonly fields: readonly FieldInfo[];
  readonly pkColumns: readonly string[];
  /** Without chunk checksums: the rows after the last compared key, streamed. */
  readonly rows?: SourceCursor;
  /** With chunk checksums: the snapshot session (checksums, and rows of differing ranges). */
  readonly session?: SourceSession;
  close(): void;
}

function sourceReadError(err: unknown, table: string, tablet: Tablet): TesseraError {
  const e = TesseraError.from(err);
  return new TesseraError(e, `VDiff: reading table ${table} on source tablet ${tabletAliasString(tablet.alias)}: ${e.message}`, { cause: err, kind: e.kind });
}

/** A vstreamRows call from the last compared key: its snapshot header, then its rows. */
async function openRows(host: DifferHost, tablet: Tablet, ctx: EpochContext, s: Stream, progress: TableProgress): Promise<SourceSide> {
  const vs = host.vstreamerFor(tablet);
  // renamingVStreamer may hand back `vs` itself (rules without a select): wrap, never patch it.
  const renamed = renamingVStreamer(vs, s.source.filter);
  const source: VStreamer & { close?(): void } = { vstream: (...a) => renamed.vstream(...a), vstreamRows: (...a) => renamed.vstreamRows(...a), close: () => vs.close?.() };
  const puller = new RowsPuller(source, {
    table: ctx.table,
    filter: s.source.filter,
    lastPk: progress.lastpk === null ? null : progress.lastpk.values,
    batchRowsMax: host.limits.sourceBatchRowsMax,
    batchBytesMax: host.limits.sourceBatchBytesMax,
  });
  let header: RowsBatch | null;
  try {
    header = await puller.next();
  } catch (err) {
    puller.close();
    throw sourceReadError(err, ctx.table, tablet);
  }
  if (header === null || header.kind !== 'header') {
    puller.close();
    throw new TesseraError(ER.UNKNOWN_ERROR, `VDiff: source tablet ${tabletAliasString(tablet.alias)} sent no snapshot header for table ${ctx.table}`);
  }
  const position = GtidPosition.parse(header.position);
  return { shard: s.source.shard, position, fields: header.fields, pkColumns: header.pkColumns, rows: new SourceCursor(s.source.shard, puller, position, header.fields, header.pkColumns), close: () => puller.close() };
}

/** A snapshot session on the source tablet (chunk checksums). */
async function openSession(host: DifferHost, tablet: Tablet, ctx: EpochContext, s: Stream): Promise<SourceSide> {
  // The session speaks the source's table names: a rule `select … from customer` filling
  // customer_copy is asked for as customer.
  const plan = sourcePlan(s.source.filter);
  let session: SourceSession;
  try {
    session = await host.vdiffSourceFor(tablet).openSession({ table: plan.sourceOf.get(ctx.table) ?? ctx.table, filter: plan.filter });
  } catch (err) {
    throw sourceReadError(err, ctx.table, tablet);
  }
  const h = session.header;
  return { shard: s.source.shard, position: GtidPosition.parse(h.position), fields: h.fields, pkColumns: h.pkColumns, session, close: () => session.close() };
}

/**
 * Runs one epoch of one table's comparison from `progress` (updated in place and checkpointed).
 * Returns why it ended.
 */
export async function runEpoch(host: DifferHost, ctx: EpochContext, progress: TableProgress): Promise<EpochEnd> {
  const { options: o, signal } = ctx;
  const limits = host.limits;
  const vr = host.vreplication();
  // Refuses a workflow whose streams cannot be brought to one point (none, in Error, copying).
  await checkStreams(host, ctx.workflow);
  const timeoutMs = Math.max(1, o.core_options.timeout_seconds) * 1000;
  const chunked = o.core_options.checksum;
  const sources: SourceSide[] = [];
  let target: Client | undefined;
  let restart = false;
  try {
    // 1. Stop the streams where they are.
    await vr.update(ctx.workflow, { state: 'Stopped', message: `VDiff ${ctx.uuid}: taking a consistent snapshot` });
    restart = true;
    const stopped = await vr.store.readStreams({ workflow: ctx.workflow, db: host.dbName });
    // 2. A snapshot per source shard, at or past what its stream has applied.
    for (const s of stopped) {
      const applied = s.pos === '' ? GtidPosition.EMPTY : GtidPosition.parse(s.pos);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (signal.aborted) return 'stopped';
        const tablet = await pickSource(host, s.source.keyspace, s.source.shard, o);
        const side = chunked ? await openSession(host, tablet, ctx, s) : await openRows(host, tablet, ctx, s, progress);
        if (side.position.atLeast(applied)) {
          sources.push(side);
          log.debug({ uuid: ctx.uuid, table: ctx.table, shard: s.source.shard, position: side.position.toString() }, 'source snapshot');
          break;
        }
        // A replica behind what the stream already applied: its snapshot would miss rows the
        // target has. Look again shortly; it catches up.
        side.close();
        if (Date.now() >= deadline) {
          throw new TesseraError(ER.LOCK_WAIT_TIMEOUT, `VDiff: source tablet ${tabletAliasString(tablet.alias)} stayed behind ${applied.toString()} for ${timeoutMs} ms (--filtered-replication-wait-time)`, {
            kind: 'DEADLINE_EXCEEDED',
          });
        }
        await sleep(limits.sourceBehindRetryMs, signal);
      }
    }
    // 3. Each stream to exactly its source's snapshot position.
    for (let i = 0; i < stopped.length; i++) {
      const s = stopped[i];
      const want = sources[i].position;
      const applied = s.pos === '' ? GtidPosition.EMPTY : GtidPosition.parse(s.pos);
      if (applied.atLeast(want)) continue;
      await vr.update(ctx.workflow, { ids: [s.id], state: 'Running', stopPos: want.toString(), message: `VDiff ${ctx.uuid}: catching up to ${want.toString()}` });
    }
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < stopped.length; i++) {
      const want = sources[i].position;
      for (;;) {
        const r = await vr.store.readStream(stopped[i].id);
        if (!r) throw streamsError(ctx.workflow, host.alias, `stream ${stopped[i].id} was deleted during the VDiff`);
        const at = r.pos === '' ? GtidPosition.EMPTY : GtidPosition.parse(r.pos);
        // A stream may stop past `want`, but only over transactions that held nothing for it: the
        // source sends those as bare positions and merges a run of them into its last one, and
        // any transaction with rows for the stream ends with its own commit, where the stream
        // stops. So the target holds exactly what the snapshot's rows for this stream say.
        if (at.atLeast(want) && r.state === 'Stopped') break;
        if (r.state === 'Error') throw streamsError(ctx.workflow, host.alias, `stream ${r.id} went to Error catching up: ${r.message}`);
        if (signal.aborted) return 'stopped';
        if (Date.now() >= deadline) {
          throw new TesseraError(ER.LOCK_WAIT_TIMEOUT, `VDiff: stream ${r.id} did not reach ${want.toString()} within ${timeoutMs} ms (at ${r.pos}); raise --filtered-replication-wait-time`, {
            kind: 'DEADLINE_EXCEEDED',
          });
        }
        await sleep(limits.pollMs, signal);
      }
    }
    // 4. The target's snapshot, at exactly those positions.
    target = await host.dbaClient();
    await target.query("SET SESSION time_zone = '+00:00'");
    await target.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await target.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    // 5. Replication goes on while the snapshots are compared.
    restart = false;
    await vr.update(ctx.workflow, { state: 'Running', stopPos: '', message: '' });
    progress.positions = Object.fromEntries(sources.map((s) => [s.shard, s.position.toString()]));
    log.info({ uuid: ctx.uuid, table: ctx.table, positions: progress.positions, after: progress.lastpk?.values.map(String) }, 'vdiff epoch: snapshots open, comparing');
    return await compare(host, ctx, progress, sources, target);
  } finally {
    for (const s of sources) s.close();
    if (target) {
      await target.query('ROLLBACK').catch(() => undefined);
      target.close();
    }
    if (restart) await vr.update(ctx.workflow, { state: 'Running', stopPos: '', message: '' }).catch((err: Error) => log.warn({ err: err.message }, 'restarting the streams after VDiff failed'));
  }
}


async function compare(host: DifferHost, ctx: EpochContext, progress: TableProgress, sources: SourceSide[], target: Client): Promise<EpochEnd> {
  const limits = host.limits;
  const o = ctx.options;
  const first = sources[0];
  const fields = first.fields;
  const names = fields.map((f) => f.name);
  const pkColumns = first.pkColumns;
  const keyIdx = pkColumns.map((k) => names.findIndex((n) => n.toLowerCase() === k.toLowerCase()));
  const missing = pkColumns.filter((_, i) => keyIdx[i] < 0);
  if (missing.length) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `VDiff: the workflow's rule for table ${ctx.table} does not select its key column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; VDiff needs the key to match rows`, {
      kind: 'PERMANENT',
    });
  }
  for (const s of sources) {
    if (s.fields.map((f) => f.name).join(',') !== names.join(',')) throw new TesseraError(ER.UNKNOWN_ERROR, `VDiff: source shards disagree on the columns of ${ctx.table}; is a schema change under way?`);
  }
  const cmp: Comparator[] = keyIdx.map((i) => keyComparator(fields[i], ctx.table));
  const tt = await describeTarget(target, host.dbName, ctx.table);
  const tcol = new Map(tt.columns.map((c) => [c.name.toLowerCase(), c]));
  const absent = names.filter((n) => !tcol.has(n.toLowerCase()));
  if (absent.length) throw new TesseraError(ER.BAD_FIELD, `VDiff: target table ${ctx.table} has no column ${absent.join(', ')}`, { kind: 'PERMANENT' });
  const select = names.map((n) => (tcol.get(n.toLowerCase())!.dataType === 'float' ? `CAST(${quoteIdent(n)} AS DOUBLE)` : quoteIdent(n))).join(', ');
  const floatIdx = names.flatMap((n, i) => (tcol.get(n.toLowerCase())!.dataType === 'float' ? [i] : []));
  const keyCols = pkColumns.map(quoteIdent);
  const keyTypes = pkColumns.map((k) => tcol.get(k.toLowerCase())?.dataType ?? '');
  const lit = (v: SqlValue, k: number) => keyLiteral(v, keyTypes[k]);
  const from = `${quoteIdent(host.dbName)}.${quoteIdent(ctx.table)}`;
  const targetCursor = (lo: readonly SqlValue[] | null, hi: readonly SqlValue[] | null) =>
    new TargetCursor(target, select, from, keyCols, keyIdx, floatIdx, lo, limits.targetBatchRowsMax, limits.targetBatchBytesMax, lit, hi);

  const counts = progress.counts;
  const maxSamples = o.report_options.max_sample_rows;
  const recorded: Record<DiffKind, number> = {
    MismatchedRows: Math.min(counts.MismatchedRows, maxSamples || Infinity),
    ExtraRowsSource: Math.min(counts.ExtraRowsSource, maxSamples || Infinity),
    ExtraRowsTarget: Math.min(counts.ExtraRowsTarget, maxSamples || Infinity),
  };
  let pending: DiffRow[] = [];
  let sinceCheckpoint = 0;
  const started = Date.now();
  let checkpointAt = started;
  const epochMs = o.core_options.max_diff_seconds > 0 ? o.core_options.max_diff_seconds * 1000 : Infinity;
  const rowLimit = o.core_options.max_rows;
  // A checkpoint writes on the store's connection while the comparison goes on; the next one
  // waits for it (so its failure stops the epoch, and at most two checkpoints' rows are held).
  let writing: Promise<void> = Promise.resolve();
  const startCheckpoint = async () => {
    await writing;
    const rows = pending;
    pending = [];
    sinceCheckpoint = 0;
    const p = ctx.store.checkpoint(ctx.vdiffId, ctx.table, progress.lastpk, { ...counts }, progress.positions, rows);
    p.catch(() => undefined);
    writing = p;
  };
  const checkpoint = async () => {
    await startCheckpoint();
    await writing;
  };
  const found = (kind: DiffKind, key: readonly SqlValue[], source: readonly SqlValue[] | null, targetRow: readonly SqlValue[] | null) => {
    counts[kind]++;
    if (maxSamples > 0 && recorded[kind] >= maxSamples) return;
    recorded[kind]++;
    pending.push({ table: ctx.table, kind, pk: { columns: pkColumns, values: [...key] }, columns: names, source: source && [...source], target: targetRow && [...targetRow] });
  };
  const keyOf = (row: readonly SqlValue[]) => keyIdx.map((i) => row[i]);

  /** After `n` rows compared: a checkpoint when due (then the rate cap), and the epoch's other ends. */
  const compared = async (n: number): Promise<EpochEnd | null> => {
    ctx.rowsThisRun += n;
    sinceCheckpoint += n;
    if (sinceCheckpoint >= limits.checkpointRowsMax || pending.length >= limits.checkpointDiffRowsMax) {
      const rows = sinceCheckpoint;
      await startCheckpoint();
      if (limits.compareRowsPerSecondMax > 0) {
        // Ahead of the cap: wait until the rows of this checkpoint are due.
        const due = checkpointAt + (rows / limits.compareRowsPerSecondMax) * 1000;
        if (due > Date.now()) await sleep(due - Date.now(), ctx.signal);
      }
      checkpointAt = Date.now();
    }
    if (rowLimit > 0 && ctx.rowsThisRun >= rowLimit) {
      await checkpoint();
      return 'row-limit';
    }
    if (Date.now() - started >= epochMs) {
      await checkpoint();
      return 'epoch-time';
    }
    return null;
  };

  /** Merges the sources' rows with the target's, row by row, to the cursors' end (null) or an epoch end. */
  const merge = async (srcs: readonly Cursor[], tcur: Cursor): Promise<EpochEnd | null> => {
    for (;;) {
      if (ctx.signal.aborted) {
        await checkpoint();
        return 'stopped';
      }
      // The smallest key among the sources' next rows.
      let src: Cursor | undefined;
      let srow: SqlValue[] | null = null;
      for (const s of srcs) {
        const r = await s.peek();
        if (r === null) continue;
        if (srow === null || compareKeys(cmp, keyOf(r), keyOf(srow)) < 0) {
          src = s;
          srow = r;
        }
      }
      const trow = await tcur.peek();
      if (srow === null && trow === null) return null;
      let key: SqlValue[];
      if (trow === null || (srow !== null && compareKeys(cmp, keyOf(srow), keyOf(trow)) < 0)) {
        key = keyOf(srow!);
        found('ExtraRowsSource', key, srow, null);
        src!.take();
      } else if (srow === null || compareKeys(cmp, keyOf(srow), keyOf(trow)) > 0) {
        key = keyOf(trow);
        found('ExtraRowsTarget', key, null, trow);
        tcur.take();
      } else {
        key = keyOf(srow);
        let same = true;
        for (let i = 0; i < srow.length; i++) {
          if (!sameValue(srow[i], trow[i])) {
            same = false;
            break;
          }
        }
        if (same) counts.MatchingRows++;
        else found('MismatchedRows', key, srow, trow);
        src!.take();
        tcur.take();
      }
      counts.ProcessedRows++;
      progress.lastpk = { columns: pkColumns, values: key };
      const end = await compared(1);
      if (end) return end;
    }
  };

  if (!o.core_options.checksum) {
    const end = await merge(
      sources.map((s) => s.rows!),
      targetCursor(progress.lastpk === null ? null : progress.lastpk.values, null),
    );
    if (end) return end;
    await checkpoint();
    return 'done';
  }

  // Chunk checksums: ranges of keys cut on the target (its next `checksumChunkRowsMax` keys), each
  // checksummed on the target and on every source at once; rows are read only where they differ.
  const said = progress.said;
  const note = `table ${ctx.table}: chunk checksums over ranges of ${limits.checksumChunkRowsMax} rows; ${sources.map((s) => `source ${s.shard}: ${s.session!.header.note}`).join('; ')}`;
  if (!said?.has(note)) {
    said?.add(note);
    await ctx.store.log(ctx.vdiffId, note);
  }
  return compareByChunks({
    ctx,
    progress,
    limits,
    target,
    sources: sources.map((s) => s.session!),
    keyCols,
    pkColumns,
    from,
    lit,
    hashSql: rowHashSql(names.map((n) => tcol.get(n.toLowerCase())!)),
    compared,
    checkpoint,
    mergeRange: (lo, hi) =>
      merge(
        sources.map((x) => new SessionCursor(x.session!, lo, hi, limits.sourceBatchRowsMax, limits.sourceBatchBytesMax)),
        targetCursor(lo, hi),
      ),
  });
}
