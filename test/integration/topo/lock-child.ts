// A child process for the conformance suite's cross-process lock tests. Argument: JSON
// {impl, address, root, mode, dir, ttlMs, iterations, counterPath} (and an unused `marker` path
// under the test root so the orphan reaper recognises it).
//   hold:     take the lock, print LOCKED, then wait to be killed.
//   contend:  `iterations` times: take the lock, read the counter, write counter+1 without
//             compare-and-swap, release. With mutual exclusion no increment is lost.
import { openConn } from '../../../src/topo/index.js';

interface Args {
  impl: string;
  address: string;
  root: string;
  mode: 'hold' | 'contend';
  dir: string;
  ttlMs: number;
  iterations: number;
  counterPath: string;
}

const args = JSON.parse(process.argv[2]) as Args;
const conn = openConn(args.impl, args.address, args.root);
const contents = JSON.stringify({ action: `test-${args.mode}`, pid: process.pid });

if (args.mode === 'hold') {
  await conn.lock(args.dir, contents, { timeoutMs: 60_000, ttlMs: args.ttlMs });
  process.stdout.write('LOCKED\n');
  setInterval(() => undefined, 1 << 30);
} else {
  for (let i = 0; i < args.iterations; i++) {
    const h = await conn.lock(args.dir, contents, { timeoutMs: 120_000, ttlMs: args.ttlMs });
    const cur = await conn.get(args.counterPath);
    const n = Number(cur.data.toString());
    // Yield to the event loop between read and write, so a missing exclusion would show.
    await new Promise((r) => setImmediate(r));
    await conn.update(args.counterPath, Buffer.from(String(n + 1)), null);
    await h.unlock();
  }
  await conn.close();
  process.stdout.write('DONE\n');
}
