// Messages of the connection and command phases: handshake, OK/ERR/EOF, column definitions.
// Decoders take a PacketReader over one payload; encoders write one packet into a PacketWriter.
import { CAP, PACKET_PAYLOAD_MAX } from './constants.js';
import { ER, TesseraError } from './errors.js';
import { malformed, PacketReader, type PacketWriter } from './packet.js';

export interface OkPacket {
  affectedRows: number | bigint;
  lastInsertId: number | bigint;
  statusFlags: number;
  warnings: number;
  info: string;
}

export interface EofPacket {
  warnings: number;
  statusFlags: number;
}

export interface ColumnDefinition {
  catalog: string;
  schema: string;
  table: string;
  orgTable: string;
  name: string;
  orgName: string;
  /** Collation id; 63 means binary. */
  charset: number;
  columnLength: number;
  type: number;
  flags: number;
  decimals: number;
  /**
   * The column's own collation id, when the tablet knows it from its schema: MariaDB sends the
   * connection's collation in `charset` for every text column, which is what clients see, but the
   * gate sorts and groups by the column's. Internal: never encoded to a client.
   */
  collation?: number;
  /** MariaDB's extended type block (with MARIADB_CLIENT_EXTENDED_TYPE_INFO): key/value pairs, kept as bytes. */
  extendedMetadata?: Buffer;
}

export interface HandshakeV10 {
  protocolVersion: number;
  serverVersion: string;
  connectionId: number;
  /** The 20-byte scramble (nonce) used by the auth plugins. */
  authPluginData: Buffer;
  capabilities: number;
  charset: number;
  statusFlags: number;
  /** MariaDB extended capabilities, sent in the reserved bytes when CLIENT_MYSQL is unset. */
  mariadbCapabilities: number;
  authPluginName: string;
}

export interface HandshakeResponse {
  capabilities: number;
  maxPacketSize: number;
  charset: number;
  user: string;
  authResponse: Buffer;
  database: string | null;
  authPluginName: string | null;
  connectAttrs: Record<string, string>;
  mariadbCapabilities: number;
}

export function isOkPacket(payload: Buffer): boolean {
  return payload.length >= 7 && payload[0] === 0x00;
}

export function isErrPacket(payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === 0xff;
}

/**
 * A terminator of a row stream: an EOF packet, or with CLIENT_DEPRECATE_EOF an OK packet with the
 * 0xfe header. A row can only start with 0xfe when its first value is ≥ 16 MiB, so a shorter
 * payload is a terminator.
 */
export function isEofPacket(payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === 0xfe && payload.length < PACKET_PAYLOAD_MAX;
}

export function decodeOk(r: PacketReader): OkPacket {
  r.u8(); // 0x00 or 0xfe
  const affectedRows = r.lenIntBig();
  const lastInsertId = r.lenIntBig();
  const statusFlags = r.remaining >= 2 ? r.u16() : 0;
  const warnings = r.remaining >= 2 ? r.u16() : 0;
  // Without CLIENT_SESSION_TRACK the protocol documents the info as the rest of the packet, but
  // MariaDB and MySQL send it length-encoded (and clients read it so); accept both.
  let info = '';
  if (r.remaining > 0) {
    const at = r.pos;
    const n = r.lenInt();
    if (n === r.remaining) info = r.restString();
    else {
      r.pos = at;
      info = r.restString();
    }
  }
  return { affectedRows, lastInsertId, statusFlags, warnings, info };
}

export function encodeOk(w: PacketWriter, ok: Partial<OkPacket>, header = 0x00): void {
  w.begin()
    .int1(header)
    .lenInt(ok.affectedRows ?? 0)
    .lenInt(ok.lastInsertId ?? 0)
    .int2(ok.statusFlags ?? 0)
    .int2(ok.warnings ?? 0);
  if (ok.info) w.lenString(ok.info);
  w.end();
}

export function decodeEof(r: PacketReader): EofPacket {
  r.u8();
  if (r.remaining < 4) return { warnings: 0, statusFlags: 0 };
  const warnings = r.u16();
  const statusFlags = r.u16();
  return { warnings, statusFlags };
}

export function encodeEof(w: PacketWriter, warnings: number, statusFlags: number): void {
  w.begin().int1(0xfe).int2(warnings).int2(statusFlags).end();
}

/**
 * The end of a result set: an EOF packet, or with CLIENT_DEPRECATE_EOF an OK packet with header
 * 0xfe.
 */
export function encodeResultEnd(w: PacketWriter, capabilities: number, ok: Partial<OkPacket>): void {
  if (capabilities & CAP.DEPRECATE_EOF) encodeOk(w, ok, 0xfe);
  else encodeEof(w, ok.warnings ?? 0, ok.statusFlags ?? 0);
}

