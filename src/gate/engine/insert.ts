// Insert: computes each row's keyspace id from the table's primary vindex and sends each shard
// only its own rows; fills the auto_increment column from the table's sequence for rows that
// leave it out or give NULL. Unsharded keyspaces get the whole statement (after sequence values
// are filled in, when the VSchema names a sequence).
//
// Lookup vindexes: before the rows go to their shards, each lookup vindex the table owns gets a
// row per inserted row (src/vindexes/lookup.ts says in which transaction), and the values of
// lookup vindexes it does not own are verified against the row's keyspace id; all of it runs as
// one statement (GateSession.statementTransaction). With IGNORE (or ON DUPLICATE KEY UPDATE),
// a row whose value maps elsewhere is left out, as Vitess does.
import { ER, TesseraError } from '../../mysql/index.js';
import { format, formatExpr, type Expr, type Insert as InsertStmt, type Literal } from '../../sql/index.js';
import type { FunctionalVindex, LookupVindex, VindexValue } from '../../vindexes/index.js';
import type { KeyspaceId } from '../../key/index.js';
import { insertInfo } from './dml-info.js';
import { lookupCursor } from './vindex-lookup.js';
import { gateError, notSupported } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, ResolvedShard, Result, ShardQuery, VCursor } from '../types.js';
import { literalToVindexValue } from '../values.js';
import { keyspaceIdToHex } from '../../key/index.js';

export interface InsertSpec {
  readonly keyspace: string;
  readonly sharded: boolean;
  readonly table: string;
  /** The statement with its table unqualified; its column list is `columns`. */
  readonly statement: InsertStmt;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Expr[])[];
  /** Sharded: the primary vindex and the offset of its column in `columns`. */
  readonly vindex?: FunctionalVindex;
  readonly vindexColumn?: number;
  /** The sequence filling `columns[column]`. */
  readonly autoIncrement?: { readonly column: number; readonly keyspace: string; readonly table: string };
  /** Lookup vindexes the table owns, with the offsets of their columns in `columns`. */
  readonly owned?: readonly LookupColumns[];
  /** Lookup vindexes of the table it does not own: each row's values are verified. */
  readonly unowned?: readonly LookupColumns[];
  /** INSERT IGNORE or ON DUPLICATE KEY UPDATE: lookup rows that exist are not errors. */
  readonly ignore?: boolean;
}

export interface LookupColumns {
  readonly vindex: LookupVindex;
  /** Offsets in `columns`, one per `from` column. */
  readonly columns: readonly number[];
}

function literalOf(e: Expr, bindVars: BindVars): Literal | null {
  if (e.kind === 'BindVar' && !e.list) {
    const v = bindVars[e.name];
    if (v === undefined) throw gateError(`missing bind variable :${e.name}`);
    if (v.kind === 'List') return null;
    return v;
  }
  if (e.kind === 'Number' || e.kind === 'String' || e.kind === 'Null' || e.kind === 'Hex' || e.kind === 'Bit' || e.kind === 'Bool' || e.kind === 'TypedLiteral') return e;
  if (e.kind === 'Unary' && e.op === '-' && e.expr.kind === 'Number') return { kind: 'Number', text: '-' + e.expr.text, numType: e.expr.numType };
  return null;
}

/** A literal MariaDB stores as 0 in an integer column: 0, 0.0, '0', -0. */
function isZero(l: Literal): boolean {
  if (l.kind === 'Number') return Number(l.text) === 0;
  if (l.kind === 'String') return /^\s*[+-]?0*(\.0*)?\s*$/.test(l.value) && /0/.test(l.value);
  if (l.kind === 'Bool') return !l.value;
  return false;
}

export class Insert implements Primitive {
  constructor(readonly spec: InsertSpec) {}

