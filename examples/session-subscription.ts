// Session subscriptions: SessionServer.subscribe delivers a session's stored events — the log so
// far first (backfill), then live ones as runs write them — filtered by type, in sequence order.
// A subscriber that goes away resumes from its cursor and misses nothing.
//
//   npx tsx examples/session-subscription.ts                 # a scripted Claude CLI
//   npx tsx examples/session-subscription.ts --provider amp  # the real amp CLI
import assert from "node:assert/strict";
import type { AsmEvent, EventType } from "agent-session-manager";
import { MemorySessionStore, SessionManager, SessionServer } from "agent-session-manager";
import { createMainAgent, runExample } from "./support.js";

const TYPES: EventType[] = ["run_started", "tool_call_started", "message_received", "run_completed"];

runExample(async () => {
  const agent = createMainAgent({ answer: "All green.", command: "npm test", commandOutput: "ok" });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const server = await SessionServer.start({ manager, session: { agentId: "subscription-agent" } });

  // A listener, called with each event in sequence order; `types` keeps the output readable.
  const seen: AsmEvent[] = [];
  let firstRunDelivered!: () => void;
  const delivered = new Promise<void>((resolve) => {
    firstRunDelivered = resolve;
  });
  const live = await server.subscribe(
    (event) => {
      seen.push(event);
      console.log(`  {session_event, ${event.sessionId.slice(0, 12)}…, #${event.sequence} ${event.type}}`);
      if (event.type === "run_completed") firstRunDelivered();
    },
    { types: TYPES },
  );
  console.log("== run 1, subscribed before it was submitted");
  await server.executeRun("Run the tests.");
  await delivered; // delivery follows the log: it may trail the result by a moment

  // A disconnect: the cursor is the last sequence delivered. Run 2 happens while nobody listens.
  live.unsubscribe();
  const cursor = live.cursor;
  const second = await server.executeRun("Run the tests again.");

  // Reconnect from the cursor, as an iterable this time: run 2's events come from the log.
  console.log(`== resumed from cursor ${cursor}: run 2, which ran while unsubscribed`);
  const resumed = await server.subscribe({ fromSequence: cursor + 1, types: TYPES });
  for await (const event of resumed) {
    seen.push(event);
    console.log(`  {session_event, ${event.sessionId.slice(0, 12)}…, #${event.sequence} ${event.type}}`);
    if (event.type === "run_completed" && event.runId === second.runId) break; // leaving the loop unsubscribes
  }

  // Nothing missed, nothing twice: exactly the log's events of those types, in order.
  const log = await store.getEvents(server.sessionId, { types: TYPES, limit: 1000 });
  assert.deepEqual(
    seen.map((event) => event.sequence),
    log.map((event) => event.sequence),
  );
  console.log(`delivered ${seen.length} events across the reconnect: no gap, no duplicate`);
  assert.equal(server.status().subscribers, 0);

  await server.close();
  await store.close();
});
