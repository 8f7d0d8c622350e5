import pg from "pg";
import { describe, it } from "vitest";
import { defineQueryConformance } from "../../testing/index.js";
import { defineRecoveryOnOpenTests, defineSchemaVersion2Tests } from "../test-support/durable-store-tests.js";
import { MIGRATIONS } from "./migrations.js";
import { openPostgresStoreWithMigrations } from "./postgres-store.js";
import { adminQuery, TEST_DATABASE_URL } from "./test-support/database.js";
import { useTestSchemas } from "./test-support/harness.js";

const { newSchema, openIn, storeSchema, closeAndDrop } = useTestSchemas();

defineQueryConformance(
  {
    name: "PostgresSessionStore",
    open: () => openIn(newSchema("q")),
    close: closeAndDrop,
    openPeer: (store) => openIn(storeSchema(store)),
    execRaw: async (store, sql) => {
      // A connection of its own; as a replica, PostgreSQL fires no foreign-key triggers (nor cascades).
      await adminQuery(
        `SET search_path TO ${pg.escapeIdentifier(storeSchema(store))};
         SET session_replication_role = replica;
         ${sql}`,
      );
    },
  },
  { describe, it },
);

const reopen = {
  name: "PostgresSessionStore",
  storage: "schema",
  newLocation: newSchema,
  open: openIn,
  openAtVersion1: (schema: string) =>
    openPostgresStoreWithMigrations(
      { connectionString: TEST_DATABASE_URL, schema, recover: false },
      MIGRATIONS.slice(0, 1),
    ),
};
defineRecoveryOnOpenTests(reopen);
defineSchemaVersion2Tests(reopen);
