// Readiness check without a client library: a MariaDB that accepts a connection on its socket and
// sends the v10 handshake is ready for queries. An ERR packet (too many connections, host blocked)
// still proves the server is up, and is reported as such.
import net from 'node:net';

export interface ProbeResult {
  readonly ready: boolean;
  readonly serverVersion?: string;
  readonly error?: string;
}

export function probeServer(socketPath: string, timeoutMs = 1000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = net.createConnection({ path: socketPath });
    let buf = Buffer.alloc(0);
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ready: false, error: 'timeout waiting for handshake' }), timeoutMs);
    sock.on('error', (err) => done({ ready: false, error: err.message }));
    sock.on('close', () => done({ ready: false, error: 'connection closed before handshake' }));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 5) return;
      const len = buf.readUIntLE(0, 3);
      if (buf.length < 4 + len) return;
      const kind = buf[4];
      if (kind === 10) {
        const end = buf.indexOf(0, 5);
        done({ ready: true, serverVersion: buf.toString('utf8', 5, end < 0 ? 4 + len : end) });
      } else if (kind === 0xff) {
        done({ ready: true, error: buf.toString('utf8', 7, 4 + len) });
      } else {
        done({ ready: false, error: `unexpected first packet byte ${kind}` });
      }
    });
  });
}
