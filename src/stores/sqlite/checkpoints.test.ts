import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { makeSession } from "../../testing/fixtures.js";
import { event } from "../test-support/fixtures.js";
import { CHECKPOINT_AFTER_PAGES, CheckpointScheduler } from "./checkpoints.js";
import { useTestDatabases } from "./test-support/harness.js";

const { newDatabasePath, openAt } = useTestDatabases("asm-sqlite-checkpoints-");

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("CheckpointScheduler", () => {
  it("checkpoints on the next turn once the estimate reaches its threshold, once per crossing", async () => {
    let checkpoints = 0;
    const scheduler = new CheckpointScheduler(() => {
      checkpoints += 1;
    });
    let commits = 0;
    while (checkpoints === 0 && commits < CHECKPOINT_AFTER_PAGES) {
      scheduler.committed(1);
      commits += 1;
      // Never inside the commit that crossed the threshold: only on a later turn.
      expect(checkpoints).toBe(0);
      if (commits % 10 === 0) await nextTurn();
    }
    await nextTurn();
    expect(checkpoints).toBe(1);
    expect(commits).toBeGreaterThan(1);
    // The count starts again: the next commit alone does not call for another.
    scheduler.committed(1);
    await nextTurn();
    expect(checkpoints).toBe(1);
  });

  it("counts large commits by their rows", async () => {
    let checkpoints = 0;
    const scheduler = new CheckpointScheduler(() => {
      checkpoints += 1;
    });
    scheduler.committed(CHECKPOINT_AFTER_PAGES * 4);
    scheduler.committed(CHECKPOINT_AFTER_PAGES * 4);
    await nextTurn();
    expect(checkpoints).toBe(1);
  });

  it("runs nothing once stopped, and a failing checkpoint is left to the next one", async () => {
    let calls = 0;
    const scheduler = new CheckpointScheduler(() => {
      calls += 1;
      throw new Error("database is locked (test)");
    });
    scheduler.committed(CHECKPOINT_AFTER_PAGES * 4);
    await nextTurn();
    expect(calls).toBe(1);
    scheduler.committed(CHECKPOINT_AFTER_PAGES * 4);
    await nextTurn();
    expect(calls).toBe(2);
    scheduler.committed(CHECKPOINT_AFTER_PAGES * 4);
    scheduler.stop();
    await nextTurn();
    expect(calls).toBe(2);
  });
});

describe("SqliteSessionStore checkpoints", () => {
  it("moves appended pages into the database file on the turn after the append, not in it", async () => {
    const path = newDatabasePath();
    const store = await openAt({ path });
    try {
      const session = makeSession({ status: "pending" });
      await store.saveSession(session);
      await nextTurn();
      const before = statSync(path).size;
      // One-event commits: enough for the estimate to call a checkpoint (9 pages each), too few
      // for SQLite's own at 1000 WAL pages (about 6 each).
      const commits = Math.ceil(CHECKPOINT_AFTER_PAGES / 9) + 20;
      for (let index = 0; index < commits; index++) {
        await store.appendEvents([event(session.id, `evt_c${index}`)]);
      }
      // Still only in the WAL: no checkpoint ran inside the appends.
      expect(statSync(path).size).toBe(before);
      await nextTurn();
      expect(statSync(path).size).toBeGreaterThan(before);
      expect(await store.getLatestSequence(session.id)).toBe(commits);
    } finally {
      await store.close();
    }
  });
});
