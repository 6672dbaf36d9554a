// The VReplication engine of one tablet: on a primary, one controller per stream of
// `_vt.vreplication` for this tablet's database; nothing on other types. The tablet manager opens
// it when the tablet is (or becomes) primary and closes it on demotion; after any restart, open()
// reloads the streams from the sidecar tables and each resumes from its saved position and keys.
//
// The engine also answers the tablet-manager calls that create, read, update and delete streams
// and wait for a stream's position — the calls ctld's Materialize and Workflow commands make.
import { GtidPosition } from '../mysql/binlog/index.js';
import type { Client } from '../mysql/client.js';
import { SerialConnection } from '../sidecar/serial-connection.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import type { Tablet, TopoServer } from '../topo/index.js';
import { Controller, ENGINE_DEFAULTS, type ControllerHost, type EngineFlags, type StreamProgress } from './controller.js';
import { formatLastPk } from './lastpk.js';
import { StreamStore, type CopyState, type NewStream, type Stream, type StreamState } from './stream-store.js';
import type { VStreamer } from './vstreamer.js';
import type { ThrottleProbe } from './throttle.js';

const log = logger('vreplication');

export interface EngineOptions {
  readonly alias: string;
  readonly cell: string;
  readonly dbName: string;
  readonly sidecarDb: string;
  readonly topo: TopoServer;
  readonly flags?: Partial<EngineFlags>;
  /** This tablet's keyspace and shard: the lag of its replicas throttles the streams. */
  readonly keyspace?: string;
  readonly shard?: string;
  /** Health of other tablets (history list, replica lag) for the throttles; the caller closes it. */
  readonly probe?: ThrottleProbe;
  dbaClient(): Promise<Client>;
  vstreamerFor(tablet: Tablet): VStreamer & { close?(): void };
}

/** One stream as Workflow show / GetWorkflows report it. */
export interface StreamStatus {
  readonly record: Stream;
  readonly copyStates: { table: string; lastPk: string | null; rowsCopied: number; bytesCopied: number }[];
  readonly logs: { id: number; type: string; state: string; message: string; count: number; createdAt: string; updatedAt: string }[];
  readonly progress: {
    rowsCopied: number;
    bytesCopied: number;
    rowsPerSecond: number;
    bytesPerSecond: number;
    lagSeconds: number | null;
    throttled: StreamProgress['throttled'];
    sourceTablet: string;
  };
}

export interface StreamUpdate {
  readonly state?: 'Running' | 'Stopped';
  readonly message?: string;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly cell?: string;
  readonly tabletTypes?: readonly string[];
  readonly stopPos?: string;
  /** Where the streams go on from (a traffic switch restarting a workflow past what it must not replay). */
  readonly pos?: string;
  /** max_tps and max_replication_lag (9223372036854775807: no limit), as decimal strings. */
  readonly maxTps?: string;
  readonly maxReplicationLag?: string;
  /** Only these streams of the workflow. */
  readonly ids?: readonly number[];
}

export const WAIT_FOR_POS_POLL_MS = 100;

/**
 * copy_state as Workflow show reports it: one entry per table. A table copied in chunks has a row
 * per chunk; its entry sums their counts and lists each chunk's place (`done` for a finished one).
 */
function copyStatesByTable(rows: readonly CopyState[]): StreamStatus['copyStates'] {
  const out: StreamStatus['copyStates'] = [];
  const byTable = new Map<string, CopyState[]>();
  for (const r of rows) {
    const list = byTable.get(r.table);
    if (list) list.push(r);
    else byTable.set(r.table, [r]);
  }
  for (const [table, chunks] of byTable) {
    const one = chunks.length === 1;
    const place = (c: CopyState) => (c.chunkDone ? 'done' : c.lastpk === null ? null : formatLastPk(c.lastpk));
    out.push({
      table,
      lastPk: one ? place(chunks[0]) : chunks.map((c, i) => `chunk ${i + 1}/${chunks.length}: ${place(c) ?? 'not started'}`).join('; '),
      rowsCopied: chunks.reduce((n, c) => n + c.rowsCopied, 0),
      bytesCopied: chunks.reduce((n, c) => n + c.bytesCopied, 0),
    });
  }
  return out;
}

