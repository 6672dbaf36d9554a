// Lookup vindexes through the gate, on real MariaDB: a consistent_lookup_unique on corder.order_id
// and a consistent_lookup on customer.email, both with their lookup tables in the unsharded
// keyspace `lookup`, and a plain lookup_unique on corder.sku. Reads route by them to one shard,
// a second shard's insert of an existing order_id gets 1062, and after thousands of random writes
// (and after a gate killed with SIGKILL mid-write) every row has its lookup row.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { startChild } from '../harness/child.js';
import { WORKFLOW_COMMANDS } from '../../src/ctld/workflow-commands.js';
import type { CtldContext } from '../../src/ctld/command.js';
import { RpcTabletManagerClient } from '../../src/tablet/index.js';
import type { JsonObject } from '../../src/topo/index.js';
import { waitFor } from '../harness/wait.js';
import { StaticAuth, createGate } from '../../src/gate/index.js';
import type { QueryService } from '../../src/tablet/index.js';
import { tabletAliasString } from '../../src/topo/index.js';

const LOOKUP_SCHEMA = [
  'create table corder_lookup(order_id bigint not null primary key, keyspace_id varbinary(128) not null)',
  'create table customer_email_lookup(email varchar(64) not null, keyspace_id varbinary(128) not null, primary key(email, keyspace_id))',
  'create table corder_sku_lookup(sku varchar(64) not null primary key, keyspace_id varbinary(128) not null)',
].join(';');
const CUSTOMER_SCHEMA = [
  'create table customer(customer_id bigint not null primary key, email varchar(64))',
  'create table corder(order_id bigint not null primary key, customer_id bigint not null, sku varchar(64), price int)',
  'create table invoice(invoice_id bigint not null primary key, customer_id bigint not null, amount int)',
].join(';');
export const LOOKUP_VSCHEMA = { tables: { corder_lookup: {}, customer_email_lookup: {}, corder_sku_lookup: {} } };
export const CUSTOMER_VSCHEMA = {
  sharded: true,
  vindexes: {
    hash: { type: 'hash' },
    corder_order_id: { type: 'consistent_lookup_unique', params: { table: 'lookup.corder_lookup', from: 'order_id', to: 'keyspace_id' }, owner: 'corder' },
    customer_email: { type: 'consistent_lookup', params: { table: 'lookup.customer_email_lookup', from: 'email', to: 'keyspace_id', ignore_nulls: 'true' }, owner: 'customer' },
    corder_sku: { type: 'lookup_unique', params: { table: 'lookup.corder_sku_lookup', from: 'sku', to: 'keyspace_id', ignore_nulls: 'true' }, owner: 'corder' },
  },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }, { column: 'email', name: 'customer_email' }] },
    corder: {
      column_vindexes: [
        { column: 'customer_id', name: 'hash' },
        { column: 'order_id', name: 'corder_order_id' },
        { column: 'sku', name: 'corder_sku' },
      ],
    },
    invoice: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
  },
};

let c: TestCluster;
type Row = Record<string, unknown>;

async function q(conn: mysql.Connection, sql: string, params?: unknown[]): Promise<Row[]> {
  const [rows] = await conn.query(sql, params);
  return rows as Row[];
}

/** Each non-null value of a column on both shards, one per row, with the shard holding the row (`v@-80`). */
async function ownerRows(table: string, column: string): Promise<string[]> {
  const out: string[] = [];
  for (const shard of ['-80', '80-']) {
    for (const r of await c.shardRows('customer', shard, `select ${column} as v, customer_id from ${table} where ${column} is not null`)) out.push(`${String(r.v)}@${shard}`);
  }
  return out.sort();
}

/** Every lookup row, with the shard its keyspace id falls in. */
async function lookupRows(table: string, column: string): Promise<string[]> {
  const rows = await c.shardRows('lookup', '0', `select ${column} as v, hex(keyspace_id) as k from ${table}`);
  return rows.map((r) => `${String(r.v)}@${parseInt(String(r.k).slice(0, 2), 16) < 0x80 ? '-80' : '80-'}`).sort();
}

