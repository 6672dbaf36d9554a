// The bytes of the VStream seam: binlog events (StreamEvent[]) and copy batches (RowsBatch) as one
// binary message each, so that bigint and Buffer values cross the network exactly (the RPC's JSON
// meta cannot hold them) and rows cost no JSON work. Layout (little-endian), also in
// docs/vreplication.md:
//
//   message  := u8 version (1), u8 kind, body
//     kind 1 events    u32 count, event*
//     kind 2 header    str position, str fields (JSON), str pkColumns (JSON)
//     kind 3 rows      u8 done, row lastPk, u32 count, row*
//     kind 4 values    row                                (a lastPk in a request)
//     kind 5 chunk     u16 chunk, u8 done, row lastPk, u32 count, row*   (rows of one chunk)
//     kind 6 theader   str table, str position, str fields (JSON), str pkColumns (JSON)
//                      (a header naming its table: an atomic copy's tables on one snapshot)
//   event    := u8 type, body
//     1 begin      gtid, f64 timestamp
//     2 field      str database, str table, str fields (JSON; inBefore: false on a column UPDATE
//                  before images leave out), str primaryKey (JSON, null if none)
//     3 row        str database, str table, u32 count, { u8 images (1 before, 2 after, 4 after
//                  image bytes), row?, row?, (u32 n, bytes)? }*
//     9 field+image  as 2, then str image (JSON: the table's binlog columns and the stream's
//                  column indexes; VStreamRequest.rawAfterImages)
//     4 ddl        str database, str statement
//     5 commit     gtid, position, f64 timestamp
//     6 position   position
//     7 rollback   str reason
//     8 heartbeat  position, f64 lagSeconds
//   gtid     := u32 domain, u32 server, u64 sequence
//   position := u16 count, gtid*
//   row      := u16 count, value*
//   value    := u8 tag: 0 null | 1 f64 | 2 i64 | 3 u64 (a bigint above i64) | 4 u32 n, UTF-8 | 5 u32 n, bytes
//   str      := u32 n, UTF-8
//
// Decoding takes one whole message (the RPC frame delivers it whole). Every count and length is
// checked against what is left of the message and against a named maximum before anything is
// allocated; anything malformed is a protocol error (1158), never a crash.
import { isUtf8 } from 'node:buffer';
import { ER, TesseraError } from '../mysql/errors.js';
import { GtidPosition, type Gtid } from '../mysql/binlog/index.js';
import type { SqlValue } from '../mysql/values.js';
import type { ColumnInfo } from '../mysql/binlog/index.js';
import type { FieldInfo, RowChangeOut, RowImageShape, StreamEvent } from './row-streamer.js';
import type { RowsBatch } from './vstreamer.js';

export const VSTREAM_CODEC_VERSION = 1;

export const VSTREAM_CODEC_LIMITS = {
  /** Bytes of one message; the RPC frame limit (64 MiB) bounds it on the wire anyway. */
  messageBytesMax: 64 * 1024 * 1024,
  /** Values in one row: a MariaDB table has at most 4096 columns. */
  rowValuesMax: 4096,
  /** GTIDs in one position (one per replication domain). */
  positionGtidsMax: 1024,
} as const;

const KIND = { events: 1, header: 2, rows: 3, values: 4, chunk: 5, tableHeader: 6 } as const;
const EV = { begin: 1, field: 2, row: 3, ddl: 4, commit: 5, position: 6, rollback: 7, heartbeat: 8, fieldImage: 9 } as const;
const TAG = { null: 0, f64: 1, i64: 2, u64: 3, string: 4, bytes: 5 } as const;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

function protocolError(why: string): TesseraError {
  return new TesseraError(ER.NET_READ_ERROR, `vstream protocol error: ${why}`);
}

// ---- sizes (the encoder allocates each message once, at its exact size or an upper bound) ---------

// `bound`: an upper bound instead of the exact size (3 bytes per UTF-16 unit), which needs no pass
// over the strings; the events encoder allocates by it and returns the part it wrote.
function strSize(s: string, bound = false): number {
  return 4 + (bound ? 3 * s.length : utf8Length(s));
}

/** Strings up to this many UTF-16 units are measured, written and read in JavaScript. */
const SHORT_STRING = 64;

/**
 * Buffer.byteLength, without the native call for short strings: most values are short (emails,
 * names, decimals, dates) and a native call costs more than a loop over their characters.
 */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT_STRING) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

