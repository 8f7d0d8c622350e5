// SSE fan-out and event-page benchmark of the HTTP API (run alone; needs a built dist/):
//
//   node bench/sse.mjs [--clients 1000] [--rate 1000] [--seconds 5] [--quick]   → bench/results/sse.json
//
// 1. fan-out: `--clients` SSE connections to one session, opened by a child process on loopback,
//    while a run appends `--rate` message_streamed events per second for `--seconds` (SQLite
//    file). Each event carries its emit time (performance.timeOrigin + now(), one machine), so
//    the child records emit → parsed-by-the-client delay per delivery: p50/p99/max; every client
//    must get every event once, in order (lost and out-of-order counts). Server CPU (this
//    process's user+system time over the phase) per delivered event.
//    Baseline, same run, same events, same frames: a bare Hono `streamSSE` endpoint fed by the
//    run's `onEvent` (no store follower, no per-client subscription, no bound) — the cost of a
//    broadcast with nothing durable behind it. Both phases include the run writing to SQLite.
// 2. pages: requests/s of GET …/events?after=<random>&limit=100 from the child process (32 in
//    flight) vs `store.getEvents` with the same arguments called in-process, one at a time.
//
//   node bench/sse.mjs --child fanout <url> <clients>      (the client process)
//   node bench/sse.mjs --child pages <url> <maxAfter> <ms>
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { cpus } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { SessionManager } from "../dist/index.js";
import { sseFrame, startApiServer } from "../dist/server/index.js";
import { openSqliteStore } from "../dist/stores/sqlite/index.js";
import { formatMs, seededRandom, tempDir } from "./lib.mjs";

const now = () => performance.timeOrigin + performance.now();

if (process.argv[2] === "--child") {
  if (process.argv[3] === "fanout") await fanoutChild(process.argv[4], Number(process.argv[5]));
  else await pagesChild(process.argv[4], Number(process.argv[5]), Number(process.argv[6]));
  process.exit(0);
}

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const index = args.indexOf(name);
  return index === -1 ? fallback : Number(args[index + 1]);
};
const quick = args.includes("--quick");
const clients = flag("--clients", quick ? 100 : 1000);
const rate = flag("--rate", 1000);
const seconds = flag("--seconds", quick ? 2 : 5);
const events = rate * seconds;

/** Emits `events` message_streamed events, `rate` per second in 10 ms ticks, each with its emit time. */
class PacedAdapter {
  specificationVersion = "v1";
  name = "bench";
  capabilities = [{ name: "streaming", type: "sampling" }];

  async execute(_request, sink) {
    sink.emit({ type: "run_started", data: {} });
    const perTick = Math.max(1, Math.round(rate / 100));
    const started = performance.now();
    for (let index = 0; index < events; ) {
      // Paced against the start, so a slow tick does not lower the rate.
      const due = started + (index / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      for (const end = Math.min(events, index + perTick); index < end; index++) {
        sink.emit({ type: "message_streamed", data: { delta: String(now()) } });
      }
    }
    return { output: { content: "streamed" }, stopReason: "end_turn" };
  }

  async cancel() {
    return false;
  }
}

const { dir, remove } = tempDir("sse");
const store = await openSqliteStore({ path: join(dir, "sse.db") });
const manager = new SessionManager({ store, adapter: new PacedAdapter() });
const api = await startApiServer({ manager, port: 0, dev: true });

// The baseline: a bare Hono SSE endpoint, fed by the run's onEvent.
const bareWriters = new Set();
const bare = new Hono();
bare.get("/stream", (c) =>
  streamSSE(c, async (stream) => {
    const write = (frame) => stream.write(frame);
    bareWriters.add(write);
    await new Promise((resolve) => stream.onAbort(resolve));
    bareWriters.delete(write);
  }),
);
const bareServer = await new Promise((resolve) => {
  const server = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(server));
});
const bareUrl = `http://127.0.0.1:${bareServer.address().port}/stream`;

const session = await manager.startSession({ agentId: "bench" });
await manager.activateSession(session.id);

async function fanout(label, url, onEvent) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), "--child", "fanout", url, String(clients)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const ready = JSON.parse((await iterator.next()).value);
  if (ready.connected !== clients) throw new Error(`${label}: ${ready.connected} of ${clients} connected`);
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const run = await manager.startRun(session.id, "stream");
  await manager.executeRun(run.id, onEvent ? { onEvent } : {});
  const result = JSON.parse((await iterator.next()).value);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  child.kill();
  const delivered = result.delivered;
  const figures = {
    clients,
    events,
    delivered,
    lost: clients * events - delivered,
    outOfOrder: result.outOfOrder,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    maxMs: result.maxMs,
    serverCpuMs: (cpu.user + cpu.system) / 1000,
    serverCpuUsPerDelivery: (cpu.user + cpu.system) / delivered,
    wallMs,
  };
  console.log(
    `${label.padEnd(6)} ${clients} clients × ${events} events: p50 ${formatMs(figures.p50Ms)}, p99 ${formatMs(
      figures.p99Ms,
    )}, max ${formatMs(figures.maxMs)}, lost ${figures.lost}, out of order ${figures.outOfOrder}, server CPU ${figures.serverCpuUsPerDelivery.toFixed(2)} µs/delivery`,
  );
  return figures;
}

