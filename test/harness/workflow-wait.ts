// Waits for a workflow's copy phase to end, through the admin API's `status` action (MoveTables,
// Reshard and Workflow answer the same shape): every table copied and `streams` streams Running. A
// stream in Error ends the wait at once with its message.
import type { Json, JsonObject } from '../../src/topo/index.js';
import { waitFor } from './wait.js';

interface StatusAnswer {
  readonly table_copy_state: Record<string, unknown>;
  readonly shard_streams: Record<string, { readonly streams: readonly { readonly status: string; readonly info: string }[] }>;
}

/** `status(req)` runs the workflow command's status action (req has action and format set). */
export async function waitForCopied(what: string, status: (req: JsonObject) => Promise<Json>, streams: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(what, async () => {
    const st = (await status({ action: 'status', format: 'json' })) as unknown as StatusAnswer;
    const all = Object.values(st.shard_streams).flatMap((s) => s.streams);
    for (const s of all) if (s.status === 'Error') throw new Error(`${what}: a stream is in Error: ${s.info}`);
    return Object.keys(st.table_copy_state).length === 0 && all.length === streams && all.every((s) => s.status === 'Running');
  }, timeoutMs);
}
