// ctld's view of tablet health: it asks each tablet's HTTP port (`port_map.vt`) for
// `GET /debug/health` with a short deadline and remembers recent changes per tablet, so the web UI
// can show "unreachable" and a tablet's recent errors even though tablets keep no history for it.
import { tabletAliasString, type Tablet } from '../../topo/index.js';
import type { CtldContext } from '../command.js';
import type { TabletHealthEvent, TabletHealthState, TabletHealthView } from './types.js';

export interface TabletHealthOptions {
  /** Deadline of one probe; past it the tablet shows as unreachable. */
  readonly healthTimeoutMs: number;
  /** Replication lag above which an answering tablet counts as unhealthy (Vitess: 2 h). */
  readonly lagUnhealthySeconds: number;
  /** Health changes remembered per tablet. */
  readonly healthEventsMax: number;
  /** Tablets whose history is remembered; the oldest-seen are forgotten beyond this. */
  readonly tabletsTrackedMax: number;
}

export const TABLET_HEALTH_DEFAULTS: TabletHealthOptions = {
  healthTimeoutMs: 1000,
  lagUnhealthySeconds: 7200,
  healthEventsMax: 20,
  tabletsTrackedMax: 10_000,
};

interface History {
  last: TabletHealthEvent | null;
  events: TabletHealthEvent[];
}

// Keyed by the server's context object: one history per running ctld, gone with it.
const histories = new WeakMap<CtldContext, Map<string, History>>();

function historyOf(ctx: CtldContext, alias: string, o: TabletHealthOptions): History {
  let m = histories.get(ctx);
  if (!m) {
    m = new Map();
    histories.set(ctx, m);
  }
  let h = m.get(alias);
  if (!h) {
    if (m.size >= o.tabletsTrackedMax) {
      const oldest = m.keys().next();
      if (!oldest.done) m.delete(oldest.value);
    }
    h = { last: null, events: [] };
    m.set(alias, h);
  }
  return h;
}

/** Recent health changes of a tablet, newest first. */
export function tabletHealthEvents(ctx: CtldContext, tablet: Tablet): TabletHealthEvent[] {
  const m = histories.get(ctx);
  const h = m?.get(tabletAliasString(tablet.alias));
  return h ? [...h.events].reverse() : [];
}

function unreachable(url: string, reason: string): TabletHealthView {
  return { state: 'unreachable', reason, serving: null, tablet_type: null, replication_lag_seconds: null, replication_error: null, reported_at: null, checked_at: new Date().toISOString(), url };
}

/** The body a tablet's `/debug/health` answers (camelCase, as the tablet writes it). */
interface TabletHealthBody {
  serving: boolean;
  reason?: string | null;
  tabletType?: string | null;
  replicationLagSeconds?: number | null;
  replicationError?: string | null;
  at?: string | null;
}

function isHealthBody(v: unknown): v is TabletHealthBody {
  return typeof v === 'object' && v !== null && typeof (v as { serving?: unknown }).serving === 'boolean';
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

async function probe(t: Tablet, o: TabletHealthOptions): Promise<TabletHealthView> {
  const port = t.port_map?.vt;
  if (!port) return unreachable('', 'the tablet has no HTTP port (port_map.vt) in topo');
  const host = t.hostname.includes(':') ? `[${t.hostname}]` : t.hostname;
  const url = `http://${host}:${port}/debug/health`;
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(o.healthTimeoutMs) });
    const text = await res.text();
    // A tablet answers 503 with its health JSON while it is not serving (for load balancers);
    // that is an answer, not an error.
    if (!res.ok && res.status !== 503) return unreachable(url, `HTTP ${res.status} from ${url}`);
    try {
      body = JSON.parse(text);
    } catch (err) {
      if (!res.ok) return unreachable(url, `HTTP ${res.status} from ${url}`);
      throw err;
    }
    if (!res.ok && !isHealthBody(body)) return unreachable(url, `HTTP ${res.status} from ${url}`);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within healthTimeoutMs=${o.healthTimeoutMs}` : (e.cause?.code ?? e.message);
    return unreachable(url, `${url}: ${why}`);
  }
  if (!isHealthBody(body)) return unreachable(url, `${url} did not answer health JSON ({serving, ...})`);
  const lag = typeof body.replicationLagSeconds === 'number' ? body.replicationLagSeconds : null;
  const replicationError = stringOrNull(body.replicationError);
  let state: TabletHealthState = 'healthy';
  let reason = stringOrNull(body.reason) ?? '';
  if (replicationError !== null) {
    state = 'unhealthy';
    if (reason === '') reason = `replication error: ${replicationError}`;
  } else if (lag !== null && lag > o.lagUnhealthySeconds) {
    state = 'unhealthy';
    if (reason === '') reason = `replication lag ${lag}s over lagUnhealthySeconds=${o.lagUnhealthySeconds}`;
  } else if (!body.serving) {
    state = 'not_serving';
  }
  return {
    state,
    reason,
    serving: body.serving,
    tablet_type: stringOrNull(body.tabletType),
    replication_lag_seconds: lag,
    replication_error: replicationError,
    reported_at: stringOrNull(body.at),
    checked_at: new Date().toISOString(),
    url,
  };
}

/** Probes one tablet and records a change of state or reason in its history. Never throws. */
export async function checkTabletHealth(ctx: CtldContext, t: Tablet, options: Partial<TabletHealthOptions> = {}): Promise<TabletHealthView> {
  const o = { ...TABLET_HEALTH_DEFAULTS, ...options };
  const view = await probe(t, o);
  const h = historyOf(ctx, tabletAliasString(t.alias), o);
  if (h.last === null || h.last.state !== view.state || h.last.reason !== view.reason) {
    const e: TabletHealthEvent = { at: view.checked_at, state: view.state, reason: view.reason };
    h.last = e;
    h.events.push(e);
    if (h.events.length > o.healthEventsMax) h.events.splice(0, h.events.length - o.healthEventsMax);
  }
  return view;
}
