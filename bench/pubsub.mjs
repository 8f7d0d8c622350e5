// PubSub benchmark (run alone; needs Redis on 127.0.0.1:6379 and nats-server on 127.0.0.1:4222,
// which .ci/run starts, and a built dist/):
//
//   node --expose-gc bench/pubsub.mjs [--quick]      → bench/results/pubsub.json
//
// 1. latency: publish→receive delay across two processes, per broker. This process publishes
//    events through the adapter (`RedisPubSub`, `NatsPubSub`) one every 2 ms (a live tail at
//    rest), each carrying its send time; a child process subscribed through the same adapter
//    records receive − send (both clocks: performance.timeOrigin + now(), one machine). p50/p99.
// 2. ingest: events/s of `executeRun` with an adapter streaming message_streamed events (64 per
//    tick, ~200 characters, into a SQLite file), with `publishExtension` (default scopes: session
//    and run topics, so two publishes per event) on each broker and without it, interleaved; a
//    subscriber process follows the run topic and must get every event of the run, in order, or
//    the benchmark fails. Ratio: publishing on / off (median rates). executeRun includes the wait
//    for the last publishes to be handed over (publishExtension's close).
//
//   node bench/pubsub.mjs --child <redis|nats> <topic> latency|follow   (the subscriber process)
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { publishExtension, runTopic, SessionManager } from "../dist/index.js";
import { createNatsPubSub } from "../dist/pubsub/nats/index.js";
import { createRedisPubSub } from "../dist/pubsub/redis/index.js";
import { openSqliteStore } from "../dist/stores/sqlite/index.js";
import { collectGarbage, formatMs, formatRate, median, quantile, tempDir, timed } from "./lib.mjs";
import { StreamingBenchAdapter } from "./stream-adapter.mjs";

const BROKERS = ["redis", "nats"];
const now = () => performance.timeOrigin + performance.now();
const connect = (broker) => (broker === "redis" ? createRedisPubSub() : createNatsPubSub());

if (process.argv[2] === "--child") await child(...process.argv.slice(3));
else await main(process.argv.includes("--quick"));

/** The subscriber process: prints "ready", then one JSON line when its run (or series) ended. */
async function child(broker, topic, mode) {
  const pubsub = await connect(broker);
  const latencies = [];
  const sequences = [];
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  await pubsub.subscribe(topic, (event) => {
    if (mode === "latency") {
      latencies.push(now() - event.data.sentAt);
      if (event.data.last) finish();
    } else {
      sequences.push(event.sequence);
      if (event.type === "run_completed") finish();
    }
  });
  process.stdout.write("ready\n");
  await finished;
  process.stdout.write(`${JSON.stringify({ latencies, sequences })}\n`);
  await pubsub.close();
}

/** Starts a subscriber process on `topic`; resolves once it is subscribed, with its result to come. */
async function startSubscriber(broker, topic, mode) {
  const script = fileURLToPath(import.meta.url);
  const process_ = spawn(process.execPath, [script, "--child", broker, topic, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: process_.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== "ready") throw new Error(`subscriber did not start: ${first.value}`);
  return {
    result: lines.next().then(async ({ value }) => {
      await once(process_, "exit");
      return JSON.parse(value);
    }),
  };
}

async function latency(broker, count) {
  const pubsub = await connect(broker);
  try {
    const sessionId = `ses_bench${Date.now().toString(36)}`;
    const topic = runTopic(sessionId, "run_latency");
    const subscriber = await startSubscriber(broker, topic, "latency");
    for (let index = 1; index <= count; index++) {
      await pubsub.publish(topic, {
        id: `evt_${index}`,
        type: "message_streamed",
        sessionId,
        runId: "run_latency",
        sequence: index,
        timestamp: new Date().toISOString(),
        data: { delta: "x".repeat(200), sentAt: now(), last: index === count },
        metadata: {},
      });
      await sleep(2);
    }
    const { latencies } = await subscriber.result;
    if (latencies.length !== count)
      throw new Error(`${broker} latency: ${latencies.length} of ${count} received`);
    return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies) };
  } finally {
    await pubsub.close();
  }
}

/** One executeRun of `events` streamed events into SQLite, publishing through `broker` (or not). */
async function ingestSample(events, broker) {
  const { dir, remove } = tempDir("pubsub-ingest");
  const store = await openSqliteStore({ path: join(dir, "asm.db") });
  const pubsub = broker ? await connect(broker) : undefined;
  try {
    const manager = new SessionManager({
      store,
      adapter: new StreamingBenchAdapter({ count: events, perTick: 64, deltaLength: 200 }),
      extensions: pubsub ? [publishExtension({ pubsub })] : [],
    });
    const session = await manager.startSession({ agentId: "bench" });
    await manager.activateSession(session.id);
    const run = await manager.startRun(session.id, "stream");
    const subscriber = broker
      ? await startSubscriber(broker, runTopic(session.id, run.id), "follow")
      : undefined;
    collectGarbage();
    const { ms } = await timed(() => manager.executeRun(run.id));
    if (subscriber) {
      const { sequences } = await subscriber.result;
      const stored = (await store.getEvents(session.id, { runId: run.id, limit: 1000, after: 0 })).length;
      const latest = await store.getLatestSequence(session.id);
      const expected = events + 3; // message_sent, run_started, the stream, run_completed
      const inOrder = sequences.every((sequence, at) => at === 0 || sequence === sequences[at - 1] + 1);
      if (sequences.length !== expected || !inOrder || sequences.at(-1) !== latest || stored === 0) {
        throw new Error(
          `${broker} ingest: the subscriber got ${sequences.length} of ${expected} events (in order: ${inOrder})`,
        );
      }
    }
    return (events / ms) * 1000;
  } finally {
    await pubsub?.close();
    await store.close();
    remove();
  }
}

async function main(quick) {
  const sizes = quick
    ? { latencyEvents: 200, ingestEvents: 5_000, repetitions: 2 }
    : { latencyEvents: 1_000, ingestEvents: 50_000, repetitions: 5 };
  const result = { machine: { cpus: cpus().length, node: process.version }, sizes, latency: {}, ingest: {} };

  for (const broker of BROKERS) {
    const figures = await latency(broker, sizes.latencyEvents);
    result.latency[broker] = figures;
    console.log(
      `pubsub latency ${broker}: publish→receive across processes p50 ${formatMs(figures.p50)}, p99 ${formatMs(figures.p99)}, max ${formatMs(figures.max)} (${sizes.latencyEvents} events, one every 2 ms)`,
    );
  }

  const rates = { off: [], redis: [], nats: [] };
  await ingestSample(Math.min(2_000, sizes.ingestEvents)); // warm-up: JIT and SQLite code paths
  for (let repetition = 0; repetition < sizes.repetitions; repetition++) {
    rates.off.push(await ingestSample(sizes.ingestEvents));
    for (const broker of BROKERS) rates[broker].push(await ingestSample(sizes.ingestEvents, broker));
  }
  const off = median(rates.off);
  result.ingest.off = { eventsPerSecond: off, samples: rates.off };
  for (const broker of BROKERS) {
    const on = median(rates[broker]);
    result.ingest[broker] = { eventsPerSecond: on, samples: rates[broker], ratio: on / off };
    console.log(
      `pubsub ingest ${broker}: ${formatRate(on)} events/s publishing (session + run topics) vs ${formatRate(off)} without: ratio on/off ${(on / off).toFixed(2)}`,
    );
  }

  const results = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, "pubsub.json"), `${JSON.stringify(result, null, 2)}\n`);
}