before(async () => {
  c = await startCluster({
    topo: 'file',
    keyspaces: [
      { name: 'lookup', shards: ['0'], schema: LOOKUP_SCHEMA, vschema: LOOKUP_VSCHEMA },
      { name: 'customer', shards: ['-80', '80-'], schema: CUSTOMER_SCHEMA, vschema: CUSTOMER_VSCHEMA },
    ],
  });
});

after(async () => {
  await c?.stop();
});

test('consistent_lookup_unique: reads by order_id go to one shard; a second shard cannot take an existing order_id (1062)', async () => {
  const conn = await c.connect('customer');
  try {
    // customer 1 hashes to -80, customer 4 to 80-.
    await q(conn, "insert into corder(order_id, customer_id, sku, price) values (1001, 1, 'sku-1001', 10), (1002, 4, 'sku-1002', 20)");
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1001@-80', '1002@80-']);
    const plan = JSON.parse(String((await q(conn, 'vexplain plan select price from corder where order_id = 1002'))[0].JSON)) as Row;
    assert.equal(plan.Variant, 'EqualUnique');
    assert.equal(plan.Vindex, 'corder_order_id');
    const log = await q(conn, 'vexplain queries select price from corder where order_id = 1002');
    assert.deepEqual(log.map((r) => [r.keyspace, r.shard]), [['lookup', '0'], ['customer', '80-']]);
    assert.match(String(log[0].query), /from corder_lookup where order_id in \(1002\)/i);
    assert.deepEqual(await q(conn, 'select price from corder where order_id = 1002'), [{ price: 20 }]);
    // IN goes to the shards its values' lookup rows name, each shard with only its own values.
    const inLog = await q(conn, 'vexplain queries select price from corder where order_id in (1001, 1002, 999)');
    assert.deepEqual(inLog.slice(1).map((r) => r.shard).sort(), ['-80', '80-']);
    assert.match(String(inLog.find((r) => r.shard === "-80")!.query), /in \(1001\)$/i);
    assert.deepEqual((await q(conn, 'select order_id from corder where order_id in (1001, 1002, 999) order by order_id')).map((r) => String(r.order_id)), ['1001', '1002']);

    // The same order_id for a customer on the other shard: MariaDB's 1062, naming the value.
    await assert.rejects(
      () => q(conn, "insert into corder(order_id, customer_id, sku, price) values (1001, 4, 'sku-x', 1)"),
      (e: { errno?: number; sqlState?: string; message: string }) => e.errno === 1062 && e.sqlState === '23000' && /Duplicate entry '1001' for key 'corder_order_id'/.test(e.message),
    );
    assert.deepEqual(await c.shardRows('customer', '80-', 'select order_id from corder where order_id = 1001'), []);
    // INSERT IGNORE leaves out the row whose order_id is taken, and inserts the others.
    const [ignored] = await conn.query("insert ignore into corder(order_id, customer_id, sku, price) values (1001, 4, 'sku-y', 1), (1003, 4, 'sku-1003', 3)");
    assert.equal((ignored as { affectedRows: number }).affectedRows, 1);
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1001@-80', '1002@80-', '1003@80-']);
    await q(conn, 'delete from corder where order_id = 1003');
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1001@-80', '1002@80-']);
    // The plain lookup_unique refuses a duplicate sku with MariaDB's own 1062 from the lookup table.
    await assert.rejects(() => q(conn, "insert into corder(order_id, customer_id, sku, price) values (1003, 4, 'sku-1001', 1)"), (e: { errno?: number; message: string }) => e.errno === 1062 && /sku-1001/.test(e.message));
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1001@-80', '1002@80-']);

    // Updating the owned column moves the lookup row; deleting removes it.
    await q(conn, 'update corder set order_id = 1005 where order_id = 1001');
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1002@80-', '1005@-80']);
    assert.deepEqual(await q(conn, 'select price from corder where order_id = 1005'), [{ price: 10 }]);
    await q(conn, "update corder set sku = 'sku-new' where order_id = 1002");
    assert.deepEqual(await lookupRows('corder_sku_lookup', 'sku'), ['sku-1001@-80', 'sku-new@80-']);
    await q(conn, 'delete from corder where order_id = 1002');
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1005@-80']);
    assert.deepEqual(await lookupRows('corder_sku_lookup', 'sku'), ['sku-1001@-80']);

    // An orphaned lookup row (its owner row never committed) is taken over by the next insert.
    await c.shardRows('lookup', '0', "insert into corder_lookup values (1010, unhex('0123456789abcdef'))");
    await q(conn, "insert into corder(order_id, customer_id, sku, price) values (1010, 4, null, 5)");
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1005@-80', '1010@80-']);
    assert.deepEqual(await q(conn, 'select price from corder where order_id = 1010'), [{ price: 5 }]);

    // In a transaction: a failed statement undoes its own lookup rows only.
    await q(conn, 'begin');
    await q(conn, "insert into corder(order_id, customer_id, sku, price) values (1020, 1, 'sku-1020', 1)");
    // The transaction reads its own lookup rows (a consistent lookup reads in its pre transaction).
    assert.deepEqual(await q(conn, 'select price from corder where order_id = 1020'), [{ price: 1 }]);
    await assert.rejects(() => q(conn, "insert into corder(order_id, customer_id, sku, price) values (1021, 4, 'sku-1020', 1)"), /1062|Duplicate/);
    await q(conn, 'commit');
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1005@-80', '1010@80-', '1020@-80']);
    await q(conn, 'begin');
    await q(conn, 'delete from corder where order_id = 1020');
    await q(conn, 'rollback');
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), ['1005@-80', '1010@80-', '1020@-80']);
    await q(conn, 'delete from corder');
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), []);
  } finally {
    await conn.end();
  }
});

