// TabletServer: the tablet's local QueryService over its MariaDB. It protects MariaDB (bounded pools,
// statement timeouts that kill in MariaDB, a transaction killer, a row limit), refuses what it must
// not serve (wrong target, not serving, denied tables) with errors that say why, and reports health.
import { EventEmitter } from 'node:events';
import { Client, type ClientOptions, type ResultSink } from '../mysql/client.js';
import { CAP, CHARSET, MARIADB_CAP } from '../mysql/constants.js';
import { ER, TesseraError } from '../mysql/errors.js';
import type { ColumnDefinition, OkPacket } from '../mysql/protocol.js';
import { logger } from '../log/index.js';
import { format, parse, splicePlaceholders, tableNames } from '../sql/index.js';
import { sidecarDbName } from '../sidecar/index.js';
import type { TabletType } from '../topo/index.js';
import { ConnPool } from './pool.js';
import type { CancelEvent, CancelSignal } from '../rpc/cancel.js';
import type {
  BeginOptions,
  BindVars,
  ExecuteOptions,
  ExecuteResult,
  MoreResult,
  HealthState,
  QueryService,
  ReserveOptions,
  StreamChunk,
  Target,
  Warning,
} from './query-service.js';
import { isSchemaChange, SchemaEngine } from './schema-engine.js';
import { placeholderParam, preparedOf } from './placeholders.js';
import type { Literal } from '../sql/ast.js';

const log = logger('tablet');

export const TABLET_SERVER_DEFAULTS = {
  /** --queryserver-config-pool-size */
  poolSize: 16,
  /** --queryserver-config-stream-pool-size */
  streamPoolSize: 8,
  /** --queryserver-config-transaction-cap */
  transactionCap: 32,
  /** --queryserver-config-query-pool-timeout: how long a caller waits for a pooled connection. */
  queueTimeoutMs: 5_000,
  /** --queryserver-config-query-timeout */
  queryTimeoutMs: 30_000,
  /** --queryserver-config-transaction-timeout: idle transactions are rolled back after this. */
  transactionTimeoutMs: 30_000,
  /** --queryserver-config-max-result-size: rows a non-streaming query may return. */
  rowsMax: 10_000,
  /**
   * Statement timeout of a streaming result: none by default, as a stream of a whole table (OLAP)
   * may rightly take long, held back by a slow client. A caller's timeoutMs still applies.
   */
  streamTimeoutMs: 0,
  /** Rows per chunk of a streaming result, and its byte bound. */
  streamChunkRowsMax: 256,
  streamChunkBytesMax: 256 * 1024,
  /** --health-check-interval: how often health is sent to subscribers and MariaDB is pinged. */
  healthIntervalMs: 1_000,
  /** How long a ping of MariaDB (or connecting to ping it) may take before it counts as unreachable. */
  mysqlPingTimeoutMs: 5_000,
  /** Killed-transaction reasons remembered for later calls on their ids. */
  endedTransactionsMax: 1_000,
};

export type TabletServerLimits = typeof TABLET_SERVER_DEFAULTS;

export interface TabletServerConfig {
  readonly alias: string;
  readonly keyspace: string;
  readonly shard: string;
  readonly tabletType: TabletType;
  readonly dbName: string;
  /** The sidecar database (the keyspace's sidecar_db_name); `_vt` when not given. */
  readonly sidecarDb?: string;
  /** How to reach MariaDB as the application user (vt_app) and as vt_dba. */
  readonly appConn: Omit<ClientOptions, 'database'>;
  readonly dbaConn: Omit<ClientOptions, 'database'>;
  readonly limits?: Partial<TabletServerLimits>;
}

interface Dedicated {
  readonly id: number;
  readonly conn: Client;
  /** The pool `conn` came from and goes back to. */
  readonly pool: ConnPool;
  readonly reserved: boolean;
  readonly settings: readonly string[];
  inTransaction: boolean;
  busy: boolean;
  lastUsed: number;
}

interface State {
  tabletType: TabletType;
  serving: boolean;
  reason: string;
  primaryTermStartTime: string | null;
  deniedTables: ReadonlySet<string>;
  replicationLagSeconds: number | null;
  replicationError: string;
}

const SERVING_TYPES: ReadonlySet<TabletType> = new Set(['primary', 'replica', 'rdonly']);

export class TabletServer implements QueryService {
  readonly alias: string;
  readonly keyspace: string;
  readonly shard: string;
  readonly dbName: string;
  /** Where this tablet's sidecar tables live: everything naming `_vt` takes the name from here. */
  readonly sidecarDb: string;
  readonly schema: SchemaEngine;
  readonly limits: TabletServerLimits;
  private readonly cfg: TabletServerConfig;
  private readonly queryPool: ConnPool;
  private readonly streamPool: ConnPool;
  private readonly txPool: ConnPool;
  /**
   * Connections opened with CLIENT_FOUND_ROWS, for applications that asked for it (UPDATE then
   * reports matched rows): a MySQL connection takes the flag at handshake only. Opened on first
   * use, same sizes and flags as the pools above.
   */
  private readonly foundRowsQueryPool: ConnPool;
  private readonly foundRowsTxPool: ConnPool;
  private readonly dedicated = new Map<number, Dedicated>();
  private readonly ended = new Map<number, string>();
  private nextId: number;
  private inFlight = 0;
  /** Rows handed to stream consumers since start (the gate's OLAP reads). */
  private rowsStreamed = 0;
  /** Rows returned by execute since start. */
  private rowsReturned = 0;
  /** Executions of MariaDB prepared statements (src/tablet/placeholders.ts), and how many of them came without column definitions. */
  private preparedExecutes = 0;
  private preparedColumnsCached = 0;
  private readonly events = new EventEmitter();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private state: State;
  /** Why MariaDB cannot be reached now (the last ping failed), or null while it answers. */
  private mysqlError: string | null = null;
  private probe: Client | null = null;
  private probing = false;
  /** Set while the tablet knows its MariaDB is down (mysql-keeper.ts): no ping until cleared. */
  private mysqlDownNote: string | null = null;
  private alert: string | null = null;

