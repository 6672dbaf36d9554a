// The server's side of authentication: the nonce it sends, and checking a client's answer for
// the plugin its user requires (mysql_native_password, mysql_clear_password, caching_sha2_password
// with its fast path, and full authentication over TLS or RSA). Split from server.ts, which runs
// the handshake and hands the exchange here once the plugin is agreed.
import { randomBytes } from 'node:crypto';
import { AUTH_PLUGIN } from './constants.js';
import { cachingSha2Hash, nativePasswordHash, rsaDecryptPassword, verifyCachingSha2, verifyNativePassword } from './auth.js';
import type { PacketWriter } from './packet.js';
import type { UserCredentials } from './server-handler.js';
import { rsaKeyPair } from './tls-cert.js';

/** A 20-byte nonce: printable, no NUL (some clients treat the scramble as a C string). */
export function scramble20(): Buffer {
  const b = randomBytes(20);
  for (let i = 0; i < b.length; i++) b[i] = (b[i] % 94) + 33;
  return b;
}

/** What checking an answer needs of the connection. */
export interface AuthExchange {
  readonly tls: boolean;
  readonly user: string;
  readonly writer: PacketWriter;
  /** The next packet of the connection phase; null when the connection closed. */
  next(): Promise<Buffer | null>;
  /** caching_sha2_password's cache: user -> SHA256(SHA256(password)) after a full authentication. */
  readonly sha2Cache: Map<string, Buffer>;
}

/**
 * Checks the client's answer `response` to `scramble` for `plugin`; may run more round trips
 * (caching_sha2 full authentication). Returns null when the connection closed meanwhile, else
 * whether it matched and the clear password when it is known.
 */
export async function verifyAuthResponse(
  x: AuthExchange,
  plugin: string,
  creds: UserCredentials,
  response: Buffer,
  scramble: Buffer,
): Promise<{ ok: boolean; password?: string } | null> {
  const clearPassword = creds.password;
  const nativeHash = creds.nativePasswordHash ?? (clearPassword !== undefined && clearPassword !== '' ? nativePasswordHash(clearPassword) : null);
  const matchesClear = (pw: string): boolean =>
    clearPassword !== undefined ? pw === clearPassword : nativeHash !== null && pw !== '' && nativePasswordHash(pw).equals(nativeHash);
  if (plugin === AUTH_PLUGIN.NATIVE) {
    return { ok: verifyNativePassword(response, scramble, nativeHash), password: clearPassword };
  }
  if (plugin === AUTH_PLUGIN.CLEAR) {
    if (!x.tls) return { ok: false };
    const pw = response.toString('utf8').replace(/\0$/, '');
    return { ok: matchesClear(pw), password: pw };
  }
  // caching_sha2_password
  if (response.length === 0) return { ok: clearPassword === '' || (clearPassword === undefined && nativeHash === null) };
  const cached = x.sha2Cache.get(x.user);
  if (cached && clearPassword !== undefined && cached.equals(cachingSha2Hash(clearPassword)) && verifyCachingSha2(response, scramble, cached)) {
    x.writer.begin().int1(0x01).int1(0x03).end();
    return { ok: true, password: clearPassword };
  }
  // Full authentication: the password in clear over TLS, or RSA-encrypted with our public key.
  x.writer.begin().int1(0x01).int1(0x04).end();
  let p = await x.next();
  if (!p) return null;
  let pw: string;
  if (x.tls) {
    pw = p.toString('utf8').replace(/\0$/, '');
  } else {
    const keys = await rsaKeyPair();
    if (p.length === 1 && p[0] === 0x02) {
      x.writer.begin().int1(0x01).string(keys.publicKey).end();
      p = await x.next();
      if (!p) return null;
    }
    try {
      pw = rsaDecryptPassword(p, scramble, keys.privateKey);
    } catch {
      return { ok: false };
    }
  }
  const ok = matchesClear(pw);
  if (ok) x.sha2Cache.set(x.user, cachingSha2Hash(pw));
  return { ok, password: pw };
}
