/** Bounded waits for tests: poll a condition instead of sleeping for correctness. */

/**
 * Resolves with the value of `check()` once it is neither `undefined` nor `false`, checking every
 * `intervalMs` (default 5 ms); throws `timed out waiting for <what>` after `limitMs` (default 10 s).
 * A check that reads processes or files can ask for a longer interval.
 */
export async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  limitMs = 10_000,
  intervalMs = 5,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
