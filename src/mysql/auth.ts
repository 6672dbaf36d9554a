// Auth plugin arithmetic: scrambles a client sends and checks a server makes. The exchange
// itself (auth switch, fast/full auth, public key) lives in the client and the server.
import { createHash, publicEncrypt, privateDecrypt, constants, timingSafeEqual } from 'node:crypto';

function sha1(...parts: Buffer[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i % b.length];
  return out;
}

/** The first 20 bytes are the nonce; some servers send a trailing NUL. */
function nonce20(scramble: Buffer): Buffer {
  return scramble.subarray(0, 20);
}

/** mysql_native_password: SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw))); empty for an empty password. */
export function nativePasswordScramble(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const stage1 = sha1(Buffer.from(password));
  const stage2 = sha1(stage1);
  return xor(stage1, sha1(nonce20(scramble), stage2));
}

/** What a server stores for mysql_native_password: SHA1(SHA1(pw)) (`*HEX` in mysql.user, without the star). */
export function nativePasswordHash(password: string): Buffer {
  return sha1(sha1(Buffer.from(password)));
}

export function verifyNativePassword(response: Buffer, scramble: Buffer, hash: Buffer | null): boolean {
  if (hash === null) return response.length === 0;
  if (response.length !== 20) return false;
  const stage1 = xor(response, sha1(nonce20(scramble), hash));
  return timingSafeEqual(sha1(stage1), hash);
}

/** caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce). */
export function cachingSha2Scramble(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const stage1 = sha256(Buffer.from(password));
  const stage2 = sha256(stage1);
  return xor(stage1, sha256(stage2, nonce20(scramble)));
}

/** What the caching_sha2 cache holds for a user: SHA256(SHA256(pw)). */
export function cachingSha2Hash(password: string): Buffer {
  return sha256(sha256(Buffer.from(password)));
}

export function verifyCachingSha2(response: Buffer, scramble: Buffer, hash: Buffer): boolean {
  if (response.length !== 32) return false;
  const stage1 = xor(response, sha256(hash, nonce20(scramble)));
  return timingSafeEqual(sha256(stage1), hash);
}

/** Full authentication without TLS: the NUL-terminated password XOR the nonce, RSA-OAEP encrypted. */
export function rsaEncryptPassword(password: string, scramble: Buffer, publicKeyPem: string | Buffer): Buffer {
  const plain = xor(Buffer.concat([Buffer.from(password), Buffer.alloc(1)]), nonce20(scramble));
  return publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING }, plain);
}

export function rsaDecryptPassword(data: Buffer, scramble: Buffer, privateKeyPem: string | Buffer): string {
  const plain = xor(privateDecrypt({ key: privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING }, data), nonce20(scramble));
  const nul = plain.indexOf(0);
  return plain.toString('utf8', 0, nul === -1 ? plain.length : nul);
}

// --- client_ed25519 (MariaDB) ---------------------------------------------------------------
// MariaDB signs the server's nonce with an Ed25519 key whose "seed" is the password itself (of any
// length: SHA-512 of the password gives the scalar and the nonce prefix). node:crypto only takes
// 32-byte seeds, so the curve arithmetic is done here with BigInt; it runs once per login.

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m = P): bigint => ((a % m) + m) % m;

function powMod(b: bigint, e: bigint, m = P): bigint {
  let r = 1n;
  b = mod(b, m);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

const D = mod(-121665n * powMod(121666n, P - 2n));
const D2 = mod(2n * D);
type Point = [bigint, bigint, bigint, bigint];
const BASE: Point = (() => {
  const x = 15112221349535400772501151409588531511454012693041857206046113283949847762202n;
  const y = 46316835694926478169428394003475163141307993866256225615783033603165251855960n;
  return [x, y, 1n, mod(x * y)];
})();

function add(p: Point, q: Point): Point {
  const a = mod((p[1] - p[0]) * (q[1] - q[0]));
  const b = mod((p[1] + p[0]) * (q[1] + q[0]));
  const c = mod(p[3] * D2 * q[3]);
  const d = mod(p[2] * 2n * q[2]);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function scalarMult(k: bigint, p: Point): Point {
  let r: Point = [0n, 1n, 1n, 0n];
  let q = p;
  while (k > 0n) {
    if (k & 1n) r = add(r, q);
    q = add(q, q);
    k >>= 1n;
  }
  return r;
}

function leToBig(b: Buffer): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

function bigToLe32(v: bigint): Buffer {
  const out = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function encodePoint(p: Point): Buffer {
  const zi = powMod(p[2], P - 2n);
  const x = mod(p[0] * zi);
  const y = mod(p[1] * zi);
  const out = bigToLe32(y);
  if (x & 1n) out[31] |= 0x80;
  return out;
}

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** client_ed25519: a 64-byte Ed25519 signature of the nonce, keyed by the password. */
export function ed25519Scramble(password: string, scramble: Buffer): Buffer {
  const msg = scramble.subarray(0, 32);
  const az = sha512(Buffer.from(password));
  const a = Buffer.from(az.subarray(0, 32));
  a[0] &= 248;
  a[31] &= 63;
  a[31] |= 64;
  const scalar = leToBig(a);
  const pub = encodePoint(scalarMult(scalar, BASE));
  const r = mod(leToBig(sha512(az.subarray(32, 64), msg)), L);
  const R = encodePoint(scalarMult(r, BASE));
  const k = mod(leToBig(sha512(R, pub, msg)), L);
  const s = mod(r + k * scalar, L);
  return Buffer.concat([R, bigToLe32(s)]);
}
