// The typed topology: keyspaces, shards, tablets, VSchemas, rules and the serving graph, on top of
// any `Conn`. This is what the tablet, the gate, ctld and the workflows use; they never touch
// paths. Where Vitess keeps data in the global topology or in a cell's, so do we:
//
//   global:  cells/<cell>/CellInfo
//            keyspaces/<ks>/Keyspace, keyspaces/<ks>/VSchema, keyspaces/<ks>/shards/<shard>/Shard
//            RoutingRules, ShardRoutingRules, KeyspaceRoutingRules
//            locks on keyspaces/<ks> and keyspaces/<ks>/shards/<shard>
//   cell:    tablets/<alias>/Tablet, keyspaces/<ks>/SrvKeyspace, SrvVSchema
//
// Values are JSON. Every read-modify-write (keyspaces, shards, tablets, the serving graph, routing
// rules, shard routing rules, keyspace routing rules) goes through `casUpdate`: read with the
// version, write at that version, start over when another writer got in between, at most
// `casRetriesMax` times. Two workflows switching traffic at once can then never lose an update.
import { hostname } from 'node:os';
import { compareKeyRanges, keyRangeEqual, keyRangesIntersect, parseShardName, validatePartition } from '../key/index.js';
import { logger } from '../log/index.js';
import type { Conn, LockHandle, Version, WatchEvent } from './conn.js';
import { isTopoError, topoError } from './errors.js';
import {
  checkCellName,
  checkKeyspaceName,
  emptySrvVSchema,
  newKeyspace,
  newShard,
  newTabletControl,
  SERVED_TYPES,
  shardKeyRange,
  tabletAliasString,
  type CellInfo,
  type Json,
  type Keyspace,
  type KeyspacePartition,
  type KeyspaceRoutingRules,
  type KeyspaceVSchema,
  type RoutingRules,
  type Shard,
  type ShardRoutingRules,
  type ShardTabletControl,
  type SrvKeyspace,
  type SrvVSchema,
  type Tablet,
  type TabletAlias,
  type TabletControl,
  type TabletType,
} from './model.js';
import {
  validateKeyspaceRoutingRules,
  validateKeyspaceVSchema,
  validateRoutingRules,
  validateShardRoutingRules,
  checkSrvVSchema,
  srvVSchemaProblems,
} from './validate.js';

const log = logger('topo');

export interface TopoServerOptions {
  /** Deadline for one backend operation. */
  readonly opTimeoutMs: number;
  /** How long `lockKeyspace`/`lockShard` wait for another holder. */
  readonly lockTimeoutMs: number;
  /** Lease of a keyspace or shard lock; a dead holder's lock frees after this. */
  readonly lockTtlMs: number;
  /** Attempts of a compare-and-swap loop before it gives up with BAD_VERSION. */
  readonly casRetriesMax: number;
}

export const TOPO_SERVER_DEFAULTS: TopoServerOptions = {
  opTimeoutMs: 30_000,
  lockTimeoutMs: 45_000,
  lockTtlMs: 30_000,
  casRetriesMax: 16,
};

/** Opens a conn for a cell from its CellInfo (same implementation as the global one). */
export type CellConnFactory = (serverAddress: string, root: string) => Conn;

export interface Versioned<T> {
  readonly value: T;
  readonly version: Version;
}

export interface NamedShard {
  readonly name: string;
  readonly shard: Shard;
  readonly version: Version;
}

export interface TabletFilter {
  readonly cells?: readonly string[];
  readonly keyspace?: string;
  readonly shard?: string;
  readonly tabletType?: TabletType;
}

/** What a lock records, shown to whoever waits for it. */
export interface LockContents {
  readonly action: string;
  readonly holder: string;
  readonly pid: number;
  readonly time: string;
}

/** A held keyspace or shard lock. */
export interface TopoLock {
  readonly keyspace: string;
  /** Set for a shard lock. */
  readonly shard?: string;
  readonly action: string;
  /** Rejects with LOCK_LOST when the lock is no longer held; call before a decisive write. */
  check(): Promise<void>;
  /** Releases the lock; pass the action's error, if any, for the log. */
  unlock(err?: unknown): Promise<void>;
}

export interface LockOpts {
  readonly timeoutMs?: number;
  readonly ttlMs?: number;
  readonly signal?: AbortSignal;
}

export type TypedWatchEvent<T> = { readonly kind: 'changed'; readonly value: T } | Exclude<WatchEvent, { kind: 'changed' }>;

export interface TypedWatch<T> {
  readonly current: T;
  readonly changes: AsyncIterable<TypedWatchEvent<T>>;
}

