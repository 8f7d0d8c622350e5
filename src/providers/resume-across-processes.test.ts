import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { costOf, priceFor } from "../cost/index.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { workerArgs } from "../stores/test-support/workers.js";
import { SCRIPTED_CLAUDE_SESSION_ID, SCRIPTED_CODEX_THREAD_ID } from "../testing/scripted-cli/index.js";
import type { ResumeWorkerSpec } from "./test-support/resume-worker.js";
import { tempWorkDir } from "./test-support/scripted-adapter.js";

const exec = promisify(execFile);
const worker = new URL("./test-support/resume-worker.ts", import.meta.url);
const transcripts = (provider: string) =>
  fileURLToPath(new URL(`./${provider}/transcripts/`, import.meta.url));
const dir = tempWorkDir("asm-resume-processes-");
/** Two worker processes per test, each loading tsx, an SDK and SQLite: generous on a loaded box. */
const TWO_PROCESSES_MS = 200_000;

/** Runs one worker process to its end (generous: it loads tsx, the SDK and SQLite first). */
async function inProcess(spec: ResumeWorkerSpec): Promise<{ sessionId: string; runId: string }> {
  const { stdout } = await exec(process.execPath, workerArgs(worker, [JSON.stringify(spec)]), {
    timeout: 90_000,
  });
  return JSON.parse(stdout.trim()) as { sessionId: string; runId: string };
}

async function storedRun(db: string, runId: string) {
  const store = await openSqliteStore({ path: db });
  try {
    return await store.getRun(runId);
  } finally {
    await store.close();
  }
}

describe("resume from the log: run 2 in a fresh process reports its own usage and cost", () => {
  it(
    "Claude: the session's earlier total comes from the stored run 1, not from the caller",
    async () => {
      const db = path.join(dir, "claude.sqlite");
      const base = { provider: "claude" as const, db, cwd: dir };
      const first = await inProcess({ ...base, transcript: path.join(transcripts("claude"), "text.jsonl") });
      const second = await inProcess({
        ...base,
        transcript: path.join(transcripts("claude"), "resumed.jsonl"),
        sessionId: first.sessionId,
        resume: SCRIPTED_CLAUDE_SESSION_ID,
      });

      expect((await storedRun(db, first.runId)).providerMetadata).toMatchObject({
        providerSessionId: SCRIPTED_CLAUDE_SESSION_ID,
        providerTotals: { costUsd: 0.00132 },
      });
      const run = await storedRun(db, second.runId);
      expect(run.status).toBe("completed");
      // resumed.jsonl: this run's message and usage; Claude's total_cost_usd 0.00183 covers run 1's 0.00132.
      expect(run.tokenUsage).toEqual({
        inputTokens: 40,
        outputTokens: 7,
        cacheReadTokens: 12,
        cacheWriteTokens: 0,
      });
      expect(run.costUsd).toBe(0.00051);
      expect(run.metadata.claude).not.toHaveProperty("costNote");
      expect(run.providerMetadata).toMatchObject({
        providerSessionId: SCRIPTED_CLAUDE_SESSION_ID,
        providerTotals: { costUsd: 0.00183 },
      });
    },
    TWO_PROCESSES_MS,
  );

  it(
    "Codex: the thread's earlier usage comes from the stored run 1, not from the caller",
    async () => {
      const db = path.join(dir, "codex.sqlite");
      const base = { provider: "codex" as const, db, cwd: dir, model: "gpt-5" };
      const first = await inProcess({ ...base, transcript: path.join(transcripts("codex"), "text.jsonl") });
      const second = await inProcess({
        ...base,
        transcript: path.join(transcripts("codex"), "resumed.jsonl"),
        sessionId: first.sessionId,
        resume: SCRIPTED_CODEX_THREAD_ID,
      });

      // text.jsonl's thread total is 120 in (100 cached) / 9 out (4 reasoning); resumed.jsonl's is
      // 220 in (130 cached) / 17 out (6 reasoning): run 2's own part is the difference.
      const own = { inputTokens: 70, outputTokens: 8, cacheReadTokens: 30, reasoningTokens: 2 };
      const run = await storedRun(db, second.runId);
      expect(run.status).toBe("completed");
      expect(run.tokenUsage).toEqual(own);
      const price = priceFor("gpt-5");
      if (price === undefined) throw new Error("gpt-5 has no list price");
      expect(run.costUsd).toBe(costOf(own, price));
      expect(run.metadata.codex).not.toHaveProperty("usageIncludesEarlierRuns");
      expect(run.providerMetadata).toMatchObject({
        providerSessionId: SCRIPTED_CODEX_THREAD_ID,
        providerTotals: {
          tokenUsage: { inputTokens: 90, outputTokens: 17, cacheReadTokens: 130, reasoningTokens: 6 },
        },
      });
    },
    TWO_PROCESSES_MS,
  );
});
