// The one error type that reaches clients. Every hop (tablet -> rpc -> gate -> client) carries
// errno, SQLSTATE and message as fields; nothing parses them back out of text.

export interface ErrorCode {
  readonly errno: number;
  readonly sqlState: string;
}

/** MySQL/MariaDB error numbers Tessera emits. Names follow MySQL's ER_* constants. */
export const ER = {
  UNKNOWN_ERROR: { errno: 1105, sqlState: 'HY000' },
  UNKNOWN_CHARACTER_SET: { errno: 1115, sqlState: '42000' },
  UNKNOWN_COLLATION: { errno: 1273, sqlState: 'HY000' },
  ACCESS_DENIED: { errno: 1045, sqlState: '28000' },
  DBACCESS_DENIED: { errno: 1044, sqlState: '42000' },
  BAD_DB: { errno: 1049, sqlState: '42000' },
  NO_DB: { errno: 1046, sqlState: '3D000' },
  NO_SUCH_TABLE: { errno: 1146, sqlState: '42S02' },
  BAD_FIELD: { errno: 1054, sqlState: '42S22' },
  PARSE_ERROR: { errno: 1064, sqlState: '42000' },
  NOT_SUPPORTED_YET: { errno: 1235, sqlState: '42000' },
  UNKNOWN_COM: { errno: 1047, sqlState: '08S01' },
  NET_PACKET_TOO_LARGE: { errno: 1153, sqlState: '08S01' },
  NET_READ_ERROR: { errno: 1158, sqlState: '08S01' },
  HANDSHAKE_ERROR: { errno: 1043, sqlState: '08S01' },
  CON_COUNT: { errno: 1040, sqlState: '08004' },
  QUERY_INTERRUPTED: { errno: 1317, sqlState: '70100' },
  NO_SUCH_THREAD: { errno: 1094, sqlState: 'HY000' },
  KILL_DENIED: { errno: 1095, sqlState: 'HY000' },
  LOCK_WAIT_TIMEOUT: { errno: 1205, sqlState: 'HY000' },
  DUP_ENTRY: { errno: 1062, sqlState: '23000' },
  WRONG_VALUE_COUNT: { errno: 1136, sqlState: '21S01' },
  UNKNOWN_SYSTEM_VARIABLE: { errno: 1193, sqlState: 'HY000' },
  WRONG_ARGUMENTS: { errno: 1210, sqlState: 'HY000' },
  UNKNOWN_STMT_HANDLER: { errno: 1243, sqlState: 'HY000' },
  OPTION_PREVENTS_STATEMENT: { errno: 1290, sqlState: 'HY000' },
  READ_ONLY_TRANSACTION: { errno: 1792, sqlState: '25006' },
  CANT_DO_THIS_DURING_AN_TRANSACTION: { errno: 1179, sqlState: '25000' },
  NET_PACKETS_OUT_OF_ORDER: { errno: 1156, sqlState: '08S01' },
  TOO_MANY_ROWS: { errno: 1172, sqlState: '42000' },
  /** Vitess uses 1317/HY000-style codes for its own failures; we keep MySQL's generic ones. */
  SERVER_SHUTDOWN: { errno: 1053, sqlState: '08S01' },
  SERVER_GONE: { errno: 2006, sqlState: 'HY000' },
  CONN_ERROR: { errno: 2002, sqlState: 'HY000' },
  UNAVAILABLE: { errno: 1105, sqlState: 'HY000' },
  /**
   * MariaDB's "Deadlock found …; try restarting transaction": the server rolled the whole
   * transaction back and running it again may succeed. The gate uses it for a transaction lost to a
   * primary change (see primaryChangedError): SQLSTATE 40001 is the class drivers and ORMs retry
   * (JDBC's SQLTransactionRollbackException, Spring, Rails' Deadlocked, Prisma's P2034), and 1213
   * is the errno the ones that look at MariaDB's numbers key on.
   */
  LOCK_DEADLOCK: { errno: 1213, sqlState: '40001' },
} as const satisfies Record<string, ErrorCode>;

/**
 * Why a tablet refused or failed a call, for the gate to decide what to do next (retry on another
 * tablet, wait for a reparent, give up). Carried as a field through every hop, like errno.
 */
export type FailureKind =
  | 'NOT_SERVING' // the tablet does not serve this target now (type changing, shard not serving, shutting down)
  | 'WRONG_TARGET' // the query was meant for another keyspace, shard or tablet type
  | 'DENIED_TABLE' // the table is denied on this shard during a migration
  | 'RESOURCE_EXHAUSTED' // a pool or queue limit was hit
  | 'DEADLINE_EXCEEDED'
  | 'UNAVAILABLE' // the tablet or its MariaDB cannot be reached
  | 'ABORTED' // the transaction was killed or rolled back
  | 'PERMANENT'; // no retry can fix it (duplicate key, missing table, type mismatch): a stream stops in Error

export class TesseraError extends Error {
  readonly errno: number;
  readonly sqlState: string;
  readonly kind?: FailureKind;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; kind?: FailureKind }) {
    super(message, options);
    this.name = 'TesseraError';
    this.errno = code.errno;
    this.sqlState = code.sqlState;
    if (options?.kind) this.kind = options.kind;
  }

  /** Wraps anything thrown into a TesseraError, keeping errno/SQLSTATE when the value has them. */
  static from(err: unknown, fallback: ErrorCode = ER.UNKNOWN_ERROR): TesseraError {
    if (err instanceof TesseraError) return err;
    if (err instanceof Error) {
      const e = err as Error & { errno?: unknown; sqlState?: unknown };
      if (typeof e.errno === 'number' && typeof e.sqlState === 'string') {
        return new TesseraError({ errno: e.errno, sqlState: e.sqlState }, e.message, { cause: err });
      }
      return new TesseraError(fallback, e.message, { cause: err });
    }
    return new TesseraError(fallback, String(err));
  }

  toJSON(): { errno: number; sqlState: string; message: string; kind?: FailureKind } {
    return this.kind
      ? { errno: this.errno, sqlState: this.sqlState, message: this.message, kind: this.kind }
      : { errno: this.errno, sqlState: this.sqlState, message: this.message };
  }

  override toString(): string {
    return `ERROR ${this.errno} (${this.sqlState}): ${this.message}`;
  }
}

/**
 * A transaction whose shard lost its primary (a reparent, a Reshard or MoveTables switch, a crash)
 * cannot be carried over to the new one: the gate rolled all of it back. `shard` is `ks/shard`,
 * `why` what the tablet or the gate said.
 */
export function primaryChangedError(shard: string, why: string, cause?: unknown): TesseraError {
  return new TesseraError(
    ER.LOCK_DEADLOCK,
    `the transaction was rolled back: the primary of ${shard} changed or stopped serving it (${why}); nothing of it was committed, run it again`,
    { cause, kind: 'ABORTED' },
  );
}

export function tesseraError(code: ErrorCode, message: string): TesseraError {
  return new TesseraError(code, message);
}
