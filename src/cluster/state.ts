// What a running `tessera up` leaves in its data root so that `tessera down` and `tessera status`
// can find it: the supervisor's pid and how to reach the topology.
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterMode, TopoBackend } from './config.js';

export type ProcessRole = 'etcd' | 'ctld' | 'gate' | 'tablet' | 'mariadb';

/** One process `up` started (or, in combined mode, one component of the supervisor itself). */
export interface ProcessRecord {
  readonly role: ProcessRole;
  /** `etcd`, `ctld`, `gate`, `gate-2`, `tablet-100`: its log is <data-root>/logs/<name>.log. */
  readonly name: string;
  readonly keyspace: string | null;
  readonly shard: string | null;
  /** The tablet alias (tablets and their MariaDB). */
  readonly alias: string | null;
  readonly pid: number | null;
  readonly ports: Readonly<Record<string, number>>;
  /** How many times the supervisor started it again after it exited (restartProcesses). */
  readonly restarts: number;
}

export interface UpState {
  readonly pid: number;
  readonly mode: ClusterMode;
  readonly clusterFile: string;
  readonly topo: { readonly implementation: TopoBackend; readonly address: string; readonly root: string };
  readonly gatePort: number;
  /** Every gate of the cluster file (the first is `gatePort`). Absent in a state from an older `up`. */
  readonly gates?: readonly { readonly name: string; readonly port: number; readonly httpPort: number }[];
  readonly dataRoot?: string;
  /** The processes `up` started, kept current as they start and restart. */
  readonly processes?: readonly ProcessRecord[];
  readonly ctldPort: number;
  readonly cell: string;
  readonly startedAt: string;
  readonly ready: boolean;
}

export const UP_STATE_FILE = 'tessera-up.json';

export function readUpState(dataRoot: string): UpState | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataRoot, UP_STATE_FILE), 'utf8')) as UpState;
  } catch {
    return null;
  }
}

export function writeUpState(dataRoot: string, s: UpState): void {
  const f = path.join(dataRoot, UP_STATE_FILE);
  fs.writeFileSync(`${f}.tmp`, JSON.stringify(s, null, 2));
  fs.renameSync(`${f}.tmp`, f);
}

export function removeUpState(dataRoot: string): void {
  fs.rmSync(path.join(dataRoot, UP_STATE_FILE), { force: true });
}

export function topoDir(dataRoot: string): string {
  return path.join(dataRoot, 'topo');
}
