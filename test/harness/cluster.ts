// A whole cluster for tests: a topology (memory store, or the file backend), one MariaDB-backed
// tablet per shard (plus replicas replicating from the shard's primary), schemas and VSchemas
// applied, the serving graph built, and a gate in-process (combined mode) listening on a free
// port. Tablets are reached in-process by default, or over the network (`network: true`).
//
//   const c = await startCluster({ keyspaces: [{ name: 'commerce', shards: ['0'], schema, vschema }] });
//   const conn = await c.connect('commerce');       // mysql2 through the gate
//   await c.shardRows('customer', '-80', 'select …'); // straight to the shard primary's MariaDB
//   await c.stop();
import mysql from 'mysql2/promise';
import { createGate, type Gate, type GateOptions } from '../../src/gate/index.js';
import { TabletConn, type QueryService, type TabletProcess } from '../../src/tablet/index.js';
import { openTopoServer, tabletAliasString, type Json, type TopoServer } from '../../src/topo/index.js';
import { startTestTablet } from './tablet.js';
import { testRoot } from './processes.js';

export interface KeyspaceSpec {
  readonly name: string;
  /** Shard names: ['0'] for unsharded, ['-80', '80-'] … */
  readonly shards: readonly string[];
  /** DDL applied on every shard (statements separated by `;`). */
  readonly schema?: string;
  readonly vschema?: Json;
  /** Replica tablets per shard, replicating from the shard's primary. */
  readonly replicas?: number;
  /** The shards' database name (the tablets' --init-db-name-override); `vt_<keyspace>` by default. */
  readonly dbName?: string;
}

export interface ClusterOptions {
  readonly keyspaces: readonly KeyspaceSpec[];
  readonly cell?: string;
  /** Topology backend: a private memory store (default) or a directory under the test root. */
  readonly topo?: 'memory' | 'file';
  /** Gate options on top of the harness's; `false` starts no gate. */
  readonly gate?: Partial<GateOptions> | false;
  /** Reach tablets through TabletConn (RPC) instead of in-process. */
  readonly network?: boolean;
  readonly routingRules?: Json;
  readonly shardRoutingRules?: Json;
  /** Extra my.cnf settings for every tablet's MariaDB. */
  readonly mysqlConfig?: Readonly<Record<string, string>>;
}

export interface ClusterShard {
  readonly keyspace: string;
  readonly shard: string;
  readonly primary: TabletProcess;
  readonly replicas: TabletProcess[];
}

