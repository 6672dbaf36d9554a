// Streaming through the gate (SET workload = 'olap') on a 4-shard keyspace of 2 M rows: a scatter
// read reaches a mysql2 client with the heap bounded, an ordered scatter arrives merged in order,
// LIMIT stops the shards (counted at the tablets), a client that stops reading holds the shards
// back, one that goes away or a KILL QUERY cancels them, and without OLAP the tablets' row limit
// still answers. The checks run through the gate reaching its tablets in-process (combined mode)
// and through a second gate reaching them over the network (distributed mode).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysqlCallback from 'mysql2';
import type { RowDataPacket } from 'mysql2';
import { createGate, type Gate } from '../../src/gate/index.js';
import { TabletConn } from '../../src/tablet/index.js';
import { startCluster, type TestCluster } from '../harness/cluster.js';

const ROWS = 2_000_000;
const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const PAYLOAD = 100;
/** The heap the whole test process (gate, tablets, client) may reach while 2 M rows stream. */
const HEAP_MAX = 150 * 1024 * 1024;

const SCHEMA = `create table t(id bigint not null primary key, payload varchar(${PAYLOAD + 20}) not null)`;
// reverse_bits: an id's two lowest bits are its keyspace id's two highest, which pick the shard,
// so each shard's MariaDB can generate exactly its own rows.
const VSCHEMA = { sharded: true, vindexes: { rb: { type: 'reverse_bits' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'rb' }] } } };

let c: TestCluster;
let networkGate: Gate;
const conns: TabletConn[] = [];

function gates(): { name: string; port: number }[] {
  return [
    { name: 'in-process tablets', port: c.gate!.mysqlPort },
    { name: 'tablets over the network', port: networkGate.mysqlPort },
  ];
}

function connect(port: number): mysqlCallback.Connection {
  return mysqlCallback.createConnection({ host: '127.0.0.1', port, user: 'vt_app', password: '', database: 'olap', rowsAsArray: true, supportBigNumbers: true, bigNumberStrings: true });
}

function query(conn: mysqlCallback.Connection, sql: string): Promise<RowDataPacket[]> {
  return new Promise((resolve, reject) => conn.query(sql, (err, rows) => (err ? reject(err) : resolve(rows as RowDataPacket[]))));
}

function end(conn: mysqlCallback.Connection): Promise<void> {
  return new Promise((resolve) => conn.end(() => resolve()));
}

/** Rows the shards' tablets have sent since they started: streamed and executed. */
function shardRowsSent(): { streamed: number; returned: number } {
  let streamed = 0;
  let returned = 0;
  for (const s of c.shards) {
    const st = s.primary.server.stats;
    streamed += st.rowsStreamed;
    returned += st.rowsReturned;
  }
  return { streamed, returned };
}

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Streams a query's rows to `onRow` through mysql2's row stream (which pauses its socket when the
 * consumer falls behind). `onRow` may return a promise: reading waits for it.
 */
async function streamQuery(conn: mysqlCallback.Connection, sql: string, onRow: (row: unknown[]) => void | Promise<void>): Promise<void> {
  const stream = conn.query(sql).stream({ highWaterMark: 256 });
  for await (const row of stream) {
    const r = onRow(row as unknown[]);
    if (r) await r;
  }
}

before(async () => {
  c = await startCluster({ keyspaces: [{ name: 'olap', shards: SHARDS, schema: SCHEMA, vschema: VSCHEMA }] });
  // Shard k holds the ids whose bits 0 and 1 are (k >> 1, k & 1): id = 4 * seq + low.
  await Promise.all(
    SHARDS.map((shard, k) => {
      const low = ((k & 1) << 1) | (k >> 1);
      return c.shardRows('olap', shard, `insert into t(id, payload) select 4 * seq + ${low}, repeat(char(97 + seq % 26), ${PAYLOAD}) from seq_0_to_${ROWS / 4 - 1}`);
    }),
  );
  const tablets = new Map(c.shards.map((s) => [s.primary.alias, s.primary]));
  networkGate = await createGate({
    topo: c.topo,
    cell: c.cell,
    mysql: { port: 0 },
    http: null,
    tabletTypesToWait: ['primary'],
    tabletConn: (t) => {
      const conn = new TabletConn(t.hostname, t.port_map.grpc ?? 0);
      conns.push(conn);
      return conn;
    },
  });
  assert.equal(tablets.size, 4);
});

