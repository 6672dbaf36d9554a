// The tablet-manager method table: for each method of TabletManagerClient, how a request is checked
// and what it does on the TabletManager. The RPC server (`tm.<Method>`) and the in-process client
// both run requests through it, so a bad request is refused alike in both modes and the network
// adds nothing but the wire. Also the pieces both clients share: deadlines, error wording, tablet
// lookup. See tablet-manager-client.ts for the contract and for how to add a method.
import { ER, TesseraError } from '../mysql/errors.js';
import type { Json, RpcServer } from '../rpc/index.js';
import { TABLET_TYPES, parseTabletAlias, tabletAliasString, type Tablet, type TabletType, type TopoServer } from '../topo/index.js';
import { REPLICATION_DEFAULTS } from './replication.js';
import type { TabletManager } from './tablet-manager.js';
import { vreplicationCreate, vreplicationDelete, vreplicationRead, vreplicationUpdate, vreplicationWaitForPos } from './vreplication-service.js';
import { VDIFF_ACTIONS } from '../vdiff/wire.js';
import { tmWireName, type TabletRef, type TmMethod, type TmRequest, type TmResponse } from './tablet-manager-client.js';

export const TM_METHOD_DEFAULTS = {
  /** WaitForPosition without a timeoutMs. */
  waitForPositionTimeoutMs: 30_000,
  /** StopReplicationAndApplyRelay without a timeoutMs. */
  applyRelayTimeoutMs: 30_000,
};

/**
 * Reads one request's fields, each with its type, and remembers which were read: `finish` then
 * refuses any other field, so a misspelt option fails instead of being silently ignored. Every
 * refusal is ER.WRONG_ARGUMENTS naming the method and the field.
 */
export class RequestReader {
  private readonly fields: Record<string, unknown>;
  private readonly read = new Set<string>();

  constructor(
    readonly method: string,
    raw: unknown,
  ) {
    if (raw === null || raw === undefined) this.fields = {};
    else if (typeof raw === 'object' && !Array.isArray(raw)) this.fields = raw as Record<string, unknown>;
    else throw this.bad(`the request must be a JSON object, not ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }

  private bad(what: string): TesseraError {
    return new TesseraError(ER.WRONG_ARGUMENTS, `${this.method}: ${what}`);
  }

  private value(name: string): unknown {
    this.read.add(name);
    const v = Object.hasOwn(this.fields, name) ? this.fields[name] : undefined;
    return v === null ? undefined : v;
  }

  optString(name: string): string | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.bad(`'${name}' must be a string`);
    return v;
  }

  /** A required string, not empty. */
  string(name: string): string {
    const v = this.optString(name);
    if (v === undefined || v === '') throw this.bad(`'${name}' is required`);
    return v;
  }

  optInt(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw this.bad(`'${name}' must be an integer`);
    if (v < min || v > max) throw this.bad(`'${name}' must be between ${min} and ${max}, not ${v}`);
    return v;
  }

  int(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.optInt(name, min, max);
    if (v === undefined) throw this.bad(`'${name}' is required`);
    return v;
  }

  optBool(name: string): boolean | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.bad(`'${name}' must be true or false`);
    return v;
  }

  bool(name: string): boolean {
    const v = this.optBool(name);
    if (v === undefined) throw this.bad(`'${name}' is required`);
    return v;
  }

  optTabletType(name: string): TabletType | undefined {
    const v = this.optString(name);
    if (v === undefined) return undefined;
    if (!(TABLET_TYPES as readonly string[]).includes(v)) throw this.bad(`'${name}' must be one of ${TABLET_TYPES.join(', ')}, not '${v}'`);
    return v as TabletType;
  }

  optStringList(name: string): string[] | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw this.bad(`'${name}' must be a list of strings`);
    return v as string[];
  }

  optIntList(name: string, min: number): number[] | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < min)) throw this.bad(`'${name}' must be a list of integers of at least ${min}`);
    return v as number[];
  }

  /** A list of objects, each read by its own reader (named `method.name[i]`) and finished. */
  objectList<T>(name: string, read: (r: RequestReader) => T): T[] {
    const v = this.value(name);
    if (!Array.isArray(v)) throw this.bad(`'${name}' must be a list`);
    return v.map((item, i) => {
      const r = new RequestReader(`${this.method}.${name}[${i}]`, item);
      const out = read(r);
      r.finish();
      return out;
    });
  }

  /** A non-negative integer up to 2^63-1 as a decimal string (JSON numbers lose such values). */
  optDecimal(name: string): string | undefined {
    const v = this.optString(name);
    if (v === undefined) return undefined;
    if (!/^\d{1,19}$/.test(v) || BigInt(v) > 9223372036854775807n) throw this.bad(`'${name}' must be a decimal integer from 0 to 9223372036854775807, not '${v}'`);
    return v;
  }

  /** One of `choices`, or undefined when absent. */
  optChoice<C extends string>(name: string, choices: readonly C[]): C | undefined {
    const v = this.optString(name);
    if (v === undefined) return undefined;
    if (!(choices as readonly string[]).includes(v)) throw this.bad(`'${name}' must be one of ${choices.join(', ')}, not '${v}'`);
    return v as C;
  }

  tabletType(name: string): TabletType {
    const v = this.optTabletType(name);
    if (v === undefined) throw this.bad(`'${name}' is required`);
    return v;
  }

  finish(): void {
    const unknown = Object.keys(this.fields).filter((k) => !this.read.has(k));
    if (unknown.length > 0) {
      const known = [...this.read].join(', ') || 'none';
      throw this.bad(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (it takes: ${known}); is this tablet older than its caller?`);
    }
  }
}

