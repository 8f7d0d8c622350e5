// One-shot execution: `runOnce` creates and activates a session, executes one run, hands every
// event to `onEvent` as soon as it is stored, and completes the session — one call.
//
// Checks: the answer is there, the session and the run ended `completed`, `onEvent` saw the
// run's events in order (the ones the result lists), the log's sequences are 1, 2, 3… without a
// gap, and the tokens were counted.
//
//   npx tsx examples/oneshot.ts                    # a scripted Claude CLI
//   npx tsx examples/oneshot.ts --provider codex   # the real codex CLI
import type { AsmEvent } from "agent-session-manager";
import { MemorySessionStore, SessionManager } from "agent-session-manager";
import { check, checkContiguous, createMainAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({ answer: "The BEAM is the virtual machine that runs Erlang and Elixir." });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });

  const seen: AsmEvent[] = [];
  const result = await manager.runOnce("What is the BEAM? Answer in one sentence.", {
    onEvent: (event) => {
      seen.push(event);
      if (event.type === "message_streamed") process.stdout.write(event.data.delta);
    },
  });
  console.log(`answer: ${result.output.content}`);
  check(result.output.content.trim() !== "", "the run answered");

  const session = await store.getSession(result.sessionId);
  const run = await store.getRun(result.runId);
  console.log(`session ${session.status}, run ${run.status} on ${run.provider}`);
  check(session.status === "completed" && run.status === "completed", "session and run completed");

  const runEvents = seen.filter((event) => event.runId === result.runId);
  check(
    runEvents.map((event) => event.id).join() === result.events.map((event) => event.id).join(),
    "onEvent saw exactly the run's events, in order",
  );
  check(result.events.at(-1)?.type === "run_completed", "the run's last event is run_completed");

  const log = await store.getEvents(result.sessionId, { limit: 1000 });
  const last = checkContiguous(log, 1);
  check(
    log[0]?.type === "session_created" && log.at(-1)?.type === "session_completed",
    "log framed by session",
  );
  console.log(`log: ${log.length} events, sequences 1..${last} contiguous`);

  const { inputTokens, outputTokens } = result.tokenUsage;
  check(inputTokens > 0 && outputTokens > 0, "tokens counted");
  console.log(`tokens: ${inputTokens} in, ${outputTokens} out; cost ${result.costUsd ?? "unknown"} USD`);
});
