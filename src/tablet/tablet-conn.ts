// TabletConn: a tablet's QueryService reached over the network (src/rpc). It implements the same
// QueryService interface as the in-process TabletServer. The tablet manager has its own client
// (RpcTabletManagerClient), pooled per tablet.
import type { ColumnDefinition } from '../mysql/protocol.js';
import { RpcClient, type Json, type RpcClientOptions } from '../rpc/index.js';
import type {
  BindVars,
  BeginOptions,
  ExecuteOptions,
  ExecuteResult,
  HealthState,
  QueryService,
  ReserveOptions,
  StreamChunk,
  Target,
} from './query-service.js';
import { decodeExecuteReply, encodeExecuteRequest, fieldsFromJson, type FieldsCache } from './execute-codec.js';
import { resultFromJsonMessage } from './rpc-service.js';
import { splicePlaceholders } from '../sql/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { logger } from '../log/index.js';

const log = logger('tablet-conn');

/** The options as JSON: everything but the signal (built field by field: an object rest copy is slow). */
function stripSignal(opts: ExecuteOptions): Json {
  const out: { [k: string]: Json | undefined } = {};
  for (const k in opts) if (k !== 'signal') out[k] = opts[k as keyof ExecuteOptions] as Json | undefined;
  return out;
}

export class TabletConn implements QueryService {
  readonly rpc: RpcClient;
  private readonly fieldsCache: FieldsCache = { blob: null, fields: [] };

  constructor(host: string, port: number, opts: RpcClientOptions = {}) {
    this.rpc = new RpcClient(host, port, opts);
  }

  async execute(target: Target, sql: string, bindVars: BindVars | null, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    if (this.jsonExecute) return this.executeJson(target, sql, bindVars, opts);
    try {
      // Binary both ways (execute-codec.ts): no JSON for a statement on the query path.
      const body = await this.rpc.callBinary('qs.executeBinary', encodeExecuteRequest, { target, sql, bindVars, opts }, { signal: opts.signal });
      return decodeExecuteReply(body, this.fieldsCache);
    } catch (err) {
      // A tablet from before qs.executeBinary (a gate upgraded first) answers 1047 and ran nothing:
      // use the JSON qs.execute with it from now on.
      if (err instanceof TesseraError && err.errno === ER.UNKNOWN_COM.errno && err.message.includes("'qs.executeBinary'")) {
        if (!this.jsonExecute) log.warn({ tablet: this.rpc.address }, 'tablet does not serve qs.executeBinary (an older version): using qs.execute with JSON; upgrade tablets before gates');
        this.jsonExecute = true;
        return this.executeJson(target, sql, bindVars, opts);
      }
      throw err;
    }
  }

  /** True once the tablet turned out not to serve qs.executeBinary. */
  jsonExecute = false;

  private async executeJson(target: Target, sql0: string, bindVars: BindVars | null, opts0: ExecuteOptions): Promise<ExecuteResult> {
    // A tablet from before qs.executeBinary knows no placeholders: their values go in the text.
    const sql = opts0.params ? splicePlaceholders(sql0, opts0.params) : sql0;
    const opts = opts0.params ? { ...opts0, params: undefined } : opts0;
    const m = await this.rpc.call('qs.execute', { target: target as unknown as Json, sql, bindVars: bindVars as unknown as Json, options: stripSignal(opts) }, [], { signal: opts.signal });
    return resultFromJsonMessage(m, this.fieldsCache);
  }

  async streamExecute(
    target: Target,
    sql: string,
    bindVars: BindVars | null,
    onChunk: (chunk: StreamChunk) => void | Promise<void>,
    opts: ExecuteOptions = {},
  ): Promise<void> {
    await this.rpc.stream(
      'qs.streamExecute',
      { target: target as unknown as Json, sql, bindVars: bindVars as unknown as Json, options: stripSignal(opts) },
      (m) => {
        const meta = m.meta as { fields?: unknown } | null;
        return onChunk(meta?.fields ? { fields: fieldsFromJson(meta.fields), rows: m.blobs } : { rows: m.blobs });
      },
      [],
      { signal: opts.signal },
    );
  }

  async begin(target: Target, opts: BeginOptions = {}): Promise<{ transactionId: number; tabletAlias: string }> {
    const args = { target: target as unknown as Json, reservedId: opts.reservedId ?? 0, beginStatement: opts.beginStatement ?? null, clientFoundRows: opts.clientFoundRows === true };
    const m = await this.rpc.call('qs.begin', args, [], {
      signal: opts.signal,
    });
    return m.meta as unknown as { transactionId: number; tabletAlias: string };
  }

  async commit(target: Target, transactionId: number): Promise<void> {
    await this.rpc.call('qs.commit', { target: target as unknown as Json, transactionId });
  }

  async rollback(target: Target, transactionId: number): Promise<void> {
    await this.rpc.call('qs.rollback', { target: target as unknown as Json, transactionId });
  }

  async reserve(target: Target, opts: ReserveOptions): Promise<{ reservedId: number; tabletAlias: string }> {
    const args = { target: target as unknown as Json, settings: [...opts.settings], clientFoundRows: opts.clientFoundRows === true };
    const m = await this.rpc.call('qs.reserve', args, [], { signal: opts.signal });
    return m.meta as unknown as { reservedId: number; tabletAlias: string };
  }

  async release(target: Target, id: number): Promise<void> {
    await this.rpc.call('qs.release', { target: target as unknown as Json, id });
  }

  async streamHealth(onHealth: (h: HealthState) => void, signal: AbortSignal): Promise<void> {
    try {
      await this.rpc.stream('qs.streamHealth', null, (m) => onHealth(m.meta as unknown as HealthState), [], { signal });
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }

  close(): void {
    this.rpc.close();
  }
}
