import { type CrashStoreSpec, defineCrashRecoveryTests } from "../sql/test-support/crash-scenario.js";
import { openPostgresStore } from "./index.js";
import { TEST_DATABASE_URL } from "./test-support/database.js";
import { useTestSchemas } from "./test-support/harness.js";

const { newSchema } = useTestSchemas();

defineCrashRecoveryTests(
  "PostgresSessionStore",
  (): CrashStoreSpec & { kind: "postgres" } => ({
    kind: "postgres",
    connectionString: TEST_DATABASE_URL,
    schema: newSchema("crash"),
  }),
  ({ connectionString, schema }, options) => openPostgresStore({ connectionString, schema, ...options }),
);
