// Provider output fuzz, the long run: for each agent adapter (claude, codex, amp), a seeded
// fuzzed transcript (dist/testing/scripted-cli fuzzTranscript: marker messages among random
// bytes, truncated JSON, every frame type in wrong shapes, unknown types, deep nesting and
// 10 MiB lines) is played by the scripted CLI, read by the real SDK (Claude, Codex through its
// guard) or spawner (Amp), and run through SessionManager.runOnce into a fresh SQLite file.
// Each run is a child process of its own, so its peak RSS is its own; the baseline is the same
// transcript without its 10 MiB lines (and, for context, a clean one of as many plain markers).
// A run passes when it completes with the right output and the log holds every marker once and
// in order, one parse_error per bad line, sequences 1..N; a crash, a hang (no end within the
// timeout) or a lost marker fails the benchmark.
//
//   node --expose-gc bench/fuzz-providers.mjs [--lines N] [--seed S] [--huge-lines H]   (alone: bench/results/fuzz-providers.json)
//   node --expose-gc bench/run.mjs fuzz-providers                      (with the others: bench/results/latest.json)
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

const PROVIDERS = ["claude", "codex", "amp"];
/** How often the children's memory is sampled (the scripted CLI, Codex's guard). */
const POLL_MS = 50;
const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Worker: one run, in its own process.
// ---------------------------------------------------------------------------------------------

/**
 * Runs the transcript at `scenario` (its expectations at `expectations`) once and reports what
 * the log holds. The peak RSS is taken as the run ends, before the log is read back.
 */
async function worker([provider, dir]) {
  const { SessionManager } = await import("../dist/index.js");
  const { openSqliteStore } = await import("../dist/stores/sqlite/index.js");
  const { scriptedCliEnv, scriptedCliPath } = await import("../dist/testing/scripted-cli/index.js");
  const { openRawConnection } = await import("./raw-events.mjs");
  const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
  const env = scriptedCliEnv({ scenario: join(dir, "transcript.jsonl") });
  const options = { executablePath: scriptedCliPath(provider), cwd: dir, env, killGraceMs: 1000 };
  const adapter = await makeAdapter(provider, options);
  const path = join(dir, "asm.db");
  const store = await openSqliteStore({ path });
  try {
    const manager = new SessionManager({ store, adapter });
    globalThis.gc?.();
    const start = performance.now();
    const result = await manager.runOnce("fuzz");
    const durationMs = performance.now() - start;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    // What the manager keeps of the run in memory until it returns (RunResult.events).
    const retainedEventsMb = result.events.reduce((sum, event) => sum + JSON.stringify(event).length, 0) / MB;
    const db = openRawConnection(path);
    let log;
    try {
      log = db
        .prepare("SELECT sequence, type, data FROM events WHERE session_id = ? ORDER BY sequence")
        .all(result.sessionId)
        .map((row) => ({ sequence: row.sequence, type: row.type, data: JSON.parse(row.data) }));
    } finally {
      db.close();
    }
    const messages = log
      .filter((event) => event.type === "message_received")
      .map((event) => event.data.content)
      .filter((text) => text !== expected.finalText);
    const errors = log.filter((event) => event.type === "error_occurred");
    let markersInOrder = 0;
    while (
      markersInOrder < expected.markers.length &&
      messages[markersInOrder] === expected.markers[markersInOrder]
    ) {
      markersInOrder++;
    }
    return {
      markersExpected: expected.markers.length,
      markersStored: messages.length,
      markersInOrder,
      badLines: expected.badLines,
      parseErrors: errors.filter((event) => event.data.errorCode === "parse_error").length,
      otherErrors: errors.filter((event) => event.data.errorCode !== "parse_error").length,
      outputRight: result.output.content === expected.finalText,
      sequencesContiguous: log.every((event, index) => event.sequence === index + 1),
      events: log.length,
      durationMs,
      peakRssMb,
      retainedEventsMb,
    };
  } finally {
    await store.close();
  }
}

