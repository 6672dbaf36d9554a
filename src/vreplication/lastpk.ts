// The last copied key of a table, as stored in `_vt.copy_state.lastpk`: a row-value comparison
// that reads like the predicate the copier resumes with,
//
//   (id) = (42)
//   (tenant, `order id`, name, raw, big) = (7, 18446744073709551615n, 'O\'Brien', x'00ff10', NULL)
//
// Vitess stores a protobuf text of a one-row QueryResult there; ours is our own form, chosen to be
// readable in `select * from _vt.copy_state` and to give back exactly the values the copier
// read, with their JavaScript types (src/mysql/values.ts):
//   NULL                 null
//   42, -1.5, 1e+300, -0 a number (INT, FLOAT, DOUBLE columns); JavaScript's shortest exact form
//   42n, -9223372036854775808n   a bigint (BIGINT columns, signed or unsigned): every digit kept
//   'text'               a string (character columns, DECIMAL, dates): \\ \' \n \r \t escaped,
//                        other control characters as \xNN, U+0080..U+009F and unpaired
//                        surrogates as \u{NNNN}; everything else as UTF-8
//   x'00ff'              a Buffer (binary columns): hex, two digits per byte
// Column names are written bare when they are plain words, else in backticks (src/sql quoteIdent).
import { ER, TesseraError } from '../mysql/errors.js';
import type { SqlValue } from '../mysql/values.js';
import { COPY_STATE_LASTPK_BYTES_MAX } from '../sidecar/index.js';
import { quoteIdent } from '../sql/index.js';

export interface LastPk {
  readonly columns: readonly string[];
  readonly values: readonly SqlValue[];
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function formatString(s: string): string {
  let out = "'";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27) out += "\\'";
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + hex(c, 2);
    else if (c >= 0x80 && c <= 0x9f) out += '\\u{' + hex(c, 4) + '}';
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\\u{' + hex(c, 4) + '}';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\\u{' + hex(c, 4) + '}';
    else out += s[i];
  }
  return out + "'";
}

function formatValue(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`a key value cannot be ${v}`);
    return Object.is(v, -0) ? '-0' : String(v);
  }
  if (typeof v === 'string') return formatString(v);
  return "x'" + v.toString('hex') + "'";
}

/** The text stored in copy_state.lastpk. Throws when it would not fit the column. */
export function formatLastPk(pk: LastPk): string {
  if (pk.columns.length === 0 || pk.columns.length !== pk.values.length) {
    throw new Error(`a last key needs one value per column (${pk.columns.length} columns, ${pk.values.length} values)`);
  }
  const text = '(' + pk.columns.map(quoteIdent).join(', ') + ') = (' + pk.values.map(formatValue).join(', ') + ')';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > COPY_STATE_LASTPK_BYTES_MAX) {
    throw new TesseraError(
      ER.WRONG_ARGUMENTS,
      `the last copied key of (${pk.columns.join(', ')}) takes ${bytes} bytes as text, more than copy_state.lastpk holds (COPY_STATE_LASTPK_BYTES_MAX = ${COPY_STATE_LASTPK_BYTES_MAX}); ` +
        'copy this table by a shorter unique key',
    );
  }
  return text;
}

class LastPkReader {
  pos = 0;

  constructor(private readonly text: string) {}

  fail(why: string): never {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid copy_state.lastpk: ${why} at offset ${this.pos} of ${JSON.stringify(this.text.slice(0, 200))}`);
  }

  skip(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  expect(s: string): void {
    this.skip();
    if (!this.text.startsWith(s, this.pos)) this.fail(`expected '${s}'`);
    this.pos += s.length;
  }

  /** `(` item `,` item ... `)` */
  list<T>(item: () => T): T[] {
    this.expect('(');
    const out: T[] = [];
    for (;;) {
      out.push(item());
      this.skip();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ')') return out;
      if (c !== ',') {
        this.pos--;
        this.fail("expected ',' or ')'");
      }
    }
  }

  name(): string {
    this.skip();
    const t = this.text;
    if (t[this.pos] === '`') {
      let out = '';
      this.pos++;
      for (;;) {
        const end = t.indexOf('`', this.pos);
        if (end < 0) this.fail('unterminated `name`');
        out += t.slice(this.pos, end);
        this.pos = end + 1;
        if (t[this.pos] !== '`') return out;
        out += '`';
        this.pos++;
      }
    }
    const m = /^[A-Za-z0-9_$]+/.exec(t.slice(this.pos));
    if (!m) this.fail('expected a column name');
    this.pos += m[0].length;
    return m[0];
  }

  value(): SqlValue {
    this.skip();
    const t = this.text;
    const c = t[this.pos];
    if (c === "'") return this.string();
    if ((c === 'x' || c === 'X') && t[this.pos + 1] === "'") {
      const end = t.indexOf("'", this.pos + 2);
      if (end < 0) this.fail("unterminated x'...'");
      const digits = t.slice(this.pos + 2, end);
      if (!/^(?:[0-9A-Fa-f]{2})*$/.test(digits)) this.fail('binary value must be pairs of hex digits');
      this.pos = end + 1;
      return Buffer.from(digits, 'hex');
    }
    const m = /^(?:NULL\b|-?[0-9][0-9]*n|[-+0-9.eE]+|-?Infinity|NaN)/i.exec(t.slice(this.pos));
    if (!m) this.fail('expected NULL, a number, a string or x\'hex\'');
    const word = m[0];
    this.pos += word.length;
    if (word.toUpperCase() === 'NULL') return null;
    if (word.endsWith('n')) return BigInt(word.slice(0, -1));
    const n = Number(word);
    if (!Number.isFinite(n) || !/^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?$/i.test(word)) this.fail(`'${word}' is not a number`);
    return n;
  }

  string(): string {
    const t = this.text;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t[this.pos]!;
      if (c === "'") {
        this.pos++;
        return out;
      }
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = t[this.pos + 1];
      this.pos += 2;
      if (e === "'" || e === '\\') out += e;
      else if (e === 'n') out += '\n';
      else if (e === 'r') out += '\r';
      else if (e === 't') out += '\t';
      else if (e === 'x') {
        const d = t.slice(this.pos, this.pos + 2);
        if (!/^[0-9A-Fa-f]{2}$/.test(d)) this.fail('\\x needs two hex digits');
        out += String.fromCharCode(parseInt(d, 16));
        this.pos += 2;
      } else if (e === 'u' && t[this.pos] === '{') {
        const end = t.indexOf('}', this.pos);
        const d = end < 0 ? '' : t.slice(this.pos + 1, end);
        if (!/^[0-9A-Fa-f]{1,4}$/.test(d)) this.fail('\\u{...} needs one to four hex digits');
        out += String.fromCharCode(parseInt(d, 16));
        this.pos = end + 1;
      } else this.fail(`unknown escape \\${e ?? ''}`);
    }
  }
}

/** Reads copy_state.lastpk back into the columns and values formatLastPk wrote. */
export function parseLastPk(text: string): LastPk {
  const r = new LastPkReader(text);
  const columns = r.list(() => r.name());
  r.expect('=');
  const values = r.list(() => r.value());
  r.skip();
  if (r.pos !== text.length) r.fail('unexpected text after the values');
  if (columns.length !== values.length) r.fail(`${columns.length} columns but ${values.length} values`);
  return { columns, values };
}