test('consistent_lookup (non-unique) on customer.email: shared values, reads to the shards that hold them', async () => {
  const conn = await c.connect('customer');
  try {
    await q(conn, "insert into customer(customer_id, email) values (1, 'a@x'), (4, 'a@x'), (2, 'b@x'), (3, null)");
    assert.deepEqual(await lookupRows('customer_email_lookup', 'email'), ['a@x@-80', 'a@x@80-', 'b@x@-80']);
    const log = await q(conn, "vexplain queries select customer_id from customer where email = 'b@x'");
    assert.deepEqual(log.map((r) => [r.keyspace, r.shard]), [['lookup', '0'], ['customer', '-80']]);
    assert.deepEqual((await q(conn, "select customer_id from customer where email = 'a@x' order by customer_id")).map((r) => String(r.customer_id)), ['1', '4']);
    await q(conn, "update customer set email = 'c@x' where customer_id = 4");
    assert.deepEqual(await lookupRows('customer_email_lookup', 'email'), ['a@x@-80', 'b@x@-80', 'c@x@80-']);
    await q(conn, "delete from customer where email = 'a@x'");
    assert.deepEqual(await lookupRows('customer_email_lookup', 'email'), ['b@x@-80', 'c@x@80-']);
    assert.deepEqual(await ownerRows('customer', 'email'), ['b@x@-80', 'c@x@80-']);
    await q(conn, 'delete from customer');
  } finally {
    await conn.end();
  }
});

/** Random inserts, updates and deletes of corder and customer until `stop()` says so. */
async function randomWrites(conn: mysql.Connection, seed: number, ops: number, stop: () => boolean = () => false, progress: { ok: number } = { ok: 0 }): Promise<{ ok: number; dup: number; deadlocks: number }> {
  let x = seed;
  const rnd = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  let ok = 0;
  let dup = 0;
  let deadlocks = 0;
  for (let i = 0; i < ops && !stop(); i++) {
    const id = 1 + rnd(300);
    const cust = 1 + rnd(50);
    const k = rnd(10);
    let sql: string;
    if (k < 4) sql = `insert into corder(order_id, customer_id, sku, price) values (${id}, ${cust}, ${rnd(3) === 0 ? 'null' : `'s${rnd(400)}'`}, ${rnd(100)})`;
    else if (k < 5) sql = `update corder set order_id = ${1 + rnd(300)} where order_id = ${id}`;
    else if (k < 6) sql = `update corder set sku = 's${rnd(400)}', price = price + 1 where order_id = ${id}`;
    else if (k < 7) sql = `delete from corder where order_id = ${id}`;
    else if (k < 8) sql = `insert into customer(customer_id, email) values (${cust}, 'e${rnd(20)}@x')`;
    else if (k < 9) sql = `update customer set email = 'e${rnd(20)}@x' where customer_id = ${cust}`;
    else sql = `delete from customer where customer_id = ${cust}`;
    try {
      await conn.query(sql);
      ok++;
      progress.ok++;
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      // 1062: the value is taken; 1213: MariaDB chose this statement as a deadlock's victim (the
      // random writers lock the same rows in different orders), as it would without the gate.
      if (errno === 1062) dup++;
      else if (errno === 1213) deadlocks++;
      else throw e;
    }
  }
  return { ok, dup, deadlocks };
}

