import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { savedRun } from "../../testing/fixtures.js";
import { defineSessionStoreConformance } from "../../testing/index.js";
import { event, expectCode, NOW, session } from "../test-support/fixtures.js";
import { runWorker } from "../test-support/workers.js";
import { openSqliteStore } from "./index.js";
import { MIGRATIONS, type Migration } from "./migrations.js";
import { openSqliteStoreWithMigrations } from "./sqlite-store.js";
import { useTestDatabases } from "./test-support/harness.js";

const { root, newDatabasePath, openAt, storePath } = useTestDatabases("asm-sqlite-store-", { nested: true });

const appendWorker = new URL("./test-support/append-worker.ts", import.meta.url);
let workers = 0;

defineSessionStoreConformance(
  {
    name: "SqliteSessionStore",
    open: () => openAt({ path: newDatabasePath() }),
    openPeer: (store) => openAt({ path: storePath(store) }),
    appendFromOtherProcess: async ({ store, sessionId, count, idPrefix }) => {
      workers += 1;
      const prefix = idPrefix ?? `worker${workers}`;
      await runWorker(appendWorker, [storePath(store), sessionId, String(count), prefix]);
    },
  },
  { describe, it },
);

function userVersion(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.pragma("user_version", { simple: true }));
  } finally {
    db.close();
  }
}

