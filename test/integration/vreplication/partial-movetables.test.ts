// Partial MoveTables on real tablets, through a real gate started with
// --enable-partial-keyspace-migration, in the manner of Vitess's TestPartialMoveTablesBasic:
// customer (-80, 80-) moves to customer2 (-80, 80-) one shard at a time, 80- first. At every
// stage the shard routing rules are compared with the ones Vitess writes, and queries for an id on
// each shard — untargeted, shard-targeted at either keyspace, and @replica — are checked to reach
// the keyspace, shard and tablet type the rules say (VEXPLAIN QUERIES names where each one went),
// and a row changed on one side only shows which side really answered.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysqlDirect from 'mysql2/promise';
import type mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../../harness/cluster.js';
import { TOPO_COMMANDS } from '../../../src/ctld/topo-commands.js';
import { WORKFLOW_COMMANDS } from '../../../src/ctld/workflow-commands.js';
import { VDIFF_COMMANDS } from '../../../src/ctld/vdiff-commands.js';
import type { CtldContext } from '../../../src/ctld/command.js';
import { RpcTabletManagerClient, TabletConn } from '../../../src/tablet/index.js';
import { createGate } from '../../../src/gate/index.js';
import type { Json, JsonObject } from '../../../src/topo/index.js';
import { waitFor } from '../../harness/wait.js';
import { WriteLedger } from '../../harness/ledger.js';

const SCHEMA = `
CREATE TABLE customer (customer_id bigint NOT NULL, email varchar(128), PRIMARY KEY (customer_id));
CREATE TABLE corder (order_id bigint NOT NULL, customer_id bigint, sku varchar(128), price bigint, PRIMARY KEY (order_id))`;

const VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
    corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
  },
};

// With the hash vindex, customers 1, 2, 3 and 5 live in -80 and customer 4 in 80-.
const IN_DASH80 = 1;
const IN_80DASH = 4;

type Srr = { rules: { from_keyspace: string; to_keyspace: string; shard: string }[] };

/** `from/shard -> to` per rule, in the order GetShardRoutingRules prints them. */
function flat(r: Srr): string[] {
  return r.rules.map((x) => `${x.from_keyspace}/${x.shard} -> ${x.to_keyspace}`);
}

