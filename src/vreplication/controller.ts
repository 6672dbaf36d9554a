// One stream's controller: runs on the target primary for one row of `_vt.vreplication`. It picks
// a source tablet, copies (copier.ts) while copy_state has rows, then replays the binlog
// (player.ts) until stopped. Any failure is retried after `retryDelayMs` with backoff, from the
// state saved in the sidecar tables — the same path a restart takes — until
// `maxTimeToRetryOnErrorMs` has passed without progress, or at once for errors no retry can fix;
// then the stream is left in `Error` with the last message.
import { GtidPosition } from '../mysql/binlog/index.js';
import type { Client } from '../mysql/client.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';
import { quoteIdent, quoteString } from '../sql/index.js';
import { tabletAliasString, type Tablet, type TabletType, type TopoServer } from '../topo/index.js';
import { copy, COPIER_DEFAULTS, type CopierTarget, type CopyChunkState, type CopyTableState, type CopyWorker } from './copier.js';
import { play, PLAYER_DEFAULTS, type OnDdl } from './player.js';
import { nowSeconds, WORKFLOW_SUB_TYPE, type CopyState, type Stream, type StreamStore } from './stream-store.js';
import { copyAtomic, type AtomicCopyTarget } from './atomic-copy.js';
import type { LastPk } from './lastpk.js';
import type { BinlogSource } from './binlog-source.js';
import { renamingVStreamer } from './source-filter.js';
import { deferSecondaryKeys, runPostCopyActions } from './defer-keys.js';
import { watchSourceFailures, type VStreamer } from './vstreamer.js';
import { allPurgedError, isBinlogPurged, purgedMessage, StreamThrottle, THROTTLE_DEFAULTS, throttledTarget, type ThrottleProbe } from './throttle.js';
import type { SqlText } from './sql-bytes.js';

const BEGIN_ = Buffer.from('BEGIN;');
const BEGIN_JOIN_MAX = 64 * 1024;
const _COMMIT = Buffer.from(';COMMIT');

const log = logger('vreplication');

/** Tablet flags of the engine; each can be overridden per workflow (`--config-overrides`). */
export const ENGINE_DEFAULTS = {
  /** --vreplication-retry-delay */
  retryDelayMs: 5_000,
  /** --vreplication-max-time-to-retry-on-error (0 = retry for ever) */
  maxTimeToRetryOnErrorMs: 15 * 60_000,
  /** --vreplication-copy-cycle-rows: rows of one copy cycle (one source snapshot). */
  copyCycleRowsMax: COPIER_DEFAULTS.copyCycleRowsMax,
  /** --vstream-packet-size (rows and bytes of one copy batch). */
  vstreamPacketSizeRows: COPIER_DEFAULTS.batchRowsMax,
  vstreamPacketSizeBytes: COPIER_DEFAULTS.batchBytesMax,
  /** --relay-log-max-items / --relay-log-max-size */
  relayLogMaxItems: PLAYER_DEFAULTS.relayLogMaxItems,
  relayLogMaxBytes: PLAYER_DEFAULTS.relayLogMaxBytes,
  /** --vreplication-copy-rows-per-second / -bytes-per-second (0 = no cap) */
  copyRowsPerSecond: 0,
  copyBytesPerSecond: 0,
  /** How often an idle source sends a heartbeat. */
  heartbeatIntervalMs: 1_000,
  /** --vreplication-copy-readers: chunks of one table read at once, each on its own source snapshot. */
  copyReaders: COPIER_DEFAULTS.readers,
  /** --vreplication-parallel-insert-workers: target connections inserting copy batches at once. */
  parallelInsertWorkers: COPIER_DEFAULTS.insertWorkers,
  /** --vreplication-copy-chunk-rows-min: a table is cut into chunks only above readers × this many rows. */
  copyChunkRowsMin: COPIER_DEFAULTS.chunkRowsMin,
  /** Pauses for the source's and replicas' health (throttle.ts). */
  ...THROTTLE_DEFAULTS,
};
export type EngineFlags = typeof ENGINE_DEFAULTS;