function tableNames(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

describe("SqliteSessionStore schema versions", () => {
  // Relative to the latest version, so these cases outlive the next real migration.
  const current = MIGRATIONS.length;
  const next = current + 1;
  const fakeNext: Migration = {
    version: next,
    description: "test-only: a later release's table",
    up: "CREATE TABLE later_feature (id TEXT PRIMARY KEY) STRICT;",
  };
  const withNext = [...MIGRATIONS, fakeNext];

  /** A database at the current schema version holding one session with one event. */
  async function currentDatabase(): Promise<string> {
    const path = newDatabasePath();
    const store = await openSqliteStore({ path });
    await store.saveSession(session("ses_old"));
    await store.appendEvent(event("ses_old", "evt_old"));
    await store.close();
    return path;
  }

  it("initializes a new, empty database silently at the latest version", async () => {
    const path = newDatabasePath();
    const store = await openSqliteStore({ path });
    await store.close();
    expect(userVersion(path)).toBe(MIGRATIONS.length);
    expect(tableNames(path)).toEqual(["events", "runs", "sessions"]);
  });

  it("refuses an older schema with migration_required and leaves it untouched", async () => {
    const path = await currentDatabase();
    const error = await expectCode(openSqliteStoreWithMigrations({ path }, withNext), "migration_required");
    expect(error.details).toMatchObject({
      currentVersion: current,
      targetVersion: next,
      direction: "upgrade",
    });
    expect(error.hint).toContain("autoMigrate");
    expect(userVersion(path)).toBe(current);
    expect(tableNames(path)).not.toContain("later_feature");
  });

  it("migrates an older schema with autoMigrate, keeping the data", async () => {
    const path = await currentDatabase();
    const store = await openSqliteStoreWithMigrations({ path, autoMigrate: true }, withNext);
    try {
      expect(userVersion(path)).toBe(next);
      expect(tableNames(path)).toContain("later_feature");
      expect(await store.getSession("ses_old")).toEqual(session("ses_old"));
      expect((await store.appendEvent(event("ses_old", "evt_new"))).sequence).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("applies all pending migrations or none", async () => {
    const path = await currentDatabase();
    const failing: Migration = {
      version: next,
      description: "test-only: fails halfway",
      up: "CREATE TABLE half_done (id TEXT); CREATE TABLE sessions (id TEXT);",
    };
    await expectCode(
      openSqliteStoreWithMigrations({ path, autoMigrate: true }, [...MIGRATIONS, failing]),
      "storage_error",
    );
    expect(userVersion(path)).toBe(current);
    expect(tableNames(path)).not.toContain("half_done");
  });

  it("refuses a newer schema as a downgrade, even with autoMigrate", async () => {
    const path = await currentDatabase();
    await (await openSqliteStoreWithMigrations({ path, autoMigrate: true }, withNext)).close();
    const error = await expectCode(openSqliteStore({ path, autoMigrate: true }), "migration_required");
    expect(error.details).toMatchObject({
      currentVersion: next,
      targetVersion: current,
      direction: "downgrade",
    });
    expect(error.hint).toMatch(/upgrade/i);
    expect(userVersion(path)).toBe(next);
  });

  it("treats an unversioned database that has tables as one needing migration", async () => {
    const path = newDatabasePath();
    mkdirSync(join(path, ".."), { recursive: true });
    const db = new Database(path);
    db.exec("CREATE TABLE someone_elses (id INTEGER)");
    db.close();
    const error = await expectCode(openSqliteStore({ path }), "migration_required");
    expect(error.details).toMatchObject({ currentVersion: 0, direction: "upgrade" });
    await (await openSqliteStore({ path, autoMigrate: true })).close();
    expect(tableNames(path)).toEqual(["events", "runs", "sessions", "someone_elses"]);
  });
});

describe("SqliteSessionStore storage failures", () => {
  it("reports a file that is not a database as storage_corrupt, naming it, and leaves it alone", async () => {
    const path = join(root, "not-a-database.db");
    writeFileSync(path, "not a database\n".repeat(100));
    const error = await expectCode(openSqliteStore({ path }), "storage_corrupt");
    expect(error.hint).toContain(path);
    expect(error.details).toMatchObject({ path, sqliteCode: "SQLITE_NOTADB" });
    expect(readFileSync(path, "utf8")).toBe("not a database\n".repeat(100));
  });

  it("reports a path it cannot open as storage_connection_failed", async () => {
    const directory = join(root, "a-directory");
    mkdirSync(directory, { recursive: true });
    await expectCode(openSqliteStore({ path: directory }), "storage_connection_failed");
  });

  it("rejects bad options with validation_error", async () => {
    await expectCode(openSqliteStore({ path: "" }), "validation_error");
    await expectCode(openSqliteStore({ path: newDatabasePath(), busyTimeoutMs: -1 }), "validation_error");
  });

  it("reports a lock held past busyTimeoutMs as storage_busy, losing nothing", async () => {
    const path = newDatabasePath();
    const store = await openSqliteStore({ path, busyTimeoutMs: 50 });
    const locker = new Database(path);
    try {
      await store.saveSession(session("ses_busy"));
      await store.appendEvents([event("ses_busy", "evt_1"), event("ses_busy", "evt_2")]);

      locker.exec("BEGIN EXCLUSIVE");
      const error = await expectCode(store.appendEvent(event("ses_busy", "evt_blocked")), "storage_busy");
      expect(error.retryable).toBe(true);
      expect(error.hint).toContain("busyTimeoutMs");
      expect(error.details).toMatchObject({ busyTimeoutMs: 50 });
      await expectCode(store.saveSession(session("ses_blocked")), "storage_busy");
      // WAL readers are not blocked by the writer's lock.
      expect(await store.getLatestSequence("ses_busy")).toBe(2);
      locker.exec("COMMIT");

      const retried = await store.appendEvent(event("ses_busy", "evt_blocked"));
      expect(retried.sequence).toBe(3);
      const events = await store.getEvents("ses_busy");
      expect(events.map(({ id, sequence }) => [id, sequence])).toEqual([
        ["evt_1", 1],
        ["evt_2", 2],
        ["evt_blocked", 3],
      ]);
    } finally {
      if (locker.inTransaction) locker.exec("ROLLBACK");
      locker.close();
      await store.close();
    }
  });
});

describe("SqliteSessionStore persistence", () => {
  it("keeps sessions, runs and events across close and reopen", async () => {
    const path = newDatabasePath();
    const first = await openSqliteStore({ path });
    await first.saveSession(session("ses_kept"));
    const runRecord = {
      id: "run_kept",
      sessionId: "ses_kept",
      status: "completed" as const,
      input: { prompt: "hi" },
      output: { content: "done" },
      metadata: {},
      turnCount: 1,
      tokenUsage: { inputTokens: 3, outputTokens: 4 },
      costUsd: null,
      providerMetadata: { model: "m" },
      createdAt: NOW,
      endedAt: NOW,
    };
    await savedRun(first, runRecord);
    const events = await first.appendEvents([event("ses_kept", "evt_a"), event("ses_kept", "evt_b")]);
    await first.close();

    const second = await openSqliteStore({ path });
    try {
      expect(await second.getSession("ses_kept")).toEqual(session("ses_kept"));
      expect(await second.getRun("run_kept")).toEqual(runRecord);
      expect(await second.getEvents("ses_kept")).toEqual(events);
      expect((await second.appendEvent(event("ses_kept", "evt_c"))).sequence).toBe(3);
    } finally {
      await second.close();
    }
  });

  it("opens a private in-memory database for :memory:", async () => {
    const store = await openSqliteStore({ path: ":memory:" });
    try {
      await store.saveSession(session("ses_mem"));
      expect((await store.appendEvent(event("ses_mem", "evt_mem"))).sequence).toBe(1);
    } finally {
      await store.close();
    }
    const other = await openSqliteStore({ path: ":memory:" });
    try {
      await expectCode(other.getSession("ses_mem"), "session_not_found");
    } finally {
      await other.close();
    }
  });
});

describe("SqliteSessionStore appends", () => {
  it("a batch that meets a stored id after new ones stores each new one once, with no hole", async () => {
    const store = await openAt({ path: newDatabasePath() });
    try {
      await store.saveSession(session("ses_ids"));
      const [stored] = await store.appendEvents([event("ses_ids", "evt_stored")]);
      // The new events are written first and the stored id is met last: that first attempt is
      // rolled back whole (rows and sequences) and the batch written again, answering the stored one.
      const results = await store.appendEvents([
        event("ses_ids", "evt_new1"),
        event("ses_ids", "evt_new2"),
        event("ses_ids", "evt_stored", { data: { delta: "changed" } }),
        event("ses_ids", "evt_new3"),
      ]);
      expect(results.map(({ id, sequence }) => [id, sequence])).toEqual([
        ["evt_new1", 2],
        ["evt_new2", 3],
        ["evt_stored", 1],
        ["evt_new3", 4],
      ]);
      expect(results[2]).toEqual(stored);
      const log = await store.getEvents("ses_ids");
      expect(log.map(({ id, sequence }) => [id, sequence])).toEqual([
        ["evt_stored", 1],
        ["evt_new1", 2],
        ["evt_new2", 3],
        ["evt_new3", 4],
      ]);
      expect(await store.getLatestSequence("ses_ids")).toBe(4);
      // An append to a session that is not there is still session_not_found, with nothing written.
      await expectCode(store.appendEvents([event("ses_gone", "evt_lost")]), "session_not_found");
      expect(await store.getEvents("ses_ids", { after: 4 })).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
