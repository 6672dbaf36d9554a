// The one thing the sidecar code needs of a MariaDB connection: run a statement, get its rows and
// counts. `Client` (src/mysql/client.ts) satisfies it as it is, and so does anything that wraps a
// pooled connection, so the schema code and the stream store never care where the connection
// came from.
import type { SqlValue } from '../mysql/values.js';

export interface SqlExecResult {
  readonly rows: SqlValue[][];
  readonly affectedRows: number | bigint;
  readonly insertId: number | bigint;
}

export interface SqlExecutor {
  query(sql: string): Promise<SqlExecResult>;
  /**
   * For an executor shared by concurrent callers: runs `fn` with the connection to itself, so that a
   * transaction's statements are not interleaved with (nor rolled back with) another caller's.
   * Absent: the caller owns the connection.
   */
  exclusive?<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T>;
}

/** A cell as text: varbinary columns arrive as Buffers, numbers as numbers or bigints. */
export function cellText(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

/**
 * Runs `fn` in one transaction on `exec` (on its exclusive session when it has one, so no other
 * statement of a shared connection lands inside), rolling back when `fn` throws.
 */
export async function inTransaction<T>(exec: SqlExecutor, fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
  const run = async (e: SqlExecutor): Promise<T> => {
    await e.query('START TRANSACTION');
    try {
      const out = await fn(e);
      await e.query('COMMIT');
      return out;
    } catch (err) {
      await e.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  };
  return exec.exclusive ? exec.exclusive(run) : run(exec);
}