export class VReplicationEngine {
  private readonly controllers = new Map<number, Controller>();
  private readonly progressById = new Map<number, StreamProgress>();
  /** Workflow names of the streams with a controller, for metrics labels. */
  private readonly workflowById = new Map<number, string>();
  private opened = false;
  private opening: Promise<void> | undefined;
  readonly flags: EngineFlags;
  /** The store's own connection: one statement, or one transaction, at a time. */
  private readonly storeConn: SerialConnection;
  readonly store: StreamStore;

  constructor(private readonly o: EngineOptions) {
    this.flags = { ...ENGINE_DEFAULTS, ...o.flags };
    this.storeConn = new SerialConnection(() => o.dbaClient());
    this.store = new StreamStore(this.storeConn, o.sidecarDb);
  }

  /** The throttles' probe, for the tablet to close at shutdown. */
  get probe(): ThrottleProbe | undefined {
    return this.o.probe;
  }

  get isOpen(): boolean {
    return this.opened;
  }

  private host(): ControllerHost {
    return {
      alias: this.o.alias,
      cell: this.o.cell,
      dbName: this.o.dbName,
      topo: this.o.topo,
      store: this.store,
      flags: this.flags,
      dbaClient: () => this.o.dbaClient(),
      vstreamerFor: (t) => this.o.vstreamerFor(t),
      progress: (id) => this.progress(id),
      probe: this.o.probe,
      target: this.o.keyspace !== undefined && this.o.shard !== undefined ? { keyspace: this.o.keyspace, shard: this.o.shard } : undefined,
    };
  }

  private progress(id: number): StreamProgress {
    let p = this.progressById.get(id);
    if (!p) {
      p = { rowsCopied: 0, bytesCopied: 0, samples: [], applied: 0, lastHeartbeat: 0, lagSeconds: null, throttled: null };
      this.progressById.set(id, p);
    }
    return p;
  }

  /** Starts a controller for every stream that is not Stopped or Error. Idempotent. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opening ??= (async () => {
      const streams = await this.store.readStreams({ db: this.o.dbName });
      this.opened = true;
      for (const s of streams) this.startController(s);
      log.info({ alias: this.o.alias, streams: streams.length }, 'vreplication engine open');
    })().finally(() => (this.opening = undefined));
    await this.opening;
  }

  /** Stops every controller (demotion, shutdown); streams stay as they are in the sidecar tables. */
  async close(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    this.opened = false;
    const all = [...this.controllers.values()];
    this.controllers.clear();
    await Promise.all(all.map((c) => c.stop()));
    this.storeConn.close();
  }

  private startController(s: Stream): void {
    if (!this.opened || s.state === 'Stopped' || s.state === 'Error') return;
    if (this.controllers.has(s.id)) return;
    const c = new Controller(s.id, this.host());
    this.controllers.set(s.id, c);
    this.workflowById.set(s.id, s.workflow);
    c.start();
  }

  private requireOpen(what: string): void {
    if (!this.opened) throw new TesseraError(ER.UNKNOWN_ERROR, `${what}: tablet ${this.o.alias} is not a primary; VReplication streams run on target primaries`, { kind: 'NOT_SERVING' });
  }

  /** Creates streams (one per source shard) and starts them unless their state is Stopped. */
  async create(streams: readonly Omit<NewStream, 'dbName'>[]): Promise<number[]> {
    this.requireOpen('create streams');
    const existing = await this.store.readStreams({ db: this.o.dbName });
    for (const s of streams) {
      if (existing.some((e) => e.workflow === s.workflow)) {
        throw new TesseraError(ER.WRONG_ARGUMENTS, `workflow ${s.workflow} already exists on tablet ${this.o.alias}; pick another name or delete it first (Workflow delete)`);
      }
    }
    const ids: number[] = [];
    for (const s of streams) ids.push(await this.store.insertStream({ ...s, dbName: this.o.dbName }));
    for (const id of ids) {
      const rec = await this.store.readStream(id);
      if (rec) this.startController(rec);
    }
    return ids;
  }

  async read(workflow?: string): Promise<StreamStatus[]> {
    const recs = await this.store.readStreams({ workflow, db: this.o.dbName });
    const out: StreamStatus[] = [];
    const now = Date.now();
    for (const r of recs) {
      const cs = await this.store.readCopyState(r.id);
      const logs = await this.store.readLog(r.id, 20);
      const p = this.progress(r.id);
      let rows = 0;
      let bytes = 0;
      let first = now;
      for (const s of p.samples) {
        if (now - s.t > 60_000) continue;
        rows += s.rows;
        bytes += s.bytes;
        first = Math.min(first, s.t);
      }
      const span = Math.max(1, (now - first) / 1000);
      out.push({
        record: r,
        copyStates: copyStatesByTable(cs),
        logs,
        progress: {
          rowsCopied: r.rowsCopied,
          bytesCopied: p.bytesCopied,
          rowsPerSecond: rows / span,
          bytesPerSecond: bytes / span,
          lagSeconds: p.lagSeconds,
          throttled: p.throttled,
          sourceTablet: this.controllers.get(r.id)?.source ?? '',
        },
      });
    }
    return out;
  }