function valueSize(v: SqlValue, bound = false): number {
  if (v === null || v === undefined) return 1;
  if (typeof v === 'number' || typeof v === 'bigint') return 9;
  if (typeof v === 'string') return 1 + strSize(v, bound);
  return 5 + v.length;
}

function rowSize(row: readonly SqlValue[], bound = false): number {
  let n = 2;
  for (const v of row) n += valueSize(v, bound);
  return n;
}

const GTID_SIZE = 16;

function positionSize(p: GtidPosition): number {
  return 2 + GTID_SIZE * p.gtids.length;
}

/** Bytes `ev` takes in an events message: what a batch's byte bound counts. */
export function eventSize(ev: StreamEvent): number {
  return eventSizeOf(ev, false);
}

function eventSizeOf(ev: StreamEvent, bound: boolean): number {
  switch (ev.type) {
    case 'begin':
      return 1 + GTID_SIZE + 8;
    case 'field':
      return (
        1 +
        strSize(ev.database, bound) +
        strSize(ev.table, bound) +
        strSize(fieldsJson(ev.fields), bound) +
        strSize(JSON.stringify(ev.primaryKey ?? null), bound) +
        (ev.image !== undefined ? strSize(imageJson(ev.image), bound) : 0)
      );
    case 'row': {
      let n = 1 + strSize(ev.database, bound) + strSize(ev.table, bound) + 4;
      for (const c of ev.changes) n += 1 + (c.before ? rowSize(c.before, bound) : 0) + (c.after ? rowSize(c.after, bound) : 0) + (c.afterImage !== undefined && c.after ? 4 + c.afterImage.length : 0);
      return n;
    }
    case 'ddl':
      return 1 + strSize(ev.database, bound) + strSize(ev.statement, bound);
    case 'commit':
      return 1 + GTID_SIZE + positionSize(ev.position) + 8;
    case 'position':
      return 1 + positionSize(ev.position);
    case 'rollback':
      return 1 + strSize(ev.reason, bound);
    case 'heartbeat':
      return 1 + positionSize(ev.position) + 8;
  }
}

/** Bytes a row's values take in a rows message. */
export function rowBytes(row: readonly SqlValue[]): number {
  return rowSize(row);
}

function fieldsJson(fields: readonly FieldInfo[]): string {
  return JSON.stringify(fields.map((f) => (f.inBefore === false ? { name: f.name, type: f.type, unsigned: f.unsigned, collation: f.collation ?? null, inBefore: false } : { name: f.name, type: f.type, unsigned: f.unsigned, collation: f.collation ?? null })));
}

/** A RowImageShape as JSON (ColumnInfo's undefined fields as null). */
function imageJson(image: RowImageShape): string {
  return JSON.stringify({
    columns: image.columns.map((c) => ({
      index: c.index,
      name: c.name ?? null,
      type: c.type,
      meta: c.meta,
      nullable: c.nullable,
      unsigned: c.unsigned,
      collation: c.collation ?? null,
      values: c.values ?? null,
      decimals: c.decimals,
      precision: c.precision,
      scale: c.scale,
      length: c.length,
      geometryType: c.geometryType ?? null,
    })),
    columnIndexes: image.columnIndexes,
  });
}

// ---- writing ----------------------------------------------------------------------------------

