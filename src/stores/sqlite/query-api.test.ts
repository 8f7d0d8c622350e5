import Database from "better-sqlite3";
import { describe, it } from "vitest";
import { defineQueryConformance } from "../../testing/index.js";
import { defineRecoveryOnOpenTests, defineSchemaVersion2Tests } from "../test-support/durable-store-tests.js";
import { openSqliteStore } from "./index.js";
import { MIGRATIONS } from "./migrations.js";
import { openSqliteStoreWithMigrations } from "./sqlite-store.js";
import { useTestDatabases } from "./test-support/harness.js";

const { newDatabasePath, openAt, storePath } = useTestDatabases("asm-sqlite-query-");

defineQueryConformance(
  {
    name: "SqliteSessionStore",
    open: () => openAt({ path: newDatabasePath() }),
    openPeer: (store) => openAt({ path: storePath(store) }),
    execRaw: async (store, sql) => {
      // A connection of its own, with foreign keys off (better-sqlite3 turns them on by default).
      const db = new Database(storePath(store));
      try {
        db.pragma("foreign_keys = OFF");
        db.exec(sql);
      } finally {
        db.close();
      }
    },
  },
  { describe, it },
);

const reopen = {
  name: "SqliteSessionStore",
  storage: "database",
  newLocation: () => newDatabasePath(),
  open: (path: string, options: { recover?: false; autoMigrate?: true } = {}) =>
    openSqliteStore({ path, ...options }),
  openAtVersion1: (path: string) => openSqliteStoreWithMigrations({ path }, MIGRATIONS.slice(0, 1)),
};
defineRecoveryOnOpenTests(reopen);
defineSchemaVersion2Tests(reopen);
