// Lookup vindexes: the keyspace id of a value is read from a lookup table
// (`from` columns → `to` keyspace id column). This module defines them, validates their params
// and builds their statements; the gate runs the statements through a LookupCursor.
//
// Types (Vitess costs): lookup 20 (non-unique), lookup_unique 10, consistent_lookup 20,
// consistent_lookup_unique 10.
//
// Write order, as Vitess's: a consistent lookup creates its rows in a `pre` transaction committed
// before the owner's and deletes them in a `post` one committed after it, so no distributed
// transaction is needed: a crash between the commits leaves an orphaned lookup row (pointing at
// a row that is not there), never a row without its lookup entry. An orphan is repaired when the
// value is inserted again: the existing lookup row is locked, the owner row looked for at its
// keyspace id, and when it is not there the lookup row is taken over. Plain lookups write in the
// session's own transaction (with `autocommit`, in their own: inserts of `lookup` upsert, deletes
// are skipped).

import { FULL_KEY_RANGE, type KeyspaceId } from '../key/index.js';
import { ER, TesseraError } from '../mysql/errors.js';
import {
  DESTINATION_NONE,
  bytesEqual,
  keyspaceIdDestination,
  toBytes,
  vindexError,
  type CommitOrder,
  type Destination,
  type LookupCursor,
  type LookupDefinition,
  type LookupOwner,
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
  const autocommit = boolParam(name, params, 'autocommit') || boolParam(name, params, 'multi_shard_autocommit');
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
    noVerify: boolParam(name, params, 'no_verify'),
    consistent,
  };
}

function asKeyspaceId(v: VindexValue | undefined): KeyspaceId | undefined {
  if (v === undefined || v === null) return undefined;
  return new Uint8Array(toBytes(v));
}

/** `name` or `ks.name` in backquotes. */
function quoteName(name: string): string {
  return name
    .split('.')
    .map((p) => '`' + p + '`')
    .join('.');
}

/** MariaDB's ER_BAD_NULL_ERROR. */
const BAD_NULL_ERROR = { errno: 1048, sqlState: '23000' } as const;

const READ_LOCKS: Readonly<Record<string, string>> = {
  exclusive: ' for update',
  shared: ' lock in share mode',
  nowait: ' for update nowait',
  none: '',
};

/** How MariaDB prints a key's values in "Duplicate entry": the columns joined by '-'. */
function entryText(values: readonly VindexValue[]): string {
  return values.map((v) => (v === null ? 'NULL' : Buffer.from(toBytes(v)).toString('utf8'))).join('-');
}

/** MariaDB's 1062 for a value a unique lookup vindex already maps to another row. */
export function duplicateEntryError(vindexName: string, values: readonly VindexValue[]): TesseraError {
  return new TesseraError(ER.DUP_ENTRY, `Duplicate entry '${entryText(values)}' for key '${vindexName}'`);
}

function isDuplicateError(err: unknown): boolean {
  return err instanceof TesseraError && err.errno === ER.DUP_ENTRY.errno;
}

/** Whether Vitess would read these values in one IN query: all integers (or batch_lookup). */
function isIntegral(v: VindexValue): boolean {
  if (typeof v === 'bigint') return true;
  if (typeof v === 'number') return Number.isInteger(v);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) return v.type === 'int64' || v.type === 'uint64';
  return false;
}

/** The text a value is matched on in a batched lookup's result (Vitess's ToString). */
function valueKey(v: VindexValue): string {
  // Integers in decimal, as MariaDB sends them back (-3 stays -3); everything else as its bytes.
  return Buffer.from(toBytes(v)).toString('latin1');
}

