// What every `tessera ctl` command is made of (CtlCommandSpec) and the flag readers the command
// tables share (src/cli/ctl.ts, src/cli/ctl-workflows.ts).
import type { CtldClient } from '../ctld/index.js';
import { topoError, type Json, type JsonObject } from '../topo/index.js';

export type Opts = Record<string, unknown>;

export interface CtlCommandSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  /** commander argument syntax: `<keyspace>`, `[cells...]`. */
  readonly args?: readonly string[];
  /** [flags, description, default]; flags in dash form (underscored spellings are normalised). */
  readonly options?: ReadonlyArray<readonly [string, string] | readonly [string, string, string | boolean]>;
  /** Repeatable flags (`--cell zone1 --cell zone2`) collected into arrays. */
  readonly repeatable?: ReadonlyArray<readonly [string, string]>;
  request(args: string[], opts: Opts): JsonObject | Promise<JsonObject>;
  /** Text to print; by default the result as indented JSON, nothing for null. */
  print?(result: Json, opts: Opts): string;
  /**
   * Runs after the command succeeded, on the client (`--wait`): waits by polling ctld, one short
   * request at a time, so no wait is cut by the request timeout.
   */
  after?(client: CtldClient, args: string[], opts: Opts): Promise<void>;
}

export function str(o: Opts, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

export function list(o: Opts, k: string): string[] {
  const v = o[k];
  if (Array.isArray(v)) return v.flatMap((x) => String(x).split(',')).filter((x) => x !== '');
  if (typeof v === 'string') return v.split(',').filter((x) => x !== '');
  return [];
}

/** Maps only the flags that were given, so ctld applies its own defaults for the rest. */
export function pick(o: Opts, fields: Record<string, string>): JsonObject {
  const out: JsonObject = {};
  for (const [opt, field] of Object.entries(fields)) {
    const v = o[opt];
    if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') out[field] = v;
  }
  return out;
}

/** `--wait-replicas-timeout 30s` (Go durations as Vitess takes them) or milliseconds. */
export function durationMs(o: Opts, k: string, flag: string): JsonObject {
  const v = str(o, k);
  if (v === undefined) return {};
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw topoError('BAD_ARGUMENT', `--${flag} wants a duration such as 30s, 500ms or 2m, got '${v}'`);
  const n = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
  return { [`${flag.replace(/-/g, '_')}_ms`]: Math.round(n) };
}

/** Workflow results: `status` prints text unless --format json; the rest print JSON. */
export function printWorkflowResult(result: Json): string {
  if (result && typeof result === 'object' && !Array.isArray(result) && typeof result.text === 'string' && Object.keys(result).length === 1) return result.text;
  return result === null ? '' : `${JSON.stringify(result, null, 2)}\n`;
}

/** A `[bool]` flag: given bare (true), or with a value. */
export function isTrue(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['true', '1', 'yes', ''].includes(v.toLowerCase()));
}
