// The source side of VDiff's chunk checksums: a snapshot session on a source tablet.
//
// A VDiff with chunk checksums asks each source shard, range after range, for the checksum of the
// rows it holds for the target, and for those rows only where the checksums differ — all on one
// consistent snapshot, held while the target decides. vstreamRows cannot serve that (its snapshot
// lives for one pass over the table, and the target cannot say "skip this range"), so a source
// tablet keeps a snapshot session: `vd.session` (a stream) opens the snapshot, answers its header
// (GTID position, columns as the stream's rule gives them, key) and then holds the session for as
// long as the call lasts — the target cancelling it, or its connection dropping (the target tablet
// killed), closes the snapshot. `vd.checksum` and `vd.rows` (unary) work on the session's
// connection, one statement at a time, each bounded (a range, a page), so no statement runs for
// the whole diff.
//
// The stream's rule decides rows and columns, as in vstreamRows (filter.ts planColumns). A rule
// without a key range is checksummed in SQL (COUNT and SUM over the range). A key-range rule needs
// the keyspace id of each row, which MariaDB cannot compute for most vindexes (hash is DES,
// xxhash has no SQL function): there MariaDB reads the key-range column and the row's hash only —
// a few bytes a row, never the row — and the source tablet keeps the rows in the range with the
// vindex and sums their hashes. Rows themselves are read only for ranges that differ.
import { randomUUID } from 'node:crypto';
import type { ClientOptions } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { SqlValue } from '../mysql/values.js';
import { decodeTextRow } from '../mysql/values.js';
import type { ColumnDefinition } from '../mysql/protocol.js';
import { logger } from '../log/index.js';
import { quoteIdent } from '../sql/index.js';
import { RpcClient, type Json, type Message, type RpcServer } from '../rpc/index.js';
import type { KeyspaceVSchema } from '../vschema/index.js';
import { keyspaceIdSource, planColumns, type Filter, type TablePlan } from '../vreplication/filter.js';
import { describeTable, keyLiteral, shortestFloat32, sourceError, type CopyTable } from '../vreplication/local-vstreamer.js';
import type { FieldInfo } from '../vreplication/row-streamer.js';
import { Snapshot } from '../vreplication/snapshot.js';
import { decodeRowsBatch, decodeValues, encodeRowsBatch, encodeValues, rowBytes } from '../vreplication/vstream-codec.js';
import { checksumOf, rangeWhereSql, rowHashSql, type RangeChecksum } from './checksum.js';

const log = logger('vdiff-source');

export const VDIFF_SOURCE_DEFAULTS = {
  /** Snapshot sessions open at once on a source tablet; each holds one MariaDB connection. */
  sessionsMax: 32,
  /** Rows of (key-range column, hash) read per statement when the source tablet filters. */
  filteredScanRowsMax: 10_000,
  /** Rows per page of `rows` at most, and bytes of rows (whichever comes first). */
  pageRowsMax: 10_000,
  pageBytesMax: 1024 * 1024,
};

export type ChecksumMode = 'sql' | 'filtered';

/** What a session answers first. */
export interface SessionHeader {
  readonly id: string;
  /** The snapshot's GTID position. */
  readonly position: string;
  /** The columns the stream's rule gives the target, named as the target has them. */
  readonly fields: readonly FieldInfo[];
  readonly pkColumns: readonly string[];
  readonly mode: ChecksumMode;
  /** How the checksums are computed, for the VDiff's log. */
  readonly note: string;
}

export interface RowsPage {
  readonly rows: SqlValue[][];
  /** The key of the last row read (a row the rule filtered out still moves it on). */
  readonly lastPk: readonly SqlValue[] | null;
  readonly done: boolean;
}

interface Session {
  readonly header: SessionHeader;
  readonly snap: Snapshot;
  readonly table: CopyTable;
  readonly from: string;
  readonly keyCols: readonly string[];
  readonly lit: (v: SqlValue, k: number) => string;
  /** The row's hash, as a select item (checksum.ts). */
  readonly hashSql: string;
  readonly plan: TablePlan;
  /** `rows`: the columns read, the rule planned over them, where the key and FLOAT columns are. */
  readonly selectList: string;
  readonly readPlan: TablePlan;
  readonly keyPos: readonly number[];
  readonly floatPos: readonly number[];
  /** filtered mode: the key-range column's index in the table. */
  readonly rangeColumn: number;
  /** Bytes of a row read so far, on average: pages ask for as many rows as fit their bytes. */
  rowBytesAvg: number;
  queue: Promise<unknown>;
}

