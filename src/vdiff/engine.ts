// The VDiff engine of one tablet: on a primary, one runner per VDiff of `_vt.vdiff` that is
// pending or started, for this tablet's database. The tablet manager opens it with the
// VReplication engine (the tablet is, or becomes, primary) and closes it on demotion or shutdown;
// open() picks the VDiffs up again — after a restart, or on a new primary after a reparent, since
// the sidecar rows replicate — and each table goes on after its last compared key.
//
// It also answers the tm.VDiff call (create, show, stop, resume, delete, rows) that ctld's VDiff
// command makes on every target primary of a workflow.
import { ER, TesseraError } from '../mysql/errors.js';
import type { Client } from '../mysql/client.js';
import { SerialConnection } from '../sidecar/serial-connection.js';
import type { Result } from '../mysql/client-result.js';
import { logger } from '../log/index.js';
import { cellText } from '../sidecar/index.js';
import { quoteString } from '../sql/index.js';
import type { Tablet, TopoServer } from '../topo/index.js';
import type { VReplicationEngine } from '../vreplication/engine.js';
import { formatLastPk } from '../vreplication/lastpk.js';
import type { VStreamer } from '../vreplication/vstreamer.js';
import { checkStreams, describeTarget, runEpoch, VDIFF_DEFAULTS, type DifferHost, type EpochContext, type TableProgress, type VDiffLimits } from './differ.js';
import { VDiffStore, type DiffRow, type VDiffOptions, type VDiffRecord, type VDiffState } from './store.js';
import { storeValue } from './values.js';
import type { VDiffSourceConnector } from './source.js';
import type { DiffRowWire, VDiffRequest, VDiffResponse, VDiffWire } from './wire.js';

const log = logger('vdiff');

export const VDIFF_ENGINE_DEFAULTS = {
  /** --auto-retry: the wait before a VDiff that failed for a reason a retry can fix runs again. */
  retryDelayMs: 5_000,
  /** Retries of one run before the VDiff stays in error. */
  retriesMax: 10,
  /** rows: the largest page of differing rows one call returns. */
  rowsPageMax: 1_000,
};

/** A VDiff UUID as Vitess takes it: the 8-4-4-4-12 hexadecimal form. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface VDiffEngineOptions {
  readonly alias: string;
  readonly cell: string;
  readonly dbName: string;
  readonly sidecarDb: string;
  readonly keyspace: string;
  readonly shard: string;
  readonly topo: TopoServer;
  readonly limits?: Partial<VDiffLimits>;
  readonly retryDelayMs?: number;
  vreplication(): VReplicationEngine | null;
  dbaClient(): Promise<Client>;
  vstreamerFor(tablet: Tablet): VStreamer & { close?(): void };
  /** A source tablet's VDiff snapshot sessions, for chunk checksums (src/vdiff/source.ts). */
  vdiffSourceFor(tablet: Tablet): VDiffSourceConnector;
}

interface Runner {
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

export class VDiffEngine {
  readonly store: VDiffStore;
  private readonly runners = new Map<number, Runner>();
  private opened = false;
  /** The store's own connection: one statement, or one transaction, at a time. */
  private readonly storeConn: SerialConnection;
  private readonly host: DifferHost;
  /** The engine's limits (VDIFF_DEFAULTS with the tablet's overrides); read at every use. */
  readonly limits: VDiffLimits;

  constructor(private readonly o: VDiffEngineOptions) {
    this.limits = { ...VDIFF_DEFAULTS, ...o.limits };
    this.storeConn = new SerialConnection(() => o.dbaClient());
    this.store = new VDiffStore(this.storeConn, o.sidecarDb);
    this.host = {
      alias: o.alias,
      cell: o.cell,
      dbName: o.dbName,
      topo: o.topo,
      limits: this.limits,
      vreplication: () => {
        const e = o.vreplication();
        if (!e || !e.isOpen) throw new TesseraError(ER.UNKNOWN_ERROR, `VDiff: tablet ${o.alias} is not a serving primary; VDiff runs on the target primaries`, { kind: 'NOT_SERVING' });
        return e;
      },
      dbaClient: () => o.dbaClient(),
      vstreamerFor: (t) => o.vstreamerFor(t),
      vdiffSourceFor: (t) => o.vdiffSourceFor(t),
    };
  }

  get isOpen(): boolean {
    return this.opened;
  }

