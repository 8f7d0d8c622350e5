// Distributed run queue: throughput of short shell runs (`true`) executed by 1, 2 and 3 `Worker`
// processes (concurrency 2 each) on one PostgreSQL, submitted from this process through
// `RunQueue.enqueue` over 12 sessions (per-session FIFO, no global cap): the runs are queued
// first, then the workers start; runs/s over the first stored start → last stored end, with the
// machine's CPU busy share meanwhile. Then the queue latency on an idle queue, enqueue → the
// run's stored `startedAt` (p50/p99 of 30 runs, one at a time). Ratio: 3 workers / 1 (aim >= 2.5).
//
//   node bench/workers.mjs [--runs N] [--sessions N]     needs a built dist/ and PostgreSQL
//                                                         (ASM_TEST_POSTGRES_URL, default 127.0.0.1:5432/test)
// Writes bench/results/workers.json.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { SessionManager } from "../dist/index.js";
import { ShellAdapter } from "../dist/providers/shell/index.js";
import { openPostgresStore } from "../dist/stores/postgres/index.js";
import { RunQueue, Worker } from "../dist/workers/index.js";

const URL_ = process.env.ASM_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const arg = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};

if (process.argv[2] === "--worker") {
  // A worker process: executes shell runs of the schema's queue until SIGTERM.
  const schema = process.argv[3];
  const store = await openPostgresStore({ connectionString: URL_, schema, recover: false, poolSize: 4 });
  const manager = new SessionManager({ store, adapter: new ShellAdapter() });
  const worker = new Worker({
    connectionString: URL_,
    schema,
    managers: [manager],
    concurrency: 2,
    pollIntervalMs: 500,
  });
  await worker.start();
  process.stdout.write("ready\n");
  process.once("SIGTERM", async () => {
    await worker.stop({ graceMs: 2000 });
    await store.close();
    process.exit(0);
  });
} else {
  const runs = arg("--runs", 60);
  const sessions = arg("--sessions", 12);
  const results = [];
  for (const workers of [1, 2, 3]) results.push(await measure(workers, runs, sessions));
  const [one, , three] = results;
  const ratio = three.runsPerSecond / one.runsPerSecond;
  const report = {
    benchmark: "workers",
    machine: { cpus: cpus().length, node: process.version },
    runs,
    sessions,
    results,
    ratio3to1: Number(ratio.toFixed(2)),
    target: ">= 2.5",
    met: ratio >= 2.5,
  };
  for (const r of results) {
    console.log(
      `${r.workers} worker(s): ${r.runsPerSecond.toFixed(1)} runs/s (CPU busy ${Math.round(r.cpuBusy * 100)}% of ${cpus().length} cores), idle enqueue→run_started p50 ${r.idleLatencyMs.p50} ms, p99 ${r.idleLatencyMs.p99} ms`,
    );
  }
  console.log(
    `3/1 ratio ${ratio.toFixed(2)} (target >= 2.5: ${report.met ? "met" : "not met"}) on ${cpus().length} cores`,
  );
  mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
  writeFileSync(join(import.meta.dirname, "results", "workers.json"), `${JSON.stringify(report, null, 2)}\n`);
}

async function measure(workerCount, runCount, sessionCount) {
  const schema = `asm_bench_${randomBytes(4).toString("hex")}`;
  const store = await openPostgresStore({ connectionString: URL_, schema, recover: false });
  const queue = await RunQueue.open({ connectionString: URL_, schema });
  const manager = new SessionManager({ store, adapter: new ShellAdapter() });
  const children = [];
  try {
    const sessionIds = [];
    for (let i = 0; i < sessionCount; i++) {
      const session = await manager.startSession({ agentId: "bench" });
      await manager.activateSession(session.id);
      sessionIds.push(session.id);
    }
    // Throughput: the runs wait in the queue before the workers start, and the window is from the
    // first stored start to the last stored end, so neither enqueueing nor worker start-up counts.
    const runIds = [];
    for (let i = 0; i < runCount; i++) {
      const run = await queue.enqueue(manager, {
        sessionId: sessionIds[i % sessionCount],
        input: { command: ["true"] },
      });
      runIds.push(run.id);
    }
    const cpuBefore = cpuTimes();
    children.push(...(await Promise.all(Array.from({ length: workerCount }, () => startWorker(schema)))));
    await drained(queue);
    const cpu = cpuBusy(cpuBefore, cpuTimes());
    const stored = await Promise.all(runIds.map((runId) => store.getRun(runId)));
    const failed = stored.filter((run) => run.status !== "completed");
    if (failed.length > 0) throw new Error(`${failed.length} runs did not complete`);
    const first = Math.min(...stored.map((run) => Date.parse(run.startedAt)));
    const last = Math.max(...stored.map((run) => Date.parse(run.endedAt)));
    const seconds = (last - first) / 1000;

    // Queue latency on an idle queue: one run at a time, enqueue → its stored startedAt.
    const latencies = [];
    for (let i = 0; i < 30; i++) {
      const at = Date.now();
      const run = await queue.enqueue(manager, {
        sessionId: sessionIds[i % sessionCount],
        input: { command: ["true"] },
      });
      await drained(queue);
      latencies.push(Date.parse((await store.getRun(run.id)).startedAt) - at);
    }
    latencies.sort((a, b) => a - b);
    const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      workers: workerCount,
      seconds: Number(seconds.toFixed(2)),
      runsPerSecond: runCount / seconds,
      cpuBusy: Number(cpu.toFixed(2)),
      idleLatencyMs: { p50: pick(0.5), p99: pick(0.99) },
    };
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            child.once("exit", resolve);
            child.kill("SIGTERM");
          }),
      ),
    );
    await queue.close();
    await store.close();
    const client = new pg.Client({ connectionString: URL_ });
    await client.connect();
    await client.query(
      `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_queue" CASCADE`,
    );
    await client.end();
  }
}

async function drained(queue) {
  for (;;) {
    const status = await queue.status();
    if (status.queued === 0 && status.running === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Busy and total jiffies of all cores, from /proc/stat (Linux). */
function cpuTimes() {
  const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const values = fields.map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

function cpuBusy(before, after) {
  return (after.busy - before.busy) / Math.max(1, after.total - before.total);
}

function startWorker(schema) {
  const child = spawn(process.execPath, [import.meta.filename, "--worker", schema], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      if (chunk.toString().includes("ready")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`worker exited ${code}: ${stderr}`)));
  });
}
