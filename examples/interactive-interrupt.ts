// Interactive interrupt: stop the agent's current turn as soon as it starts working, then steer it
// with a follow-up in the same session. interruptRun uses the provider's native interrupt where
// its SDK has one (Claude Code: the Agent SDK's streaming-input interrupt(), which keeps its
// session resumable), else it cancels the run; either way the run ends `cancelled` with
// `interrupted: true`, and the session stays open for the next turn.
//
//   npx tsx examples/interactive-interrupt.ts                    # a scripted Claude CLI
//   npx tsx examples/interactive-interrupt.ts --provider claude  # the real claude CLI
import assert from "node:assert/strict";
import { AsmError, MemorySessionStore, SessionManager, SessionServer } from "agent-session-manager";
import { createMainAgent, runExample } from "./support.js";

runExample(async () => {
  // The scripted agent starts a long command; the real one is asked for a long answer.
  const agent = createMainAgent({ answer: "1, 2, 3…", command: "sleep 30", thinkMs: 30_000 });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const server = await SessionServer.start({ manager, session: { agentId: "interactive-agent" } });

  const runId = await server.submitRun("Count slowly from 1 to 500, one number per line.");
  // Interrupt at the first sign of work: a tool call, or text.
  let interrupting: Promise<unknown> | undefined;
  const watch = await server.subscribe(
    (event) => {
      console.log(`  #${event.sequence} ${event.type}`);
      if (!interrupting) {
        console.log("  -> interrupt");
        interrupting = server.interruptRun(runId, "the user pressed Esc");
      }
    },
    { runId, types: ["tool_call_started", "message_streamed", "message_received", "run_cancelled"] },
  );
  const stopped = await server
    .awaitRun(runId, { timeoutMs: 120_000 })
    .catch((error: unknown) => AsmError.from(error));
  await interrupting;
  assert.ok(AsmError.is(stopped, "cancelled"), "the interrupted run rejects with cancelled");
  console.log(`run 1: ${stopped.code} (interrupted: ${String(stopped.details.interrupted)})`);
  assert.equal(stopped.details.interrupted, true);
  watch.unsubscribe();

  // The session goes on: the next turn steers the agent.
  agent.play({ answer: "Stopped counting. Here is a summary instead." });
  const next = await server.executeRun(
    "Stop counting; summarize what you were doing in one line.",
    {},
    {
      timeoutMs: 120_000,
    },
  );
  console.log(`run 2: ${next.output.content.trim()}`);

  const [first, second] = await Promise.all([store.getRun(runId), store.getRun(next.runId)]);
  const session = await store.getSession(server.sessionId);
  console.log(`runs: ${first.status}, ${second.status}; session ${session.status}`);
  assert.equal(first.status, "cancelled");
  assert.equal(second.status, "completed");
  assert.equal(session.status, "active");
  const native = [first, second].map((run) => run.providerMetadata.providerSessionId);
  if (native[0] && native[0] === native[1])
    console.log(`run 2 resumed the provider's session ${String(native[0])}`);

  await server.close();
  await store.close();
});
