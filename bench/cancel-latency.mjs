// Cancel latency: from `SessionManager.cancelRun` to the last byte the model sent, with the real
// Claude Code (the Agent SDK's platform binary) against the loopback Messages API mock streaming
// one text delta every 20 ms for 10 s. The mock notes the time of every write and of the
// connection's close (`MockAnthropicApi.streams`, `performance.now()` of this process).
//
// Measured: the ClaudeAdapter's cancel (the SDK's streaming-input `interrupt()`, escalating to the
// process-group kill after killGraceMs), and, in the same run and alternating with it, the
// baseline: the old path, the SDK's AbortController alone (it closes stdin, and SIGTERMs Claude
// Code 2 s later), through a minimal adapter so that both go through the same SessionManager.
// Each run waits for 3 streamed deltas before it is cancelled. Two delays per cancel: to the
// last byte the mock wrote (0 when nothing came after the request: its granularity is the 20 ms
// between deltas), and to the close of the model connection (after it no byte can come). The
// target is the interrupt path's last-byte p50 under 250 ms; the ratio is baseline / interrupt
// of the connection-close p50 (how many times sooner the model stream stops), since the
// interrupt's last-byte delay is often 0.
//
// The same measurement for the real Codex CLI (@openai/codex-sdk's binary, through the
// CodexAdapter) against the loopback Responses API mock's `slow` reply (one output-text delta every
// 20 ms, `MockOpenAiApi.streams`). `codex exec` has no soft interrupt: its cancel is the SDK's
// AbortSignal, then the process-group kill after killGraceMs, and that is the path measured.
// Codex reports no text deltas to the adapter, so a Codex run is cancelled once the mock has
// written 3 deltas.
//
//   node bench/cancel-latency.mjs [--iterations 10]   (needs a built dist/; writes bench/results/cancel-latency.json)
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { query } from "@anthropic-ai/claude-agent-sdk";
import { MemorySessionStore, SessionManager } from "../dist/index.js";
import { ClaudeAdapter } from "../dist/providers/claude/index.js";
import { CodexAdapter, findBundledCodex } from "../dist/providers/codex/index.js";
import {
  bundledClaudeBinary,
  claudeMockEnv,
  startMockAnthropicApi,
} from "../dist/testing/mock-anthropic-api.js";
import { startEgressTrap, startMockOpenAiApi } from "../dist/testing/mock-openai-api.js";
import { median, quantile, tempDir } from "./lib.mjs";

const CHUNK_INTERVAL_MS = 20;
const CHUNKS = 500;
const DELTAS_BEFORE_CANCEL = 3;
const TARGET_P50_MS = 250;
/** Both paths' grace before signals: the SDK's own fixed 2 s, and the adapter's default. */
const KILL_GRACE_MS = 2000;
/** Events the Responses mock writes before its first delta: `response.created`, the item's start. */
const CODEX_EVENTS_BEFORE_DELTAS = 2;
const POLL_MS = 5;

/** The CLI's environment: the mock as the API, its own HOME, nothing sent anywhere else. */
function cliEnv(apiUrl, dir) {
  return { PATH: process.env.PATH ?? "", ...claudeMockEnv(apiUrl, dir) };
}

/**
 * The baseline: what the Claude adapter did before it used the interrupt — one `query()` with
 * a string prompt, cancelled through the SDK's AbortController only.
 */
class AbortOnlyClaude {
  specificationVersion = "v1";
  name = "claude";
  capabilities = [];

  constructor(binary, cwd, env) {
    this.binary = binary;
    this.cwd = cwd;
    this.env = env;
  }

