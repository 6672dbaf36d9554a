// ctld's Prometheus metrics, on the process's one registry (prom-client's default `register`, which
// the other components of a combined process share). Metrics are created once per registry, so
// several ctld servers in one process (tests, `tessera up` combined mode) count into the same ones.
import { collectDefaultMetrics, Counter, Histogram, register, type Registry } from 'prom-client';
import type { ServerResponse } from 'node:http';
import { TopoError } from '../topo/index.js';

export interface CtldMetrics {
  /** API calls by command and outcome (`ok` or the error code). */
  readonly requests: Counter<'command' | 'code'>;
  readonly requestSeconds: Histogram<'command'>;
  /** Topology errors surfaced by commands, by command and code (NO_NODE, TIMEOUT, BACKEND, ...). */
  readonly topoErrors: Counter<'command' | 'code'>;
  /** Probes of tablets' /debug/health by resulting state. */
  readonly healthChecks: Counter<'state'>;
}

const byRegistry = new WeakMap<Registry, CtldMetrics>();
let defaultsCollected = false;

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** The metrics of ctld on `registry` (default: the process registry), created on first use. */
export function ctldMetrics(registry: Registry = register): CtldMetrics {
  const have = byRegistry.get(registry);
  if (have) return have;
  if (registry === register && !defaultsCollected && register.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
    defaultsCollected = true;
    collectDefaultMetrics({ register });
  }
  const existing = registry.getSingleMetric('tessera_ctld_request_duration_seconds');
  const m: CtldMetrics = {
    requests: counter(registry, 'tessera_ctld_requests_total', 'ctld API calls by command and outcome (ok or error code)', ['command', 'code']),
    requestSeconds:
      existing instanceof Histogram
        ? (existing as Histogram<'command'>)
        : new Histogram({
            name: 'tessera_ctld_request_duration_seconds',
            help: 'ctld API call latency by command',
            labelNames: ['command'],
            buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
            registers: [registry],
          }),
    topoErrors: counter(registry, 'tessera_ctld_topo_errors_total', 'topology errors surfaced by ctld commands, by command and code', ['command', 'code']),
    healthChecks: counter(registry, 'tessera_ctld_tablet_health_checks_total', "probes of tablets' /debug/health by resulting state", ['state']),
  };
  byRegistry.set(registry, m);
  return m;
}

/** Runs one API command, counting it and timing it. */
export async function observeCommand<T>(command: string, run: () => Promise<T>, registry: Registry = register): Promise<T> {
  const m = ctldMetrics(registry);
  const end = m.requestSeconds.startTimer({ command });
  try {
    const result = await run();
    m.requests.inc({ command, code: 'ok' });
    return result;
  } catch (err) {
    const code = err instanceof TopoError ? err.code : 'ERROR';
    m.requests.inc({ command, code });
    if (err instanceof TopoError) m.topoErrors.inc({ command, code });
    throw err;
  } finally {
    end();
  }
}

/** Answers `/metrics` from the process registry. */
export async function serveMetrics(res: ServerResponse, registry: Registry = register): Promise<void> {
  ctldMetrics(registry);
  const text = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
