// A statement the gate sends with `?` placeholders and their values (ExecuteOptions.params) runs on
// MariaDB as a prepared statement: each MariaDB connection keeps the statements it prepared, by
// text, so the next execution of the same shape is a COM_STMT_EXECUTE with the values, which
// MariaDB neither parses nor plans again (about a fifth of its CPU per point select; measured in
// docs/hot-path.md), and whose binary rows pass to a prepared client as they are.
//
// Text is always the way back: a statement MariaDB will not prepare (a placeholder where its
// grammar wants a literal, or max_prepared_stmt_count reached) runs as the text it stands for,
// its values spliced in as the formatter writes literals (sql/format.ts: splicePlaceholders),
// exactly what the gate would have sent.
import type { Client } from '../mysql/client.js';
import { TYPE } from '../mysql/constants.js';
import type { TypedValue } from '../mysql/values.js';
import type { Literal } from '../sql/ast.js';

/** Prepared statements one connection keeps (least recently used closed first). */
export const PREPARED_PER_CONNECTION = 64;

/**
 * Prepare errors that are the statement's own, whatever the moment: a syntax MariaDB accepts only
 * with a literal there (1064), a statement the prepared protocol does not take (1295). Any other
 * (max_prepared_stmt_count reached, a table not there yet, a KILL) is not remembered: the
 * statement runs as text this time and is prepared again next time.
 */
const NEVER_PREPARED = new Set([1064, 1295]);

/** One statement a connection prepared: its id (false: MariaDB would not prepare it) and when it was last used. */
interface Kept {
  readonly id: number | false;
  used: number;
}

/** The statements prepared on one connection, by text. */
export class PreparedStatements {
  private readonly byText = new Map<string, Kept>();
  /** Counts uses: the least recently used statement has the smallest `used`. */
  private tick = 0;

  constructor(private readonly conn: Client) {}

  /** The id `sql` is prepared under on this connection, false when MariaDB would not prepare it, undefined when not tried yet. */
  id(sql: string): number | false | undefined {
    const k = this.byText.get(sql);
    if (k === undefined) return undefined;
    k.used = ++this.tick;
    return k.id;
  }

  async prepare(sql: string): Promise<number | null> {
    try {
      const stmt = await this.conn.prepare(sql);
      this.remember(sql, stmt.id);
      return stmt.id;
    } catch (err) {
      if (this.conn.closed) throw err;
      // Not preparable: remembered, so its next run goes to text at once.
      if (NEVER_PREPARED.has((err as { errno?: number }).errno ?? 0)) this.remember(sql, false);
      return null;
    }
  }

  private remember(sql: string, id: number | false): void {
    this.byText.set(sql, { id, used: ++this.tick });
    if (this.byText.size <= PREPARED_PER_CONNECTION) return;
    // Past the bound (rare: a new statement shape): the least recently used one goes.
    let oldest = '';
    let least = Infinity;
    for (const [text, k] of this.byText) {
      if (k.used < least) {
        least = k.used;
        oldest = text;
      }
    }
    const gone = this.byText.get(oldest)!;
    this.byText.delete(oldest);
    if (gone.id !== false) void this.conn.closeStatement(gone.id).catch(() => undefined);
  }

  get size(): number {
    return this.byText.size;
  }
}

const perConnection = new WeakMap<Client, PreparedStatements>();

/** The prepared statements of `conn` (a connection made again starts with none: MariaDB freed them). */
export function preparedOf(conn: Client): PreparedStatements {
  let p = perConnection.get(conn);
  if (p === undefined) perConnection.set(conn, (p = new PreparedStatements(conn)));
  return p;
}

/**
 * A placeholder's value as a parameter of the MariaDB type that keeps its meaning in the text: an
 * integer as BIGINT (signed or unsigned), a decimal number as DECIMAL text, a float as DOUBLE, a
 * string as a string of the connection's character set (as a quoted literal is), NULL as NULL.
 */
export function placeholderParam(v: Literal): TypedValue {
  switch (v.kind) {
    case 'Null':
      return { type: TYPE.NULL, value: null };
    case 'String':
      return { type: TYPE.VAR_STRING, value: v.value };
    case 'Number': {
      if (v.numType === 'float') return { type: TYPE.DOUBLE, value: Number(v.text) };
      if (v.numType === 'int') {
        const n = Number(v.text);
        if (Number.isSafeInteger(n)) return { type: TYPE.LONGLONG, value: n };
        const b = BigInt(v.text);
        if (b >= -(2n ** 63n) && b < 2n ** 63n) return { type: TYPE.LONGLONG, value: b };
        if (b >= 0n && b < 2n ** 64n) return { type: TYPE.LONGLONG, unsigned: true, value: b };
      }
      return { type: TYPE.NEWDECIMAL, value: v.text };
    }
    default:
      throw new Error(`internal: a ${v.kind} literal cannot be a placeholder's value`);
  }
}
