// Vindexes at run time: functional ones map values themselves; lookup ones read their table
// through a LookupCursor the gate builds over the statement's VCursor (see src/vindexes/lookup.ts
// for the statements and their commit orders).
import { ER, TesseraError } from '../../mysql/index.js';
import { format, parse, type BindValue, type Literal } from '../../sql/index.js';
import type { CommitOrder, Destination, LookupCursor, LookupRows, Vindex, VindexValue } from '../../vindexes/index.js';
import type { BindVars, VCursor } from '../types.js';
import { rowsOf } from '../values.js';

/** A vindex value as the literal a statement binds. */
export function vindexValueLiteral(v: VindexValue): Literal {
  if (v === null) return { kind: 'Null' };
  if (typeof v === 'bigint') return { kind: 'Number', text: v.toString(), numType: 'int' };
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'Number', text: String(v), numType: 'int' } : { kind: 'Number', text: String(v), numType: 'float' };
  if (typeof v === 'string') return { kind: 'String', value: v, charset: null, national: false };
  if (v instanceof Uint8Array) return { kind: 'Hex', digits: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex'), form: 'x', charset: null };
  return { kind: 'Number', text: v.text, numType: v.type === 'float' ? 'float' : v.type === 'decimal' ? 'decimal' : 'int' };
}

function bindValues(bindVars: Readonly<Record<string, VindexValue | readonly VindexValue[]>>): BindVars {
  const out: Record<string, BindValue> = {};
  for (const [k, v] of Object.entries(bindVars)) {
    out[k] = Array.isArray(v) ? { kind: 'List', items: (v as readonly VindexValue[]).map(vindexValueLiteral) } : vindexValueLiteral(v as VindexValue);
  }
  return out;
}

function lookupsUnsupported(): TesseraError {
  return new TesseraError(ER.NOT_SUPPORTED_YET, 'lookup vindexes need the gate\'s session cursor; this cursor cannot run lookup statements');
}

/**
 * The LookupCursor of one statement. `dml`: the statement writes, so lookup reads lock their rows
 * (`pre` for INSERT, `post` for UPDATE and DELETE).
 */
export function lookupCursor(vc: VCursor, dml: 'pre' | 'post' | null): LookupCursor {
  const toRows = (rows: readonly (readonly (Buffer | null)[])[]): LookupRows => ({ rows: rows.map((r) => r.map((c) => (c === null ? null : new Uint8Array(c.buffer, c.byteOffset, c.byteLength)))) });
  return {
    inTransaction: vc.inTransaction ?? false,
    dml: dml !== null && (vc.inTransaction ?? false),
    rowLockOrder: dml ?? 'pre',
    async execute(sql: string, bindVars, order: CommitOrder) {
      if (!vc.executeVindexQuery) throw lookupsUnsupported();
      const r = await vc.executeVindexQuery(sql, bindValues(bindVars), order);
      return toRows(rowsOf(r));
    },
    async executeKeyspaceId(keyspace, ksid, sql, bindVars) {
      const rs = await vc.shardForKeyspaceId(keyspace, ksid);
      if (!rs) return { rows: [] };
      const [r] = await vc.executeMulti([{ rs, sql: format(parse(sql), { bindVars: bindValues(bindVars) }) }], { write: false });
      return toRows(rowsOf(r));
    },
  };
}

/** Destinations of values through any vindex (lookups read their table). */
export async function mapVindex(vc: VCursor, vindex: Vindex, values: readonly VindexValue[], dml: 'pre' | 'post' | null): Promise<Destination[]> {
  switch (vindex.kind) {
    case 'functional':
      return vindex.map(values);
    case 'lookup':
      return vindex.map(lookupCursor(vc, dml), values);
    case 'multiColumn':
      return vindex.map(values.map((v) => [v]));
    default: {
      const never: never = vindex;
      throw new Error(`unknown vindex kind ${String(never)}`);
    }
  }
}
