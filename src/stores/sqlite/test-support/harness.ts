/**
 * A test file's throwaway databases, in a temporary directory removed after the file's tests;
 * each store opened through it is remembered with its path. Call at the top of a test file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openSqliteStore, type SqliteSessionStore, type SqliteStoreOptions } from "../index.js";

export interface DatabaseHarness {
  /** The temporary directory. */
  root: string;
  /** A path no database is at yet. */
  newDatabasePath(): string;
  /** Opens a store, remembering its path. */
  openAt(options: SqliteStoreOptions): Promise<SqliteSessionStore>;
  /** The path a store of `openAt` works on. */
  storePath(store: object): string;
}

/**
 * `prefix` names the temporary directory; with `nested`, every database is in a directory of its
 * own that does not exist yet (so the store's "create the parent directory" path runs too).
 */
export function useTestDatabases(prefix: string, { nested = false } = {}): DatabaseHarness {
  const root = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  let databases = 0;
  const pathOf = new WeakMap<object, string>();
  return {
    root,
    newDatabasePath() {
      databases += 1;
      return nested ? join(root, `db-${databases}`, "asm.db") : join(root, `db-${databases}.db`);
    },
    async openAt(options) {
      const store = await openSqliteStore(options);
      pathOf.set(store, options.path);
      return store;
    },
    storePath(store) {
      const path = pathOf.get(store);
      if (path === undefined) throw new Error("store not opened by this harness");
      return path;
    },
  };
}
