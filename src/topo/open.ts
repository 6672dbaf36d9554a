// Opening a topology from flags. The backends are one explicit map; nothing registers itself on
// import.
import type { Command } from 'commander';
import type { Conn } from './conn.js';
import { EtcdConn } from './etcd.js';
import { topoError } from './errors.js';
import { FileConn } from './file.js';
import { openMemoryConn } from './memory.js';
import { TopoServer, type TopoServerOptions } from './server.js';

export const TOPO_IMPLEMENTATIONS = {
  memory: (serverAddress: string, root: string): Conn => openMemoryConn(serverAddress, root),
  file: (serverAddress: string, root: string): Conn => new FileConn(serverAddress, root),
  etcd: (serverAddress: string, root: string): Conn => new EtcdConn(serverAddress, root),
} as const;

export type TopoImplementation = keyof typeof TOPO_IMPLEMENTATIONS;

export interface TopoFlags {
  /** `file` (default), `etcd` or `memory`. */
  readonly topoImplementation: string;
  /** file: a directory; etcd: host:port[,host:port...]; memory: any name (one store per name). */
  readonly topoGlobalServerAddress: string;
  /** The global topology's root inside that store. */
  readonly topoGlobalRoot: string;
}

export const TOPO_FLAG_DEFAULTS = {
  topoImplementation: 'file',
  topoGlobalRoot: '/tessera/global',
} as const;

/** Opens one conn; BAD_ARGUMENT for an unknown implementation. */
export function openConn(implementation: string, serverAddress: string, root: string): Conn {
  if (!Object.hasOwn(TOPO_IMPLEMENTATIONS, implementation)) {
    throw topoError('BAD_ARGUMENT', `unknown topo implementation '${implementation}' (want one of ${Object.keys(TOPO_IMPLEMENTATIONS).join(', ')})`);
  }
  return TOPO_IMPLEMENTATIONS[implementation as TopoImplementation](serverAddress, root);
}

/** The typed topology server over the global topology the flags name. */
export function openTopoServer(flags: TopoFlags, options: Partial<TopoServerOptions> = {}): TopoServer {
  if (flags.topoGlobalServerAddress === '') throw topoError('BAD_ARGUMENT', '--topo-global-server-address is required');
  const global = openConn(flags.topoImplementation, flags.topoGlobalServerAddress, flags.topoGlobalRoot);
  return new TopoServer(global, (addr, root) => openConn(flags.topoImplementation, addr, root), flags.topoGlobalServerAddress, options);
}

/**
 * Adds `--topo-implementation`, `--topo-global-server-address` and `--topo-global-root` to a
 * command, so every process (ctld, gate, tablet) spells them alike. Underscored and single-dash
 * spellings are handled by the CLI's argv normaliser.
 */
export function addTopoFlags(cmd: Command): Command {
  return cmd
    .option('--topo-implementation <impl>', `topology backend: ${Object.keys(TOPO_IMPLEMENTATIONS).join(', ')}`, TOPO_FLAG_DEFAULTS.topoImplementation)
    .option(
      '--topo-global-server-address <address>',
      'global topology: a directory (file), host:port[,host:port] (etcd) or a store name (memory)',
      process.env.TESSERA_TOPO_GLOBAL_SERVER_ADDRESS ?? '',
    )
    .option('--topo-global-root <path>', 'root of the global topology inside the store', TOPO_FLAG_DEFAULTS.topoGlobalRoot);
}