  async execute(request, sink, signal) {
    const abortController = new AbortController();
    const onAbort = () => abortController.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    sink.emit({ type: "run_started", data: {} });
    try {
      const messages = query({
        prompt: request.run.input.prompt,
        options: {
          pathToClaudeCodeExecutable: this.binary,
          cwd: this.cwd,
          env: this.env,
          includePartialMessages: true,
          abortController,
        },
      });
      for await (const message of messages) {
        const delta = message.type === "stream_event" ? message.event.delta : undefined;
        if (delta?.type === "text_delta")
          sink.emit({ type: "message_streamed", data: { delta: delta.text } });
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (signal.aborted) throw new Error("cancelled");
    return { output: { content: "" } };
  }

  async cancel() {
    return false;
  }
}

/** Whether the mock wrote `events` events on a stream from `firstStream` on, within 60 s. */
async function mockStreamed(api, firstStream, events) {
  const deadline = performance.now() + 60_000;
  while (!api.streams.slice(firstStream).some((stream) => stream.events >= events)) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

/**
 * One cancelled run on `adapter`: waits for the first deltas (the run's `message_streamed`
 * events, or, when `mockEventsBeforeCancel` is set, that many events written by the mock),
 * cancels, and returns the delays from the cancel request to the mock's last byte and to its
 * connection's close.
 */
async function cancelOnce(api, adapter, mockEventsBeforeCancel) {
  const manager = new SessionManager({ store: new MemorySessionStore(), adapter, cancelGraceMs: 30_000 });
  const firstStream = api.streams.length;
  let runId;
  let deltas = 0;
  let enoughDeltas;
  const streaming = new Promise((resolve) => {
    enoughDeltas = resolve;
  });
  if (mockEventsBeforeCancel !== undefined) {
    void mockStreamed(api, firstStream, mockEventsBeforeCancel).then((streamed) => {
      if (streamed) deltas = DELTAS_BEFORE_CANCEL;
      enoughDeltas();
    });
  }
  const pending = manager
    .runOnce(
      { prompt: "Count slowly" },
      {
        onEvent: (event) => {
          runId ??= event.runId;
          if (event.type === "message_streamed" && ++deltas === DELTAS_BEFORE_CANCEL) enoughDeltas();
        },
      },
    )
    .then(
      () => {
        throw new Error("cancel-latency: the run completed before it was cancelled");
      },
      (error) => error,
    );
  const timeout = setTimeout(() => enoughDeltas(), 60_000);
  await streaming;
  clearTimeout(timeout);
  if (deltas < DELTAS_BEFORE_CANCEL || runId === undefined)
    throw new Error("cancel-latency: no deltas streamed");
  const cancelAt = performance.now();
  await manager.cancelRun(runId);
  const settledMs = performance.now() - cancelAt;
  const error = await pending;
  if (error?.code !== "cancelled") throw new Error(`cancel-latency: the run ended ${error?.code ?? error}`);
  const streams = api.streams.slice(firstStream);
  if (streams.length === 0) throw new Error("cancel-latency: the mock streamed nothing");
  // The server hears of a killed client's socket a moment after the kill.
  for (let i = 0; i < 100 && streams.some((stream) => stream.closedAt === undefined); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (streams.some((stream) => stream.endedAt !== undefined))
    throw new Error("cancel-latency: a stream ran to its end");
  // A last write between the request and the cancel counts as 0: nothing came after it.
  const lastByteMs = Math.max(0, Math.max(...streams.map((stream) => stream.lastByteAt)) - cancelAt);
  const closedMs = Math.max(
    ...streams.map((stream) => (stream.closedAt ?? Number.POSITIVE_INFINITY) - cancelAt),
  );
  return { lastByteMs, closedMs, settledMs };
}

function summary(samples) {
  const of = (key) => samples.map((sample) => sample[key]);
  return {
    lastByteP50Ms: median(of("lastByteMs")),
    lastByteP99Ms: quantile(of("lastByteMs"), 0.99),
    closedP50Ms: median(of("closedMs")),
    closedP99Ms: quantile(of("closedMs"), 0.99),
    settledP50Ms: median(of("settledMs")),
  };
}

/** Codex's cancel (abort, then the process-group kill) over `iterations` runs, after one warm-up. */
async function codexCancelSamples(iterations) {
  const codex = findBundledCodex();
  if (codex === undefined) throw new Error("no Codex binary (@openai/codex)");
  const api = await startMockOpenAiApi(() => ({
    type: "slow",
    chunks: CHUNKS,
    intervalMs: CHUNK_INTERVAL_MS,
  }));
  // Anything Codex tries beyond loopback is refused and recorded; the bench fails if it did.
  const trap = await startEgressTrap();
  const { dir, remove } = tempDir("cancel-latency-codex");
  let case_ = 0;
  const make = () => {
    const caseDir = join(dir, `case-${case_++}`);
    const cwd = join(caseDir, "work");
    const home = join(caseDir, "codex-home");
    mkdirSync(cwd, { recursive: true });
    mkdirSync(home);
    // codex exec refuses to run outside a git repository; plugins and analytics would go online.
    execFileSync("git", ["init", "-q", cwd]);
    writeFileSync(join(home, "config.toml"), "[analytics]\nenabled = false\n\n[features]\nplugins = false\n");
    return new CodexAdapter({
      executablePath: codex.executablePath,
      cwd,
      baseUrl: api.baseUrl,
      model: "gpt-5.1-codex",
      killGraceMs: KILL_GRACE_MS,
      env: { ...trap.env(), CODEX_HOME: home, CODEX_API_KEY: "dummy", HOME: caseDir },
    });
  };
  const events = CODEX_EVENTS_BEFORE_DELTAS + DELTAS_BEFORE_CANCEL;
  const samples = [];
  try {
    await cancelOnce(api, make(), events);
    for (let i = 0; i < iterations; i += 1) samples.push(await cancelOnce(api, make(), events));
    if (trap.attempts.length > 0)
      throw new Error(`cancel-latency: Codex tried to leave the machine: ${trap.attempts.join(", ")}`);
  } finally {
    await api.close();
    await trap.close();
    remove();
  }
  return samples;
}

export async function cancelLatencyBench({ iterations = 10 } = {}) {
  const binary = bundledClaudeBinary();
  if (binary === undefined)
    throw new Error("no Claude Code binary (@anthropic-ai/claude-agent-sdk-linux-x64)");
  const api = await startMockAnthropicApi(() => ({
    type: "slow",
    chunks: CHUNKS,
    intervalMs: CHUNK_INTERVAL_MS,
    inputTokens: 2537,
  }));
  const { dir, remove } = tempDir("cancel-latency");
  const samples = { interrupt: [], abortOnly: [] };
  let case_ = 0;
  const adapters = {
    interrupt: () => {
      const cwd = join(dir, `case-${case_++}`);
      mkdirSync(cwd);
      return new ClaudeAdapter({
        executablePath: binary,
        cwd,
        killGraceMs: KILL_GRACE_MS,
        env: cliEnv(api.url, cwd),
      });
    },
    abortOnly: () => {
      const cwd = join(dir, `case-${case_++}`);
      mkdirSync(cwd);
      return new AbortOnlyClaude(binary, cwd, { ...process.env, ...cliEnv(api.url, cwd) });
    },
  };
  try {
    // One warm-up of each (the binary's first start reads more from disk), then alternating.
    for (const make of Object.values(adapters)) await cancelOnce(api, make());
    for (let i = 0; i < iterations; i += 1) {
      for (const [name, make] of Object.entries(adapters)) samples[name].push(await cancelOnce(api, make()));
    }
  } finally {
    await api.close();
    remove();
  }
  samples.codexAbort = await codexCancelSamples(iterations);
  const interrupt = summary(samples.interrupt);
  const codexAbort = summary(samples.codexAbort);
  const abortOnly = summary(samples.abortOnly);
  const ratio = abortOnly.closedP50Ms / interrupt.closedP50Ms;
  const met = interrupt.lastByteP50Ms < TARGET_P50_MS;
  const ms = (value) => `${value.toFixed(0)} ms`;
  console.log(
    `cancel-latency interrupt: cancelRun → last model byte p50 ${ms(interrupt.lastByteP50Ms)}, p99 ${ms(interrupt.lastByteP99Ms)};` +
      ` connection closed p50 ${ms(interrupt.closedP50Ms)}, p99 ${ms(interrupt.closedP99Ms)}; cancelRun settled p50 ${ms(interrupt.settledP50Ms)}`,
  );
  console.log(
    `cancel-latency abort only (baseline): last model byte p50 ${ms(abortOnly.lastByteP50Ms)}, p99 ${ms(abortOnly.lastByteP99Ms)};` +
      ` connection closed p50 ${ms(abortOnly.closedP50Ms)}, p99 ${ms(abortOnly.closedP99Ms)}; cancelRun settled p50 ${ms(abortOnly.settledP50Ms)}`,
  );
  console.log(
    `cancel-latency Codex (abort, then process-group kill): last model byte p50 ${ms(codexAbort.lastByteP50Ms)}, p99 ${ms(codexAbort.lastByteP99Ms)};` +
      ` connection closed p50 ${ms(codexAbort.closedP50Ms)}, p99 ${ms(codexAbort.closedP99Ms)}; cancelRun settled p50 ${ms(codexAbort.settledP50Ms)}`,
  );
  console.log(
    `cancel-latency: connection closed p50, abort only / interrupt = ${ratio.toFixed(1)}×; target interrupt p50 < ${TARGET_P50_MS} ms: ${met ? "met" : "NOT met"}`,
  );
  return {
    figures: {
      iterations,
      chunkIntervalMs: CHUNK_INTERVAL_MS,
      deltasBeforeCancel: DELTAS_BEFORE_CANCEL,
      killGraceMs: KILL_GRACE_MS,
      interrupt,
      abortOnly,
      codexAbort,
    },
    samples,
    ratio,
    target: { interruptLastByteP50Ms: { below: TARGET_P50_MS }, met },
    summary:
      `cancel-latency (cancelRun → last model byte): interrupt p50 ${ms(interrupt.lastByteP50Ms)} / p99 ${ms(interrupt.lastByteP99Ms)},` +
      ` abort only p50 ${ms(abortOnly.lastByteP50Ms)} / p99 ${ms(abortOnly.lastByteP99Ms)},` +
      ` Codex abort p50 ${ms(codexAbort.lastByteP50Ms)} / p99 ${ms(codexAbort.lastByteP99Ms)}`,
  };
}

function flag(args, name, fallback) {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const result = await cancelLatencyBench({ iterations: flag(process.argv.slice(2), "--iterations", 10) });
  const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, "cancel-latency.json"),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...result }, null, 2)}\n`,
  );
  console.log("results written to bench/results/cancel-latency.json");
  process.exit(0);
}