test('thousands of random inserts, updates and deletes leave each lookup table equal to its rows', async () => {
  const conns = await Promise.all([1, 2, 3, 4].map(() => c.connect('customer')));
  try {
    const settled = await Promise.allSettled(conns.map((conn, i) => randomWrites(conn, 7 + i * 31, 800)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const results = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof randomWrites>>>).value);
    const total = results.reduce((a, r) => a + r.ok + r.dup + r.deadlocks, 0);
    assert.equal(total, 3200);
    assert.ok(results.some((r) => r.dup > 0), 'some writes hit an existing value');
    assert.deepEqual(await lookupRows('corder_lookup', 'order_id'), await ownerRows('corder', 'order_id'));
    assert.deepEqual(await lookupRows('corder_sku_lookup', 'sku'), await ownerRows('corder', 'sku'));
    // One lookup row per customer row: two customers with one email have two keyspace ids, so two
    // rows even when both ids fall in the same shard (no de-duplication here).
    assert.deepEqual(await lookupRows('customer_email_lookup', 'email'), await ownerRows('customer', 'email'));
    // Every order is found through its lookup row.
    for (const r of (await ownerRows('corder', 'order_id')).slice(0, 20)) {
      const id = r.split('@')[0];
      assert.equal((await q(conns[0], `select order_id from corder where order_id = ${id}`)).length, 1);
    }
  } finally {
    await Promise.all(conns.map((x) => x.end()));
  }
});

test('after a gate is killed with SIGKILL mid-write, no row lacks its lookup row (orphans allowed)', async () => {
  const gate = startChild([
    'gate', '--port', '0', '--http-port', '0', '--cell', c.cell, '--tablet-types-to-wait', 'primary',
    '--topo-implementation', 'file', '--topo-global-server-address', c.topo.globalServerAddress, '--topo-global-root', '/tessera/global',
  ]);
  const m = await gate.waitFor(/gate listening on (\d+)/);
  const port = Number(m[1]);
  const conns = await Promise.all([1, 2, 3, 4].map(() => mysql.createConnection({ host: '127.0.0.1', port, user: 'vt_app', password: '', database: 'customer' })));
  for (const conn of conns) conn.on('error', () => undefined);
  let killed = false;
  const progress = { ok: 0 };
  const writers = conns.map((conn, i) => randomWrites(conn, 1000 + i * 17, 100_000, () => killed, progress).catch(() => 'cut'));
  await waitFor('writes through the gate process', async () => progress.ok >= 300, 60_000);
  killed = true;
  await gate.kill('SIGKILL');
  const ended = await Promise.all(writers);
  assert.ok(ended.some((e) => e === 'cut'), 'the gate died while statements were running');
  for (const conn of conns) conn.destroy();
  const missing = (owners: string[], lookups: string[]): string[] => {
    const have = new Set(lookups);
    return owners.filter((o) => !have.has(o));
  };
  assert.deepEqual(missing(await ownerRows('corder', 'order_id'), await lookupRows('corder_lookup', 'order_id')), []);
  assert.deepEqual(missing(await ownerRows('corder', 'sku'), await lookupRows('corder_sku_lookup', 'sku')), []);
  assert.deepEqual(missing(await ownerRows('customer', 'email'), await lookupRows('customer_email_lookup', 'email')), []);
});