/** How a setting's value is written: a duration takes ms/s/m/h suffixes (bare = seconds), the rest plain numbers. */
export type EngineSettingUnit = 'duration' | 'count' | 'bytes';

export interface EngineSetting {
  /** The tablet flag and `--config-overrides` key (Vitess's spelling, dashes). */
  readonly name: string;
  readonly key: keyof EngineFlags;
  readonly unit: EngineSettingUnit;
  readonly what: string;
}

/**
 * Every engine setting, once: `tessera tablet --<name>` sets the tablet's default, the cluster
 * file's `tabletFlags` sets it for every tablet of `tessera up`, and `--config-overrides name=value`
 * overrides it per workflow.
 */
export const ENGINE_SETTINGS: readonly EngineSetting[] = [
  { name: 'vreplication-retry-delay', key: 'retryDelayMs', unit: 'duration', what: 'first wait before a failed stream retries (doubling up to 5m)' },
  { name: 'vreplication-max-time-to-retry-on-error', key: 'maxTimeToRetryOnErrorMs', unit: 'duration', what: 'a stream failing this long without progress goes to Error (0 = retry for ever)' },
  { name: 'vreplication-copy-cycle-rows', key: 'copyCycleRowsMax', unit: 'count', what: 'rows of one copy cycle (one source snapshot)' },
  { name: 'vstream-packet-size-rows', key: 'vstreamPacketSizeRows', unit: 'count', what: 'rows of one copy batch (one target transaction)' },
  { name: 'vstream-packet-size', key: 'vstreamPacketSizeBytes', unit: 'bytes', what: 'bytes of one copy batch' },
  { name: 'relay-log-max-items', key: 'relayLogMaxItems', unit: 'count', what: 'binlog row events of one source transaction held before its commit' },
  { name: 'relay-log-max-size', key: 'relayLogMaxBytes', unit: 'bytes', what: 'bytes of one source transaction held before its commit' },
  { name: 'vreplication-copy-rows-per-second', key: 'copyRowsPerSecond', unit: 'count', what: 'copy rate cap per stream (0 = none)' },
  { name: 'vreplication-copy-bytes-per-second', key: 'copyBytesPerSecond', unit: 'bytes', what: 'copy byte-rate cap per stream (0 = none)' },
  { name: 'vreplication-heartbeat-interval', key: 'heartbeatIntervalMs', unit: 'duration', what: 'how often an idle source sends a heartbeat' },
  { name: 'vreplication-copy-readers', key: 'copyReaders', unit: 'count', what: 'chunks of a table copied at once, each read on its own source snapshot' },
  { name: 'vreplication-parallel-insert-workers', key: 'parallelInsertWorkers', unit: 'count', what: 'target connections inserting copy batches at once' },
  { name: 'vreplication-copy-chunk-rows-min', key: 'copyChunkRowsMin', unit: 'count', what: 'a table is cut into chunks only when it has at least readers × this many rows' },
  { name: 'vreplication-copy-phase-max-innodb-history-list-length', key: 'copyPhaseMaxHistoryListLength', unit: 'count', what: 'the copy waits while the source\'s InnoDB history list is longer (0 = no check)' },
  { name: 'vreplication-copy-phase-max-mysql-replication-lag', key: 'copyPhaseMaxReplicationLagSeconds', unit: 'count', what: 'seconds; the copy waits while a replica of the source or target shard lags more (0 = no check)' },
  { name: 'vreplication-throttle-check-interval', key: 'throttleCheckIntervalMs', unit: 'duration', what: 'how often a paused stream checks again' },
];

/** The names `--config-overrides key=value` accepts (Vitess's flag names, dashes). */
export const CONFIG_OVERRIDE_NAMES: Readonly<Record<string, keyof EngineFlags>> = Object.fromEntries(ENGINE_SETTINGS.map((s) => [s.name, s.key]));

/** A setting by its name, in dashes or Vitess's underscores; undefined if there is none. */
export function engineSetting(name: string): EngineSetting | undefined {
  const n = name.trim().replace(/^-+/, '').replace(/_/g, '-');
  return ENGINE_SETTINGS.find((s) => s.name === n);
}

