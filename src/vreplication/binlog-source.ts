// A stream's source, stored in `_vt.vreplication.source` as Vitess stores its BinlogSource
// message: protobuf text on one line, fields in field-number order, defaults left out, e.g.
//
//   keyspace:"customer" shard:"0" filter:{rules:{match:"/.*" filter:"-80"}}
//   keyspace:"commerce" shard:"0" filter:{rules:{match:"t" filter:"select * from t"}} on_ddl:EXEC stop_after_copy:true
//
// so that `select * from _vt.vreplication\G` reads as it does in Vitess and a row written by one
// can be read by the other. The writer escapes strings as Go's protobuf text encoder does (`\"`,
// `\\`, `\n`, `\r`, `\t`, `\xNN` for other control bytes, `\u00NN` for U+0080..U+009F, everything
// else as UTF-8). The reader takes any protobuf text form of the message: Vitess's older
// `filter:<rules:<match:"t" > >`, commas or semicolons between fields, single-quoted strings,
// adjacent strings, octal, `\x`, `\u` and `\U` escapes, `#` comments, lists `[a, b]`.
//
// Fields of BinlogSource that Tessera does not implement (key_range, tables, external_mysql,
// external_cluster) are refused by name rather than dropped, since ignoring them would change
// what the stream copies.
import { ER, TesseraError } from '../mysql/errors.js';
import type { Filter, FilterRule } from './filter.js';

export type OnDdl = 'IGNORE' | 'STOP' | 'EXEC' | 'EXEC_IGNORE';

export interface BinlogSource {
  readonly keyspace: string;
  readonly shard: string;
  readonly filter: Filter;
  readonly onDdl: OnDdl;
  /** A tablet type to stream from (`replica`, `rdonly`, `primary`); unset: the stream's tablet_types. */
  readonly tabletType?: string;
  readonly stopAfterCopy?: boolean;
  readonly sourceTimeZone?: string;
  readonly targetTimeZone?: string;
}

/** Vitess's OnDDLAction enum, by number. */
const ON_DDL: readonly OnDdl[] = ['IGNORE', 'STOP', 'EXEC', 'EXEC_IGNORE'];

/** topodata.TabletType by number, as Tessera spells the types (Vitess: upper case). */
const TABLET_TYPES = ['unknown', 'primary', 'replica', 'rdonly', 'spare', 'experimental', 'backup', 'restore', 'drained'] as const;
/** Older names Vitess still reads. */
const TABLET_TYPE_ALIASES: Readonly<Record<string, string>> = { MASTER: 'primary', BATCH: 'rdonly' };

// ---- writing -------------------------------------------------------------------------------------

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** A protobuf text string literal, escaped as Go's encoder escapes it. */
export function protoTextString(s: string): string {
  let out = '"';
  // Lone surrogates cannot be stored as UTF-8; they become U+FFFD, as Buffer.from would make them.
  for (const ch of Buffer.from(s, 'utf8').toString('utf8')) {
    const c = ch.codePointAt(0)!;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + hex(c, 2);
    else if (c >= 0x80 && c <= 0x9f) out += '\\u' + hex(c, 4);
    else out += ch;
  }
  return out + '"';
}

function tabletTypeEnum(t: string): string {
  const lower = t.toLowerCase();
  const alias = TABLET_TYPE_ALIASES[t.toUpperCase()];
  const name = alias ?? lower;
  if (!(TABLET_TYPES as readonly string[]).includes(name)) {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid tablet type '${t}' for a binlog source; use one of ${TABLET_TYPES.slice(1).join(', ')}`);
  }
  return name.toUpperCase();
}

function formatRule(r: FilterRule): string {
  const parts: string[] = [];
  if (r.match !== '') parts.push('match:' + protoTextString(r.match));
  if (r.filter !== '') parts.push('filter:' + protoTextString(r.filter));
  return 'rules:{' + parts.join(' ') + '}';
}

/** The text stored in `_vt.vreplication.source`. */
export function formatBinlogSource(s: BinlogSource): string {
  const parts: string[] = [];
  if (s.keyspace !== '') parts.push('keyspace:' + protoTextString(s.keyspace));
  if (s.shard !== '') parts.push('shard:' + protoTextString(s.shard));
  if (s.tabletType !== undefined && s.tabletType !== '') {
    const t = tabletTypeEnum(s.tabletType);
    if (t !== 'UNKNOWN') parts.push('tablet_type:' + t);
  }
  parts.push('filter:{' + s.filter.rules.map(formatRule).join(' ') + '}');
  if (!ON_DDL.includes(s.onDdl)) throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid on_ddl '${s.onDdl}'; use one of ${ON_DDL.join(', ')}`);
  if (s.onDdl !== 'IGNORE') parts.push('on_ddl:' + s.onDdl);
  if (s.stopAfterCopy) parts.push('stop_after_copy:true');
  if (s.sourceTimeZone) parts.push('source_time_zone:' + protoTextString(s.sourceTimeZone));
  if (s.targetTimeZone) parts.push('target_time_zone:' + protoTextString(s.targetTimeZone));
  return parts.join(' ');
}

