// Decoded row events per second: Tessera's binlog reader against @vlasky/zongji, on the same
// binlog of a million row changes, in one run (each reads the whole stream from the same GTID
// position over the network, decoding every row into JS values).
//
//   npx tsc -p tsconfig.json && node dist/bench/binlog-bench.js [rowChanges]
import { performance } from 'node:perf_hooks';
import ZongJi from '@vlasky/zongji';
import { Client } from '../src/mysql/client.js';
import { BinlogReader, currentPosition, type GtidPosition } from '../src/mysql/binlog/index.js';
import { startMariaDB, type TestMariaDB } from '../test/harness/mariadb.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);

async function tessera(db: TestMariaDB, from: GtidPosition, to: GtidPosition): Promise<{ rows: number; ms: number }> {
  const t0 = performance.now();
  let rows = 0;
  const r = new BinlogReader({ host: db.host, port: db.port, user: 'vt_dba', position: from });
  for await (const it of r) {
    if (it.kind === 'rows') rows += it.event.rows.length;
    if (it.kind === 'commit' && it.position.atLeast(to)) break;
  }
  r.close();
  return { rows, ms: performance.now() - t0 };
}

async function zongji(db: TestMariaDB, from: GtidPosition, want: number): Promise<{ rows: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const z = new ZongJi({ host: db.host, port: db.port, user: 'vt_dba' });
    let rows = 0;
    let done = false;
    z.on('binlog', (...args: unknown[]) => {
      const evt = args[0] as { rows?: unknown[] };
      if (evt.rows) rows += evt.rows.length;
      if (!done && rows >= want) {
        done = true;
        z.stop();
        resolve({ rows, ms: performance.now() - t0 });
      }
    });
    z.on('error', (err: unknown) => {
      if (!done) reject(err);
    });
    z.start({ serverId: 4242, gtidSet: from.gtidList(), includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'] });
  });
}

async function main(): Promise<void> {
  const db = await startMariaDB({ innodbBufferPoolSize: '128M', extraConfig: { max_binlog_size: '1G' } });
  const c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
  try {
    await c.query('CREATE DATABASE bench');
    await c.query('USE bench');
    await c.query('CREATE TABLE bench.t (id INT PRIMARY KEY, a BIGINT, s VARCHAR(64), d DATETIME(6), x DECIMAL(12,2), f DOUBLE, n INT NULL)');
    const from = await currentPosition(c);
    // Row changes: inserts, then updates (two images each) and deletes, in 10k-row transactions.
    const third = Math.floor(ROWS / 2);
    for (let lo = 1; lo <= third; lo += 10_000) {
      const hi = Math.min(third, lo + 9_999);
      await c.query(`INSERT INTO bench.t SELECT seq, seq * 7919, CONCAT('customer-', seq, '@example.com'), '2024-02-29 12:34:56.123456' + INTERVAL seq SECOND, seq / 100, seq / 3, IF(seq % 3 = 0, NULL, seq) FROM seq_${lo}_to_${hi}`);
    }
    const updates = Math.floor((ROWS - third) / 2);
    for (let lo = 1; lo <= updates; lo += 10_000) await c.query(`UPDATE bench.t SET a = a + 1, s = CONCAT(s, '!') WHERE id BETWEEN ${lo} AND ${Math.min(updates, lo + 9_999)}`);
    const deletes = ROWS - third - updates;
    for (let lo = 1; lo <= deletes; lo += 10_000) await c.query(`DELETE FROM bench.t WHERE id BETWEEN ${lo} AND ${Math.min(deletes, lo + 9_999)}`);
    const to = await currentPosition(c);
    process.stdout.write(`binlog of ${ROWS} row changes (${third} inserts, ${updates} updates, ${deletes} deletes) written\n`);

    // Alternate runs so both see the same cache state; report the better of two each.
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < 2; round++) {
      const a = await tessera(db, from, to);
      if (a.rows !== ROWS) throw new Error(`tessera decoded ${a.rows} rows, expected ${ROWS}`);
      ours.push((a.rows / a.ms) * 1000);
      const b = await zongji(db, from, ROWS);
      theirs.push((b.rows / b.ms) * 1000);
    }
    const o = Math.max(...ours);
    const z = Math.max(...theirs);
    process.stdout.write(`tessera BinlogReader   ${Math.round(o).toLocaleString('en')} row changes/s\n`);
    process.stdout.write(`@vlasky/zongji         ${Math.round(z).toLocaleString('en')} row changes/s\n`);
    process.stdout.write(`ratio                  ${(o / z).toFixed(2)}x (goal >= 3x)\n`);
  } finally {
    c.close();
    await db.stop();
  }
}

await main();