class Writer {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    if (size > VSTREAM_CODEC_LIMITS.messageBytesMax) {
      throw new TesseraError(
        ER.NET_PACKET_TOO_LARGE,
        `a vstream message of ${size} bytes exceeds messageBytesMax (${VSTREAM_CODEC_LIMITS.messageBytesMax}): lower the batch size (packetBytesMax, batchBytesMax) or the row is larger than the stream can carry`,
      );
    }
    this.buf = Buffer.allocUnsafe(size);
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  f64(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  str(s: string): void {
    const len = s.length;
    const b = this.buf;
    const at = this.pos + 4;
    let n = -1;
    if (len <= SHORT_STRING) {
      // ASCII written byte by byte; anything else by Buffer.write from the start.
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + i] = c;
      }
      if (i === len) n = len;
    }
    if (n < 0) n = b.write(s, at, 'utf8');
    b.writeUInt32LE(n, this.pos);
    this.pos = at + n;
  }

  gtid(g: Gtid): void {
    this.u32(g.domain);
    this.u32(g.server);
    this.buf.writeBigUInt64LE(g.sequence, this.pos);
    this.pos += 8;
  }

  position(p: GtidPosition): void {
    this.u16(p.gtids.length);
    for (const g of p.gtids) this.gtid(g);
  }

  row(row: readonly SqlValue[]): void {
    // A programmer error, not input: rows come from MariaDB, which caps columns below this.
    if (row.length > VSTREAM_CODEC_LIMITS.rowValuesMax) throw new Error(`row of ${row.length} values exceeds rowValuesMax`);
    this.u16(row.length);
    for (const v of row) this.value(v);
  }

  value(v: SqlValue): void {
    if (v === null || v === undefined) {
      this.u8(TAG.null);
    } else if (typeof v === 'number') {
      this.u8(TAG.f64);
      this.f64(v);
    } else if (typeof v === 'bigint') {
      if (v >= I64_MIN && v <= I64_MAX) {
        this.u8(TAG.i64);
        this.buf.writeBigInt64LE(v, this.pos);
      } else {
        if (v < 0n || v > U64_MAX) throw new Error(`bigint ${v} is outside the 64-bit range a column can hold`);
        this.u8(TAG.u64);
        this.buf.writeBigUInt64LE(v, this.pos);
      }
      this.pos += 8;
    } else if (typeof v === 'string') {
      this.u8(TAG.string);
      this.str(v);
    } else {
      this.u8(TAG.bytes);
      this.u32(v.length);
      v.copy(this.buf, this.pos);
      this.pos += v.length;
    }
  }

  /** The bytes written, when the size given was an upper bound. */
  written(): Buffer {
    return this.pos === this.buf.length ? this.buf : this.buf.subarray(0, this.pos);
  }

  done(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`vstream codec size mismatch: wrote ${this.pos} of ${this.buf.length}`);
    return this.buf;
  }
}

export function encodeEvents(events: readonly StreamEvent[]): Buffer {
  let size = 2 + 4;
  for (const ev of events) size += eventSizeOf(ev, true);
  // Past the message limit by the bound only: the exact size decides.
  const exact = size > VSTREAM_CODEC_LIMITS.messageBytesMax;
  if (exact) {
    size = 2 + 4;
    for (const ev of events) size += eventSize(ev);
  }
  const w = new Writer(size);
  w.u8(VSTREAM_CODEC_VERSION);
  w.u8(KIND.events);
  w.u32(events.length);
  for (const ev of events) {
    w.u8(ev.type === 'field' && ev.image !== undefined ? EV.fieldImage : EV[ev.type]);
    switch (ev.type) {
      case 'begin':
        w.gtid(ev.gtid);
        w.f64(ev.timestamp);
        break;
      case 'field':
        w.str(ev.database);
        w.str(ev.table);
        w.str(fieldsJson(ev.fields));
        w.str(JSON.stringify(ev.primaryKey ?? null));
        if (ev.image !== undefined) w.str(imageJson(ev.image));
        break;
      case 'row':
        w.str(ev.database);
        w.str(ev.table);
        w.u32(ev.changes.length);
        for (const c of ev.changes) {
          const img = c.after ? c.afterImage : undefined;
          w.u8((c.before ? 1 : 0) | (c.after ? 2 : 0) | (img !== undefined ? 4 : 0));
          if (c.before) w.row(c.before);
          if (c.after) w.row(c.after);
          if (img !== undefined) {
            w.u32(img.length);
            img.copy(w.buf, w.pos);
            w.pos += img.length;
          }
        }
        break;
      case 'ddl':
        w.str(ev.database);
        w.str(ev.statement);
        break;
      case 'commit':
        w.gtid(ev.gtid);
        w.position(ev.position);
        w.f64(ev.timestamp);
        break;
      case 'position':
        w.position(ev.position);
        break;
      case 'rollback':
        w.str(ev.reason);
        break;
      case 'heartbeat':
        w.position(ev.position);
        w.f64(ev.lagSeconds);
        break;
    }
  }
  return exact ? w.done() : w.written();
}

