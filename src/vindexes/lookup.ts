// Lookup vindexes: the keyspace id of a value is read from a lookup table
// (`from` columns → `to` keyspace id column). This module defines them, validates their params
// and builds their statements; the gate runs the statements through a LookupCursor.
//
// Types (Vitess costs): lookup 20 (non-unique), lookup_unique 10, consistent_lookup 20,
// consistent_lookup_unique 10. "consistent" ones are written before the owner row and repaired
// on conflict by the gate; plain ones in the owner's transaction (or their own with autocommit).

import { FULL_KEY_RANGE, type KeyspaceId } from '../key/index.js';
import {
  DESTINATION_NONE,
  bytesEqual,
  keyspaceIdDestination,
  toBytes,
  vindexError,
  type Destination,
  type LookupCursor,
  type LookupDefinition,
  type LookupVindex,
  type VindexValue,
} from './vindex.js';

export const LOOKUP_TYPES = ['lookup', 'lookup_unique', 'consistent_lookup', 'consistent_lookup_unique'] as const;
export type LookupType = (typeof LOOKUP_TYPES)[number];

/** Params a lookup vindex understands (Vitess names). */
export const LOOKUP_PARAMS = [
  'table',
  'from',
  'to',
  'autocommit',
  'write_only',
  'ignore_nulls',
  'batch_lookup',
  'read_lock',
  'no_verify',
  'multi_shard_autocommit',
] as const;

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const TABLE = /^(?:[A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/;

function boolParam(name: string, params: Readonly<Record<string, string>>, key: string): boolean {
  const v = params[key];
  if (v === undefined || v === '') return false;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw vindexError(name, `param ${key} must be true or false, got '${v}'`);
}

/** Validates lookup params; throws a TesseraError naming the vindex and the param. */
export function parseLookupParams(name: string, type: LookupType, params: Readonly<Record<string, string>>): LookupDefinition {
  const table = params.table;
  if (!table) throw vindexError(name, `${type} needs param table (the lookup table, 'keyspace.table' or 'table')`);
  if (!TABLE.test(table)) throw vindexError(name, `param table '${table}' is not a table name`);
  const fromText = params.from;
  if (!fromText) throw vindexError(name, `${type} needs param from (the lookup table's input column or columns)`);
  const from = fromText.split(',').map((s) => s.trim());
  for (const c of from) {
    if (!IDENT.test(c)) throw vindexError(name, `param from has '${c}', which is not a column name`);
  }
  if (new Set(from).size !== from.length) throw vindexError(name, `param from names a column twice: '${fromText}'`);
  const to = params.to;
  if (!to) throw vindexError(name, `${type} needs param to (the lookup table's keyspace id column)`);
  if (!IDENT.test(to)) throw vindexError(name, `param to '${to}' is not a column name`);
  if (from.includes(to)) throw vindexError(name, `param to '${to}' is also in from`);
  const consistent = type.startsWith('consistent_');
  const autocommit = boolParam(name, params, 'autocommit');
  const writeOnly = boolParam(name, params, 'write_only');
  if (consistent && autocommit) throw vindexError(name, `${type} cannot be autocommit: it relies on the owner's transaction`);
  const readLock = params.read_lock;
  if (readLock !== undefined && !['', 'exclusive', 'shared', 'nowait', 'none'].includes(readLock)) {
    throw vindexError(name, `param read_lock must be exclusive, shared, nowait or none, got '${readLock}'`);
  }
  return {
    table,
    from,
    to,
    autocommit,
    writeOnly,
    ignoreNulls: boolParam(name, params, 'ignore_nulls'),
    batchLookup: boolParam(name, params, 'batch_lookup'),
    readLock: readLock || undefined,
    consistent,
  };
}

function asKeyspaceId(v: VindexValue | undefined): KeyspaceId | undefined {
  if (v === undefined || v === null) return undefined;
  return new Uint8Array(toBytes(v));
}

export function createLookupVindex(name: string, type: LookupType, params: Readonly<Record<string, string>>): LookupVindex {
  const def = parseLookupParams(name, type, params);
  const unique = type.endsWith('_unique');
  const cols = def.from;
  const where = cols.map((c) => `${c} = :${c}`).join(' and ');
  const sql = {
    // Like Vitess, reads go by the first `from` column only; writes use all of them.
    select: `select ${cols[0]}, ${def.to} from ${def.table} where ${cols[0]} = :${cols[0]}`,
    insert: `insert${def.consistent ? '' : ' ignore'} into ${def.table}(${cols.join(', ')}, ${def.to}) values(${cols
      .map((c) => `:${c}`)
      .join(', ')}, :${def.to})`,
    delete: `delete from ${def.table} where ${where} and ${def.to} = :${def.to}`,
  };
  const opts = { autocommit: def.autocommit };
  const checkColumns = (row: readonly VindexValue[]): void => {
    if (row.length !== cols.length) {
      throw vindexError(name, `got ${row.length} column values, want ${cols.length} (${cols.join(', ')})`);
    }
  };
  const bindRow = (row: readonly VindexValue[]): Record<string, VindexValue> => {
    const b: Record<string, VindexValue> = {};
    row.forEach((v, i) => (b[cols[i]] = v));
    return b;
  };
  return {
    kind: 'lookup',
    name,
    type,
    cost: unique ? 10 : 20,
    unique,
    needsLookup: true,
    params,
    lookup: def,
    sql,
    async map(cursor: LookupCursor, values: readonly VindexValue[]): Promise<Destination[]> {
      const out: Destination[] = [];
      for (const v of values) {
        if (def.writeOnly) {
          // Not yet backfilled: the table cannot be trusted, so every shard may hold the row.
          out.push({ kind: 'keyRange', range: FULL_KEY_RANGE });
          continue;
        }
        if (v === null && def.ignoreNulls) {
          out.push(DESTINATION_NONE);
          continue;
        }
        const res = await cursor.execute(sql.select, bindRow([v]), opts);
        const ids = res.rows.map((r) => asKeyspaceId(r[1])).filter((k): k is KeyspaceId => k !== undefined);
        if (unique) {
          if (ids.length > 1) throw vindexError(name, `lookup returned ${ids.length} keyspace ids for one value of a unique vindex`);
          out.push(ids.length === 1 ? keyspaceIdDestination(ids[0]) : DESTINATION_NONE);
        } else {
          out.push(ids.length === 0 ? DESTINATION_NONE : { kind: 'keyspaceIds', ids });
        }
      }
      return out;
    },
    async verify(cursor, values, ksids) {
      if (values.length !== ksids.length) {
        throw vindexError(name, `verify got ${values.length} values but ${ksids.length} keyspace ids`);
      }
      const out: boolean[] = [];
      for (let i = 0; i < values.length; i++) {
        if (def.writeOnly || boolParam(name, params, 'no_verify')) {
          out.push(true);
          continue;
        }
        const res = await cursor.execute(sql.select, bindRow([values[i]]), opts);
        out.push(res.rows.some((r) => {
          const k = asKeyspaceId(r[1]);
          return k !== undefined && bytesEqual(k, ksids[i]);
        }));
      }
      return out;
    },
    async create(cursor, rows, ksids) {
      if (rows.length !== ksids.length) {
        throw vindexError(name, `create got ${rows.length} rows but ${ksids.length} keyspace ids`);
      }
      for (let i = 0; i < rows.length; i++) {
        checkColumns(rows[i]);
        if (def.ignoreNulls && rows[i].some((v) => v === null)) continue;
        await cursor.execute(sql.insert, { ...bindRow(rows[i]), [def.to]: ksids[i] }, opts);
      }
    },
    async delete(cursor, rows, ksid) {
      for (const row of rows) {
        checkColumns(row);
        await cursor.execute(sql.delete, { ...bindRow(row), [def.to]: ksid }, opts);
      }
    },
  };
}