/** Parses a setting's value: durations take ms/s/m/h suffixes (bare = seconds), the rest plain numbers. */
export function parseOverrideValue(key: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new TesseraError(ER.WRONG_ARGUMENTS, `${key}=${text}: not a non-negative number (durations take ms, s, m or h)`);
  const n = Number(m[1]);
  const unit = m[2];
  const setting = engineSetting(key);
  // Other callers' durations (a switch's --timeout) are durations when they carry a unit.
  const isDuration = setting ? setting.unit === 'duration' : unit !== undefined || /(delay|on-error|interval)$/.test(key);
  if (!isDuration) {
    if (unit !== undefined) throw new TesseraError(ER.WRONG_ARGUMENTS, `${key}=${text}: not a duration; give a plain number`);
    return n;
  }
  return unit === 'ms' ? n : unit === 'm' ? n * 60_000 : unit === 'h' ? n * 3_600_000 : n * 1000;
}

/** The setting's default as a flag value is written (durations as `5s`, `15m`). */
export function formatSettingValue(s: EngineSetting, v: number): string {
  if (s.unit !== 'duration') return String(v);
  if (v % 3_600_000 === 0 && v > 0) return `${v / 3_600_000}h`;
  if (v % 60_000 === 0 && v > 0) return `${v / 60_000}m`;
  if (v % 1000 === 0) return `${v / 1000}s`;
  return `${v}ms`;
}

/**
 * Engine flags from `name → value` pairs (tablet flags, the cluster file's tabletFlags), each name
 * checked; an unknown one is refused naming the known ones.
 */
export function engineFlagsFrom(values: Readonly<Record<string, string | number>>, where: string): Partial<EngineFlags> {
  const out: Partial<Record<keyof EngineFlags, number>> = {};
  for (const [name, v] of Object.entries(values)) {
    const s = engineSetting(name);
    if (!s) throw new TesseraError(ER.WRONG_ARGUMENTS, `${where}: unknown engine setting '${name}'; known: ${ENGINE_SETTINGS.map((x) => x.name).join(', ')}`);
    out[s.key] = parseOverrideValue(s.name, String(v));
  }
  return out as Partial<EngineFlags>;
}

export function flagsFor(base: EngineFlags, options: Readonly<Record<string, unknown>>): EngineFlags {
  const config = options.config;
  if (config === null || typeof config !== 'object') return base;
  const out = { ...base };
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
    const name = CONFIG_OVERRIDE_NAMES[k];
    if (name) out[name] = parseOverrideValue(k, String(v));
  }
  return out;
}

export interface ControllerHost {
  readonly alias: string;
  readonly cell: string;
  readonly dbName: string;
  readonly topo: TopoServer;
  readonly store: StreamStore;
  readonly flags: EngineFlags;
  dbaClient(): Promise<Client>;
  vstreamerFor(tablet: Tablet): VStreamer & { close?(): void };
  /** Progress for status and metrics: rows and bytes copied per table, applied since start. */
  progress(id: number): StreamProgress;
  /** Health of other tablets for the throttles; none: only the rate caps and max_tps apply. */
  readonly probe?: ThrottleProbe;
  /** This tablet's shard: its replicas' lag throttles the stream too. */
  readonly target?: { readonly keyspace: string; readonly shard: string };
}

export interface StreamProgress {
  rowsCopied: number;
  bytesCopied: number;
  /** Recent copy samples (time ms, rows) for the rate over the last minute. */
  samples: { t: number; rows: number; bytes: number }[];
  /** Target transactions committed (copy batches and replayed ones): progress, for the retry budget. */
  applied: number;
  lastHeartbeat: number;
  lagSeconds: number | null;
  /** Why the stream waits now, if it does. */
  throttled: { component: string; reason: string; since: number } | null;
}

const PERMANENT_ERRNOS = new Set([1062, 1146, 1054, 1136, 1366, 1264, 1406, 1265, 1048, 1364, 1452, 1451, 1049]);

