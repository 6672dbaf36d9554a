// `tessera ctld`: the admin API server on a topology.
import { Command } from 'commander';
import { CTLD_SERVER_DEFAULTS, FAILOVER_WATCHER_DEFAULTS, startCtldServer } from '../ctld/index.js';
import { logger } from '../log/index.js';
import { RpcTabletManagerClient } from '../tablet/index.js';
import { addTopoFlags, openTopoServer, type TopoFlags } from '../topo/index.js';
import { parseIntFlag } from './flags.js';

const log = logger('ctld');

export function registerCtld(program: Command): void {
  const cmd = program
    .command('ctld')
    .description('the admin API (HTTP+JSON) for tessera ctl and the web UI, on the cluster topology');
  addTopoFlags(cmd)
    .option('--port <port>', 'HTTP port', parseIntFlag('--port'), CTLD_SERVER_DEFAULTS.port)
    .option('--grpc-port <port>', 'second port serving the same API, where Vitess clients expect vtctld (0 = none)', parseIntFlag('--grpc-port'), CTLD_SERVER_DEFAULTS.grpcPort ?? 0)
    .option('--bind-address <addr>', 'address to listen on', CTLD_SERVER_DEFAULTS.host)
    .option('--no-failover-watcher', "do not run EmergencyReparentShard when a primary's tablet reports that its MariaDB does not start again")
    .option('--failover-watch-interval <ms>', "how often the failover watcher reads every shard's primary's health", parseIntFlag('--failover-watch-interval'), FAILOVER_WATCHER_DEFAULTS.intervalMs)
    .action(async (o: TopoFlags & { port: number; grpcPort: number; bindAddress: string; failoverWatcher: boolean; failoverWatchInterval: number }) => {
      const topo = openTopoServer(o);
      // Tablets are other processes: their managers are reached over RPC, a pooled connection each.
      const tmc = new RpcTabletManagerClient(topo);
      const server = await startCtldServer({ topo, tmc }, {
        port: o.port,
        grpcPort: o.grpcPort === 0 ? null : o.grpcPort,
        host: o.bindAddress,
        failoverWatcher: { enabled: o.failoverWatcher, intervalMs: o.failoverWatchInterval },
      });
      // Machine-readable readiness line on stdout (tests and `tessera up` wait for it).
      process.stdout.write(`ctld listening on ${server.ports.join(' ')}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      log.info('ctld shutting down');
      await server.close();
      tmc.close();
      await topo.close();
    });
}