// ---- reading -------------------------------------------------------------------------------------

type Value =
  | { readonly kind: 'string'; readonly text: string; readonly at: number }
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'message'; readonly fields: readonly Field[]; readonly at: number };

interface Field {
  readonly name: string;
  readonly value: Value;
}

const WORD_CHAR = /[A-Za-z0-9_.+\-]/;

/** A small reader for protobuf text format: just enough grammar for any BinlogSource. */
class TextReader {
  pos = 0;

  constructor(private readonly text: string) {}

  fail(why: string, at = this.pos): never {
    const near = this.text.slice(at, at + 30);
    throw new TesseraError(
      ER.WRONG_ARGUMENTS,
      `invalid binlog source: ${why} at offset ${at}${near ? ` near '${near}'` : ''}; expected protobuf text such as keyspace:"ks" shard:"0" filter:{rules:{match:"t"}}`,
    );
  }

  skip(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f') this.pos++;
      else if (c === '#') {
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  peek(): string | undefined {
    this.skip();
    return this.text[this.pos];
  }

  word(): string {
    this.skip();
    const start = this.pos;
    while (this.pos < this.text.length && WORD_CHAR.test(this.text[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail('expected a name or a value');
    return this.text.slice(start, this.pos);
  }

  /** Fields until `close` (or the end of the text when close is undefined). */
  message(close: string | undefined): Field[] {
    const fields: Field[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) {
        if (close !== undefined) this.fail(`missing '${close}'`);
        return fields;
      }
      if (c === close) {
        this.pos++;
        return fields;
      }
      const name = this.word();
      let colon = false;
      if (this.peek() === ':') {
        this.pos++;
        colon = true;
      }
      const next = this.peek();
      if (next === '[') {
        this.pos++;
        if (this.peek() === ']') this.pos++;
        else {
          for (;;) {
            fields.push({ name, value: this.value(colon) });
            const sep = this.peek();
            this.pos++;
            if (sep === ']') break;
            if (sep !== ',') this.fail(`expected ',' or ']' in the list of ${name}`, this.pos - 1);
          }
        }
      } else {
        fields.push({ name, value: this.value(colon) });
      }
      const sep = this.peek();
      if (sep === ',' || sep === ';') this.pos++;
    }
  }

  value(colon: boolean): Value {
    const c = this.peek();
    const at = this.pos;
    if (c === '{' || c === '<') {
      this.pos++;
      return { kind: 'message', fields: this.message(c === '{' ? '}' : '>'), at };
    }
    if (!colon) this.fail(`expected ':' before a value`);
    if (c === '"' || c === "'") {
      let bytes: number[] = [];
      while (this.peek() === '"' || this.peek() === "'") bytes = bytes.concat(this.stringBytes());
      return { kind: 'string', text: Buffer.from(bytes).toString('utf8'), at };
    }
    return { kind: 'word', text: this.word(), at };
  }

  /** One quoted string's bytes: escapes may name single bytes (`\xff`, `\377`), as in Go. */
  stringBytes(): number[] {
    const t = this.text;
    const quote = t[this.pos]!;
    const start = this.pos;
    this.pos++;
    const out: number[] = [];
    const utf8 = (cp: number) => {
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
    };
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string', start);
      const ch = t.codePointAt(this.pos)!;
      const len = ch > 0xffff ? 2 : 1;
      if (ch === 0x0a) this.fail('newline inside a string', this.pos);
      if (t[this.pos] === quote) {
        this.pos++;
        return out;
      }
      if (t[this.pos] !== '\\') {
        utf8(ch);
        this.pos += len;
        continue;
      }
      const e = t[this.pos + 1];
      this.pos += 2;
      const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
      if (e !== undefined && simple[e] !== undefined) {
        out.push(simple[e]!);
      } else if (e !== undefined && e >= '0' && e <= '7') {
        let digits = e;
        while (digits.length < 3 && /[0-7]/.test(t[this.pos] ?? '')) digits += t[this.pos++];
        const n = parseInt(digits, 8);
        if (n > 255) this.fail(`octal escape \\${digits} is beyond a byte`, this.pos - digits.length - 1);
        out.push(n);
      } else if (e === 'x' || e === 'X') {
        let digits = '';
        while (digits.length < 2 && /[0-9A-Fa-f]/.test(t[this.pos] ?? '')) digits += t[this.pos++];
        if (digits === '') this.fail('\\x without hex digits', this.pos - 2);
        out.push(parseInt(digits, 16));
      } else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const digits = t.slice(this.pos, this.pos + n);
        if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(digits)) this.fail(`\\${e} needs ${n} hex digits`, this.pos - 2);
        this.pos += n;
        let cp = parseInt(digits, 16);
        // A surrogate pair written as two \u escapes is one character.
        if (e === 'u' && cp >= 0xd800 && cp <= 0xdbff && t.startsWith('\\u', this.pos)) {
          const low = parseInt(t.slice(this.pos + 2, this.pos + 6), 16);
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            this.pos += 6;
          }
        }
        if (cp > 0x10ffff) this.fail(`\\${e}${digits} is beyond Unicode`, this.pos - n - 2);
        utf8(cp);
      } else {
        this.fail(`unknown escape \\${e ?? ''}`, this.pos - 2);
      }
    }
  }
}