export function createLookupVindex(name: string, type: LookupType, params: Readonly<Record<string, string>>): LookupVindex {
  const def = parseLookupParams(name, type, params);
  const unique = type.endsWith('_unique');
  const cols = def.from;
  const table = quoteName(def.table);
  const q = (c: string): string => '`' + c + '`';
  const whereFrom = cols.map((c) => `${q(c)} = :${c}`).join(' and ');
  // Reads go by the first `from` column only, as Vitess's do; writes use all of them.
  const select = `select ${q(cols[0])}, ${q(def.to)} from ${table} where ${q(cols[0])} in ::${cols[0]}`;
  const lockExpr = READ_LOCKS[def.readLock ?? 'exclusive'];
  const sql = {
    select,
    verify: `select ${q(cols[0])} from ${table} where ${q(cols[0])} = :${cols[0]} and ${q(def.to)} = :${def.to}`,
    delete: `delete from ${table} where ${whereFrom} and ${q(def.to)} = :${def.to}`,
  };
  // Consistent lookups: the lookup row of a value (unique) or of a value and keyspace id
  // (non-unique: other rows may share the value) locked in the pre transaction.
  const lockLookup = `select ${q(def.to)} from ${table} where ${whereFrom}${unique ? '' : ` and ${q(def.to)} = :${def.to}`} for update`;
  const insertOne = `insert into ${table}(${[...cols, def.to].map(q).join(', ')}) values(${[...cols, def.to].map((c) => ':' + c).join(', ')})`;
  const updateLookup = `update ${table} set ${q(def.to)} = :${def.to} where ${whereFrom}`;
  const writeOrder: CommitOrder = def.consistent ? 'pre' : def.autocommit ? 'autocommit' : 'normal';
  const deleteOrder: CommitOrder = def.consistent ? 'post' : 'normal';
  // Consistent lookups read inside a transaction in their own (pre for SELECT and INSERT, post for
  // UPDATE and DELETE), as Vitess's, so the session's transaction does not take in the lookup shard.
  const readOrder = (cursor: LookupCursor): CommitOrder => (def.autocommit ? 'autocommit' : def.consistent && cursor.inTransaction ? cursor.rowLockOrder : 'normal');

  const checkColumns = (row: readonly VindexValue[]): void => {
    if (row.length !== cols.length) {
      throw vindexError(name, `got ${row.length} column values, want ${cols.length} (${cols.join(', ')})`);
    }
  };
  const bindRow = (row: readonly VindexValue[], ksid?: KeyspaceId): Record<string, VindexValue> => {
    const b: Record<string, VindexValue> = {};
    row.forEach((v, i) => (b[cols[i]] = v));
    if (ksid) b[def.to] = ksid;
    return b;
  };

  /** Rows without NULLs (ignore_nulls) or an error naming the column. */
  const withoutNulls = (rows: readonly (readonly VindexValue[])[], ksids: readonly KeyspaceId[]): { rows: (readonly VindexValue[])[]; ksids: KeyspaceId[] } => {
    const out: { rows: (readonly VindexValue[])[]; ksids: KeyspaceId[] } = { rows: [], ksids: [] };
    rows.forEach((row, i) => {
      checkColumns(row);
      const n = row.findIndex((v) => v === null);
      if (n >= 0) {
        if (def.ignoreNulls) return;
        throw new TesseraError(BAD_NULL_ERROR, `Column '${cols[n]}' cannot be null: lookup vindex ${name} needs a value (or param ignore_nulls)`);
      }
      out.rows.push(row);
      out.ksids.push(ksids[i]);
    });
    return out;
  };

  /** One statement inserting every row; rows bound as `col_i`. */
  const insertMany = async (cursor: LookupCursor, rows: readonly (readonly VindexValue[])[], ksids: readonly KeyspaceId[], ignore: boolean, order: CommitOrder): Promise<void> => {
    const bind: Record<string, VindexValue> = {};
    const tuples = rows.map((row, i) => {
      row.forEach((v, j) => (bind[`${cols[j]}_${i}`] = v));
      bind[`${def.to}_${i}`] = ksids[i];
      return `(${[...cols, def.to].map((c) => `:${c}_${i}`).join(', ')})`;
    });
    // Plain non-unique lookups with autocommit upsert, as Vitess's: a row left by a rolled-back
    // owner is simply taken over.
    const upsert = !unique && def.autocommit && !def.consistent ? ` on duplicate key update ${[...cols, def.to].map((c) => `${q(c)} = values(${q(c)})`).join(', ')}` : '';
    const text = `insert${ignore ? ' ignore' : ''} into ${table}(${[...cols, def.to].map(q).join(', ')}) values ${tuples.join(', ')}${upsert}`;
    await cursor.execute(text, bind, order);
  };

  /** A consistent lookup's insert hit an existing row: an orphan is taken over, a live row is a duplicate. */
  const handleDuplicate = async (cursor: LookupCursor, row: readonly VindexValue[], ksid: KeyspaceId, owner: LookupOwner | undefined): Promise<void> => {
    const bind = bindRow(row, ksid);
    const locked = await cursor.execute(lockLookup, bind, 'pre');
    if (locked.rows.length === 0) {
      await cursor.execute(insertOne, bind, 'pre');
      return;
    }
    if (!unique) return; // this value already maps to this keyspace id
    if (locked.rows.length > 1) throw vindexError(name, `lookup table ${def.table} has ${locked.rows.length} rows for one value of a unique vindex`);
    const existing = asKeyspaceId(locked.rows[0][0]);
    if (!existing) throw vindexError(name, `lookup table ${def.table} has a NULL ${def.to} for '${entryText(row)}'`);
    if (!owner) throw vindexError(name, 'has no owner table, so an existing lookup row cannot be checked (set owner in the VSchema)');
    // Wait for (share-lock) a row a running transaction is inserting at the old keyspace id.
    const ownerWhere = owner.columns.map((c, i) => `${q(c)} = :${cols[i]}`).join(' and ');
    const found = await cursor.executeKeyspaceId(owner.keyspace, existing, `select ${q(owner.columns[0])} from ${q(owner.table)} where ${ownerWhere} lock in share mode`, bindRow(row));
    if (found.rows.length > 0) throw duplicateEntryError(name, row);
    if (bytesEqual(existing, ksid)) return;
    await cursor.execute(updateLookup, bind, 'pre');
  };

  const vindex: LookupVindex = {
    kind: 'lookup',
    name,
    type,
    cost: unique ? 10 : 20,
    unique,
    needsLookup: true,
    params,
    lookup: def,
    sql,
    async map(cursor, values) {
      if (def.writeOnly) return values.map(() => ({ kind: 'keyRange', range: FULL_KEY_RANGE }) as Destination);
      if (!unique && def.ignoreNulls && values.length === 1 && values[0] === null) return [{ kind: 'keyRange', range: FULL_KEY_RANGE }];
      const text = cursor.dml ? select + lockExpr : select;
      const order = readOrder(cursor);
      const perValue: KeyspaceId[][] = [];
      if (values.length > 0 && (def.batchLookup || values.every(isIntegral))) {
        const res = await cursor.execute(text, { [cols[0]]: values }, order);
        const byValue = new Map<string, KeyspaceId[]>();
        for (const r of res.rows) {
          const k = asKeyspaceId(r[1]);
          if (!k || r[0] === null) continue;
          const key = valueKey(r[0]);
          let list = byValue.get(key);
          if (!list) byValue.set(key, (list = []));
          list.push(k);
        }
        for (const v of values) perValue.push(v === null ? [] : byValue.get(valueKey(v)) ?? []);
      } else {
        for (const v of values) {
          const res = await cursor.execute(text, { [cols[0]]: [v] }, order);
          perValue.push(res.rows.map((r) => asKeyspaceId(r[1])).filter((k): k is KeyspaceId => k !== undefined));
        }
      }
      return perValue.map((ids, i) => {
        if (ids.length === 0) return DESTINATION_NONE;
        if (!unique) return { kind: 'keyspaceIds', ids };
        if (ids.length > 1) throw vindexError(name, `lookup returned ${ids.length} keyspace ids for the value '${entryText([values[i]])}' of a unique vindex`);
        return keyspaceIdDestination(ids[0]);
      });
    },
    async verify(cursor, values, ksids) {
      if (values.length !== ksids.length) {
        throw vindexError(name, `verify got ${values.length} values but ${ksids.length} keyspace ids`);
      }
      if (def.writeOnly || def.noVerify) return values.map(() => true);
      const order: CommitOrder = def.consistent ? 'pre' : def.autocommit ? 'autocommit' : 'normal';
      const out: boolean[] = [];
      for (let i = 0; i < values.length; i++) {
        const res = await cursor.execute(sql.verify, { [cols[0]]: values[i], [def.to]: ksids[i] }, order);
        out.push(res.rows.length > 0);
      }
      return out;
    },
    async create(cursor, rows0, ksids0, options) {
      if (rows0.length !== ksids0.length) {
        throw vindexError(name, `create got ${rows0.length} rows but ${ksids0.length} keyspace ids`);
      }
      const { rows, ksids } = withoutNulls(rows0, ksids0);
      if (rows.length === 0) return;
      try {
        await insertMany(cursor, rows, ksids, options.ignore, writeOrder);
      } catch (err) {
        if (!def.consistent || !isDuplicateError(err)) throw err;
        // One of the values has a row: each row on its own, repairing orphans.
        const seen = new Set<string>();
        for (let i = 0; i < rows.length; i++) {
          const key = rows[i].map((v) => valueKey(v)).join('\0');
          if (seen.has(key) && unique) throw duplicateEntryError(name, rows[i]);
          seen.add(key);
          await handleDuplicate(cursor, rows[i], ksids[i], options.owner);
        }
      }
    },
    async delete(cursor, rows, ksid) {
      // With autocommit a delete could remove a row another transaction still needs: skipped.
      if (def.autocommit) return;
      for (const row of rows) {
        checkColumns(row);
        if (row.some((v) => v === null)) continue;
        await cursor.execute(sql.delete, bindRow(row, ksid), deleteOrder);
      }
    },
    async update(cursor, oldRow, ksid, newRow, options) {
      if (def.consistent && options.same) return;
      await vindex.delete(cursor, [oldRow], ksid);
      await vindex.create(cursor, [newRow], [ksid], { ignore: false, owner: options.owner });
    },
  };
  return vindex;
}