after(async () => {
  await networkGate?.close();
  for (const conn of conns) conn.close();
  await c?.stop();
});

test('the data: 2 M rows, each on the shard its vindex names', async () => {
  const conn = connect(c.gate!.mysqlPort);
  try {
    assert.deepEqual(await query(conn, 'select count(*), min(id), max(id) from t'), [[String(ROWS), '0', String(ROWS - 1)]]);
    // Routed by the vindex: id 6 (bits 0, 1 = 0, 1) lives on 40-80.
    assert.deepEqual(await query(conn, 'select id from t where id = 6'), [['6']]);
    const [row] = await c.shardRows('olap', '40-80', 'select count(*) as n from t where id = 6');
    assert.equal(Number(row.n), 1);
  } finally {
    await end(conn);
  }
});

test('OLTP (the default): a scatter select of every row is refused with the row limit, naming OLAP', async () => {
  for (const g of gates()) {
    const conn = connect(g.port);
    try {
      assert.deepEqual(await query(conn, 'select @@workload'), [['OLTP']]);
      await assert.rejects(query(conn, 'select id, payload from t'), (e: { errno: number; sqlState: string; message: string }) => {
        assert.equal(e.errno, 1172, g.name);
        assert.equal(e.sqlState, '42000');
        assert.match(e.message, /--queryserver-config-max-result-size.*SET workload = 'olap'/);
        return true;
      });
      await assert.rejects(query(conn, "set workload = 'batch'"), /Variable 'workload' can't be set to the value of 'batch': use OLTP, OLAP or DBA/);
    } finally {
      await end(conn);
    }
  }
});

test('OLAP: a scatter select of 2 M rows streams to the client with the heap under 150 MB; with ORDER BY, merged in order', async () => {
  // Through the in-process tablets the shards' rows as they come; over the network the ordered
  // merge, checked row by row.
  for (const g of gates()) {
    const ordered = g.port === networkGate.mysqlPort;
    const conn = connect(g.port);
    try {
      await query(conn, "set workload = 'olap'");
      assert.deepEqual(await query(conn, 'select @@workload'), [['OLAP']]);
      const base = process.memoryUsage().heapUsed;
      let peak = base;
      let rows = 0;
      let idSum = 0n;
      let bytes = 0;
      const before = shardRowsSent().streamed;
      await streamQuery(conn, `select id, payload from t${ordered ? ' order by id' : ''}`, (row) => {
        if (ordered && Number(row[0]) !== rows) assert.fail(`row ${rows} came as id ${String(row[0])}`);
        rows++;
        idSum += BigInt(row[0] as string);
        bytes += (row[1] as string).length;
        if (rows % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
      });
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      console.log(`[${g.name}] ${ordered ? 'ordered ' : ''}scatter select of ${rows} rows (${mb(bytes)} of payload): heap ${mb(base)} before, peak ${mb(peak)} (whole test process: gate, tablets, client)`);
      assert.equal(rows, ROWS);
      assert.equal(idSum, (BigInt(ROWS) * BigInt(ROWS - 1)) / 2n);
      assert.equal(bytes, ROWS * PAYLOAD);
      assert.equal(shardRowsSent().streamed - before, ROWS);
      assert.ok(peak < HEAP_MAX, `heap reached ${mb(peak)}`);
      // Back to OLTP: the limit answers again.
      await query(conn, "set workload = 'oltp'");
      await assert.rejects(query(conn, 'select id from t'), (e: { errno: number }) => e.errno === 1172);
    } finally {
      await end(conn);
    }
  }
});

test('LIMIT over 2 M rows: the shards stop after the first rows (counted at the tablets)', async () => {
  for (const g of gates()) {
    const conn = connect(g.port);
    try {
      // OLTP: LIMIT 10 goes to every shard; each sends at most 10 rows.
      let sent = shardRowsSent();
      assert.deepEqual((await query(conn, 'select id from t order by id limit 10')).map((r) => Number(r[0])), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      let now = shardRowsSent();
      assert.ok(now.returned - sent.returned <= 40, `${g.name}: the shards sent ${now.returned - sent.returned} rows`);
      // OLAP: the same, streamed.
      await query(conn, "set workload = 'olap'");
      sent = shardRowsSent();
      assert.deepEqual((await query(conn, 'select id, payload from t order by id limit 10')).map((r) => Number(r[0])), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      now = shardRowsSent();
      assert.ok(now.streamed - sent.streamed <= 40, `${g.name}: the shards streamed ${now.streamed - sent.streamed} rows`);
      // A prepared statement (binary protocol) streams too: the gate encodes the merged rows.
      const bin = await new Promise<unknown[][]>((resolve, reject) =>
        conn.execute('select id, payload from t where id < ? order by id', [5], (err, rows) => (err ? reject(err) : resolve(rows as unknown as unknown[][]))),
      );
      assert.deepEqual(bin.map((r) => [Number(r[0]), (r[1] as string).length]), [0, 1, 2, 3, 4].map((id) => [id, PAYLOAD]));
      // A large LIMIT: every shard is sent LIMIT 200000, but the merge needs only 200000 rows in all,
      // about a quarter from each; once it has them the gate cancels the shard queries.
      const limit = 200_000;
      sent = shardRowsSent();
      let next = 0;
      await streamQuery(conn, `select id, payload from t order by id limit ${limit}`, (row) => {
        if (Number(row[0]) !== next) assert.fail(`row ${next} came as id ${String(row[0])}`);
        next++;
      });
      assert.equal(next, limit);
      now = shardRowsSent();
      const streamed = now.streamed - sent.streamed;
      console.log(`[${g.name}] order by id limit ${limit}: the shards streamed ${streamed} rows (${4 * limit} without cancelling)`);
      assert.ok(streamed < limit * 1.25, `${g.name}: the shards streamed ${streamed} rows for LIMIT ${limit}`);
      // The cancelled queries are gone from the tablets' stream pools.
      for (;;) {
        if (c.shards.every((s) => s.primary.server.stats.streamPoolInUse === 0)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await end(conn);
    }
  }
});

test('backpressure: a client that stops reading holds the shards back; when it goes away, the shard queries end', async () => {
  for (const g of gates()) {
    const conn = connect(g.port);
    await query(conn, "set workload = 'olap'");
    const start = shardRowsSent().streamed;
    /** Waits until the tablets have sent nothing new for a while; returns the rows sent since `start`. */
    const settled = async (): Promise<number> => {
      let last = -1;
      let still = 0;
      while (still < 5) {
        await new Promise((r) => setTimeout(r, 100));
        const n = shardRowsSent().streamed;
        still = n === last ? still + 1 : 0;
        last = n;
      }
      return last - start;
    };
    let rows = 0;
    let held = 0;
    const gone = new Error('the client went away');
    await assert.rejects(
      streamQuery(conn, 'select id, payload from t', async () => {
        rows++;
        if (rows !== 1000) return;
        // The client stops reading here: the shards stop sending.
        held = await settled();
        console.log(`[${g.name}] client paused after 1000 rows: the shards stopped after sending ${held} rows; heap ${mb(process.memoryUsage().heapUsed)}`);
        conn.destroy();
        throw gone;
      }),
      (e) => e === gone,
    );
    // Socket buffers (client, gate, tablets) and the RPC stream window hold some rows; not the result.
    assert.ok(held < ROWS / 10, `${g.name}: the shards sent ${held} rows to a client that read 1000`);
    // The gate cancelled the shard queries when the client went away.
    for (;;) {
      if (c.shards.every((s) => s.primary.server.stats.streamPoolInUse === 0)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const total = await settled();
    assert.ok(total < ROWS / 10, `${g.name}: the shards sent ${total} rows in all to a client that went away`);
  }
});

test('KILL QUERY from another connection ends a stream with 1317 and cancels its shard queries', async () => {
  const conn = connect(c.gate!.mysqlPort);
  const killer = connect(c.gate!.mysqlPort);
  try {
    await query(conn, "set workload = 'olap'");
    const [[id]] = (await query(conn, 'select connection_id()')) as unknown as [[string]];
    let rows = 0;
    await assert.rejects(
      streamQuery(conn, 'select id, payload from t', async () => {
        if (++rows === 1000) await query(killer, `kill query ${id}`);
      }),
      (e: { errno?: number; message: string }) => {
        assert.equal(e.errno, 1317, e.message);
        assert.match(e.message, /KILL QUERY from connection/);
        return true;
      },
    );
    assert.ok(rows < ROWS, `${rows} rows arrived before the error`);
    for (;;) {
      if (c.shards.every((s) => s.primary.server.stats.streamPoolInUse === 0)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // The connection stays usable.
    assert.deepEqual(await query(conn, 'select id from t where id = 5'), [['5']]);
  } finally {
    await end(conn);
    await end(killer);
  }
});