export function encodeRowsBatch(b: RowsBatch): Buffer {
  if (b.kind === 'header') {
    const fields = fieldsJson(b.fields);
    const pk = JSON.stringify(b.pkColumns);
    const named = b.table !== undefined;
    const w = new Writer(2 + (named ? strSize(b.table!) : 0) + strSize(b.position) + strSize(fields) + strSize(pk));
    w.u8(VSTREAM_CODEC_VERSION);
    w.u8(named ? KIND.tableHeader : KIND.header);
    if (named) w.str(b.table!);
    w.str(b.position);
    w.str(fields);
    w.str(pk);
    return w.done();
  }
  const chunked = b.chunk !== undefined;
  if (chunked && (!Number.isInteger(b.chunk) || b.chunk! < 0 || b.chunk! > 0xffff)) throw new Error(`chunk index ${b.chunk} does not fit a u16`);
  let size = 2 + (chunked ? 2 : 0) + 1 + rowSize(b.lastPk) + 4;
  for (const r of b.rows) size += rowSize(r);
  const w = new Writer(size);
  w.u8(VSTREAM_CODEC_VERSION);
  w.u8(chunked ? KIND.chunk : KIND.rows);
  if (chunked) w.u16(b.chunk!);
  w.u8(b.done ? 1 : 0);
  w.row(b.lastPk);
  w.u32(b.rows.length);
  for (const r of b.rows) w.row(r);
  return w.done();
}

/** One row of values on its own (a request's lastPk). */
export function encodeValues(values: readonly SqlValue[]): Buffer {
  const w = new Writer(2 + rowSize(values));
  w.u8(VSTREAM_CODEC_VERSION);
  w.u8(KIND.values);
  w.row(values);
  return w.done();
}

// ---- reading ----------------------------------------------------------------------------------

class Reader {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  get left(): number {
    return this.buf.length - this.pos;
  }

