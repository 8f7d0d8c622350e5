import type { TestFramework } from "./session-store-conformance.js";

/**
 * The conformance suites' test case: `it(name)` opens a fresh store, runs `body` on it and
 * disposes of the store whatever happened.
 */
export function storeCase<Store>(
  it: TestFramework["it"],
  open: () => Promise<Store>,
  dispose: (store: Store) => Promise<void>,
): (name: string, body: (store: Store) => Promise<void>) => void {
  return (name, body) => {
    it(name, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await dispose(store);
      }
    });
  };
}
