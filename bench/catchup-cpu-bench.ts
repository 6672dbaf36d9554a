// Node CPU per row of a stream's catch-up, without the target: the source side (binlog reader, row
// filter, events packed into the VStream encoding) and the target side (events decoded, the
// player's packed apply SQL built), in one process, over the binlog of copy-bench's catch-up (row
// updates in 1,000-row transactions of copy-bench's table), read from one MariaDB again in each
// round. The target's applyTransaction writes the SQL into COM_QUERY packets, as the MariaDB client
// does, drops them and waits as long as MariaDB would take to apply them: what is measured is what
// Tessera's own code costs per row, the part copy-bench's "node" CPU column shows, without
// MariaDB's apply time or the scheduling noise of a shared machine (CPU seconds vary far less than
// wall time there). copy-bench remains the end-to-end figure.
//
//   npx tsc -p tsconfig.json && BENCH_ROWS=200000 node dist/bench/catchup-cpu-bench.js [rounds=5]
//
// BENCH_ROWS (200,000), BENCH_CPU_PROFILE=dir (a CPU profile of the last round),
// BENCH_APPLY_US_PER_ROW (10: the target's apply time per row, simulated by a timer),
// BENCH_READER_QUEUE_ITEMS (the source's binlog read-ahead, VSTREAMER_DEFAULTS.readerQueueItemsMax).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { Client } from '../src/mysql/client.js';
import { PacketWriter } from '../src/mysql/packet.js';
import { currentPosition } from '../src/mysql/binlog/index.js';
import { LocalVStreamer } from '../src/vreplication/local-vstreamer.js';
import { decodeEvents, encodeEvents } from '../src/vreplication/vstream-codec.js';
import { play, type PlayerTarget } from '../src/vreplication/player.js';
import type { VStreamer } from '../src/vreplication/vstreamer.js';
import { startMariaDB } from '../test/harness/mariadb.js';
import { CUSTOMER_BENCH_SCHEMA, fmt, log } from './bench-util.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const ROUNDS = Number(process.argv[2] ?? 5);
const TRX_ROWS = 1_000;
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE ?? '';
/** Wall time the target takes per row (a timer, no CPU), so the source reads ahead and queues as it does in copy-bench. */
const APPLY_US_PER_ROW = Number(process.env.BENCH_APPLY_US_PER_ROW ?? 10);

const SCHEMA = CUSTOMER_BENCH_SCHEMA;

