// The session runtime: what idle SessionServers cost, how quickly a submitted run starts when a
// thousand servers are busy, and how a session's subscriptions keep up with a streaming run.
// Each is compared with the bare library measured in the same run: sessions without a server,
// runs through SessionManager.executeRun, followers on the store's own long-poll follow.
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { AsmError } from "../dist/core/index.js";
import { SessionManager } from "../dist/index.js";
import { SessionServer } from "../dist/runtime/session-server.js";
import { MemorySessionStore } from "../dist/stores/memory/index.js";
import { collectGarbage, formatMs, quantile } from "./lib.mjs";

const KB = 1024;
/** The aims: reported beside the ratio, not asserted. */
const AIM_IDLE_SERVER_BYTES = 20 * KB;
const AIM_FANOUT_P99_MS = 5;

/** An adapter whose runs are short and scripted: `run_started`, one message, done. */
class ShortRunAdapter {
  specificationVersion = "v1";
  name = "bench";
  capabilities = [{ name: "streaming", type: "sampling" }];

  /** @param {(runId: string) => void} onStart called as the run starts, before `run_started` */
  constructor(onStart = () => {}) {
    this.onStart = onStart;
  }

  async execute(request, sink) {
    this.onStart(request.run.id);
    sink.emit({ type: "run_started", data: { model: "bench-model" } });
    await new Promise((resolve) => setImmediate(resolve));
    sink.emit({ type: "message_received", data: { role: "assistant", content: "ok" } });
    return { output: { content: "ok" }, stopReason: "end_turn" };
  }

  async cancel() {
    return false;
  }
}

function heapUsed() {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------------------------------------
// 1. Idle servers: heap per server and creation time, against bare sessions.

/** `count` sessions created and activated through the manager alone: what the store keeps. */
async function bareSessions(count) {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: new ShortRunAdapter() });
  const before = heapUsed();
  const start = performance.now();
  const ids = [];
  for (let i = 0; i < count; i++) {
    const session = await manager.startSession({ agentId: "bench" });
    await manager.activateSession(session.id);
    ids.push(session.id);
  }
  const ms = performance.now() - start;
  const bytes = heapUsed() - before;
  if (ids.length !== count) throw new Error("bare sessions: not all created");
  await store.close();
  return { bytesPer: bytes / count, msPer: ms / count };
}

/** `count` idle SessionServers, each with a new session, in one memory store. */
async function idleServers(count) {
  const store = new MemorySessionStore();
  // One manager serves every server of the store, as in an application.
  const manager = new SessionManager({ store, adapter: new ShortRunAdapter() });
  const before = heapUsed();
  const start = performance.now();
  const servers = [];
  for (let i = 0; i < count; i++) {
    servers.push(await SessionServer.start({ manager, session: { agentId: "bench" } }));
  }
  const ms = performance.now() - start;
  const bytes = heapUsed() - before;
  const active = servers.filter((server) => server.status().sessionId).length;
  if (active !== count) throw new Error(`idle servers: ${active} of ${count} report a session`);
  for (const server of servers) await server.close();
  await store.close();
  return { bytesPer: bytes / count, msPer: ms / count };
}

