// A write ledger: a test client that keeps inserting rows with increasing ids and remembers exactly
// which inserts were acknowledged. After a reparent (or any failure) a test asks which acknowledged
// ids are missing from the new primary; the answer must be none.
//
//   const ledger = new WriteLedger({ write: (id) => insertOnCurrentPrimary(id) });
//   ledger.start();
//   await ledger.waitForAcks(50);          // the load is flowing
//   ... reparent ...
//   await ledger.waitForAcks(50);          // and flows again afterwards
//   await ledger.stop();
//   assert.deepEqual(ledger.missing(idsOnNewPrimary), []);
//
// An insert that failed is "unknown": it may or may not have committed, so it is neither required
// nor forbidden afterwards. Writers never retry an id, so an id is acknowledged at most once.

export interface LedgerOptions {
  /** Inserts the row `id`; resolves once the database acknowledged the commit. `writer` is 0…writers-1. */
  write(id: number, writer: number): Promise<void>;
  /** Writers running at once (each inserts one row at a time). */
  readonly writers?: number;
  /** Pause after a failed write before the next, so a writer does not spin while the shard has no primary. */
  readonly failurePauseMs?: number;
  /** Failed writes remembered (with their error), the oldest dropped first. */
  readonly failuresKeptMax?: number;
}

export const LEDGER_DEFAULTS = { writers: 2, failurePauseMs: 20, failuresKeptMax: 1_000 };

export class WriteLedger {
  private readonly acked = new Set<number>();
  private readonly failures: { id: number; error: string }[] = [];
  private failedCount = 0;
  private nextId = 1;
  private running = false;
  private loops: Promise<void>[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];
  /** When each acknowledgement came, in order (ms since the epoch). */
  private readonly ackTimes: number[] = [];
  private readonly opts: Required<Omit<LedgerOptions, 'write'>> & Pick<LedgerOptions, 'write'>;

  constructor(opts: LedgerOptions) {
    this.opts = { ...LEDGER_DEFAULTS, ...opts };
  }

  /** Ids acknowledged so far, ascending. */
  get acknowledged(): number[] {
    return [...this.acked].sort((a, b) => a - b);
  }

  /** The most recent failed writes and why. */
  get failed(): readonly { id: number; error: string }[] {
    return this.failures;
  }

  get failedTotal(): number {
    return this.failedCount;
  }

  start(): void {
    if (this.running) throw new Error('ledger already running');
    this.running = true;
    this.loops = Array.from({ length: this.opts.writers }, (_, i) => this.loop(i));
  }

  private async loop(writer: number): Promise<void> {
    while (this.running) {
      const id = this.nextId++;
      try {
        await this.opts.write(id, writer);
        this.acked.add(id);
        this.ackTimes.push(Date.now());
        this.wake();
      } catch (err) {
        this.failedCount++;
        this.failures.push({ id, error: (err as Error).message });
        if (this.failures.length > this.opts.failuresKeptMax) this.failures.shift();
        await new Promise((r) => setTimeout(r, this.opts.failurePauseMs));
      }
    }
  }

  private wake(): void {
    const size = this.acked.size;
    this.waiters = this.waiters.filter((w) => {
      if (size < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `n` more writes than now have been acknowledged. */
  waitForAcks(n: number): Promise<void> {
    const count = this.acked.size + n;
    return new Promise((resolve) => {
      this.waiters.push({ count, resolve });
      this.wake();
    });
  }

  /** Stops the writers and waits for the writes in flight to settle. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * The longest time without any acknowledgement between `fromMs` and `toMs` (default: the first
   * and last acknowledgement): how long the writers saw the database unavailable.
   */
  longestGapMs(fromMs?: number, toMs?: number): number {
    const times = this.ackTimes;
    if (times.length === 0) return fromMs !== undefined && toMs !== undefined ? toMs - fromMs : 0;
    let prev = fromMs ?? times[0];
    let gap = 0;
    for (const t of times) {
      if (t < prev) continue;
      if (toMs !== undefined && t > toMs) break;
      gap = Math.max(gap, t - prev);
      prev = t;
    }
    if (toMs !== undefined) gap = Math.max(gap, toMs - prev);
    return gap;
  }

  /** Acknowledged ids that are not in `present` (what the database holds now). */
  missing(present: Iterable<number>): number[] {
    const have = new Set(present);
    return this.acknowledged.filter((id) => !have.has(id));
  }
}
