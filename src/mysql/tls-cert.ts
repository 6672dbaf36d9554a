// A self-signed certificate for the server's TLS when none is configured. node:crypto cannot
// build X.509 certificates, so this shells out to the `openssl` CLI (present wherever MariaDB
// is); without it the server simply does not offer TLS.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair } from 'node:crypto';

export interface CertificatePair {
  key: string;
  cert: string;
}

let selfSigned: Promise<CertificatePair | null> | null = null;

/** One self-signed P-256 certificate per process (CN=tessera); null when `openssl` is missing. */
export function selfSignedCertificate(): Promise<CertificatePair | null> {
  selfSigned ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-tls-'));
    try {
      const keyPath = path.join(dir, 'key.pem');
      const certPath = path.join(dir, 'cert.pem');
      await new Promise<void>((resolve, reject) => {
        execFile(
          'openssl',
          ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '3650', '-subj', '/CN=tessera'],
          { timeout: 30_000 },
          (err) => (err ? reject(err) : resolve()),
        );
      });
      return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
    } catch {
      return null;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return selfSigned;
}

let rsaPair: Promise<{ publicKey: string; privateKey: string }> | null = null;

/** The RSA key pair caching_sha2_password uses for full authentication without TLS (made on first use). */
export function rsaKeyPair(): Promise<{ publicKey: string; privateKey: string }> {
  rsaPair ??= new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey })),
    );
  });
  return rsaPair;
}
