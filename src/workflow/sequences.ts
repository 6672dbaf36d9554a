// Sequences of moved tables (filled in below).
import { ER, TesseraError } from '../mysql/errors.js';
import type { TopoServer } from '../topo/index.js';
import type { WorkflowTabletCalls } from './types.js';

export async function initializeTargetSequences(_topo: TopoServer, _calls: WorkflowTabletCalls, keyspace: string, _tables: readonly string[]): Promise<void> {
  throw new TesseraError(ER.NOT_SUPPORTED_YET, `--initialize-target-sequences is not supported yet (keyspace ${keyspace})`);
}
