import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CrashStoreSpec,
  crashWhileStreaming,
  expectRecoveredCrash,
  recoverFromProcesses,
} from "../sql/test-support/crash-scenario.js";
import { openPostgresStore } from "./index.js";
import { dropSchemas, requirePostgres, TEST_DATABASE_URL, uniqueSchema } from "./test-support/database.js";

const schemas = new Set<string>();
function newSpec(): CrashStoreSpec & { kind: "postgres" } {
  const schema = uniqueSchema("crash");
  schemas.add(schema);
  return { kind: "postgres", connectionString: TEST_DATABASE_URL, schema };
}

beforeAll(requirePostgres);
afterAll(() => dropSchemas(schemas));

describe("PostgresSessionStore after its process is killed mid-run", () => {
  it("reopens with every acknowledged event, the run failed for its dead owner, one run_failed", async () => {
    const spec = newSpec();
    const crash = await crashWhileStreaming(spec);
    const store = await openPostgresStore({ connectionString: spec.connectionString, schema: spec.schema });
    try {
      await expectRecoveredCrash(store, crash);
    } finally {
      await store.close();
    }
  });

  it("fails the run exactly once when two processes recover it at the same moment", async () => {
    const spec = newSpec();
    const crash = await crashWhileStreaming(spec);
    const reports = await recoverFromProcesses(spec, 2);
    const runId = crash.acknowledged.find((event) => event.runId !== undefined)?.runId;
    expect(reports.flatMap(({ recoveredRunIds }) => recoveredRunIds)).toEqual([runId]);
    const store = await openPostgresStore({
      connectionString: spec.connectionString,
      schema: spec.schema,
      recover: false,
    });
    try {
      await expectRecoveredCrash(store, crash);
    } finally {
      await store.close();
    }
  });
});