export interface TmMethodSpec<Req, Resp> {
  /** Builds the typed request from what arrived, through the reader (which refuses the rest). */
  validate(r: RequestReader): Req;
  /** Runs it on the tablet. `signal` fires when the caller gives up (deadline, cancel, disconnect). */
  call(tm: TabletManager, req: Req, signal: AbortSignal): Promise<Resp>;
  /** For methods that wait on the tablet: how long, added to the caller's default deadline. */
  waitMs?(req: Req): number;
}

const none = (): Record<string, never> => ({});

/** One entry per method; a method missing here, or typed differently from the interface, does not compile. */
export const TM_METHODS: { readonly [M in TmMethod]: TmMethodSpec<TmRequest<M>, TmResponse<M>> } = {
  ping: { validate: none, call: async (tm) => void (await tm.ping()) },
  getSchema: { validate: none, call: async (tm) => ({ tables: await tm.getSchema() }) },
  reloadSchema: { validate: none, call: (tm) => tm.reloadSchema() },
  applySchema: { validate: (r) => ({ sql: r.string('sql') }), call: (tm, q) => tm.applySchema(q.sql) },
  executeFetchAsDba: {
    validate: (r) => ({
      sql: r.string('sql'),
      maxRows: r.optInt('maxRows', 0),
      disableBinlogs: r.optBool('disableBinlogs'),
      reloadSchema: r.optBool('reloadSchema'),
      database: r.optString('database'),
    }),
    call: (tm, q) => tm.executeFetchAsDba(q.sql, q),
  },
  executeFetchAsApp: {
    validate: (r) => ({ sql: r.string('sql'), maxRows: r.optInt('maxRows', 0) }),
    call: (tm, q) => tm.executeFetchAsApp(q.sql, q),
  },
  changeType: { validate: (r) => ({ tabletType: r.tabletType('tabletType') }), call: async (tm, q) => ({ tablet: await tm.changeType(q.tabletType) }) },
  setReadOnly: { validate: none, call: (tm) => tm.setReadOnly(true) },
  setReadWrite: { validate: none, call: (tm) => tm.setReadOnly(false) },
  refreshState: { validate: none, call: (tm) => tm.refreshState() },
  primaryPosition: { validate: none, call: async (tm) => ({ position: await tm.primaryPosition() }) },
  waitForPosition: {
    validate: (r) => ({ position: r.string('position'), timeoutMs: r.optInt('timeoutMs', 0) }),
    call: (tm, q) => tm.waitForPosition(q.position, q.timeoutMs ?? TM_METHOD_DEFAULTS.waitForPositionTimeoutMs),
    waitMs: (q) => q.timeoutMs ?? TM_METHOD_DEFAULTS.waitForPositionTimeoutMs,
  },
  getHealth: { validate: none, call: async (tm) => tm.server.healthState() },
  fullStatus: { validate: none, call: (tm) => tm.replication.fullStatus() },
  replicationStatus: { validate: none, call: async (tm) => ({ status: await tm.replication.status() }) },
  stopReplication: { validate: none, call: (tm) => tm.replication.stopReplication() },
  startReplication: { validate: (r) => ({ semiSync: r.optBool('semiSync') }), call: (tm, q) => tm.replication.startReplication(q.semiSync) },
  stopReplicationAndApplyRelay: {
    validate: (r) => ({ timeoutMs: r.optInt('timeoutMs', 0) }),
    call: (tm, q) => tm.replication.stopReplicationAndApplyRelay(q.timeoutMs ?? TM_METHOD_DEFAULTS.applyRelayTimeoutMs),
    waitMs: (q) => q.timeoutMs ?? TM_METHOD_DEFAULTS.applyRelayTimeoutMs,
  },
  setReplicationSource: {
    validate: (r) => ({
      host: r.string('host'),
      port: r.int('port', 1, 65_535),
      semiSync: r.bool('semiSync'),
      primaryPosition: r.optString('primaryPosition'),
      tabletType: r.optTabletType('tabletType'),
      start: r.optBool('start'),
    }),
    call: (tm, q) => tm.replication.setSource({ ...q, start: q.start !== false }),
  },
  resetReplication: { validate: (r) => ({ resetBinlogs: r.optBool('resetBinlogs') }), call: (tm, q) => tm.replication.resetReplication(q.resetBinlogs === true) },
  demotePrimary: {
    validate: (r) => ({ timeoutMs: r.optInt('timeoutMs', 0) }),
    call: (tm, q) => tm.replication.demotePrimary(q.timeoutMs ?? REPLICATION_DEFAULTS.demoteDrainTimeoutMs),
    waitMs: (q) => q.timeoutMs ?? REPLICATION_DEFAULTS.demoteDrainTimeoutMs,
  },
  undoDemotePrimary: { validate: (r) => ({ semiSync: r.bool('semiSync') }), call: (tm, q) => tm.replication.undoDemotePrimary(q.semiSync) },
  promoteReplica: {
    validate: (r) => ({ semiSync: r.bool('semiSync'), primaryTermStartTime: r.string('primaryTermStartTime') }),
    call: (tm, q) => tm.replication.promote(q.semiSync, q.primaryTermStartTime),
  },
  populateReparentJournal: {
    validate: (r) => ({ actionName: r.string('actionName'), primaryAlias: r.string('primaryAlias'), position: r.string('position'), timeoutMs: r.optInt('timeoutMs', 1) }),
    call: (tm, q) => tm.replication.writeJournal(q.actionName, q.primaryAlias, q.position, q.timeoutMs ?? REPLICATION_DEFAULTS.journalTimeoutMs),
    waitMs: (q) => q.timeoutMs ?? REPLICATION_DEFAULTS.journalTimeoutMs,
  },
  setSemiSync: { validate: (r) => ({ primary: r.bool('primary'), replica: r.bool('replica') }), call: (tm, q) => tm.replication.setSemiSync(q.primary, q.replica) },
  // VReplication (vreplication-service.ts): the streams of a workflow on a target primary.
  createVReplicationWorkflow: {
    validate: (r) => ({
      streams: r.objectList('streams', (s) => ({
        workflow: s.string('workflow'),
        source: s.string('source'),
        cell: s.optString('cell') ?? '',
        tabletTypes: s.optStringList('tabletTypes') ?? [],
        state: s.optChoice('state', ['Init', 'Stopped'] as const) ?? 'Init',
        workflowType: s.optInt('workflowType', 0, 5) ?? 0,
        workflowSubType: s.optInt('workflowSubType', 0, 2) ?? 0,
        deferSecondaryKeys: s.optBool('deferSecondaryKeys') ?? false,
        options: s.optString('options') ?? '{}',
        stopPos: s.optString('stopPos') ?? '',
        pos: s.optString('pos') ?? '',
        copyTables: s.optStringList('copyTables') ?? [],
      })),
    }),
    call: async (tm, q) => ({ ids: await vreplicationCreate(tm, q.streams) }),
  },
  readVReplicationWorkflow: {
    validate: (r) => ({ workflow: r.optString('workflow') }),
    call: async (tm, q) => ({ streams: await vreplicationRead(tm, q.workflow) }),
  },
  updateVReplicationWorkflow: {
    validate: (r) => ({
      workflow: r.string('workflow'),
      ids: r.optIntList('ids', 1),
      state: r.optChoice('state', ['Running', 'Stopped'] as const),
      message: r.optString('message'),
      pos: r.optString('pos'),
      options: r.optString('options'),
      cell: r.optString('cell'),
      tabletTypes: r.optStringList('tabletTypes'),
      stopPos: r.optString('stopPos'),
      maxTps: r.optDecimal('maxTps'),
      maxReplicationLag: r.optDecimal('maxReplicationLag'),
    }),
    call: async (tm, q) => ({ streams: await vreplicationUpdate(tm, q) }),
  },
  deleteVReplicationWorkflow: {
    validate: (r) => ({ workflow: r.string('workflow') }),
    call: async (tm, q) => ({ streams: await vreplicationDelete(tm, q.workflow) }),
  },
  vReplicationWaitForPos: {
    validate: (r) => ({ id: r.int('id', 1), position: r.string('position'), timeoutMs: r.optInt('timeoutMs', 0) }),
    call: (tm, q, signal) => vreplicationWaitForPos(tm, q.id, q.position, q.timeoutMs ?? TM_METHOD_DEFAULTS.waitForPositionTimeoutMs, signal),
    waitMs: (q) => q.timeoutMs ?? TM_METHOD_DEFAULTS.waitForPositionTimeoutMs,
  },
  // VDiff (src/vdiff), one call with an action as Vitess's VDiff RPC.
  vDiff: {
    validate: (r) => ({
      action: r.optChoice('action', VDIFF_ACTIONS) ?? 'show',
      workflow: r.optString('workflow'),
      keyspace: r.optString('keyspace'),
      uuid: r.optString('uuid'),
      options: r.optString('options'),
      samples: r.optInt('samples', -1),
      afterId: r.optInt('afterId', 0),
      limit: r.optInt('limit', 0),
    }),
    call: (tm, q) => {
      if (!tm.vdiff) throw new TesseraError(ER.UNKNOWN_ERROR, `tablet ${tm.server.alias} has no VDiff engine`);
      return tm.vdiff.call(q);
    },
  },
  // Binlog purge that keeps what VReplication streams reading from this shard still need.
  purgeBinaryLogs: {
    validate: (r) => ({ to: r.optString('to'), olderThanSeconds: r.optInt('olderThanSeconds', 0), dryRun: r.optBool('dryRun') }),
    call: (tm, q) => tm.purgeBinaryLogs(q),
  },
};

