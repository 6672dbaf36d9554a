// MoveTables end to end on real tablets, through a real gate with mysql2: customer and corder
// move from commerce to customer (both unsharded) while a writer inserts through the gate. At
// each step the data is read through the gate and the routing rules are compared with the ones
// Vitess writes; every row the gate acknowledged must be on the serving side at the end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysqlDirect from 'mysql2/promise';
import type mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { TOPO_COMMANDS } from '../../../src/ctld/topo-commands.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient, type TabletManagerClient } from '../../../src/tablet/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL AUTO_INCREMENT, email varbinary(128), PRIMARY KEY (customer_id));
CREATE TABLE corder (order_id bigint NOT NULL AUTO_INCREMENT, customer_id bigint, sku varbinary(128), price bigint, PRIMARY KEY (order_id), KEY idx_customer (customer_id));
CREATE TABLE product (sku varbinary(128) NOT NULL, description varbinary(128), price bigint, PRIMARY KEY (sku))`;

const COMMERCE_VSCHEMA = { tables: { product: {}, customer: {}, corder: {} } };

type Rules = { rules: { from_table: string; to_tables: string[] }[] };

/** Routing rules as a sorted list of `from -> to`, for comparing with what Vitess writes. */
function flat(r: Rules): string[] {
  return r.rules.map((x) => `${x.from_table} -> ${x.to_tables.join(',')}`).sort();
}

/** The eight rules per table Vitess writes, `to(spelling)` giving each one's keyspace. */
function expected(to: (from: string) => string): string[] {
  const out: string[] = [];
  for (const t of ['customer', 'corder']) {
    for (const from of [t, `customer.${t}`, `${t}@replica`, `customer.${t}@replica`, `commerce.${t}@replica`, `${t}@rdonly`, `customer.${t}@rdonly`, `commerce.${t}@rdonly`]) {
      const ks = to(from);
      if (ks !== '') out.push(`${from} -> ${ks}.${t}`);
    }
  }
  return out.sort();
}


describe('MoveTables customer,corder from commerce to customer', { timeout: 900_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  let failWaitForPos = false;
  let failFreeze = false;
  let gate: mysql.Connection;

  const run = (name: string, req: JsonObject): Promise<Json> => {
    const cmd = WORKFLOW_COMMANDS[name] ?? TOPO_COMMANDS[name];
    return cmd.run(ctx, req);
  };
  const mt = (action: string, extra: JsonObject = {}) => run('MoveTables', { action, workflow: 'commerce2customer', target_keyspace: 'customer', format: 'json', ...extra });
  const rules = async () => flat((await run('GetRoutingRules', {})) as unknown as Rules);
  const state = async () => ((await mt('status')) as { traffic_state: string }).traffic_state;
  /**
   * A statement on customer/0's replica alone, kept out of its binlog (a GTID of its own would
   * break its replication under gtid_strict_mode).
   */
  const onReplica = async (sql: string) => {
    const t = c.shard('customer', '0').replicas[0];
    const conn = await mysqlDirect.createConnection({ socketPath: t.mysqlctl!.socket, user: 'vt_dba', password: '', database: 'vt_customer' });
    try {
      await conn.query('SET sql_log_bin = 0');
      await conn.query(sql);
    } finally {
      await conn.end();
    }
  };
  const count = async (sql: string) => Number(Object.values(((await gate.query(sql)) as unknown as [Record<string, unknown>[]])[0][0])[0]);

  before(async () => {
    c = await startCluster({
      keyspaces: [
        { name: 'commerce', shards: ['0'], schema: SCHEMA, vschema: COMMERCE_VSCHEMA, replicas: 1 },
        { name: 'customer', shards: ['0'], replicas: 1 },
      ],
    });
    // Over the network as ctld in distributed mode, with a test hook that fails one call.
    const tmc = new RpcTabletManagerClient(c.topo);
    const hooked = new Proxy(tmc, {
      get(target, prop, receiver) {
        if (prop === 'vReplicationWaitForPos' && failWaitForPos) {
          return async () => {
            throw new Error('test hook: VReplicationWaitForPos failed');
          };
        }
        if (prop === 'updateVReplicationWorkflow' && failFreeze) {
          return async (t: unknown, req: { message?: string }, o: unknown) => {
            if (req.message === 'FROZEN') throw new Error('test hook: freezing failed');
            return tmc.updateVReplicationWorkflow(t as never, req as never, o as never);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as TabletManagerClient;
    ctx = { topo: c.topo, tmc: hooked };
    gate = await c.connect();
    await gate.query("INSERT INTO customer (customer_id, email) VALUES (1, 'alice@domain.com'), (2, 'bob@domain.com'), (3, 'charlie@domain.com'), (4, 'dan@domain.com'), (5, 'eve@domain.com')");
    await gate.query("INSERT INTO corder (order_id, customer_id, sku, price) VALUES (1, 1, 'SKU-1001', 100), (2, 2, 'SKU-1002', 30), (3, 3, 'SKU-1002', 30), (4, 4, 'SKU-1002', 30), (5, 5, 'SKU-1002', 30)");
    await gate.query("INSERT INTO product (sku, description, price) VALUES ('SKU-1001', 'Monitor', 100), ('SKU-1002', 'Keyboard', 30)");
  });

  after(async () => {
    await gate?.end().catch(() => undefined);
    ctx?.tmc.close();
    await c?.stop();
  });

  it('refuses bad input and leaves nothing behind', async () => {
    const create = (extra: JsonObject) => mt('create', { source_keyspace: 'commerce', tables: ['customer', 'corder'], ...extra });
    await assert.rejects(create({ source_keyspace: 'nosuch' }), /source keyspace nosuch does not exist/);
    await assert.rejects(create({ target_keyspace: 'nosuch' }), /target keyspace nosuch does not exist/);
    await assert.rejects(create({ tables: ['customer', 'nosuch'] }), (e: Error & { errno?: number }) => e.errno === 1146 && /table nosuch does not exist in source keyspace commerce/.test(e.message));
    await assert.rejects(create({ target_keyspace: 'commerce' }), /source and target keyspace are both commerce/);
    // A target table that holds rows.
    await c.shardRows('customer', '0', 'CREATE TABLE product (sku varbinary(128) NOT NULL, description varbinary(128), price bigint, PRIMARY KEY (sku))');
    await c.shardRows('customer', '0', "INSERT INTO product VALUES ('x', 'y', 1)");
    await assert.rejects(create({ tables: ['product'] }), /table product already exists in target keyspace customer .* holds rows/);
    await c.shardRows('customer', '0', 'DROP TABLE product');
    assert.deepEqual(await rules(), []);
    assert.deepEqual(((await run('GetWorkflows', { keyspace: 'customer' })) as { workflows: unknown[] }).workflows, []);
    assert.deepEqual(await c.shardRows('customer', '0', 'SHOW TABLES'), []);
  });

  it('creates, switches reads and writes under a writer, reverses, and completes', async () => {
    // The writer: orders through the gate, unqualified, each acknowledged id remembered.
    const writerConn = await c.connect();
    const acked: number[] = [];
    const errors: string[] = [];
    let writing = true;
    let next = 1000;
    const writer = (async () => {
      while (writing) {
        const id = next++;
        try {
          await writerConn.query(`INSERT INTO corder (order_id, customer_id, sku, price) VALUES (${id}, ${(id % 5) + 1}, 'SKU-W', ${id})`);
          acked.push(id);
        } catch (err) {
          errors.push((err as Error).message);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();

    try {
      const created = (await mt('create', { source_keyspace: 'commerce', tables: 'customer,corder' })) as { tables: string[] };
      assert.deepEqual(created.tables, ['customer', 'corder']);
      // A second create with the same name is refused and changes nothing.
      await assert.rejects(mt('create', { source_keyspace: 'commerce', tables: 'customer' }), /workflow commerce2customer already exists in keyspace customer/);
      assert.deepEqual(await rules(), expected(() => 'commerce'));
      assert.deepEqual((await c.topo.getVSchema('customer')).tables, { customer: {}, corder: {} });

      await waitFor('the copy to finish', async () => {
        const st = (await mt('status')) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string; info: string }[] }> };
        const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
        for (const s of streams) if (s.status === 'Error') throw new Error(`stream in Error: ${s.info}`);
        return Object.keys(st.table_copy_state).length === 0 && streams.length === 1 && streams.every((s) => s.status === 'Running');
      });
      assert.equal(await state(), 'Reads Not Switched. Writes Not Switched');
      // Every spelling still reads commerce: customer.customer too (routed), and the rows are all there.
      assert.equal(await count('SELECT COUNT(*) FROM customer'), 5);
      assert.equal(await count('SELECT COUNT(*) FROM customer.customer'), 5);
      assert.ok((await count('SELECT COUNT(*) FROM corder')) >= 5);

      // Writes before reads: refused with what to do.
      await assert.rejects(mt('switchtraffic', { tablet_types: ['primary'] }), /switch replica,rdonly first/);

      // Reads.
      const reads = (await mt('switchtraffic', { tablet_types: ['rdonly', 'replica'] })) as { start_state: string; current_state: string; write_pause_ms: number | null };
      assert.equal(reads.start_state, 'Reads Not Switched. Writes Not Switched');
      assert.equal(reads.current_state, 'All Reads Switched. Writes Not Switched');
      assert.equal(reads.write_pause_ms, null);
      assert.deepEqual(await rules(), expected((from) => (from.includes('@') ? 'customer' : 'commerce')));
      // A row only customer/0's replica has: @replica reads of customer now come from there.
      await onReplica("INSERT INTO customer VALUES (999999, 'only@replica')");
      const replicaConn = await c.connect('@replica');
      try {
        await waitFor('the gate to follow the switched reads', async () => {
          const [rows] = (await replicaConn.query('SELECT email FROM customer WHERE customer_id = 999999')) as unknown as [{ email: string }[]];
          return rows.length === 1;
        }, 30_000);
      } finally {
        await replicaConn.end();
      }
      await onReplica('DELETE FROM customer WHERE customer_id = 999999');

      // A failure while writes are stopped: rolled back, the source takes writes again.
      failWaitForPos = true;
      await assert.rejects(
        mt('switchtraffic', { tablet_types: ['primary'] }),
        (e: Error) => /failed at step "wait for the streams of customer.commerce2customer to reach them"/.test(e.message) && /rolled back/.test(e.message) && /commerce takes writes to corder,customer again/.test(e.message),
      );
      failWaitForPos = false;
      assert.equal(await state(), 'All Reads Switched. Writes Not Switched');
      assert.deepEqual(((await c.topo.getShard('commerce', '0')).value.tablet_controls), []);
      assert.deepEqual(((await run('GetWorkflows', { keyspace: 'commerce' })) as { workflows: unknown[] }).workflows, []);
      await gate.query("INSERT INTO corder (order_id, customer_id, sku, price) VALUES (900, 1, 'SKU-R', 1)");
      await gate.query('DELETE FROM corder WHERE order_id = 900');

      // Writes, with the writer going.
      const before = acked.length;
      await waitFor('the writer to write during the copy and before the switch', async () => acked.length > before + 20, 60_000);
      const sw = (await mt('switchtraffic', { tablet_types: ['primary'] })) as { current_state: string; write_pause_ms: number; steps: { step: string }[] };
      assert.equal(sw.current_state, 'All Reads Switched. Writes Switched');
      assert.equal(typeof sw.write_pause_ms, 'number');
      assert.ok(sw.steps.some((s) => s.step === 'route writes to customer'), JSON.stringify(sw.steps));
      assert.deepEqual(await rules(), expected((from) => (from === 'customer.customer' || from === 'customer.corder' ? '' : 'customer')).concat(['commerce.corder -> customer.corder', 'commerce.customer -> customer.customer']).sort());
      const mark = acked.length;
      await waitFor('the writer to write after the switch', async () => acked.length > mark + 20, 60_000);

      // The forward streams are frozen; the reverse workflow replicates back to commerce.
      const fwd = (await run('GetWorkflows', { keyspace: 'customer' })) as { workflows: { shard_streams: Record<string, { streams: { state: string; message: string }[] }> }[] };
      const fs = Object.values(fwd.workflows[0].shard_streams).flatMap((s) => s.streams);
      assert.ok(fs.every((s) => s.state === 'Stopped' && s.message === 'FROZEN'), JSON.stringify(fs));
      const rev = (await run('GetWorkflows', { keyspace: 'commerce', workflow: 'commerce2customer_reverse' })) as { workflows: { name: string }[] };
      assert.deepEqual(rev.workflows.map((w) => w.name), ['commerce2customer_reverse']);

      // A write straight to commerce/0 is denied.
      const direct = await c.connect('commerce/0');
      try {
        await assert.rejects(direct.query("INSERT INTO customer (customer_id, email) VALUES (77, 'x')"), /denied/);
      } finally {
        await direct.end();
      }
      await assert.rejects(mt('cancel'), /cannot cancel customer.commerce2customer: its writes are switched/);

      // Back and forth once more: reversetraffic, then switchtraffic again.
      const back = (await mt('reversetraffic')) as { current_state: string; write_pause_ms: number };
      assert.equal(back.current_state, 'Reads Not Switched. Writes Not Switched');
      assert.equal(typeof back.write_pause_ms, 'number');
      assert.deepEqual(await rules(), expected((from) => (from === 'customer' || from === 'corder' || from.includes('@') ? 'commerce' : '')).concat(['customer.corder -> commerce.corder', 'customer.customer -> commerce.customer']).sort());
      const mark2 = acked.length;
      await waitFor('the writer to write after reversing', async () => acked.length > mark2 + 20, 60_000);
      // A failure after the routing switch: writes stay switched, and a rerun finishes the steps left.
      failFreeze = true;
      await assert.rejects(mt('switchtraffic'), /failed at step "freeze customer.commerce2customer" after the point of no return \(the journal is written on the commerce primaries\): test hook: freezing failed; the switch goes forward: run the command again/);
      // The record in topo says so, and what will happen to it.
      const shown = (await mt('show')) as { workflows: { switch_in_progress?: { step: string; outcome: string; running: boolean } }[] };
      assert.deepEqual(
        (({ step, outcome, running }) => ({ step, outcome, running }))(shown.workflows[0].switch_in_progress!),
        { step: 'freeze', outcome: 'forward', running: false },
      );
      failFreeze = false;
      assert.equal(await state(), 'All Reads Switched. Writes Switched');
      const again = (await mt('switchtraffic')) as { current_state: string; write_pause_ms: number | null };
      assert.equal(again.current_state, 'All Reads Switched. Writes Switched');
      assert.equal(again.write_pause_ms, null, 'the rerun only finished the steps left');
      const mark3 = acked.length;
      await waitFor('the writer to write after switching again', async () => acked.length > mark3 + 20, 60_000);
    } finally {
      writing = false;
      await writer;
      await writerConn.end();
    }
    console.log(`writer: ${acked.length} rows acknowledged, ${errors.length} errors (${[...new Set(errors.map((e) => e.slice(0, 80)))].join(' | ')})`);

    // Every acknowledged row is served, and the target equals the source (reverse replication).
    const served = new Set((((await gate.query('SELECT order_id FROM corder')) as unknown as [{ order_id: string }[]])[0]).map((r) => Number(r.order_id)));
    const lost = acked.filter((id) => !served.has(id));
    assert.deepEqual(lost, [], 'acknowledged rows lost');
    const [{ p }] = await c.shardRows('customer', '0', 'SELECT @@global.gtid_binlog_pos AS p');
    await waitFor('commerce to catch up through the reverse workflow', async () => {
      const [a] = await c.shardRows('commerce', '0', 'SELECT COUNT(*) AS n, COALESCE(SUM(order_id), 0) AS s FROM corder');
      const [b] = await c.shardRows('customer', '0', 'SELECT COUNT(*) AS n, COALESCE(SUM(order_id), 0) AS s FROM corder');
      return String(p) !== '' && a.n === b.n && a.s === b.s;
    }, 60_000);

    // complete: the source tables go, rules end empty, the workflows are gone.
    await assert.rejects(mt('complete', { workflow: 'commerce2customer_reverse', target_keyspace: 'commerce' }), /is a reverse workflow/);
    const done = (await mt('complete')) as { summary: string };
    assert.equal(done.summary, 'Successfully completed the commerce2customer workflow in the customer keyspace');
    assert.deepEqual(await run('GetRoutingRules', {}), { rules: [] });
    assert.deepEqual(((await run('GetWorkflows', { keyspace: 'customer' })) as { workflows: unknown[] }).workflows, []);
    assert.deepEqual(((await run('GetWorkflows', { keyspace: 'commerce' })) as { workflows: unknown[] }).workflows, []);
    assert.deepEqual((await c.topo.getShard('commerce', '0')).value.tablet_controls, []);
    const c0 = await c.connect('commerce/0');
    try {
      await assert.rejects(c0.query('SELECT * FROM customer'), (e: Error & { errno?: number }) => e.errno === 1146 && /Table 'vt_commerce.customer' doesn't exist/.test(e.message));
    } finally {
      await c0.end();
    }
    // Through the gate everything is still there, now from customer.
    assert.equal(await count('SELECT COUNT(*) FROM customer'), 5);
    assert.equal(await count('SELECT COUNT(*) FROM corder'), served.size);
    assert.equal(await count('SELECT COUNT(*) FROM product'), 2);
  });

  it('cancel before switching writes drops the target tables and the rules', async () => {
    await c.shardRows('commerce', '0', 'CREATE TABLE tag (id bigint NOT NULL, label varbinary(32), PRIMARY KEY (id))');
    await c.shardRows('commerce', '0', "INSERT INTO tag VALUES (1, 'a'), (2, 'b')");
    await run('MoveTables', { action: 'create', workflow: 'tags', target_keyspace: 'customer', source_keyspace: 'commerce', tables: ['tag'], tablet_types: ['primary'], format: 'json' });
    assert.equal((await rules()).length, 8);
    await waitFor('the copy of tag', async () => Number((await c.shardRows('customer', '0', 'SELECT COUNT(*) AS n FROM tag').catch(() => [{ n: 0 }]))[0].n) === 2);
    const r = (await run('MoveTables', { action: 'cancel', workflow: 'tags', target_keyspace: 'customer', format: 'json' })) as { summary: string };
    assert.equal(r.summary, 'Successfully cancelled the tags workflow in the customer keyspace');
    assert.deepEqual(await rules(), []);
    assert.deepEqual(await c.shardRows('customer', '0', "SHOW TABLES LIKE 'tag'"), []);
    assert.equal('tag' in ((await c.topo.getVSchema('customer')).tables as object), false);
    assert.equal(Number((await c.shardRows('commerce', '0', 'SELECT COUNT(*) AS n FROM tag'))[0].n), 2);
  });
  it('switchtraffic and reversetraffic, round after round, under continuous inserts: nothing acknowledged is lost, both sides equal', async () => {
    const ROUNDS = Number(process.env.TESSERA_MOVETABLES_ROUNDS ?? 10);
    const pm = (action: string, extra: JsonObject = {}) => run('MoveTables', { action, workflow: 'products', target_keyspace: 'customer', format: 'json', ...extra });
    await pm('create', { source_keyspace: 'commerce', tables: ['product'], tablet_types: ['primary'] });
    await waitFor('the copy of product', async () => {
      const st = (await pm('status')) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string }[] }> };
      return Object.keys(st.table_copy_state).length === 0 && Object.values(st.shard_streams).flatMap((x) => x.streams).every((x) => x.status === 'Running');
    });

    const conn = await c.connect();
    const acked: string[] = [];
    let errors = 0;
    let writing = true;
    let paused = false;
    let idle = false;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        if (paused) {
          idle = true;
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        idle = false;
        const sku = `W-${++n}`;
        try {
          await conn.query(`INSERT INTO product (sku, description, price) VALUES ('${sku}', 'ledger', ${n})`);
          acked.push(sku);
        } catch {
          errors++;
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    })();
    const rowsOf = async (ks: string) => (await c.shardRows(ks, '0', 'SELECT sku, description, price FROM product ORDER BY sku')).map((r) => `${String(r.sku)}|${String(r.description)}|${String(r.price)}`);
    /** With the writer paused: the serving side has every acknowledged row and the other side the same rows. */
    const settle = async (serving: string, other: string, round: string) => {
      paused = true;
      await waitFor('the writer to pause', async () => idle, 10_000);
      const served = new Set((await rowsOf(serving)).map((r) => r.split('|')[0]));
      assert.deepEqual(acked.filter((s) => !served.has(s)), [], `${round}: acknowledged rows missing on ${serving}`);
      await waitFor(`${other} to equal ${serving} after ${round}`, async () => JSON.stringify(await rowsOf(serving)) === JSON.stringify(await rowsOf(other)), 30_000);
      paused = false;
    };
    const pauses: number[] = [];
    try {
      for (let i = 1; i <= ROUNDS; i++) {
        await waitFor('some writes', async () => acked.length >= i * 10, 30_000);
        const sw = (await pm('switchtraffic')) as { current_state: string; write_pause_ms: number };
        assert.equal(sw.current_state, 'All Reads Switched. Writes Switched');
        pauses.push(sw.write_pause_ms);
        await settle('customer', 'commerce', `switchtraffic ${i}`);
        await waitFor('some writes', async () => acked.length >= i * 10 + 5, 30_000);
        const rv = (await pm('reversetraffic')) as { current_state: string; write_pause_ms: number };
        assert.equal(rv.current_state, 'Reads Not Switched. Writes Not Switched');
        pauses.push(rv.write_pause_ms);
        await settle('commerce', 'customer', `reversetraffic ${i}`);
      }
    } finally {
      writing = false;
      await writer;
      await conn.end();
    }
    const sorted = [...pauses].sort((a, b) => a - b);
    console.log(`${ROUNDS} rounds: ${acked.length} rows acknowledged, ${errors} client errors; write pause median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`);
    await pm('cancel');
    assert.deepEqual(await rules(), []);
    assert.deepEqual(await c.shardRows('customer', '0', "SHOW TABLES LIKE 'product'"), []);
  });
});
