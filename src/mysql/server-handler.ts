// The contract between the MySQL-protocol server and what it serves (the gate, the pass-through
// proxy): the session a handler sees, the ServerHandler it implements, and the ResultWriter it
// writes a command's results into. Re-exported by server.ts.
import type { AUTH_PLUGIN } from './constants.js';
import type { ColumnDefinition } from './protocol.js';
import type { SqlValue, TypedValue } from './values.js';

/** What the server knows about one client connection; handlers key their state on it. */
export interface Session {
  readonly id: number;
  readonly user: string;
  /** Current database (set by the handshake and COM_INIT_DB; a handler running `USE` sets it too). */
  database: string | null;
  readonly capabilities: number;
  /** MariaDB extended capabilities agreed with the client (EXTENDED_TYPE_INFO at most). */
  readonly mariadbCapabilities: number;
  readonly remoteAddress: string;
  readonly tls: boolean;
  readonly connectAttrs: Readonly<Record<string, string>>;
  /** Collation id the client asked for. */
  readonly charset: number;
  /** Reads the client's next statements in this MariaDB character set (SET NAMES); absent: utf8mb4 always. */
  setClientCharset?(charset: string): void;
  /** Status flags sent with OK/EOF unless a result gives its own (IN_TRANS, AUTOCOMMIT, ...). */
  statusFlags: number;
  /** Whether COM_QUERY may carry several statements (capability, changed by COM_SET_OPTION). */
  multiStatements: boolean;
  /** Ends the connection (KILL CONNECTION, a lost backend); `reason` is logged. */
  close(reason: string): void;
}

export interface UserCredentials {
  /** The password in clear: every plugin works with it. */
  password?: string;
  /** SHA1(SHA1(password)), as in mysql.user: only mysql_native_password works with it. */
  nativePasswordHash?: Buffer;
  /** The plugin this user must use; the server's `authPlugin` when absent. */
  plugin?: typeof AUTH_PLUGIN.NATIVE | typeof AUTH_PLUGIN.CACHING_SHA2 | typeof AUTH_PLUGIN.CLEAR;
}

/** A prepared statement as the server tracks it. */
export interface ServerStatement {
  readonly id: number;
  readonly sql: string;
  readonly paramCount: number;
  /** Column definitions of the result (empty when unknown or none). */
  readonly columns: ColumnDefinition[];
  /** Whatever the handler returned from prepare() to find its own statement again. */
  readonly state: unknown;
}

export interface PrepareResult {
  paramCount: number;
  /** Definitions of the parameters; `?` placeholders of type VAR_STRING when absent. */
  params?: ColumnDefinition[];
  /** The same, already encoded (passed through from MariaDB). */
  rawParams?: Buffer[];
  columns?: ColumnDefinition[];
  rawColumns?: Buffer[];
  warnings?: number;
  state?: unknown;
}

export interface ResultEnd {
  affectedRows?: number | bigint;
  lastInsertId?: number | bigint;
  warnings?: number;
  info?: string;
  /** Replaces the session's status flags (MORE_RESULTS is set from `more`). */
  statusFlags?: number;
  /** Another result follows this one (multi-statements, CALL). */
  more?: boolean;
}

/**
 * Where a handler writes one command's results. A result is either `end()` alone (an OK with
 * counts) or `fields()`, any rows, then `end()`. Rows use the command's protocol: text for
 * COM_QUERY, binary for COM_STMT_EXECUTE (`binary` says which). Writes are buffered and sent per
 * tick; a producer checks `needsDrain` and awaits `drain()` so a huge result never piles up.
 */
export interface ResultWriter {
  readonly binary: boolean;
  fields(columns: ColumnDefinition[]): void;
  /** Column definitions already encoded (e.g. MariaDB's, passed through). */
  rawFields(payloads: Buffer[]): void;
  row(values: readonly SqlValue[]): void;
  /** A row payload already encoded in this command's protocol, written untouched. */
  rawRow(payload: Buffer): void;
  /**
   * A text-protocol row payload as MariaDB sent it: untouched for COM_QUERY, turned into a binary
   * row from its bytes for COM_STMT_EXECUTE (no JS value per cell).
   */
  textRow(payload: Buffer): void;
  end(result?: ResultEnd): void;
  readonly needsDrain: boolean;
  drain(): Promise<void>;
}

/** Implemented by the gate (and the pass-through proxy). Errors thrown become ERR packets. */
export interface ServerHandler {
  /** The user's credentials, or null for an unknown user (access denied, 1045). */
  getUser(user: string, session: Session): Promise<UserCredentials | null> | UserCredentials | null;
  /** After authentication, with the password when the plugin revealed it; may reject the login. */
  connected?(session: Session, password: string | undefined): Promise<void> | void;
  /** The connection is gone (any reason); release its state. */
  closed?(session: Session): void;
  query(session: Session, sql: string, out: ResultWriter): Promise<void>;
  prepare?(session: Session, sql: string): Promise<PrepareResult>;
  execute?(session: Session, stmt: ServerStatement, params: TypedValue[], out: ResultWriter): Promise<void>;
  /**
   * Optional fast path for a handler that relays executes (the pass-through proxy): COM_STMT_EXECUTE
   * as the client sent it, its structure checked but no value decoded. The parameter block (NULL
   * bitmap, new-params-bound flag, types, values) starts at EXECUTE_PARAMS_OFFSET; when the client
   * did not resend the types, they are those of the statement's previous execute. The statement
   * id in the payload is the client's (0xffffffff: the one prepared last); `stmt` is the one meant.
   * Called instead of `execute` when present, except while COM_STMT_SEND_LONG_DATA values are
   * pending (they are not in the payload): then `execute` gets the values joined in.
   */
  executeRaw?(session: Session, stmt: ServerStatement, payload: Buffer, out: ResultWriter): Promise<void>;
  closeStatement?(session: Session, stmt: ServerStatement): void;
  /** COM_INIT_DB and the database of the handshake; sets `session.database` when absent. */
  initDb?(session: Session, database: string): Promise<void>;
  /** COM_FIELD_LIST: column definitions of a table (raw payloads allowed). */
  fieldList?(session: Session, table: string, wildcard: string): Promise<ColumnDefinition[] | Buffer[]>;
  resetConnection?(session: Session): Promise<void>;
  setOption?(session: Session, multiStatements: boolean): Promise<void>;
  statistics?(session: Session): Promise<string>;
  ping?(session: Session): Promise<void>;
}
