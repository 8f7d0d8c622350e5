// Ingest: events per second through the whole SessionManager pipeline into a SQLite file, against
// raw prepared inserts of the same rows into the same schema, measured in the same run; and the
// delay from an adapter's emit to a follower of the session in the same process.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { AsmError } from "../dist/core/index.js";
import { SessionManager } from "../dist/index.js";
import { MemorySessionStore } from "../dist/stores/memory/index.js";
import { openSqliteStore } from "../dist/stores/sqlite/index.js";
import { collectGarbage, formatMs, formatRate, median, quantile, tempDir, timed } from "./lib.mjs";
import { assertContiguousLog, openRawConnection, rawEventAppender } from "./raw-events.mjs";
import { ADAPTER_EXTRA_EVENTS, StreamingBenchAdapter, streamDeltas } from "./stream-adapter.mjs";

/**
 * Rows per raw transaction: at least the pipeline's own largest group (256, `GroupCommitOptions`
 * in event-pipeline.ts), so the baseline never commits more often than the pipeline could.
 */
const RAW_BATCH = 512;
/** A stream parser's burst per stdout chunk. */
const EVENTS_PER_TICK = 64;
const DELTA_LENGTH = 200;
/**
 * What `runOnce` logs besides the adapter's events: session_created, session_started,
 * message_sent, run_completed, session_completed.
 */
const MANAGER_EVENTS = 5;

function benchAdapter(events) {
  return new StreamingBenchAdapter({ count: events, perTick: EVENTS_PER_TICK, deltaLength: DELTA_LENGTH });
}

/**
 * One `runOnce` streaming `events` events. Returns its rate, the size of each store transaction
 * and the time spent inside the store's `appendEvents`, which does its work synchronously (one
 * better-sqlite3 transaction), so the rest of the run's time is the manager's and the adapter's.
 */
async function pipelineSample(events, { redaction = false } = {}) {
  const { dir, remove } = tempDir("ingest-pipeline");
  const path = join(dir, "asm.db");
  const store = await openSqliteStore({ path });
  try {
    const batchSizes = [];
    let storeMs = 0;
    const appendEvents = store.appendEvents.bind(store);
    store.appendEvents = (drafts) => {
      batchSizes.push(drafts.length);
      const start = performance.now();
      const stored = appendEvents(drafts);
      storeMs += performance.now() - start;
      return stored;
    };
    const manager = new SessionManager({ store, adapter: benchAdapter(events), redaction });

    collectGarbage();
    const { ms, value: result } = await timed(() => manager.runOnce("stream"));

    await verifyPipelineLog(store, path, result.sessionId, events);
    return { eventsPerSecond: (events / ms) * 1000, ms, storeMs, batchSizes };
  } finally {
    await store.close();
    remove();
  }
}

/** Fails the benchmark unless every event was stored once, in one contiguous sequence. */
async function verifyPipelineLog(store, path, sessionId, events) {
  const expected = events + ADAPTER_EXTRA_EVENTS + MANAGER_EVENTS;
  const latest = await store.getLatestSequence(sessionId);
  const db = openRawConnection(path);
  try {
    const { streamed } = assertContiguousLog(db, sessionId, expected, "pipeline ingest");
    if (streamed !== events || latest !== expected) {
      throw new Error(`pipeline ingest: ${streamed} of ${events} events streamed, latest sequence ${latest}`);
    }
  } finally {
    db.close();
  }
}

/** The same number of rows through raw prepared inserts, into a store-created file and session. */
async function rawSample(events) {
  const { dir, remove } = tempDir("ingest-raw");
  const path = join(dir, "asm.db");
  // The store creates the schema, the session and the run, so the rows land exactly where its own would.
  const store = await openSqliteStore({ path });
  const manager = new SessionManager({ store, adapter: benchAdapter(0) });
  const session = await manager.startSession({ agentId: "bench" });
  await manager.activateSession(session.id);
  const run = await manager.startRun(session.id, "stream");
  const existing = await store.getLatestSequence(session.id);
  await store.close();

  const db = openRawConnection(path);
  try {
    const append = rawEventAppender(db, {
      sessionId: session.id,
      runId: run.id,
      provider: "bench",
      deltas: streamDeltas(DELTA_LENGTH),
    });
    collectGarbage();
    const { ms } = await timed(() => append(events, RAW_BATCH));
    assertContiguousLog(db, session.id, existing + events, "raw ingest");
    return { eventsPerSecond: (events / ms) * 1000, ms };
  } finally {
    db.close();
    remove();
  }
}

