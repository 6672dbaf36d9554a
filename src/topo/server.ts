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
// Values are JSON. Read-modify-write goes through `update*Fields`, a compare-and-swap loop bounded
// by `casRetriesMax`.
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
  SERVED_TYPES,
  shardKeyRange,
  tabletAliasString,
  type CellInfo,
  type Json,
  type Keyspace,
  type KeyspaceRoutingRules,
  type KeyspaceVSchema,
  type RoutingRules,
  type Shard,
  type ShardRoutingRules,
  type SrvKeyspace,
  type SrvVSchema,
  type Tablet,
  type TabletAlias,
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

/**
 * Builds a keyspace's SrvKeyspace from its shards: for each served type, the primary-serving
 * shards in key order, which must partition the key range (FAILED_PRECONDITION otherwise).
 */
export function buildSrvKeyspace(keyspace: string, shards: readonly { name: string; shard: Shard }[]): SrvKeyspace {
  const serving = shards
    .filter((s) => s.shard.is_primary_serving)
    .map((s) => ({ ...s, kr: parseShardName(s.name) }))
    .sort((a, b) => compareKeyRanges(a.kr, b.kr));
  if (serving.length > 0) {
    try {
      validatePartition(serving.map((s) => s.name), `serving shards of keyspace ${keyspace}`);
    } catch (err) {
      throw topoError('FAILED_PRECONDITION', (err as Error).message, { cause: err });
    }
  }
  return {
    partitions: SERVED_TYPES.map((t) => ({
      served_type: t,
      shard_references: serving.map((s) => ({ name: s.name, key_range: s.shard.key_range })),
    })),
  };
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
    for (let i = 0; i < this.options.casRetriesMax; i++) {
      const { value, version } = await this.getKeyspace(keyspace);
      if (fn(value) === false) return value;
      try {
        await this.global.update(`${ksPath(keyspace)}/Keyspace`, encode(value), version, this.op());
        return value;
      } catch (err) {
        if (!isTopoError(err, 'BAD_VERSION')) throw err;
      }
    }
    throw topoError('BAD_VERSION', `keyspace ${keyspace}: gave up after casRetriesMax=${this.options.casRetriesMax} concurrent updates`);
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
      const overlapping = existing.filter((e) => keyRangesIntersect(kr, parseShardName(e.name)));
      for (const e of overlapping) {
        if (e.name === shard) throw topoError('NODE_EXISTS', `shard ${keyspace}/${shard} already exists`);
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
    for (let i = 0; i < this.options.casRetriesMax; i++) {
      const { value, version } = await this.getShard(keyspace, shard);
      if (fn(value) === false) return value;
      try {
        await this.global.update(`${shardDir(keyspace, shard)}/Shard`, encode(value), version, this.op());
        return value;
      } catch (err) {
        if (!isTopoError(err, 'BAD_VERSION')) throw err;
      }
    }
    throw topoError('BAD_VERSION', `shard ${keyspace}/${shard}: gave up after casRetriesMax=${this.options.casRetriesMax} concurrent updates`);
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
    for (const cell of await this.getCellInfoNames()) {
      const conn = await this.cellConn(cell);
      const cur = await this.getJsonOr<SrvKeyspace | null>(conn, `${ksPath(keyspace)}/SrvKeyspace`, () => null);
      if (cur.version === null || cur.value === null) continue;
      for (const p of cur.value.partitions) p.shard_references = p.shard_references.filter((r) => r.name !== shard);
      await conn.update(`${ksPath(keyspace)}/SrvKeyspace`, encode(cur.value), cur.version, this.op());
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
    for (let i = 0; i < this.options.casRetriesMax; i++) {
      const { value, version } = await this.getTablet(alias);
      if (fn(value) === false) return value;
      try {
        await conn.update(tabletPath(alias), encode(value), version, this.op());
        return value;
      } catch (err) {
        if (!isTopoError(err, 'BAD_VERSION')) throw err;
      }
    }
    throw topoError('BAD_VERSION', `tablet ${tabletAliasString(alias)}: gave up after casRetriesMax=${this.options.casRetriesMax} concurrent updates`);
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
    return this.saveRules('RoutingRules', 'routing_rules', 'these routing rules', validateRoutingRules(rules), opts);
  }

  async getShardRoutingRules(): Promise<ShardRoutingRules> {
    return (await this.getJsonOr<ShardRoutingRules>(this.global, 'ShardRoutingRules', () => ({ rules: [] }))).value;
  }

  async saveShardRoutingRules(rules: Json, opts: { dryRun?: boolean } = {}): Promise<ShardRoutingRules> {
    return this.saveRules('ShardRoutingRules', 'shard_routing_rules', 'these shard routing rules', validateShardRoutingRules(rules), opts);
  }

  async getKeyspaceRoutingRules(): Promise<KeyspaceRoutingRules> {
    return (await this.getJsonOr<KeyspaceRoutingRules>(this.global, 'KeyspaceRoutingRules', () => ({ rules: [] }))).value;
  }

  async saveKeyspaceRoutingRules(rules: Json, opts: { dryRun?: boolean } = {}): Promise<KeyspaceRoutingRules> {
    return this.saveRules('KeyspaceRoutingRules', 'keyspace_routing_rules', 'these keyspace routing rules', validateKeyspaceRoutingRules(rules), opts);
  }

  /** Checks validated rules against the whole cluster's serving VSchema, then stores them unless `dryRun`. */
  private async saveRules<K extends 'routing_rules' | 'shard_routing_rules' | 'keyspace_routing_rules'>(
    path: string,
    field: K,
    what: string,
    rules: SrvVSchema[K],
    opts: { dryRun?: boolean },
  ): Promise<SrvVSchema[K]> {
    const srv = await this.buildSrvVSchema();
    srv[field] = rules;
    checkSrvVSchema(srv, what);
    if (!opts.dryRun) await this.global.update(path, encode(rules), null, this.op());
    return rules;
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
    return (await this.getJson<SrvKeyspace>(conn, `${ksPath(keyspace)}/SrvKeyspace`, `no serving graph for keyspace ${keyspace} in cell ${cell}`)).value;
  }

  async getSrvKeyspaceNames(cell: string): Promise<string[]> {
    const conn = await this.cellConn(cell);
    const out: string[] = [];
    for (const n of await conn.list('keyspaces', this.op())) if ((await conn.list(ksPath(n), this.op())).includes('SrvKeyspace')) out.push(n);
    return out;
  }

  async updateSrvKeyspace(cell: string, keyspace: string, srv: SrvKeyspace): Promise<void> {
    const conn = await this.cellConn(cell);
    await conn.update(`${ksPath(keyspace)}/SrvKeyspace`, encode(srv), null, this.op());
  }

  async getSrvVSchema(cell: string): Promise<SrvVSchema> {
    const conn = await this.cellConn(cell);
    return (await this.getJson<SrvVSchema>(conn, 'SrvVSchema', `no serving vschema in cell ${cell}; run RebuildVSchemaGraph`)).value;
  }

  async updateSrvVSchema(cell: string, srv: SrvVSchema): Promise<void> {
    const conn = await this.cellConn(cell);
    await conn.update('SrvVSchema', encode(srv), null, this.op());
  }

  private async typedWatch<T>(conn: Conn, path: string, signal: AbortSignal | undefined): Promise<TypedWatch<T>> {
    const w = await conn.watch(path, signal ? { signal } : {});
    async function* changes(): AsyncGenerator<TypedWatchEvent<T>> {
      for await (const e of w.changes) yield e.kind === 'changed' ? { kind: 'changed', value: decode<T>(e.data) } : e;
    }
    return { current: decode<T>(w.current.data), changes: changes() };
  }

  /** The cell's SrvVSchema now and every later change (see `Conn.watch`); stop with `signal`. */
  async watchSrvVSchema(cell: string, signal?: AbortSignal): Promise<TypedWatch<SrvVSchema>> {
    return this.typedWatch<SrvVSchema>(await this.cellConn(cell), 'SrvVSchema', signal);
  }

  async watchSrvKeyspace(cell: string, keyspace: string, signal?: AbortSignal): Promise<TypedWatch<SrvKeyspace>> {
    return this.typedWatch<SrvKeyspace>(await this.cellConn(cell), `${ksPath(keyspace)}/SrvKeyspace`, signal);
  }

  /**
   * Rebuilds the keyspace's SrvKeyspace in the given cells (all by default) from its shards, under
   * the keyspace lock (pass `lock` when the caller already holds it).
   */
  async rebuildKeyspaceGraph(keyspace: string, opts: { cells?: readonly string[]; lock?: TopoLock } = {}): Promise<SrvKeyspace> {
    await this.getKeyspace(keyspace);
    return this.withKeyspaceLock(keyspace, 'RebuildKeyspace', opts.lock, async (lock) => {
      const srv = buildSrvKeyspace(keyspace, await this.getShards(keyspace));
      const cells = await this.cellsOrAll(opts.cells);
      await lock.check();
      for (const cell of cells) await this.updateSrvKeyspace(cell, keyspace, srv);
      log.info({ keyspace, cells }, `rebuilt serving graph of keyspace ${keyspace}`);
      return srv;
    });
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
    for (const cell of cells) await this.updateSrvVSchema(cell, srv);
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
