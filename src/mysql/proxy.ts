// A pass-through handler: every client session gets its own upstream connection to MariaDB, and
// results travel as the bytes MariaDB sent (column definitions and rows are not re-encoded).
// Tests drive real clients through it and compare with MariaDB directly; the protocol bench
// measures it. It is also the simplest example of a ServerHandler.
import { Client, type ClientOptions, type PreparedStatement, type ResultSink } from './client.js';
import { CAP } from './constants.js';
import { ER, TesseraError } from './errors.js';
import type { ColumnDefinition, OkPacket } from './protocol.js';
import type { PrepareResult, ResultWriter, ServerHandler, ServerStatement, Session, UserCredentials } from './server.js';
import type { TypedValue } from './values.js';

export interface PassThroughOptions {
  /** Where MariaDB listens (host/port or socketPath) and any client options but the credentials. */
  upstream: Omit<ClientOptions, 'user' | 'password' | 'database'>;
  /** Users the proxy accepts; each logs in upstream with the same name and password. */
  users: Record<string, string>;
}

/** Capabilities that change statement semantics, so the upstream connection gets the client's. */
const MIRRORED = CAP.FOUND_ROWS | CAP.IGNORE_SPACE | CAP.INTERACTIVE;

export class PassThroughHandler implements ServerHandler {
  private readonly upstreams = new Map<Session, Client>();

  constructor(private readonly options: PassThroughOptions) {}

  getUser(user: string): UserCredentials | null {
    const password = this.options.users[user];
    return password === undefined ? null : { password };
  }

  async connected(session: Session, password: string | undefined): Promise<void> {
    // The client's statements pass byte for byte (read and written as Node's 'latin1') to an
    // upstream connection in the client's own character set: MariaDB sees what the client sent.
    session.setClientCharset?.('binary');
    const client = await Client.connect({
      ...this.options.upstream,
      charset: session.charset,
      textEncoding: 'latin1',
      user: session.user,
      password: password ?? '',
      database: session.database ?? undefined,
      capabilities: (this.options.upstream.capabilities ?? 0) | (session.capabilities & MIRRORED),
      multiStatements: session.multiStatements,
      mariadbCapabilities: session.mariadbCapabilities,
    });
    this.upstreams.set(session, client);
    client.on('close', (err: TesseraError) => {
      if (this.upstreams.get(session) === client) session.close(`upstream connection closed: ${err.message}`);
    });
  }

  closed(session: Session): void {
    const c = this.upstreams.get(session);
    this.upstreams.delete(session);
    c?.close();
  }

  private upstream(session: Session): Client {
    const c = this.upstreams.get(session);
    if (!c) throw new TesseraError(ER.SERVER_GONE, 'no upstream connection');
    return c;
  }

  query(session: Session, sql: string, out: ResultWriter): Promise<void> {
    // The result ends carry MariaDB's status flags; ResultWriter.end makes them the session's.
    return this.upstream(session).stream(sql, new RelaySink(out));
  }

  async prepare(session: Session, sql: string): Promise<PrepareResult> {
    const stmt = await this.upstream(session).prepare(sql);
    return { paramCount: stmt.params.length, rawParams: stmt.rawParams, rawColumns: stmt.rawColumns, warnings: stmt.warnings, state: stmt };
  }

  /** Used when long data was sent: the server joined it into the parameters. */
  execute(session: Session, stmt: ServerStatement, params: TypedValue[], out: ResultWriter): Promise<void> {
    return this.upstream(session).executeStream(stmt.state as PreparedStatement, params, new RelaySink(out));
  }

  /** The parameters travel as the client's bytes, never decoded. */
  executeRaw(session: Session, stmt: ServerStatement, payload: Buffer, out: ResultWriter): Promise<void> {
    return this.upstream(session).executeRaw(stmt.state as PreparedStatement, payload, new RelaySink(out));
  }

  closeStatement(session: Session, stmt: ServerStatement): void {
    const up = this.upstreams.get(session);
    up?.closeStatement(stmt.state as PreparedStatement).catch(() => undefined);
  }

  async initDb(session: Session, database: string): Promise<void> {
    const up = this.upstreams.get(session);
    if (up) await up.initDb(database);
    session.database = database;
  }

  async fieldList(session: Session, table: string, wildcard: string): Promise<ColumnDefinition[] | Buffer[]> {
    return this.upstream(session).fieldList(table, wildcard);
  }

  async resetConnection(session: Session): Promise<void> {
    await this.upstream(session).resetConnection();
  }

  async setOption(session: Session, multiStatements: boolean): Promise<void> {
    await this.upstream(session).setOption(multiStatements ? 0 : 1);
  }

  async statistics(session: Session): Promise<string> {
    return this.upstream(session).statistics();
  }

  async ping(session: Session): Promise<void> {
    await this.upstream(session).ping();
  }
}

/** Hands MariaDB's column definitions and rows to the client as they came. */
class RelaySink implements ResultSink {
  constructor(private readonly out: ResultWriter) {}

  rawFields(raw: Buffer[]): void {
    this.out.rawFields(raw);
  }

  row(payload: Buffer): void | Promise<void> {
    this.out.rawRow(payload);
    if (this.out.needsDrain) return this.out.drain();
  }

  end(ok: OkPacket, more: boolean): void {
    this.out.end({ affectedRows: ok.affectedRows, lastInsertId: ok.lastInsertId, warnings: ok.warnings, info: ok.info, statusFlags: ok.statusFlags, more });
  }
}
