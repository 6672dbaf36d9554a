// RecursiveCte: `WITH RECURSIVE r AS (anchor UNION [ALL] recursive part)` evaluated at the gate.
// The anchor runs once; then each round runs the recursive parts with `r` meaning the rows the
// round before added (a WorkingTable), until a round adds nothing. UNION (not ALL) drops rows
// already produced, compared as MariaDB compares them (collation-aware keys). Rows take the
// anchor's columns, as in MariaDB. The rows limit bounds the total.
import { rowsLimitError } from '../errors.js';
import type { BindVars, PlanDescription, Primitive, Result, Row, VCursor } from '../types.js';
import { rowKey, rowsOf } from '../values.js';

/** The rows of the last round, per statement execution (a cached plan is shared by sessions). */
const rounds = new WeakMap<VCursor, Map<WorkingTable, Result>>();
/** The run of each recursive CTE in progress, per statement execution. */
const running = new WeakMap<VCursor, Map<WorkingTable, Promise<unknown>>>();

export class WorkingTable implements Primitive {
  constructor(readonly name: string) {}

  inputs(): readonly Primitive[] {
    return [];
  }

  async execute(vc: VCursor): Promise<Result> {
    const r = rounds.get(vc)?.get(this);
    if (!r) throw new Error(`planner: working table ${this.name} read outside its recursive CTE`);
    return r;
  }

  set(vc: VCursor, r: Result | undefined): void {
    let m = rounds.get(vc);
    if (!m) rounds.set(vc, (m = new Map()));
    if (r) m.set(this, r);
    else m.delete(this);
  }

  describe(): PlanDescription {
    return { OperatorType: 'WorkingTable', Table: this.name };
  }
}

export class RecursiveCte implements Primitive {
  constructor(
    readonly name: string,
    readonly anchor: Primitive,
    readonly recursive: readonly Primitive[],
    readonly working: WorkingTable,
    readonly distinct: boolean,
  ) {}

  inputs(): readonly Primitive[] {
    return [this.anchor, ...this.recursive];
  }

  async execute(vc: VCursor, bindVars: BindVars): Promise<Result> {
    // One statement may read the same CTE twice at once (a UNION of two references): the working
    // table is per statement, so its runs take turns.
    let m = running.get(vc);
    if (!m) running.set(vc, (m = new Map()));
    const before = m.get(this.working) ?? Promise.resolve();
    const mine = before.then(() => this.run(vc, bindVars));
    m.set(this.working, mine.catch(() => undefined));
    return mine;
  }

  private async run(vc: VCursor, bindVars: BindVars): Promise<Result> {
    const a = await this.anchor.execute(vc, bindVars);
    const fields = a.fields;
    const all = Array.from({ length: fields.length }, (_, i) => i);
    const seen = new Set<string>();
    const keep = (rows: readonly Row[]): Row[] => {
      if (!this.distinct) return [...rows];
      const out: Row[] = [];
      for (const r of rows) {
        const k = rowKey(r, all, fields);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(r);
      }
      return out;
    };
    const rows = keep(rowsOf(a));
    let last = rows;
    let warnings = a.warnings;
    try {
      while (last.length > 0) {
        this.working.set(vc, { ...a, rows: last, raw: null });
        const added: Row[] = [];
        for (const part of this.recursive) {
          const r = await part.execute(vc, bindVars);
          warnings += r.warnings;
          if (r.fields.length !== fields.length) throw new Error('planner: recursive CTE part of another width');
          added.push(...rowsOf(r));
        }
        last = keep(added);
        rows.push(...last);
        if (rows.length > vc.rowsMax) throw rowsLimitError('rows-max', vc.rowsMax);
      }
    } finally {
      this.working.set(vc, undefined);
    }
    return { fields, rows, raw: null, rowsAffected: 0, insertId: 0n, warnings, info: '' };
  }

  describe(): PlanDescription {
    return {
      OperatorType: 'RecursiveCte',
      Table: this.name,
      Variant: this.distinct ? 'Union' : 'UnionAll',
      GateReason: 'a recursive CTE over sharded rows: each round needs the rows of every shard the round before found',
      Inputs: [this.anchor.describe(), ...this.recursive.map((r) => r.describe())],
    };
  }
}
