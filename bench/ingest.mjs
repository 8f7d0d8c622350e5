// Ingest: events per second through the whole SessionManager pipeline into a SQLite file, against
// raw prepared inserts of the same rows into the same schema, measured in the same run.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { SessionManager } from "../dist/index.js";
import { openSqliteStore } from "../dist/stores/sqlite/index.js";
import { collectGarbage, formatRate, median, tempDir, timed } from "./lib.mjs";
import { assertContiguousLog, openRawConnection, rawEventAppender } from "./raw-events.mjs";
import { ADAPTER_EXTRA_EVENTS, StreamingBenchAdapter, streamDeltas } from "./stream-adapter.mjs";

/** The pipeline's own batch limit (event-pipeline.ts), so the baseline commits as often as it could. */
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

export async function ingestBench({ events, repetitions }) {
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
  return {
    figures: {
      events,
      pipelineEventsPerSecond: pipelineRate,
      rawEventsPerSecond: rawRate,
      pipelineTransactionsPerRun: transactionsPerRun,
      pipelineMeanEventsPerTransaction: meanBatch,
      pipelineStoreShare: storeShare,
      rawEventsPerTransaction: RAW_BATCH,
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
