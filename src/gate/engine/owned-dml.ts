// OwnedDml: an UPDATE or DELETE of a table that owns lookup vindexes. As Vitess's DML with an
// OwnedVindexQuery: the rows it will change are read first and locked (`select <primary vindex
// column>, <owned columns> … for update`, routed as the statement is), each row's lookup rows are
// deleted (DELETE) or moved to the new values (UPDATE of an owned column), and then the statement
// runs. All of it is one statement (GateSession.statementTransaction): a consistent lookup's
// deletes commit after the owner's change, its creates before.
import { format, formatExpr, type Expr } from '../../sql/index.js';
import type { FunctionalVindex, LookupVindex, VindexValue } from '../../vindexes/index.js';
import { gateError, notSupported } from '../errors.js';
import type { BindVars, Cell, PlanDescription, Primitive, Result, VCursor } from '../types.js';
import { bindLiteral, cellToLiteral, compareCells, literalToVindexValue, rowsOf } from '../values.js';
import type { Route } from './route.js';
import { lookupCursor, vindexValueLiteral } from './vindex-lookup.js';

export interface OwnedLookup {
  readonly vindex: LookupVindex;
  /** The owner table's columns the vindex maps. */
  readonly columns: readonly string[];
  /** Offset of its first column in the select's rows. */
  readonly offset: number;
  /** UPDATE: the new value of each column (literals or bind variables); absent when unchanged. */
  readonly newValues?: readonly Expr[];
}

export interface OwnedDmlSpec {
  readonly operator: 'Update' | 'Delete';
  readonly keyspace: string;
  readonly table: string;
  /** Reads the rows to change: the primary vindex column first, then each owned vindex's columns. */
  readonly select: Route;
  /** The statement itself. */
  readonly dml: Route;
  readonly primaryVindex: FunctionalVindex;
  readonly owned: readonly OwnedLookup[];
}

function valueOf(e: Expr, bindVars: BindVars): VindexValue {
  if (e.kind === 'BindVar' && !e.list) return literalToVindexValue(bindLiteral(bindVars, e.name));
  if (e.kind === 'Number' || e.kind === 'String' || e.kind === 'Null' || e.kind === 'Hex' || e.kind === 'Bit' || e.kind === 'Bool') return literalToVindexValue(e);
  if (e.kind === 'Unary' && e.op === '-' && e.expr.kind === 'Number') return literalToVindexValue({ kind: 'Number', text: '-' + e.expr.text, numType: e.expr.numType });
  throw notSupported(`changing a lookup vindex column to the expression ${formatExpr(e)}`);
}

/** A value as the cell MariaDB would send for it (to compare with the stored one). */
function valueCell(v: VindexValue): Cell {
  const l = vindexValueLiteral(v);
  switch (l.kind) {
    case 'Null':
      return null;
    case 'Number':
      return Buffer.from(l.text, 'latin1');
    case 'String':
      return Buffer.from(l.value, 'utf8');
    case 'Hex':
      return Buffer.from(l.digits, 'hex');
    default:
      return Buffer.from(String(v), 'utf8');
  }
}

export class OwnedDml implements Primitive {
  constructor(readonly spec: OwnedDmlSpec) {}

  inputs(): readonly Primitive[] {
    return [this.spec.select, this.spec.dml];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const s = this.spec;
    if (!vc.statementTransaction) throw notSupported(`${s.operator} of ${s.table}, which owns lookup vindexes, through this cursor`);
    return vc.statementTransaction(async () => {
      // Resolved once: a lookup vindex routing the statement must not be read again after this
      // statement changed it (the DML goes where the rows were found).
      const targets = await s.dml.resolve(vc, bindVars);
      const run = async (r: Route): Promise<Result> => {
        const queries = targets.map((t) => ({ rs: t.rs, sql: format(r.spec.query, { bindVars: t.bindVars }) }));
        return r.merge(vc, await vc.executeMulti(queries, { write: true, tables: [s.table] }));
      };
      const selected = await run(s.select);
      const fields = selected.fields;
      const cursor = lookupCursor(vc, 'post');
      for (const row of rowsOf(selected)) {
        const pv = literalToVindexValue(cellToLiteral(row[0], fields[0]));
        const d = s.primaryVindex.map([pv])[0];
        if (d.kind !== 'keyspaceId') throw gateError(`${s.operator} of ${s.keyspace}.${s.table}: a row's primary vindex value maps to no keyspace id`);
        for (const o of s.owned) {
          const n = o.vindex.lookup.from.length;
          const oldCells = row.slice(o.offset, o.offset + n);
          const oldRow = oldCells.map((c, i) => literalToVindexValue(cellToLiteral(c, fields[o.offset + i])));
          const owner = { keyspace: s.keyspace, table: s.table, columns: o.columns };
          if (s.operator === 'Delete') {
            await o.vindex.delete(cursor, [oldRow], d.id);
            continue;
          }
          if (!o.newValues) continue;
          const newRow = o.newValues.map((e) => valueOf(e, bindVars));
          let same = true;
          for (let i = 0; i < n && same; i++) {
            try {
              same = compareCells(oldCells[i], valueCell(newRow[i]), fields[o.offset + i]) === 0;
            } catch {
              same = false; // a value the column's type cannot read: let MariaDB decide
            }
          }
          await o.vindex.update(cursor, oldRow, d.id, newRow, { owner, same });
        }
      }
      return run(s.dml);
    });
  }

  describe(): PlanDescription {
    const s = this.spec;
    const d = s.dml.describe();
    return {
      ...d,
      OwnedVindexQuery: format(s.select.spec.query),
      ...(s.operator === 'Update'
        ? { ChangedVindexValues: s.owned.filter((o) => o.newValues).map((o) => `${o.vindex.name}:${o.newValues!.map((e) => formatExpr(e)).join(', ')}`) }
        : { OwnedLookups: s.owned.map((o) => o.vindex.name) }),
    };
  }
}
