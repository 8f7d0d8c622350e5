import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { savedRun } from "../../testing/fixtures.js";
import { expectCode, runningRun, session } from "../test-support/fixtures.js";
import { openSqliteStore } from "./index.js";
import { corruptMiddleLeafPage, writeStoreWithEvents } from "./test-support/corrupt-page.js";
import { useTestDatabases } from "./test-support/harness.js";

const { root, newDatabasePath } = useTestDatabases("asm-sqlite-open-checks-");

const digest = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("readOnly", () => {
  it("a missing file is not_found naming the path; nothing is created", async () => {
    const path = join(root, "absent", "asm.db");
    const error = await expectCode(openSqliteStore({ path, readOnly: true }), "not_found");
    expect(error.message).toBe(`no SQLite database at ${path}`);
    expect(existsSync(join(root, "absent"))).toBe(false);
  });

  it("a file without the store's tables is not_found, and stays empty", async () => {
    const path = newDatabasePath();
    writeFileSync(path, "");
    const error = await expectCode(openSqliteStore({ path, readOnly: true }), "not_found");
    expect(error.message).toBe(`database ${path} holds no session store (no tables yet)`);
    expect(error.details).toMatchObject({ path });
    expect(statSync(path).size).toBe(0);
  });

  it("reads a store, writes nothing (no recovery either), and refuses writes", async () => {
    const path = newDatabasePath();
    const writer = await openSqliteStore({ path, recover: false });
    await writer.saveSession(session("ses_1"));
    await savedRun(writer, runningRun("run_dead", "ses_1"));
    await writer.close();
    const before = digest(path);

    const reader = await openSqliteStore({ path, readOnly: true });
    try {
      expect((await reader.getRun("run_dead")).status).toBe("running");
      await expectCode(reader.saveSession(session("ses_2")), "storage_connection_failed");
    } finally {
      await reader.close();
    }
    expect(digest(path)).toBe(before);
  });
});

describe("the open-time page check", () => {
  it("reports a garbage page in the middle of the events table before anything is written", async () => {
    const path = newDatabasePath();
    await writeStoreWithEvents(path, 2000);
    const page = corruptMiddleLeafPage(path, "events");
    const damaged = digest(path);

    const error = await expectCode(openSqliteStore({ path }), "storage_corrupt");
    expect(error.message).toContain(`${path} is damaged: a page of table events is unreadable`);
    expect(error.details).toMatchObject({ path, table: "events", sqliteCode: "SQLITE_CORRUPT" });
    expect(error.hint).toContain(".recover");
    expect(page).toBeGreaterThan(2);
    expect(digest(path)).toBe(damaged);
  });

  it("is what finds it: without the check the store opens and writes on", async () => {
    const path = newDatabasePath();
    await writeStoreWithEvents(path, 2000);
    corruptMiddleLeafPage(path, "events");
    const store = await openSqliteStore({ path, checkPagesOnOpen: false });
    try {
      await store.saveSession(session("ses_more"));
      expect((await store.getSession("ses_more")).id).toBe("ses_more");
    } finally {
      await store.close();
    }
  });

  it("passes a healthy store", async () => {
    const path = newDatabasePath();
    await writeStoreWithEvents(path, 2000);
    const store = await openSqliteStore({ path });
    try {
      expect(await store.getLatestSequence("ses_big")).toBe(2000);
    } finally {
      await store.close();
    }
  });
});