test('LookupVindex create back-fills a table that has rows; externalize makes the gate route by it; cancel takes it out', async () => {
  const ctx: CtldContext = { topo: c.topo, tmc: new RpcTabletManagerClient(c.topo) };
  const run = (req: JsonObject) => WORKFLOW_COMMANDS.LookupVindex.run(ctx, { name: 'invoice_id_lookup', keyspace: 'customer', table_keyspace: 'lookup', ...req });
  const conn = await c.connect('customer');
  const plan = async (sql: string): Promise<Row> => JSON.parse(String((await q(conn, `vexplain plan ${sql}`))[0].JSON)) as Row;
  try {
    await q(conn, `insert into invoice(invoice_id, customer_id, amount) values ${Array.from({ length: 2500 }, (_, i) => `(${i + 1}, ${(i % 40) + 1}, ${i})`).join(', ')}`);
    const created = (await run({ action: 'create', type: 'consistent_lookup_unique', table_owner: 'invoice', table_owner_columns: ['invoice_id'] })) as JsonObject;
    assert.match(String(created.summary), /back-filled from 2500 rows of invoice/);
    assert.deepEqual(await lookupRows('invoice_id_lookup', 'invoice_id'), await ownerRows('invoice', 'invoice_id'));
    // The gate sees the write_only vindex: it maintains it, but does not route by it yet.
    await waitFor('the gate to see the write_only vindex', async () => (await plan('insert into invoice(invoice_id, customer_id, amount) values (1, 1, 1)')).OwnedLookups !== undefined, 10_000);
    assert.equal((await plan('select amount from invoice where invoice_id = 7')).Variant, 'Scatter');
    await q(conn, 'insert into invoice(invoice_id, customer_id, amount) values (3001, 4, 1)');
    await q(conn, 'delete from invoice where invoice_id = 2');
    assert.deepEqual(await lookupRows('invoice_id_lookup', 'invoice_id'), await ownerRows('invoice', 'invoice_id'));
    const shown = (await run({ action: 'show' })) as JsonObject;
    assert.equal(shown.lookup_rows, 2500);
    assert.equal(shown.owner_rows, 2500);
    assert.match(String(shown.state), /^write_only/);

    await run({ action: 'externalize' });
    await waitFor('the gate to route by the externalized vindex', async () => (await plan('select amount from invoice where invoice_id = 7')).Variant === 'EqualUnique', 10_000);
    const log = await q(conn, 'vexplain queries select amount from invoice where invoice_id = 3001');
    assert.deepEqual(log.map((r) => [r.keyspace, r.shard]), [['lookup', '0'], ['customer', '80-']]);
    await assert.rejects(() => q(conn, 'insert into invoice(invoice_id, customer_id, amount) values (3001, 1, 1)'), (e: { errno?: number; message: string }) => e.errno === 1062 && /'3001'/.test(e.message));

    await run({ action: 'cancel' });
    await waitFor('the gate to drop the cancelled vindex', async () => (await plan('select amount from invoice where invoice_id = 7')).Variant === 'Scatter', 10_000);
    await assert.rejects(() => run({ action: 'show' }), /has no vindex invoice_id_lookup/);
  } finally {
    await conn.end();
    ctx.tmc.close();
  }
});

test('a user allowed only the owner keyspace still writes and reads through lookups in another keyspace', async () => {
  const byAlias = new Map(c.shards.map((s) => [s.primary.alias, s.primary]));
  const gate = await createGate({
    topo: c.topo, cell: c.cell, mysql: { port: 0 }, http: null, tabletTypesToWait: ['primary'],
    auth: StaticAuth.fromJSON({ app: [{ Password: 'pw', Keyspaces: ['customer'] }] }),
    tabletConn: (t) => byAlias.get(tabletAliasString(t.alias))!.server as QueryService,
  });
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: gate.mysqlPort, user: 'app', password: 'pw', database: 'customer' });
  try {
    await q(conn, "insert into corder(order_id, customer_id, sku, price) values (5001, 4, 'sku-5001', 7)");
    assert.deepEqual(await q(conn, 'select price from corder where order_id = 5001'), [{ price: 7 }]);
    await q(conn, 'delete from corder where order_id = 5001');
    assert.deepEqual(await c.shardRows('lookup', '0', 'select order_id from corder_lookup where order_id = 5001'), []);
    await assert.rejects(() => q(conn, 'select * from lookup.corder_lookup'), (e: { errno?: number }) => e.errno === 1044);
  } finally {
    await conn.end();
    await gate.close();
  }
});
