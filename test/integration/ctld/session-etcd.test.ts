import { it } from 'node:test';
import { startEtcd } from '../topo/etcd-server.js';
import { runSession, startCtld } from './session.js';

it('tessera ctl against tessera ctld on etcd', async () => {
  const etcd = await startEtcd();
  try {
    await runSession(await startCtld('etcd', etcd.address), () => startCtld('etcd', etcd.address));
  } finally {
    await etcd.stop();
  }
});
