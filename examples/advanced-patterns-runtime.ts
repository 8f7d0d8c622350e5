// Advanced patterns, section 2: "SessionServer + durable subscriptions + workspace snapshots".
//
// A long-lived session server with two slots and per-server run options, a durable subscription
// feeding a streaming UI, two runs executing at once with their events interleaved, and a UI
// that disconnects and resumes from its saved cursor without missing an event.
//
// Without workspace snapshots: the guide's `workspace` options (git snapshots, patch artifacts,
// rollback on failure) and `continuation: "auto"` are not built yet, so there is no
// `workspace_diff_computed` event to show; the server's defaults here are a timeout and metadata.
//
//   npx tsx examples/advanced-patterns-runtime.ts                    # a scripted Claude CLI
//   npx tsx examples/advanced-patterns-runtime.ts --provider claude  # the real claude CLI
import assert from "node:assert/strict";
import path from "node:path";
import type { AsmEvent } from "agent-session-manager";
import { SessionManager, SessionServer } from "agent-session-manager";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { createMainAgent, runExample, tempDir } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({ answer: "Done: tests added.", command: "npm test", thinkMs: 300 });
  const store = await openSqliteStore({ path: path.join(tempDir("advanced-runtime"), "sessions.db") });
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const server = await SessionServer.start({
    manager,
    session: { agentId: "workspace-agent" },
    maxConcurrentRuns: 2,
    // Under every run's own options (the guide puts continuation and workspace here).
    defaultRunOptions: { timeoutMs: 600_000, metadata: { origin: "streaming-ui" } },
  });

  // The streaming UI: a durable subscription from the start of the log. It "disconnects" after a
  // few events, keeping the last sequence it handled.
  const handled: AsmEvent[] = [];
  let disconnected!: () => void;
  const disconnect = new Promise<void>((resolve) => {
    disconnected = resolve;
  });
  let connected = true;
  const ui = await server.subscribe(
    (event) => {
      if (!connected) return; // what a dropped connection would not have received
      handle(event);
      handled.push(event);
      if (handled.length === 6) {
        connected = false;
        disconnected();
      }
    },
    { fromSequence: 0 },
  );

  // Two runs that execute concurrently.
  const r1 = await server.submitRun("Add tests");
  const r2 = await server.submitRun("Fix lint");
  console.log(`submitted 2 runs: ${server.status().inFlightCount} in flight`);

  await disconnect;
  ui.unsubscribe();
  // The UI's saved cursor: the last sequence it handled.
  const lastSeq = handled.at(-1)?.sequence ?? 0;
  console.log(`-- UI disconnected at cursor ${lastSeq}; the runs go on`);

  await Promise.all([server.awaitRun(r1), server.awaitRun(r2)]);
  console.log(`-- both runs ended; the UI resumes from sequence ${lastSeq + 1}`);
  const resumed = await server.subscribe({ fromSequence: lastSeq + 1 });
  const latest = await store.getLatestSequence(server.sessionId);
  for await (const event of resumed) {
    handle(event);
    handled.push(event);
    if (event.sequence === latest) break;
  }

  // No events missed or repeated across the reconnect, and the two runs really overlapped.
  const log = await store.getEvents(server.sessionId, { limit: 1000 });
  assert.deepEqual(
    handled.map((event) => event.sequence),
    log.map((event) => event.sequence),
  );
  const [one, two] = await Promise.all([store.getRun(r1), store.getRun(r2)]);
  const overlapped =
    (one.startedAt ?? "") < (two.endedAt ?? "") && (two.startedAt ?? "") < (one.endedAt ?? "");
  console.log(`UI handled ${handled.length} events, the whole log once each; runs overlapped: ${overlapped}`);
  assert.ok(overlapped);
  assert.equal(one.metadata.origin, "streaming-ui");

  await server.close();
  await store.close();
});

function handle(event: AsmEvent): void {
  const run = event.runId ? ` (run ${event.runId.slice(-6)})` : "";
  switch (event.type) {
    case "message_streamed":
      process.stdout.write(event.data.delta);
      break;
    case "message_received":
      console.log(`  #${event.sequence} ${event.data.role}: ${event.data.content}${run}`);
      break;
    default:
      console.log(`  #${event.sequence} ${event.type}${run}`);
  }
}
