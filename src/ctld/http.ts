// ctld's HTTP+JSON server. One handler serves every listener (the HTTP port, 15000, and the port
// Vitess's vtctld answers its clients on, 15999, so `--server localhost:15999` works).
//
//   POST /api/v1/<Command>   body: a JSON object (the request)  -> 200 and the JSON result
//   GET  /api/v1/<Command>?field=value&...  the same, for read-only commands (the web UI)
//   GET  /api/v1/commands    -> {"commands": {"<Command>": {"summary": "...", "read_only": bool}}}
//   GET  /healthz            -> ok
//   GET  /metrics            -> Prometheus text (metrics.ts)
//   GET  /debug/status       -> a plain HTML status page (status.ts)
//   GET  /                   -> the web UI (ui/, docs/ui.md)
//
// Errors answer 4xx/5xx with {"error": {"errno", "sqlState", "message", "code"?}}; `code` is the
// topology error code (NO_NODE, BAD_ARGUMENT, ...) when there is one.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../log/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import { TopoError, type Json, type JsonObject, type TopoErrorCode } from '../topo/index.js';
import { CTLD_COMMAND_ALIASES, CTLD_COMMANDS } from './api.js';
import type { CommandTable, CtldContext } from './command.js';
import { ctldMetrics, observeCommand, serveMetrics } from './metrics.js';
import { serveStatus } from './status.js';
import { startSwitchRecovery } from './workflow-commands.js';
import { FAILOVER_WATCHER_DEFAULTS, FailoverWatcher, type FailoverWatcherOptions } from './failover-watcher.js';
import { serveUi } from './ui/serve.js';

const log = logger('ctld');

export interface CtldServerOptions {
  readonly host: string;
  /** HTTP port (web UI and API); 0 picks a free one. */
  readonly port: number;
  /** A second listener serving the same API (Vitess's vtctld gRPC port, 15999); null for none. */
  readonly grpcPort: number | null;
  /** Largest request body accepted. */
  readonly requestBytesMax: number;
  readonly commands: CommandTable;
  /** ctld's failover watcher (failover-watcher.ts); off unless enabled (`tessera ctld` turns it on). */
  readonly failoverWatcher: Partial<FailoverWatcherOptions>;
}

export const CTLD_SERVER_DEFAULTS: CtldServerOptions = {
  host: '0.0.0.0',
  port: 15000,
  grpcPort: 15999,
  requestBytesMax: 16 * 1024 * 1024,
  commands: CTLD_COMMANDS,
  failoverWatcher: {},
};

export interface CtldServer {
  /** The ports actually listened on: the HTTP port first, then the second one if any. */
  readonly ports: readonly number[];
  readonly watcher: FailoverWatcher;
  close(): Promise<void>;
}

const STATUS: Record<TopoErrorCode, number> = {
  BAD_ARGUMENT: 400,
  NO_NODE: 404,
  NODE_EXISTS: 409,
  BAD_VERSION: 409,
  FAILED_PRECONDITION: 409,
  LOCK_LOST: 409,
  TIMEOUT: 504,
  INTERRUPTED: 503,
  BACKEND: 503,
};

function send(res: ServerResponse, status: number, body: Json | { error: Json }): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = TesseraError.from(err);
  const status = e instanceof TopoError ? STATUS[e.code] : 500;
  send(res, status, { error: e instanceof TopoError ? e.toJSON() : e.toJSON() });
}

async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new TopoError('BAD_ARGUMENT', `request body larger than requestBytesMax=${max}`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function startCtldServer(ctx: CtldContext, options: Partial<CtldServerOptions> = {}): Promise<CtldServer> {
  const o: CtldServerOptions = { ...CTLD_SERVER_DEFAULTS, ...options };
  ctldMetrics(); // present from the first scrape, before any call
  const watcher = new FailoverWatcher(ctx, { ...FAILOVER_WATCHER_DEFAULTS, ...o.failoverWatcher });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://ctld');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      await serveMetrics(res);
      return;
    }
    if (url.pathname === '/debug/status' && req.method === 'GET') {
      await serveStatus(req, res, ctx, ports, watcher);
      return;
    }
    if (await serveUi(req, res, url.pathname)) return;
    if (url.pathname === '/api/v1/commands' && req.method === 'GET') {
      const commands: JsonObject = {};
      for (const [name, c] of Object.entries(o.commands)) commands[name] = { summary: c.summary, read_only: c.readOnly };
      send(res, 200, { commands });
      return;
    }
    const m = /^\/api\/v1\/([A-Za-z]+)$/.exec(url.pathname);
    if (!m) {
      send(res, 404, { error: { errno: ER.UNKNOWN_ERROR.errno, sqlState: ER.UNKNOWN_ERROR.sqlState, message: `no such path: ${url.pathname}` } });
      return;
    }
    const name = CTLD_COMMAND_ALIASES[m[1]] ?? m[1];
    const command = Object.hasOwn(o.commands, name) ? o.commands[name] : undefined;
    if (!command) throw new TopoError('NO_NODE', `unknown command '${m[1]}'`);
    let request: JsonObject;
    if (req.method === 'POST') {
      const text = await readBody(req, o.requestBytesMax);
      let parsed: unknown;
      try {
        parsed = text.trim() === '' ? {} : JSON.parse(text);
      } catch (err) {
        throw new TopoError('BAD_ARGUMENT', `request body is not JSON: ${(err as Error).message}`);
      }
      if (!isObject(parsed)) throw new TopoError('BAD_ARGUMENT', 'request body must be a JSON object');
      request = parsed;
    } else if (req.method === 'GET' && command.readOnly) {
      request = {};
      for (const [k, v] of url.searchParams) request[k] = v;
    } else {
      throw new TopoError('BAD_ARGUMENT', `${name} needs POST`);
    }
    log.debug({ command: name }, 'request');
    const result = await observeCommand(name, () => command.run(ctx, request));
    send(res, 200, result);
  };

  const servers: Server[] = [];
  const ports: number[] = [];
  const listen = async (port: number): Promise<void> => {
    const srv = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!(err instanceof TopoError)) log.warn({ err }, 'request failed');
        if (!res.headersSent) sendError(res, err);
        else res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, o.host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    servers.push(srv);
    ports.push((srv.address() as AddressInfo).port);
  };
  try {
    await listen(o.port);
    if (o.grpcPort !== null) await listen(o.grpcPort);
  } catch (err) {
    for (const s of servers) s.close();
    throw new TesseraError(ER.UNKNOWN_ERROR, `ctld cannot listen: ${(err as Error).message}`, { cause: err });
  }
  log.info({ ports }, `ctld listening on ${ports.join(', ')}`);
  // Write switches a dead ctld left half done are finished or rolled back, with no operator.
  const recovery = new AbortController();
  startSwitchRecovery(ctx, recovery.signal);
  watcher.start();
  return {
    ports,
    watcher,
    async close() {
      recovery.abort();
      await watcher.close();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