function single(fields: readonly Field[], where: string): Map<string, Value> {
  const m = new Map<string, Value>();
  for (const f of fields) {
    if (m.has(f.name)) throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid binlog source: ${where}${f.name} is given twice`);
    m.set(f.name, f.value);
  }
  return m;
}

function asString(v: Value, name: string): string {
  if (v.kind !== 'string') throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid binlog source: ${name} must be a quoted string (offset ${v.at})`);
  return v.text;
}

function asWord(v: Value, name: string): string {
  if (v.kind !== 'word') throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid binlog source: ${name} must be a name or a number (offset ${v.at})`);
  return v.text;
}

function asMessage(v: Value, name: string): readonly Field[] {
  if (v.kind !== 'message') throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid binlog source: ${name} must be a message {...} (offset ${v.at})`);
  return v.fields;
}

function unknownField(name: string, where: string): never {
  const unsupported = ['key_range', 'tables', 'external_mysql', 'external_cluster'];
  throw new TesseraError(
    ER.WRONG_ARGUMENTS,
    unsupported.includes(name)
      ? `binlog source field ${name} is not supported by Tessera; express the selection as filter rules (match and a select or key range)`
      : `invalid binlog source: unknown field ${where}${name}`,
  );
}

function parseRule(fields: readonly Field[]): FilterRule {
  let match = '';
  let filter = '';
  for (const [name, v] of single(fields, 'filter.rules.')) {
    if (name === 'match') match = asString(v, 'filter.rules.match');
    else if (name === 'filter') filter = asString(v, 'filter.rules.filter');
    else unknownField(name, 'filter.rules.');
  }
  return { match, filter };
}

function parseFilter(fields: readonly Field[]): Filter {
  const rules: FilterRule[] = [];
  for (const f of fields) {
    if (f.name === 'rules') rules.push(parseRule(asMessage(f.value, 'filter.rules')));
    else unknownField(f.name, 'filter.');
  }
  return { rules };
}

function enumValue<T extends string>(word: string, names: readonly T[], field: string): T {
  if (/^[0-9]+$/.test(word)) {
    const n = Number(word);
    if (n < names.length) return names[n]!;
  } else if ((names as readonly string[]).includes(word)) {
    return word as T;
  }
  throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid binlog source: ${field} ${word} is not one of ${names.join(', ')}`);
}

/** Reads `_vt.vreplication.source` back; the current and the older (angle-bracket) forms. */
export function parseBinlogSource(text: string): BinlogSource {
  const r = new TextReader(text);
  const fields = r.message(undefined);
  let keyspace = '';
  let shard = '';
  let filter: Filter = { rules: [] };
  let onDdl: OnDdl = 'IGNORE';
  const out: { -readonly [K in keyof BinlogSource]?: BinlogSource[K] } = {};
  for (const [name, v] of single(fields, '')) {
    switch (name) {
      case 'keyspace':
        keyspace = asString(v, name);
        break;
      case 'shard':
        shard = asString(v, name);
        break;
      case 'filter':
        filter = parseFilter(asMessage(v, name));
        break;
      case 'on_ddl':
        onDdl = enumValue(asWord(v, name), ON_DDL, name);
        break;
      case 'tablet_type': {
        const w = asWord(v, name);
        const t = TABLET_TYPE_ALIASES[w] ?? enumValue(/^[0-9]+$/.test(w) ? w : w.toLowerCase(), TABLET_TYPES, name);
        if (t !== 'unknown') out.tabletType = t;
        break;
      }
      case 'stop_after_copy': {
        const w = asWord(v, name);
        if (['true', 'True', 't', '1'].includes(w)) out.stopAfterCopy = true;
        else if (!['false', 'False', 'f', '0'].includes(w)) throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid binlog source: stop_after_copy must be true or false, not ${w}`);
        break;
      }
      case 'source_time_zone':
        out.sourceTimeZone = asString(v, name);
        break;
      case 'target_time_zone':
        out.targetTimeZone = asString(v, name);
        break;
      default:
        unknownField(name, '');
    }
  }
  return { keyspace, shard, filter, onDdl, ...out };
}