export async function runtimeIdleBench({ servers, repetitions }) {
  await bareSessions(Math.min(servers, 500));
  await idleServers(Math.min(servers, 500));
  const bare = [];
  const served = [];
  for (let i = 0; i < repetitions; i++) {
    bare.push(await bareSessions(servers));
    served.push(await idleServers(servers));
  }
  const median = (samples, key) =>
    quantile(
      samples.map((sample) => sample[key]),
      0.5,
    );
  const serverBytes = median(served, "bytesPer");
  const bareBytes = median(bare, "bytesPer");
  const overhead = serverBytes - bareBytes;
  const serverMs = median(served, "msPer");
  const bareMs = median(bare, "msPer");
  return {
    figures: {
      servers,
      heapPerServerBytes: serverBytes,
      heapPerBareSessionBytes: bareBytes,
      serverOverheadBytes: overhead,
      createMsPerServer: serverMs,
      createMsPerBareSession: bareMs,
      createAllMs: serverMs * servers,
      aimServerBytes: AIM_IDLE_SERVER_BYTES,
      aimMet: serverBytes < AIM_IDLE_SERVER_BYTES,
    },
    samples: { served, bare },
    ratio: serverBytes / bareBytes,
    summary:
      `runtime-idle (${servers} idle servers): ${(serverBytes / KB).toFixed(1)} KB heap per server ` +
      `(session included; a bare session ${(bareBytes / KB).toFixed(1)} KB, the server adds ` +
      `${(overhead / KB).toFixed(1)} KB), created in ${(serverMs * servers).toFixed(0)} ms ` +
      `(${(serverMs * 1000).toFixed(0)} µs each, a bare session ${(bareMs * 1000).toFixed(0)} µs)`,
    aside: `aim < ${AIM_IDLE_SERVER_BYTES / KB} KB per idle server: ${serverBytes < AIM_IDLE_SERVER_BYTES ? "met" : "MISSED"}`,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Busy servers: submit → run_started latency, against executeRun on bare sessions.

/**
 * `sessions` sessions, each running `runs` short runs one after another, all sessions at once.
 * `submit(sessionId, index)` starts a run and returns `{ runId, done }`; the latency of a run is
 * from that call to the adapter's `execute` (just before its `run_started`).
 */
async function startLatencies(sessions, runs, open) {
  return measureStarts(sessions, open, async (submitters, submitRecorded) => {
    await Promise.all(
      submitters.map(async (submit) => {
        for (let i = 0; i < runs; i++) await submitRecorded(submit);
      }),
    );
    return sessions * runs;
  });
}

/**
 * The same servers (or sessions) at rest: one run every `intervalMs`, round robin over them, so
 * the delay is the runtime's own rather than the wait behind a saturated event loop.
 */
async function pacedStartLatencies(sessions, runs, intervalMs, open) {
  return measureStarts(sessions, open, async (submitters, submitRecorded) => {
    const pending = [];
    for (let i = 0; i < runs; i++) {
      pending.push(submitRecorded(submitters[i % submitters.length]));
      await sleep(intervalMs);
    }
    await Promise.all(pending);
    return runs;
  });
}

/**
 * Opens `sessions` submitters with `open`, lets `drive` submit runs through `submitRecorded`
 * (which notes when each run was submitted and waits for its end), and returns each run's delay
 * from its submit call to the adapter's `execute` (just before its `run_started`).
 */
async function measureStarts(sessions, open, drive) {
  const submittedAt = new Map();
  const startedAt = new Map();
  const adapter = new ShortRunAdapter((runId) => startedAt.set(runId, performance.now()));
  const { submitters, close } = await open(adapter, sessions);
  const submitRecorded = async (submit) => {
    const at = performance.now();
    const { runId, done } = await submit();
    submittedAt.set(runId, at);
    await done;
  };
  collectGarbage();
  const start = performance.now();
  const expected = await drive(submitters, submitRecorded);
  const ms = performance.now() - start;
  await close();
  const latencies = [...submittedAt].map(([runId, at]) => {
    const started = startedAt.get(runId);
    if (started === undefined) throw new Error(`latency: run ${runId} never started`);
    return started - at;
  });
  if (latencies.length !== expected)
    throw new Error(`latency: ${latencies.length} of ${expected} runs submitted`);
  return { latencies, runsPerSecond: (expected * 1000) / ms };
}

/** Bare: startRun + executeRun through one manager, per session. */
async function openBare(adapter, sessions) {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter });
  const submitters = [];
  for (let i = 0; i < sessions; i++) {
    const session = await manager.activateSession((await manager.startSession({ agentId: "bench" })).id);
    submitters.push(async () => {
      const run = await manager.startRun(session.id, "go");
      return { runId: run.id, done: manager.executeRun(run.id) };
    });
  }
  return { submitters, close: () => store.close() };
}

/** Served: one SessionServer per session, submitRun + awaitRun. */
async function openServed(adapter, sessions) {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter });
  const servers = [];
  for (let i = 0; i < sessions; i++) {
    servers.push(await SessionServer.start({ manager, session: { agentId: "bench" } }));
  }
  const submitters = servers.map((server) => async () => {
    const runId = await server.submitRun("go");
    return { runId, done: server.awaitRun(runId) };
  });
  return {
    submitters,
    close: async () => {
      for (const server of servers) await server.close();
      await store.close();
    },
  };
}