/** Between two lone events of the follower measurement: a live tail at rest, one event at a time. */
const FOLLOW_GAP_MS = 2;
/** How long a follower may lag behind the end of its run before the benchmark fails. */
const FOLLOW_GRACE_MS = 10_000;

/**
 * Emits `message_streamed` events whose delta starts with their index, noting `performance.now()`
 * just before each emit in `sentAt`. `pace` "lone": one event every `FOLLOW_GAP_MS`; "stream":
 * `EVENTS_PER_TICK` per `setImmediate` tick, as the ingest adapter does.
 */
class TimedEmitAdapter {
  specificationVersion = "v1";
  name = "bench";
  capabilities = [{ name: "streaming", type: "sampling" }];

  constructor({ events, pace, sentAt }) {
    this.events = events;
    this.pace = pace;
    this.sentAt = sentAt;
    this.deltas = streamDeltas(DELTA_LENGTH);
  }

  async execute(_request, sink, signal) {
    sink.emit({ type: "run_started", data: { model: "bench-model" } });
    const perTurn = this.pace === "lone" ? 1 : EVENTS_PER_TICK;
    for (let index = 0; index < this.events; ) {
      if (this.pace === "lone") await sleep(FOLLOW_GAP_MS);
      else await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new AsmError("cancelled", "bench run aborted");
      for (const end = Math.min(this.events, index + perTurn); index < end; index++) {
        const delta = `${index} ${this.deltas[index % this.deltas.length]}`;
        this.sentAt[index] = performance.now();
        sink.emit({ type: "message_streamed", data: { delta } });
      }
    }
    return { output: { content: `emitted ${this.events} events` }, stopReason: "end_turn" };
  }

  async cancel() {
    return false;
  }
}

/**
 * Append→follower delay in one process: the time from an adapter's `emit` to the moment a
 * follower of the session (`streamSessionEvents` with `follow`, i.e. store long-polls woken by
 * the append, reading pages of up to 1000) receives that event. Fails unless the follower gets
 * every event exactly once. Returns the delays in ms.
 */
async function followerLatencySample(openStore, { events, pace }) {
  const store = await openStore();
  try {
    const sentAt = new Float64Array(events);
    const delays = new Float64Array(events).fill(Number.NaN);
    const manager = new SessionManager({ store, adapter: new TimedEmitAdapter({ events, pace, sentAt }) });
    const session = await manager.startSession({ agentId: "bench" });
    await manager.activateSession(session.id);
    const run = await manager.startRun(session.id, "follow");
    const controller = new AbortController();
    let received = 0;
    const following = (async () => {
      const stream = manager.streamSessionEvents(session.id, {
        follow: true,
        pageSize: 1000,
        signal: controller.signal,
      });
      for await (const event of stream) {
        if (event.type !== "message_streamed") continue;
        const receivedAt = performance.now();
        const index = Number.parseInt(event.data.delta, 10);
        if (!Number.isNaN(delays[index])) throw new Error(`follower: event ${index} received twice`);
        delays[index] = receivedAt - sentAt[index];
        if (++received === events) return;
      }
    })();
    collectGarbage();
    await manager.executeRun(run.id);
    const lagging = setTimeout(() => controller.abort(), FOLLOW_GRACE_MS);
    await following;
    clearTimeout(lagging);
    if (received !== events) throw new Error(`follower (${pace}): received ${received} of ${events} events`);
    return Array.from(delays);
  } finally {
    await store.close();
  }
}

/** p50/p99/max of the follower delay on the memory and the SQLite store, lone events and streamed. */
async function followerLatency({ followEvents, followStreamEvents }) {
  const stores = {
    memory: async () => new MemorySessionStore(),
    sqlite: async () => {
      const { dir, remove } = tempDir("ingest-follow");
      const store = await openSqliteStore({ path: join(dir, "asm.db") });
      const close = store.close.bind(store);
      store.close = async () => {
        await close();
        remove();
      };
      return store;
    },
  };
  const latency = {};
  for (const [name, open] of Object.entries(stores)) {
    // Unmeasured: warms up the follower's path and the JIT.
    await followerLatencySample(open, { events: 50, pace: "lone" });
    latency[name] = {};
    for (const [pace, events] of [
      ["lone", followEvents],
      ["stream", followStreamEvents],
    ]) {
      const delays = await followerLatencySample(open, { events, pace });
      latency[name][pace] = {
        events,
        p50Ms: quantile(delays, 0.5),
        p99Ms: quantile(delays, 0.99),
        maxMs: Math.max(...delays),
      };
    }
  }
  return latency;
}