/** Reads an ERR packet into the one error type. */
export function decodeErr(r: PacketReader): TesseraError {
  r.u8();
  const errno = r.u16();
  let sqlState = 'HY000';
  if (r.remaining > 0 && r.peek() === 0x23 /* '#' */) {
    r.skip(1);
    sqlState = r.bytes(Math.min(5, r.remaining)).toString('latin1');
  }
  return new TesseraError({ errno, sqlState }, r.restString());
}

export function encodeErr(w: PacketWriter, err: { errno: number; sqlState: string; message: string }): void {
  // Messages are bounded so an error can never become an oversized packet.
  const message = err.message.length > 2000 ? err.message.slice(0, 2000) : err.message;
  w.begin().int1(0xff).int2(err.errno).int1(0x23).string(err.sqlState.padEnd(5, '0').slice(0, 5), 'latin1').string(message).end();
}

export function decodeColumnDefinition(r: PacketReader, extendedTypeInfo = false): ColumnDefinition {
  const catalog = r.lenString();
  const schema = r.lenString();
  const table = r.lenString();
  const orgTable = r.lenString();
  const name = r.lenString();
  const orgName = r.lenString();
  const extendedMetadata = extendedTypeInfo ? r.lenBytes() : undefined;
  r.lenInt(); // length of the fixed fields, always 0x0c
  const charset = r.u16();
  const columnLength = r.u32();
  const type = r.u8();
  const flags = r.u16();
  const decimals = r.u8();
  const c: ColumnDefinition = { catalog, schema, table, orgTable, name, orgName, charset, columnLength, type, flags, decimals };
  if (extendedMetadata) c.extendedMetadata = extendedMetadata;
  return c;
}

const NO_BYTES = Buffer.alloc(0);

export function encodeColumnDefinition(w: PacketWriter, c: ColumnDefinition, extendedTypeInfo = false): void {
  w.begin()
    .lenString(c.catalog || 'def')
    .lenString(c.schema)
    .lenString(c.table)
    .lenString(c.orgTable)
    .lenString(c.name)
    .lenString(c.orgName);
  if (extendedTypeInfo) w.lenBytes(c.extendedMetadata ?? NO_BYTES);
  w.int1(0x0c)
    .int2(c.charset)
    .int4(c.columnLength)
    .int1(c.type)
    .int2(c.flags)
    .int1(c.decimals)
    .int2(0)
    .end();
}

/** A column definition with defaults filled in, for handlers that produce their own results. */
export function columnDefinition(c: Partial<ColumnDefinition> & Pick<ColumnDefinition, 'name' | 'type'>): ColumnDefinition {
  return {
    catalog: 'def',
    schema: '',
    table: '',
    orgTable: '',
    orgName: c.name,
    charset: 45,
    columnLength: 0,
    flags: 0,
    decimals: 0,
    ...c,
  };
}

export function decodeHandshake(r: PacketReader): HandshakeV10 {
  const protocolVersion = r.u8();
  if (protocolVersion !== 10) throw malformed(`unsupported handshake protocol version ${protocolVersion}`);
  const serverVersion = r.nulString('latin1');
  const connectionId = r.u32();
  const part1 = r.bytes(8);
  r.skip(1);
  let capabilities = r.u16();
  let charset = 0;
  let statusFlags = 0;
  let mariadbCapabilities = 0;
  let authPluginName = 'mysql_native_password';
  let part2: Buffer = Buffer.alloc(0);
  if (r.remaining > 0) {
    charset = r.u8();
    statusFlags = r.u16();
    capabilities |= r.u16() << 16;
    capabilities >>>= 0;
    const authDataLen = r.u8();
    r.skip(6);
    const ext = r.u32();
    if (!(capabilities & CAP.LONG_PASSWORD)) mariadbCapabilities = ext;
    if (capabilities & CAP.SECURE_CONNECTION) {
      const n = Math.max(13, authDataLen - 8);
      part2 = r.bytes(Math.min(n, r.remaining));
      // The second part is NUL-terminated; the terminator is not part of the scramble.
      if (part2.length > 0 && part2[part2.length - 1] === 0) part2 = part2.subarray(0, part2.length - 1);
    }
    if (capabilities & CAP.PLUGIN_AUTH && r.remaining > 0) {
      const rest = r.rest();
      const nul = rest.indexOf(0);
      authPluginName = rest.toString('latin1', 0, nul === -1 ? rest.length : nul);
    }
  }
  return {
    protocolVersion,
    serverVersion,
    connectionId,
    authPluginData: Buffer.concat([part1, part2]),
    capabilities,
    charset,
    statusFlags,
    mariadbCapabilities,
    authPluginName,
  };
}