/** Checks `raw` as `method`'s request and runs it on `tm`. */
export async function runTmMethod<M extends TmMethod>(tm: TabletManager, method: M, raw: unknown, signal: AbortSignal): Promise<TmResponse<M>> {
  const spec: TmMethodSpec<TmRequest<M>, TmResponse<M>> = TM_METHODS[method];
  const r = new RequestReader(tmWireName(method), raw);
  const req = spec.validate(r);
  r.finish();
  return spec.call(tm, req, signal);
}

/** Serves every method of the table as `tm.<Method>` on a tablet's RPC server. */
export function registerTabletManager(server: RpcServer, tm: TabletManager): void {
  for (const method of Object.keys(TM_METHODS) as TmMethod[]) {
    server.unary(tmWireName(method), async (m, ctx) => {
      const out: unknown = await runTmMethod(tm, method, m.meta, ctx.signal);
      // Responses are plain data (records, statuses, strings); void becomes null on the wire.
      return { meta: (out ?? null) as Json };
    });
  }
}

// ---- shared by both clients --------------------------------------------------------------------

/** The deadline a call gets when its caller names none: the default plus what the method waits. */
export function defaultDeadlineMs<M extends TmMethod>(method: M, req: TmRequest<M>, callTimeoutMs: number): number {
  const spec: TmMethodSpec<TmRequest<M>, TmResponse<M>> = TM_METHODS[method];
  let wait = 0;
  try {
    wait = spec.waitMs?.(req) ?? 0;
  } catch {
    // A malformed request: the tablet refuses it; the default deadline is enough for that.
  }
  return callTimeoutMs + (Number.isFinite(wait) && wait > 0 ? wait : 0);
}

