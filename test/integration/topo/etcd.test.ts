import { EtcdConn } from '../../../src/topo/index.js';
import { runConformance } from './conformance.js';
import { startEtcd } from './etcd-server.js';

runConformance('etcd', async () => {
  const etcd = await startEtcd();
  return {
    open: (root) => new EtcdConn(etcd.address, root),
    ttlMs: 2000,
    shared: { impl: 'etcd', address: etcd.address },
    teardown: () => etcd.stop(),
  };
}, { processes: true });
