// The column definition MariaDB gives an arithmetic expression, derived from its operands' column
// definitions, for the columns the gate computes itself (over a cross-shard aggregation or a join
// across keyspaces). A client must not tell the gate from MariaDB by a result's metadata, and
// drivers size and parse DECIMAL and BIGINT columns from it.
//
// MariaDB 10.11's rules, checked against it (test/e2e/gate-answers.test.ts compares field by
// field). Operands are described by their numeric class and precision (digits, without sign or
// point):
// - integers: `+ -` give max(p1, p2) + 1 digits, `*` p1 + p2, `DIV` p1, `%` the longer operand's
//   length, unary minus the operand's length + 1; LONG up to 9 characters, LONGLONG above;
//   unsigned if either operand is.
// - decimals: `+ -` scale max(s1, s2), precision max(p1 - s1, p2 - s2) + scale + 1; `*` scale
//   s1 + s2, precision p1 + p2; `/` scale s1 + 4 (div_precision_increment), precision
//   (p1 - s1) + s2 + scale (also for two integers); capped at 65 digits and 38 decimals.
// - anything real or text: DOUBLE, length 23, decimals 31.
// NOT NULL when every operand is, except for `/`, DIV and `%` (division by zero gives NULL).
// Expressions outside these (functions, CASE, temporal operands) get no derived type: the caller
// falls back to the value's own type.
import { columnDefinition, FIELD_FLAG, TYPE, type ColumnDefinition } from '../../mysql/index.js';
import type { Expr } from '../../sql/index.js';
import type { ColumnResolver } from '../evaluate.js';
import type { BindVars } from '../types.js';

interface NumType {
  readonly cls: 'int' | 'decimal' | 'real';
  /** Digits (integers and decimals), without sign or point. */
  readonly precision: number;
  readonly scale: number;
  readonly unsigned: boolean;
  readonly notNull: boolean;
  /** Display length as MariaDB reports it. */
  readonly length: number;
}

/**
 * Given the input's column definitions and the statement's bind variables (the gate turns a
 * statement's literals into bind variables), the expression's type; undefined: not derivable.
 */
export type ExprTyper = (fields: readonly ColumnDefinition[], bindVars: BindVars) => NumType | undefined;

const DECIMAL_PRECISION_MAX = 65;
const DECIMAL_SCALE_MAX = 38;
const DIV_PRECISION_INCREMENT = 4;
/** Integer results this long or shorter are LONG, longer ones LONGLONG (MariaDB's choice). */
const LONG_LENGTH_MAX = 9;

const INT_TYPES: ReadonlySet<number> = new Set([TYPE.TINY, TYPE.SHORT, TYPE.INT24, TYPE.LONG, TYPE.LONGLONG]);
const DECIMAL_TYPES: ReadonlySet<number> = new Set([TYPE.DECIMAL, TYPE.NEWDECIMAL]);
const TEMPORAL_TYPES: ReadonlySet<number> = new Set([
  TYPE.DATE, TYPE.NEWDATE, TYPE.TIME, TYPE.TIME2, TYPE.DATETIME, TYPE.DATETIME2, TYPE.TIMESTAMP, TYPE.TIMESTAMP2, TYPE.YEAR, TYPE.NULL, TYPE.BIT,
]);

function intType(precision: number, unsigned: boolean, notNull: boolean, length = precision + (unsigned ? 0 : 1)): NumType {
  return { cls: 'int', precision, scale: 0, unsigned, notNull, length };
}

function decimalType(precision: number, scale: number, notNull: boolean): NumType {
  const p = Math.min(precision, DECIMAL_PRECISION_MAX);
  const s = Math.min(scale, DECIMAL_SCALE_MAX);
  return { cls: 'decimal', precision: p, scale: s, unsigned: false, notNull, length: p + (s > 0 ? 1 : 0) + 1 };
}

function realType(notNull: boolean): NumType {
  return { cls: 'real', precision: 0, scale: 31, unsigned: false, notNull, length: 23 };
}

function fromField(f: ColumnDefinition): NumType | undefined {
  const unsigned = (f.flags & FIELD_FLAG.UNSIGNED) !== 0;
  const notNull = (f.flags & FIELD_FLAG.NOT_NULL) !== 0;
  if (INT_TYPES.has(f.type)) return intType(Math.max(1, f.columnLength - (unsigned ? 0 : 1)), unsigned, notNull, f.columnLength);
  if (DECIMAL_TYPES.has(f.type)) {
    const scale = f.decimals;
    return { cls: 'decimal', precision: Math.max(1, f.columnLength - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1)), scale, unsigned, notNull, length: f.columnLength };
  }
  if (TEMPORAL_TYPES.has(f.type)) return undefined;
  return realType(notNull);
}