const db = await startMariaDB({ extraConfig: { max_binlog_size: '1G' } });
const c = await Client.connect({ host: db.host, port: db.port, user: 'vt_dba' });
try {
  await c.query('CREATE DATABASE vt_src');
  await c.query('USE vt_src');
  await c.query(SCHEMA);
  for (let lo = 1; lo <= ROWS; lo += 10_000) {
    const hi = Math.min(ROWS, lo + 9_999);
    await c.query(
      "INSERT INTO customer SELECT seq, CONCAT('customer-', seq, '@example.com'), CONCAT('Näme ', seq * 7919 % 100003), " +
        "seq * 37 % 1000000 / 100, '2024-02-29 12:34:56.123456' + INTERVAL seq SECOND, ELT(1 + seq % 3, 'active', 'dormant', 'closed'), " +
        `IF(seq % 10 = 0, NULL, CONCAT(UNHEX(SHA2(seq, 256)), UNHEX(SHA2(seq + 1, 256)), UNHEX(SHA2(seq + 2, 256)), UNHEX(SHA2(seq + 3, 256)))) FROM seq_${lo}_to_${hi}`,
    );
  }
  const from = await currentPosition(c);
  for (let lo = 1; lo <= ROWS; lo += TRX_ROWS) {
    await c.query(`UPDATE customer SET balance = balance + 1, status = 'updated', email = CONCAT('u', customer_id, '@example.org') WHERE customer_id BETWEEN ${lo} AND ${Math.min(ROWS, lo + TRX_ROWS - 1)}`);
  }
  const to = await currentPosition(c);

  const limits = process.env.BENCH_READER_QUEUE_ITEMS ? { readerQueueItemsMax: Number(process.env.BENCH_READER_QUEUE_ITEMS) } : {};
  const local = new LocalVStreamer({ dbName: 'vt_src', connection: { host: db.host, port: db.port, user: 'vt_dba' }, vschema: async () => undefined, serverIdBase: 0x50000000, limits });
  // The VStream seam as the network client sees it: every batch encoded and decoded.
  const wire: VStreamer = {
    vstream: (req, onEvents, signal) => local.vstream(req, (events) => onEvents(decodeEvents(encodeEvents(events))), signal),
    vstreamRows: () => Promise.reject(new Error('catchup-cpu-bench streams the binlog only')),
  };
  let sqlBytes = 0;
  const COM_QUERY = 3;
  const packets = new PacketWriter((b) => {
    sqlBytes += b.length;
  });
  let rowsApplied = 0;
  const target: PlayerTarget = {
    dbName: 'vt_dst',
    keyColumns: async () => ['customer_id'],
    applyTransaction: async (statements, _pos, _ts, rows) => {
      // What the MariaDB client does with each statement: a COM_QUERY packet of its bytes.
      for (const s of statements as readonly (string | Buffer)[]) {
        if (typeof s === 'string') packets.begin().int1(COM_QUERY).string(s).end();
        else packets.begin().int1(COM_QUERY).bytes(s).end();
      }
      packets.flush();
      rowsApplied += rows;
      // MariaDB's time to apply them, meanwhile the source reads ahead as it does against a target.
      if (APPLY_US_PER_ROW > 0) await new Promise((r) => setTimeout(r, (rows * APPLY_US_PER_ROW) / 1000));
    },
    applyDdl: async () => undefined,
    heartbeat: async () => undefined,
  };
  const inspector = PROFILE_DIR ? new Session() : undefined;
  // Time in the garbage collector (scavenges and mark-compacts), per round.
  let gcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const results: { cpu: number; ms: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    sqlBytes = 0;
    rowsApplied = 0;
    const profiling = inspector !== undefined && round === ROUNDS;
    if (profiling) {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
    }
    gcMs = 0;
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    const end = await play(wire, target, {
      from,
      stopAt: to,
      filter: { rules: [{ match: '/.*', filter: '' }] },
      onDdl: 'IGNORE',
      signal: new AbortController().signal,
      relayLogMaxItems: 5_000,
      relayLogMaxBytes: 250 * 1024 * 1024,
    });
    const ms = performance.now() - t0;
    const u = process.cpuUsage(u0);
    if (profiling) {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(`${PROFILE_DIR}/catchup-cpu.cpuprofile`, JSON.stringify(profile));
      inspector.disconnect();
    }
    if (end.reason !== 'stop-position' || rowsApplied !== ROWS) throw new Error(`round ${round}: ended ${end.reason} after ${rowsApplied} rows, expected ${ROWS}`);
    const cpu = (u.user + u.system) / 1e6;
    results.push({ cpu, ms });
    log(`round ${round}: ${fmt(ROWS)} rows in ${(ms / 1000).toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU = ${((cpu * 1e6) / ROWS).toFixed(1)} µs/row, ${(sqlBytes / 1e6).toFixed(1)} MB of SQL packets, ${gcMs.toFixed(0)} ms in GC`);
  }
  gcObserver.disconnect();
  const cpus = results.map((r) => r.cpu).sort((a, b) => a - b);
  const median = cpus[Math.floor(cpus.length / 2)];
  log(`median CPU ${((median * 1e6) / ROWS).toFixed(1)} µs/row (min ${((cpus[0] * 1e6) / ROWS).toFixed(1)}) over ${ROUNDS} rounds of ${fmt(ROWS)} row updates`);
} finally {
  c.close();
  await db.stop();
}