function isPermanent(err: unknown): boolean {
  const e = err as { kind?: string; errno?: number };
  if (e.kind === 'PERMANENT') return true;
  return typeof e.errno === 'number' && PERMANENT_ERRNOS.has(e.errno);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const TYPE_PREFERENCE_DEFAULT: readonly TabletType[] = ['replica', 'primary'];

export class Controller {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private sourceTablet = '';
  /** The source tablet whose stream failed last: the next pick takes another one if there is one. */
  private failedSource = '';
  private sourceRecord: Tablet | undefined;
  /** Source tablets that answered 1236 (binlogs purged), with what they lack: not picked again by this controller. */
  private readonly purged = new Map<string, string>();

  constructor(
    readonly id: number,
    private readonly host: ControllerHost,
  ) {}

  get source(): string {
    return this.sourceTablet;
  }

  start(): void {
    this.running ??= this.loop().catch((err: Error) => log.error({ err: err.message, id: this.id }, 'controller ended unexpectedly'));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    let firstFailure = 0;
    let appliedAtFailure = -1;
    let delay = this.host.flags.retryDelayMs;
    while (!signal.aborted) {
      let rec: Stream | null = null;
      try {
        rec = await this.host.store.readStream(this.id);
        if (!rec || rec.state === 'Stopped' || rec.state === 'Error') return;
        await this.runOnce(rec, signal);
        return;
      } catch (err) {
        if (signal.aborted) return;
        const e = TesseraError.from(err);
        if (isBinlogPurged(err) && e.kind !== 'PERMANENT' && this.sourceRecord) {
          // This source lacks what the stream needs; another tablet of the shard may still have it.
          // The position the source refused: the stream may have moved on since `rec` was read.
          const latest = await this.host.store.readStream(this.id).catch(() => null);
          const message = await purgedMessage(this.host.probe, this.sourceRecord, latest?.pos ?? rec?.pos ?? '', e);
          this.purged.set(tabletAliasString(this.sourceRecord.alias), message);
          log.warn({ id: this.id, source: this.sourceTablet, message }, 'source binlogs purged; trying another source tablet');
          await this.host.store.setMessage(this.id, message).catch(() => undefined);
          await this.host.store.log(this.id, 'Error', rec?.state ?? 'Running', message).catch(() => undefined);
          continue;
        }
        const flags = rec ? flagsFor(this.host.flags, rec.options) : this.host.flags;
        const now = Date.now();
        // Progress since the last failure restarts the retry budget and the backoff.
        const applied = this.host.progress(this.id).applied;
        if (applied !== appliedAtFailure) {
          firstFailure = now;
          delay = flags.retryDelayMs;
          appliedAtFailure = applied;
        }
        const giveUp = isPermanent(err) || (flags.maxTimeToRetryOnErrorMs > 0 && now - firstFailure >= flags.maxTimeToRetryOnErrorMs);
        const message = giveUp ? e.message : `${e.message} (retrying in ${Math.round(delay / 1000)}s)`;
        log.warn({ id: this.id, err: e.message, giveUp }, 'stream failed');
        // A retried stream keeps its state (Copying, Running) with the error as its message; only
        // an error no retry fixes, or retrying for too long, leaves it in Error (terminal until
        // `Workflow start`).
        if (giveUp) await this.host.store.setState(this.id, 'Error', message).catch(() => undefined);
        else await this.host.store.setMessage(this.id, message).catch(() => undefined);
        await this.host.store.log(this.id, 'Error', giveUp ? 'Error' : 'Retrying', e.message).catch(() => undefined);
        if (giveUp) return;
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 5 * 60_000);
      }
    }
  }

  /** Picks a source tablet of the source shard: the stream's tablet types in order, its cell first. */
  private async pickSource(src: BinlogSource, rec: Stream): Promise<Tablet> {
    const listed = rec.tabletTypes.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
    const types = src.tabletType ? [src.tabletType.toLowerCase()] : listed.length > 0 ? listed : TYPE_PREFERENCE_DEFAULT;
    const listedTablets = await this.host.topo.getTablets({ keyspace: src.keyspace, shard: src.shard });
    // A dead tablet stays in the topology: after its stream failed, any other tablet of the
    // wanted types goes first, and it only when it is the only one.
    const failed = this.failedSource;
    this.failedSource = '';
    const others = listedTablets.filter((x) => tabletAliasString(x.alias) !== failed);
    const cells = rec.cell ? rec.cell.split(',').map((c) => c.trim()).filter((c) => c) : [];
    const usable = (x: Tablet) => types.includes(x.type) && (cells.length === 0 || cells.includes(x.alias.cell)) && !!x.port_map.grpc && !this.purged.has(tabletAliasString(x.alias));
    const all = failed !== '' && others.some(usable) ? others : listedTablets;
    for (const t of types) {
      const matching = all.filter((x) => x.type === t && (cells.length === 0 || cells.includes(x.alias.cell)) && x.port_map.grpc && !this.purged.has(tabletAliasString(x.alias)));
      const local = matching.filter((x) => x.alias.cell === this.host.cell);
      const pool = local.length > 0 ? local : matching;
      // Random among equals: a retry after a source failed may land on another tablet.
      if (pool.length > 0) return pool[Math.floor(Math.random() * pool.length)];
    }
    if (this.purged.size > 0) throw allPurgedError(rec.workflow, src.keyspace, src.shard, types, rec.pos, [...this.purged.values()]);
    throw new TesseraError(ER.UNKNOWN_ERROR, `vreplication: no ${types.join(' or ')} tablet of ${src.keyspace}/${src.shard}${cells.length ? ` in ${cells.join(',')}` : ''} to stream from`, { kind: 'UNAVAILABLE' });
  }

  /** Runs the stream until it stops (stop position, DDL, stop after copy), is aborted, or fails. */
  private async runOnce(rec: Stream, signal: AbortSignal): Promise<void> {
    const src = rec.source;
    const flags = flagsFor(this.host.flags, rec.options);
    const tablet = await this.pickSource(src, rec);
    this.sourceTablet = tabletAliasString(tablet.alias);
    this.sourceRecord = tablet;
    const source = this.host.vstreamerFor(tablet);
    // The source is asked in its own table names (a select rule may fill a differently named table).
    const vs = renamingVStreamer(
      watchSourceFailures(source, () => (this.failedSource = this.sourceTablet)),
      src.filter,
    );
    const target = new SqlTarget(this.id, this.host, rec);
    const throttle = new StreamThrottle({
      id: this.id,
      store: this.host.store,
      topo: this.host.topo,
      probe: this.host.probe,
      progress: this.host.progress(this.id),
      flags,
      source: tablet,
      target: this.host.target,
      maxTps: rec.maxTps,
      maxReplicationLag: rec.maxReplicationLag,
      signal,
    });
    try {
      await target.open();
      const copyRows = await this.host.store.readCopyState(this.id);
      // Keys a copy deferred whose table finished just before a crash are added back first.
      await target.endTable('', copyRows.map((r) => r.table));
      let pos = rec.pos === '' ? GtidPosition.EMPTY : GtidPosition.parse(rec.pos);
      // An atomic copy (MoveTables --atomic-copy): all tables from one snapshot (atomic-copy.ts).
      const atomic = rec.workflowSubType === WORKFLOW_SUB_TYPE.AtomicCopy;
      if (copyRows.length > 0) {
        if (rec.state !== 'Copying') await this.host.store.setState(this.id, 'Copying', '');
        if (atomic) {
          const end = await copyAtomic(vs, target, copyRows, {
            filter: src.filter,
            signal,
            batchRowsMax: flags.vstreamPacketSizeRows,
            batchBytesMax: flags.vstreamPacketSizeBytes,
            beforeCycle: () => throttle.beforeCopyCycle(),
            beforeBatch: (rows, bytes) => throttle.beforeCopyBatch(rows, bytes),
            onRestart: (tables) =>
              this.host.store.log(this.id, 'Message', 'Copying', `Atomic copy restarted from a fresh snapshot: ${tables.join(', ')} emptied on the target and copied again`),
          });
          if (end === undefined || signal.aborted) return;
          pos = end;
          // Its deferred secondary keys come back once every table is in.
          await target.endTable('', []);
        } else {
          pos = await copy(vs, target, pos, copyTablesOf(copyRows), {
            filter: src.filter,
            onDdl: src.onDdl as OnDdl,
            signal,
            copyCycleRowsMax: flags.copyCycleRowsMax,
            batchRowsMax: flags.vstreamPacketSizeRows,
            batchBytesMax: flags.vstreamPacketSizeBytes,
            relayLogMaxItems: flags.relayLogMaxItems,
            relayLogMaxBytes: flags.relayLogMaxBytes,
            readers: flags.copyReaders,
            insertWorkers: flags.parallelInsertWorkers,
            chunkRowsMin: flags.copyChunkRowsMin,
            beforeCycle: () => throttle.beforeCopyCycle(),
            beforeBatch: (rows, bytes) => throttle.beforeCopyBatch(rows, bytes),
          });
          if (signal.aborted) return;
        }
        await this.host.store.log(this.id, 'CopyCompleted', 'Running', `Copy phase completed at gtid ${pos.toString()}`);
        if (src.stopAfterCopy) {
          await this.host.store.setState(this.id, 'Stopped', 'Stopped after copy');
          return;
        }
      }
      // Tables tied by foreign keys replicate with the target's constraints on: MariaDB leaves the
      // rows an ON DELETE CASCADE removes out of the binlog, so the target's own cascade removes them.
      if (atomic) await target.foreignKeyChecks(true);
      await this.host.store.setState(this.id, 'Running', '');
      const stopAt = rec.stopPos ? GtidPosition.parse(rec.stopPos) : undefined;
      const end = await play(vs, throttledTarget(target, throttle), {
        from: pos,
        stopAt,
        filter: src.filter,
        onDdl: src.onDdl as OnDdl,
        signal,
        relayLogMaxItems: flags.relayLogMaxItems,
        relayLogMaxBytes: flags.relayLogMaxBytes,
        heartbeatIntervalMs: flags.heartbeatIntervalMs,
      });
      if (end.reason === 'stop-position') {
        await this.host.store.setState(this.id, 'Stopped', `Stopped at position ${end.position.toString()}`);
        await this.host.store.log(this.id, 'Stopped', 'Stopped', `Reached stopping position ${end.position.toString()}`);
      } else if (end.reason === 'ddl-stop') {
        await this.host.store.setState(this.id, 'Stopped', `Stopped at DDL ${end.statement}`);
        await this.host.store.log(this.id, 'Stopped', 'Stopped', `Stopped at DDL (on_ddl STOP): ${end.statement}`);
      }
    } finally {
      await throttle.end();
      target.close();
      source.close?.();
    }
  }
}

