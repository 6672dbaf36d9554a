// Sequences: tables with the `vitess_sequence` comment in an unsharded keyspace, one row
// (id = 0, next_id, cache). The gate takes blocks of `cache` ids at a time: in one transaction on
// the sequence's primary it reads the row FOR UPDATE and moves next_id past the block; ids are then
// handed out from memory until the block runs out. Refills of one sequence are serialized.
import { ER, TesseraError } from '../mysql/index.js';
import { quoteIdent } from '../sql/index.js';
import type { Result } from './types.js';
import { rowsOf } from './values.js';

/** Runs statements in one transaction on the sequence table's primary. */
export interface SequenceBackend {
  inTransaction<T>(keyspace: string, fn: (exec: (sql: string) => Promise<Result>) => Promise<T>): Promise<T>;
}

interface Block {
  next: bigint;
  end: bigint;
  busy: Promise<void>;
}

export class Sequences {
  private readonly blocks = new Map<string, Block>();

  constructor(private readonly backend: SequenceBackend) {}

  /** Reserves `n` consecutive ids; resolves with the first. */
  async next(keyspace: string, table: string, n: number): Promise<bigint> {
    const key = `${keyspace}.${table}`;
    let b = this.blocks.get(key);
    if (!b) this.blocks.set(key, (b = { next: 0n, end: 0n, busy: Promise.resolve() }));
    const block = b;
    const run = block.busy.then(async () => {
      const want = BigInt(n);
      if (block.end - block.next >= want) {
        const first = block.next;
        block.next += want;
        return first;
      }
      const t = quoteIdent(table);
      const got = await this.backend.inTransaction(keyspace, async (exec) => {
        const r = await exec(`SELECT next_id, cache FROM ${t} WHERE id = 0 FOR UPDATE`);
        const rows = rowsOf(r);
        if (rows.length === 0 || rows[0][0] === null) {
          throw new TesseraError(ER.UNKNOWN_ERROR, `sequence ${key} has no row with id 0: insert (0, <first id>, <cache>) into it`);
        }
        const nextId = BigInt(rows[0][0].toString('latin1'));
        const cache = rows[0][1] === null ? 1n : BigInt(rows[0][1].toString('latin1'));
        const take = cache > want ? cache : want;
        await exec(`UPDATE ${t} SET next_id = ${(nextId + take).toString()} WHERE id = 0`);
        return { nextId, take };
      });
      // Ids left in the old block are abandoned (gaps are allowed, duplicates never).
      block.next = got.nextId + want;
      block.end = got.nextId + got.take;
      return got.nextId;
    });
    block.busy = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Forgets cached blocks (a sequence row was changed by hand). */
  reset(): void {
    this.blocks.clear();
  }
}
