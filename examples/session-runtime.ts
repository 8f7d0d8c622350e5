// Session runtime: one SessionServer per session. Runs are submitted quickly (each gets its id
// at once), wait in a FIFO queue, and execute one after the other (one slot, the default);
// awaitRun gives each result, also for a run that finished before it was awaited.
//
//   npx tsx examples/session-runtime.ts                   # a scripted Claude CLI
//   npx tsx examples/session-runtime.ts --provider codex  # the real codex CLI
import assert from "node:assert/strict";
import path from "node:path";
import { AsmError, SessionManager, SessionServer } from "agent-session-manager";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { createMainAgent, runExample, tempDir } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({ answer: "Checked.", command: "true" });
  const store = await openSqliteStore({ path: path.join(tempDir("runtime"), "sessions.db") });
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const server = await SessionServer.start({ manager, session: { agentId: "runtime-agent" } });
  console.log(`server on session ${server.sessionId} (${server.maxConcurrentRuns} slot)`);

  const prompts = ["Check the build.", "Check the tests.", "Check the docs."];
  const runIds: string[] = [];
  for (const prompt of prompts) runIds.push(await server.submitRun(prompt));
  const status = server.status();
  console.log(
    `submitted ${runIds.length} runs: ${status.inFlightCount} in flight, ${status.queuedCount} queued`,
  );

  // Awaited last first: the results do not depend on the order they are awaited in.
  for (const runId of [...runIds].reverse()) {
    const result = await server.awaitRun(runId, { timeoutMs: 120_000 });
    console.log(`  run ${runIds.indexOf(runId) + 1}: ${result.output.content.trim()}`);
  }

  // Strictly one after the other, in submission order: each run started after the previous ended.
  const runs = await Promise.all(runIds.map((runId) => store.getRun(runId)));
  for (let i = 1; i < runs.length; i++) {
    const [previous, current] = [runs[i - 1], runs[i]];
    assert.ok(previous?.endedAt && current?.startedAt && previous.endedAt <= current.startedAt);
  }
  console.log("the runs executed one after another, in FIFO order");

  // A finished run is awaited from the store; an unknown id is refused.
  const again = await server.awaitRun(runIds[0] ?? "");
  assert.equal(again.runId, runIds[0]);
  const unknown = await server.awaitRun("run_unknown").catch((error: unknown) => AsmError.from(error));
  console.log(`awaiting an unknown run: ${AsmError.is(unknown) ? unknown.code : "resolved"}`);
  assert.ok(AsmError.is(unknown, "run_not_found"));

  await server.drain({ timeoutMs: 10_000 });
  await server.close();
  await store.close();
});
