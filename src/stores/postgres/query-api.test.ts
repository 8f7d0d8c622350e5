import { hostname } from "node:os";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import { type DurableSessionStore, defineQueryConformance } from "../../testing/index.js";
import { openPostgresStore, type PostgresStoreOptions } from "./index.js";
import { MIGRATIONS } from "./migrations.js";
import { openPostgresStoreWithMigrations } from "./postgres-store.js";
import {
  adminQuery,
  dropSchemas,
  requirePostgres,
  TEST_DATABASE_URL,
  uniqueSchema,
} from "./test-support/database.js";

const schemas = new Set<string>();
function newSchema(label: string): string {
  const schema = uniqueSchema(label);
  schemas.add(schema);
  return schema;
}

beforeAll(requirePostgres);
afterAll(() => dropSchemas(schemas));

const schemaOf = new WeakMap<DurableSessionStore, string>();
async function openIn(
  schema: string,
  options: Partial<PostgresStoreOptions> = {},
): Promise<DurableSessionStore> {
  const store = await openPostgresStore({ connectionString: TEST_DATABASE_URL, schema, ...options });
  schemaOf.set(store, schema);
  return store;
}
function storeSchema(store: DurableSessionStore): string {
  const schema = schemaOf.get(store);
  if (schema === undefined) throw new Error("store not opened by this harness");
  return schema;
}

defineQueryConformance(
  {
    name: "PostgresSessionStore",
    open: () => openIn(newSchema("q")),
    close: async (store) => {
      await store.close();
      const schema = storeSchema(store);
      await dropSchemas([schema]);
      schemas.delete(schema);
    },
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

const NOW = "2025-01-01T00:00:00.000Z";
const session = (id: string): Session => ({
  id,
  agentId: "agent",
  status: "active",
  metadata: {},
  context: {},
  tags: [],
  createdAt: NOW,
  updatedAt: NOW,
});
const runningRun = (id: string, sessionId: string): Run => ({
  id,
  sessionId,
  status: "running",
  input: { prompt: "hi" },
  metadata: {},
  turnCount: 0,
  tokenUsage: { inputTokens: 0, outputTokens: 0 },
  costUsd: null,
  providerMetadata: {},
  // A pid no process can have (above the kernel's pid_max), on this host: its owner is dead.
  owner: { hostname: hostname(), pid: 2 ** 30 },
  createdAt: NOW,
  startedAt: NOW,
});

describe("PostgresSessionStore recovery on open", () => {
  it("fails the runs of dead owners when it opens, unless recover is false", async () => {
    const schema = newSchema("recover");
    const first = await openIn(schema);
    await first.saveSession(session("ses_crashed"));
    await first.saveRun(runningRun("run_orphan", "ses_crashed"));
    await first.close();

    const untouched = await openIn(schema, { recover: false });
    expect((await untouched.getRun("run_orphan")).status).toBe("running");
    await untouched.close();

    const recovered = await openIn(schema);
    try {
      const run = await recovered.getRun("run_orphan");
      expect(run.status).toBe("failed");
      expect(run.error?.message).toBe(
        `the process executing this run (pid ${2 ** 30} on host ${hostname()}) exited before the run ended`,
      );
      const events = await recovered.getEvents("ses_crashed");
      expect(events.map(({ type, runId }) => [type, runId])).toEqual([["run_failed", "run_orphan"]]);
    } finally {
      await recovered.close();
    }
  });
});

describe("PostgresSessionStore schema version 2 (pruned_events)", () => {
  it("migrates a version 1 schema, whose sessions then check healthy and prune normally", async () => {
    const schema = newSchema("v1");
    const old = await openPostgresStoreWithMigrations(
      { connectionString: TEST_DATABASE_URL, schema, recover: false },
      MIGRATIONS.slice(0, 1),
    );
    await old.saveSession(session("ses_v1"));
    for (const id of ["evt_1", "evt_2", "evt_3"]) {
      await old.appendEvent({
        id,
        type: "message_streamed",
        sessionId: "ses_v1",
        timestamp: NOW,
        data: { delta: id },
        metadata: {},
      });
    }
    await old.close();
    await expect(openIn(schema)).rejects.toMatchObject({ code: "migration_required" });

    const store = await openIn(schema, { autoMigrate: true });
    try {
      expect(await store.maintenance.healthCheck()).toMatchObject({ ok: true, issues: [] });
      const report = await store.maintenance.applyRetention({
        pruneEvents: { types: ["message_streamed"], keepLast: 1 },
      });
      expect(report.eventsPruned).toBe(2);
      expect(await store.maintenance.healthCheck()).toMatchObject({ ok: true, issues: [] });
      expect((await store.getEvents("ses_v1")).map(({ sequence }) => sequence)).toEqual([3]);
    } finally {
      await store.close();
    }
  });
});
