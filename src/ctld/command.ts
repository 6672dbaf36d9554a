// What a ctld command is. The admin API is a table of these (api.ts): the CLI and the web UI call
// them by name with a JSON request and get JSON back. Later issues add tablet and workflow
// commands as more tables merged into the same API.
import type { TabletManagerClient } from '../tablet/index.js';
import type { Json, JsonObject, TopoServer } from '../topo/index.js';
import { topoError } from '../topo/index.js';

/** What handlers may use. Grows as ctld learns to run workflows. */
export interface CtldContext {
  readonly topo: TopoServer;
  /**
   * Tablet managers: in-process in combined mode, over the network (pooled) otherwise. Owned by
   * whoever made the context, who closes it after the server.
   */
  readonly tmc: TabletManagerClient;
}

export interface CtldCommand {
  /** Reads only; also served on GET (query parameters as the request), for the web UI. */
  readonly readOnly: boolean;
  /** One line for `GET /api/v1/commands`. */
  readonly summary: string;
  run(ctx: CtldContext, req: JsonObject): Promise<Json>;
}

export type CommandTable = Readonly<Record<string, CtldCommand>>;

// ---- request field helpers: each names the field it rejects --------------------------------

export function reqString(req: JsonObject, field: string): string {
  const v = req[field];
  if (typeof v !== 'string' || v === '') throw topoError('BAD_ARGUMENT', `'${field}' is required`);
  return v;
}

export function optString(req: JsonObject, field: string, dflt = ''): string {
  const v = req[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw topoError('BAD_ARGUMENT', `'${field}' must be a string`);
  return v;
}

export function optBool(req: JsonObject, field: string): boolean {
  const v = req[field];
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0' || v === '') return false;
  throw topoError('BAD_ARGUMENT', `'${field}' must be true or false`);
}

export function optInt(req: JsonObject, field: string, dflt: number): number {
  const v = req[field];
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw topoError('BAD_ARGUMENT', `'${field}' must be an integer`);
  return n;
}

export function optStringList(req: JsonObject, field: string): string[] {
  const v = req[field];
  if (v === undefined || v === null || v === '') return [];
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw topoError('BAD_ARGUMENT', `'${field}' must be a list of strings`);
}

export function optStringMap(req: JsonObject, field: string): Record<string, string> {
  const v = req[field];
  if (v === undefined || v === null) return {};
  if (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')) return v as Record<string, string>;
  throw topoError('BAD_ARGUMENT', `'${field}' must be an object of strings`);
}

/** A JSON request field that is either JSON already or JSON text (from --vschema '<json>'). */
export function reqJson(req: JsonObject, field: string, parse: (text: string, what: string) => Json): Json {
  const v = req[field];
  if (v === undefined || v === null || v === '') throw topoError('BAD_ARGUMENT', `'${field}' is required`);
  return typeof v === 'string' ? parse(v, field) : v;
}
