import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventDraft } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import { saved, savedRun } from "../../testing/fixtures.js";
import type { DurableSessionStore } from "../../testing/index.js";
import { openPostgresStore } from "../postgres/index.js";
import {
  dropSchemas,
  requirePostgres,
  TEST_DATABASE_URL,
  uniqueSchema,
} from "../postgres/test-support/database.js";
import { openSqliteStore } from "../sqlite/index.js";

/** Exports move sessions between the two SQL stores exactly: same domain objects on both sides. */

const root = mkdtempSync(join(tmpdir(), "asm-cross-store-"));
const schemas = new Set<string>();
beforeAll(requirePostgres);
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await dropSchemas(schemas);
});

let opened = 0;
async function openBoth(): Promise<{ sqlite: DurableSessionStore; postgres: DurableSessionStore }> {
  opened += 1;
  const schema = uniqueSchema("cross");
  schemas.add(schema);
  const sqlite = await openSqliteStore({ path: join(root, `cross-${opened}.db`) });
  try {
    return { sqlite, postgres: await openPostgresStore({ connectionString: TEST_DATABASE_URL, schema }) };
  } catch (error) {
    await sqlite.close();
    throw error;
  }
}

const at = (ms: number): string => new Date(Date.parse("2025-03-04T05:06:07.000Z") + ms).toISOString();

/** A session using every field, with runs and a log that retention pruned (so it has gaps). */
async function seed(store: DurableSessionStore, prefix: string): Promise<string> {
  const session: Session = {
    id: `ses_${prefix}`,
    agentId: "agent-ü",
    status: "completed",
    parentSessionId: "ses_parent",
    metadata: { nested: { list: [1, 2.5, null, "three"], flag: false }, "key with spaces": "ok" },
    context: { cwd: "/work", emoji: "🚀" },
    tags: ["pinned", 'quote"d'],
    createdAt: at(0),
    updatedAt: at(9000),
  };
  await saved(store, session);
  const failed: Run = {
    id: `run_${prefix}_1`,
    sessionId: session.id,
    status: "failed",
    input: { prompt: "fix", messages: [{ role: "user", content: "please" }], command: ["ls"] },
    error: {
      code: "provider_error",
      message: "exit 2",
      details: { exitCode: 2 },
      providerError: { provider: "shell", kind: "transport_exit", message: "exit 2", exitCode: 2 },
      hint: "retry",
    },
    metadata: { attempt: 1 },
    turnCount: 2,
    tokenUsage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 3, reasoningTokens: 1 },
    costUsd: 0.015625,
    provider: "shell",
    providerMetadata: { model: "m-1" },
    owner: { hostname: "box", pid: 12 },
    createdAt: at(100),
    startedAt: at(110),
    endedAt: at(900),
  };
  const completed: Run = {
    id: `run_${prefix}_2`,
    sessionId: session.id,
    status: "completed",
    input: { prompt: "again" },
    output: { content: "done", files: ["a.ts"] },
    metadata: {},
    turnCount: 1,
    tokenUsage: { inputTokens: 1, outputTokens: 1 },
    costUsd: null,
    providerMetadata: {},
    createdAt: at(1000),
    startedAt: at(1001),
    endedAt: at(2000),
  };
  await savedRun(store, failed);
  await savedRun(store, completed);
  const event = (index: number, fields: Partial<EventDraft>): EventDraft =>
    ({
      id: `evt_${prefix}_${index}`,
      type: "message_streamed",
      sessionId: session.id,
      timestamp: at(200 + index),
      data: { delta: `part ${index}` },
      metadata: {},
      ...fields,
    }) as EventDraft;
  await store.appendEvents([
    event(1, { type: "run_started", runId: failed.id, provider: "shell", data: { model: "m-1" } }),
    event(2, { runId: failed.id, provider: "shell" }),
    event(3, { runId: failed.id, provider: "shell", metadata: { redactions: 1 } }),
    event(4, { runId: failed.id, provider: "shell" }),
    event(5, {
      type: "workspace_diff_computed",
      data: { filesChanged: 1, insertions: 1, deletions: 0, hasPatch: true, patchRef: `patches/${prefix}` },
    }),
    event(6, {
      type: "run_failed",
      runId: failed.id,
      provider: "shell",
      data: { errorCode: "provider_error", errorMessage: "exit 2" },
    }),
    event(7, { runId: completed.id }),
  ]);
  await store.maintenance.applyRetention({ pruneEvents: { types: ["message_streamed"], keepLast: 1 } });
  return session.id;
}

async function expectSameSession(
  from: DurableSessionStore,
  to: DurableSessionStore,
  sessionId: string,
): Promise<void> {
  const exported = await from.query.exportSession(sessionId);
  expect(exported.events.map(({ sequence }) => sequence)).toEqual([1, 5, 6, 7]);
  expect(await to.query.importSession(exported)).toEqual({ sessionId });

  const again = await to.query.exportSession(sessionId);
  expect({ ...again, exportedAt: exported.exportedAt }).toEqual(exported);
  expect(await to.getSession(sessionId)).toEqual(await from.getSession(sessionId));
  expect(await to.listRuns(sessionId)).toEqual(await from.listRuns(sessionId));
  expect(await to.getEvents(sessionId)).toEqual(await from.getEvents(sessionId));
  expect(await to.query.getSessionStats(sessionId)).toEqual(await from.query.getSessionStats(sessionId));
  expect(await to.maintenance.healthCheck()).toMatchObject({ ok: true, issues: [] });
  const next = await to.appendEvent({
    id: `evt_next_${sessionId}`,
    type: "message_streamed",
    sessionId,
    timestamp: at(5000),
    data: { delta: "next" },
    metadata: {},
  });
  expect(next.sequence, "appends go on after the imported highest sequence").toBe(8);
}

describe("export from one SQL store, import into the other", () => {
  it("moves a session from SQLite to PostgreSQL exactly", async () => {
    const { sqlite, postgres } = await openBoth();
    try {
      await expectSameSession(sqlite, postgres, await seed(sqlite, "lite"));
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });

  it("moves a session from PostgreSQL to SQLite exactly", async () => {
    const { sqlite, postgres } = await openBoth();
    try {
      await expectSameSession(postgres, sqlite, await seed(postgres, "pg"));
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });
});