async function makeAdapter(provider, options) {
  switch (provider) {
    case "claude": {
      const { ClaudeAdapter } = await import("../dist/providers/claude/index.js");
      return new ClaudeAdapter(options);
    }
    case "codex": {
      const { CodexAdapter } = await import("../dist/providers/codex/index.js");
      return new CodexAdapter(options);
    }
    case "amp": {
      const { AmpAdapter } = await import("../dist/providers/amp/index.js");
      return new AmpAdapter({ ...options, env: { AMP_API_KEY: "bench-key", ...options.env } });
    }
    default:
      throw new Error(`unknown provider ${provider}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Parent: one worker per provider and mode, its children's memory sampled from /proc.
// ---------------------------------------------------------------------------------------------

/** Peak resident memory (VmHWM, bytes) of every live process below `rootPid`, by command. */
function sampleDescendants(rootPid, peaks) {
  let entries;
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return;
  }
  const parentOf = new Map();
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      parentOf.set(Number(pid), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  for (const pid of parentOf.keys()) {
    let ancestor = parentOf.get(pid);
    while (ancestor !== undefined && ancestor !== rootPid && ancestor > 1) ancestor = parentOf.get(ancestor);
    if (ancestor !== rootPid) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const role = cmdline.includes("codex-guard") ? "codexGuard" : "scriptedCli";
      peaks[role] = Math.max(peaks[role] ?? 0, kb * 1024);
    } catch {
      // Gone meanwhile.
    }
  }
}

/**
 * Writes `provider`'s transcript for `options` (fuzzTranscript) and what its run must store, then
 * runs it in a worker process. The transcript is built here, so the worker's memory is the run's.
 */
async function runWorker(provider, options, timeoutMs) {
  const { fuzzTranscript, writeTranscript } = await import("../dist/testing/scripted-cli/index.js");
  const { tempDir } = await import("./lib.mjs");
  const { dir, remove } = tempDir(`fuzz-${provider}`);
  try {
    const fuzz = fuzzTranscript(provider, options);
    writeTranscript(join(dir, "transcript.jsonl"), fuzz.lines);
    const { markers, badLines, finalText } = fuzz;
    writeFileSync(join(dir, "expected.json"), JSON.stringify({ markers, badLines, finalText }));
    const ran = await spawnWorker([provider, dir], timeoutMs);
    return { ...ran, kinds: fuzz.kinds };
  } finally {
    remove();
  }
}

function spawnWorker(args, timeoutMs) {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ["--expose-gc", script, "--worker", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const peaks = {};
  const poll = setInterval(() => sampleDescendants(child.pid, peaks), POLL_MS);
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const start = performance.now();
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      const wallMs = performance.now() - start;
      const line = stdout.trim().split("\n").at(-1);
      let report;
      try {
        report = JSON.parse(line ?? "");
      } catch {
        report = undefined;
      }
      const childrenPeakMb = Object.fromEntries(
        Object.entries(peaks).map(([role, bytes]) => [role, Math.round((bytes / MB) * 10) / 10]),
      );
      resolve({ code, signal, hung, wallMs, report, stderr: stderr.slice(-4000), childrenPeakMb });
    });
  });
}

/** Why a worker's run does not pass, or undefined when it does. */
function failureOf(name, ran) {
  if (ran.hung) return `${name}: no end within the timeout (hang)`;
  if (ran.code !== 0 || ran.report === undefined) {
    return `${name}: crashed (exit ${ran.code ?? ran.signal}): ${ran.stderr}`;
  }
  const r = ran.report;
  const problems = [];
  if (!r.outputRight) problems.push("wrong output");
  if (r.markersStored !== r.markersExpected || r.markersInOrder !== r.markersExpected) {
    problems.push(`markers ${r.markersInOrder} in order, ${r.markersStored} stored of ${r.markersExpected}`);
  }
  if (r.parseErrors !== r.badLines)
    problems.push(`${r.parseErrors} parse_errors for ${r.badLines} bad lines`);
  if (r.otherErrors !== 0) problems.push(`${r.otherErrors} other errors`);
  if (!r.sequencesContiguous) problems.push("sequence hole");
  return problems.length > 0 ? `${name}: ${problems.join(", ")}` : undefined;
}

const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The figures of one worker's run. */
function figuresOf(ran) {
  const r = ran.report;
  return {
    crashes: !ran.hung && (ran.code !== 0 || r === undefined) ? 1 : 0,
    hangs: ran.hung ? 1 : 0,
    markersKept: r?.markersInOrder ?? 0,
    markersExpected: r?.markersExpected ?? null,
    parseErrors: r?.parseErrors ?? null,
    badLines: r?.badLines ?? null,
    outputRight: r?.outputRight ?? false,
    events: r?.events ?? null,
    durationMs: r ? round(r.durationMs, 0) : null,
    peakRssMb: r ? round(r.peakRssMb) : null,
    retainedEventsMb: r ? round(r.retainedEventsMb) : null,
    childrenPeakRssMb: ran.childrenPeakMb,
    kinds: ran.kinds,
  };
}

/**
 * The benchmark: per provider, three runs of `lines` body lines, each in its own process — the
 * fuzzed transcript with `hugeLines` lines of 10 MiB, the same without the huge lines, and a
 * clean one of as many plain markers. Throws when any run crashes, hangs, loses or reorders a
 * marker, or misses a bad line. The ratio is the largest of the providers' adapter process peak
 * RSS with the huge lines / without them: near 1 when no line is ever held whole.
 */
export async function fuzzProvidersBench({ lines, seed = 20_261_121, hugeLines = 4, timeoutMs = 600_000 }) {
  const figures = {};
  const failures = [];
  for (const provider of PROVIDERS) {
    const runs = {
      fuzz: await runWorker(provider, { seed, lines, hugeLines }, timeoutMs),
      withoutHugeLines: await runWorker(provider, { seed, lines, hugeLines: 0 }, timeoutMs),
      clean: await runWorker(provider, { seed, lines, onlyMarkers: true }, timeoutMs),
    };
    for (const [mode, ran] of Object.entries(runs)) {
      const failure = failureOf(`${provider} ${mode}`, ran);
      if (failure) failures.push(failure);
    }
    const fuzz = figuresOf(runs.fuzz);
    const withoutHugeLines = figuresOf(runs.withoutHugeLines);
    const clean = figuresOf(runs.clean);
    const rssRatio =
      fuzz.peakRssMb && withoutHugeLines.peakRssMb
        ? round(fuzz.peakRssMb / withoutHugeLines.peakRssMb, 2)
        : null;
    figures[provider] = { lines, ...fuzz, withoutHugeLines, clean, rssRatio };
    console.log(
      `fuzz-providers ${provider}: ${lines} lines (${hugeLines} of 10 MiB), ${fuzz.crashes} crashes, ${fuzz.hangs} hangs, ` +
        `markers kept ${fuzz.markersKept}/${fuzz.markersExpected} in order, parse_errors ${fuzz.parseErrors}/${fuzz.badLines}, ` +
        `output ${fuzz.outputRight ? "right" : "WRONG"}, ${fuzz.durationMs} ms; peak RSS ${fuzz.peakRssMb} MB ` +
        `(without the huge lines ${withoutHugeLines.peakRssMb} MB, ratio ${rssRatio}; clean ${clean.peakRssMb} MB; ` +
        `events kept by the run ${fuzz.retainedEventsMb} MB), children ${JSON.stringify(fuzz.childrenPeakRssMb)}`,
    );
  }
  if (failures.length > 0) throw new Error(`fuzz-providers failed:\n${failures.join("\n")}`);
  const ratio = Math.max(...PROVIDERS.map((provider) => figures[provider].rssRatio));
  return {
    summary: `fuzz-providers: ${lines} lines each for claude, codex, amp: 0 crashes, 0 hangs, every marker kept in order`,
    ratio,
    figures: { seed, lines, hugeLines, providers: figures },
    samples: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Entry points.
// ---------------------------------------------------------------------------------------------

function flag(args, name, fallback) {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2] === "--worker") {
  const report = await worker(process.argv.slice(3));
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
} else if (isMain) {
  const args = process.argv.slice(2);
  const result = await fuzzProvidersBench({
    lines: flag(args, "--lines", 10_000),
    seed: flag(args, "--seed", 20_261_121),
    hugeLines: flag(args, "--huge-lines", 4),
  });
  console.log(`${result.summary}; peak RSS with / without the 10 MiB lines, largest: ${result.ratio}`);
  const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, "fuzz-providers.json"),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...result }, null, 2)}\n`,
  );
  console.log("results written to bench/results/fuzz-providers.json");
}
