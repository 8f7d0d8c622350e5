// Cold start: how long `asm --help` takes to run, against a bare `node -e 0` in the same run.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median } from "./lib.mjs";

const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

/** Wall time of one spawned node process, in ms; throws if it does not exit 0. */
function spawnMs(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { encoding: "utf8" });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`node ${args.join(" ")} exited ${result.status}: ${result.stderr.trim()}`);
  }
  return elapsed;
}

export async function coldStartBench({ repetitions }) {
  const commands = { cli: [CLI, "--help"], baseline: ["-e", "0"] };
  // One unmeasured run each fills the OS file cache, so the first sample is not an outlier.
  for (const args of Object.values(commands)) spawnMs(args);

  const samples = { cli: [], baseline: [] };
  // Interleaved, so a machine that slows down or speeds up mid-run affects both sides alike.
  for (let i = 0; i < repetitions; i++) {
    samples.cli.push(spawnMs(commands.cli));
    samples.baseline.push(spawnMs(commands.baseline));
  }
  const cliMs = median(samples.cli);
  const baselineMs = median(samples.baseline);
  return {
    figures: { cliMedianMs: cliMs, nodeMedianMs: baselineMs, repetitions },
    samples: { cliMs: samples.cli, nodeMs: samples.baseline },
    ratio: cliMs / baselineMs,
    summary: `cold start: asm --help ${cliMs.toFixed(1)} ms, node -e 0 ${baselineMs.toFixed(1)} ms`,
  };
}
