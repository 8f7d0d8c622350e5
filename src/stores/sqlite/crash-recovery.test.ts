import { type CrashStoreSpec, defineCrashRecoveryTests } from "../sql/test-support/crash-scenario.js";
import { openSqliteStore } from "./index.js";
import { useTestDatabases } from "./test-support/harness.js";

const { newDatabasePath } = useTestDatabases("asm-sqlite-crash-");

defineCrashRecoveryTests(
  "SqliteSessionStore",
  (): CrashStoreSpec & { kind: "sqlite" } => ({ kind: "sqlite", path: newDatabasePath() }),
  ({ path }, options) => openSqliteStore({ path, ...options }),
);
