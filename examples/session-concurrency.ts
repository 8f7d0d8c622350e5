// Multi-slot concurrency: a SessionServer with two slots takes four runs. Two execute at once,
// the other two wait in the queue and start, in the order they were submitted, as slots free up;
// drain() waits for all of them.
//
//   npx tsx examples/session-concurrency.ts                    # a scripted Claude CLI
//   npx tsx examples/session-concurrency.ts --provider claude  # the real claude CLI
import assert from "node:assert/strict";
import { MemorySessionStore, SessionManager, SessionServer } from "agent-session-manager";
import { createMainAgent, runExample } from "./support.js";

const RUNS = 4;
const SLOTS = 2;

runExample(async () => {
  // Each scripted run calls a tool that takes a moment, so the runs overlap.
  const agent = createMainAgent({ answer: "Done.", command: "sleep 1", thinkMs: 400 });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const server = await SessionServer.start({
    manager,
    session: { agentId: "concurrency-agent" },
    maxConcurrentRuns: SLOTS,
  });

  // Watch every run start and end in the log, checking the server's state at each step: never
  // more than two runs in flight, and never a run in flight (or done) while one submitted
  // before it still waits in the queue.
  const submitted: string[] = [];
  let peak = 0;
  const subscription = await server.subscribe(
    (event) => {
      const { inFlightRuns, queuedRuns } = server.status();
      peak = Math.max(peak, inFlightRuns.length);
      assert.ok(inFlightRuns.length <= SLOTS, `${inFlightRuns.length} runs in flight`);
      // Submission indexes: every run that left the queue was submitted before every queued one.
      const queued = queuedRuns.map((runId) => submitted.indexOf(runId)).filter((at) => at !== -1);
      const left = submitted.map((_, at) => at).filter((at) => !queued.includes(at));
      assert.ok(
        left.every((at) => queued.every((waiting) => at < waiting)),
        "runs leave the queue in FIFO order",
      );
      const at = event.runId ? submitted.indexOf(event.runId) + 1 : 0;
      if (event.type === "message_sent")
        console.log(`  run ${at} started   (in flight ${inFlightRuns.length})`);
      if (event.type === "run_completed") console.log(`  run ${at} completed`);
    },
    { types: ["message_sent", "run_completed"] },
  );

  for (let i = 1; i <= RUNS; i++) {
    submitted.push(await server.submitRun(`Task ${i}: run the checks.`));
  }
  const status = server.status();
  console.log(`submitted ${RUNS}: in flight ${status.inFlightCount}, queued ${status.queuedCount}`);
  assert.equal(status.inFlightCount + status.queuedCount, RUNS);

  await server.drain({ timeoutMs: 120_000 });
  const after = server.status();
  console.log(
    `drained: in flight ${after.inFlightCount}, queued ${after.queuedCount}, at most ${peak} at once`,
  );
  assert.equal(after.inFlightCount + after.queuedCount, 0);

  // The log says the same: run starts (message_sent) in submission order, at most two overlapping.
  const log = await store.getEvents(server.sessionId, {
    types: ["message_sent", "run_completed"],
    limit: 100,
  });
  const starts = log.filter((event) => event.type === "message_sent").map((event) => event.runId);
  let overlap = 0;
  let maxOverlap = 0;
  for (const event of log) {
    overlap += event.type === "message_sent" ? 1 : -1;
    maxOverlap = Math.max(maxOverlap, overlap);
  }
  console.log(
    `log: ${starts.length} runs started, the queued ones after the first two, at most ${maxOverlap} overlapping`,
  );
  // Runs 3 and 4 may start in the same turn (when 1 and 2 end together): compared as sets.
  assert.deepEqual(new Set(starts.slice(0, SLOTS)), new Set(submitted.slice(0, SLOTS)));
  assert.deepEqual(new Set(starts.slice(SLOTS)), new Set(submitted.slice(SLOTS)));
  assert.ok(maxOverlap <= SLOTS);
  for (const runId of submitted) assert.equal((await store.getRun(runId)).status, "completed");

  subscription.unsubscribe();
  await server.close();
  await store.close();
});