  /** Starts a runner for every pending or started VDiff of this database. Idempotent. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    const todo = await this.store.read({ dbName: this.o.dbName, states: ['pending', 'started'] });
    for (const v of todo) this.start(v);
    if (todo.length) log.info({ alias: this.o.alias, vdiffs: todo.length }, 'vdiff engine open, resuming');
  }

  /** Stops every runner; their VDiffs stay pending or started and resume at the next open. */
  async close(): Promise<void> {
    this.opened = false;
    const all = [...this.runners.values()];
    this.runners.clear();
    for (const r of all) r.abort.abort();
    await Promise.all(all.map((r) => r.done));
    this.storeConn.close();
  }

  private start(v: VDiffRecord): void {
    if (!this.opened || this.runners.has(v.id)) return;
    const abort = new AbortController();
    const done = this.run(v, abort.signal)
      .catch((err: Error) => log.error({ err: err.message, uuid: v.uuid }, 'vdiff runner ended unexpectedly'))
      .finally(() => {
        if (this.runners.get(v.id)?.abort === abort) this.runners.delete(v.id);
      });
    this.runners.set(v.id, { abort, done });
  }

  private async stopRunner(id: number): Promise<void> {
    const r = this.runners.get(id);
    if (!r) return;
    this.runners.delete(id);
    r.abort.abort();
    await r.done;
  }

  /** Runs a VDiff to its end: every table not completed, epoch after epoch; retries what a retry can fix. */
  private async run(v: VDiffRecord, signal: AbortSignal): Promise<void> {
    let retries = 0;
    for (;;) {
      try {
        await this.store.setState(v.id, 'started', '');
        const ctx = { rowsThisRun: 0 };
        for (const t of await this.store.tables(v.id)) {
          if (t.state === 'completed') continue;
          if (signal.aborted) return;
          const progress: TableProgress = { lastpk: t.lastpk, counts: { ...t.counts }, positions: t.positions, said: new Set(), ranges: { compared: 0, differing: 0 } };
          await this.store.setTableState(v.id, t.table, 'started', await this.estimateRows(t.table));
          if (t.lastpk !== null) await this.store.log(v.id, `table ${t.table}: going on after its last compared key ${formatLastPk(t.lastpk)} on ${this.o.alias}`);
          for (;;) {
            const ec: EpochContext = { vdiffId: v.id, uuid: v.uuid, workflow: v.workflow, table: t.table, options: v.options, store: this.store, signal, rowsThisRun: ctx.rowsThisRun };
            const end = await runEpoch(this.host, ec, progress);
            ctx.rowsThisRun = ec.rowsThisRun;
            if (end === 'stopped') return;
            if (end === 'epoch-time') {
              await this.store.log(v.id, `table ${t.table}: a new snapshot after ${v.options.core_options.max_diff_seconds}s (--max-diff-duration), from ${progress.lastpk ? formatLastPk(progress.lastpk) : 'the start'}`);
              continue;
            }
            break;
          }
          await this.store.setTableState(v.id, t.table, 'completed');
          const c = progress.counts;
          const r = progress.ranges!;
          const how = v.options.core_options.checksum ? `; chunk checksums: ${r.compared} ranges compared, rows read for ${r.differing} that differed` : '; every row streamed (--chunk-checksum=false)';
          await this.store.log(v.id, `table ${t.table} completed: ${c.ProcessedRows} rows compared, ${c.MismatchedRows} mismatched, ${c.ExtraRowsSource} extra on the source, ${c.ExtraRowsTarget} extra on the target${how}`);
        }
        if (signal.aborted) return;
        await this.store.setState(v.id, 'completed', '');
        return;
      } catch (err) {
        if (signal.aborted) return;
        const e = TesseraError.from(err);
        const retryable = v.options.core_options.auto_retry && e.kind !== 'PERMANENT' && retries < VDIFF_ENGINE_DEFAULTS.retriesMax;
        log.warn({ uuid: v.uuid, err: e.message, retryable }, 'vdiff failed');
        await this.store.log(v.id, `error: ${e.message}${retryable ? ' (retrying)' : ''}`).catch(() => undefined);
        if (!retryable) {
          await this.store.setState(v.id, 'error', e.message).catch(() => undefined);
          return;
        }
        retries++;
        await new Promise<void>((res) => {
          const tm = setTimeout(res, this.o.retryDelayMs ?? VDIFF_ENGINE_DEFAULTS.retryDelayMs);
          signal.addEventListener('abort', () => (clearTimeout(tm), res()), { once: true });
        });
        if (signal.aborted) return;
      }
    }
  }

  /** The target's row estimate of a table, for progress (InnoDB's statistics: cheap, approximate). */
  private async estimateRows(table: string): Promise<number> {
    const r = await this.sidecarQuery(
      `SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteString(this.o.dbName)} AND TABLE_NAME = ${quoteString(table)}`,
    );
    return Number(cellText(r.rows[0]?.[0]) || 0);
  }

