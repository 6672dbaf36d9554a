// The binary body of `qs.executeBinary`, the gate's call for one statement on a tablet (docs/rpc.md
// has the layout for other implementations). Every field the query path sends on each call is a
// fixed-size number or a length-prefixed string (a prepared client statement's placeholder values
// too, PARAMS): no JSON on either side. JSON is left for what is rare: bind variables (the gate
// sends the statement's text with its values filled in), a statement's warnings, a CALL's further
// results, and the column definitions, which travel as one blob that each side keeps per
// statement shape (rpc-service.ts: fieldsBlob, FieldsCache).
//
// All integers little-endian. Strings are UTF-8 after their byte length. The request below follows
// the RPC request prefix and the binary-method envelope (src/rpc/message.ts), which the RPC client
// and server add and check.
//
//   request := u8 version (1), u8 flags, f64 transactionId, f64 reservedId, u32 timeoutMs,
//              str16 keyspace, str16 shard, str16 tabletType, str32 sql,
//              [u16 tableCount, str16 table * tableCount]   if flags & TABLES
//              [str32 beginStatement]                       if flags & BEGIN_STATEMENT
//              [str32 bindVars as JSON]                     if flags & BIND_VARS
//              [u16 paramCount, (u8 kind, str32 text) * paramCount]  if flags & PARAMS
//                (kind: 0 NULL, 1 integer, 2 decimal, 3 float, 4 string; a number's text as written)
//   reply   := u8 version (1), u8 flags, f64 rowsAffected,
//              (f64 insertId | str32 insertId as decimal text if flags & INSERT_ID_TEXT),
//              u32 warnings, f64 transactionId, str16 tabletAlias, str32 info,
//              [str32 warningList as JSON]                  if flags & WARNING_LIST
//              [str32 more as JSON]                         if flags & MORE
//              u32 fieldsBytes, fields blob (JSON), u32 rowCount, { u32 rowBytes, row }*
//                (rows in the binary protocol if flags & BINARY_ROWS, else the text protocol)
import { protocolError } from '../rpc/frame.js';
import type { BindVars, ExecuteOptions, ExecuteResult, MoreResult, Target, Warning } from './query-service.js';
import type { ColumnDefinition } from '../mysql/protocol.js';
import type { TabletType } from '../topo/index.js';
import type { Literal } from '../sql/ast.js';

export const EXECUTE_CODEC_VERSION = 1;

export const REQ = { BEGIN: 1, CLIENT_FOUND_ROWS: 2, TABLES: 4, BEGIN_STATEMENT: 8, BIND_VARS: 16, PARAMS: 32 } as const;
const REQ_ALL = 63;
export const REPLY = { INSERT_ID_TEXT: 1, WARNING_LIST: 2, MORE: 4, BINARY_ROWS: 8 } as const;
const REPLY_ALL = 15;

/** A placeholder value's kind on the wire (ExecuteOptions.params). */
const PARAM_KIND = { NULL: 0, INT: 1, DECIMAL: 2, FLOAT: 3, STRING: 4 } as const;

function paramKind(v: Literal): number {
  switch (v.kind) {
    case 'Null':
      return PARAM_KIND.NULL;
    case 'Number':
      return v.numType === 'int' ? PARAM_KIND.INT : v.numType === 'decimal' ? PARAM_KIND.DECIMAL : PARAM_KIND.FLOAT;
    case 'String':
      if (v.charset === null && !v.national) return PARAM_KIND.STRING;
  }
  throw protocolError(`a ${v.kind} literal cannot be sent as a placeholder's value`);
}

function paramText(v: Literal): string {
  return v.kind === 'Number' ? v.text : v.kind === 'String' ? v.value : '';
}

function paramOf(kind: number, text: string): Literal {
  switch (kind) {
    case PARAM_KIND.NULL:
      return { kind: 'Null' };
    case PARAM_KIND.INT:
      return { kind: 'Number', text, numType: 'int' };
    case PARAM_KIND.DECIMAL:
      return { kind: 'Number', text, numType: 'decimal' };
    case PARAM_KIND.FLOAT:
      return { kind: 'Number', text, numType: 'float' };
    case PARAM_KIND.STRING:
      return { kind: 'String', value: text, charset: null, national: false };
  }
  throw protocolError(`qs.executeBinary placeholder value kind ${kind} is unknown`);
}