export async function runtimeLatencyBench({ servers, runs, repetitions, pacedRuns, pacedIntervalMs }) {
  await startLatencies(Math.min(servers, 100), 2, openBare);
  await startLatencies(Math.min(servers, 100), 2, openServed);
  const bare = [];
  const served = [];
  for (let i = 0; i < repetitions; i++) {
    bare.push(await startLatencies(servers, runs, openBare));
    served.push(await startLatencies(servers, runs, openServed));
  }
  const pacedBare = await pacedStartLatencies(servers, pacedRuns, pacedIntervalMs, openBare);
  const pacedServed = await pacedStartLatencies(servers, pacedRuns, pacedIntervalMs, openServed);
  const all = (samples) => samples.flatMap((sample) => sample.latencies);
  const servedAll = all(served);
  const bareAll = all(bare);
  const figures = {
    servers,
    runsPerServer: runs,
    servedP50Ms: quantile(servedAll, 0.5),
    servedP99Ms: quantile(servedAll, 0.99),
    bareP50Ms: quantile(bareAll, 0.5),
    bareP99Ms: quantile(bareAll, 0.99),
    servedRunsPerSecond: quantile(
      served.map((sample) => sample.runsPerSecond),
      0.5,
    ),
    bareRunsPerSecond: quantile(
      bare.map((sample) => sample.runsPerSecond),
      0.5,
    ),
    paced: {
      runs: pacedRuns,
      runsPerSecond: 1000 / pacedIntervalMs,
      servedP50Ms: quantile(pacedServed.latencies, 0.5),
      servedP99Ms: quantile(pacedServed.latencies, 0.99),
      bareP50Ms: quantile(pacedBare.latencies, 0.5),
      bareP99Ms: quantile(pacedBare.latencies, 0.99),
    },
  };
  const { paced } = figures;
  return {
    figures,
    samples: {
      servedRunsPerSecond: served.map((sample) => sample.runsPerSecond),
      bareRunsPerSecond: bare.map((sample) => sample.runsPerSecond),
    },
    ratio: figures.servedP99Ms / figures.bareP99Ms,
    summary:
      `runtime-latency (${servers} busy servers × ${runs} runs): submit→run_started p50 / p99 ` +
      `${formatMs(figures.servedP50Ms)} / ${formatMs(figures.servedP99Ms)} through SessionServer, ` +
      `${formatMs(figures.bareP50Ms)} / ${formatMs(figures.bareP99Ms)} through startRun + executeRun ` +
      `(runs/s: ${figures.servedRunsPerSecond.toFixed(0)} served, ${figures.bareRunsPerSecond.toFixed(0)} bare)`,
    aside:
      `at rest (${paced.runsPerSecond.toFixed(0)} runs/s over the ${servers} servers): p50 / p99 ` +
      `${formatMs(paced.servedP50Ms)} / ${formatMs(paced.servedP99Ms)} through SessionServer, ` +
      `${formatMs(paced.bareP50Ms)} / ${formatMs(paced.bareP99Ms)} bare`,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Fan-out: many subscribers of one session while a run streams, against store followers.

/** Delays in a histogram of 10 µs buckets up to 10 s: 10M deliveries without 10M samples. */
class DelayHistogram {
  static BUCKET_MS = 0.01;
  counts = new Uint32Array(1_000_000);
  total = 0;
  max = 0;

  add(ms) {
    const bucket = Math.min(this.counts.length - 1, Math.max(0, Math.floor(ms / DelayHistogram.BUCKET_MS)));
    this.counts[bucket]++;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  quantile(p) {
    const rank = Math.ceil(p * this.total);
    let seen = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket++) {
      seen += this.counts[bucket];
      if (seen >= rank) return (bucket + 1) * DelayHistogram.BUCKET_MS;
    }
    return this.max;
  }
}

/**
 * Emits `events` `message_streamed` events whose delta is their index, `perTick` every
 * `intervalMs`, noting the time just before each emit in `sentAt`.
 */
class PacedAdapter {
  specificationVersion = "v1";
  name = "bench";
  capabilities = [{ name: "streaming", type: "sampling" }];

  constructor({ events, perTick, intervalMs, sentAt }) {
    Object.assign(this, { events, perTick, intervalMs, sentAt });
  }

  async execute(_request, sink, signal) {
    sink.emit({ type: "run_started", data: {} });
    for (let index = 0; index < this.events; ) {
      await sleep(this.intervalMs);
      if (signal.aborted) throw new AsmError("cancelled", "bench run aborted");
      for (const end = Math.min(this.events, index + this.perTick); index < end; index++) {
        this.sentAt[index] = performance.now();
        sink.emit({ type: "message_streamed", data: { delta: String(index) } });
      }
    }
    return { output: { content: "streamed" }, stopReason: "end_turn" };
  }

  async cancel() {
    return false;
  }
}

/**
 * One receiver's checks: every streamed event once, in order (its index follows the last
 * one), and the delay of each into `histogram`.
 */
function receiver(sentAt, histogram, counters) {
  let next = 0;
  let lastSequence = 0;
  return (event) => {
    const now = performance.now();
    if (event.sequence <= lastSequence) counters.reordered++;
    lastSequence = event.sequence;
    if (event.type !== "message_streamed") return;
    const index = Number(event.data.delta);
    // A gap shows as fewer deliveries than expected; a repeat or step back as reordered.
    if (index < next) counters.reordered++;
    next = Math.max(next, index + 1);
    counters.delivered++;
    histogram.add(now - sentAt[index]);
  };
}

/** The run streams while `subscribers` receivers attach through `attach`; returns their figures. */
async function fanOutSample({ subscribers, events, perTick, intervalMs }, attach) {
  const store = new MemorySessionStore();
  const sentAt = new Float64Array(events);
  const adapter = new PacedAdapter({ events, perTick, intervalMs, sentAt });
  const histogram = new DelayHistogram();
  const counters = { delivered: 0, reordered: 0 };
  const { run, detach } = await attach(store, adapter, subscribers, () =>
    receiver(sentAt, histogram, counters),
  );
  collectGarbage();
  await run();
  await detach(subscribers * events, counters);
  await store.close();
  const expected = subscribers * events;
  return {
    p50Ms: histogram.quantile(0.5),
    p99Ms: histogram.quantile(0.99),
    maxMs: histogram.max,
    delivered: counters.delivered,
    expected,
    lost: expected - counters.delivered,
    reordered: counters.reordered,
  };
}

/** Waits until `counters.delivered` reaches `expected`, or the grace runs out. */
async function delivered(counters, expected, graceMs = 30_000) {
  const until = performance.now() + graceMs;
  while (counters.delivered < expected && performance.now() < until) await sleep(5);
}

/** Baseline: each receiver follows the session with the store's own long-poll follow. */
async function attachFollowers(store, adapter, subscribers, makeReceiver) {
  const manager = new SessionManager({ store, adapter });
  const session = await manager.activateSession((await manager.startSession({ agentId: "bench" })).id);
  const stop = new AbortController();
  // Every follower listens to this one signal.
  setMaxListeners(0, stop.signal);
  const from = await store.getLatestSequence(session.id);
  const following = Array.from({ length: subscribers }, async () => {
    const receive = makeReceiver();
    try {
      for await (const event of manager.streamSessionEvents(session.id, {
        after: from,
        follow: true,
        pageSize: 1000,
        signal: stop.signal,
      })) {
        receive(event);
      }
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
  });
  return {
    run: async () => {
      const run = await manager.startRun(session.id, "stream");
      await manager.executeRun(run.id);
    },
    detach: async (expected, counters) => {
      await delivered(counters, expected);
      stop.abort();
      await Promise.all(following);
    },
  };
}

/** Measured: each receiver is a listener subscribed to the session's SessionServer. */
async function attachSubscribers(store, adapter, subscribers, makeReceiver) {
  const manager = new SessionManager({ store, adapter });
  const server = await SessionServer.start({ manager, session: { agentId: "bench" } });
  const from = (await store.getLatestSequence(server.sessionId)) + 1;
  const subscriptions = [];
  for (let i = 0; i < subscribers; i++) {
    subscriptions.push(await server.subscribe(makeReceiver(), { fromSequence: from }));
  }
  return {
    run: () => server.executeRun("stream"),
    detach: async (expected, counters) => {
      await delivered(counters, expected);
      for (const subscription of subscriptions) subscription.unsubscribe();
      await server.close();
    },
  };
}

export async function runtimeFanOutBench(config) {
  const warmUp = { ...config, subscribers: Math.min(config.subscribers, 50), events: 200 };
  await fanOutSample(warmUp, attachFollowers);
  await fanOutSample(warmUp, attachSubscribers);
  const followers = await fanOutSample(config, attachFollowers);
  const served = await fanOutSample(config, attachSubscribers);
  for (const [name, sample] of [
    ["store followers", followers],
    ["subscribers", served],
  ]) {
    if (sample.lost !== 0 || sample.reordered !== 0) {
      throw new Error(
        `fan-out ${name}: ${sample.lost} lost, ${sample.reordered} reordered of ${sample.expected}`,
      );
    }
  }
  const { subscribers, events } = config;
  return {
    figures: {
      subscribers,
      events,
      paceEventsPerSecond: (config.perTick * 1000) / config.intervalMs,
      subscription: served,
      storeFollow: followers,
      aimP99Ms: AIM_FANOUT_P99_MS,
      aimMet: served.p99Ms < AIM_FANOUT_P99_MS,
    },
    samples: {},
    ratio: served.p99Ms / followers.p99Ms,
    summary:
      `runtime-fanout (${subscribers} subscribers × ${events} events): append→delivery p50 / p99 ` +
      `${formatMs(served.p50Ms)} / ${formatMs(served.p99Ms)} through subscriptions, ` +
      `${formatMs(followers.p50Ms)} / ${formatMs(followers.p99Ms)} through store follows; ` +
      `${served.delivered} deliveries, 0 lost, 0 reordered`,
    aside: `aim p99 < ${AIM_FANOUT_P99_MS} ms: ${served.p99Ms < AIM_FANOUT_P99_MS ? "met" : "MISSED"} (max ${formatMs(served.maxMs)})`,
  };
}
