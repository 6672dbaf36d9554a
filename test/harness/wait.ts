// Polls `fn` until it answers true, failing with `what` after `timeoutMs`: for tests that wait on
// something another process moves forward (a stream's copy, a switch, replication).
export const WAIT_POLL_MS = 200;

export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
  throw new Error(`timed out waiting for ${what}`);
}
