import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asm, requireBuiltCli } from "../cli/test-support/cli.js";
import { ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { SessionManager } from "../session-manager.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import {
  readScriptedCliRecord,
  type ScriptedCliRecord,
  scriptedCliEnv,
  scriptedCliPath,
} from "../testing/scripted-cli/index.js";

/*
 * `asm run --session <id> --continue [auto|native|replay]` with the real Claude adapter on the
 * scripted Claude CLI (it answers "Hello from Claude" and records how it was started).
 */

const TRANSCRIPT = fileURLToPath(new URL("../providers/claude/transcripts/text.jsonl", import.meta.url));
let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "asm-cli-continue-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An active session in a fresh SQLite file. */
async function sessionIn(db: string): Promise<string> {
  const store = await openSqliteStore({ path: db });
  try {
    // The session only needs to exist and be active for the CLI's runs: no run goes through this adapter.
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async () => ({ output: { content: "unused" } })),
    });
    const session = await manager.startSession({ agentId: "cli-continue" });
    await manager.activateSession(session.id);
    return session.id;
  } finally {
    await store.close();
  }
}

/** How the scripted CLI was last started. */
function started(record: string): ScriptedCliRecord {
  const found = readScriptedCliRecord(record);
  if (!found) throw new Error("the scripted CLI wrote no record");
  return found;
}

function claudeRun(db: string, sessionId: string, record: string, words: string[], extra: string[] = []) {
  return asm(
    [
      "run",
      "-p",
      "claude",
      "--executable",
      scriptedCliPath("claude"),
      "--db",
      db,
      "--session",
      sessionId,
      ...extra,
      ...words,
    ],
    scriptedCliEnv({ scenario: TRANSCRIPT, record }),
  );
}

describe("asm run --session <id> --continue", () => {
  it("auto resumes Claude's session natively; replay carries the transcript; a non-mode word is the prompt's", async () => {
    const db = join(dir, "continue.db");
    const sessionId = await sessionIn(db);
    const record = join(dir, "record.json");

    const first = await claudeRun(db, sessionId, record, ["Remember:", "the", "code", "is", "X-42."]);
    expect(first.code, first.stderr).toBe(0);
    expect(started(record).argv.some((arg) => arg.startsWith("--resume"))).toBe(false);
    const store = await openSqliteStore({ path: db });
    const [run1] = await store.listRuns(sessionId);
    await store.close();
    const claudeSession = String(run1?.providerMetadata.providerSessionId);

    const native = await claudeRun(db, sessionId, record, ["What", "was", "the", "code?"], ["--continue"]);
    expect(native.code, native.stderr).toBe(0);
    expect(native.stderr).toContain(`asm: continued claude's own session ${claudeSession}`);
    expect(started(record).argv).toContain(`--resume=${claudeSession}`);

    const replay = await claudeRun(
      db,
      sessionId,
      record,
      ["What", "was", "the", "code?"],
      ["--continue", "replay"],
    );
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stderr).toMatch(
      /asm: continued by replay: 4 messages \(~\d+ tokens\) of 2 earlier runs, 0 older left out/,
    );
    const replayed = started(record);
    expect(replayed.argv.some((arg) => arg.startsWith("--resume"))).toBe(false);
    expect(JSON.stringify(replayed.stdin)).toContain("[user] Remember: the code is X-42.");

    // `--continue what …`: "what" is not a mode, so it starts the prompt and the mode is auto.
    const worded = await claudeRun(db, sessionId, record, ["is", "it?"], ["--continue", "what"]);
    expect(worded.code, worded.stderr).toBe(0);
    const check = await openSqliteStore({ path: db });
    const runs = await check.listRuns(sessionId);
    await check.close();
    expect(runs.at(-1)?.input).toEqual({ prompt: "what is it?" });
    expect(runs.at(-1)?.metadata.continuity).toMatchObject({ requested: "auto", mode: "native" });
  });

  it("--continue without --session is a validation error (exit 2), nothing run", async () => {
    const db = join(dir, "alone.db");
    const outcome = await asm(
      [
        "run",
        "-p",
        "claude",
        "--executable",
        scriptedCliPath("claude"),
        "--db",
        db,
        "--continue",
        "replay",
        "hello",
      ],
      scriptedCliEnv({ scenario: TRANSCRIPT }),
    );
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/--continue needs --session.*\[validation_error\]/);
    const store = await openSqliteStore({ path: db });
    expect(await store.listSessions()).toEqual([]);
    await store.close();
  });
});
