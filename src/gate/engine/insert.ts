// Insert: computes each row's keyspace id from the table's primary vindex and sends each shard
// only its own rows; fills the auto_increment column from the table's sequence for rows that
// leave it out or give NULL. Unsharded keyspaces get the whole statement (after sequence values
// are filled in, when the VSchema names a sequence).
import { ER, TesseraError } from '../../mysql/index.js';
import { format, formatExpr, type Expr, type Insert as InsertStmt, type Literal } from '../../sql/index.js';
import type { FunctionalVindex } from '../../vindexes/index.js';
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
    let rows = s.rows.map((r) => [...r]);
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
    const build = (subset: Expr[][]): InsertStmt => ({ ...s.statement, columns: [...s.columns], source: { kind: 'Values', rows: subset } });
    let queries: ShardQuery[];
    if (!s.sharded) {
      const shards = await vc.allShards(s.keyspace);
      if (shards.length === 0) throw new TesseraError(ER.UNAVAILABLE, `keyspace ${s.keyspace} has no serving shards`);
      queries = [{ rs: shards[0], sql: format(build(rows), { bindVars }) }];
    } else {
      const vi = s.vindex!;
      const col = s.vindexColumn!;
      const values = rows.map((r) => {
        const lit = literalOf(r[col], bindVars);
        if (lit === null) throw notSupported(`INSERT with the expression ${formatExpr(r[col])} in sharding column ${s.columns[col]} of ${s.table}`);
        return lit;
      });
      const dests = vi.map(values.map(literalToVindexValue));
      const groups = new Map<string, { rs: ResolvedShard; rows: Expr[][] }>();
      for (let i = 0; i < rows.length; i++) {
        const d = dests[i];
        if (d.kind !== 'keyspaceId') {
          throw new TesseraError(ER.UNKNOWN_ERROR,
            `could not map ${values[i].kind === 'Null' ? 'NULL' : formatExpr(values[i])} to a keyspace id: INSERT into sharded table ${s.keyspace}.${s.table} needs a value for its sharding column ${s.columns[col]} (vindex ${vi.name})`);
        }
        const rs = await vc.shardForKeyspaceId(s.keyspace, d.id);
        if (!rs) throw gateError(`no shard of keyspace ${s.keyspace} holds keyspace id ${keyspaceIdToHex(d.id)}`);
        const k = rs.keyspace + '/' + rs.shard;
        let g = groups.get(k);
        if (!g) groups.set(k, (g = { rs, rows: [] }));
        g.rows.push(rows[i]);
      }
      queries = [...groups.values()].map((g) => ({ rs: g.rs, sql: format(build(g.rows), { bindVars }) }));
    }
    rows = [];
    const results = await vc.executeMulti(queries, { write: true, tables: [s.table] });
    let rowsAffected = 0;
    let warnings = 0;
    for (const r of results) {
      rowsAffected += r.rowsAffected;
      warnings += r.warnings;
      if (insertId === 0n && r.insertId !== 0n) insertId = r.insertId;
    }
    return { fields: [], rows: null, raw: null, rowsAffected, insertId, warnings, info: '' };
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
    };
  }
}