  need(n: number, what: string): void {
    if (this.left < n) throw protocolError(`truncated ${what}: needs ${n} bytes at offset ${this.pos}, ${this.left} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A count of items each at least `itemBytesMin` long: refused before any array is sized by it. */
  count(n: number, itemBytesMin: number, max: number, what: string): number {
    if (n > max) throw protocolError(`${what} count ${n} exceeds ${max}`);
    if (n * itemBytesMin > this.left) throw protocolError(`${what} count ${n} exceeds what is left of the message (${this.left} bytes)`);
    return n;
  }

  /** A length-prefixed value's length, checked against what is left. */
  private lengthOf(what: string): number {
    if (this.left < 4) this.need(4, `${what} length`);
    const n = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    if (this.left < n) this.need(n, what);
    return n;
  }

  bytes(what: string): Buffer {
    const n = this.lengthOf(what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A copy of a bytes value (no view of the message, which one kept value would keep alive). */
  bytesCopy(what: string): Buffer {
    const n = this.lengthOf(what);
    const b = Buffer.allocUnsafe(n);
    this.buf.copy(b, 0, this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  str(what: string): string {
    const n = this.lengthOf(what);
    const buf = this.buf;
    const start = this.pos;
    const end = start + n;
    this.pos = end;
    // ASCII is valid UTF-8 and reads the same as latin1, which needs no decoding.
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return buf.toString('latin1', start, end);
    if (!isUtf8(buf.subarray(start, end))) throw protocolError(`${what} is not valid UTF-8`);
    return buf.toString('utf8', start, end);
  }

  gtid(what: string): Gtid {
    this.need(GTID_SIZE, what);
    const g = { domain: this.buf.readUInt32LE(this.pos), server: this.buf.readUInt32LE(this.pos + 4), sequence: this.buf.readBigUInt64LE(this.pos + 8) };
    this.pos += GTID_SIZE;
    return g;
  }

  position(what: string): GtidPosition {
    const n = this.count(this.u16(`${what} size`), GTID_SIZE, VSTREAM_CODEC_LIMITS.positionGtidsMax, `${what} GTID`);
    const gtids: Gtid[] = new Array(n);
    for (let i = 0; i < n; i++) gtids[i] = this.gtid(what);
    try {
      return GtidPosition.of(gtids);
    } catch (err) {
      throw protocolError(`${what}: ${(err as Error).message}`);
    }
  }

  row(what: string): SqlValue[] {
    const n = this.count(this.u16(`${what} value count`), 1, VSTREAM_CODEC_LIMITS.rowValuesMax, `${what} value`);
    const out: SqlValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const tag = this.u8('value tag');
      switch (tag) {
        case TAG.null:
          out[i] = null;
          break;
        case TAG.f64:
          out[i] = this.f64('number');
          break;
        case TAG.i64:
          this.need(8, 'bigint');
          out[i] = this.buf.readBigInt64LE(this.pos);
          this.pos += 8;
          break;
        case TAG.u64: {
          this.need(8, 'bigint');
          const v = this.buf.readBigUInt64LE(this.pos);
          // The encoder writes u64 only above the i64 range: anything else is not its output.
          if (v <= I64_MAX) throw protocolError(`u64 value ${v} fits i64`);
          out[i] = v;
          this.pos += 8;
          break;
        }
        case TAG.string:
          out[i] = this.str('string value');
          break;
        case TAG.bytes:
          // A copy: a view would keep the whole message alive as long as one value is kept.
          out[i] = this.bytesCopy('bytes value');
          break;
        default:
          throw protocolError(`unknown value tag ${tag}`);
      }
    }
    return out;
  }

  json(what: string): unknown {
    const s = this.str(what);
    try {
      return JSON.parse(s);
    } catch {
      throw protocolError(`${what} is not valid JSON`);
    }
  }

  fields(what: string): FieldInfo[] {
    const v = this.json(what);
    if (!Array.isArray(v)) throw protocolError(`${what} is not a list`);
    return v.map((f: unknown) => {
      const o = f as { name?: unknown; type?: unknown; unsigned?: unknown; collation?: unknown; inBefore?: unknown } | null;
      if (
        o === null ||
        typeof o !== 'object' ||
        typeof o.name !== 'string' ||
        typeof o.type !== 'number' ||
        typeof o.unsigned !== 'boolean' ||
        (o.collation !== null && typeof o.collation !== 'number')
      ) {
        throw protocolError(`${what}: a field needs name, type, unsigned and collation`);
      }
      if (o.inBefore !== undefined && o.inBefore !== false) throw protocolError(`${what}: inBefore may only be false`);
      const field: FieldInfo = { name: o.name, type: o.type, unsigned: o.unsigned, collation: o.collation === null ? undefined : o.collation };
      return o.inBefore === false ? { ...field, inBefore: false } : field;
    });
  }

  image(what: string): RowImageShape {
    const v = this.json(what) as { columns?: unknown; columnIndexes?: unknown } | null;
    if (v === null || typeof v !== 'object' || !Array.isArray(v.columns) || !Array.isArray(v.columnIndexes)) throw protocolError(`${what} needs columns and columnIndexes`);
    const n = v.columns.length;
    if (n > VSTREAM_CODEC_LIMITS.rowValuesMax) throw protocolError(`${what} has ${n} columns, more than ${VSTREAM_CODEC_LIMITS.rowValuesMax}`);
    const int = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
    const columns = v.columns.map((x: unknown, i: number): ColumnInfo => {
      const c = x as Record<string, unknown> | null;
      if (
        c === null ||
        typeof c !== 'object' ||
        c.index !== i ||
        !(c.name === null || typeof c.name === 'string') ||
        !int(c.type) ||
        !int(c.meta) ||
        typeof c.nullable !== 'boolean' ||
        typeof c.unsigned !== 'boolean' ||
        !(c.collation === null || int(c.collation)) ||
        !(c.values === null || (Array.isArray(c.values) && c.values.every((s) => typeof s === 'string'))) ||
        !int(c.decimals) ||
        !int(c.precision) ||
        !int(c.scale) ||
        !int(c.length) ||
        !(c.geometryType === null || int(c.geometryType))
      ) {
        throw protocolError(`${what}: column ${i} is malformed`);
      }
      return {
        index: i,
        name: c.name ?? undefined,
        type: c.type,
        meta: c.meta,
        nullable: c.nullable,
        unsigned: c.unsigned,
        collation: c.collation ?? undefined,
        values: (c.values as string[] | null) ?? undefined,
        decimals: c.decimals,
        precision: c.precision,
        scale: c.scale,
        length: c.length,
        geometryType: c.geometryType ?? undefined,
      } as ColumnInfo;
    });
    const columnIndexes = v.columnIndexes as unknown[];
    if (!columnIndexes.every((x) => int(x) && x >= 0 && x < n)) throw protocolError(`${what}: a column index is outside the table's ${n} columns`);
    return { columns, columnIndexes: columnIndexes as number[] };
  }

  names(what: string, nullable: boolean): string[] | undefined {
    const v = this.json(what);
    if (v === null && nullable) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw protocolError(`${what} is not a list of names`);
    return v as string[];
  }

  /** Version and kind; returns the kind, one of `kinds`. */
  header(kinds: readonly number[], what: string): number {
    if (this.buf.length > VSTREAM_CODEC_LIMITS.messageBytesMax) throw protocolError(`message of ${this.buf.length} bytes exceeds messageBytesMax`);
    const version = this.u8('version');
    if (version !== VSTREAM_CODEC_VERSION) throw protocolError(`version ${version} is not ${VSTREAM_CODEC_VERSION}`);
    const k = this.u8('kind');
    if (!kinds.includes(k)) throw protocolError(`kind ${k} is not a ${what} message`);
    return k;
  }

  end(): void {
    if (this.left !== 0) throw protocolError(`${this.left} trailing bytes after the message`);
  }
}

export function decodeEvents(buf: Buffer): StreamEvent[] {
  const r = new Reader(buf);
  r.header([KIND.events], 'events');
  const n = r.count(r.u32('event count'), 3, Number.MAX_SAFE_INTEGER, 'event');
  const out: StreamEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const type = r.u8('event type');
    switch (type) {
      case EV.begin:
        out[i] = { type: 'begin', gtid: r.gtid('begin gtid'), timestamp: r.f64('timestamp') };
        break;
      case EV.field:
        out[i] = { type: 'field', database: r.str('database'), table: r.str('table'), fields: r.fields('fields'), primaryKey: r.names('primary key', true) };
        break;
      case EV.fieldImage:
        out[i] = { type: 'field', database: r.str('database'), table: r.str('table'), fields: r.fields('fields'), primaryKey: r.names('primary key', true), image: r.image('row image shape') };
        break;
      case EV.row: {
        const database = r.str('database');
        const table = r.str('table');
        const count = r.count(r.u32('change count'), 1 + 2, Number.MAX_SAFE_INTEGER, 'row change');
        const changes: RowChangeOut[] = new Array(count);
        for (let k = 0; k < count; k++) {
          const images = r.u8('row images');
          if (images === 0 || images > 7 || images === 4 || images === 5) throw protocolError(`row images ${images} is not 1, 2, 3, 6 or 7`);
          const before = images & 1 ? r.row('before image') : null;
          const after = images & 2 ? r.row('after image') : null;
          // A view of the message: the player writes its SQL before the next message arrives.
          changes[k] = images & 4 ? { before, after, afterImage: r.bytes('after image bytes') } : { before, after };
        }
        out[i] = { type: 'row', database, table, changes };
        break;
      }
      case EV.ddl:
        out[i] = { type: 'ddl', database: r.str('database'), statement: r.str('statement') };
        break;
      case EV.commit:
        out[i] = { type: 'commit', gtid: r.gtid('commit gtid'), position: r.position('commit position'), timestamp: r.f64('timestamp') };
        break;
      case EV.position:
        out[i] = { type: 'position', position: r.position('position') };
        break;
      case EV.rollback:
        out[i] = { type: 'rollback', reason: r.str('reason') };
        break;
      case EV.heartbeat:
        out[i] = { type: 'heartbeat', position: r.position('heartbeat position'), lagSeconds: r.f64('lag') };
        break;
      default:
        throw protocolError(`unknown event type ${type}`);
    }
  }
  r.end();
  return out;
}