  inputs(): readonly Primitive[] {
    return [];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const s = this.spec;
    const rows = s.rows.map((r) => [...r]);
    let insertId = 0n;
    const ai = s.autoIncrement;
    if (ai) {
      const need: number[] = [];
      rows.forEach((r, i) => {
        const v = literalOf(r[ai.column], bindVars);
        // As MariaDB's auto_increment: NULL, and 0 unless sql_mode has NO_AUTO_VALUE_ON_ZERO.
        if (v !== null && (v.kind === 'Null' || (!vc.noAutoValueOnZero && isZero(v)))) need.push(i);
      });
      if (need.length) {
        const first = await vc.nextSequenceValues(ai.keyspace, ai.table, need.length);
        insertId = first;
        need.forEach((rowIndex, k) => {
          rows[rowIndex][ai.column] = { kind: 'Number', text: (first + BigInt(k)).toString(), numType: 'int' };
        });
      }
    }
    if (!s.sharded) {
      const shards = await vc.allShards(s.keyspace);
      if (shards.length === 0) throw new TesseraError(ER.UNAVAILABLE, `keyspace ${s.keyspace} has no serving shards`);
      const queries: ShardQuery[] = [{ rs: shards[0], sql: format(this.build(rows), { bindVars }) }];
      const [r] = await vc.executeMulti(queries, { write: true, tables: [s.table] });
      return this.finish([r], insertId, r.info);
    }
    const vi = s.vindex!;
    const col = s.vindexColumn!;
    const values = rows.map((r) => {
      const lit = literalOf(r[col], bindVars);
      if (lit === null) throw notSupported(`INSERT with the expression ${formatExpr(r[col])} in sharding column ${s.columns[col]} of ${s.table}`);
      return lit;
    });
    const dests = vi.map(values.map(literalToVindexValue));
    const ksids: (KeyspaceId | null)[] = dests.map((d, i) => {
      if (d.kind !== 'keyspaceId') {
        throw new TesseraError(ER.UNKNOWN_ERROR,
          `could not map ${values[i].kind === 'Null' ? 'NULL' : formatExpr(values[i])} to a keyspace id: INSERT into sharded table ${s.keyspace}.${s.table} needs a value for its sharding column ${s.columns[col]} (vindex ${vi.name})`);
      }
      return d.id;
    });
    if (s.owned?.length || s.unowned?.length) {
      if (!vc.statementTransaction) throw notSupported(`INSERT into ${s.table}, which has lookup vindexes, through this cursor`);
      return vc.statementTransaction(async () => {
        await this.maintainLookups(vc, rows, ksids, bindVars);
        return this.send(vc, rows, ksids, bindVars, insertId);
      });
    }
    return this.send(vc, rows, ksids, bindVars, insertId);
  }

  private build(subset: Expr[][]): InsertStmt {
    return { ...this.spec.statement, columns: [...this.spec.columns], source: { kind: 'Values', rows: subset } };
  }

  /** Owned lookups get their rows; unowned ones are verified. Rows left out get a null keyspace id. */
  private async maintainLookups(vc: VCursor, rows: readonly (readonly Expr[])[], ksids: (KeyspaceId | null)[], bindVars: BindVars): Promise<void> {
    const s = this.spec;
    const cursor = lookupCursor(vc, 'pre');
    const valuesOf = (lc: LookupColumns, r: readonly Expr[]): VindexValue[] =>
      lc.columns.map((c) => {
        const lit = literalOf(r[c], bindVars);
        if (lit === null) throw notSupported(`INSERT with the expression ${formatExpr(r[c])} in column ${s.columns[c]} of ${s.table}, which lookup vindex ${lc.vindex.name} maps`);
        return literalToVindexValue(lit);
      });
    for (const lc of s.owned ?? []) {
      const idx = rows.map((_, i) => i).filter((i) => ksids[i] !== null);
      if (idx.length === 0) break;
      const values = idx.map((i) => valuesOf(lc, rows[i]));
      const ids = idx.map((i) => ksids[i]!);
      const owner = { keyspace: s.keyspace, table: s.table, columns: lc.columns.map((c) => s.columns[c]) };
      await lc.vindex.create(cursor, values, ids, { ignore: s.ignore ?? false, owner });
      if (!s.ignore) continue;
      // A value that already maps to another row: that row is not inserted.
      const ok = await lc.vindex.verify(cursor, values.map((v) => v[0]), ids);
      ok.forEach((good, k) => {
        if (!good && values[k].every((v) => v !== null)) ksids[idx[k]] = null;
      });
    }
    for (const lc of s.unowned ?? []) {
      const idx = rows.map((_, i) => i).filter((i) => ksids[i] !== null);
      const values = idx.map((i) => valuesOf(lc, rows[i])[0]);
      const check = idx.filter((_, k) => values[k] !== null);
      const ok = await lc.vindex.verify(cursor, check.map((i) => values[idx.indexOf(i)]), check.map((i) => ksids[i]!));
      for (let k = 0; k < check.length; k++) {
        if (ok[k]) continue;
        if (s.ignore) ksids[check[k]] = null;
        else {
          throw new TesseraError(ER.UNKNOWN_ERROR, `INSERT into ${s.keyspace}.${s.table}: the value ${formatExpr(rows[check[k]][lc.columns[0]])} of column ${s.columns[lc.columns[0]]} does not map to the row's keyspace id in lookup vindex ${lc.vindex.name}`);
        }
      }
    }
  }