export interface VDiffSourceConfig {
  readonly dbName: string;
  readonly connection: Omit<ClientOptions, 'database'>;
  readonly vschema: () => Promise<KeyspaceVSchema | undefined>;
  readonly limits?: Partial<typeof VDIFF_SOURCE_DEFAULTS>;
}

function noSession(id: string): TesseraError {
  return new TesseraError(ER.UNKNOWN_ERROR, `VDiff snapshot session ${id} is not open on this source tablet (closed, or the tablet restarted); the VDiff takes a new snapshot`, {
    kind: 'UNAVAILABLE',
  });
}

export class VDiffSource {
  readonly limits: typeof VDIFF_SOURCE_DEFAULTS;
  private readonly sessions = new Map<string, Session>();
  private closed = false;

  constructor(private readonly cfg: VDiffSourceConfig) {
    this.limits = { ...VDIFF_SOURCE_DEFAULTS, ...cfg.limits };
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  async open(req: { table: string; filter: Filter }): Promise<SessionHeader> {
    if (this.closed) throw new TesseraError(ER.SERVER_SHUTDOWN, 'the source tablet is shutting down', { kind: 'UNAVAILABLE' });
    if (this.sessions.size >= this.limits.sessionsMax) {
      throw new TesseraError(ER.CON_COUNT, `the source tablet has ${this.sessions.size} VDiff snapshot sessions open, its limit sessionsMax (${this.limits.sessionsMax}): try later`, {
        kind: 'RESOURCE_EXHAUSTED',
      });
    }
    let snap: Snapshot;
    try {
      snap = await Snapshot.open(this.cfg.connection);
    } catch (err) {
      throw sourceError(err);
    }
    try {
      const db = this.cfg.dbName;
      const table = await describeTable(snap.client, db, req.table);
      const names = table.columns.map((c) => c.name);
      const ids = keyspaceIdSource(await this.cfg.vschema());
      const plan = planColumns(req.filter, req.table, names, ids);
      if (plan === undefined) throw new TesseraError(ER.WRONG_ARGUMENTS, `no rule of the stream's filter matches table ${req.table}`, { kind: 'PERMANENT' });
      const keyIdx = table.key.map((k) => names.indexOf(k));
      const read = [...new Set([...plan.columnIndexes, ...keyIdx, ...(plan.keyColumnIndex === undefined ? [] : [plan.keyColumnIndex])])].sort((a, b) => a - b);
      const readPlan = planColumns(req.filter, req.table, read.map((i) => names[i]), ids)!;
      const keyTypes = keyIdx.map((i) => table.columns[i].dataType);
      const mode: ChecksumMode = plan.keep === undefined ? 'sql' : 'filtered';
      const header: SessionHeader = {
        id: randomUUID(),
        position: snap.position.toString(),
        fields: plan.columnIndexes.map((i, k) => ({ ...table.columns[i].field, name: plan.columnNames[k] })),
        pkColumns: table.key,
        mode,
        note:
          mode === 'sql'
            ? 'checksums computed in SQL on the source'
            : `the rule's key range needs each row's keyspace id, which MariaDB cannot compute: MariaDB reads column ${names[plan.keyColumnIndex!]} and each row's hash, the source tablet keeps the rows in range`,
      };
      const s: Session = {
        header,
        snap,
        table,
        from: `${quoteIdent(db)}.${quoteIdent(req.table)}`,
        keyCols: table.key.map(quoteIdent),
        lit: (v, k) => keyLiteral(v, keyTypes[k]),
        hashSql: rowHashSql(plan.columnIndexes.map((i) => ({ name: names[i], dataType: table.columns[i].dataType, nullable: table.columns[i].nullable }))),
        plan,
        selectList: read.map((i) => (table.columns[i].dataType === 'float' ? `CAST(${quoteIdent(names[i])} AS DOUBLE)` : quoteIdent(names[i]))).join(', '),
        readPlan,
        keyPos: keyIdx.map((i) => read.indexOf(i)),
        floatPos: read.flatMap((i, k) => (table.columns[i].dataType === 'float' ? [k] : [])),
        rangeColumn: plan.keyColumnIndex ?? -1,
        rowBytesAvg: 0,
        queue: Promise.resolve(),
      };
      this.sessions.set(header.id, s);
      log.debug({ session: header.id, table: req.table, position: header.position, mode }, 'vdiff snapshot session open');
      return header;
    } catch (err) {
      await snap.close().catch(() => undefined);
      throw sourceError(err);
    }
  }

  /** Ends a session: its snapshot's transaction and connection. */
  close(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    void s.queue.finally(() => s.snap.close().catch(() => undefined));
  }

  /** Closes every session and refuses new ones (the tablet is shutting down). */
  closeAll(): void {
    this.closed = true;
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  /** Runs `fn` on the session's connection after whatever runs there now. */
  private on<T>(id: string, fn: (s: Session) => Promise<T>): Promise<T> {
    const s = this.sessions.get(id);
    if (!s) return Promise.reject(noSession(id));
    const p = s.queue.then(() => {
      if (!this.sessions.has(id)) throw noSession(id);
      return fn(s);
    });
    s.queue = p.catch(() => undefined);
    return p.catch((err: unknown) => {
      throw sourceError(err);
    });
  }

  /**
   * The checksum of the rows in (lo, hi] the rule keeps, counting at most `cap` rows: a side with
   * more rows than the other's count differs whatever its sum, so reading on is wasted.
   */
  checksum(id: string, lo: readonly SqlValue[] | null, hi: readonly SqlValue[] | null, cap: number): Promise<RangeChecksum> {
    return this.on(id, async (s) => {
      const c = s.snap.client;
      const where = rangeWhereSql(s.keyCols, lo, hi, s.lit);
      const h = s.hashSql;
      if (s.header.mode === 'sql') {
        // A range with an upper bound holds what the target's range holds, give or take the rows
        // that differ; the open last range could be the whole table, so it counts `cap` at most.
        const r =
          hi !== null
            ? await c.query(`SELECT COUNT(*), SUM(${h}) FROM ${s.from}${where}`)
            : await c.query(`SELECT COUNT(*), SUM(h) FROM (SELECT ${h} AS h FROM ${s.from}${where} LIMIT ${Math.max(1, cap)}) x`);
        return checksumOf(r.rows[0]?.[0], r.rows[0]?.[1]);
      }
      // Filtered: (key, key-range column, hash) a page at a time in key order, kept by the vindex.
      const col = quoteIdent(s.table.columns[s.rangeColumn].name);
      const nKey = s.keyCols.length;
      const sparse: (SqlValue | undefined)[] = new Array(s.table.columns.length);
      let count = 0;
      let sum = 0n;
      let after = lo;
      for (;;) {
        const w = rangeWhereSql(s.keyCols, after, hi, s.lit);
        const page = this.limits.filteredScanRowsMax;
        let fields: ColumnDefinition[] = [];
        let got = 0;
        let last = null as SqlValue[] | null;
        await c.stream(`SELECT ${s.keyCols.join(', ')}, ${col}, ${h} FROM ${s.from}${w} ORDER BY ${s.keyCols.join(', ')} LIMIT ${page}`, {
          fields: (f) => {
            fields = f;
          },
          row: (payload) => {
            got++;
            const r = decodeTextRow(payload, fields);
            last = r.slice(0, nKey);
            if (count >= cap) return;
            sparse[s.rangeColumn] = r[nKey];
            if (!s.plan.keep!(sparse)) return;
            count++;
            sum += BigInt(r[nKey + 1] as number | bigint | string);
          },
        });
        if (got < page || count >= cap || last === null) break;
        after = last;
      }
      return { count, sum: sum.toString() };
    });
  }

  /** The rows the rule keeps in (lo, hi], in key order, a page at a time (`lastPk` goes on). */
  rows(id: string, lo: readonly SqlValue[] | null, hi: readonly SqlValue[] | null, rowsMax: number, bytesMax: number): Promise<RowsPage> {
    return this.on(id, async (s) => {
      const maxBytes = Math.max(1, Math.min(bytesMax || this.limits.pageBytesMax, this.limits.pageBytesMax));
      let limit = Math.max(1, Math.min(rowsMax || this.limits.pageRowsMax, this.limits.pageRowsMax));
      // Wide rows: no more rows than fit the page's bytes (and a few more than the average says).
      if (s.rowBytesAvg > 0) limit = Math.max(1, Math.min(limit, Math.ceil((maxBytes / s.rowBytesAvg) * 1.25)));
      const r = await s.snap.client.query(`SELECT ${s.selectList} FROM ${s.from}${rangeWhereSql(s.keyCols, lo, hi, s.lit)} ORDER BY ${s.keyCols.join(', ')} LIMIT ${limit}`);
      const out: SqlValue[][] = [];
      let bytes = 0;
      let last: SqlValue[] | null = lo === null ? null : [...lo];
      for (let i = 0; i < r.rows.length; i++) {
        const row = r.rows[i];
        for (const k of s.floatPos) if (typeof row[k] === 'number') row[k] = shortestFloat32(row[k] as number);
        last = s.keyPos.map((k) => row[k]);
        if (s.readPlan.keep !== undefined && !s.readPlan.keep(row)) continue;
        const o = s.readPlan.columnIndexes.map((k) => row[k]);
        out.push(o);
        const b = rowBytes(o);
        s.rowBytesAvg = s.rowBytesAvg === 0 ? b : s.rowBytesAvg * 0.9 + b * 0.1;
        bytes += b;
        if (bytes >= maxBytes && i < r.rows.length - 1) return { rows: out, lastPk: last, done: false };
      }
      return { rows: out, lastPk: last, done: r.rows.length < limit };
    });
  }
}

function text(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

// ---- over the network ----------------------------------------------------------------------------

function badRequest(why: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, `vdiff source request: ${why}`);
}

function meta(m: Message): Record<string, unknown> {
  if (m.meta === null || typeof m.meta !== 'object' || Array.isArray(m.meta)) throw badRequest('meta must be a JSON object');
  return m.meta as Record<string, unknown>;
}

function filterOf(v: unknown): Filter {
  const f = v as { rules?: unknown } | null;
  if (f === null || typeof f !== 'object' || !Array.isArray(f.rules)) throw badRequest('filter must be {rules: [{match, filter}]}');
  return {
    rules: f.rules.map((r: unknown) => {
      const x = r as { match?: unknown; filter?: unknown } | null;
      if (x === null || typeof x !== 'object' || typeof x.match !== 'string' || typeof x.filter !== 'string') throw badRequest('each filter rule needs match and filter strings');
      return { match: x.match, filter: x.filter };
    }),
  };
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw badRequest(`${name} must be a string`);
  return v;
}

function count(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badRequest(`${name} must be a non-negative integer`);
  return v;
}

/** Bounds travel as two codec blobs, an empty one for "open". */
function bounds(m: Message): [SqlValue[] | null, SqlValue[] | null] {
  if (m.blobs.length !== 2) throw badRequest('want two blobs: the range (lo, hi]');
  const b = (i: number) => {
    const v = decodeValues(m.blobs[i]);
    return v.length === 0 ? null : v;
  };
  return [b(0), b(1)];
}

function boundBlobs(lo: readonly SqlValue[] | null, hi: readonly SqlValue[] | null): Buffer[] {
  return [encodeValues(lo ?? []), encodeValues(hi ?? [])];
}

/** Serves a VDiffSource as `vd.session`, `vd.checksum` and `vd.rows`. */
export function registerVDiffSourceHandlers(server: RpcServer, source: VDiffSource): void {
  server.stream('vd.session', async (m, ctx, send) => {
    const x = meta(m);
    const h = await source.open({ table: str(x.table, 'table'), filter: filterOf(x.filter) });
    try {
      await send({ meta: h as unknown as Json });
      // Held until the target cancels or its connection goes.
      await new Promise<void>((res) => {
        if (ctx.signal.aborted) res();
        else ctx.signal.addEventListener('abort', () => res(), { once: true });
      });
    } finally {
      source.close(h.id);
    }
  });
  server.unary('vd.checksum', async (m) => {
    const x = meta(m);
    const [lo, hi] = bounds(m);
    const c = await source.checksum(str(x.session, 'session'), lo, hi, count(x.cap, 'cap'));
    return { meta: { count: c.count, sum: c.sum } };
  });
  server.unary('vd.rows', async (m) => {
    const x = meta(m);
    const [lo, hi] = bounds(m);
    const p = await source.rows(str(x.session, 'session'), lo, hi, count(x.rowsMax, 'rowsMax'), count(x.bytesMax, 'bytesMax'));
    return { meta: null, blobs: [encodeRowsBatch({ kind: 'rows', rows: p.rows, lastPk: p.lastPk ?? [], done: p.done })] };
  });
}

/** A session on a source tablet, as the target's differ uses it. */
export interface SourceSession {
  readonly header: SessionHeader;
  checksum(lo: readonly SqlValue[] | null, hi: readonly SqlValue[] | null, cap: number): Promise<RangeChecksum>;
  rows(lo: readonly SqlValue[] | null, hi: readonly SqlValue[] | null, rowsMax: number, bytesMax: number): Promise<RowsPage>;
  close(): void;
}

export interface VDiffSourceConnector {
  openSession(req: { table: string; filter: Filter }): Promise<SourceSession>;
}

/** A source tablet's VDiffSource over its RPC port, on a connection of its own. */
export class VDiffSourceClient implements VDiffSourceConnector {
  readonly rpc: RpcClient;

  constructor(host: string, port: number) {
    this.rpc = new RpcClient(host, port);
  }

  async openSession(req: { table: string; filter: Filter }): Promise<SourceSession> {
    const ac = new AbortController();
    const rpc = this.rpc;
    const opened = new Promise<SessionHeader>((resolve, reject) => {
      rpc
        .stream('vd.session', { table: req.table, filter: { rules: req.filter.rules.map((r) => ({ match: r.match, filter: r.filter })) } }, (m) => resolve(m.meta as unknown as SessionHeader), [], { signal: ac.signal })
        .then(
          () => reject(new TesseraError(ER.UNKNOWN_ERROR, 'the source tablet ended the VDiff snapshot session before its header', { kind: 'UNAVAILABLE' })),
          (err: unknown) => reject(unavailable(err)),
        );
    });
    let header: SessionHeader;
    try {
      header = await opened;
    } catch (err) {
      rpc.close();
      throw err;
    }
    const id = header.id;
    return {
      header,
      async checksum(lo, hi, cap) {
        try {
          const r = await rpc.call('vd.checksum', { session: id, cap }, boundBlobs(lo, hi));
          const x = r.meta as { count: number; sum: string };
          return { count: x.count, sum: x.sum };
        } catch (err) {
          throw unavailable(err);
        }
      },
      async rows(lo, hi, rowsMax, bytesMax) {
        try {
          const r = await rpc.call('vd.rows', { session: id, rowsMax, bytesMax }, boundBlobs(lo, hi));
          const b = decodeRowsBatch(r.blobs[0]);
          if (b.kind !== 'rows') throw new TesseraError(ER.NET_READ_ERROR, 'vd.rows answered a header');
          return { rows: b.rows as SqlValue[][], lastPk: b.lastPk.length ? b.lastPk : null, done: b.done };
        } catch (err) {
          throw unavailable(err);
        }
      },
      close: () => {
        ac.abort();
        rpc.close();
      },
    };
  }
}

/** A lost connection to the source is one a retry (another snapshot) can fix. */
function unavailable(err: unknown): TesseraError {
  const e = TesseraError.from(err);
  if (e.kind === undefined && (e.errno === ER.CONN_ERROR.errno || e.errno === 2013 || e.errno === ER.QUERY_INTERRUPTED.errno)) return new TesseraError(e, e.message, { cause: e, kind: 'UNAVAILABLE' });
  return e;
}
