import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProcessAlive } from "../testing/adapter-conformance.js";
import { until } from "../testing/wait.js";
import {
  collect,
  jsonLines,
  Lines,
  type Outcome,
  requireBuiltCli,
  shellRunArgs,
  start,
} from "./test-support/cli.js";

/*
 * Every way a user or the system stops `asm run` — a terminating signal, a second one, a reader
 * that went away — ends it the way Ctrl-C does: the run cancelled and recorded, the session
 * ended, the provider's processes gone, a conventional exit code, no stack trace.
 */

let dir: string;
let dbCount = 0;

beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "asm-cli-signals-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function freshDb(): string {
  dbCount += 1;
  return join(dir, `asm-${dbCount}.db`);
}

/** A command that starts a background child and prints `pids <its pid> <the child's pid>`. */
const PRINTS_PIDS = 'sleep 30 & echo "pids $$ $!"';

/** The pids printed by PRINTS_PIDS, once the CLI has shown them. */
async function printedPids(lines: Lines): Promise<number[]> {
  const line = await lines.waitFor((text) => /pids \d+ \d+/.test(text));
  const match = /pids (\d+) (\d+)/.exec(line);
  return [Number(match?.[1]), Number(match?.[2])];
}

interface Stored {
  session: string;
  runs: string[];
  events: { type: string; data: Record<string, unknown> }[];
}

/** The database's only session, straight from the SQLite file. */
function stored(db: string): Stored {
  const sqlite = new Database(db, { readonly: true });
  try {
    const session = sqlite.prepare("SELECT id, status FROM sessions").get() as { id: string; status: string };
    const runs = sqlite.prepare("SELECT status FROM runs WHERE session_id = ?").all(session.id) as {
      status: string;
    }[];
    const events = sqlite
      .prepare("SELECT type, data FROM events WHERE session_id = ? ORDER BY sequence")
      .all(session.id) as { type: string; data: string }[];
    return {
      session: session.status,
      runs: runs.map((run) => run.status),
      events: events.map((event) => ({ type: event.type, data: JSON.parse(event.data) })),
    };
  } finally {
    sqlite.close();
  }
}

function expectCancelRecorded(db: string): Stored {
  const log = stored(db);
  expect(log.session).toBe("cancelled");
  expect(log.runs).toEqual(["cancelled"]);
  expect(log.events.map((event) => event.type).slice(-2)).toEqual(["run_cancelled", "session_cancelled"]);
  return log;
}

describe("asm run stopped by a signal", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGHUP", 129],
    ["SIGQUIT", 131],
  ] as const)(
    "%s cancels the run like Ctrl-C: exit %i, cancel recorded, no child left",
    async (signal, code) => {
      const db = freshDb();
      const child = start(shellRunArgs(db, ["sh", "-c", `${PRINTS_PIDS}; wait`]));
      const lines = new Lines(child);
      const outcome = collect(child);
      const pids = await printedPids(lines);
      expect(pids.filter(isProcessAlive)).toEqual(pids);

      child.kill(signal);
      const result = await outcome;
      expect(result.code, result.stderr).toBe(code);
      expect(
        jsonLines(result.stdout)
          .map((event) => event.type)
          .slice(-2),
      ).toEqual(["run_cancelled", "session_cancelled"]);
      expectCancelRecorded(db);
      // asm exits only once the cancel has confirmed the provider's processes gone.
      expect(pids.filter(isProcessAlive)).toEqual([]);
    },
  );

  it("a second Ctrl-C SIGKILLs a child that ignores INT and TERM, and the cancel is still recorded", async () => {
    const db = freshDb();
    const script = `trap "" INT TERM; ${PRINTS_PIDS}; wait`;
    const child = start(["run", "--provider", "shell", "--db", db, "--shell", "--", script]);
    const lines = new Lines(child);
    const outcome = collect(child);
    const pids = await printedPids(lines);

    const stderr = stderrOf(child);
    child.kill("SIGINT");
    // Ctrl-C again once asm said it handled the first: sent earlier, the two could merge (the
    // kernel does not queue a pending signal twice); sent in a loop, one could land after asm
    // ended its handling and kill it.
    await until(
      () => stderr().includes("asm: cancelling the run (Ctrl-C again stops"),
      "the first Ctrl-C handled",
    );
    child.kill("SIGINT");
    const result = await outcome;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain("asm: stopping the provider's processes now (SIGKILL)");
    const log = expectCancelRecorded(db);
    expect(log.events.find((event) => event.type === "tool_call_failed")?.data).toMatchObject({
      toolOutput: { signal: "SIGKILL" },
      errorMessage: "cancelled",
    });
    expect(pids.filter(isProcessAlive)).toEqual([]);
  });
});

describe("a closed stdout", () => {
  it("asm run | head -2: the run is cancelled quietly, exit 141, recorded, no child left", async () => {
    const db = freshDb();
    const script = `${PRINTS_PIDS}; while :; do echo tick; sleep 0.1; done`;
    const child = start(["run", "--provider", "shell", "--db", db, "--", "sh", "-c", script]);
    const lines = new Lines(child);
    const outcome = collect(child);
    const pids = await printedPids(lines);

    // The reader goes away, as `head` does once it has its lines: asm's next write fails (EPIPE).
    child.stdout?.destroy();
    const result = await outcome;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(141);
    expectCancelRecorded(db);
    expect(pids.filter(isProcessAlive)).toEqual([]);
  });

  it("asm events --follow | head: the follow ends quietly with exit 0", async () => {
    const db = freshDb();
    const writer = start(shellRunArgs(db, ["sh", "-c", "while :; do echo tick; sleep 0.1; done"]));
    const writerLines = new Lines(writer);
    const writerDone = collect(writer);
    const sessionId = (JSON.parse(await writerLines.waitFor(() => true)) as { sessionId: string }).sessionId;

    const follower = start(["events", sessionId, "--db", db, "--json", "--follow"]);
    const followerLines = new Lines(follower);
    const followed: Promise<Outcome> = collect(follower);
    await followerLines.waitFor((line) => line.includes("tick"));
    follower.stdout?.destroy();
    const result = await followed;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    writer.kill("SIGTERM");
    expect((await writerDone).code).toBe(143);
    expectCancelRecorded(db);
  });
});

/** Everything `child` printed on stderr so far, as a function of now. */
function stderrOf(child: ChildProcess): () => string {
  let text = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}