  /** Sends each shard its rows (rows with a null keyspace id were left out). */
  private async send(vc: VCursor, rows: readonly Expr[][], ksids: readonly (KeyspaceId | null)[], bindVars: BindVars, insertId: bigint): Promise<Result> {
    const s = this.spec;
    const groups = new Map<string, { rs: ResolvedShard; rows: Expr[][] }>();
    for (let i = 0; i < rows.length; i++) {
      const id = ksids[i];
      if (id === null) continue;
      const rs = await vc.shardForKeyspaceId(s.keyspace, id);
      if (!rs) throw gateError(`no shard of keyspace ${s.keyspace} holds keyspace id ${keyspaceIdToHex(id)}`);
      const k = rs.keyspace + '/' + rs.shard;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { rs, rows: [] }));
      g.rows.push(rows[i]);
    }
    const parts = [...groups.values()];
    const queries = parts.map((g) => ({ rs: g.rs, sql: format(this.build(g.rows), { bindVars }) }));
    if (queries.length === 0) return { fields: [], rows: null, raw: null, rowsAffected: 0, insertId, warnings: 0, info: '' };
    const results = await vc.executeMulti(queries, { write: true, tables: [s.table] });
    const st = s.statement;
    const info = insertInfo(rows.length, parts.map((g, i) => ({ rows: g.rows.length, result: results[i] })), st.ignore, st.replace || st.onDuplicate.length > 0);
    return this.finish(results, insertId, info);
  }

  private finish(results: readonly Result[], insertId0: bigint, info: string): Result {
    let insertId = insertId0;
    let rowsAffected = 0;
    let warnings = 0;
    for (const r of results) {
      rowsAffected += r.rowsAffected;
      warnings += r.warnings;
      if (insertId === 0n && r.insertId !== 0n) insertId = r.insertId;
    }
    return { fields: [], rows: null, raw: null, rowsAffected, insertId, warnings, info };
  }

  describe(): PlanDescription {
    const s = this.spec;
    return {
      OperatorType: 'Insert',
      Variant: s.sharded ? 'Sharded' : 'Unsharded',
      Keyspace: { Name: s.keyspace, Sharded: s.sharded },
      Query: format(s.statement),
      TableName: s.table,
      ...(s.vindex ? { Vindex: s.vindex.name, VindexColumn: s.columns[s.vindexColumn!] } : {}),
      ...(s.autoIncrement ? { AutoIncrement: `${s.autoIncrement.keyspace}.${s.autoIncrement.table}:${s.columns[s.autoIncrement.column]}` } : {}),
      ...(s.owned?.length ? { OwnedLookups: s.owned.map((o) => `${o.vindex.name}(${o.columns.map((c) => s.columns[c]).join(', ')})`) } : {}),
      ...(s.unowned?.length ? { VerifiedLookups: s.unowned.map((o) => `${o.vindex.name}(${o.columns.map((c) => s.columns[c]).join(', ')})`) } : {}),
      ...(s.ignore ? { Ignore: true } : {}),
    };
  }
}
