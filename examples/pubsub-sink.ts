// Live fan-out through a broker: the `publishExtension` publishes each event of a run once it is
// stored (with its sequence) on Redis or NATS; a subscriber joins the log and the live feed with
// `joinEventStream` (backfill, then live, no gap, no duplicate); a late subscriber resumes from a
// cursor; the rendering pipeline's `PubSubSink` republishes a stored run on its type topics.
//
// Checks: what each subscriber got is the run's log, in order, once each.
// Needs Redis on 127.0.0.1:6379 and nats-server on 127.0.0.1:4222 (.ci/run starts both).
//
//   npx tsx examples/pubsub-sink.ts                     # both brokers, a scripted Claude CLI
//   npx tsx examples/pubsub-sink.ts --broker nats       # one broker
//   npx tsx examples/pubsub-sink.ts --provider claude   # the real claude CLI
import {
  type AsmEvent,
  joinEventStream,
  MemorySessionStore,
  PassthroughRenderer,
  type PubSub,
  PubSubSink,
  publishExtension,
  render,
  SessionManager,
  typeTopic,
} from "agent-session-manager";
import { createNatsPubSub } from "agent-session-manager/pubsub/nats";
import { createRedisPubSub } from "agent-session-manager/pubsub/redis";
import { check, checkContiguous, createMainAgent, runExample } from "./support.js";

const brokerFlag = process.argv.indexOf("--broker");
const brokers = brokerFlag >= 0 ? [process.argv[brokerFlag + 1] ?? ""] : ["redis", "nats"];

function connect(broker: string): Promise<PubSub> {
  if (broker === "redis") return createRedisPubSub({ url: "redis://127.0.0.1:6379" });
  if (broker === "nats") return createNatsPubSub({ servers: "127.0.0.1:4222" });
  throw new Error(`--broker must be redis or nats, not ${JSON.stringify(broker)}`);
}

async function collect(events: AsyncIterable<AsmEvent>): Promise<AsmEvent[]> {
  const collected: AsmEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

runExample(async () => {
  const agent = createMainAgent({
    answer: "Two files: README.md and package.json.",
    command: "ls",
    commandOutput: "README.md\npackage.json\n",
  });
  for (const broker of brokers) {
    // Two connections, as two processes would have: the manager's, and a dashboard's.
    const [publisher, subscriber] = await Promise.all([connect(broker), connect(broker)]);
    try {
      const store = new MemorySessionStore();
      const manager = new SessionManager({
        store,
        adapter: agent.adapter,
        extensions: [publishExtension({ pubsub: publisher })],
      });
      const session = await manager.startSession({ agentId: "pubsub-sink" });
      await manager.activateSession(session.id);
      const run = await manager.startRun(session.id, "What files are here?");

      // The dashboard joins before the run starts; the stream ends with the run's terminal event.
      const live = collect(
        joinEventStream({ store, pubsub: subscriber, sessionId: session.id, runId: run.id }),
      );
      const result = await manager.executeRun(run.id);
      const received = await live;
      const log = await store.getEvents(session.id, { runId: run.id, limit: 1000 });
      check(
        JSON.stringify(received) === JSON.stringify(log),
        "the live subscriber got the run's log exactly",
      );
      checkContiguous(received);
      console.log(
        `${broker}: live subscriber got ${received.length} events #${received[0]?.sequence}..#${received.at(-1)?.sequence}, ending with ${received.at(-1)?.type}`,
      );

      // A subscriber that connects later resumes from its cursor: the rest comes from the log.
      const cursor = log[Math.floor(log.length / 2)]?.sequence ?? 0;
      const resumed = await collect(
        joinEventStream({ store, pubsub: subscriber, sessionId: session.id, runId: run.id, after: cursor }),
      );
      check(
        JSON.stringify(resumed) === JSON.stringify(log.filter((event) => event.sequence > cursor)),
        "the late subscriber got exactly what followed its cursor",
      );
      console.log(
        `${broker}: late subscriber resumed after #${cursor}: ${resumed.length} events, no gap, no duplicate`,
      );

      // The rendering pipeline's PubSub sink publishes through the same client, here per type.
      const completed: AsmEvent[] = [];
      await subscriber.subscribe(typeTopic(session.id, "run_completed"), (event) => completed.push(event));
      await render(log, {
        renderer: new PassthroughRenderer(),
        sinks: [new PubSubSink({ publisher, scopes: ["type"] })],
      });
      for (let waited = 0; completed.length === 0 && waited < 5000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      check(completed[0]?.runId === run.id, "the type topic carried the run's run_completed");
      console.log(
        `${broker}: PubSubSink on ${typeTopic(session.id, "run_completed").replace(session.id, "<session>")}: run_completed #${completed[0]?.sequence}, answer "${result.output.content.trim()}"`,
      );
    } finally {
      await Promise.all([publisher.close(), subscriber.close()]);
    }
  }
});