export interface ExecuteCall {
  readonly target: Target;
  readonly sql: string;
  readonly bindVars: BindVars | null;
  readonly opts: ExecuteOptions;
}

/** A decoded request: the options as the tablet takes them (no signal: the caller adds its own). */
export interface DecodedExecute {
  readonly target: Target;
  readonly sql: string;
  readonly bindVars: BindVars | null;
  readonly opts: { -readonly [K in keyof ExecuteOptions]: ExecuteOptions[K] };
}

const U32_MAX = 0xffffffff;

function str16(s: string, what: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > 0xffff) throw protocolError(`${what} of ${n} bytes is longer than 65535`);
  return n;
}

/**
 * A target's three strings as the request carries them (str16 each), encoded once per target:
 * a gate sends to a few targets, each many times. Kept by their strings (the gate makes a new
 * Target object per statement), in a table that is cleared if it ever grows past TARGETS_KEPT.
 */
const targetFields = new Map<string, Map<string, Map<string, Buffer>>>();
let targetsKept = 0;
const TARGETS_KEPT = 4096;

function targetBytes(t: Target): Buffer {
  let byShard = targetFields.get(t.keyspace);
  if (byShard === undefined) targetFields.set(t.keyspace, (byShard = new Map()));
  let byType = byShard.get(t.shard);
  if (byType === undefined) byShard.set(t.shard, (byType = new Map()));
  let b = byType.get(t.tabletType);
  if (b === undefined) {
    b = str16s([t.keyspace, t.shard, t.tabletType], ['keyspace name', 'shard name', 'tablet type']);
    if (++targetsKept > TARGETS_KEPT) {
      targetFields.clear();
      targetsKept = 0;
    } else byType.set(t.tabletType, b);
  }
  return b;
}

/**
 * A route's table names as the request carries them (u16 count, str16 each), for the last array
 * encoded: a route passes its plan's array with each statement, so a run of statements of one
 * plan encodes it once.
 */
let lastTables: readonly string[] | null = null;
let lastTablesBytes: Buffer = Buffer.alloc(0);

function tablesBytes(tables: readonly string[]): Buffer {
  if (tables === lastTables) return lastTablesBytes;
  if (tables.length > 0xffff) throw protocolError(`a statement naming ${tables.length} tables cannot be sent (at most 65535)`);
  const names = str16s(tables, tables.map(() => 'table name'));
  const b = Buffer.allocUnsafe(2 + names.length);
  b.writeUInt16LE(tables.length, 0);
  names.copy(b, 2);
  lastTables = tables;
  lastTablesBytes = b;
  return b;
}

function str16s(values: readonly string[], what: readonly string[]): Buffer {
  const lens = values.map((v, i) => str16(v, what[i]));
  const out = Buffer.allocUnsafe(lens.reduce((a, n) => a + 2 + n, 0));
  let off = 0;
  for (let i = 0; i < values.length; i++) {
    off = out.writeUInt16LE(lens[i], off);
    off += out.write(values[i], off, lens[i], 'utf8');
  }
  return out;
}

