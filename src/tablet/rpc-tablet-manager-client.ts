// The network TabletManagerClient, for distributed mode: `tm.<Method>` calls over src/rpc to the
// tablet's RPC port (`port_map.grpc` of its topology record). Connections are pooled: one RpcClient
// per tablet, reused by every call to it (calls multiplex on it), re-dialled by the RpcClient after
// the connection broke, replaced when the tablet's address in the topology changes, and closed after
// `idleTimeoutMs` without calls and on close().
import { ER, TesseraError } from '../mysql/errors.js';
import { RpcClient, type Json } from '../rpc/index.js';
import { tabletAliasString, topoError, type Tablet, type TopoServer } from '../topo/index.js';
import {
  TABLET_MANAGER_CLIENT_DEFAULTS,
  TabletManagerClientBase,
  tmWireName,
  type TabletRef,
  type TmCallOptions,
  type TmMethod,
  type TmRequest,
  type TmResponse,
} from './tablet-manager-client.js';
import { defaultDeadlineMs, refAlias, refRecord, tabletCallError, withDeadline } from './tablet-manager-methods.js';

export const RPC_TABLET_MANAGER_CLIENT_DEFAULTS = {
  ...TABLET_MANAGER_CLIENT_DEFAULTS,
  /** Connecting to a tablet's RPC port; an unreachable tablet fails after this. */
  connectTimeoutMs: 3_000,
  /** A tablet's connection unused this long is closed (the next call dials again). */
  idleTimeoutMs: 60_000,
  /** Tablets with a pooled connection at once; past it the least recently used idle one is closed. */
  tabletsMax: 10_000,
};

export type RpcTabletManagerClientOptions = Partial<typeof RPC_TABLET_MANAGER_CLIENT_DEFAULTS>;

interface Pooled {
  readonly alias: string;
  /** host:port it was dialled for; a different address in the topology replaces it. */
  readonly address: string;
  readonly rpc: RpcClient;
  inFlight: number;
  idleTimer: NodeJS.Timeout | null;
  /** Out of the pool (address changed, evicted); closed when its last call ends. */
  retired: boolean;
  closed: boolean;
}

export class RpcTabletManagerClient extends TabletManagerClientBase {
  private readonly opts: typeof RPC_TABLET_MANAGER_CLIENT_DEFAULTS;
  /** By alias text, least recently used first. */
  private readonly pool = new Map<string, Pooled>();
  private dialsOfClosed = 0;
  private closed = false;

  constructor(
    private readonly topo: TopoServer,
    opts: RpcTabletManagerClientOptions = {},
  ) {
    super();
    this.opts = { ...RPC_TABLET_MANAGER_CLIENT_DEFAULTS, ...opts };
  }

  /** Tablets with a pooled connection now, and TCP connections dialled since the client was made. */
  stats(): { tablets: number; dials: number } {
    let dials = this.dialsOfClosed;
    for (const p of this.pool.values()) dials += p.rpc.dials;
    return { tablets: this.pool.size, dials };
  }

  protected async invoke<M extends TmMethod>(method: M, tablet: TabletRef, req: TmRequest<M>, opts: TmCallOptions = {}): Promise<TmResponse<M>> {
    if (this.closed) throw new TesseraError({ errno: 2013, sqlState: 'HY000' }, 'tablet manager client is closed');
    const alias = refAlias(tablet);
    const wire = tmWireName(method);
    const timeoutMs = opts.timeoutMs || defaultDeadlineMs(method, req, this.opts.callTimeoutMs);
    return withDeadline(`tablet ${alias}: ${wire}`, timeoutMs, opts.signal, async (signal) => {
      const t = await refRecord(this.topo, tablet);
      const p = this.acquire(alias, t);
      try {
        // The typed request is plain data; the tablet checks it field by field (RequestReader).
        const m = await p.rpc.call(wire, req as unknown as Json, [], { timeoutMs, signal });
        // The tablet answered from the same method table, so the reply has the method's type.
        return (m.meta ?? undefined) as TmResponse<M>;
      } catch (err) {
        const e = TesseraError.from(err);
        if (e.errno === ER.CONN_ERROR.errno || e.errno === 2013) {
          throw new TesseraError(e, `tablet ${alias} (${t.keyspace}/${t.shard} ${t.type}) is unreachable at ${p.address}: ${e.message}`, { cause: err, kind: 'UNAVAILABLE' });
        }
        if (e.errno === ER.UNKNOWN_COM.errno) {
          throw new TesseraError(e, `tablet ${alias} does not know ${wire}: it runs an older Tessera than its caller; upgrade it`, { cause: err });
        }
        throw tabletCallError(alias, err);
      } finally {
        this.release(p);
      }
    });
  }

  private acquire(alias: string, t: Tablet): Pooled {
    const port = t.port_map.grpc;
    if (!port) {
      throw topoError('FAILED_PRECONDITION', `tablet ${tabletAliasString(t.alias)} has no RPC port in the topology (port_map.grpc): it has not started, or was recorded by hand`);
    }
    const address = `${t.hostname}:${port}`;
    let p = this.pool.get(alias);
    if (p !== undefined) {
      this.pool.delete(alias);
      if (p.address !== address) {
        // The tablet moved (restarted on another port or host): calls still running on the old
        // connection finish there; new ones go to the new address.
        this.retire(p);
        p = undefined;
      }
    }
    if (p === undefined) {
      if (this.pool.size >= this.opts.tabletsMax) this.evictIdle();
      p = { alias, address, rpc: new RpcClient(t.hostname, port, { connectTimeoutMs: this.opts.connectTimeoutMs }), inFlight: 0, idleTimer: null, retired: false, closed: false };
    }
    this.pool.set(alias, p); // most recently used last
    p.inFlight++;
    if (p.idleTimer) {
      clearTimeout(p.idleTimer);
      p.idleTimer = null;
    }
    return p;
  }

  private evictIdle(): void {
    for (const p of this.pool.values()) {
      if (p.inFlight === 0) {
        this.pool.delete(p.alias);
        this.closeEntry(p);
        return;
      }
    }
    throw new TesseraError(
      ER.CON_COUNT,
      `tablet manager client: calls are in flight to all ${this.opts.tabletsMax} tablets it may hold connections to (tabletsMax); retry when some finish, or raise tabletsMax`,
      { kind: 'RESOURCE_EXHAUSTED' },
    );
  }

  private release(p: Pooled): void {
    p.inFlight--;
    if (p.inFlight > 0) return;
    if (p.retired) {
      this.closeEntry(p);
      return;
    }
    p.idleTimer = setTimeout(() => {
      if (p.inFlight > 0 || this.pool.get(p.alias) !== p) return;
      this.pool.delete(p.alias);
      this.closeEntry(p);
    }, this.opts.idleTimeoutMs);
    p.idleTimer.unref();
  }

  private retire(p: Pooled): void {
    p.retired = true;
    if (p.inFlight === 0) this.closeEntry(p);
  }

  private closeEntry(p: Pooled): void {
    if (p.closed) return;
    p.closed = true;
    if (p.idleTimer) clearTimeout(p.idleTimer);
    this.dialsOfClosed += p.rpc.dials;
    p.rpc.close();
  }

  close(): void {
    this.closed = true;
    for (const p of this.pool.values()) this.closeEntry(p);
    this.pool.clear();
  }
}