/** copy_state rows as the copier holds them: per table in the order they were added, a chunk per row. */
function copyTablesOf(rows: readonly CopyState[]): CopyTableState[] {
  const out: CopyTableState[] = [];
  for (const r of rows) {
    let t = out.find((x) => x.table === r.table);
    if (!t) out.push((t = { table: r.table, chunks: [] }));
    t.chunks.push(chunkOf(r));
  }
  return out;
}

function chunkOf(r: CopyState): CopyChunkState {
  return { rowId: r.rowId, lastPk: r.lastpk === null ? null : [...r.lastpk.values], endPk: r.chunkEnd === null ? null : [...r.chunkEnd.values], done: r.chunkDone };
}

/** The target side of one stream, on the target primary's own MariaDB as vt_dba. */
class SqlTarget implements CopierTarget, CopyWorker, AtomicCopyTarget {
  private client: Client | undefined;
  private readonly keys = new Map<string, readonly string[]>();
  readonly dbName: string;
  private readonly deferSecondaryKeys: boolean;

  constructor(
    private readonly id: number,
    private readonly host: ControllerHost,
    private readonly rec: Stream,
  ) {
    this.dbName = rec.dbName || host.dbName;
    this.deferSecondaryKeys = rec.deferSecondaryKeys;
  }