/** The request after `headroom` bytes (frame header and request prefix, filled by the RPC client). */
export function encodeExecuteRequest(headroom: number, c: ExecuteCall): Buffer {
  const o = c.opts;
  const target = targetBytes(c.target);
  const sqlLen = Buffer.byteLength(c.sql, 'utf8');
  let flags = 0;
  let size = headroom + 2 + 8 + 8 + 4 + target.length + 4 + sqlLen;
  if (o.begin) flags |= REQ.BEGIN;
  if (o.clientFoundRows) flags |= REQ.CLIENT_FOUND_ROWS;
  const tables = o.tables !== undefined ? tablesBytes(o.tables) : null;
  if (tables !== null) {
    flags |= REQ.TABLES;
    size += tables.length;
  }
  const beginStatement = o.beginStatement;
  if (beginStatement !== undefined) {
    flags |= REQ.BEGIN_STATEMENT;
    size += 4 + Buffer.byteLength(beginStatement, 'utf8');
  }
  let bindText: string | null = null;
  if (c.bindVars !== null && Object.keys(c.bindVars).length > 0) {
    flags |= REQ.BIND_VARS;
    bindText = JSON.stringify(c.bindVars);
    size += 4 + Buffer.byteLength(bindText, 'utf8');
  }
  const params = o.params;
  if (params !== undefined) {
    if (params.length > 0xffff) throw protocolError(`${params.length} placeholder values are more than 65535`);
    flags |= REQ.PARAMS;
    size += 2;
    for (let i = 0; i < params.length; i++) size += 1 + 4 + Buffer.byteLength(paramText(params[i]), 'utf8');
  }
  const out = Buffer.allocUnsafe(size);
  let off = headroom;
  out[off++] = EXECUTE_CODEC_VERSION;
  out[off++] = flags;
  off = out.writeDoubleLE(o.transactionId ?? 0, off);
  off = out.writeDoubleLE(o.reservedId ?? 0, off);
  off = out.writeUInt32LE(Math.max(0, Math.min(o.timeoutMs ?? 0, U32_MAX)) >>> 0, off);
  off += target.copy(out, off);
  off = out.writeUInt32LE(sqlLen, off);
  off += out.write(c.sql, off, sqlLen, 'utf8');
  if (tables !== null) off += tables.copy(out, off);
  if (beginStatement !== undefined) off = writeStr32(out, off, beginStatement);
  if (bindText !== null) off = writeStr32(out, off, bindText);
  if (params !== undefined) {
    off = out.writeUInt16LE(params.length, off);
    for (let i = 0; i < params.length; i++) {
      out[off++] = paramKind(params[i]);
      off = writeStr32(out, off, paramText(params[i]));
    }
  }
  return out;
}

function writeStr32(out: Buffer, off: number, s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  off = out.writeUInt32LE(n, off);
  return off + out.write(s, off, n, 'utf8');
}

/** Reads a body field by field; a short or malformed body is a protocol error naming the field. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public off: number,
  ) {}

  need(n: number, what: string): void {
    if (this.buf.length - this.off < n) throw protocolError(`truncated qs.executeBinary body: ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.off++];
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16LE(this.off);
    this.off += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleLE(this.off);
    this.off += 8;
    return v;
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }

  str(n: number, what: string): string {
    if (n === 0) return '';
    this.need(n, what);
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }

  json(what: string): unknown {
    const text = this.str(this.u32(what), what);
    try {
      return JSON.parse(text);
    } catch {
      throw protocolError(`qs.executeBinary ${what} is not valid JSON`);
    }
  }

  end(): void {
    if (this.off !== this.buf.length) throw protocolError(`${this.buf.length - this.off} trailing bytes after a qs.executeBinary body`);
  }
}

function version(r: Reader, what: string): void {
  const v = r.u8('version');
  if (v !== EXECUTE_CODEC_VERSION) throw protocolError(`qs.executeBinary ${what} version ${v} is not supported (this side speaks ${EXECUTE_CODEC_VERSION})`);
}

export function decodeExecuteRequest(body: Buffer, offset: number): DecodedExecute {
  const r = new Reader(body, offset);
  version(r, 'request');
  const flags = r.u8('flags');
  if ((flags & ~REQ_ALL) !== 0) throw protocolError(`qs.executeBinary request flags ${flags} name unknown options`);
  const transactionId = r.f64('transactionId');
  const reservedId = r.f64('reservedId');
  const timeoutMs = r.u32('timeoutMs');
  const keyspace = r.str(r.u16('keyspace'), 'keyspace');
  const shard = r.str(r.u16('shard'), 'shard');
  const tabletType = r.str(r.u16('tabletType'), 'tabletType') as TabletType;
  const sql = r.str(r.u32('sql'), 'sql');
  const opts: DecodedExecute['opts'] = {};
  if (transactionId !== 0) opts.transactionId = transactionId;
  if (reservedId !== 0) opts.reservedId = reservedId;
  if (timeoutMs !== 0) opts.timeoutMs = timeoutMs;
  if (flags & REQ.BEGIN) opts.begin = true;
  if (flags & REQ.CLIENT_FOUND_ROWS) opts.clientFoundRows = true;
  if (flags & REQ.TABLES) {
    const n = r.u16('table count');
    const tables: string[] = new Array(n);
    for (let i = 0; i < n; i++) tables[i] = r.str(r.u16('table name'), 'table name');
    opts.tables = tables;
  }
  if (flags & REQ.BEGIN_STATEMENT) opts.beginStatement = r.str(r.u32('beginStatement'), 'beginStatement');
  let bindVars: BindVars | null = null;
  if (flags & REQ.BIND_VARS) {
    const j = r.json('bindVars');
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw protocolError('qs.executeBinary bindVars must be a JSON object');
    bindVars = j as BindVars;
  }
  if (flags & REQ.PARAMS) {
    const n = r.u16('param count');
    const params: Literal[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const kind = r.u8('param kind');
      params[i] = paramOf(kind, r.str(r.u32('param'), 'param'));
    }
    opts.params = params;
  }
  r.end();
  return { target: { keyspace, shard, tabletType }, sql, bindVars, opts };
}

/** A CALL's further results as JSON (rare): column definitions as in fieldsToJson, rows base64. */
export type MoreJson = (Omit<MoreResult, 'fields' | 'rows'> & { fields: unknown; rows: string[] })[];