  private sidecarQuery(sql: string): Promise<Result> {
    return this.storeConn.query(sql);
  }

  private requireOpen(): void {
    if (!this.opened) throw new TesseraError(ER.UNKNOWN_ERROR, `VDiff: tablet ${this.o.alias} is not a primary; VDiff runs on the target primaries`, { kind: 'NOT_SERVING' });
  }

  /** The tables a workflow's streams fill on this tablet. */
  private async workflowTables(workflow: string): Promise<string[]> {
    const streams = await this.host.vreplication().store.readStreams({ workflow, db: this.o.dbName });
    const out = new Set<string>();
    let all: string[] | undefined;
    for (const s of streams) {
      for (const rule of s.source.filter.rules) {
        if (rule.match.startsWith('/')) {
          all ??= (await this.sidecarQuery(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteString(this.o.dbName)} AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`)).rows.map((r) =>
            cellText(r[0]),
          );
          const re = new RegExp(rule.match.slice(1));
          for (const t of all) if (re.test(t)) out.add(t);
        } else out.add(rule.match);
      }
    }
    return [...out].sort();
  }

  async call(req: VDiffRequest): Promise<VDiffResponse> {
    switch (req.action) {
      case 'create':
        return this.create(req);
      case 'show':
        return { vdiffs: await this.show(req), rows: [] };
      case 'stop':
        return this.stop(req);
      case 'resume':
        return this.resume(req);
      case 'delete':
        return this.delete(req);
      case 'rows':
        return this.rows(req);
    }
  }

  private need(v: string | undefined, what: string): string {
    if (v === undefined || v === '') throw new TesseraError(ER.WRONG_ARGUMENTS, `VDiff ${what} is required`);
    return v;
  }

  private async create(req: VDiffRequest): Promise<VDiffResponse> {
    this.requireOpen();
    const workflow = this.need(req.workflow, 'workflow');
    const uuid = this.need(req.uuid, 'uuid').toLowerCase();
    if (!UUID_RE.test(uuid)) throw new TesseraError(ER.WRONG_ARGUMENTS, `VDiff: '${uuid}' is not a valid UUID (want the form 8-4-4-4-12 hexadecimal digits)`);
    let options: VDiffOptions;
    try {
      options = JSON.parse(req.options ?? '') as VDiffOptions;
    } catch {
      throw new TesseraError(ER.WRONG_ARGUMENTS, 'VDiff create: options must be VDiffOptions as JSON');
    }
    if ((await this.store.read({ uuid })).length > 0) throw new TesseraError(ER.DUP_ENTRY, `VDiff with UUID ${uuid} already exists on ${this.o.alias}; pick another UUID, or show/resume/delete that one`);
    await checkStreams(this.host, workflow).catch((err: unknown) => {
      // Streams still copying can be compared later (the VDiff waits, pending): only refuse what will not get better.
      const e = TesseraError.from(err);
      if (e.kind === 'PERMANENT' || e.errno === ER.WRONG_ARGUMENTS.errno) throw e;
    });
    const inWorkflow = await this.workflowTables(workflow);
    const asked = options.core_options.tables
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const notIn = asked.filter((t) => !inWorkflow.includes(t));
    if (notIn.length) {
      throw new TesseraError(ER.NO_SUCH_TABLE, `VDiff: table${notIn.length > 1 ? 's' : ''} ${notIn.join(', ')} ${notIn.length > 1 ? 'are' : 'is'} not in workflow ${workflow} (its tables: ${inWorkflow.join(', ')})`);
    }
    const tables = asked.length ? asked : inWorkflow;
    const c = await this.o.dbaClient();
    try {
      for (const t of tables) await describeTarget(c, this.o.dbName, t);
    } finally {
      c.close();
    }
    const state: VDiffState = 'pending';
    const id = await this.store.create({ uuid, workflow, keyspace: req.keyspace ?? this.o.keyspace, shard: this.o.shard, dbName: this.o.dbName, options, tables, state });
    await this.store.log(id, `created: tables ${tables.join(', ')}`);
    const rec = await this.store.readOne(id);
    if (rec && (options as VDiffOptions & { auto_start?: boolean }).auto_start !== false) this.start(rec);
    return { vdiffs: rec ? [await this.wire(rec, 0)] : [], rows: [] };
  }

  private async select(req: VDiffRequest): Promise<VDiffRecord[]> {
    const uuid = this.need(req.uuid, 'uuid (or all, last)').toLowerCase();
    const list = await this.store.read({ dbName: this.o.dbName, workflow: req.workflow });
    if (uuid === 'all') return list;
    if (uuid === 'last') return list.length ? [list[list.length - 1]] : [];
    return list.filter((v) => v.uuid === uuid);
  }

  private async show(req: VDiffRequest): Promise<VDiffWire[]> {
    const out: VDiffWire[] = [];
    for (const v of await this.select(req)) out.push(await this.wire(v, req.samples ?? 0));
    return out;
  }

  private async wire(v: VDiffRecord, samples: number): Promise<VDiffWire> {
    const tables = await this.store.tables(v.id);
    const rows: DiffRowWire[] = [];
    if (samples !== 0) {
      for (const t of tables) {
        for (const kind of ['ExtraRowsSource', 'ExtraRowsTarget', 'MismatchedRows'] as const) {
          for (const d of await this.store.diffRows(v.id, { table: t.table, kind, limit: samples > 0 ? samples : 0 })) rows.push(rowWire(d));
        }
      }
    }
    return {
      uuid: v.uuid,
      workflow: v.workflow,
      keyspace: v.keyspace,
      shard: v.shard,
      state: v.state,
      options: JSON.stringify(v.options),
      createdAt: v.createdAt,
      startedAt: v.startedAt,
      completedAt: v.completedAt,
      lastError: v.lastError,
      tables: tables.map((t) => ({
        table: t.table,
        state: t.state,
        lastpk: t.lastpk ? formatLastPk(t.lastpk) : '',
        tableRows: t.tableRows,
        rowsCompared: t.rowsCompared,
        mismatch: t.mismatch,
        processedRows: t.counts.ProcessedRows,
        matchingRows: t.counts.MatchingRows,
        mismatchedRows: t.counts.MismatchedRows,
        extraRowsSource: t.counts.ExtraRowsSource,
        extraRowsTarget: t.counts.ExtraRowsTarget,
        positions: t.positions,
      })),
      samples: rows,
    };
  }

  private async stop(req: VDiffRequest): Promise<VDiffResponse> {
    const list = await this.select(req);
    if (list.length === 0) throw notFound(req.uuid, this.o.alias);
    for (const v of list) {
      await this.stopRunner(v.id);
      if (v.state === 'pending' || v.state === 'started') {
        await this.store.setState(v.id, 'stopped');
        await this.store.log(v.id, 'stopped by request');
      }
    }
    return { vdiffs: await Promise.all(list.map(async (v) => this.wire((await this.store.readOne(v.id)) ?? v, 0))), rows: [] };
  }

  /**
   * Starts a VDiff again: a stopped or failed one goes on from each table's last compared key; a
   * completed one compares the rows after each table's last compared key (rows inserted since).
   */
  private async resume(req: VDiffRequest): Promise<VDiffResponse> {
    this.requireOpen();
    const list = await this.select(req);
    if (list.length === 0) throw notFound(req.uuid, this.o.alias);
    for (const v of list) {
      await this.stopRunner(v.id);
      await this.store.resetTables(v.id);
      await this.store.setState(v.id, 'pending', '');
      await this.store.log(v.id, `resumed (was ${v.state})`);
      const rec = await this.store.readOne(v.id);
      if (rec) this.start(rec);
    }
    return { vdiffs: await Promise.all(list.map(async (v) => this.wire((await this.store.readOne(v.id)) ?? v, 0))), rows: [] };
  }

  private async delete(req: VDiffRequest): Promise<VDiffResponse> {
    const list = await this.select(req);
    for (const v of list) await this.stopRunner(v.id);
    await this.store.delete(list.map((v) => v.id));
    return { vdiffs: [], rows: [] };
  }

  private async rows(req: VDiffRequest): Promise<VDiffResponse> {
    const list = await this.select(req);
    if (list.length === 0) throw notFound(req.uuid, this.o.alias);
    const v = list[0];
    const limit = Math.min(req.limit || VDIFF_ENGINE_DEFAULTS.rowsPageMax, VDIFF_ENGINE_DEFAULTS.rowsPageMax);
    const rows = await this.store.diffRows(v.id, { afterId: req.afterId, limit });
    return { vdiffs: [await this.wire(v, 0)], rows: rows.map(rowWire) };
  }
}

function notFound(uuid: string | undefined, alias: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, `VDiff ${uuid ?? ''} not found on ${alias}`);
}

function rowWire(d: DiffRow): DiffRowWire {
  return {
    id: d.id ?? 0,
    table: d.table,
    kind: d.kind,
    pkColumns: d.pk.columns,
    pk: d.pk.values.map(storeValue),
    columns: d.columns,
    source: d.source === null ? null : d.source.map(storeValue),
    target: d.target === null ? null : d.target.map(storeValue),
  };
}