  async open(): Promise<void> {
    this.client = await this.host.dbaClient();
    // Rows from the source are in UTC (snapshot and binlog alike).
    await this.client.query("SET SESSION time_zone = '+00:00'");
    await this.client.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
    await this.client.query('SET SESSION foreign_key_checks = 0');
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  private get c(): Client {
    if (!this.client) throw new TesseraError(ER.UNKNOWN_ERROR, 'vreplication: target connection is closed');
    return this.client;
  }

  async keyColumns(table: string): Promise<readonly string[]> {
    const hit = this.keys.get(table);
    if (hit) return hit;
    const r = await this.c.query(
      `SELECT INDEX_NAME, COLUMN_NAME, NULLABLE, NON_UNIQUE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${quoteString(this.dbName)} AND TABLE_NAME = ${quoteString(table)} ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    );
    if (r.rows.length === 0) {
      const t = await this.c.query(`SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteString(this.dbName)} AND TABLE_NAME = ${quoteString(table)}`);
      if (t.rows.length === 0) throw new TesseraError(ER.NO_SUCH_TABLE, `vreplication: target table ${this.dbName}.${table} does not exist; create it (or use create_ddl "copy")`, { kind: 'PERMANENT' });
    }
    const byIndex = new Map<string, { cols: string[]; ok: boolean }>();
    for (const row of r.rows) {
      const name = String(row[0]);
      const e = byIndex.get(name) ?? { cols: [], ok: Number(row[3]) === 0 };
      e.cols.push(String(row[1]));
      if (String(row[2]) === 'YES') e.ok = false;
      byIndex.set(name, e);
    }
    for (const e of byIndex.values()) {
      if (e.ok) {
        this.keys.set(table, e.cols);
        return e.cols;
      }
    }
    throw new TesseraError(ER.WRONG_ARGUMENTS, `vreplication: target table ${this.dbName}.${table} has no primary key or unique NOT NULL key; add a primary key`, { kind: 'PERMANENT' });
  }

  /**
   * Runs statements as one transaction. BEGIN travels in the first statement's round trip and
   * COMMIT in the last's: MariaDB stops a multi-statement query at its first error, so nothing
   * after a failed statement runs, the COMMIT included, and the ROLLBACK undoes the rest. Two round
   * trips fewer per transaction, which is what a stream of small source transactions waits on. (A
   * first or last statement of more than BEGIN_JOIN_MAX bytes gets its BEGIN or COMMIT apart:
   * copying it costs more than the round trip.)
   */
  private async txn(stmts: readonly SqlText[]): Promise<void> {
    const c = this.c;
    const last = stmts.length - 1;
    if (last < 0) return;
    try {
      for (let i = 0; i <= last; i++) {
        let s = stmts[i];
        if (i === 0) {
          if (typeof s === 'string') s = 'BEGIN;' + s;
          else if (s.length <= BEGIN_JOIN_MAX) s = Buffer.concat([BEGIN_, s]);
          else await c.query('BEGIN');
        }
        if (i < last) {
          await c.query(s);
        } else if (typeof s === 'string') {
          await c.query(s + ';COMMIT');
        } else if (s.length <= BEGIN_JOIN_MAX) {
          await c.query(Buffer.concat([s, _COMMIT]));
        } else {
          await c.query(s);
          await c.query('COMMIT');
        }
      }
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async applyTransaction(statements: readonly SqlText[], position: GtidPosition, transactionTimestamp: number, rowsApplied: number): Promise<void> {
    void rowsApplied;
    await this.txn([...statements, this.host.store.sqlSetPos(this.id, position.toString(), nowSeconds(), transactionTimestamp)]);
    const p = this.host.progress(this.id);
    p.applied += 1;
    p.lagSeconds = transactionTimestamp > 0 ? Math.max(0, Math.round(Date.now() / 1000 - transactionTimestamp)) : p.lagSeconds;
  }

  async applyDdl(statement: string, position: GtidPosition): Promise<void> {
    const c = this.c;
    await c.query(`USE ${quoteIdent(this.dbName)}`);
    await c.query(statement);
    this.keys.clear();
    await c.query(this.host.store.sqlSetPos(this.id, position.toString(), nowSeconds(), 0));
  }

  async heartbeat(lagSeconds: number): Promise<void> {
    const p = this.host.progress(this.id);
    p.lastHeartbeat = Date.now();
    p.lagSeconds = lagSeconds;
    await this.c.query(this.host.store.sqlSetHeartbeat(this.id, nowSeconds()));
  }

  async applyCopyBatch(sql: SqlText | null, table: string, lastPk: LastPk | null, done: boolean, position: GtidPosition, rows: number, bytes: number): Promise<void> {
    const stmts: SqlText[] = [];
    if (sql) stmts.push(sql);
    if (done || lastPk === null) stmts.push(this.host.store.sqlDeleteCopyState(this.id, table));
    else stmts.push(this.host.store.sqlSetCopyState(this.id, table, lastPk, rows, bytes));
    // Added, not set: copy workers add their batches' rows on connections of their own.
    stmts.push(this.host.store.sqlSetPos(this.id, position.toString(), nowSeconds(), 0, undefined, rows));
    await this.txn(stmts);
    this.counted(rows, bytes);
  }

  async applyChunkBatch(sql: SqlText | null, rowId: number, lastPk: LastPk | null, done: boolean, rows: number, bytes: number): Promise<void> {
    const stmts: SqlText[] = [];
    if (sql) stmts.push(sql);
    stmts.push(this.host.store.sqlSetChunkState(rowId, lastPk, rows, bytes, done));
    if (rows > 0) stmts.push(this.host.store.sqlAddRowsCopied(this.id, rows, nowSeconds()));
    await this.txn(stmts);
    this.counted(rows, bytes);
  }

  async splitTable(table: string, ends: readonly LastPk[]): Promise<CopyChunkState[]> {
    await this.txn(this.host.store.sqlSplitCopyState(this.id, table, ends));
    const rows = await this.host.store.readCopyState(this.id);
    return rows.filter((r) => r.table === table).map(chunkOf);
  }

  async openCopyWorker(): Promise<CopyWorker> {
    const w = new SqlTarget(this.id, this.host, this.rec);
    await w.open();
    return w;
  }

  private counted(rows: number, bytes: number): void {
    const p = this.host.progress(this.id);
    p.applied += 1;
    p.rowsCopied += rows;
    p.bytesCopied += bytes;
    const now = Date.now();
    p.samples.push({ t: now, rows, bytes });
    while (p.samples.length > 0 && now - p.samples[0].t > 60_000) p.samples.shift();
  }

  async beginTable(table: string): Promise<void> {
    if (this.deferSecondaryKeys) await deferSecondaryKeys(this.c, this.host.store, this.id, this.dbName, table);
  }

  async endTable(_table: string, remaining: readonly string[]): Promise<void> {
    await runPostCopyActions(this.c, this.host.store, this.id, new Set(remaining));
  }

  async restartAtomicCopy(tables: readonly string[]): Promise<void> {
    // foreign_key_checks is off on this session: a parent table empties though children refer to it.
    for (const t of tables) await this.c.query(`TRUNCATE TABLE ${quoteIdent(this.dbName)}.${quoteIdent(t)}`);
    await this.txn(this.host.store.sqlRestartCopyState(this.id));
    const p = this.host.progress(this.id);
    p.rowsCopied = 0;
    p.bytesCopied = 0;
    p.samples = [];
  }

  async finishAtomicCopy(position: GtidPosition): Promise<void> {
    await this.txn([this.host.store.sqlDeleteAllCopyState(this.id), this.host.store.sqlSetPos(this.id, position.toString(), nowSeconds(), 0)]);
  }

  async foreignKeyChecks(on: boolean): Promise<void> {
    await this.c.query(`SET SESSION foreign_key_checks = ${on ? 1 : 0}`);
  }

  async savePosition(position: GtidPosition): Promise<void> {
    await this.c.query(this.host.store.sqlSetPos(this.id, position.toString(), nowSeconds(), 0));
  }
}