export interface TestCluster {
  readonly topo: TopoServer;
  /** The topology's global address (with `topo: 'file'`, a directory a ctld child process can open). */
  readonly topoAddress: string;
  readonly cell: string;
  readonly gate: Gate | null;
  readonly shards: readonly ClusterShard[];
  shard(keyspace: string, shard: string): ClusterShard;
  /** A mysql2 connection through the gate. */
  connect(database?: string, opts?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  /** Rows straight from a tablet's MariaDB (its keyspace database), as vt_dba. */
  shardRows(keyspace: string, shard: string, sql: string, which?: 'primary' | number): Promise<mysql.RowDataPacket[]>;
  /** The MariaDB address of a tablet. */
  mysqlAddress(t: TabletProcess): Promise<{ host: string; port: number }>;
  /** Waits until every replica has applied what its primary has now. */
  waitForReplicas(): Promise<void>;
  stop(): Promise<void>;
}

let clusterSeq = 0;

export async function startCluster(o: ClusterOptions): Promise<TestCluster> {
  const cell = o.cell ?? 'zone1';
  const topoAddress = o.topo === 'file' ? `${testRoot()}/topo-${process.pid}-${++clusterSeq}` : `cluster-${process.pid}-${++clusterSeq}`;
  const topo = openTopoServer({ topoImplementation: o.topo ?? 'memory', topoGlobalServerAddress: topoAddress, topoGlobalRoot: '/tessera/global' });
  await topo.createCellInfo(cell, {}).catch(() => undefined);
  const shards: ClusterShard[] = [];
  const all: TabletProcess[] = [];
  const addrOf = async (t: TabletProcess): Promise<{ host: string; port: number }> => {
    const rec = (await topo.getTablet({ cell, uid: Number(t.alias.split('-')[1]) })).value;
    return { host: rec.mysql_hostname || '127.0.0.1', port: rec.mysql_port };
  };
  try {
    // Start every tablet concurrently: MariaDB start-up dominates.
    const starts = o.keyspaces.flatMap((ks) =>
      ks.shards.map(async (shard) => {
        const primary = await startTestTablet({ cell, keyspace: ks.name, shard, tabletType: 'primary', topo, mysqlExtraConfig: o.mysqlConfig, dbNameOverride: ks.dbName });
        all.push(primary);
        const replicas = await Promise.all(
          Array.from({ length: ks.replicas ?? 0 }, async () => {
            const r = await startTestTablet({ cell, keyspace: ks.name, shard, tabletType: 'replica', topo, mysqlExtraConfig: o.mysqlConfig, dbNameOverride: ks.dbName });
            all.push(r);
            return r;
          }),
        );
        const src = await addrOf(primary);
        for (const r of replicas) await r.manager.replication.setSource({ host: src.host, port: src.port, semiSync: false });
        shards.push({ keyspace: ks.name, shard, primary, replicas });
      }),
    );
    await Promise.all(starts);
    for (const ks of o.keyspaces) {
      if (ks.schema) for (const s of shards.filter((x) => x.keyspace === ks.name)) await s.primary.manager.applySchema(ks.schema);
      if (ks.vschema !== undefined) await topo.saveVSchema(ks.name, ks.vschema);
      await topo.rebuildKeyspaceGraph(ks.name, { cells: [cell] });
    }
    if (o.routingRules !== undefined) await topo.saveRoutingRules(o.routingRules);
    if (o.shardRoutingRules !== undefined) await topo.saveShardRoutingRules(o.shardRoutingRules);
    await topo.rebuildVSchemaGraph({ cells: [cell] });
    for (const t of all) await t.manager.refreshState();
  } catch (err) {
    await Promise.all(all.map((t) => t.stop({ stopMysql: true }).catch(() => undefined)));
    await topo.close();
    throw err;
  }

  const byAlias = new Map(all.map((t) => [t.alias, t]));
  const conns: TabletConn[] = [];
  let gate: Gate | null = null;
  if (o.gate !== false) {
    try {
      gate = await createGate({
        topo,
        cell,
        tabletConn: (t) => {
          const alias = tabletAliasString(t.alias);
          if (o.network) {
            const c = new TabletConn(t.hostname, t.port_map.grpc ?? 0);
            conns.push(c);
            return c;
          }
          const p = byAlias.get(alias);
          if (!p) throw new Error(`cluster harness: no tablet ${alias}`);
          return p.server as QueryService;
        },
        mysql: { port: 0 },
        http: { port: 0 },
        tabletTypesToWait: ['primary'],
        waitTimeoutMs: 30_000,
        healthCheck: { topoRefreshMs: 500, retryDelayMs: 200 },
        ...(o.gate ?? {}),
      });
      // Every tablet the cluster has, healthy in the gate's eyes, before tests start.
      for (const s of shards) {
        if (s.replicas.length) await gate.health.waitFor([{ keyspace: s.keyspace, shard: s.shard }], ['replica'], 30_000);
      }
    } catch (err) {
      await gate?.close();
      await Promise.all(all.map((t) => t.stop({ stopMysql: true }).catch(() => undefined)));
      await topo.close();
      throw err;
    }
  }

  const cluster: TestCluster = {
    topo,
    topoAddress,
    cell,
    gate,
    shards,
    shard(keyspace, shard) {
      const s = shards.find((x) => x.keyspace === keyspace && x.shard === shard);
      if (!s) throw new Error(`cluster harness: no shard ${keyspace}/${shard}`);
      return s;
    },
    async connect(database, opts) {
      if (!gate) throw new Error('cluster harness: started without a gate');
      return mysql.createConnection({ host: '127.0.0.1', port: gate.mysqlPort, user: 'vt_app', password: '', database, supportBigNumbers: true, bigNumberStrings: true, ...opts });
    },
    async shardRows(keyspace, shard, sql, which = 'primary') {
      const s = cluster.shard(keyspace, shard);
      const t = which === 'primary' ? s.primary : s.replicas[which];
      // The socket when the tablet's MariaDB is local: no TCP, no name resolution on the server side.
      const where = t.mysqlctl ? { socketPath: t.mysqlctl.socket } : await addrOf(t);
      const c = await mysql.createConnection({ ...where, user: 'vt_dba', password: '', database: o.keyspaces.find((k) => k.name === keyspace)?.dbName ?? `vt_${keyspace}`, supportBigNumbers: true, bigNumberStrings: true });
      try {
        const [rows] = await c.query(sql);
        return rows as mysql.RowDataPacket[];
      } finally {
        await c.end();
      }
    },
    mysqlAddress: addrOf,
    async waitForReplicas() {
      for (const s of shards) {
        if (!s.replicas.length) continue;
        const [pos] = await cluster.shardRows(s.keyspace, s.shard, 'SELECT @@global.gtid_binlog_pos AS p');
        for (let i = 0; i < s.replicas.length; i++) {
          const [r] = await cluster.shardRows(s.keyspace, s.shard, `SELECT MASTER_GTID_WAIT('${String(pos.p)}', 30) AS w`, i);
          if (Number(r.w) !== 0) throw new Error(`replica ${s.replicas[i].alias} did not catch up with ${String(pos.p)}`);
        }
      }
    },
    async stop() {
      if (gate) await gate.close();
      for (const c of conns) c.close();
      await Promise.all(all.map((t) => t.stop({ stopMysql: true }).catch(() => undefined)));
      await topo.close();
    },
  };
  return cluster;
}
