// Seeded randomness and sizes from the environment for tests that pick kill points at random:
// the seed is printed, and TESSERA_TEST_SEED repeats a run.

/** A deterministic generator of numbers in [0, 1) (a linear congruential one; tests only). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** An integer from the environment, or `dflt` when unset or empty. */
export function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
}

/** TESSERA_TEST_SEED, or one taken from the clock. */
export function testSeed(): number {
  return envInt('TESSERA_TEST_SEED', Date.now() % 1_000_000);
}
