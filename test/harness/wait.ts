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

/**
 * Runs `fn` until it does not throw, failing with `what` and its last error after `timeoutMs`: for
 * a step that fails while another process recovers (a gate restarting, a primary coming back).
 */
export async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
