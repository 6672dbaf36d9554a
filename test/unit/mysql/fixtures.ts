// Wire bytes built by hand for the codec tests. Shares no code with src/mysql: plain byte arrays,
// little-endian written out, so a bug in the codec cannot hide in its own fixture.

export type Bytes = number[];

export function le(n: number, width: number): Bytes {
  const out: Bytes = [];
  for (let i = 0; i < width; i++) out.push(Math.floor(n / 2 ** (8 * i)) % 256);
  return out;
}

export function le64(n: bigint): Bytes {
  const out: Bytes = [];
  let v = BigInt.asUintN(64, n);
  for (let i = 0; i < 8; i++) {
    out.push(Number(v % 256n));
    v /= 256n;
  }
  return out;
}

export function ascii(s: string): Bytes {
  return [...Buffer.from(s, 'utf8')];
}

/** Length-encoded integer, per the protocol's table. */
export function lenc(n: number): Bytes {
  if (n < 251) return [n];
  if (n < 65536) return [0xfc, ...le(n, 2)];
  if (n < 16777216) return [0xfd, ...le(n, 3)];
  return [0xfe, ...le(n, 8)];
}

export function lstr(s: string | Bytes): Bytes {
  const b = typeof s === 'string' ? ascii(s) : s;
  return [...lenc(b.length), ...b];
}

export function nul(s: string): Bytes {
  return [...ascii(s), 0];
}

/** One framed packet: 3-byte length, sequence id, payload. */
export function frame(seq: number, payload: Bytes): Bytes {
  return [...le(payload.length, 3), seq & 0xff, ...payload];
}

export function ok(affected: number, insertId: number, status: number, warnings: number, info = ''): Bytes {
  return [0x00, ...lenc(affected), ...lenc(insertId), ...le(status, 2), ...le(warnings, 2), ...ascii(info)];
}

export function err(errno: number, state: string, msg: string): Bytes {
  return [0xff, ...le(errno, 2), 0x23, ...ascii(state), ...ascii(msg)];
}

export function eof(warnings: number, status: number): Bytes {
  return [0xfe, ...le(warnings, 2), ...le(status, 2)];
}

export function columnDef(o: { schema?: string; table?: string; name: string; charset: number; length: number; type: number; flags: number; decimals: number }): Bytes {
  return [
    ...lstr('def'), ...lstr(o.schema ?? 'db'), ...lstr(o.table ?? 't'), ...lstr(o.table ?? 't'),
    ...lstr(o.name), ...lstr(o.name), 0x0c, ...le(o.charset, 2), ...le(o.length, 4), o.type, ...le(o.flags, 2), o.decimals, 0, 0,
  ];
}

/** The handshake MariaDB 10.11.19 (Debian) sent to a fresh connection, captured from the wire. */
export const MARIADB_HANDSHAKE_HEX =
  '640000000a352e352e352d31302e31312e31392d4d6172696144422d302b64656231327531000500000060232a49717d426f00fef7080200ff81150000000000001d0000002a2267643f4f4d737d3b4d51006d7973716c5f6e61746976655f70617373776f726400';
