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
 * waitFor for the moments after a fault: a predicate that throws (a tablet whose MariaDB is still
 * restarting, a ctld not yet listening) counts as "not yet", and the last error is in the message
 * if the wait times out, so only a fault that does not heal fails.
 */
export async function waitSettled(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  let last: Error | null = null;
  await waitFor(what, async () => {
    try {
      return await fn();
    } catch (err) {
      last = err as Error;
      return false;
    }
  }, timeoutMs).catch((err: Error) => {
    throw new Error(last ? `${err.message} (last error: ${(last as Error).message})` : err.message);
  });
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