  constructor(cfg: TabletServerConfig) {
    this.cfg = cfg;
    this.alias = cfg.alias;
    this.keyspace = cfg.keyspace;
    this.shard = cfg.shard;
    this.dbName = cfg.dbName;
    this.sidecarDb = sidecarDbName(cfg.sidecarDb);
    this.limits = { ...TABLET_SERVER_DEFAULTS, ...cfg.limits };
    this.schema = new SchemaEngine(cfg.dbName);
    // Ids start from the clock so that a restarted tablet never reuses an id a gate still holds.
    this.nextId = Date.now() * 1000;
    // MariaDB's extended column metadata (format=json, uuid, …) rides along to the gate's clients.
    // CACHE_METADATA: an execute of a prepared statement (src/tablet/placeholders.ts) whose columns
    // are unchanged comes without column definitions, which MariaDB then neither builds nor sends.
    const ext = (cfg.appConn.mariadbCapabilities ?? 0) | MARIADB_CAP.EXTENDED_TYPE_INFO | MARIADB_CAP.CACHE_METADATA;
    const app = () => Client.connect({ ...cfg.appConn, database: cfg.dbName, mariadbCapabilities: ext });
    this.queryPool = new ConnPool('query', this.limits.poolSize, this.limits.queueTimeoutMs, app, '--queryserver-config-pool-size');
    this.streamPool = new ConnPool('stream', this.limits.streamPoolSize, this.limits.queueTimeoutMs, app, '--queryserver-config-stream-pool-size');
    this.txPool = new ConnPool('transaction', this.limits.transactionCap, this.limits.queueTimeoutMs, app, '--queryserver-config-transaction-cap');
    const foundRows = () => Client.connect({ ...cfg.appConn, database: cfg.dbName, capabilities: (cfg.appConn.capabilities ?? 0) | CAP.FOUND_ROWS, mariadbCapabilities: ext });
    this.foundRowsQueryPool = new ConnPool('query (found rows)', this.limits.poolSize, this.limits.queueTimeoutMs, foundRows, '--queryserver-config-pool-size');
    this.foundRowsTxPool = new ConnPool('transaction (found rows)', this.limits.transactionCap, this.limits.queueTimeoutMs, foundRows, '--queryserver-config-transaction-cap');
    this.state = {
      tabletType: cfg.tabletType,
      serving: false,
      reason: 'starting',
      primaryTermStartTime: null,
      deniedTables: new Set(),
      replicationLagSeconds: null,
      replicationError: '',
    };
    const sweep = Math.max(100, Math.min(1000, this.limits.transactionTimeoutMs / 10));
    this.timers.push(setInterval(() => this.killIdleTransactions(), sweep).unref());
    this.timers.push(
      setInterval(() => {
        void this.checkMysql();
        this.emitHealth();
      }, this.limits.healthIntervalMs).unref(),
    );
  }

  // ---- state ---------------------------------------------------------------------------------

  get tabletType(): TabletType {
    return this.state.tabletType;
  }

  /** Serving as the topology says, and only while MariaDB answers. */
  get serving(): boolean {
    return this.state.serving && this.mysqlError === null;
  }

  private get reason(): string {
    return this.mysqlError === null ? this.state.reason : `MariaDB is unreachable: ${this.mysqlError}`;
  }