export function decodeRowsBatch(buf: Buffer): RowsBatch {
  const r = new Reader(buf);
  const kind = r.header([KIND.header, KIND.rows, KIND.chunk, KIND.tableHeader], 'rows');
  let out: RowsBatch;
  if (kind === KIND.header || kind === KIND.tableHeader) {
    const table = kind === KIND.tableHeader ? r.str('table') : undefined;
    const position = r.str('position');
    const fields = r.fields('fields');
    const pkColumns = r.names('key columns', false)!;
    out = table === undefined ? { kind: 'header', position, fields, pkColumns } : { kind: 'header', position, fields, pkColumns, table };
  } else {
    const chunk = kind === KIND.chunk ? r.u16('chunk') : undefined;
    const d = r.u8('done');
    if (d > 1) throw protocolError(`done flag ${d} is not 0 or 1`);
    const lastPk = r.row('lastPk');
    const n = r.count(r.u32('row count'), 2, Number.MAX_SAFE_INTEGER, 'row');
    const rows: SqlValue[][] = new Array(n);
    for (let i = 0; i < n; i++) rows[i] = r.row('row');
    out = chunk === undefined ? { kind: 'rows', rows, lastPk, done: d === 1 } : { kind: 'rows', rows, lastPk, done: d === 1, chunk };
  }
  r.end();
  return out;
}

export function decodeValues(buf: Buffer): SqlValue[] {
  const r = new Reader(buf);
  r.header([KIND.values], 'values');
  const v = r.row('values');
  r.end();
  return v;
}
