import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { FileConn } from '../../../src/topo/index.js';
import { testRoot } from '../../harness/processes.js';
import { runConformance } from './conformance.js';

runConformance('file', async () => {
  const dir = mkdtempSync(join(testRoot(), 'file-topo-'));
  return {
    open: (root) => new FileConn(dir, root),
    ttlMs: 1000,
    shared: { impl: 'file', address: dir },
    teardown: async () => undefined,
  };
}, { processes: true });
