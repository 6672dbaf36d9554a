// Helpers shared by the web UI's page modules (client.ts, workflow-pages.ts): escaping, the JSON
// API over fetch, and formatting. Runs in the browser; imports types only.
import type { Json } from '../../topo/index.js';

export const POLL_INTERVAL_MS = 2000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Actions (a switch waits for streams to catch up) may take longer than a poll. */
const ACTION_TIMEOUT_MS = 120_000;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function errorMessage(body: unknown, status: number): string {
  if (typeof body === 'object' && body !== null) {
    const e = (body as { error?: { message?: unknown; errno?: unknown; sqlState?: unknown } }).error;
    if (e && typeof e.message === 'string') return `ERROR ${String(e.errno)} (${String(e.sqlState)}): ${e.message}`;
  }
  return `HTTP ${status}`;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function api<T>(command: string, params: Record<string, string> = {}): Promise<T> {
  const q = new URLSearchParams(params).toString();
  const res = await fetch(`/api/v1/${command}${q === '' ? '' : `?${q}`}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), cache: 'no-store' });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(`ctld answered ${res.status} with non-JSON`, res.status);
  }
  if (!res.ok) throw new ApiError(errorMessage(body, res.status), res.status);
  return body as T;
}

export function pretty(v: Json | object | null): string {
  return JSON.stringify(v, null, 2);
}

export function timeOf(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}


/** POSTs a command (one that changes things) and returns its JSON result. */
export async function post<T>(command: string, request: Record<string, Json>): Promise<T> {
  const res = await fetch(`/api/v1/${command}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(ACTION_TIMEOUT_MS),
    cache: 'no-store',
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(`ctld answered ${res.status} with non-JSON`, res.status);
  }
  if (!res.ok) throw new ApiError(errorMessage(body, res.status), res.status);
  return body as T;
}
