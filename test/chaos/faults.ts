// The chaos suite's fault injector: `kill -9` of a process chosen by role, keyspace, shard and
// tablet type from `tessera status --format json`; SIGSTOP/SIGCONT to freeze one; and a TCP proxy
// put between two components that delays, drops or cuts their connections (the approach of
// Citus's tests). A seeded random source makes every choice replayable.
import net from 'node:net';
import type { ProcessRole, ProcessStatusRow } from '../../src/cluster/index.js';
import type { DistCluster } from './cluster.js';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
}

export interface Target {
  readonly role: ProcessRole;
  readonly keyspace?: string;
  readonly shard?: string;
  readonly tabletType?: string;
  /** Gates: which one (0 = `gate`, 1 = `gate-2`). */
  readonly gate?: number;
}

export class FaultInjector {
  constructor(
    private readonly c: DistCluster,
    private readonly rng: Rng,
  ) {}

  /** The live process a target names (one, picked at random when several match). */
  async resolve(t: Target): Promise<ProcessStatusRow> {
    const name = t.role === 'gate' && t.gate !== undefined ? (t.gate === 0 ? 'gate' : `gate-${t.gate + 1}`) : undefined;
    const found = (await this.c.find(t.role, { keyspace: t.keyspace, shard: t.shard, tabletType: t.tabletType, name })).filter((p) => p.alive && p.pid !== null);
    if (found.length === 0) throw new Error(`no live process for ${JSON.stringify(t)}`);
    return this.rng.pick(found);
  }

  /** `kill -9`; returns what was killed. */
  async kill(t: Target): Promise<ProcessStatusRow> {
    const p = await this.resolve(t);
    process.kill(p.pid!, 'SIGKILL');
    return p;
  }

  /** SIGSTOP for `ms`, then SIGCONT. */
  async freeze(t: Target, ms: number): Promise<ProcessStatusRow> {
    const p = await this.resolve(t);
    process.kill(p.pid!, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      process.kill(p.pid!, 'SIGCONT');
    }
    return p;
  }
}

/**
 * A TCP proxy in front of one component's port. `delayMs` holds every chunk that long each way;
 * `drop` makes it accept and immediately close new connections; `cut(ms)` closes every open
 * connection and refuses new ones for that long (a network partition).
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly open = new Set<net.Socket>();
  delayMs = 0;
  drop = false;
  private cutUntil = 0;
  port = 0;
  connections = 0;

  constructor(
    readonly targetHost: string,
    /** Where new connections go; may change (the component restarted on another port). */
    public targetPort: number,
  ) {}

  async listen(): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.drop || Date.now() < this.cutUntil) {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    this.open.add(client).add(upstream);
    const pipe = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => {
        if (this.delayMs > 0) {
          from.pause();
          setTimeout(() => {
            if (!to.destroyed) to.write(chunk);
            from.resume();
          }, this.delayMs);
        } else if (!to.destroyed) to.write(chunk);
      });
      from.on('close', () => {
        this.open.delete(from);
        to.destroy();
      });
    };
    pipe(client, upstream);
    pipe(upstream, client);
  }

  /** Closes every connection through the proxy and refuses new ones for `ms`. */
  cut(ms: number): void {
    this.cutUntil = Date.now() + ms;
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    this.open.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