/**
 * The reply after `headroom` bytes (the frame header). `fieldsBlob` is the definitions' JSON (made
 * once per definitions array); `more` is the CALL results' JSON text when there are any.
 */
export function encodeExecuteReply(headroom: number, r: ExecuteResult, fieldsBlob: Buffer, moreText: string | null): Buffer {
  const alias = r.tabletAlias;
  const aliasLen = str16(alias, 'tablet alias');
  const infoLen = r.info.length === 0 ? 0 : Buffer.byteLength(r.info, 'utf8');
  let flags = 0;
  let size = headroom + 2 + 8 + 4 + 8 + 2 + aliasLen + 4 + infoLen + 4 + fieldsBlob.length + 4;
  const insertIdText = typeof r.insertId === 'string' ? r.insertId : null;
  if (insertIdText !== null) {
    flags |= REPLY.INSERT_ID_TEXT;
    size += 4 + Buffer.byteLength(insertIdText, 'utf8');
  } else size += 8;
  let warningText: string | null = null;
  if (r.warningList !== undefined) {
    flags |= REPLY.WARNING_LIST;
    warningText = JSON.stringify(r.warningList);
    size += 4 + Buffer.byteLength(warningText, 'utf8');
  }
  if (moreText !== null) {
    flags |= REPLY.MORE;
    size += 4 + Buffer.byteLength(moreText, 'utf8');
  }
  if (r.binaryRows === true) flags |= REPLY.BINARY_ROWS;
  const rows = r.rows;
  for (let i = 0; i < rows.length; i++) size += 4 + rows[i].length;
  const out = Buffer.allocUnsafe(size);
  let off = headroom;
  out[off++] = EXECUTE_CODEC_VERSION;
  out[off++] = flags;
  off = out.writeDoubleLE(r.rowsAffected, off);
  if (insertIdText !== null) off = writeStr32(out, off, insertIdText);
  else off = out.writeDoubleLE(r.insertId as number, off);
  off = out.writeUInt32LE(r.warnings >>> 0, off);
  off = out.writeDoubleLE(r.transactionId, off);
  off = out.writeUInt16LE(aliasLen, off);
  off += out.write(alias, off, aliasLen, 'utf8');
  off = out.writeUInt32LE(infoLen, off);
  if (infoLen > 0) off += out.write(r.info, off, infoLen, 'utf8');
  if (warningText !== null) off = writeStr32(out, off, warningText);
  if (moreText !== null) off = writeStr32(out, off, moreText);
  off = out.writeUInt32LE(fieldsBlob.length, off);
  off += fieldsBlob.copy(out, off);
  off = out.writeUInt32LE(rows.length, off);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    off = out.writeUInt32LE(row.length, off);
    off += row.copy(out, off);
  }
  return out;
}

/**
 * The last fields blob a connection received and its definitions: the same bytes as the last reply
 * give the same definitions (the same array) without parsing, and downstream the gate's MySQL
 * server copies the column packets it encoded for that array before.
 */
