import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import { type DurableSessionStore, defineQueryConformance } from "../../testing/index.js";
import { openSqliteStore, type SqliteStoreOptions } from "./index.js";
import { MIGRATIONS } from "./migrations.js";
import { openSqliteStoreWithMigrations } from "./sqlite-store.js";

const root = mkdtempSync(join(tmpdir(), "asm-sqlite-query-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let databases = 0;
function newDatabasePath(): string {
  databases += 1;
  return join(root, `db-${databases}.db`);
}

const pathOf = new WeakMap<DurableSessionStore, string>();
async function openAt(options: SqliteStoreOptions): Promise<DurableSessionStore> {
  const store = await openSqliteStore(options);
  pathOf.set(store, options.path);
  return store;
}
function storePath(store: DurableSessionStore): string {
  const path = pathOf.get(store);
  if (path === undefined) throw new Error("store not opened by this harness");
  return path;
}

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

describe("SqliteSessionStore recovery on open", () => {
  it("fails the runs of dead owners when it opens, unless recover is false", async () => {
    const path = newDatabasePath();
    const first = await openSqliteStore({ path });
    await first.saveSession(session("ses_crashed"));
    await first.saveRun(runningRun("run_orphan", "ses_crashed"));
    await first.close();

    const untouched = await openSqliteStore({ path, recover: false });
    expect((await untouched.getRun("run_orphan")).status).toBe("running");
    await untouched.close();

    const recovered = await openSqliteStore({ path });
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

describe("SqliteSessionStore schema version 2 (pruned_events)", () => {
  it("migrates a version 1 database, whose sessions then check healthy and prune normally", async () => {
    const path = newDatabasePath();
    const old = await openSqliteStoreWithMigrations({ path }, MIGRATIONS.slice(0, 1));
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
    await expect(openSqliteStore({ path })).rejects.toMatchObject({ code: "migration_required" });

    const store = await openSqliteStore({ path, autoMigrate: true });
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