function encode(v: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(v, null, 2)}\n`);
}

/** What a gate publishes about itself in the topology (TopoServer.registerGate). */
export interface GateRecord {
  readonly cell: string;
  /** host:port of its MySQL listener. */
  readonly mysql_address: string;
  /** --enable-partial-keyspace-migration: it honours shard routing rules. */
  readonly enable_partial_keyspace_migration: boolean;
}

function decode<T>(data: Buffer): T {
  return JSON.parse(data.toString('utf8')) as T;
}

const ksPath = (ks: string): string => `keyspaces/${ks}`;
const shardDir = (ks: string, shard: string): string => `keyspaces/${ks}/shards/${shard}`;
const tabletPath = (a: TabletAlias): string => `tablets/${tabletAliasString(a)}/Tablet`;

/** Fills fields a stored shard written by an older version may lack. */
function normalizeShard(name: string, s: Partial<Shard>): Shard {
  return newShard(name, s);
}

/** Fills fields a stored SrvKeyspace written by an older version may lack. */
function normalizeSrvKeyspace(v: Partial<SrvKeyspace> | null): SrvKeyspace {
  return {
    partitions: (v?.partitions ?? []).map((p) => ({
      served_type: p.served_type,
      shard_references: p.shard_references ?? [],
      shard_tablet_controls: p.shard_tablet_controls ?? [],
    })),
  };
}

/** The partitions in Vitess's order (primary, replica, rdonly), each sorted by key range. */
function sortPartitions(srv: SrvKeyspace): void {
  srv.partitions.sort((a, b) => SERVED_TYPES.indexOf(a.served_type) - SERVED_TYPES.indexOf(b.served_type));
  for (const p of srv.partitions) {
    p.shard_references.sort((a, b) => compareKeyRanges(parseShardName(a.name), parseShardName(b.name)));
    p.shard_tablet_controls.sort((a, b) => compareKeyRanges(parseShardName(a.name), parseShardName(b.name)));
  }
}

/** Whether a shard's tablet control disables the query service of `type` in `cell`. */
function queryServiceDisabled(shard: Shard, type: TabletType, cell: string): boolean {
  return shard.tablet_controls.some((tc) => tc.tablet_type === type && tc.disable_query_service && (tc.cells.length === 0 || tc.cells.includes(cell)));
}

/** The shard tablet controls of one partition in one cell, as the shard records say. */
function shardTabletControls(shards: readonly { name: string; shard: Shard }[], type: TabletType, cell: string): ShardTabletControl[] {
  return shards
    .filter((s) => queryServiceDisabled(s.shard, type, cell))
    .map((s) => ({ name: s.name, key_range: s.shard.key_range, query_service_disabled: true }));
}

/**
 * Checks that shards do not overlap and, unless `allowPartial`, that they cover the whole key
 * range (FAILED_PRECONDITION naming the gap or overlap).
 */
function checkServingShards(names: readonly string[], what: string, allowPartial: boolean): void {
  if (names.length === 0) return;
  try {
    if (!allowPartial) {
      validatePartition(names, what);
      return;
    }
    const sorted = names.map((n) => ({ n, kr: parseShardName(n) })).sort((a, b) => compareKeyRanges(a.kr, b.kr));
    for (let i = 1; i < sorted.length; i++) {
      if (keyRangesIntersect(sorted[i - 1].kr, sorted[i].kr)) throw new Error(`${what}: shards ${sorted[i - 1].n} and ${sorted[i].n} overlap`);
    }
  } catch (err) {
    throw topoError('FAILED_PRECONDITION', (err as Error).message, { cause: err });
  }
}

/**
 * The key range a set of shards covers together, or null when they leave a gap or overlap
 * (switching one set for another is only safe between sets that cover the same range).
 */
function coveredRange(names: readonly string[]): { start: string; end: string } | null {
  const sorted = names.map((n) => ({ n, kr: shardKeyRange(n) })).sort((a, b) => compareKeyRanges(parseShardName(a.n), parseShardName(b.n)));
  for (let i = 1; i < sorted.length; i++) if (sorted[i - 1].kr.end === '' || sorted[i - 1].kr.end !== sorted[i].kr.start) return null;
  return sorted.length === 0 ? null : { start: sorted[0].kr.start, end: sorted[sorted.length - 1].kr.end };
}

/**
 * Builds a keyspace's SrvKeyspace from its shards: for each served type, the primary-serving
 * shards in key order, which must partition the key range (FAILED_PRECONDITION otherwise, or only
 * when they overlap with `allowPartial`); and the shards whose tablet controls disable the query
 * service of that type in `cell`.
 */
export function buildSrvKeyspace(
  keyspace: string,
  shards: readonly { name: string; shard: Shard }[],
  opts: { cell?: string; allowPartial?: boolean } = {},
): SrvKeyspace {
  const serving = shards
    .filter((s) => s.shard.is_primary_serving)
    .map((s) => ({ ...s, kr: parseShardName(s.name) }))
    .sort((a, b) => compareKeyRanges(a.kr, b.kr));
  checkServingShards(serving.map((s) => s.name), `serving shards of keyspace ${keyspace}`, opts.allowPartial ?? false);
  return {
    partitions: SERVED_TYPES.map((t) => ({
      served_type: t,
      shard_references: serving.map((s) => ({ name: s.name, key_range: s.shard.key_range })),
      shard_tablet_controls: opts.cell === undefined ? [] : shardTabletControls(shards, t, opts.cell),
    })),
  };
}

/** What `setShardTabletControl` changes. */
export interface TabletControlChange {
  /** Cells the control applies in; empty means every cell. */
  readonly cells?: readonly string[];
  /** Tables to deny (or, with `remove`, to stop denying). */
  readonly deniedTables?: readonly string[];
  /** Set or clear `disable_query_service`; unchanged when undefined. */
  readonly disableQueryService?: boolean;
  /**
   * Remove instead of add: the given denied tables, else the given cells, else the whole control
   * of the type. A control left with no tables and the query service enabled is dropped.
   */
  readonly remove?: boolean;
}

export class TopoServer {
  readonly options: TopoServerOptions;
  private readonly cellConns = new Map<string, { key: string; conn: Conn }>();

  constructor(
    /** The global topology. */
    readonly global: Conn,
    private readonly openCellConn: CellConnFactory,
    /** The global server address, the default for cells added without one. */
    readonly globalServerAddress: string,
    options: Partial<TopoServerOptions> = {},
  ) {
    this.options = { ...TOPO_SERVER_DEFAULTS, ...options };
  }

  async close(): Promise<void> {
    for (const { conn } of this.cellConns.values()) if (conn !== this.global) await conn.close();
    this.cellConns.clear();
    await this.global.close();
  }

  private op(): { signal: AbortSignal } {
    return { signal: AbortSignal.timeout(this.options.opTimeoutMs) };
  }

  private async getJson<T>(conn: Conn, path: string, notFound: string): Promise<Versioned<T>> {
    try {
      const n = await conn.get(path, this.op());
      return { value: decode<T>(n.data), version: n.version };
    } catch (err) {
      if (isTopoError(err, 'NO_NODE')) throw topoError('NO_NODE', notFound, { cause: err });
      throw err;
    }
  }

  private async getJsonOr<T>(conn: Conn, path: string, dflt: () => T): Promise<Versioned<T> | { value: T; version: null }> {
    try {
      const n = await conn.get(path, this.op());
      return { value: decode<T>(n.data), version: n.version };
    } catch (err) {
      if (isTopoError(err, 'NO_NODE')) return { value: dflt(), version: null };
      throw err;
    }
  }

  /** Deletes every node under `dir` and `dir` itself. */
  private async deleteTree(conn: Conn, dir: string): Promise<void> {
    for (const child of await conn.list(dir, this.op())) await this.deleteTree(conn, `${dir}/${child}`);
    try {
      await conn.delete(dir, null, this.op());
    } catch (err) {
      if (!isTopoError(err, 'NO_NODE')) throw err;
    }
  }

  /**
   * The one read-modify-write loop. `read` gives the value and its version (null: the node does
   * not exist, and the write creates it); `fn` edits the value in place or returns the value to
   * write, or false to write nothing. The write happens only at the version read; when another
   * writer got in between (BAD_VERSION, NODE_EXISTS, NO_NODE) the loop reads again and reapplies
   * `fn`, so `fn` must compute from what it is given. BAD_VERSION after casRetriesMax attempts.
   */
  private async casUpdate<T>(
    conn: Conn,
    path: string,
    what: string,
    read: () => Promise<{ value: T; version: Version | null }>,
    fn: (v: T) => T | void | false | Promise<T | void | false>,
  ): Promise<T> {
    for (let i = 0; i < this.options.casRetriesMax; i++) {
      const { value, version } = await read();
      const r = await fn(value);
      if (r === false) return value;
      const next = r === undefined ? value : r;
      try {
        if (version === null) await conn.create(path, encode(next), this.op());
        else await conn.update(path, encode(next), version, this.op());
        return next;
      } catch (err) {
        const raced = isTopoError(err, 'BAD_VERSION') || isTopoError(err, 'NODE_EXISTS') || (version !== null && isTopoError(err, 'NO_NODE'));
        if (!raced) throw err;
      }
    }
    throw topoError(
      'BAD_VERSION',
      `${what}: gave up after casRetriesMax=${this.options.casRetriesMax} attempts, each overtaken by a concurrent update; retry the command`,
    );
  }

  // ---- cells ----------------------------------------------------------------------------------

  async getCellInfoNames(): Promise<string[]> {
    return this.global.list('cells', this.op());
  }

  async getCellInfo(cell: string): Promise<CellInfo> {
    checkCellName(cell);
    return (await this.getJson<CellInfo>(this.global, `cells/${cell}/CellInfo`, `cell ${cell} not found`)).value;
  }

  /** Adds a cell. An empty server address means the global one; NODE_EXISTS if it exists. */
  async createCellInfo(cell: string, info: Partial<CellInfo>): Promise<CellInfo> {
    checkCellName(cell);
    const ci: CellInfo = { server_address: info.server_address || this.globalServerAddress, root: info.root || `/tessera/${cell}` };
    try {
      await this.global.create(`cells/${cell}/CellInfo`, encode(ci), this.op());
    } catch (err) {
      if (isTopoError(err, 'NODE_EXISTS')) throw topoError('NODE_EXISTS', `cell ${cell} already exists`, { cause: err });
      throw err;
    }
    return ci;
  }

  /** Deletes a cell; FAILED_PRECONDITION while it has tablets, unless `force`. */
  async deleteCellInfo(cell: string, force = false): Promise<void> {
    await this.getCellInfo(cell);
    if (!force) {
      const tablets = await this.getTabletAliasesByCell(cell);
      if (tablets.length > 0) throw topoError('FAILED_PRECONDITION', `cell ${cell} still has ${tablets.length} tablet(s); delete them first or use --force`);
    }
    await this.global.delete(`cells/${cell}/CellInfo`, null, this.op());
    this.cellConns.delete(cell);
  }

  /** The conn holding a cell's data (tablets, serving graph). NO_NODE for an unknown cell. */
  async cellConn(cell: string): Promise<Conn> {
    const ci = await this.getCellInfo(cell);
    const key = `${ci.server_address}\n${ci.root}`;
    const cached = this.cellConns.get(cell);
    if (cached && cached.key === key) return cached.conn;
    if (cached) await cached.conn.close();
    const conn = this.openCellConn(ci.server_address, ci.root);
    this.cellConns.set(cell, { key, conn });
    return conn;
  }

  private async cellsOrAll(cells: readonly string[] | undefined): Promise<string[]> {
    if (cells && cells.length > 0) {
      for (const c of cells) await this.getCellInfo(c);
      return [...cells];
    }
    return this.getCellInfoNames();
  }

  // ---- keyspaces ------------------------------------------------------------------------------

  async createKeyspace(keyspace: string, fields: Partial<Keyspace> = {}): Promise<Keyspace> {
    checkKeyspaceName(keyspace);
    const ks = newKeyspace(fields);
    try {
      await this.global.create(`${ksPath(keyspace)}/Keyspace`, encode(ks), this.op());
    } catch (err) {
      if (isTopoError(err, 'NODE_EXISTS')) throw topoError('NODE_EXISTS', `keyspace ${keyspace} already exists`, { cause: err });
      throw err;
    }
    return ks;
  }

  async getKeyspace(keyspace: string): Promise<Versioned<Keyspace>> {
    checkKeyspaceName(keyspace);
    const v = await this.getJson<Partial<Keyspace>>(this.global, `${ksPath(keyspace)}/Keyspace`, `keyspace ${keyspace} not found`);
    return { value: newKeyspace(v.value), version: v.version };
  }

  async getKeyspaceNames(): Promise<string[]> {
    const names = await this.global.list('keyspaces', this.op());
    const out: string[] = [];
    // A keyspace exists when its Keyspace node does (a dangling VSchema does not make one).
    for (const n of names) if ((await this.global.list(ksPath(n), this.op())).includes('Keyspace')) out.push(n);
    return out;
  }

  async updateKeyspaceFields(keyspace: string, fn: (ks: Keyspace) => void | false): Promise<Keyspace> {
    return this.casUpdate(this.global, `${ksPath(keyspace)}/Keyspace`, `keyspace ${keyspace}`, () => this.getKeyspace(keyspace), fn);
  }

  /**
   * Deletes a keyspace. FAILED_PRECONDITION if it has shards, unless `recursive`, which deletes
   * its shards (and their tablets), its VSchema and its serving graph in every cell too.
   */
  async deleteKeyspace(keyspace: string, opts: { recursive?: boolean; force?: boolean } = {}): Promise<void> {
    await this.getKeyspace(keyspace);
    const shards = await this.getShardNames(keyspace);
    if (shards.length > 0 && !opts.recursive) {
      throw topoError('FAILED_PRECONDITION', `keyspace ${keyspace} still has ${shards.length} shard(s) (${shards.join(', ')}); use --recursive to delete them`);
    }
    for (const s of shards) await this.deleteShard(keyspace, s, { recursive: true, evenIfServing: true });
    for (const cell of await this.getCellInfoNames()) {
      const conn = await this.cellConn(cell);
      await this.deleteTree(conn, ksPath(keyspace));
    }
    await this.deleteTree(this.global, ksPath(keyspace));
    log.info({ keyspace }, `deleted keyspace ${keyspace}`);
    // The serving VSchema must stop naming the keyspace; like Vitess, rebuild it where it exists.
    const cellsWithSrv: string[] = [];
    for (const cell of await this.getCellInfoNames()) {
      const conn = await this.cellConn(cell);
      if ((await this.getJsonOr<SrvVSchema>(conn, 'SrvVSchema', emptySrvVSchema)).version !== null) cellsWithSrv.push(cell);
    }
    if (cellsWithSrv.length > 0) await this.rebuildVSchemaGraph({ cells: cellsWithSrv });
  }

  // ---- shards ---------------------------------------------------------------------------------

  /**
   * Creates a shard. Its name must be a key range (`-80`, `80-`, `40-80`; `0` and `-` for the
   * whole range). A shard overlapping primary-serving shards is created not serving: it is a
   * resharding target. Overlapping a shard that is itself not serving (another set of targets)
   * or having the same key range as an existing shard is FAILED_PRECONDITION.
   */
  async createShard(keyspace: string, shard: string, lock?: TopoLock): Promise<Shard> {
    const kr = parseShardNameOrBad(shard);
    await this.getKeyspace(keyspace);
    return this.withKeyspaceLock(keyspace, `CreateShard(${shard})`, lock, async () => {
      const existing = await this.getShards(keyspace);
      // The shard itself first: a tablet starting on an existing shard expects NODE_EXISTS, also
      // while the shard is being split into others.
      if (existing.some((e) => e.name === shard)) throw topoError('NODE_EXISTS', `shard ${keyspace}/${shard} already exists`);
      const overlapping = existing.filter((e) => keyRangesIntersect(kr, parseShardName(e.name)));
      for (const e of overlapping) {
        if (keyRangeEqual(kr, parseShardName(e.name))) {
          throw topoError('FAILED_PRECONDITION', `shard ${keyspace}/${shard} would have the same key range as shard ${e.name}`);
        }
        if (!e.shard.is_primary_serving) {
          throw topoError(
            'FAILED_PRECONDITION',
            `shard ${keyspace}/${shard} would overlap shard ${e.name}, which is not serving (a resharding target); delete it first or pick a range that does not overlap it`,
          );
        }
      }
      const s = newShard(shard, { is_primary_serving: overlapping.length === 0 });
      try {
        await this.global.create(`${shardDir(keyspace, shard)}/Shard`, encode(s), this.op());
      } catch (err) {
        if (isTopoError(err, 'NODE_EXISTS')) throw topoError('NODE_EXISTS', `shard ${keyspace}/${shard} already exists`, { cause: err });
        throw err;
      }
      return s;
    });
  }

  async getShard(keyspace: string, shard: string): Promise<Versioned<Shard>> {
    checkKeyspaceName(keyspace);
    try {
      const v = await this.getJson<Partial<Shard>>(this.global, `${shardDir(keyspace, shard)}/Shard`, `shard ${keyspace}/${shard} not found`);
      return { value: normalizeShard(shard, v.value), version: v.version };
    } catch (err) {
      if (isTopoError(err, 'BAD_ARGUMENT')) throw topoError('BAD_ARGUMENT', `invalid shard name '${shard}'`, { cause: err });
      throw err;
    }
  }

  async getShardNames(keyspace: string): Promise<string[]> {
    checkKeyspaceName(keyspace);
    return this.global.list(`${ksPath(keyspace)}/shards`, this.op());
  }

  /** Every shard of the keyspace, in key-range order. */
  async getShards(keyspace: string): Promise<NamedShard[]> {
    const out: NamedShard[] = [];
    for (const name of await this.getShardNames(keyspace)) {
      try {
        const { value, version } = await this.getShard(keyspace, name);
        out.push({ name, shard: value, version });
      } catch (err) {
        if (!isTopoError(err, 'NO_NODE')) throw err; // deleted meanwhile
      }
    }
    return out.sort((a, b) => compareKeyRanges(parseShardName(a.name), parseShardName(b.name)));
  }

  /**
   * Read-modify-write of a shard: `fn` edits the shard in place (return false to skip the write).
   * Retried on a concurrent update up to casRetriesMax times; returns the shard as written.
   */
  async updateShardFields(keyspace: string, shard: string, fn: (s: Shard) => void | false): Promise<Shard> {
    return this.casUpdate(this.global, `${shardDir(keyspace, shard)}/Shard`, `shard ${keyspace}/${shard}`, () => this.getShard(keyspace, shard), fn);
  }

  /**
   * Deletes a shard. FAILED_PRECONDITION while it has tablets (unless `recursive`, which deletes
   * them) or while it is primary-serving (unless `evenIfServing`). Removes it from every cell's
   * SrvKeyspace.
   */
  async deleteShard(keyspace: string, shard: string, opts: { recursive?: boolean; evenIfServing?: boolean } = {}): Promise<void> {
    const { value: s } = await this.getShard(keyspace, shard);
    if (s.is_primary_serving && !opts.evenIfServing) {
      throw topoError('FAILED_PRECONDITION', `shard ${keyspace}/${shard} is serving; use --even-if-serving to delete it anyway`);
    }
    const tablets = await this.getTablets({ keyspace, shard });
    if (tablets.length > 0 && !opts.recursive) {
      throw topoError(
        'FAILED_PRECONDITION',
        `shard ${keyspace}/${shard} still has ${tablets.length} tablet(s) (${tablets.map((t) => tabletAliasString(t.alias)).join(', ')}); use --recursive to delete them`,
      );
    }
    for (const t of tablets) await this.deleteTablet(t.alias);
    for (const cell of await this.getSrvKeyspaceCells(keyspace)) {
      await this.updateSrvKeyspaceFields(cell, keyspace, (srv) => {
        for (const p of srv.partitions) {
          p.shard_references = p.shard_references.filter((r) => r.name !== shard);
          p.shard_tablet_controls = p.shard_tablet_controls.filter((c) => c.name !== shard);
        }
      });
    }
    await this.deleteTree(this.global, shardDir(keyspace, shard));
    log.info({ keyspace, shard }, `deleted shard ${keyspace}/${shard}`);
  }

  // ---- tablets --------------------------------------------------------------------------------

  /** Records a tablet in its cell. NODE_EXISTS if the alias is taken; NO_NODE for an unknown cell. */
  async createTablet(t: Tablet): Promise<void> {
    const conn = await this.cellConn(t.alias.cell);
    try {
      await conn.create(tabletPath(t.alias), encode(t), this.op());
    } catch (err) {
      if (isTopoError(err, 'NODE_EXISTS')) throw topoError('NODE_EXISTS', `tablet ${tabletAliasString(t.alias)} already exists`, { cause: err });
      throw err;
    }
  }

  async getTablet(alias: TabletAlias): Promise<Versioned<Tablet>> {
    const conn = await this.cellConn(alias.cell);
    return this.getJson<Tablet>(conn, tabletPath(alias), `tablet ${tabletAliasString(alias)} not found`);
  }

  async updateTabletFields(alias: TabletAlias, fn: (t: Tablet) => void | false): Promise<Tablet> {
    const conn = await this.cellConn(alias.cell);
    return this.casUpdate(conn, tabletPath(alias), `tablet ${tabletAliasString(alias)}`, () => this.getTablet(alias), fn);
  }

  async deleteTablet(alias: TabletAlias): Promise<void> {
    const conn = await this.cellConn(alias.cell);
    try {
      await this.deleteTree(conn, `tablets/${tabletAliasString(alias)}`);
    } catch (err) {
      if (isTopoError(err, 'NO_NODE')) throw topoError('NO_NODE', `tablet ${tabletAliasString(alias)} not found`, { cause: err });
      throw err;
    }
  }

  // ---- gates ----------------------------------------------------------------------------------

  /**
   * A running gate's record in its cell (`gates/<name>`), written at start and deleted at close, so
   * that ctld can tell which gates ignore shard routing rules. A gate that died without closing
   * leaves its record until a gate of the same name starts again or it is deleted.
   */
  async registerGate(cell: string, name: string, record: GateRecord): Promise<void> {
    const conn = await this.cellConn(cell);
    await conn.update(`gates/${encodeURIComponent(name)}`, encode(record), null, this.op());
  }

  async unregisterGate(cell: string, name: string): Promise<void> {
    const conn = await this.cellConn(cell);
    try {
      await conn.delete(`gates/${encodeURIComponent(name)}`, null, this.op());
    } catch (err) {
      if (!isTopoError(err, 'NO_NODE')) throw err;
    }
  }

  /** The gates registered in `cell`, by name. */
  async getGates(cell: string): Promise<{ name: string; record: GateRecord }[]> {
    const conn = await this.cellConn(cell);
    const out: { name: string; record: GateRecord }[] = [];
    for (const n of await conn.list('gates', this.op())) {
      const got = await this.getJsonOr<GateRecord | null>(conn, `gates/${n}`, () => null);
      if (got.value) out.push({ name: decodeURIComponent(n), record: got.value });
    }
    return out;
  }

  async getTabletAliasesByCell(cell: string): Promise<TabletAlias[]> {
    const conn = await this.cellConn(cell);
    const out: TabletAlias[] = [];
    for (const name of await conn.list('tablets', this.op())) {
      const m = /^(.+)-(\d+)$/.exec(name);
      if (m) out.push({ cell: m[1], uid: Number(m[2]) });
    }
    return out;
  }

  async getTabletsByCell(cell: string): Promise<Tablet[]> {
    const conn = await this.cellConn(cell);
    const out: Tablet[] = [];
    for (const a of await this.getTabletAliasesByCell(cell)) {
      try {
        out.push((await this.getJson<Tablet>(conn, tabletPath(a), '')).value);
      } catch (err) {
        if (!isTopoError(err, 'NO_NODE')) throw err; // deleted meanwhile
      }
    }
    return out;
  }

  /** Tablets of the given cells (all by default) matching the filter, ordered by cell then uid. */
  async getTablets(filter: TabletFilter = {}): Promise<Tablet[]> {
    const out: Tablet[] = [];
    for (const cell of await this.cellsOrAll(filter.cells)) {
      for (const t of await this.getTabletsByCell(cell)) {
        if (filter.keyspace !== undefined && t.keyspace !== filter.keyspace) continue;
        if (filter.shard !== undefined && t.shard !== filter.shard) continue;
        if (filter.tabletType !== undefined && t.type !== filter.tabletType) continue;
        out.push(t);
      }
    }
    return out.sort((a, b) => (a.alias.cell < b.alias.cell ? -1 : a.alias.cell > b.alias.cell ? 1 : a.alias.uid - b.alias.uid));
  }

  // ---- VSchema and rules ----------------------------------------------------------------------

  /** The keyspace's VSchema; NO_NODE if none was applied. */
  async getVSchema(keyspace: string): Promise<KeyspaceVSchema> {
    await this.getKeyspace(keyspace);
    return (await this.getJson<KeyspaceVSchema>(this.global, `${ksPath(keyspace)}/VSchema`, `no vschema for keyspace ${keyspace}`)).value;
  }

  /**
   * Validates a keyspace's VSchema on its own and against the rest of the cluster (sequences,
   * reference sources, rule targets), then stores it unless `dryRun`; returns the canonical form.
   * BAD_ARGUMENT for an invalid VSchema, FAILED_PRECONDITION for a cluster inconsistency; either
   * way nothing is written.
   */
  async saveVSchema(keyspace: string, vschema: Json, opts: { dryRun?: boolean } = {}): Promise<KeyspaceVSchema> {
    await this.getKeyspace(keyspace);
    const v = validateKeyspaceVSchema(keyspace, vschema);
    const srv = await this.buildSrvVSchema();
    srv.keyspaces[keyspace] = v;
    checkSrvVSchema(srv, `the vschema of keyspace ${keyspace}`);
    if (!opts.dryRun) await this.global.update(`${ksPath(keyspace)}/VSchema`, encode(v), null, this.op());
    return v;
  }

  async deleteVSchema(keyspace: string): Promise<void> {
    await this.global.delete(`${ksPath(keyspace)}/VSchema`, null, this.op());
  }

  async getRoutingRules(): Promise<RoutingRules> {
    return (await this.getJsonOr<RoutingRules>(this.global, 'RoutingRules', () => ({ rules: [] }))).value;
  }

  /** Validates (alone and against the cluster) and stores the routing rules unless `dryRun`. */
  async saveRoutingRules(rules: Json, opts: { dryRun?: boolean } = {}): Promise<RoutingRules> {
    return this.updateRoutingRules(() => validateRoutingRules(rules), opts);
  }

  /**
   * Read-modify-write of the routing rules: `fn` edits them in place or returns new ones (false:
   * no change). The result is validated like `saveRoutingRules`; a concurrent update makes `fn`
   * run again on the newer rules.
   */
  async updateRoutingRules(fn: (r: RoutingRules) => RoutingRules | void | false, opts: { dryRun?: boolean } = {}): Promise<RoutingRules> {
    return this.updateRules('RoutingRules', 'routing_rules', 'these routing rules', validateRoutingRules, () => ({ rules: [] }), fn, opts);
  }

  async getShardRoutingRules(): Promise<ShardRoutingRules> {
    return (await this.getJsonOr<ShardRoutingRules>(this.global, 'ShardRoutingRules', () => ({ rules: [] }))).value;
  }

  /**
   * Validates and stores the shard routing rules (ApplyShardRoutingRules). Beyond the rules' own
   * checks (one rule per keyspace and shard, never to its own keyspace), both keyspaces must exist
   * and the shard must be one of the source keyspace's shards, and of the target's when it has
   * any: a rule for a shard that does not exist would silently never apply.
   */
  async saveShardRoutingRules(rules: Json, opts: { dryRun?: boolean } = {}): Promise<ShardRoutingRules> {
    const valid = validateShardRoutingRules(rules);
    const keyspaces = new Set(await this.getKeyspaceNames());
    const shardsOf = new Map<string, string[]>();
    const shards = async (ks: string): Promise<string[]> => {
      let s = shardsOf.get(ks);
      if (!s) shardsOf.set(ks, (s = await this.getShardNames(ks)));
      return s;
    };
    for (const r of valid.rules) {
      for (const [side, ks] of [['from_keyspace', r.from_keyspace], ['to_keyspace', r.to_keyspace]] as const) {
        if (!keyspaces.has(ks)) throw topoError('BAD_ARGUMENT', `shard routing rule ${r.from_keyspace}/${r.shard}: ${side} ${ks} is not a keyspace; create it first or fix the rule`);
      }
      const from = await shards(r.from_keyspace);
      if (!from.includes(r.shard)) {
        throw topoError('BAD_ARGUMENT', `shard routing rule ${r.from_keyspace}/${r.shard}: keyspace ${r.from_keyspace} has no shard ${r.shard} (its shards: ${from.join(', ') || 'none'}); a rule names one of its keyspace's shards`);
      }
      const to = await shards(r.to_keyspace);
      if (to.length > 0 && !to.includes(r.shard)) {
        throw topoError('BAD_ARGUMENT', `shard routing rule ${r.from_keyspace}/${r.shard}: keyspace ${r.to_keyspace} has no shard ${r.shard} (its shards: ${to.join(', ')}); both keyspaces must have the same shards`);
      }
    }
    return this.updateShardRoutingRules(() => valid, opts);
  }

  /** Read-modify-write of the shard routing rules, as `updateRoutingRules`. */
  async updateShardRoutingRules(fn: (r: ShardRoutingRules) => ShardRoutingRules | void | false, opts: { dryRun?: boolean } = {}): Promise<ShardRoutingRules> {
    return this.updateRules('ShardRoutingRules', 'shard_routing_rules', 'these shard routing rules', validateShardRoutingRules, () => ({ rules: [] }), fn, opts);
  }

  /**
   * Per-cell routing rule overrides (global node `CellRoutingRules`): in a cell listed here, each
   * rule replaces the global rule of the same from_table in that cell's SrvVSchema. A MoveTables
   * read switch of only some cells writes them (see foldCellRoutingRules); the global routing rules
   * stay what every other cell sees, so GetRoutingRules keeps meaning "the cluster's rules".
   */
  async getCellRoutingRules(): Promise<Record<string, RoutingRules>> {
    return (await this.getJsonOr<{ cells: Record<string, RoutingRules> }>(this.global, 'CellRoutingRules', () => ({ cells: {} }))).value.cells ?? {};
  }

  /** Read-modify-write of the per-cell overrides (`fn` edits the map in place; false: no change); empty cells are dropped. */
  async updateCellRoutingRules(fn: (cells: Record<string, RoutingRules>) => void | false): Promise<Record<string, RoutingRules>> {
    const out = await this.casUpdate(
      this.global,
      'CellRoutingRules',
      'the per-cell routing rules',
      () => this.getJsonOr<{ cells: Record<string, RoutingRules> }>(this.global, 'CellRoutingRules', () => ({ cells: {} })),
      async (v) => {
        v.cells ??= {};
        if (fn(v.cells) === false) return false;
        for (const [cell, r] of Object.entries(v.cells)) {
          if (r.rules.length === 0) delete v.cells[cell];
          else {
            await this.getCellInfo(cell);
            v.cells[cell] = validateRoutingRules(r as unknown as Json);
          }
        }
      },
    );
    return out.cells;
  }

  async getKeyspaceRoutingRules(): Promise<KeyspaceRoutingRules> {
    return (await this.getJsonOr<KeyspaceRoutingRules>(this.global, 'KeyspaceRoutingRules', () => ({ rules: [] }))).value;
  }

  async saveKeyspaceRoutingRules(rules: Json, opts: { dryRun?: boolean } = {}): Promise<KeyspaceRoutingRules> {
    return this.updateKeyspaceRoutingRules(() => validateKeyspaceRoutingRules(rules), opts);
  }

  async updateKeyspaceRoutingRules(
    fn: (r: KeyspaceRoutingRules) => KeyspaceRoutingRules | void | false,
    opts: { dryRun?: boolean } = {},
  ): Promise<KeyspaceRoutingRules> {
    return this.updateRules('KeyspaceRoutingRules', 'keyspace_routing_rules', 'these keyspace routing rules', validateKeyspaceRoutingRules, () => ({ rules: [] }), fn, opts);
  }

  /**
   * Applies `fn` to the stored rules, validates the result alone and against the whole cluster's
   * serving VSchema, and stores it at the version read (unless `dryRun`), retrying on a
   * concurrent update.
   */
  private async updateRules<K extends 'routing_rules' | 'shard_routing_rules' | 'keyspace_routing_rules'>(
    path: string,
    field: K,
    what: string,
    validate: (v: Json) => SrvVSchema[K],
    empty: () => SrvVSchema[K],
    fn: (r: SrvVSchema[K]) => SrvVSchema[K] | void | false,
    opts: { dryRun?: boolean },
  ): Promise<SrvVSchema[K]> {
    const apply = async (cur: SrvVSchema[K]): Promise<SrvVSchema[K] | false> => {
      const r = fn(cur);
      if (r === false) return false;
      const rules = validate((r ?? cur) as unknown as Json);
      const srv = await this.buildSrvVSchema();
      srv[field] = rules;
      checkSrvVSchema(srv, what);
      return rules;
    };
    const read = () => this.getJsonOr<SrvVSchema[K]>(this.global, path, empty);
    if (opts.dryRun) {
      const { value } = await read();
      const r = await apply(value);
      return r === false ? value : r;
    }
    return this.casUpdate(this.global, path, what, read, apply);
  }

  /** The serving VSchema as the global topology defines it now (`{}` for a keyspace without one). */
  async buildSrvVSchema(): Promise<SrvVSchema> {
    const srv = emptySrvVSchema();
    for (const ks of await this.getKeyspaceNames()) {
      srv.keyspaces[ks] = (await this.getJsonOr<KeyspaceVSchema>(this.global, `${ksPath(ks)}/VSchema`, () => ({}))).value;
    }
    srv.routing_rules = await this.getRoutingRules();
    srv.shard_routing_rules = await this.getShardRoutingRules();
    srv.keyspace_routing_rules = await this.getKeyspaceRoutingRules();
    return srv;
  }

  // ---- serving graph --------------------------------------------------------------------------

  async getSrvKeyspace(cell: string, keyspace: string): Promise<SrvKeyspace> {
    const conn = await this.cellConn(cell);
    const v = await this.getJson<Partial<SrvKeyspace>>(conn, `${ksPath(keyspace)}/SrvKeyspace`, `no serving graph for keyspace ${keyspace} in cell ${cell}; run RebuildKeyspaceGraph ${keyspace}`);
    return normalizeSrvKeyspace(v.value);
  }

  async getSrvKeyspaceNames(cell: string): Promise<string[]> {
    const conn = await this.cellConn(cell);
    const out: string[] = [];
    for (const n of await conn.list('keyspaces', this.op())) if ((await conn.list(ksPath(n), this.op())).includes('SrvKeyspace')) out.push(n);
    return out;
  }

  /** The cells that have a SrvKeyspace for the keyspace. */
  async getSrvKeyspaceCells(keyspace: string): Promise<string[]> {
    const out: string[] = [];
    for (const cell of await this.getCellInfoNames()) {
      const conn = await this.cellConn(cell);
      if ((await conn.list(ksPath(keyspace), this.op())).includes('SrvKeyspace')) out.push(cell);
    }
    return out;
  }

  /**
   * Read-modify-write of a cell's SrvKeyspace (created from no partitions when it does not exist):
   * `fn` edits it in place, or returns false to write nothing. Retried on a concurrent update.
   */
  async updateSrvKeyspaceFields(cell: string, keyspace: string, fn: (srv: SrvKeyspace, existed: boolean) => void | false): Promise<SrvKeyspace> {
    const conn = await this.cellConn(cell);
    const path = `${ksPath(keyspace)}/SrvKeyspace`;
    let existed = false;
    return this.casUpdate(
      conn,
      path,
      `serving graph of keyspace ${keyspace} in cell ${cell}`,
      async () => {
        const v = await this.getJsonOr<Partial<SrvKeyspace> | null>(conn, path, () => null);
        existed = v.version !== null;
        return { value: normalizeSrvKeyspace(v.value), version: v.version };
      },
      (srv) => {
        if (fn(srv, existed) === false) return false;
        sortPartitions(srv);
      },
    );
  }

  async getSrvVSchema(cell: string): Promise<SrvVSchema> {
    const conn = await this.cellConn(cell);
    return (await this.getJson<SrvVSchema>(conn, 'SrvVSchema', `no serving vschema in cell ${cell}; run RebuildVSchemaGraph`)).value;
  }

  async updateSrvVSchema(cell: string, srv: SrvVSchema): Promise<void> {
    const conn = await this.cellConn(cell);
    await conn.update('SrvVSchema', encode(srv), null, this.op());
  }

  private async typedWatch<T>(conn: Conn, path: string, signal: AbortSignal | undefined, normalize: (v: T) => T = (v) => v): Promise<TypedWatch<T>> {
    const w = await conn.watch(path, signal ? { signal } : {});
    async function* changes(): AsyncGenerator<TypedWatchEvent<T>> {
      for await (const e of w.changes) yield e.kind === 'changed' ? { kind: 'changed', value: normalize(decode<T>(e.data)) } : e;
    }
    return { current: normalize(decode<T>(w.current.data)), changes: changes() };
  }

  /** The cell's SrvVSchema now and every later change (see `Conn.watch`); stop with `signal`. */
  async watchSrvVSchema(cell: string, signal?: AbortSignal): Promise<TypedWatch<SrvVSchema>> {
    return this.typedWatch<SrvVSchema>(await this.cellConn(cell), 'SrvVSchema', signal);
  }

  async watchSrvKeyspace(cell: string, keyspace: string, signal?: AbortSignal): Promise<TypedWatch<SrvKeyspace>> {
    return this.typedWatch<SrvKeyspace>(await this.cellConn(cell), `${ksPath(keyspace)}/SrvKeyspace`, signal, normalizeSrvKeyspace);
  }

  /**
   * Rebuilds the keyspace's SrvKeyspace in the given cells (all by default), under the keyspace
   * lock (pass `lock` when the caller already holds it). A partition that exists is kept as it is,
   * with its shard tablet controls: it may be half way through a switch (replica reads on new
   * shards, writes on old ones) that only the workflow switching it may change. A missing
   * partition, or every partition with `resetPartitions`, is built from the primary-serving shards
   * (which must cover the key range unless `allowPartial`) and the shards' tablet controls.
   * Vitess's rebuild overwrites every partition; Tessera's does not, so that a rebuild (and a
   * `tessera up` restart) never undoes a switch. Returns the SrvKeyspace per cell.
   */
  async rebuildKeyspaceGraph(
    keyspace: string,
    opts: { cells?: readonly string[]; lock?: TopoLock; allowPartial?: boolean; resetPartitions?: boolean } = {},
  ): Promise<Record<string, SrvKeyspace>> {
    await this.getKeyspace(keyspace);
    return this.withKeyspaceLock(keyspace, 'RebuildKeyspace', opts.lock, async (lock) => {
      const shards = await this.getShards(keyspace);
      const cells = await this.cellsOrAll(opts.cells);
      const out: Record<string, SrvKeyspace> = {};
      for (const cell of cells) {
        // Built only when a partition is missing: a complete serving graph is kept even while the
        // shard records would not make a valid one (half-way through a reshard).
        let built: SrvKeyspace | null = null;
        const fresh = (t: TabletType): KeyspacePartition => {
          built ??= buildSrvKeyspace(keyspace, shards, { cell, allowPartial: opts.allowPartial ?? false });
          return built.partitions.find((p) => p.served_type === t)!;
        };
        await lock.check();
        out[cell] = await this.updateSrvKeyspaceFields(cell, keyspace, (srv, existed) => {
          if (opts.resetPartitions) srv.partitions = [];
          let changed = !existed || opts.resetPartitions === true;
          for (const t of SERVED_TYPES) {
            if (srv.partitions.some((p) => p.served_type === t)) continue;
            srv.partitions.push(fresh(t));
            changed = true;
          }
          return changed ? undefined : false;
        });
      }
      log.info({ keyspace, cells }, `rebuilt serving graph of keyspace ${keyspace}`);
      return out;
    });
  }

  /**
   * Switches the shards serving `tabletType` in the keyspace's serving graph from `from` to `to`
   * (two sets covering the same key range), in the given cells (every cell with a serving graph
   * by default), under the keyspace lock. Idempotent: a cell already switched is left alone. For
   * `primary`, which Vitess switches in every cell at once, the shard records follow too: `from`
   * stop being primary-serving and `to` start. The building block of MigrateServedTypes and of
   * traffic switching; the safety checks (replication caught up, writes stopped) are the caller's.
   * FAILED_PRECONDITION, with nothing written, when a cell's partition serves neither set.
   */
  async switchServedShards(
    keyspace: string,
    tabletType: TabletType,
    from: readonly string[],
    to: readonly string[],
    opts: { cells?: readonly string[]; lock?: TopoLock } = {},
  ): Promise<Record<string, SrvKeyspace>> {
    if (!SERVED_TYPES.includes(tabletType)) throw topoError('BAD_ARGUMENT', `tablet type ${tabletType} is not served (want one of ${SERVED_TYPES.join(', ')})`);
    if (from.length === 0 || to.length === 0) throw topoError('BAD_ARGUMENT', 'switching served shards needs shards to switch from and to');
    const both = [...from, ...to];
    if (new Set(both).size !== both.length) throw topoError('BAD_ARGUMENT', `a shard appears twice in ${from.join(',')} -> ${to.join(',')}`);
    const fromRange = coveredRange(from);
    const toRange = coveredRange(to);
    if (fromRange === null || toRange === null || fromRange.start !== toRange.start || fromRange.end !== toRange.end) {
      throw topoError(
        'BAD_ARGUMENT',
        `shards ${from.join(',')} and ${to.join(',')} do not cover the same key range without gaps or overlaps, so one set cannot replace the other`,
      );
    }
    await this.getKeyspace(keyspace);
    return this.withKeyspaceLock(keyspace, `SwitchServedShards(${tabletType})`, opts.lock, async (lock) => {
      const records = new Map<string, Shard>();
      for (const name of both) records.set(name, (await this.getShard(keyspace, name)).value);
      const withSrv = await this.getSrvKeyspaceCells(keyspace);
      let cells: string[];
      if (opts.cells && opts.cells.length > 0) {
        for (const c of opts.cells) {
          if (!withSrv.includes(c)) throw topoError('FAILED_PRECONDITION', `keyspace ${keyspace} has no serving graph in cell ${c}; run RebuildKeyspaceGraph ${keyspace} first`);
        }
        cells = [...opts.cells];
        if (tabletType === 'primary' && withSrv.some((c) => !cells.includes(c))) {
          throw topoError('BAD_ARGUMENT', 'the primary is switched in every cell at once (it is one per shard); leave out --cells');
        }
      } else {
        cells = withSrv;
        if (cells.length === 0) throw topoError('FAILED_PRECONDITION', `keyspace ${keyspace} has no serving graph; run RebuildKeyspaceGraph ${keyspace} first`);
      }
      // Which state each cell is in, checked for every cell before any is written.
      const state = (srv: SrvKeyspace, cell: string): 'from' | 'to' => {
        const p = srv.partitions.find((x) => x.served_type === tabletType);
        const names = new Set(p?.shard_references.map((r) => r.name) ?? []);
        if (from.every((n) => names.has(n)) && !to.some((n) => names.has(n))) return 'from';
        if (to.every((n) => names.has(n)) && !from.some((n) => names.has(n))) return 'to';
        throw topoError(
          'FAILED_PRECONDITION',
          `the ${tabletType} partition of keyspace ${keyspace} in cell ${cell} is served by ${[...names].join(',') || 'no shards'}, which holds neither ${from.join(',')} nor ${to.join(',')}`,
        );
      };
      for (const cell of cells) state(await this.getSrvKeyspace(cell, keyspace), cell);
      await lock.check();
      const out: Record<string, SrvKeyspace> = {};
      for (const cell of cells) {
        out[cell] = await this.updateSrvKeyspaceFields(cell, keyspace, (srv) => {
          if (state(srv, cell) === 'to') return false;
          const p = srv.partitions.find((x) => x.served_type === tabletType)!;
          p.shard_references = p.shard_references.filter((r) => !from.includes(r.name));
          for (const n of to) p.shard_references.push({ name: n, key_range: records.get(n)!.key_range });
        });
      }
      if (tabletType === 'primary') {
        for (const n of to) await this.updateShardFields(keyspace, n, (s) => (s.is_primary_serving ? false : void (s.is_primary_serving = true)));
        for (const n of from) await this.updateShardFields(keyspace, n, (s) => (s.is_primary_serving ? void (s.is_primary_serving = false) : false));
      }
      log.info({ keyspace, tabletType, from, to, cells }, `switched ${tabletType} of keyspace ${keyspace} from ${from.join(',')} to ${to.join(',')}`);
      return out;
    });
  }

  /**
   * The topology half of the seeds' MigrateServedTypes: switches `servedType` from `shard` to the
   * shards overlapping it (its resharding targets), or back with `reverse`. Only a split of one
   * shard is handled here: the targets must cover `shard` exactly. Reshard's SwitchTraffic wraps
   * this with its safety checks.
   */
  async migrateServedType(
    keyspace: string,
    shard: string,
    servedType: TabletType,
    opts: { cells?: readonly string[]; reverse?: boolean; lock?: TopoLock } = {},
  ): Promise<{ from: string[]; to: string[]; cells: Record<string, SrvKeyspace> }> {
    await this.getShard(keyspace, shard);
    const kr = parseShardName(shard);
    const targets = (await this.getShards(keyspace)).filter((s) => s.name !== shard && keyRangesIntersect(kr, parseShardName(s.name))).map((s) => s.name);
    if (targets.length === 0) throw topoError('FAILED_PRECONDITION', `shard ${keyspace}/${shard} has no overlapping shards to migrate ${servedType} to; create the target shards first`);
    const cover = coveredRange(targets);
    const own = shardKeyRange(shard);
    if (cover === null || cover.start !== own.start || cover.end !== own.end) {
      throw topoError(
        'FAILED_PRECONDITION',
        `the shards overlapping ${keyspace}/${shard} (${targets.join(', ')}) do not cover it exactly; MigrateServedTypes moves one shard to the shards it was split into (merges come with Reshard)`,
      );
    }
    const [from, to] = opts.reverse ? [targets, [shard]] : [[shard], targets];
    const cells = await this.switchServedShards(keyspace, servedType, from, to, opts);
    return { from, to, cells };
  }

  /**
   * Sets, changes or removes the tablet control of one shard and tablet type (Vitess's
   * SetShardTabletControl), under the keyspace lock, and mirrors `disable_query_service` into the
   * shard tablet controls of the type's partition in every cell with a serving graph. Tablets
   * pick it up at their next refresh (or RefreshState).
   */
  async setShardTabletControl(keyspace: string, shard: string, tabletType: TabletType, change: TabletControlChange, lock?: TopoLock): Promise<Shard> {
    const cells = [...(change.cells ?? [])];
    for (const c of cells) await this.getCellInfo(c);
    const tables = [...(change.deniedTables ?? [])];
    if (!change.remove && tables.length === 0 && change.disableQueryService === undefined) {
      throw topoError('BAD_ARGUMENT', 'nothing to set: give --denied-tables, --disable-query-service, or --remove');
    }
    await this.getShard(keyspace, shard);
    return this.withKeyspaceLock(keyspace, `SetShardTabletControl(${shard}, ${tabletType})`, lock, async (held) => {
      await held.check();
      const updated = await this.updateShardFields(keyspace, shard, (s) => {
        const before = JSON.stringify(s.tablet_controls);
        let tc: TabletControl | undefined = s.tablet_controls.find((c) => c.tablet_type === tabletType);
        if (change.remove) {
          if (!tc) return false;
          if (tables.length > 0) {
            tc.denied_tables = tc.denied_tables.filter((t) => !tables.includes(t));
          } else if (cells.length > 0 && tc.cells.length > 0) {
            tc.cells = tc.cells.filter((c) => !cells.includes(c));
            // No cell left: the control is gone (an empty list would mean every cell).
            if (tc.cells.length === 0) tc = undefined;
          } else {
            tc = undefined;
          }
          if (tc && change.disableQueryService !== undefined) tc.disable_query_service = change.disableQueryService;
        } else {
          if (!tc) {
            tc = newTabletControl({ tablet_type: tabletType, cells });
            s.tablet_controls.push(tc);
          } else if (cells.length === 0 || tc.cells.length === 0) {
            tc.cells = [];
          } else {
            tc.cells = [...new Set([...tc.cells, ...cells])].sort();
          }
          tc.denied_tables = [...new Set([...tc.denied_tables, ...tables])].sort();
          if (change.disableQueryService !== undefined) tc.disable_query_service = change.disableQueryService;
        }
        s.tablet_controls = s.tablet_controls.filter((c) => c.tablet_type !== tabletType);
        if (tc && (tc.denied_tables.length > 0 || tc.disable_query_service)) s.tablet_controls.push(tc);
        s.tablet_controls.sort((a, b) => SERVED_TYPES.indexOf(a.tablet_type) - SERVED_TYPES.indexOf(b.tablet_type));
        if (JSON.stringify(s.tablet_controls) === before) return false;
      });
      await this.syncShardTabletControls(keyspace, shard, updated);
      return updated;
    });
  }

  /** Makes every cell's serving graph say what the shard record says about query service. */
  private async syncShardTabletControls(keyspace: string, shard: string, record: Shard): Promise<void> {
    for (const cell of await this.getSrvKeyspaceCells(keyspace)) {
      await this.updateSrvKeyspaceFields(cell, keyspace, (srv) => {
        let changed = false;
        for (const p of srv.partitions) {
          const want = queryServiceDisabled(record, p.served_type, cell);
          const has = p.shard_tablet_controls.some((c) => c.name === shard && c.query_service_disabled);
          if (want === has) continue;
          p.shard_tablet_controls = p.shard_tablet_controls.filter((c) => c.name !== shard);
          if (want) p.shard_tablet_controls.push({ name: shard, key_range: record.key_range, query_service_disabled: true });
          changed = true;
        }
        return changed ? undefined : false;
      });
    }
  }

  /**
   * Builds the SrvVSchema from every keyspace's VSchema and the rules, and writes it to the cells
   * (all by default). Cross-keyspace problems are logged, not fatal: the gates still need the
   * rest of the cluster (the Apply commands refuse to create such problems in the first place).
   */
  async rebuildVSchemaGraph(opts: { cells?: readonly string[] } = {}): Promise<SrvVSchema> {
    const srv = await this.buildSrvVSchema();
    for (const p of srvVSchemaProblems(srv)) log.warn(`serving vschema: ${p}`);
    const cells = await this.cellsOrAll(opts.cells);
    const overrides = await this.getCellRoutingRules();
    for (const cell of cells) await this.updateSrvVSchema(cell, foldCellRoutingRules(srv, overrides[cell]));
    log.info({ cells }, 'rebuilt serving vschema');
    return srv;
  }

  // ---- locks ----------------------------------------------------------------------------------

  private lockContents(action: string): string {
    const c: LockContents = { action, holder: hostname(), pid: process.pid, time: new Date().toISOString() };
    return JSON.stringify(c);
  }

  private async takeLock(dir: string, what: string, action: string, opts: LockOpts): Promise<LockHandle> {
    log.info(`Locking ${what} for action ${action}`);
    try {
      return await this.global.lock(dir, this.lockContents(action), {
        timeoutMs: opts.timeoutMs ?? this.options.lockTimeoutMs,
        ttlMs: opts.ttlMs ?? this.options.lockTtlMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (isTopoError(err, 'TIMEOUT')) throw topoError('TIMEOUT', `cannot lock ${what} for action ${action}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  private wrapLock(h: LockHandle, what: string, keyspace: string, shard: string | undefined, action: string): TopoLock {
    return {
      keyspace,
      ...(shard !== undefined ? { shard } : {}),
      action,
      check: () => h.check(),
      unlock: async (err?: unknown) => {
        if (err === undefined) log.info(`Unlocking ${what} for successful action ${action}`);
        else log.warn(`Unlocking ${what} for failed action ${action} with error ${(err as Error).message ?? String(err)}`);
        await h.unlock();
      },
    };
  }

  /** Takes the keyspace lock (`Locking keyspace customer for action SwitchTraffic`). */
  async lockKeyspace(keyspace: string, action: string, opts: LockOpts = {}): Promise<TopoLock> {
    checkKeyspaceName(keyspace);
    const what = `keyspace ${keyspace}`;
    return this.wrapLock(await this.takeLock(ksPath(keyspace), what, action, opts), what, keyspace, undefined, action);
  }

  async lockShard(keyspace: string, shard: string, action: string, opts: LockOpts = {}): Promise<TopoLock> {
    checkKeyspaceName(keyspace);
    const what = `shard ${keyspace}/${shard}`;
    return this.wrapLock(await this.takeLock(shardDir(keyspace, shard), what, action, opts), what, keyspace, shard, action);
  }

  /** Who holds the shard lock (its LockContents: a reparent), or null. */
  async shardLockHolder(keyspace: string, shard: string): Promise<LockContents | null> {
    const c = await this.global.lockInfo(shardDir(keyspace, shard), this.op());
    return c === null ? null : (JSON.parse(c) as LockContents);
  }

  /** Who holds the keyspace lock (its LockContents), or null. */
  async keyspaceLockHolder(keyspace: string): Promise<LockContents | null> {
    const c = await this.global.lockInfo(ksPath(keyspace), this.op());
    return c === null ? null : (JSON.parse(c) as LockContents);
  }

  /**
   * Runs `fn` under the keyspace lock. With `held` (a lock on this keyspace the caller already
   * has), runs under that one instead, so locked actions compose.
   */
  async withKeyspaceLock<T>(keyspace: string, action: string, held: TopoLock | undefined, fn: (lock: TopoLock) => Promise<T>): Promise<T> {
    if (held && held.keyspace === keyspace && held.shard === undefined) {
      await held.check();
      return fn(held);
    }
    const lock = await this.lockKeyspace(keyspace, action);
    try {
      const r = await fn(lock);
      await lock.unlock();
      return r;
    } catch (err) {
      await lock.unlock(err);
      throw err;
    }
  }

  async withShardLock<T>(keyspace: string, shard: string, action: string, fn: (lock: TopoLock) => Promise<T>): Promise<T> {
    const lock = await this.lockShard(keyspace, shard, action);
    try {
      const r = await fn(lock);
      await lock.unlock();
      return r;
    } catch (err) {
      await lock.unlock(err);
      throw err;
    }
  }
}

function parseShardNameOrBad(shard: string): ReturnType<typeof parseShardName> {
  shardKeyRange(shard); // BAD_ARGUMENT with src/key's message
  return parseShardName(shard);
}

/**
 * One cell's SrvVSchema: the global one with the cell's routing rule overrides folded in (each
 * replaces the global rule of its from_table, or adds one). Why overrides per cell rather than
 * per-cell routing rules alone: the gate reads its own cell's SrvVSchema and nothing else, so
 * folding here is the one place a per-cell switch needs, and a cell without overrides — every
 * cell, outside a partial read switch — serves exactly the global rules.
 */
export function foldCellRoutingRules(srv: SrvVSchema, overrides: RoutingRules | undefined): SrvVSchema {
  if (!overrides || overrides.rules.length === 0) return srv;
  const by = new Map(srv.routing_rules.rules.map((r) => [r.from_table, r]));
  for (const r of overrides.rules) by.set(r.from_table, r);
  return { ...srv, routing_rules: { rules: [...by.values()] } };
}
