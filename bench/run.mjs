// Runs the benchmarks against the built library (dist/), prints one line per benchmark with its
// figures and its ratio to a baseline measured in the same run, and writes bench/results/latest.json.
//
//   node --expose-gc bench/run.mjs [--quick] [ingest|cursor|coldStart|postgres|adapter-overhead|fuzz-providers|runtime-idle|runtime-latency|runtime-fanout ...]
//
// Exits non-zero when a benchmark crashes (or its integrity check fails); a missed target is
// reported, not treated as a failure. A benchmark without a target only reports its ratio.
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { describeTarget, meetsTarget } from "./lib.mjs";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.filter((arg) => !arg.startsWith("--"));

const sizes = quick
  ? {
      ingest: { events: 5_000, repetitions: 2, followEvents: 200, followStreamEvents: 5_000 },
      "ingest-redaction": { events: 5_000, repetitions: 2 },
      cursor: { smallEvents: 10_000, largeEvents: 100_000, pages: 300 },
      coldStart: { repetitions: 5 },
      postgres: { events: 8_000, repetitions: 1, writers: 4, followEvents: 100 },
      "adapter-overhead": { events: 2_000, repetitions: 1, warmupEvents: 200 },
      "fuzz-providers": { lines: 1_000, hugeLines: 2 },
      "runtime-idle": { servers: 1_000, repetitions: 1 },
      "runtime-latency": { servers: 100, runs: 3, repetitions: 1, pacedRuns: 200, pacedIntervalMs: 5 },
      "runtime-fanout": { subscribers: 100, events: 1_000, perTick: 1, intervalMs: 2 },
    }
  : {
      ingest: { events: 100_000, repetitions: 5, followEvents: 1_000, followStreamEvents: 20_000 },
      "ingest-redaction": { events: 100_000, repetitions: 5 },
      cursor: { smallEvents: 10_000, largeEvents: 1_000_000, pages: 2_000 },
      coldStart: { repetitions: 15 },
      postgres: { events: 100_000, repetitions: 3, writers: 4, followEvents: 500 },
      "adapter-overhead": { events: 20_000, repetitions: 5, warmupEvents: 2_000 },
      "fuzz-providers": { lines: 10_000, hugeLines: 4 },
      "runtime-idle": { servers: 10_000, repetitions: 3 },
      "runtime-latency": { servers: 1_000, runs: 5, repetitions: 3, pacedRuns: 2_000, pacedIntervalMs: 5 },
      "runtime-fanout": { subscribers: 1_000, events: 10_000, perTick: 1, intervalMs: 2 },
    };

// Modules are imported when their benchmark runs, so one that fails to load (say, a store that
// does not build) is reported as that benchmark's crash and the others still run.
const benchmarks = [
  {
    name: "ingest",
    module: "./ingest.mjs",
    entry: "ingestBench",
    ratioOf: "pipeline / raw events per second",
    target: { atLeast: 0.85 },
  },
  {
    name: "ingest-redaction",
    module: "./ingest.mjs",
    entry: "ingestRedactionBench",
    ratioOf: "pipeline events per second, redaction on / off",
    target: { atLeast: 0.8 },
  },
  {
    name: "cursor",
    module: "./cursor.mjs",
    entry: "cursorBench",
    ratioOf: "page time, large session / small session",
    target: { atMost: 2 },
  },
  {
    name: "coldStart",
    module: "./cold-start.mjs",
    entry: "coldStartBench",
    ratioOf: "asm --help / node -e 0 wall time",
    target: { atMost: 3 },
  },
  {
    name: "postgres",
    module: "./postgres.mjs",
    entry: "postgresBench",
    ratioOf: "store / raw pg events per second, 4 writer processes on one session",
    target: { atLeast: 0.5 },
  },
  {
    name: "adapter-overhead",
    module: "./adapter-overhead.mjs",
    entry: "adapterOverheadBench",
    ratioOf:
      "µs/event through scripted CLI + SDK/spawner + adapter / pipeline-only µs/event, largest of claude, codex, amp",
    // The issue asks for the overhead to be measured; no bound has been agreed yet.
    target: undefined,
  },
  {
    name: "fuzz-providers",
    module: "./fuzz-providers.mjs",
    entry: "fuzzProvidersBench",
    ratioOf:
      "adapter process peak RSS, fuzzed output with 10 MiB lines / the same without them, largest of claude, codex, amp",
    // Bounded memory: lines over the limit are never held whole, so they add GC slack at most.
    target: { atMost: 1.5 },
  },
  {
    name: "runtime-idle",
    module: "./runtime.mjs",
    entry: "runtimeIdleBench",
    ratioOf: "heap per idle SessionServer (its session included) / heap per bare session",
    // The aim is absolute (< 20 KB per server): reported on the line under the ratio.
    target: undefined,
  },
  {
    name: "runtime-latency",
    module: "./runtime.mjs",
    entry: "runtimeLatencyBench",
    ratioOf: "submit→run_started p99, SessionServer.submitRun / startRun + executeRun, 1,000 busy sessions",
    target: undefined,
  },
  {
    name: "runtime-fanout",
    module: "./runtime.mjs",
    entry: "runtimeFanOutBench",
    ratioOf: "append→delivery p99, 1,000 SessionServer subscribers / 1,000 store followers of one session",
    // The aim is absolute (p99 < 5 ms): reported on the line under the ratio.
    target: undefined,
  },
];

if (!globalThis.gc) console.warn("bench: run with node --expose-gc so garbage is collected between samples");

const results = {};
let crashed = false;
for (const benchmark of benchmarks) {
  if (only.length > 0 && !only.includes(benchmark.name)) continue;
  const config = sizes[benchmark.name];
  try {
    const module = await import(benchmark.module);
    const result = await module[benchmark.entry](config);
    const met = benchmark.target ? meetsTarget(result.ratio, benchmark.target) : null;
    const verdict = benchmark.target
      ? `target ${describeTarget(benchmark.target)}: ${met ? "met" : "MISSED"}`
      : "no target, measured only";
    console.log(`${result.summary}, ratio ${result.ratio.toFixed(2)} (${verdict})`);
    if (result.aside) console.log(`  ${result.aside}`);
    results[benchmark.name] = {
      config,
      ...result.figures,
      ratio: result.ratio,
      ratioOf: benchmark.ratioOf,
      target: benchmark.target ?? null,
      targetMet: met,
      samples: result.samples,
    };
  } catch (error) {
    crashed = true;
    console.error(`${benchmark.name}: CRASHED`, error);
    results[benchmark.name] = {
      config,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
}

const report = {
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  machine: {
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemoryMb: Math.round(totalmem() / 2 ** 20),
  },
  results,
};
const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify(report, null, 2)}\n`);
console.log(`results written to bench/results/latest.json`);
if (crashed) process.exitCode = 1;
