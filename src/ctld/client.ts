// The admin API client `tessera ctl` uses (and anything else that drives ctld). Errors come back
// as the TesseraError/TopoError ctld raised, with errno, SQLSTATE and topology code as fields.
import { ER, TesseraError } from '../mysql/errors.js';
import { TopoError, type Json, type JsonObject, type TopoErrorCode } from '../topo/index.js';

export interface CtldClientOptions {
  /** Deadline of one call. Long-running commands (workflows) pass their own. */
  readonly timeoutMs: number;
}

export const CTLD_CLIENT_DEFAULTS: CtldClientOptions = { timeoutMs: 60_000 };

interface ErrorBody {
  error?: { errno?: number; sqlState?: string; message?: string; code?: string };
}

export class CtldClient {
  readonly baseUrl: string;
  private readonly opts: CtldClientOptions;

  /** `server` is host:port (as `--server localhost:15999`) or an http(s) URL. */
  constructor(server: string, options: Partial<CtldClientOptions> = {}) {
    this.baseUrl = (/^https?:\/\//.test(server) ? server : `http://${server}`).replace(/\/+$/, '');
    this.opts = { ...CTLD_CLIENT_DEFAULTS, ...options };
  }

  async call(command: string, request: JsonObject, options: Partial<CtldClientOptions> = {}): Promise<Json> {
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1/${command}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new TesseraError(ER.CONN_ERROR, `cannot reach ctld at ${this.baseUrl}: ${cause}`, { cause: err });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new TesseraError(ER.UNKNOWN_ERROR, `ctld answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
    }
    if (res.ok) return body as Json;
    const e = (body as ErrorBody).error ?? {};
    const message = e.message ?? `ctld answered ${res.status}`;
    const errno = e.errno !== undefined && e.sqlState !== undefined ? { errno: e.errno, sqlState: e.sqlState } : ER.UNKNOWN_ERROR;
    if (e.code) throw new TopoError(e.code as TopoErrorCode, message, { errno });
    throw new TesseraError(errno, message);
  }
}
