// The gate of a combined-mode cluster: in this process, reaching the tablets of this process through
// their in-process QueryService and any other tablet (added later with `tessera tablet`) over RPC.
import { createGate, StaticAuth, type Gate } from '../gate/index.js';
import { TabletConn, type QueryService, type TabletServer } from '../tablet/index.js';
import { tabletAliasString, type TopoServer } from '../topo/index.js';
import type { ClusterSpec, GateSpec } from './config.js';

export interface LocalGate {
  readonly gate: Gate;
  stop(): Promise<void>;
}

export async function startLocalGate(spec: ClusterSpec, g: GateSpec, topo: TopoServer, local: ReadonlyMap<string, TabletServer>): Promise<LocalGate> {
  const remote: TabletConn[] = [];
  const gate = await createGate({
    topo,
    cell: spec.cell,
    tabletConn: (t): QueryService => {
      const inProcess = local.get(tabletAliasString(t.alias));
      if (inProcess) return inProcess;
      const c = new TabletConn(t.hostname, t.port_map.grpc);
      remote.push(c);
      return c;
    },
    mysql: { host: '127.0.0.1', port: g.port },
    http: { host: '127.0.0.1', port: g.httpPort },
    auth: g.authFile ? StaticAuth.fromFile(g.authFile) : StaticAuth.none(),
    tabletTypesToWait: ['primary'],
    // As Vitess's local example runs vtgate: reparents and switches are invisible to clients.
    buffer: { enabled: true },
    enableShardRouting: g.enablePartialKeyspaceMigration,
    transactionMode: g.transactionMode === 'single' ? 'SINGLE' : 'MULTI',
  });
  return {
    gate,
    async stop() {
      await gate.close();
      for (const c of remote) c.close();
    },
  };
}
