// Node CPU per row of a Reshard's source side, without the targets: every target shard's stream
// asks the source tablet for the table (vstreamRows, the copy) and for the binlog after it
// (vstream, the catch-up) with its key-range rule (`-80`, `80-`, …), at once as a Reshard does;
// each batch is encoded as the RPC service encodes it and dropped. What is measured is the source
// tablet's own code — the SELECT's rows or the binlog's row images read, filtered by the key range,
// the kept ones encoded — per source row, which varies far less on a shared machine than
// reshard-bench's wall time. reshard-bench remains the end-to-end figure.
//
//   npx tsc -p tsconfig.json && BENCH_ROWS=200000 node dist/bench/reshard-source-bench.js [rounds=5]
//
// The copy goes in cycles of the copier's copyCycleRowsMax, each target asking from its lastPk as a
// target does; cycles asked together share one scan of the source (shared-scan.ts).
//
// BENCH_ROWS (200,000), BENCH_TARGETS (2: -80,80-; 4: -40,40-80,80-c0,c0-), BENCH_CPU_PROFILE=dir
// (a CPU profile of the last round's copy and catch-up).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Client } from '../src/mysql/client.js';
import { currentPosition } from '../src/mysql/binlog/index.js';
import { equalShardNames } from '../src/key/index.js';
import { LocalVStreamer } from '../src/vreplication/local-vstreamer.js';
import { COPIER_DEFAULTS } from '../src/vreplication/copier.js';
import { encodeEvents, encodeRowsBatch } from '../src/vreplication/vstream-codec.js';
import { parseKeyspaceVSchema } from '../src/vschema/index.js';
import type { SqlValue } from '../src/mysql/values.js';
import { startMariaDB } from '../test/harness/mariadb.js';
import { fmt, log, profileInProcess, RESHARD_BENCH_SCHEMA } from './bench-util.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const ROUNDS = Number(process.argv[2] ?? 5);
const TARGETS = equalShardNames(Number(process.env.BENCH_TARGETS ?? 2));
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE ?? '';

// reshard-bench's table and VSchema.
const SCHEMA = RESHARD_BENCH_SCHEMA;
const VSCHEMA = parseKeyspaceVSchema('customer', {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: { customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] }, customer2: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
});

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const inspector = PROFILE_DIR ? new Session() : undefined;
async function profiled<T>(name: string, on: boolean, fn: () => Promise<T>): Promise<T> {
  return profileInProcess(on ? inspector : undefined, PROFILE_DIR, name, fn);
}

const db = await startMariaDB({ extraConfig: { max_binlog_size: '1G' } });
const c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
try {
  await c.query('CREATE DATABASE vt_customer');
  await c.query('USE vt_customer');
  await c.query(SCHEMA);
  await c.query(SCHEMA.replace('customer (', 'customer2 ('));
  const insert = async (table: string, first: number, last: number) => {
    for (let lo = first; lo <= last; lo += 10_000) {
      const hi = Math.min(last, lo + 9_999);
      await c.query(
        `INSERT INTO ${table} SELECT seq, CONCAT('customer-', seq, '@example.com'), CONCAT('name ', seq * 7919 % 100003), seq * 37 % 1000000 / 100, ` +
          `'2024-02-29 12:34:56.123456' + INTERVAL seq SECOND FROM seq_${lo}_to_${hi}`,
      );
    }
  };
  await insert('customer', 1, ROWS);
  // The catch-up's binlog: as many rows into a second table, in 1,000-row transactions.
  const from = await currentPosition(c);
  for (let lo = 1; lo <= ROWS; lo += 1_000) await insert('customer2', lo, Math.min(ROWS, lo + 999));
  const to = await currentPosition(c);
  const vs = new LocalVStreamer({ dbName: 'vt_customer', connection: { host: db.host, port: db.port, user: 'vt_dba' }, vschema: async () => VSCHEMA, serverIdBase: 0x50000000 });
  const filter = (shard: string) => ({ rules: [{ match: '/.*', filter: shard }] });

  const copy = async (): Promise<{ kept: number; bytes: number }> => {
    let kept = 0;
    let bytes = 0;
    await Promise.all(TARGETS.map(async (shard) => {
      let lastPk: readonly SqlValue[] | null = null;
      for (let done = false; !done; ) {
        await vs.vstreamRows({ table: 'customer', filter: filter(shard), lastPk, rowsMax: COPIER_DEFAULTS.copyCycleRowsMax }, async (b) => {
          bytes += encodeRowsBatch(b).length;
          if (b.kind !== 'rows') return;
          kept += b.rows.length;
          lastPk = b.lastPk;
          done = b.done;
        }, new AbortController().signal);
      }
    }));
    return { kept, bytes };
  };
  const catchUp = async (): Promise<{ kept: number; bytes: number }> => {
    let kept = 0;
    let bytes = 0;
    await Promise.all(TARGETS.map(async (shard) => {
      const ac = new AbortController();
      await vs.vstream({ position: from.toString(), filter: filter(shard) }, async (events) => {
        bytes += encodeEvents(events).length;
        for (const e of events) {
          if (e.type === 'row') kept += e.changes.length;
          if ((e.type === 'commit' || e.type === 'position') && e.position.atLeast(to)) ac.abort();
        }
      }, ac.signal);
    }));
    return { kept, bytes };
  };

  log(`${fmt(ROWS)} rows copied and ${fmt(ROWS)} inserted rows streamed from the binlog, per round, for ${TARGETS.length} target shards (${TARGETS.join(',')}); Node ${process.version}`);
  const results: { copy: number; catchUp: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const last = round === ROUNDS;
    let t0 = cpuUs();
    const a = await profiled('reshard-source-copy', last, copy);
    const copyUs = cpuUs() - t0;
    if (a.kept !== ROWS) throw new Error(`the copy kept ${a.kept} rows over the targets, expected ${ROWS}`);
    t0 = cpuUs();
    const b = await profiled('reshard-source-catchup', last, catchUp);
    const catchUpUs = cpuUs() - t0;
    if (b.kept !== ROWS) throw new Error(`the catch-up kept ${b.kept} row changes over the targets, expected ${ROWS}`);
    results.push({ copy: copyUs / ROWS, catchUp: catchUpUs / ROWS });
    // The targets ask together: their copy calls share one scan (shared-scan.ts).
    const shared = `${vs.sharedScans.scans} shared scans so far, serving ${vs.sharedScans.subscribers} calls`;
    log(`round ${round}: copy ${(copyUs / ROWS).toFixed(2)} µs a source row (${fmt(a.bytes)} bytes encoded; ${shared}), catch-up ${(catchUpUs / ROWS).toFixed(2)} µs a source row (${fmt(b.bytes)} bytes)`);
    if (last && PROFILE_DIR) {
      writeFileSync(`${PROFILE_DIR}/reshard-source-copy.json`, JSON.stringify({ queries: ROWS, cpuUs: copyUs }));
      writeFileSync(`${PROFILE_DIR}/reshard-source-catchup.json`, JSON.stringify({ queries: ROWS, cpuUs: catchUpUs }));
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  log(`median: copy ${median(results.map((r) => r.copy)).toFixed(2)} µs a row, catch-up ${median(results.map((r) => r.catchUp)).toFixed(2)} µs a row (Node CPU of the source side)`);
  vs.close();
} finally {
  c.close();
  await db.stop();
}