export function encodeHandshake(w: PacketWriter, h: HandshakeV10): void {
  const data = h.authPluginData;
  w.begin()
    .int1(10)
    .nulString(h.serverVersion)
    .int4(h.connectionId)
    .bytes(data.subarray(0, 8))
    .int1(0)
    .int2(h.capabilities & 0xffff)
    .int1(h.charset)
    .int2(h.statusFlags)
    .int2((h.capabilities >>> 16) & 0xffff)
    .int1(data.length + 1)
    .zeros(6)
    .int4(h.capabilities & CAP.LONG_PASSWORD ? 0 : h.mariadbCapabilities)
    .bytes(data.subarray(8))
    .int1(0)
    .nulString(h.authPluginName)
    .end();
}

/** The first 32 bytes of a handshake response; alone, it is the SSLRequest. */
function encodeResponseHead(w: PacketWriter, capabilities: number, maxPacketSize: number, charset: number, mariadbCaps: number): void {
  w.int4(capabilities).int4(maxPacketSize).int1(charset).zeros(19).int4(capabilities & CAP.LONG_PASSWORD ? 0 : mariadbCaps);
}

export function encodeSslRequest(w: PacketWriter, capabilities: number, maxPacketSize: number, charset: number): void {
  w.begin();
  encodeResponseHead(w, capabilities, maxPacketSize, charset, 0);
  w.end();
}

export function encodeHandshakeResponse(w: PacketWriter, h: HandshakeResponse): void {
  w.begin();
  encodeResponseHead(w, h.capabilities, h.maxPacketSize, h.charset, h.mariadbCapabilities);
  w.nulString(h.user);
  if (h.capabilities & CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA) w.lenBytes(h.authResponse);
  else w.int1(h.authResponse.length).bytes(h.authResponse);
  if (h.capabilities & CAP.CONNECT_WITH_DB) w.nulString(h.database ?? '');
  if (h.capabilities & CAP.PLUGIN_AUTH) w.nulString(h.authPluginName ?? '');
  if (h.capabilities & CAP.CONNECT_ATTRS) {
    const attrs = Object.entries(h.connectAttrs);
    let n = 0;
    const parts = attrs.map(([k, v]) => {
      const kb = Buffer.from(k);
      const vb = Buffer.from(v);
      n += lenIntSize(kb.length) + kb.length + lenIntSize(vb.length) + vb.length;
      return [kb, vb] as const;
    });
    w.lenInt(n);
    for (const [k, v] of parts) w.lenBytes(k).lenBytes(v);
  }
  w.end();
}

export function lenIntSize(n: number): number {
  if (n < 0xfb) return 1;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffff) return 4;
  return 9;
}

/** Decodes a handshake response; a 32-byte payload is an SSLRequest and has no user. */
export function decodeHandshakeResponse(r: PacketReader): HandshakeResponse & { isSslRequest: boolean } {
  const capabilities = r.u32();
  if (!(capabilities & CAP.PROTOCOL_41)) {
    throw new TesseraError(ER.HANDSHAKE_ERROR, 'client does not speak protocol 4.1');
  }
  const maxPacketSize = r.u32();
  const charset = r.u8();
  r.skip(19);
  const ext = r.u32();
  const mariadbCapabilities = capabilities & CAP.LONG_PASSWORD ? 0 : ext;
  const base = { capabilities, maxPacketSize, charset, mariadbCapabilities };
  if (r.remaining === 0) {
    return { ...base, user: '', authResponse: Buffer.alloc(0), database: null, authPluginName: null, connectAttrs: {}, isSslRequest: true };
  }
  const user = r.nulString();
  let authResponse: Buffer;
  if (capabilities & CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA) authResponse = r.lenBytes();
  else if (capabilities & CAP.SECURE_CONNECTION) authResponse = r.bytes(r.u8());
  else authResponse = r.nulBytes();
  let database: string | null = null;
  if (capabilities & CAP.CONNECT_WITH_DB && r.remaining > 0) database = r.nulString() || null;
  let authPluginName: string | null = null;
  if (capabilities & CAP.PLUGIN_AUTH && r.remaining > 0) authPluginName = r.nulString('latin1');
  const connectAttrs: Record<string, string> = {};
  if (capabilities & CAP.CONNECT_ATTRS && r.remaining > 0) {
    const n = r.lenInt();
    const end = r.pos + n;
    if (end > r.end) throw malformed('connection attributes overrun the packet');
    let count = 0;
    while (r.pos < end) {
      const k = r.lenString();
      const v = r.lenString();
      // A bounded number of attributes: they are kept for the session's lifetime.
      if (++count <= 64) connectAttrs[k] = v;
    }
  }
  return { ...base, user, authResponse, database, authPluginName, connectAttrs, isSslRequest: false };
}