export interface FieldsCache {
  blob: Buffer | null;
  fields: ColumnDefinition[];
}

/** Column definitions as JSON: MariaDB's extended metadata bytes travel as base64. */
export function fieldsToJson(fields: readonly ColumnDefinition[]): unknown {
  return fields.map((f) => (f.extendedMetadata ? { ...f, extendedMetadata: f.extendedMetadata.toString('base64') } : f));
}

export function fieldsFromJson(j: unknown): ColumnDefinition[] {
  return ((j ?? []) as (Omit<ColumnDefinition, 'extendedMetadata'> & { extendedMetadata?: string })[]).map((f) =>
    typeof f.extendedMetadata === 'string' ? { ...f, extendedMetadata: Buffer.from(f.extendedMetadata, 'base64') } : (f as ColumnDefinition),
  );
}

/** The fields blob's definitions, from `cache` when they are the bytes it holds. */
export function fieldsFromBlob(blob: Buffer, cache: FieldsCache): ColumnDefinition[] {
  if (cache.blob !== null && cache.blob.equals(blob)) return cache.fields;
  let j: unknown;
  try {
    j = JSON.parse(blob.toString('utf8'));
  } catch {
    throw protocolError('qs.execute fields are not valid JSON');
  }
  const fields = fieldsFromJson(j);
  // A copy: a view would keep the whole received chunk alive.
  cache.blob = Buffer.from(blob);
  cache.fields = fields;
  return fields;
}

export function moreFromJson(more: MoreJson): MoreResult[] {
  return more.map((y) => ({ ...y, fields: fieldsFromJson(y.fields), rows: y.rows.map((s) => Buffer.from(s, 'base64')) }));
}

export function moreToJson(more: readonly MoreResult[]): MoreJson {
  return more.map((x) => ({ ...x, fields: fieldsToJson(x.fields), rows: x.rows.map((b) => b.toString('base64')) }));
}

export function decodeExecuteReply(body: Buffer, cache: FieldsCache): ExecuteResult {
  const r = new Reader(body, 0);
  version(r, 'reply');
  const flags = r.u8('flags');
  if ((flags & ~REPLY_ALL) !== 0) throw protocolError(`qs.executeBinary reply flags ${flags} are unknown`);
  const rowsAffected = r.f64('rowsAffected');
  const insertId = flags & REPLY.INSERT_ID_TEXT ? r.str(r.u32('insertId'), 'insertId') : r.f64('insertId');
  const warnings = r.u32('warnings');
  const transactionId = r.f64('transactionId');
  const tabletAlias = r.str(r.u16('tabletAlias'), 'tabletAlias');
  const info = r.str(r.u32('info'), 'info');
  let warningList: Warning[] | undefined;
  if (flags & REPLY.WARNING_LIST) {
    const j = r.json('warningList');
    if (!Array.isArray(j)) throw protocolError('qs.executeBinary warningList must be a JSON array');
    warningList = j as Warning[];
  }
  let more: MoreResult[] | undefined;
  if (flags & REPLY.MORE) {
    const j = r.json('more');
    if (!Array.isArray(j)) throw protocolError('qs.executeBinary more must be a JSON array');
    more = moreFromJson(j as MoreJson);
  }
  const fields = fieldsFromBlob(r.bytes(r.u32('fields'), 'fields'), cache);
  const count = r.u32('row count');
  // Each row needs at least its 4-byte length: refuse a count the body cannot hold before allocating.
  if (count > (body.length - r.off) / 4) throw protocolError(`qs.executeBinary row count ${count} exceeds the reply's size`);
  const rows: Buffer[] = new Array(count);
  for (let i = 0; i < count; i++) rows[i] = r.bytes(r.u32('row length'), 'row');
  r.end();
  const out: { -readonly [K in keyof ExecuteResult]: ExecuteResult[K] } = { fields, rows, rowsAffected, insertId, warnings, info, transactionId, tabletAlias };
  if (warningList !== undefined) out.warningList = warningList;
  if (more !== undefined) out.more = more;
  if (flags & REPLY.BINARY_ROWS) out.binaryRows = true;
  return out;
}
