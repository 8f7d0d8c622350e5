/**
 * One run of a Claude or Codex adapter (on its scripted CLI) through the root SessionManager into a
 * SQLite file, in a process of its own, for the tests that resume a provider session in a process
 * that never saw the earlier run:
 *
 *   node --import tsx resume-worker.ts <spec JSON>
 *
 * Without `sessionId` it starts and activates a session; with it, it runs in that session. With
 * `resume`, the run resumes that native session (`resumeSessionId` for Claude, `resumeThreadId`
 * for Codex) and nothing else is passed: the baseline must come from the stored runs. It prints
 * `{ sessionId, runId }` as one JSON line and exits; a failed run exits 1 with the error on stderr.
 */
import { SessionManager } from "../../session-manager.js";
import { openSqliteStore } from "../../stores/sqlite/index.js";
import { scriptedCliEnv, scriptedCliPath } from "../../testing/scripted-cli/index.js";
import { ClaudeAdapter } from "../claude/index.js";
import { CodexAdapter } from "../codex/index.js";

/** What the parent asks for. */
export interface ResumeWorkerSpec {
  provider: "claude" | "codex";
  /** The SQLite file both processes use. */
  db: string;
  /** The transcript the scripted CLI plays. */
  transcript: string;
  cwd: string;
  /** The model the adapter is configured with (so the manager can price Codex's tokens). */
  model?: string;
  sessionId?: string;
  /** The native session or thread to resume. */
  resume?: string;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as ResumeWorkerSpec;
const store = await openSqliteStore({ path: spec.db });
try {
  const options = {
    executablePath: scriptedCliPath(spec.provider),
    cwd: spec.cwd,
    env: scriptedCliEnv({ scenario: spec.transcript }),
    ...(spec.model ? { model: spec.model } : {}),
  };
  const adapter = spec.provider === "claude" ? new ClaudeAdapter(options) : new CodexAdapter(options);
  const manager = new SessionManager({ store, adapter });
  let { sessionId } = spec;
  if (sessionId === undefined) {
    sessionId = (await manager.startSession({ agentId: "resume-worker" })).id;
    await manager.activateSession(sessionId);
  }
  const run = await manager.startRun(sessionId, { prompt: spec.resume ? "go on" : "Say hello" });
  const resumeKey = spec.provider === "claude" ? "resumeSessionId" : "resumeThreadId";
  await manager.executeRun(run.id, {
    ...(spec.resume ? { providerOptions: { [spec.provider]: { [resumeKey]: spec.resume } } } : {}),
  });
  process.stdout.write(`${JSON.stringify({ sessionId, runId: run.id })}\n`);
} finally {
  await store.close();
}