  /**
   * Pings MariaDB over a connection kept for it (as vt_dba). While MariaDB cannot be reached the
   * tablet reports not serving with the reason and refuses queries as NOT_SERVING, so that gates
   * route elsewhere and ctld shows it; it serves again at the first ping that succeeds. Runs every
   * health interval; a check still running (a hung server) is not doubled.
   */
  async checkMysql(): Promise<void> {
    if (this.mysqlDownNote !== null) {
      this.setMysqlError(this.mysqlDownNote);
      return;
    }
    if (this.probing || this.closed) return;
    this.probing = true;
    const timeoutMs = this.limits.mysqlPingTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to a ping within mysqlPingTimeoutMs=${timeoutMs}`)), timeoutMs);
    });
    try {
      await Promise.race([
        (async () => {
          // A new connection: the first ping, or the kept one was closed — by MariaDB stopping,
          // possibly started again since the last ping (a restart quicker than the health
          // interval, by an operator or a supervisor, shows only this way).
          const fresh = this.probe === null || this.probe.closed;
          if (fresh) {
            this.probe?.close();
            this.probe = null;
            this.probe = await Client.connect({ ...this.cfg.dbaConn, connectTimeoutMs: timeoutMs });
          }
          await this.probe!.ping();
          // A MariaDB that restarted comes up read-only (its config says so, for replicas). A
          // primary the tablet still serves as such takes writes again before it is reported
          // serving; a demoted one is not serving, so stays read-only.
          if ((this.mysqlError !== null || fresh) && this.state.tabletType === 'primary' && this.state.serving) await this.probe!.query('SET GLOBAL read_only = OFF');
        })(),
        timeout,
      ]);
      this.setMysqlError(null);
    } catch (err) {
      this.probe?.close();
      this.probe = null;
      this.setMysqlError((err as Error).message);
    } finally {
      clearTimeout(timer);
      this.probing = false;
      if (this.closed) {
        this.probe?.close();
        this.probe = null;
      }
    }
  }

  private setMysqlError(e: string | null): void {
    if (this.closed || e === this.mysqlError) return;
    const was = this.mysqlError;
    this.mysqlError = e;
    if (e !== null && was === null) log.warn({ alias: this.alias, err: e }, 'MariaDB is unreachable: not serving until it answers');
    else if (e === null) log.info({ alias: this.alias }, 'MariaDB answers again');
    this.emitHealth();
  }

  /**
   * The tablet knows its MariaDB is down (its process is gone, it is being started again): not
   * serving with this reason at once, without waiting for a failed ping, until `mysqlUp`.
   */
  mysqlDown(note: string): void {
    this.mysqlDownNote = note;
    this.setMysqlError(note);
  }

  /** MariaDB was started again: the next ping decides whether the tablet serves. */
  async mysqlUp(): Promise<void> {
    this.mysqlDownNote = null;
    await this.checkMysql();
  }

  /** Raises (or, with null, clears) the alert the health stream, /debug/health and the status page show. */
  setAlert(text: string | null): void {
    if (text === this.alert) return;
    this.alert = text;
    this.emitHealth();
  }

  /** Sets the serving state; called by the tablet manager from topology and type changes. */
  setState(s: Partial<Pick<State, 'tabletType' | 'serving' | 'reason' | 'primaryTermStartTime' | 'deniedTables'>>): void {
    const before = JSON.stringify(this.healthState());
    this.state = { ...this.state, ...s };
    if (s.serving === true && s.reason === undefined) this.state.reason = '';
    if (JSON.stringify(this.healthState()) !== before) {
      log.info({ alias: this.alias, type: this.state.tabletType, serving: this.state.serving, reason: this.state.reason }, 'tablet state changed');
      this.emitHealth();
    }
  }

  setReplicationStatus(lagSeconds: number | null, error: string): void {
    this.state.replicationLagSeconds = lagSeconds;
    this.state.replicationError = error;
  }

  healthState(): HealthState {
    return {
      tabletAlias: this.alias,
      target: { keyspace: this.keyspace, shard: this.shard, tabletType: this.state.tabletType },
      serving: this.serving,
      reason: this.reason,
      primaryTermStartTime: this.state.primaryTermStartTime,
      replicationLagSeconds: this.state.tabletType === 'primary' ? 0 : this.state.replicationLagSeconds,
      replicationError: this.state.replicationError,
      queriesInFlight: this.inFlight,
      transactionsOpen: [...this.dedicated.values()].filter((d) => d.inTransaction).length,
      at: new Date().toISOString(),
      ...(this.alert !== null ? { alert: this.alert } : {}),
    };
  }

  private emitHealth(): void {
    this.events.emit('health', this.healthState());
  }

  private checkTarget(target: Target, tables: readonly string[] | undefined, sql: string): void {
    if (this.closed) throw new TesseraError(ER.SERVER_SHUTDOWN, `tablet ${this.alias} is shutting down`, { kind: 'NOT_SERVING' });
    if (target.keyspace !== this.keyspace || target.shard !== this.shard) {
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `wrong tablet: ${this.alias} serves ${this.keyspace}/${this.shard}, the query was for ${target.keyspace}/${target.shard}`,
        { kind: 'WRONG_TARGET' },
      );
    }
    if (target.tabletType !== this.state.tabletType) {
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `wrong tablet type: ${this.alias} is ${this.state.tabletType}, the query was for ${target.tabletType} (the tablet may have changed type; retry)`,
        { kind: 'WRONG_TARGET' },
      );
    }
    if (!this.serving) {
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        `tablet ${this.alias} (${this.keyspace}/${this.shard} ${this.state.tabletType}) is not serving: ${this.reason || 'not serving'}`,
        { kind: 'NOT_SERVING' },
      );
    }
    if (this.state.deniedTables.size > 0) {
      const used = tables ?? tablesOf(sql);
      for (const t of used) {
        if (this.state.deniedTables.has(t)) {
          throw new TesseraError(
            ER.UNKNOWN_ERROR,
            `table ${t} is denied on ${this.keyspace}/${this.shard} ${this.state.tabletType} (a MoveTables or Reshard switched it away); route through the gate to reach its new home`,
            { kind: 'DENIED_TABLE' },
          );
        }
      }
    }
  }

  // ---- QueryService --------------------------------------------------------------------------

  async execute(target: Target, sql: string, bindVars: BindVars | null, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    this.checkTarget(target, opts.tables, sql);
    const params = opts.params ?? null;
    const text = params === null && bindVars && Object.keys(bindVars).length > 0 ? substitute(sql, bindVars) : sql;
    // A transaction's or reserved connection's statement, in a function of its own: this one, the
    // pooled path of nearly every statement, keeps a small frame (see GateSession.executeOnShardNow).
    if (opts.transactionId || opts.reservedId || opts.begin) return this.executeDedicated(text, opts, params);
    const pool = opts.clientFoundRows ? this.foundRowsQueryPool : this.queryPool;
    this.inFlight++;
    let conn: Client | null = null;
    let ok = false;
    try {
      conn = pool.tryGet() ?? (await pool.get());
      const r = await this.run(conn, text, opts, 0, params);
      ok = true;
      return r;
    } finally {
      if (conn !== null) {
        if (ok || !conn.closed) pool.put(conn);
        else pool.discard(conn);
      }
      this.inFlight--;
    }
  }

  /** execute on a transaction's or reserved connection (transactionId, reservedId), or beginning a transaction (begin). */
  private async executeDedicated(text: string, opts: ExecuteOptions, params: readonly Literal[] | null): Promise<ExecuteResult> {
    const id = opts.transactionId || opts.reservedId || 0;
    this.inFlight++;
    try {
      if (id) {
        const d = this.takeDedicated(id);
        let began = false;
        try {
          if (opts.begin && !d.inTransaction) {
            await this.run(d.conn, opts.beginStatement ?? 'BEGIN', opts);
            d.inTransaction = true;
            began = true;
          }
          return await this.run(d.conn, text, opts, d.inTransaction ? d.id : 0, params);
        } catch (err) {
          if (began) await this.undoBegin(d);
          throw err;
        } finally {
          this.releaseDedicated(d);
        }
      }
      const d = await this.newDedicated(opts.clientFoundRows ? this.foundRowsTxPool : this.txPool, false, []);
      try {
        await this.run(d.conn, opts.beginStatement ?? 'BEGIN', opts);
        d.inTransaction = true;
        return await this.run(d.conn, text, opts, d.id, params);
      } catch (err) {
        await this.undoBegin(d);
        throw err;
      } finally {
        this.releaseDedicated(d);
      }
    } finally {
      this.inFlight--;
    }
  }

  async streamExecute(
    target: Target,
    sql: string,
    bindVars: BindVars | null,
    onChunk: (chunk: StreamChunk) => void | Promise<void>,
    opts: ExecuteOptions = {},
  ): Promise<void> {
    this.checkTarget(target, opts.tables, sql);
    // A stream reads text rows: placeholders are spliced back (the gate sends none for streams).
    const text = opts.params ? splicePlaceholders(sql, opts.params) : bindVars && Object.keys(bindVars).length > 0 ? substitute(sql, bindVars) : sql;
    const conn = await this.streamPool.get();
    this.inFlight++;
    let fields: ColumnDefinition[] | undefined;
    let rows: Buffer[] = [];
    let bytes = 0;
    let sentFields = false;
    const flush = async () => {
      const chunk: StreamChunk = sentFields ? { rows } : { fields: fields ?? [], rows };
      sentFields = true;
      this.rowsStreamed += rows.length;
      rows = [];
      bytes = 0;
      await onChunk(chunk);
    };
    const sink: ResultSink = {
      fields: (f) => {
        fields = this.withCollations(f);
      },
      row: (payload) => {
        rows.push(payload);
        bytes += payload.length;
        if (rows.length >= this.limits.streamChunkRowsMax || bytes >= this.limits.streamChunkBytesMax) return flush();
        return undefined;
      },
    };
    try {
      await this.withTimeout(conn, opts, () => conn.stream(text, sink), this.limits.streamTimeoutMs);
      if (rows.length > 0 || !sentFields) await flush();
    } finally {
      this.inFlight--;
      if (conn.closed) this.streamPool.discard(conn);
      else this.streamPool.put(conn);
    }
  }

  async begin(target: Target, opts: BeginOptions = {}): Promise<{ transactionId: number; tabletAlias: string }> {
    this.checkTarget(target, [], '');
    if (opts.reservedId) {
      const d = this.takeDedicated(opts.reservedId);
      try {
        await this.run(d.conn, opts.beginStatement ?? 'BEGIN', {});
        d.inTransaction = true;
        return { transactionId: d.id, tabletAlias: this.alias };
      } finally {
        this.releaseDedicated(d);
      }
    }
    const d = await this.newDedicated(opts.clientFoundRows ? this.foundRowsTxPool : this.txPool, false, []);
    try {
      await this.run(d.conn, opts.beginStatement ?? 'BEGIN', {});
      d.inTransaction = true;
    } catch (err) {
      this.endDedicated(d, 'BEGIN failed');
      throw err;
    } finally {
      d.busy = false;
    }
    return { transactionId: d.id, tabletAlias: this.alias };
  }

  async commit(_target: Target, transactionId: number): Promise<void> {
    await this.finishTransaction(transactionId, 'COMMIT');
  }

  async rollback(_target: Target, transactionId: number): Promise<void> {
    await this.finishTransaction(transactionId, 'ROLLBACK');
  }

  async reserve(target: Target, opts: ReserveOptions): Promise<{ reservedId: number; tabletAlias: string }> {
    this.checkTarget(target, [], '');
    const d = await this.newDedicated(opts.clientFoundRows ? this.foundRowsTxPool : this.txPool, true, opts.settings);
    try {
      for (const s of opts.settings) await this.run(d.conn, s, {});
    } catch (err) {
      this.endDedicated(d, 'its settings failed');
      throw err;
    } finally {
      d.busy = false;
    }
    return { reservedId: d.id, tabletAlias: this.alias };
  }

  async release(_target: Target, id: number): Promise<void> {
    const d = this.dedicated.get(id);
    if (!d) return;
    this.endDedicated(d, 'released');
  }

  streamHealth(onHealth: (h: HealthState) => void, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const listener = (h: HealthState) => onHealth(h);
      const stop = () => {
        this.events.off('health', listener);
        this.events.off('closed', onClosed);
        resolve();
      };
      const onClosed = () => {
        this.events.off('health', listener);
        reject(new TesseraError(ER.SERVER_SHUTDOWN, `tablet ${this.alias} shut down`, { kind: 'UNAVAILABLE' }));
      };
      this.events.on('health', listener);
      this.events.once('closed', onClosed);
      signal.addEventListener('abort', stop, { once: true });
      onHealth(this.healthState());
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * Runs one statement on `conn`; the result names `transactionId` (0: none) and this tablet.
   * With `params`, `sql` has a `?` for each and runs as the connection's prepared statement
   * (src/tablet/placeholders.ts): its rows come back in the binary protocol.
   */
  private async run(conn: Client, sql: string, opts: ExecuteOptions, transactionId = 0, params: readonly Literal[] | null = null): Promise<ExecuteResult> {
    const sink = new StatementSink(this, this.limits.rowsMax);
    // withTimeout's work, written out: no closure and no further async layer per statement.
    const qt = this.armTimer(conn, opts);
    let binary = false;
    try {
      if (params === null) await conn.stream(sql, sink);
      else {
        const prepared = preparedOf(conn);
        let id = prepared.id(sql);
        if (id === undefined) id = (await prepared.prepare(sql)) ?? false;
        if (id === false) await conn.stream(splicePlaceholders(sql, params), sink);
        else {
          binary = true;
          const reused = conn.metadataReused;
          await conn.executeStream(id, params.map(placeholderParam), sink);
          this.preparedExecutes++;
          this.preparedColumnsCached += conn.metadataReused - reused;
        }
      }
    } catch (err) {
      throw this.timeoutError(qt, opts, err, opts.timeoutMs || this.limits.queryTimeoutMs);
    } finally {
      qt.disarm();
    }
    // What most statements need after MariaDB's answer is done here, with no await; a statement
    // that warned or changed the schema takes settleRun (a frame of its own, as execute's held
    // paths do).
    if (sink.warned > 0 || isSchemaChange(sql)) return this.settleRun(conn, sql, sink, transactionId, binary);
    this.checkRowCount(sink);
    return this.resultOf(sink, transactionId, binary, undefined);
  }

  /** run's end for a statement that warned (its warnings are read) or changed the schema (it is reloaded). */
  private async settleRun(conn: Client, sql: string, sink: StatementSink, transactionId: number, binary: boolean): Promise<ExecuteResult> {
    // Read now, on this connection: back in the pool, the next statement would clear them.
    const warningList = sink.warned > 0 ? await this.readWarnings(conn) : undefined;
    this.checkRowCount(sink);
    if (isSchemaChange(sql)) await this.reloadSchema().catch((err: Error) => log.warn({ err: err.message }, 'schema reload after DDL failed'));
    return this.resultOf(sink, transactionId, binary, warningList);
  }

  private checkRowCount(sink: StatementSink): void {
    if (sink.rowCount > this.limits.rowsMax) {
      throw new TesseraError(
        ER.TOO_MANY_ROWS,
        `row count exceeded ${this.limits.rowsMax} (--queryserver-config-max-result-size): add a LIMIT, or stream the result (SET workload = 'olap')`,
      );
    }
  }

  private resultOf(sink: StatementSink, transactionId: number, binary: boolean, warningList: Warning[] | undefined): ExecuteResult {
    const o = sink.ok;
    const rows = sink.rows;
    const warned = sink.warned;
    this.rowsReturned += rows.length;
    const r: { -readonly [K in keyof ExecuteResult]: ExecuteResult[K] } = {
      fields: sink.columns,
      rows,
      rowsAffected: o ? Number(o.affectedRows) : 0,
      insertId: o ? insertIdOf(o.lastInsertId) : 0,
      warnings: o ? Math.max(o.warnings, warned) : warned,
      info: o ? o.info : '',
      transactionId,
      tabletAlias: this.alias,
    };
    if (warningList) r.warningList = warningList;
    if (sink.more !== null) r.more = sink.more;
    if (binary) r.binaryRows = true;
    return r;
  }

  /** SHOW WARNINGS on the connection that just ran a statement; [] if the connection broke. */
  private async readWarnings(conn: Client): Promise<Warning[]> {
    if (conn.closed) return [];
    const r = await conn.query('SHOW WARNINGS');
    return r.rows.map((row) => ({
      level: String(row[0]) as Warning['level'],
      code: Number(row[1]),
      message: String(row[2]),
    }));
  }

  /** Runs `fn` on `conn`, killing the statement in MariaDB (KILL QUERY) if it outlives its timeout. */
  private async withTimeout<T>(conn: Client, opts: ExecuteOptions, fn: () => Promise<T>, defaultTimeoutMs = this.limits.queryTimeoutMs): Promise<T> {
    const qt = this.armTimer(conn, opts, defaultTimeoutMs);
    try {
      return await fn();
    } catch (err) {
      throw this.timeoutError(qt, opts, err, opts.timeoutMs || defaultTimeoutMs);
    } finally {
      qt.disarm();
    }
  }

  /** Arms `conn`'s statement timer for a statement starting now; the caller disarms it when it ends. */
  private armTimer(conn: Client, opts: ExecuteOptions, defaultTimeoutMs = this.limits.queryTimeoutMs): QueryTimer {
    let qt = queryTimers.get(conn);
    if (!qt) queryTimers.set(conn, (qt = new QueryTimer(conn)));
    qt.arm(opts.timeoutMs || defaultTimeoutMs);
    qt.listen(opts.signal);
    return qt;
  }

  /** A statement's failure as its caller sees it: a timeout or cancel that killed it says so. */
  private timeoutError(qt: QueryTimer, opts: ExecuteOptions, err: unknown, timeoutMs: number): TesseraError {
    if (qt.fired) {
      return new TesseraError(
        ER.QUERY_INTERRUPTED,
        opts.signal?.aborted
          ? 'query cancelled by the caller and killed in MariaDB'
          : `query exceeded its timeout of ${timeoutMs} ms and was killed in MariaDB (--queryserver-config-query-timeout, or a MAX_EXECUTION_TIME hint)`,
        { kind: 'DEADLINE_EXCEEDED' },
      );
    }
    return TesseraError.from(err);
  }

  private async newDedicated(pool: ConnPool, reserved: boolean, settings: readonly string[]): Promise<Dedicated> {
    const conn = await pool.get();
    const d: Dedicated = { id: this.nextId++, conn, pool, reserved, settings, inTransaction: false, busy: true, lastUsed: Date.now() };
    this.dedicated.set(d.id, d);
    return d;
  }

  private takeDedicated(id: number): Dedicated {
    const d = this.dedicated.get(id);
    if (!d) {
      const why = this.ended.get(id);
      throw new TesseraError(
        ER.UNKNOWN_ERROR,
        why
          ? `transaction ${id} on tablet ${this.alias} ended: ${why}`
          : `transaction or reserved connection ${id} not found on tablet ${this.alias} (it ended, or the tablet restarted)`,
        { kind: 'ABORTED' },
      );
    }
    if (d.busy) throw new TesseraError(ER.UNKNOWN_ERROR, `transaction ${id} is already running a statement; statements in one transaction must not overlap`);
    d.busy = true;
    return d;
  }

  private releaseDedicated(d: Dedicated): void {
    d.busy = false;
    d.lastUsed = Date.now();
    if (d.conn.closed) this.endDedicated(d, 'its MariaDB connection broke');
    else if (!d.inTransaction && !d.reserved) this.endDedicated(d, 'no transaction');
  }

  private endDedicated(d: Dedicated, why: string): void {
    if (this.dedicated.get(d.id) !== d) return;
    this.dedicated.delete(d.id);
    this.ended.set(d.id, why);
    if (this.ended.size > this.limits.endedTransactionsMax) this.ended.delete(this.ended.keys().next().value as number);
    if (d.inTransaction || d.reserved) {
      // MariaDB rolls back what the connection held when it closes; never reuse it.
      d.pool.discard(d.conn);
    } else {
      d.pool.put(d.conn);
    }
  }

  /**
   * The statement that began a transaction failed. The caller gets an error, not a transaction id,
   * so it can neither use nor end that transaction: left open, it would keep the failed statement's
   * locks (rows it touched, table metadata) until the idle-transaction timeout, blocking other
   * clients and the caller's own next statement on this shard. The statement changed nothing, so
   * rolling back loses nothing; a connection that cannot roll back is dropped (MariaDB rolls back).
   */
  private async undoBegin(d: Dedicated): Promise<void> {
    if (!d.conn.closed) {
      try {
        await this.run(d.conn, 'ROLLBACK', {});
      } catch (err) {
        log.warn({ alias: this.alias, transactionId: d.id, err: (err as Error).message }, 'ROLLBACK after a failed first statement failed; dropping the connection');
        d.conn.destroy();
      }
    }
    d.inTransaction = false;
  }

  private async finishTransaction(id: number, verb: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    const running = this.dedicated.get(id);
    if (verb === 'ROLLBACK' && running?.busy) {
      // The caller gave up on a statement still running in this transaction (its client went
      // away, or it was killed and the rollback overtook the kill): stop the statement and drop
      // the connection, which rolls the transaction back and frees its locks now rather than at
      // the transaction timeout.
      await running.conn.killQuery().catch((err: Error) => log.warn({ alias: this.alias, transactionId: id, err: err.message }, 'KILL QUERY before rollback failed'));
      this.endDedicated(running, 'rolled back while a statement was running');
      return;
    }
    const d = this.takeDedicated(id);
    try {
      await this.run(d.conn, verb, {});
      d.inTransaction = false;
    } finally {
      d.busy = false;
      d.lastUsed = Date.now();
      if (d.conn.closed) this.endDedicated(d, 'its MariaDB connection broke');
      else if (!d.reserved) this.endDedicated(d, verb === 'COMMIT' ? 'committed' : 'rolled back');
    }
  }

  /**
   * Ends transaction `id` because nobody can end it any more (its gate's connection closed): rolled
   * back at once — a statement still running in it killed first — so its locks do not wait for the
   * idle-transaction timeout. Later calls on it say `why`. Nothing if it already ended.
   */
  async abandonTransaction(id: number, why: string): Promise<void> {
    const d = this.dedicated.get(id);
    if (!d || !d.inTransaction) return;
    log.info({ alias: this.alias, transactionId: id }, `rolling back transaction: ${why}`);
    if (d.busy) await d.conn.killQuery().catch(() => undefined);
    if (this.dedicated.get(id) === d) this.endDedicated(d, `rolled back by the tablet: ${why}`);
  }

  private killIdleTransactions(): void {
    const now = Date.now();
    for (const d of [...this.dedicated.values()]) {
      if (d.inTransaction && !d.busy && now - d.lastUsed > this.limits.transactionTimeoutMs) {
        log.warn({ alias: this.alias, transactionId: d.id }, 'killing idle transaction');
        this.endDedicated(
          d,
          `rolled back by the tablet after being idle for more than ${this.limits.transactionTimeoutMs} ms (--queryserver-config-transaction-timeout)`,
        );
      }
    }
  }

  /**
   * Marks each text column of one of this database's tables with the column's own collation
   * (ColumnDefinition.collation), which MariaDB's metadata does not carry. Computed columns keep
   * only what MariaDB sent; docs/gate.md says what the gate does with them. @internal (StatementSink)
   */
  withCollations(fields: ColumnDefinition[]): ColumnDefinition[] {
    for (const f of fields) {
      if (f.charset === CHARSET.BINARY || f.orgName === '' || f.orgTable === '' || f.schema !== this.dbName) continue;
      const id = this.schema.columnCollation(f.orgTable, f.orgName);
      if (id !== undefined) f.collation = id;
    }
    return fields;
  }

  /** A connection as vt_dba on the tablet's database, for the tablet manager. Caller closes it. */
  dbaClient(database: string | undefined = this.dbName): Promise<Client> {
    return Client.connect({ ...this.cfg.dbaConn, database });
  }

  async reloadSchema(): Promise<void> {
    const c = await this.dbaClient(undefined);
    try {
      await this.schema.reload(c);
    } finally {
      c.close();
    }
  }

  get stats(): {
    queriesInFlight: number;
    dedicated: number;
    queryPoolInUse: number;
    txPoolInUse: number;
    streamPoolInUse: number;
    rowsStreamed: number;
    rowsReturned: number;
    preparedExecutes: number;
    preparedColumnsCached: number;
  } {
    return {
      rowsStreamed: this.rowsStreamed,
      rowsReturned: this.rowsReturned,
      preparedExecutes: this.preparedExecutes,
      preparedColumnsCached: this.preparedColumnsCached,
      queriesInFlight: this.inFlight,
      dedicated: this.dedicated.size,
      queryPoolInUse: this.queryPool.inUse + this.foundRowsQueryPool.inUse,
      txPoolInUse: this.txPool.inUse + this.foundRowsTxPool.inUse,
      streamPoolInUse: this.streamPool.inUse,
    };
  }

  /** Stops serving: new calls are refused, open transactions are rolled back, pools close. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.state = { ...this.state, serving: false, reason: 'shutting down' };
    for (const t of this.timers) clearInterval(t);
    this.probe?.close();
    this.probe = null;
    for (const d of [...this.dedicated.values()]) this.endDedicated(d, 'the tablet shut down');
    this.queryPool.close();
    this.streamPool.close();
    this.txPool.close();
    this.foundRowsQueryPool.close();
    this.foundRowsTxPool.close();
    this.events.emit('closed');
  }
}

/**
 * The statement timeout of one MariaDB connection: one timer per connection, re-armed for each
 * statement (Timeout.refresh) rather than a timer and closures per statement. It is also the
 * connection's listener for the caller's abort signal. A timer that fires after its statement
 * ended does nothing.
 */
class QueryTimer {
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (epoch ms), or 0 when none is armed. */
  private timerAt = 0;
  /** When the running statement's time is up (epoch ms), or 0 for no limit. */
  private deadline = 0;
  private running = false;
  /** The running statement was killed (timeout or abort). */
  fired = false;
  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = 0;
    if (!this.running || this.deadline === 0) return;
    const left = this.deadline - Date.now();
    if (left > 0) this.schedule(left);
    else this.kill();
  };

  constructor(private readonly conn: Client) {}

  /**
   * A statement starts with `ms` to run. The timer is left as it is when it fires no later than
   * the deadline (it re-arms itself for what is left then), so a statement usually costs a clock
   * read, not a timer operation.
   */
  arm(ms: number): void {
    this.running = true;
    this.fired = false;
    if (ms <= 0) {
      this.deadline = 0;
      return;
    }
    const now = Date.now();
    this.deadline = now + ms;
    if (this.timer !== null && this.timerAt <= this.deadline) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.schedule(ms);
  }

  private schedule(ms: number): void {
    this.timerAt = Date.now() + ms;
    // Unref'd: it may outlive the statement, and must not keep an idle process alive.
    this.timer = setTimeout(this.onTimer, ms).unref();
  }

  disarm(): void {
    this.running = false;
    this.signal = null;
    if (this.watch !== null) {
      this.watch.remove(this);
      this.watch = null;
    }
  }

  /** The running statement's caller's signal (what an abort must match to kill it). */
  private signal: CancelSignal | null = null;
  /** The signal this timer listens on: kept between statements, as a gate session's signal is the same for all its statements. */
  private listening: CancelSignal | null = null;
  /** The AbortSignal's watch this timer's running statement is entered in (see AbortWatch). */
  private watch: AbortWatch | null = null;
  /** This timer's neighbours in its watch's list (AbortWatch). */
  watchPrev: QueryTimer | null = null;
  watchNext: QueryTimer | null = null;

  /**
   * Follows `signal` for the statement starting. A `CancelToken` (one per RPC call) is listened on
   * directly, once per signal; an `AbortSignal` (a gate session's, in combined mode: one per
   * session, while a pooled connection serves many sessions in turn) through the signal's one
   * AbortWatch, so a statement costs a list entry, not an EventTarget listener added and removed.
   */
  listen(signal: CancelSignal | undefined): void {
    this.signal = signal ?? null;
    if (signal === undefined || signal === this.listening) return;
    if (signal instanceof AbortSignal) {
      const w = AbortWatch.of(signal);
      this.watch?.remove(this);
      w.add(this);
      this.watch = w;
      return;
    }
    this.listening?.removeEventListener('abort', this);
    this.listening = signal;
    signal.addEventListener('abort', this, { once: true });
  }

  /** A signal this timer listens on aborted: kills the running statement if it is that caller's. */
  handleEvent(event: CancelEvent): void {
    if (event.target === this.listening) this.listening = null;
    if (event.target === this.signal) this.kill();
  }

  /** Called by an AbortWatch whose signal aborted while this timer's statement was entered in it. */
  abortedBy(signal: unknown): void {
    if (signal === this.signal) this.kill();
  }

  private kill(): void {
    if (!this.running || this.fired) return;
    this.fired = true;
    const conn = this.conn;
    conn.killQuery().catch((err: Error) => {
      log.warn({ err: err.message }, 'KILL QUERY failed; closing the connection');
      conn.destroy();
    });
  }
}

const queryTimers = new WeakMap<Client, QueryTimer>();

/**
 * The statements running for one AbortSignal, with one listener on the signal for its life: what
 * an abort kills. Listening on the signal per statement (addEventListener and removeEventListener
 * on an EventTarget) cost about 3 µs a statement in combined mode, where a pooled connection's
 * timer sees a different session's signal nearly every time.
 */
class AbortWatch {
  /**
   * The running statements' timers, a list through their own fields: entering and leaving it
   * allocates nothing (a Set's table is remade as entries come and go).
   */
  private head: QueryTimer | null = null;

  add(t: QueryTimer): void {
    t.watchPrev = null;
    t.watchNext = this.head;
    if (this.head !== null) this.head.watchPrev = t;
    this.head = t;
  }

  remove(t: QueryTimer): void {
    if (t.watchPrev !== null) t.watchPrev.watchNext = t.watchNext;
    else if (this.head === t) this.head = t.watchNext;
    if (t.watchNext !== null) t.watchNext.watchPrev = t.watchPrev;
    t.watchPrev = t.watchNext = null;
  }

  static of(signal: AbortSignal): AbortWatch {
    let w = abortWatches.get(signal);
    if (w === undefined) {
      w = new AbortWatch();
      abortWatches.set(signal, w);
      // After an abort nothing is added (as with EventTarget): the caller checks the signal first.
      signal.addEventListener('abort', w, { once: true });
    }
    return w;
  }

  handleEvent(event: Event): void {
    // Taken first: a kill may end a statement (and take its timer out) while the list is walked.
    const running: QueryTimer[] = [];
    for (let t = this.head; t !== null; t = t.watchNext) running.push(t);
    for (const t of running) t.abortedBy(event.target);
  }
}

const abortWatches = new WeakMap<AbortSignal, AbortWatch>();

/** MariaDB's last insert id as a result carries it: a number, or text past 2^53. */
function insertIdOf(id: number | bigint): number | string {
  return typeof id === 'bigint' ? (id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id.toString()) : id;
}

/**
 * What one statement's results collect (TabletServer.run): one object per statement instead of a
 * closure per callback. Rows past `rowsMax` are counted, not kept (run then fails the statement).
 * A CALL's further results, each as MariaDB sent it, go to `more`.
 */
class StatementSink implements ResultSink {
  /** The first result's column definitions. */
  columns: ColumnDefinition[] = [];
  readonly rows: Buffer[] = [];
  rowCount = 0;
  ok: OkPacket | null = null;
  /** The most warnings any of the statement's results reported (a CALL's last OK counts them all). */
  warned = 0;
  more: MoreResult[] | null = null;
  private first = true;
  private moreFields: ColumnDefinition[] = [];
  private moreRows: Buffer[] = [];

  constructor(
    private readonly tablet: TabletServer,
    private readonly rowsMax: number,
  ) {}

  fields(f: ColumnDefinition[]): void {
    if (this.first) this.columns = this.tablet.withCollations(f);
    else this.moreFields = this.tablet.withCollations(f);
  }

  row(payload: Buffer): void {
    if (++this.rowCount > this.rowsMax) return;
    if (this.first) this.rows.push(payload);
    else this.moreRows.push(payload);
  }

  end(o: OkPacket): void {
    if (this.first) this.ok = o;
    else {
      (this.more ??= []).push({
        fields: this.moreFields, rows: this.moreRows, rowsAffected: Number(o.affectedRows), warnings: o.warnings, info: o.info,
        insertId: insertIdOf(o.lastInsertId),
      });
      this.moreFields = [];
      this.moreRows = [];
    }
    this.first = false;
    if (o.warnings > this.warned) this.warned = o.warnings;
  }
}

function substitute(sql: string, bindVars: BindVars): string {
  return format(parse(sql), { bindVars });
}

/** Table names a statement touches, when the caller did not say (admin tools, direct clients). */
function tablesOf(sql: string): string[] {
  try {
    return tableNames(parse(sql)).map((t) => t.name);
  } catch {
    return [];
  }
}