function describeLatency(latency) {
  const pair = ({ p50Ms, p99Ms }) => `${formatMs(p50Ms)} / ${formatMs(p99Ms)}`;
  return (
    `append→follower p50 / p99: lone events memory ${pair(latency.memory.lone)}, ` +
    `SQLite ${pair(latency.sqlite.lone)}; while streaming memory ${pair(latency.memory.stream)}, ` +
    `SQLite ${pair(latency.sqlite.stream)}`
  );
}

export async function ingestBench({ events, repetitions, followEvents, followStreamEvents }) {
  // One small unmeasured round of each warms up the JIT and the module caches.
  await pipelineSample(Math.min(events, 2_000));
  await rawSample(Math.min(events, 2_000));

  const pipeline = [];
  const raw = [];
  // Interleaved, so drift in machine speed (other load, thermal) hits both sides alike.
  for (let i = 0; i < repetitions; i++) {
    pipeline.push(await pipelineSample(events));
    raw.push(await rawSample(events));
  }
  const pipelineRate = median(pipeline.map((sample) => sample.eventsPerSecond));
  const rawRate = median(raw.map((sample) => sample.eventsPerSecond));
  const batchSizes = pipeline.flatMap((sample) => sample.batchSizes);
  const transactionsPerRun = median(pipeline.map((sample) => sample.batchSizes.length));
  const meanBatch = batchSizes.reduce((sum, size) => sum + size, 0) / batchSizes.length;
  const storeShare = median(pipeline.map((sample) => sample.storeMs / sample.ms));
  const latency = await followerLatency({ followEvents, followStreamEvents });
  return {
    figures: {
      events,
      pipelineEventsPerSecond: pipelineRate,
      rawEventsPerSecond: rawRate,
      pipelineTransactionsPerRun: transactionsPerRun,
      pipelineMeanEventsPerTransaction: meanBatch,
      pipelineStoreShare: storeShare,
      rawEventsPerTransaction: RAW_BATCH,
      followerLatency: latency,
      followerLatencyP99Ms: { memory: latency.memory.lone.p99Ms, sqlite: latency.sqlite.lone.p99Ms },
    },
    samples: {
      pipelineEventsPerSecond: pipeline.map((sample) => sample.eventsPerSecond),
      pipelineMs: pipeline.map((sample) => sample.ms),
      pipelineStoreMs: pipeline.map((sample) => sample.storeMs),
      rawEventsPerSecond: raw.map((sample) => sample.eventsPerSecond),
      rawMs: raw.map((sample) => sample.ms),
    },
    ratio: pipelineRate / rawRate,
    summary:
      `ingest (${events} events): pipeline ${formatRate(pipelineRate)} ev/s, raw ${formatRate(rawRate)} ev/s` +
      ` [pipeline: ${transactionsPerRun} transactions/run of ${meanBatch.toFixed(0)} events,` +
      ` ${(storeShare * 100).toFixed(0)}% of its time in store.appendEvents]`,
    // Printed after the ratio: the delay the batching must not cost a live follower.
    aside: describeLatency(latency),
  };
}

/**
 * The cost of redaction: the same pipeline run with `redaction: true` (every delta through the
 * carry-over window and the patterns, every record redacted) against `redaction: false`,
 * interleaved in one process. The deltas are ordinary text, as nearly all of a transcript is.
 */
export async function ingestRedactionBench({ events, repetitions }) {
  await pipelineSample(Math.min(events, 2_000), { redaction: true });
  await pipelineSample(Math.min(events, 2_000), { redaction: false });

  const on = [];
  const off = [];
  for (let i = 0; i < repetitions; i++) {
    on.push(await pipelineSample(events, { redaction: true }));
    off.push(await pipelineSample(events, { redaction: false }));
  }
  const onRate = median(on.map((sample) => sample.eventsPerSecond));
  const offRate = median(off.map((sample) => sample.eventsPerSecond));
  return {
    figures: { events, redactedEventsPerSecond: onRate, plainEventsPerSecond: offRate },
    samples: {
      redactedEventsPerSecond: on.map((sample) => sample.eventsPerSecond),
      plainEventsPerSecond: off.map((sample) => sample.eventsPerSecond),
    },
    ratio: onRate / offRate,
    summary:
      `ingest-redaction (${events} events): redaction on ${formatRate(onRate)} ev/s,` +
      ` off ${formatRate(offRate)} ev/s`,
  };
}
