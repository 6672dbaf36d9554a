// The keyspace the gate's transaction tests share: `ks`, in two shards (-80, 80-) by `hash` on
// `id`, with one table t(id, v). hash puts ids 1, 2, 3, 5, 9 and 10 in -80, and 4, 6, 7 and 8 in 80-.
import { startCluster, type TestCluster } from '../../harness/cluster.js';

export const SCHEMA = 'create table t(id bigint not null primary key, v int not null) ENGINE=InnoDB';

export function startTwoShards(): Promise<TestCluster> {
  return startCluster({
    keyspaces: [{
      name: 'ks', shards: ['-80', '80-'], schema: SCHEMA,
      vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
    }],
  });
}

/** Every row of t, id → v, read on both shards' MariaDB directly. */
export async function shardValues(c: TestCluster): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (const shard of ['-80', '80-']) {
    for (const r of await c.shardRows('ks', shard, 'select id, v from t')) out[Number(r.id)] = Number(r.v);
  }
  return out;
}