function literal(e: Extract<Expr, { kind: 'Number' }>): NumType | undefined {
  const neg = e.text.startsWith('-');
  const body = neg ? e.text.slice(1) : e.text;
  if (e.numType === 'float') return realType(true);
  if (e.numType === 'int') {
    if (!/^\d+$/.test(body)) return undefined; // hex and other forms: leave to the value
    const digits = body.replace(/^0+(?=\d)/, '').length;
    return intType(digits, false, true, digits + (neg ? 1 : 0));
  }
  const m = /^(\d*)\.(\d*)$/.exec(body);
  if (!m) return undefined;
  const int = m[1].replace(/^0+/, '').length;
  const scale = m[2].length;
  return decimalType(Math.max(1, int + scale), scale, true);
}

/** Digits before the point. */
function intPart(t: NumType): number {
  return t.precision - t.scale;
}

function combine(op: string, a: NumType, b: NumType): NumType | undefined {
  const notNull = a.notNull && b.notNull && (op === '+' || op === '-' || op === '*');
  if (a.cls === 'real' || b.cls === 'real') return op === 'DIV' || op === '%' || op === 'MOD' ? undefined : realType(notNull);
  if (op === '/') {
    const scale = a.scale + DIV_PRECISION_INCREMENT;
    return decimalType(intPart(a) + b.scale + scale, scale, false);
  }
  if (a.cls === 'int' && b.cls === 'int') {
    const unsigned = a.unsigned || b.unsigned;
    switch (op) {
      case '+':
      case '-':
        return intType(Math.max(a.precision, b.precision) + 1, unsigned, notNull);
      case '*':
        return intType(a.precision + b.precision, unsigned, notNull);
      case 'DIV':
        return intType(a.precision, false, false, a.precision);
      case '%':
      case 'MOD':
        return intType(Math.max(a.length, b.length) - 1, false, false, Math.max(a.length, b.length));
      default:
        return undefined;
    }
  }
  switch (op) {
    case '+':
    case '-': {
      const scale = Math.max(a.scale, b.scale);
      return decimalType(Math.max(intPart(a), intPart(b)) + scale + 1, scale, notNull);
    }
    case '*':
      return decimalType(a.precision + b.precision, a.scale + b.scale, notNull);
    default:
      return undefined;
  }
}

/** The typer of `e` over the columns `resolve` maps, or undefined when MariaDB's rule is not modelled. */
export function compileExprType(e: Expr, resolve: ColumnResolver): ExprTyper | undefined {
  const offset = resolve(e);
  if (offset !== undefined) return (fields) => (fields[offset] ? fromField(fields[offset]) : undefined);
  switch (e.kind) {
    case 'Number': {
      const t = literal(e);
      return t === undefined ? undefined : () => t;
    }
    case 'BindVar': {
      if (e.list) return undefined;
      const name = e.name;
      return (_f, bv) => {
        const v = bv[name];
        return v !== undefined && v.kind === 'Number' ? literal(v) : undefined;
      };
    }
    case 'Unary': {
      const x = compileExprType(e.expr, resolve);
      if (!x) return undefined;
      if (e.op === '+') return x;
      if (e.op !== '-') return undefined;
      return (f, bv) => {
        const t = x(f, bv);
        if (!t) return undefined;
        if (t.cls === 'int') return intType(t.precision, false, t.notNull, t.length + 1);
        return t.cls === 'decimal' ? decimalType(t.precision, t.scale, t.notNull) : t;
      };
    }
    case 'Binary': {
      if (!['+', '-', '*', '/', 'DIV', '%', 'MOD'].includes(e.op)) return undefined;
      const l = compileExprType(e.left, resolve);
      const r = compileExprType(e.right, resolve);
      if (!l || !r) return undefined;
      return (f, bv) => {
        const a = l(f, bv);
        const b = r(f, bv);
        return a && b ? combine(e.op, a, b) : undefined;
      };
    }
    default:
      return undefined;
  }
}

/** A computed column's definition from its derived type. */
export function fieldOfType(name: string, t: NumType): ColumnDefinition {
  const flags = 0x80 | (t.notNull ? FIELD_FLAG.NOT_NULL : 0) | (t.unsigned ? FIELD_FLAG.UNSIGNED : 0);
  if (t.cls === 'real') return columnDefinition({ name, orgName: '', type: TYPE.DOUBLE, charset: 63, columnLength: t.length, decimals: t.scale, flags });
  if (t.cls === 'decimal') return columnDefinition({ name, orgName: '', type: TYPE.NEWDECIMAL, charset: 63, columnLength: t.length, decimals: t.scale, flags });
  return columnDefinition({ name, orgName: '', type: t.length <= LONG_LENGTH_MAX ? TYPE.LONG : TYPE.LONGLONG, charset: 63, columnLength: t.length, flags });
}
