import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { testRoot } from '../../harness/processes.js';
import { runSession, startCtld } from './session.js';

it('tessera ctl against tessera ctld on the file backend, surviving a ctld restart', async () => {
  const dir = mkdtempSync(join(testRoot(), 'ctld-file-'));
  await runSession(await startCtld('file', dir), () => startCtld('file', dir));
});