function isRecord(t: TabletRef): t is Tablet {
  return typeof t === 'object' && 'alias' in t && 'port_map' in t;
}

/** The alias text (`zone1-0000000100`) of a tablet reference; BAD_ARGUMENT for malformed text. */
export function refAlias(t: TabletRef): string {
  if (typeof t === 'string') return tabletAliasString(parseTabletAlias(t));
  return tabletAliasString(isRecord(t) ? t.alias : t);
}

/** The record of a tablet reference: as given, or read from the topology (NO_NODE if unknown). */
export async function refRecord(topo: TopoServer, t: TabletRef): Promise<Tablet> {
  if (isRecord(t)) return t;
  return (await topo.getTablet(typeof t === 'string' ? parseTabletAlias(t) : t)).value;
}

/**
 * Runs `fn` with a signal that fires at the deadline or when the caller's signal does, and stops
 * waiting for it then. Work already running on the tablet is not undone (see the contract).
 */
export async function withDeadline<T>(what: string, timeoutMs: number, callerSignal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const cancelled = () =>
    ac.abort(new TesseraError(ER.QUERY_INTERRUPTED, `${what} was cancelled by its caller; it may still complete on the tablet`, { cause: callerSignal?.reason }));
  if (callerSignal?.aborted) cancelled();
  callerSignal?.addEventListener('abort', cancelled, { once: true });
  const timer = setTimeout(
    () =>
      ac.abort(
        new TesseraError(ER.QUERY_INTERRUPTED, `${what} did not answer within ${timeoutMs} ms (it may still complete on the tablet); give the call a longer timeoutMs if it needs one`, {
          kind: 'DEADLINE_EXCEEDED',
        }),
      ),
    timeoutMs,
  );
  try {
    ac.signal.throwIfAborted();
    const aborted = new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true }));
    return await Promise.race([fn(ac.signal), aborted]);
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', cancelled);
  }
}

/**
 * A tablet's error as the caller sees it: errno, SQLSTATE and kind kept, the alias in the message.
 * A connection that could not be made or broke is UNAVAILABLE whatever the tablet said before.
 */
export function tabletCallError(alias: string, err: unknown): TesseraError {
  const e = TesseraError.from(err);
  const kind = e.kind ?? (e.errno === ER.CONN_ERROR.errno || e.errno === 2013 ? 'UNAVAILABLE' : undefined);
  if (e.message.includes(alias) && kind === e.kind) return e;
  return new TesseraError(e, e.message.includes(alias) ? e.message : `tablet ${alias}: ${e.message}`, { cause: err, kind });
}