const latestBefore = await store.getLatestSequence(session.id);
const apiUrl = `${api.url}/api/v1/sessions/${session.id}/events/stream?after=${latestBefore}&types=message_streamed,run_completed`;
const apiFigures = await fanout("api", apiUrl);
const bareFigures = await fanout("bare", bareUrl, (event) => {
  if (event.type !== "message_streamed" && event.type !== "run_completed") return;
  const frame = sseFrame(event);
  for (const write of bareWriters) write(frame);
});

// 2. pages
const maxAfter = (await store.getLatestSequence(session.id)) - 100;
const pageMs = quick ? 1000 : 3000;
const pageChild = spawn(
  process.execPath,
  [
    fileURLToPath(import.meta.url),
    "--child",
    "pages",
    `${api.url}/api/v1/sessions/${session.id}/events`,
    String(maxAfter),
    String(pageMs),
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let pageOutput = "";
pageChild.stdout.on("data", (chunk) => {
  pageOutput += chunk;
});
await new Promise((resolve) => pageChild.on("close", resolve));
const httpPages = JSON.parse(pageOutput);
const random = seededRandom(7);
let calls = 0;
const inProcessStart = performance.now();
while (performance.now() - inProcessStart < pageMs) {
  const page = await store.getEvents(session.id, { after: Math.floor(random() * maxAfter), limit: 100 });
  if (page.length !== 100) throw new Error("short page");
  calls += 1;
}
const inProcessPerSecond = calls / ((performance.now() - inProcessStart) / 1000);
console.log(
  `pages: HTTP ${Math.round(httpPages.perSecond)} req/s (32 in flight, another process) vs getEvents in-process ${Math.round(
    inProcessPerSecond,
  )} calls/s: ratio ${(httpPages.perSecond / inProcessPerSecond).toFixed(2)}`,
);

await api.close();
bareServer.close();
bareServer.closeAllConnections?.();
await store.close();
remove();

const result = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  parameters: { clients, rate, seconds, events },
  fanout: {
    api: apiFigures,
    bare: bareFigures,
    p99Ratio: apiFigures.p99Ms / bareFigures.p99Ms,
    cpuRatio: apiFigures.serverCpuUsPerDelivery / bareFigures.serverCpuUsPerDelivery,
    aimP99Ms: 50,
    meetsAim: apiFigures.p99Ms < 50,
  },
  pages: {
    httpPerSecond: httpPages.perSecond,
    inProcessPerSecond,
    ratio: httpPages.perSecond / inProcessPerSecond,
  },
};
console.log(
  `api/bare: p99 ×${result.fanout.p99Ratio.toFixed(2)}, CPU per delivery ×${result.fanout.cpuRatio.toFixed(2)}; aim p99 < 50 ms: ${result.fanout.meetsAim ? "met" : "not met"}`,
);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/sse.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
if (apiFigures.lost !== 0 || apiFigures.outOfOrder !== 0) {
  console.error("FAILED: the API lost or reordered events");
  process.exit(1);
}

/** Opens `count` SSE connections; prints {connected}, then, once every client saw run_completed, the figures. */
async function fanoutChild(url, count) {
  const latencies = [];
  let delivered = 0;
  let outOfOrder = 0;
  let completed = 0;
  let connected = 0;
  let allDone;
  const done = new Promise((resolve) => {
    allDone = resolve;
  });
  for (let index = 0; index < count; index++) {
    await new Promise((resolve, reject) => {
      const req = httpRequest(url, { agent: false }, (res) => {
        connected += 1;
        resolve();
        res.setEncoding("utf8");
        let buffer = "";
        let last = 0;
        res.on("data", (chunk) => {
          buffer += chunk;
          let end = buffer.indexOf("\n\n");
          while (end !== -1) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf("\n\n");
            // The fields this needs, without parsing each event's JSON: the client process must
            // not be the bottleneck it measures.
            if (frame.includes("\nevent: run_completed\n")) {
              completed += 1;
              if (completed === count) allDone();
              continue;
            }
            const idAt = frame.indexOf("id: ");
            const deltaAt = frame.indexOf('"delta":"');
            if (idAt === -1 || deltaAt === -1) continue;
            const at = now();
            const sequence = Number(frame.slice(idAt + 4, frame.indexOf("\n", idAt)));
            if (sequence <= last) outOfOrder += 1;
            last = sequence;
            delivered += 1;
            latencies.push(at - Number(frame.slice(deltaAt + 9, frame.indexOf('"', deltaAt + 9))));
          }
        });
      });
      req.on("error", reject);
      req.end();
    });
  }
  process.stdout.write(`${JSON.stringify({ connected })}\n`);
  await done;
  const sorted = Float64Array.from(latencies).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  process.stdout.write(
    `${JSON.stringify({ delivered, outOfOrder, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) })}\n`,
  );
}

/** Fetches random pages, 32 at a time, for `ms`; prints the rate. */
async function pagesChild(url, maxAfter, ms) {
  const random = seededRandom(7);
  let count = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() - started < ms) {
        const response = await fetch(`${url}?after=${Math.floor(random() * maxAfter)}&limit=100`);
        const body = await response.json();
        if (body.items.length !== 100) throw new Error(`short page: ${JSON.stringify(body).slice(0, 200)}`);
        count += 1;
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ perSecond: count / ((performance.now() - started) / 1000) })}\n`);
}
