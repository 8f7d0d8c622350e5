import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../core/run.js";
import type { Session } from "../core/session.js";
import { ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { ConcurrencyLimiter } from "../runtime/concurrency-limiter.js";
import { SessionServer } from "../runtime/session-server.js";
import { SessionManager } from "../session-manager.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { until } from "../testing/wait.js";
import { asm, jsonLines, requireBuiltCli, shellRunArgs } from "./test-support/cli.js";

let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "asm-cli-session-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ShownSession {
  session: Session;
  runs: Run[];
  inFlightRuns: string[];
  queuedRuns: string[];
}

async function show(db: string, sessionId: string): Promise<ShownSession> {
  const shown = await asm(["sessions", "show", sessionId, "--db", db, "--json"]);
  expect(shown.code, shown.stderr).toBe(0);
  return JSON.parse(shown.stdout) as ShownSession;
}

/** Leaves a run queued in the session's stored queue, as a server that closed before running it does. */
async function queueRun(db: string, sessionId: string, command: string[]): Promise<string> {
  const store = await openSqliteStore({ path: db });
  const manager = new SessionManager({
    store,
    adapter: new ScriptedAdapter(async () => ({ output: { content: "never" } })),
  });
  const limiter = new ConcurrencyLimiter({ maxParallelRuns: 1 });
  await limiter.acquireRun("elsewhere");
  const server = await SessionServer.start({ manager, sessionId, limiter });
  const runId = await server.submitRun({ command });
  await until(() => limiter.status().runs.waiting === 1, "the run waiting for a slot");
  await server.close();
  await store.close();
  return runId;
}

describe("asm run --session", () => {
  it("runs in an existing session, after the runs already queued in it, and leaves the session open", async () => {
    const db = join(dir, "session.db");
    const first = await asm(shellRunArgs(db, ["echo", "first"]));
    expect(first.code, first.stderr).toBe(0);
    const sessionId = jsonLines(first.stdout)[0]?.sessionId ?? "";
    // A one-shot session is completed: it takes no more runs.
    const refused = await asm([
      "run",
      "--provider",
      "shell",
      "--db",
      db,
      "--session",
      sessionId,
      "--",
      "true",
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("invalid_status");

    const store = await openSqliteStore({ path: db });
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async () => ({ output: { content: "never" } })),
    });
    const open = await manager.startSession({ agentId: "cli" });
    await store.close();
    const queued = await queueRun(db, open.id, ["echo", "queued earlier"]);
    const before = await show(db, open.id);
    expect(before.queuedRuns).toEqual([queued]);
    expect(before.inFlightRuns).toEqual([]);
    const text = await asm(["sessions", "show", open.id, "--db", db]);
    expect(text.stdout).toContain("queued    1");
    expect(text.stdout).toContain(`1. ${queued}`);

    const second = await asm([
      "run",
      "--provider",
      "shell",
      "--db",
      db,
      "--session",
      open.id,
      "--json",
      "--",
      "echo",
      "mine",
    ]);
    expect(second.code, second.stderr).toBe(0);
    const printed = jsonLines(second.stdout);
    const mine = printed[0]?.runId ?? "";
    expect(printed.every((event) => event.runId === mine && event.sessionId === open.id)).toBe(true);
    expect(printed.at(-1)?.type).toBe("run_completed");

    const after = await show(db, open.id);
    expect(after.session.status).toBe("active");
    expect(after.queuedRuns).toEqual([]);
    expect(after.runs.map((run) => [run.id, run.status, run.output?.content.trim()])).toEqual([
      [queued, "completed", "queued earlier"],
      [mine, "completed", "mine"],
    ]);
    // The queued run ran first.
    expect((after.runs[0]?.endedAt ?? "") <= (after.runs[1]?.startedAt ?? "")).toBe(true);
  }, 60_000);
});
