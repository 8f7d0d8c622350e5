// PostgreSQL store: ingest from several writer processes into one session, through the store's
// appendEvents against raw pg inserts of the same rows, and the latency from an append in one
// process to its delivery to a long-poll follower in another.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { newId } from "../dist/core/index.js";
import { openPostgresStore } from "../dist/stores/postgres/index.js";
import { formatMs, formatRate, median, quantile, saveBenchSession } from "./lib.mjs";

const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test";
/** A stream parser's burst per stdout chunk, as in the ingest benchmark. */
const BATCH = 64;
const WORKER = fileURLToPath(new URL("./postgres-worker.mjs", import.meta.url));

/** Starts a worker; `ready` resolves once it is connected, `done` with its working time in ms. */
function startWorker(args) {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let markReady;
  let markDone;
  const ready = new Promise((resolve) => {
    markReady = resolve;
  });
  const done = new Promise((resolve) => {
    markDone = resolve;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
    if (stdout.includes("ready\n")) markReady();
    const finished = /done ([\d.]+)\n/.exec(stdout);
    if (finished) markDone(Number(finished[1]));
  });
  const exited = once(child, "exit").then(([code]) => {
    if (code !== 0) throw new Error(`bench worker ${args[0]} exited with ${code}: ${stderr}`);
  });
  // A worker that dies early fails whichever of these is awaited.
  const failed = exited.then(() => new Promise(() => {}));
  return {
    ready: Promise.race([ready, failed]),
    done: Promise.race([done, failed]),
    go: () => child.stdin.end("go\n"),
    exited,
  };
}

/** `writers` processes of `mode` appending `events` in all to a new session; events/s from "go" to the last "done". */
async function ingestSample(context, mode, events, writers) {
  const sessionId = await newSession(context.store);
  const perWriter = Math.ceil(events / writers);
  const processes = Array.from({ length: writers }, (_, index) =>
    startWorker([
      mode,
      context.url,
      context.schema,
      sessionId,
      String(Math.min(perWriter, events - index * perWriter)),
      String(BATCH),
    ]),
  );
  await Promise.all(processes.map(({ ready }) => ready));
  const started = performance.now();
  for (const { go } of processes) go();
  await Promise.all(processes.map(({ done }) => done));
  const ms = performance.now() - started;
  await Promise.all(processes.map(({ exited }) => exited));
  const check = await checkLog(context, sessionId, events, mode);
  return { eventsPerSecond: (events / ms) * 1000, ms, ...check };
}

async function newSession(store) {
  const id = newId("ses");
  await saveBenchSession(store, id);
  return id;
}

/** Gaps and duplicates in the session's sequences; anything but 0 and 0 fails the benchmark. */
async function checkLog({ admin, schema }, sessionId, events, what) {
  const { rows } = await admin.query(
    `SELECT count(*)::int AS count, count(DISTINCT sequence)::int AS distinct_sequences,
            coalesce(min(sequence), 0)::int AS first, coalesce(max(sequence), 0)::int AS last,
            (SELECT last_sequence::int FROM ${pg.escapeIdentifier(schema)}.sessions WHERE id = $1) AS counter
     FROM ${pg.escapeIdentifier(schema)}.events WHERE session_id = $1`,
    [sessionId],
  );
  const { count, distinct_sequences: distinct, first, last, counter } = rows[0];
  const gaps = last - first + 1 - distinct;
  const dupes = count - distinct;
  if (count !== events || first !== 1 || last !== events || counter !== events || gaps !== 0 || dupes !== 0) {
    throw new Error(`${what}: expected sequences 1..${events}, found ${JSON.stringify(rows[0])}`);
  }
  return { gaps, dupes };
}

/**
 * One process appends `count` events `gapMs` apart, each stamped with its send time; this one
 * follows with long-polls from its cursor and records each event's delivery delay.
 */
async function latencySample(context, count, gapMs) {
  const sessionId = await newSession(context.store);
  const delays = [];
  let cursor = 0;
  const follow = (async () => {
    while (delays.length < count) {
      const page = await context.store.getEvents(sessionId, {
        after: cursor,
        limit: 1000,
        waitTimeoutMs: 10_000,
      });
      const received = performance.timeOrigin + performance.now();
      if (page.length === 0) throw new Error(`follower: nothing for 10 s after ${delays.length} events`);
      for (const event of page) {
        delays.push(received - event.data.sentAt);
        cursor = event.sequence;
      }
    }
  })();
  const appender = startWorker([
    "timed",
    context.url,
    context.schema,
    sessionId,
    String(count),
    String(gapMs),
  ]);
  await appender.ready;
  appender.go();
  await Promise.all([follow, appender.done, appender.exited]);
  return delays;
}

export async function postgresBench({ events, repetitions, writers, followEvents }) {
  const url = process.env.ASM_BENCH_POSTGRES_URL ?? DEFAULT_URL;
  const schema = `asm_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const store = await openPostgresStore({ connectionString: url, schema });
  const context = { url, schema, store, admin };
  try {
    // One small unmeasured round of each warms up the server's caches and plans.
    await ingestSample(context, "store", 2_000, writers);
    await ingestSample(context, "raw", 2_000, writers);

    const viaStore = [];
    const raw = [];
    // Interleaved, so drift in machine speed hits both sides alike.
    for (let i = 0; i < repetitions; i++) {
      viaStore.push(await ingestSample(context, "store", events, writers));
      raw.push(await ingestSample(context, "raw", events, writers));
    }
    await latencySample(context, 20, 5);
    const delays = await latencySample(context, followEvents, 5);

    const storeRate = median(viaStore.map((sample) => sample.eventsPerSecond));
    const rawRate = median(raw.map((sample) => sample.eventsPerSecond));
    const p50 = quantile(delays, 0.5);
    const p99 = quantile(delays, 0.99);
    return {
      figures: {
        events,
        writers,
        eventsPerAppend: BATCH,
        storeEventsPerSecond: storeRate,
        rawEventsPerSecond: rawRate,
        gaps: 0,
        dupes: 0,
        followerEvents: followEvents,
        followerLatencyP50Ms: p50,
        followerLatencyP99Ms: p99,
        followerLatencyMaxMs: Math.max(...delays),
      },
      samples: {
        storeEventsPerSecond: viaStore.map((sample) => sample.eventsPerSecond),
        rawEventsPerSecond: raw.map((sample) => sample.eventsPerSecond),
        followerLatencyMs: delays,
      },
      ratio: storeRate / rawRate,
      summary:
        `postgres (${events} events, ${writers} writer processes, ${BATCH} per append): ` +
        `store ${formatRate(storeRate)} ev/s, raw pg ${formatRate(rawRate)} ev/s, 0 gaps, 0 dupes; ` +
        `follower latency across processes p50 ${formatMs(p50)}, p99 ${formatMs(p99)}`,
    };
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await admin.end();
  }
}
