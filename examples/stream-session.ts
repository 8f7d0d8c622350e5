// StreamSession: one call runs a prompt in a session of its own and hands back its events as a
// stream, its result, and an idempotent close() — instead of creating a store, a manager, a
// session and a run, following the log and cleaning up by hand.
//
// 1. A run streamed to its end, raw: the text as it streams, then a summary of events.
// 1b. The same, rendered: the stream piped through `render()` with a CompactRenderer to a TtySink
//     (the seed's default mode; StudioRenderer is the richer one).
// 2. An idle stream: no event for longer than idleTimeoutMs ends it with one error_occurred.
// 3. close() mid-run: the run is cancelled; a store that was passed in stays open.
//
//   npx tsx examples/stream-session.ts                    # a scripted Claude CLI
//   npx tsx examples/stream-session.ts --provider codex   # the real codex CLI
import assert from "node:assert/strict";
import {
  AsmError,
  CompactRenderer,
  MemorySessionStore,
  render,
  streamSession,
  TtySink,
} from "agent-session-manager";
import { createMainAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({ answer: "The BEAM is the Erlang virtual machine." });

  console.log("== 1. a run, streamed");
  // No store given: the stream session creates an in-memory one and closes it itself.
  const stream = await streamSession({
    adapter: agent.adapter,
    input: "What is the BEAM? Answer in one sentence.",
  });
  const counts = new Map<string, number>();
  for await (const event of stream) {
    counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
    if (event.type === "message_streamed") process.stdout.write(event.data.delta);
    if (event.type === "message_received" && event.data.role === "assistant") {
      console.log(`  assistant: ${event.data.content}`);
    }
  }
  const result = await stream.result;
  console.log(`  events: ${[...counts].map(([type, count]) => `${type}×${count}`).join(" ")}`);
  console.log(`  result: ${result.output.content.trim()}`);
  assert.equal(counts.get("run_completed"), 1);
  assert.equal(counts.get("error_occurred"), undefined);
  await stream.close(); // already closed when the loop ended: close() is idempotent

  console.log("== 1b. a run, rendered");
  const rendered = await streamSession({ adapter: agent.adapter, input: "What is the BEAM?" });
  const report = await render(rendered, { renderer: new CompactRenderer(), sinks: [new TtySink()] });
  console.log(`  rendered ${report.events} events, result: ${(await rendered.result).output.content.trim()}`);
  assert.equal(report.failures.length, 0);

  console.log("== 2. an idle stream");
  // The scripted agent runs a command that takes 3 s; no event for 50 ms ends the stream.
  agent.play({ answer: "done", command: "sleep 3", thinkMs: 3_000 });
  const idle = await streamSession({ adapter: agent.adapter, input: "Take your time.", idleTimeoutMs: 50 });
  const tail: string[] = [];
  for await (const event of idle) {
    tail.push(event.type);
    if (event.type === "error_occurred") {
      console.log(`  stream ended: error_occurred ${event.data.errorCode}: ${event.data.errorMessage}`);
    }
  }
  const idleFailure = await idle.result.catch((error: unknown) => AsmError.from(error));
  assert.ok(AsmError.is(idleFailure, "timeout"));
  assert.deepEqual(tail.slice(-2), ["run_cancelled", "error_occurred"]);
  console.log(`  result rejected: ${idleFailure.code}`);

  console.log("== 3. close() mid-run");
  const store = new MemorySessionStore();
  const closing = await streamSession({ adapter: agent.adapter, input: "Take your time.", store });
  for await (const event of closing) {
    if (event.type === "message_sent") {
      await closing.close();
      await closing.close();
    }
  }
  const run = await store.getRun(closing.runId);
  const session = await store.getSession(closing.sessionId);
  console.log(`  after close: run ${run.status}, session ${session.status}, the given store still open`);
  assert.equal(run.status, "cancelled");
  await store.close();
});