  /** Workflow start / stop / update: changes the rows, then restarts their controllers. */
  async update(workflow: string, u: StreamUpdate): Promise<number> {
    this.requireOpen('update streams');
    const recs = (await this.store.readStreams({ workflow, db: this.o.dbName })).filter((r) => !u.ids || u.ids.includes(r.id));
    for (const r of recs) {
      // The controller stops first, so nothing it writes (a state at the end of its copy) lands
      // after this change.
      const c = this.controllers.get(r.id);
      if (c) {
        this.controllers.delete(r.id);
        await c.stop();
      }
      const state: StreamState | undefined = u.state === 'Running' ? (r.state === 'Stopped' || r.state === 'Error' ? 'Running' : undefined) : u.state;
      await this.store.updateStream(r.id, {
        state,
        message: u.message ?? (state ? '' : undefined),
        options: u.options,
        cell: u.cell,
        tabletTypes: u.tabletTypes?.join(','),
        stopPos: u.stopPos,
        pos: u.pos,
        maxTps: u.maxTps === undefined ? undefined : BigInt(u.maxTps),
        maxReplicationLag: u.maxReplicationLag === undefined ? undefined : BigInt(u.maxReplicationLag),
      });
      const rec = await this.store.readStream(r.id);
      if (rec) this.startController(rec);
    }
    return recs.length;
  }

  async delete(workflow: string): Promise<number> {
    const recs = await this.store.readStreams({ workflow, db: this.o.dbName });
    for (const r of recs) {
      const c = this.controllers.get(r.id);
      if (c) {
        this.controllers.delete(r.id);
        await c.stop();
      }
    }
    const ids = await this.store.deleteStreams(workflow, { db: this.o.dbName });
    for (const id of ids) this.progressById.delete(id);
    return ids.length;
  }

  /**
   * What /metrics reports per running stream: counted by the engine since this tablet started
   * (rows and bytes copied, target transactions), lag, and whether a throttle holds it now.
   */
  metrics(): { id: number; workflow: string; rowsCopied: number; bytesCopied: number; applied: number; lagSeconds: number | null; throttled: boolean }[] {
    const out = [];
    for (const id of this.controllers.keys()) {
      const p = this.progress(id);
      out.push({ id, workflow: this.workflowById.get(id) ?? '', rowsCopied: p.rowsCopied, bytesCopied: p.bytesCopied, applied: p.applied, lagSeconds: p.lagSeconds, throttled: p.throttled !== null });
    }
    return out;
  }

  /** Waits until stream `id` has applied `position` (VReplicationWaitForPos). */
  async waitForPos(id: number, position: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const want = GtidPosition.parse(position);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.store.readStream(id);
      if (!r) throw new TesseraError(ER.WRONG_ARGUMENTS, `stream ${id} does not exist on tablet ${this.o.alias}`);
      // During the copy phase `pos` is only where the copied part of the tables stands: rows
      // after a table's lastpk are still to come, so the position counts once the copy is done.
      if (r.pos !== '' && GtidPosition.parse(r.pos).atLeast(want) && (await this.store.readCopyState(id)).length === 0) return;
      if (r.state === 'Stopped' || r.state === 'Error') {
        throw new TesseraError(ER.UNKNOWN_ERROR, `stream ${id} is ${r.state} at ${r.pos || 'no position'} and will not reach ${want.toString()}${r.message ? `: ${r.message}` : ''}`);
      }
      if (Date.now() >= deadline || signal?.aborted) {
        throw new TesseraError(ER.LOCK_WAIT_TIMEOUT, `stream ${id} did not reach ${want.toString()} within ${timeoutMs} ms (at ${r.pos || 'no position'})`, { kind: 'DEADLINE_EXCEEDED' });
      }
      await new Promise((res) => setTimeout(res, WAIT_FOR_POS_POLL_MS));
    }
  }
}