describe('partial MoveTables customer -> customer2, one shard at a time', { timeout: 900_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;
  let gate: mysql.Connection;

  const run = (name: string, req: JsonObject): Promise<Json> => {
    const cmd = WORKFLOW_COMMANDS[name] ?? TOPO_COMMANDS[name];
    return cmd.run(ctx, req);
  };
  const mt = (workflow: string, action: string, extra: JsonObject = {}) => run('MoveTables', { action, workflow, target_keyspace: 'customer2', format: 'json', ...extra });
  const shardRules = async () => flat((await run('GetShardRoutingRules', {})) as unknown as Srr);
  const tableRules = async () => ((await run('GetRoutingRules', {})) as { rules: { from_table: string; to_tables: string[] }[] }).rules;

  /** Where a point select for `id` went after `use <target>`: keyspace/shard@type per query. */
  const where = async (target: string, id: number): Promise<string> => {
    await gate.query(`use \`${target}\``);
    const [rows] = (await gate.query(`vexplain queries select email from customer where customer_id = ${id}`)) as unknown as [{ keyspace: string; shard: string; tablet_type: string; tablet: string }[]];
    assert.equal(rows.length, 1, `${target} id ${id}: ${JSON.stringify(rows)}`);
    assert.match(rows[0].tablet, /^zone1-\d+$/);
    return `${rows[0].keyspace}/${rows[0].shard}@${rows[0].tablet_type}`;
  };

  /**
   * Every target a client may use, for an id in each shard, against what the shard routing rules
   * say: `served[shard]` is the keyspace serving that shard now.
   */
  const checkRouting = async (served: Record<'-80' | '80-', string>, stage: string) => {
    const got: string[] = [];
    const want: string[] = [];
    for (const [id, shard] of [[IN_DASH80, '-80'], [IN_80DASH, '80-']] as const) {
      for (const target of ['customer', 'customer2', 'customer@replica', 'customer2@replica']) {
        const type = target.endsWith('@replica') ? 'replica' : 'primary';
        got.push(`${target} id ${id}: ${await where(target, id)}`);
        want.push(`${target} id ${id}: ${served[shard]}/${shard}@${type}`);
      }
      // Aimed at a shard (`ks:shard` or `ks/shard`, any tablet type): the rule for that
      // (keyspace, shard) decides, whatever the id.
      for (const target of ['customer:80-', 'customer2:80-', 'customer/80-', 'customer2:80-@replica', 'customer:-80@replica']) {
        const shard = target.includes('-80') && !target.includes('80-') ? '-80' : '80-';
        const type = target.endsWith('@replica') ? 'replica' : 'primary';
        got.push(`${target} id ${id}: ${await where(target, id)}`);
        want.push(`${target} id ${id}: ${served[shard]}/${shard}@${type}`);
      }
    }
    await gate.query('use customer');
    assert.deepEqual(got, want, stage);
  };

  /** A statement on one tablet's MariaDB alone, kept out of its binlog (no stream, no replica sees it). */
  const onlyOn = async (keyspace: string, shard: string, sql: string) => {
    const t = c.shard(keyspace, shard).primary;
    const conn = await mysqlDirect.createConnection({ socketPath: t.mysqlctl!.socket, user: 'vt_dba', password: '', database: `vt_${keyspace}` });
    try {
      await conn.query('SET sql_log_bin = 0');
      await conn.query(sql);
    } finally {
      await conn.end();
    }
  };
  const emailThroughGate = async (target: string, id: number): Promise<string> => {
    await gate.query(`use \`${target}\``);
    const [rows] = (await gate.query(`select email from customer where customer_id = ${id}`)) as unknown as [{ email: string }[]];
    await gate.query('use customer');
    return rows.map((r) => r.email).join(',');
  };
  /** Marks customer `id` on one side only and returns which side the gate reads it from. */
  const sideServing = async (target: string, id: number, shard: '-80' | '80-'): Promise<string> => {
    await onlyOn('customer', shard, `UPDATE customer SET email = 'side:customer' WHERE customer_id = ${id}`);
    await onlyOn('customer2', shard, `UPDATE customer SET email = 'side:customer2' WHERE customer_id = ${id}`);
    try {
      return (await emailThroughGate(target, id)).replace(/^side:/, '');
    } finally {
      await onlyOn('customer', shard, `UPDATE customer SET email = 'c${id}@domain.com' WHERE customer_id = ${id}`);
      await onlyOn('customer2', shard, `UPDATE customer SET email = 'c${id}@domain.com' WHERE customer_id = ${id}`);
    }
  };

  const waitCopied = async (workflow: string) => {
    await waitFor(`the copy of ${workflow} to finish`, async () => {
      const st = (await mt(workflow, 'status')) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string; info: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      for (const s of streams) if (s.status === 'Error') throw new Error(`stream in Error: ${s.info}`);
      return Object.keys(st.table_copy_state).length === 0 && streams.length > 0 && streams.every((s) => s.status === 'Running');
    });
  };

  before(async () => {
    c = await startCluster({
      keyspaces: [
        { name: 'customer', shards: ['-80', '80-'], schema: SCHEMA, vschema: VSCHEMA, replicas: 1 },
        { name: 'customer2', shards: ['-80', '80-'], vschema: VSCHEMA, replicas: 1 },
      ],
      gate: { enableShardRouting: true },
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
    gate = await c.connect('customer');
    for (const id of [1, 2, 3, 4, 5]) {
      await gate.query(`INSERT INTO customer (customer_id, email) VALUES (${id}, 'c${id}@domain.com')`);
      await gate.query(`INSERT INTO corder (order_id, customer_id, sku, price) VALUES (${id}, ${id}, 'SKU-${id}', ${id * 10})`);
    }
    assert.deepEqual((await c.shardRows('customer', '80-', 'SELECT customer_id FROM customer')).map((r) => Number(r.customer_id)), [IN_80DASH]);
  });

  after(async () => {
    await gate?.end().catch(() => undefined);
    ctx?.tmc.close();
    await c?.stop();
  });

  it('ApplyShardRoutingRules refuses bad rules and writes nothing', async () => {
    const apply = (rules: unknown) => run('ApplyShardRoutingRules', { rules: JSON.stringify({ rules }) });
    await assert.rejects(apply([{ from_keyspace: 'nosuch', to_keyspace: 'customer2', shard: '-80' }]), /from_keyspace nosuch is not a keyspace/);
    await assert.rejects(apply([{ from_keyspace: 'customer', to_keyspace: 'nosuch', shard: '-80' }]), /to_keyspace nosuch is not a keyspace/);
    await assert.rejects(apply([{ from_keyspace: 'customer', to_keyspace: 'customer2', shard: '-40' }]), /keyspace customer has no shard -40/);
    await assert.rejects(apply([{ from_keyspace: 'customer', to_keyspace: 'customer', shard: '-80' }]), /to its own keyspace/);
    await assert.rejects(
      apply([{ from_keyspace: 'customer', to_keyspace: 'customer2', shard: '-80' }, { from_keyspace: 'customer', to_keyspace: 'customer2', shards: '-80' }]),
      /routed twice/,
    );
    assert.deepEqual(await shardRules(), []);
    // --dry-run validates and prints, writes nothing; the seed's "shards" is read as "shard".
    const dry = (await run('ApplyShardRoutingRules', { rules: JSON.stringify({ rules: [{ from_keyspace: 'customer', to_keyspace: 'customer2', shards: '80-' }] }), dry_run: true })) as unknown as Srr;
    assert.deepEqual(flat(dry), ['customer/80- -> customer2']);
    assert.deepEqual(await shardRules(), []);
  });

  it('moves 80-, then -80, with the rules and the routing Vitess gives at every stage', async () => {
    // The shard layouts must match.
    await assert.rejects(mt('partial', 'create', { source_keyspace: 'customer', tables: 'customer,corder', source_shards: ['40-80'] }), /40-80 is not a shard of source keyspace customer/);

    // ---- create for 80-: streams only there, default rules customer2 -> customer for every shard.
    // A second gate, started without the flag, is named in a warning; the test's gate (with it) is not.
    const plain = await createGate({ topo: c.topo, cell: c.cell, mysql: { port: 0 }, http: null, tabletConn: (t) => new TabletConn(t.hostname, t.port_map.grpc ?? 0) });
    let created: { summary: string; streams: { shard: string }[]; warnings?: string[] };
    try {
      created = (await mt('partial80', 'create', { source_keyspace: 'customer', tables: 'customer,corder', source_shards: ['80-'] })) as typeof created;
    } finally {
      await plain.close();
    }
    assert.equal(created.warnings?.length, 1, JSON.stringify(created.warnings));
    assert.match(created.warnings![0], new RegExp(`gate 127\\.0\\.0\\.1:${plain.mysqlPort} \\(cell zone1\\) runs without --enable-partial-keyspace-migration`));
    assert.deepEqual(created.streams.map((s) => s.shard), ['80-']);
    assert.match(created.summary, /partial MoveTables/);
    await waitCopied('partial80');
    const sub = await c.shardRows('customer2', '80-', "SELECT workflow_sub_type FROM _vt.vreplication WHERE workflow = 'partial80'");
    assert.deepEqual(sub.map((r) => Number(r.workflow_sub_type)), [1]);
    assert.deepEqual(await c.shardRows('customer2', '-80', "SELECT id FROM _vt.vreplication WHERE workflow = 'partial80'"), []);
    const shown = (await run('GetWorkflows', { keyspace: 'customer2' })) as { workflows: { name: string; workflow_sub_type: string }[] };
    assert.deepEqual(shown.workflows.map((w) => [w.name, w.workflow_sub_type]), [['partial80', 'Partial']]);
    assert.deepEqual(await shardRules(), ['customer2/-80 -> customer', 'customer2/80- -> customer']);
    assert.ok((await tableRules()).every((r) => r.to_tables[0].startsWith('customer.')), JSON.stringify(await tableRules()));
    assert.equal(((await mt('partial80', 'status')) as { traffic_state: string }).traffic_state, 'Reads Not Switched. Writes Not Switched');
    await checkRouting({ '-80': 'customer', '80-': 'customer' }, 'after create');
    assert.equal(await sideServing('customer2:80-', IN_80DASH, '80-'), 'customer');

    // The seed's `Workflow customer2.partial stop` names a workflow that does not exist.
    await assert.rejects(run('Workflow', { action: 'stop', keyspace: 'customer2', workflow: 'partial' }), /workflow partial not found in keyspace customer2; its workflows: partial80/);

    // ---- switch 80-: reads and writes together; only some tablet types is refused.
    await assert.rejects(mt('partial80', 'switchtraffic', { tablet_types: ['replica', 'rdonly'] }), /partial MoveTables \(shards 80-\): its reads and writes move together/);
    const sw = (await mt('partial80', 'switchtraffic')) as { start_state: string; current_state: string; write_pause_ms: number; warnings?: string[] };
    assert.equal(sw.warnings, undefined, 'the plain gate closed and left the topology');
    assert.equal(sw.start_state, 'Reads Not Switched. Writes Not Switched');
    assert.equal(sw.current_state, 'Reads partially switched, for shards: 80-. Writes partially switched, for shards: 80-');
    assert.equal(typeof sw.write_pause_ms, 'number');
    assert.deepEqual(await shardRules(), ['customer2/-80 -> customer', 'customer/80- -> customer2']);
    assert.ok((await tableRules()).every((r) => r.to_tables[0].startsWith('customer.')), 'the table routing rules keep pointing at the source');
    // Writes are denied on customer/80- only; -80 keeps taking them.
    assert.deepEqual((await c.topo.getShard('customer', '80-')).value.tablet_controls.map((t) => t.denied_tables), [['corder', 'customer']]);
    assert.deepEqual((await c.topo.getShard('customer', '-80')).value.tablet_controls, []);
    await checkRouting({ '-80': 'customer', '80-': 'customer2' }, 'after switching 80-');
    assert.equal(await sideServing('customer', IN_80DASH, '80-'), 'customer2');
    assert.equal(await sideServing('customer:80-', IN_80DASH, '80-'), 'customer2');
    assert.equal(await sideServing('customer', IN_DASH80, '-80'), 'customer');
    // A write for 80- lands on customer2 (and comes back to customer through the reverse workflow).
    await gate.query(`UPDATE customer SET email = 'written@80-' WHERE customer_id = ${IN_80DASH}`);
    assert.deepEqual((await c.shardRows('customer2', '80-', `SELECT email FROM customer WHERE customer_id = ${IN_80DASH}`)).map((r) => r.email), ['written@80-']);
    // One transaction over both shards, served by two keyspaces.
    await gate.query('BEGIN');
    await gate.query(`UPDATE customer SET email = 'tx@-80' WHERE customer_id = ${IN_DASH80}`);
    await gate.query(`UPDATE customer SET email = 'tx@80-' WHERE customer_id = ${IN_80DASH}`);
    await gate.query('COMMIT');
    assert.deepEqual((await c.shardRows('customer', '-80', `SELECT email FROM customer WHERE customer_id = ${IN_DASH80}`)).map((r) => r.email), ['tx@-80']);
    assert.deepEqual((await c.shardRows('customer2', '80-', `SELECT email FROM customer WHERE customer_id = ${IN_80DASH}`)).map((r) => r.email), ['tx@80-']);
    await waitFor('the reverse workflow to bring the write back to customer/80-', async () => {
      return (await c.shardRows('customer', '80-', `SELECT email FROM customer WHERE customer_id = ${IN_80DASH}`))[0]?.email === 'tx@80-';
    });
    await gate.query(`UPDATE customer SET email = 'c${IN_DASH80}@domain.com' WHERE customer_id = ${IN_DASH80}`);
    await gate.query(`UPDATE customer SET email = 'c${IN_80DASH}@domain.com' WHERE customer_id = ${IN_80DASH}`);

    // complete is refused midway, naming the shard left.
    await assert.rejects(mt('partial80', 'complete'), /shard -80 of customer is still served by customer/);

    // ---- ReverseTraffic of 80- and forward again.
    const back = (await mt('partial80', 'reversetraffic')) as { current_state: string };
    assert.equal(back.current_state, 'Reads Not Switched. Writes Not Switched');
    assert.deepEqual(await shardRules(), ['customer2/-80 -> customer', 'customer2/80- -> customer']);
    assert.deepEqual((await c.topo.getShard('customer', '80-')).value.tablet_controls.flatMap((t) => t.denied_tables), []);
    await checkRouting({ '-80': 'customer', '80-': 'customer' }, 'after reversing 80-');
    const again = (await mt('partial80', 'switchtraffic')) as { current_state: string };
    assert.equal(again.current_state, 'Reads partially switched, for shards: 80-. Writes partially switched, for shards: 80-');
    assert.deepEqual(await shardRules(), ['customer2/-80 -> customer', 'customer/80- -> customer2']);

    // A shard belongs to one partial MoveTables between two keyspaces: a second workflow on 80-
    // (here for one of the same tables) is refused and changes nothing.
    const rulesBefore = await shardRules();
    await assert.rejects(
      mt('again80', 'create', { source_keyspace: 'customer', tables: 'corder', source_shards: ['80-'] }),
      /shard 80- is already being moved from customer to customer2 by workflow partial80: a shard can be in one partial MoveTables at a time/,
    );
    assert.deepEqual(await shardRules(), rulesBefore);
    assert.deepEqual(await c.shardRows('customer2', '80-', "SELECT id FROM _vt.vreplication WHERE workflow = 'again80'"), []);

    // ---- the second workflow moves -80.
    const created2 = (await mt('partialDash80', 'create', { source_keyspace: 'customer', tables: 'customer,corder', source_shards: ['-80'] })) as { streams: { shard: string }[] };
    assert.deepEqual(created2.streams.map((s) => s.shard), ['-80']);
    await waitCopied('partialDash80');
    const sw2 = (await mt('partialDash80', 'switchtraffic')) as { start_state: string; current_state: string };
    assert.equal(sw2.start_state, 'Reads partially switched, for shards: 80-. Writes partially switched, for shards: 80-');
    assert.equal(sw2.current_state, 'All Reads Switched. All Writes Switched');
    assert.deepEqual(await shardRules(), ['customer/-80 -> customer2', 'customer/80- -> customer2']);
    assert.ok((await tableRules()).every((r) => r.to_tables[0].startsWith('customer.')));
    await checkRouting({ '-80': 'customer2', '80-': 'customer2' }, 'after switching both shards');
    assert.equal(await sideServing('customer', IN_DASH80, '-80'), 'customer2');
    assert.equal(await sideServing('customer:80-', IN_80DASH, '80-'), 'customer2');

    // ---- the clean-up: cancel both reverse workflows, which removes every rule.
    await assert.rejects(mt('partialDash80', 'cancel'), /cannot cancel customer2.partialDash80: shard -80 of customer is served by customer2/);
    for (const wf of ['partialDash80', 'partial80']) {
      await run('MoveTables', { action: 'cancel', workflow: `${wf}_reverse`, target_keyspace: 'customer', format: 'json' });
      await assert.rejects(run('Workflow', { action: 'show', keyspace: 'customer', workflow: `${wf}_reverse` }), /not found/);
    }
    assert.deepEqual(await run('GetShardRoutingRules', {}), { rules: [] });
    assert.deepEqual(await tableRules(), []);
    // The data that moved stays in customer2.
    assert.deepEqual((await c.shardRows('customer2', '-80', 'SELECT customer_id FROM customer ORDER BY customer_id')).map((r) => Number(r.customer_id)), [1, 2, 3, 5]);
    assert.deepEqual((await c.shardRows('customer2', '80-', 'SELECT customer_id FROM customer ORDER BY customer_id')).map((r) => Number(r.customer_id)), [4]);
  });
});

describe('partial MoveTables under the ledger: both shard switches and a ReverseTraffic lose no acknowledged row', { timeout: 900_000 }, () => {
  let c: TestCluster;
  let ctx: CtldContext;

  const run = (name: string, req: JsonObject): Promise<Json> => {
    const cmd = WORKFLOW_COMMANDS[name] ?? TOPO_COMMANDS[name];
    return cmd.run(ctx, req);
  };
  const mt = (workflow: string, action: string, extra: JsonObject = {}) => run('MoveTables', { action, workflow, target_keyspace: 'customer2', format: 'json', ...extra });
  const ids = async (keyspace: string, shard: string) => (await c.shardRows(keyspace, shard, 'SELECT order_id FROM corder')).map((r) => Number(r.order_id));
  const waitCopied = async (workflow: string) => {
    await waitFor(`the copy of ${workflow} to finish`, async () => {
      const st = (await mt(workflow, 'status')) as { table_copy_state: object; shard_streams: Record<string, { streams: { status: string; info: string }[] }> };
      const streams = Object.values(st.shard_streams).flatMap((s) => s.streams);
      for (const s of streams) if (s.status === 'Error') throw new Error(`stream in Error: ${s.info}`);
      return Object.keys(st.table_copy_state).length === 0 && streams.length > 0 && streams.every((s) => s.status === 'Running');
    });
  };

  before(async () => {
    c = await startCluster({
      keyspaces: [
        { name: 'customer', shards: ['-80', '80-'], schema: SCHEMA, vschema: VSCHEMA },
        { name: 'customer2', shards: ['-80', '80-'], vschema: VSCHEMA },
      ],
      gate: { enableShardRouting: true },
    });
    ctx = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  });

  after(async () => {
    ctx?.tmc.close();
    await c?.stop();
  });

  it('every acknowledged row is served, on one shard only, and both keyspaces end equal', async () => {
    const conns = await Promise.all([c.connect('customer'), c.connect('customer')]);
    let turn = 0;
    // customer_id = order_id: the ids spread over both shards by the hash vindex.
    const ledger = new WriteLedger({
      write: async (id) => {
        await conns[turn++ % conns.length].query(`INSERT INTO corder (order_id, customer_id, sku, price) VALUES (${id}, ${id}, 'ledger', ${id})`);
      },
    });
    ledger.start();
    try {
      await ledger.waitForAcks(30);
      await mt('p80', 'create', { source_keyspace: 'customer', tables: 'corder', source_shards: ['80-'] });
      await waitCopied('p80');
      await ledger.waitForAcks(30);
      await mt('p80', 'switchtraffic');
      await ledger.waitForAcks(30);
      await mt('p80', 'reversetraffic');
      await ledger.waitForAcks(30);
      await mt('p80', 'switchtraffic');
      await ledger.waitForAcks(30);
      await mt('pDash80', 'create', { source_keyspace: 'customer', tables: 'corder', source_shards: ['-80'] });
      await waitCopied('pDash80');
      await ledger.waitForAcks(30);
      const last = (await mt('pDash80', 'switchtraffic')) as { current_state: string };
      assert.equal(last.current_state, 'All Reads Switched. All Writes Switched');
      await ledger.waitForAcks(30);
    } finally {
      await ledger.stop();
      await Promise.all(conns.map((x) => x.end()));
    }
    const acked = ledger.acknowledged;
    console.log(`ledger: ${acked.length} rows acknowledged, ${ledger.failedTotal} failed (${[...new Set(ledger.failed.map((f) => f.error.slice(0, 80)))].join(' | ')})`);

    // Served: every acknowledged row through the gate, now served by customer2 on both shards.
    const gate = await c.connect('customer');
    try {
      const [rows] = (await gate.query('SELECT order_id FROM corder')) as unknown as [{ order_id: string }[]];
      const served = new Set(rows.map((r) => Number(r.order_id)));
      assert.deepEqual(acked.filter((id) => !served.has(id)), [], 'acknowledged rows not served');
    } finally {
      await gate.end();
    }
    // On the shards: each row on exactly one shard of customer2, every acknowledged one there.
    const [a, b] = [await ids('customer2', '-80'), await ids('customer2', '80-')];
    assert.ok(a.length > 0 && b.length > 0, 'the ids spread over both shards');
    assert.deepEqual(a.filter((id) => b.includes(id)), [], 'a row on both shards of customer2');
    const inTarget = new Set([...a, ...b]);
    assert.deepEqual(acked.filter((id) => !inTarget.has(id)), [], 'acknowledged rows missing on customer2');
    // The reverse workflows keep customer equal to customer2: a full compare, and VDiff of each.
    for (const shard of ['-80', '80-']) {
      await waitFor(`customer/${shard} to equal customer2/${shard}`, async () => {
        const [src, dst] = [(await ids('customer', shard)).sort((x, y) => x - y), (await ids('customer2', shard)).sort((x, y) => x - y)];
        return JSON.stringify(src) === JSON.stringify(dst);
      });
    }
    for (const wf of ['p80_reverse', 'pDash80_reverse']) {
      const { UUID } = (await VDIFF_COMMANDS.VDiff.run(ctx, { action: 'create', workflow: wf, target_keyspace: 'customer', format: 'json' })) as { UUID: string };
      let s: { State?: string; HasMismatch?: boolean; RowsCompared?: number } = {};
      await waitFor(`the VDiff of ${wf}`, async () => {
        s = (await VDIFF_COMMANDS.VDiff.run(ctx, { action: 'show', workflow: wf, target_keyspace: 'customer', uuid: UUID, format: 'json' })) as typeof s;
        return s.State === 'completed' || s.State === 'error';
      });
      assert.equal(s.State, 'completed', JSON.stringify(s));
      assert.equal(s.HasMismatch, false, JSON.stringify(s));
      assert.ok(Number(s.RowsCompared) > 0);
    }

    // complete, workflow by workflow: the first keeps the rules (another partial workflow remains),
    // the last removes them and the source's VSchema entries; corder is then served by customer2 alone.
    const first = (await mt('p80', 'complete')) as { summary: string };
    assert.match(first.summary, /the rules stay until the last partial workflow from customer completes/);
    assert.ok((await ids('customer', '-80')).length > 0, 'customer/-80 keeps its table until its own workflow completes');
    await assert.rejects(c.shardRows('customer', '80-', 'SELECT 1 FROM corder'), /doesn't exist/);
    assert.equal(((await run('GetShardRoutingRules', {})) as { rules: unknown[] }).rules.length, 2);
    await mt('pDash80', 'complete');
    assert.deepEqual(await run('GetShardRoutingRules', {}), { rules: [] });
    assert.deepEqual(((await run('GetRoutingRules', {})) as { rules: unknown[] }).rules, []);
    const after = await c.connect('customer2');
    try {
      const [rows] = (await after.query('SELECT COUNT(*) AS n FROM corder')) as unknown as [{ n: number }[]];
      assert.equal(Number(rows[0].n), inTarget.size);
    } finally {
      await after.end();
    }
  });
});
