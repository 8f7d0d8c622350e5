// Adapter overhead: µs per event from a provider CLI's native output frames to the stored log,
// for each agent adapter, against the same events emitted by an in-process adapter through the
// same SessionManager + SQLite pipeline, and against parsing the frames with JSON.parse alone.
//
// Each provider's scripted CLI (dist/testing/scripted-cli) plays a transcript of N native frames
// that each map to exactly one canonical event; the real path is scripted CLI → the provider's
// SDK (Claude, Codex; Codex through the adapter's guard process) or the adapter's own spawner
// (Amp, Gemini) → the adapter's mapper → SessionManager → a temp-file SQLite store. For ACP the
// scripted ACP agent (dist/testing/scripted-acp-agent, on the SDK's agent side) sends N
// `agent_message_chunk` notifications, read by the SDK's client side in the AcpAdapter. The N frames are
// written in bursts (`$raw` lines of 64 frames), so the fake CLI outpaces the reader and the
// figure is the reading side's; the CLI's own pace is measured alone as a check.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { SessionManager } from "../dist/index.js";
import { AcpAdapter } from "../dist/providers/acp/index.js";
import { AmpAdapter } from "../dist/providers/amp/index.js";
import { ClaudeAdapter } from "../dist/providers/claude/index.js";
import { CodexAdapter } from "../dist/providers/codex/index.js";
import { GeminiAdapter } from "../dist/providers/gemini/index.js";
import { openSqliteStore } from "../dist/stores/sqlite/index.js";
import {
  SCRIPTED_ACP_ENV,
  SCRIPTED_ACP_SESSION_ID,
  scriptedAcpAgentCommand,
  scriptedAcpAgentEnv,
} from "../dist/testing/scripted-acp-agent/index.js";
import {
  SCRIPTED_AMP_THREAD_ID,
  SCRIPTED_CLAUDE_SESSION_ID,
  scriptedCliEnv,
  scriptedCliPath,
  writeTranscript,
} from "../dist/testing/scripted-cli/index.js";
import { collectGarbage, filler, formatRate, median, tempDir } from "./lib.mjs";
import { openRawConnection } from "./raw-events.mjs";

/** Characters of text each frame carries (as the ingest benchmark's deltas). */
const TEXT_LENGTH = 200;
/**
 * Measured frames per write of the scripted CLI (one `$raw` line): written one at a time, the
 * fake CLI would set the pace instead of the reading side.
 */
const BURST = 64;
/** What `runOnce` logs around the adapter's events (see ingest.mjs). */
const MANAGER_EVENTS = {
  session_created: 1,
  session_started: 1,
  message_sent: 1,
  run_completed: 1,
  session_completed: 1,
};

/** The text of frame `index`: numbered, so the log's order and content can be checked. */
function frameText(index) {
  const number = String(index).padStart(7, "0");
  return `${number} ${filler(TEXT_LENGTH - number.length - 1, `delta-${index % 16}`)}`;
}

/**
 * Per provider: the transcript as the frames before the measured ones (`head`, placeholders
 * filled by the scripted CLI), the measured frames (each mapping to one `targetType` event), and
 * the frames after them (`tail`); the other events the adapter emits for it; the adapter on the
 * scripted CLI; and how to start that CLI by hand.
 */
const PROVIDERS = {
  claude: {
    path: "SDK+adapter",
    targetType: "message_streamed",
    frameKind: "stream_event content_block_delta/text_delta (includePartialMessages)",
    // run_started from system/init; one token_usage_updated when the streamed message stops.
    adapterEvents: { run_started: 1, token_usage_updated: 1 },
    textOf: (data) => data.delta,
    head: () => [
      { $awaitStdin: "user" },
      {
        type: "system",
        subtype: "init",
        cwd: "{{cwd}}",
        session_id: "{{sessionId}}",
        tools: ["Bash", "Read", "Write"],
        mcp_servers: [],
        model: "claude-sonnet-4-5",
        permissionMode: "default",
        slash_commands: [],
        apiKeySource: "ANTHROPIC_API_KEY",
        claude_code_version: "2.1.330",
        output_style: "default",
        agents: [],
        skills: [],
        plugins: [],
        uuid: "00000000-0000-4000-8000-000000000001",
      },
      claudeStreamEvent("start", {
        type: "message_start",
        message: {
          id: "msg_bench",
          type: "message",
          role: "assistant",
          model: "claude-sonnet-4-5",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: claudeUsage(1),
        },
      }),
      claudeStreamEvent("block-start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }),
    ],
    frame: (index) =>
      claudeStreamEvent(
        String(index).padStart(12, "0"),
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: frameText(index) } },
        SCRIPTED_CLAUDE_SESSION_ID,
      ),
    tail: (count) => [
      claudeStreamEvent("block-stop", { type: "content_block_stop", index: 0 }),
      claudeStreamEvent("delta", {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: claudeUsage(count),
      }),
      claudeStreamEvent("stop", { type: "message_stop" }),
      {
        type: "result",
        subtype: "success",
        is_error: false,
        duration_ms: 1200,
        duration_api_ms: 900,
        num_turns: 1,
        stop_reason: "end_turn",
        session_id: "{{sessionId}}",
        total_cost_usd: 0.01,
        usage: claudeUsage(count),
        permission_denials: [],
        terminal_reason: "completed",
        uuid: "r-1",
        result: "streamed",
      },
    ],
    adapter: (cwd, env) =>
      new ClaudeAdapter({ executablePath: scriptedCliPath("claude"), cwd, env, killGraceMs: 1000 }),
    // The SDK's stdin protocol, reduced to the user message the transcript waits for.
    cliAlone: {
      args: ["--output-format", "stream-json", "--input-format", "stream-json"],
      stdin: `${JSON.stringify({
        type: "user",
        session_id: "",
        message: { role: "user", content: [{ type: "text", text: "bench" }] },
        parent_tool_use_id: null,
      })}\n`,
    },
  },
  codex: {
    path: "SDK+adapter",
    targetType: "message_received",
    frameKind: "item.completed agent_message",
    // run_started from thread.started; token_usage_updated from turn.completed.
    adapterEvents: { run_started: 1, token_usage_updated: 1 },
    textOf: (data) => data.content,
    head: () => [{ type: "thread.started", thread_id: "{{threadId}}" }, { type: "turn.started" }],
    frame: (index) => ({
      type: "item.completed",
      item: { id: `item_${index}`, type: "agent_message", text: frameText(index) },
    }),
    tail: (count) => [
      {
        type: "turn.completed",
        usage: {
          input_tokens: 1200,
          cached_input_tokens: 1000,
          cache_write_input_tokens: 0,
          output_tokens: count,
          reasoning_output_tokens: 0,
        },
      },
    ],
    adapter: (cwd, env) =>
      new CodexAdapter({ executablePath: scriptedCliPath("codex"), cwd, env, killGraceMs: 1000 }),
    cliAlone: { args: ["exec", "--experimental-json"], stdin: "bench" },
  },
  amp: {
    path: "spawner+adapter",
    targetType: "message_received",
    frameKind: "assistant message with one text block",
    // run_started from system/init; token_usage_updated from the result's usage (the messages carry none).
    adapterEvents: { run_started: 1, token_usage_updated: 1 },
    textOf: (data) => data.content,
    head: () => [
      { $awaitStdin: "eof" },
      {
        type: "system",
        subtype: "init",
        cwd: "{{cwd}}",
        session_id: "{{threadId}}",
        tools: ["Bash", "Read", "edit_file", "create_file", "Grep", "glob"],
        mcp_servers: [],
      },
      {
        type: "user",
        message: { role: "user", content: [{ type: "text", text: "{{prompt}}" }] },
        parent_tool_use_id: null,
        session_id: "{{threadId}}",
      },
    ],
    frame: (index) => ({
      type: "assistant",
      message: {
        type: "message",
        role: "assistant",
        content: [{ type: "text", text: frameText(index) }],
        stop_reason: "end_turn",
        stop_sequence: null,
      },
      parent_tool_use_id: null,
      session_id: SCRIPTED_AMP_THREAD_ID,
    }),
    tail: (count) => [
      {
        type: "result",
        subtype: "success",
        is_error: false,
        result: "streamed",
        duration_ms: 1530,
        num_turns: 1,
        session_id: "{{threadId}}",
        usage: {
          input_tokens: 120,
          output_tokens: count,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 400,
        },
      },
    ],
    adapter: (cwd, env) =>
      new AmpAdapter({
        executablePath: scriptedCliPath("amp"),
        cwd,
        env: { AMP_API_KEY: "bench-key", ...env },
        killGraceMs: 1000,
      }),
    cliAlone: { args: ["--execute", "--stream-json"], stdin: "bench\n" },
  },
  gemini: {
    path: "spawner+adapter",
    targetType: "message_streamed",
    frameKind: "message (assistant, delta)",
    // run_started from init; the deltas joined as one message_received at the result; usage from result.stats.
    adapterEvents: { run_started: 1, message_received: 1, token_usage_updated: 1 },
    textOf: (data) => data.delta,
    head: () => [
      {
        type: "init",
        timestamp: "2026-12-04T21:00:00.000Z",
        session_id: "{{sessionId}}",
        model: "gemini-2.5-flash",
      },
      { type: "message", timestamp: "2026-12-04T21:00:00.000Z", role: "user", content: "{{prompt}}" },
    ],
    frame: (index) => ({
      type: "message",
      timestamp: "2026-12-04T21:00:00.000Z",
      role: "assistant",
      content: frameText(index),
      delta: true,
    }),
    tail: (count) => {
      const stats = {
        total_tokens: 220 + count,
        input_tokens: 220,
        output_tokens: count,
        cached: 0,
        input: 220,
      };
      return [
        {
          type: "result",
          timestamp: "2026-12-04T21:00:01.000Z",
          status: "success",
          stats: { ...stats, duration_ms: 1000, tool_calls: 0, models: { "gemini-2.5-flash": stats } },
        },
      ];
    },
    adapter: (cwd, env) =>
      new GeminiAdapter({
        executablePath: scriptedCliPath("gemini"),
        cwd,
        stateDir: join(cwd, "gemini-state"),
        env,
        killGraceMs: 1000,
      }),
    cliAlone: { args: ["-p", "", "--output-format", "stream-json"], stdin: "bench" },
  },
  acp: {
    path: "SDK+adapter",
    targetType: "message_streamed",
    frameKind: "session/update agent_message_chunk (JSON-RPC notification)",
    // run_started after session/new; the chunks joined as one message_received; usage from the prompt response.
    adapterEvents: { run_started: 1, message_received: 1, token_usage_updated: 1 },
    textOf: (data) => data.delta,
    // The scripted ACP agent plays chunks from a file of texts, not a transcript.
    writeScenario(file, count) {
      const texts = [];
      const printed = [];
      for (let index = 0; index < count; index++) {
        const text = frameText(index);
        texts.push(JSON.stringify(text));
        printed.push(
          JSON.stringify({
            jsonrpc: "2.0",
            method: "session/update",
            params: {
              sessionId: SCRIPTED_ACP_SESSION_ID,
              update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text } },
            },
          }),
        );
      }
      writeFileSync(file, `${texts.join("\n")}\n`);
      return { scenario: file, printed };
    },
    env: (scenario) => ({
      ...scriptedAcpAgentEnv({ scenario: "chunks" }),
      [SCRIPTED_ACP_ENV.chunks]: scenario,
    }),
    adapter: (cwd, env) => new AcpAdapter({ agent: scriptedAcpAgentCommand(), cwd, env, killGraceMs: 1000 }),
  },
};

function claudeUsage(output) {
  return {
    input_tokens: 12,
    output_tokens: output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 100,
  };
}

/** A Claude `stream_event` frame; the session id is a placeholder unless given. */
function claudeStreamEvent(uuidSuffix, event, sessionId = "{{sessionId}}") {
  return {
    type: "stream_event",
    event,
    parent_tool_use_id: null,
    session_id: sessionId,
    uuid: `00000000-0000-4000-8000-${uuidSuffix.padStart(12, "0").slice(-12)}`,
  };
}

/**
 * Writes `provider`'s transcript of `count` measured frames: head and tail as frames, the
 * measured ones as `$raw` lines of `BURST` frames each (their ids are the scripted CLI's
 * defaults, written out, since `$raw` fills no placeholders). Returns its path and its frame
 * lines (placeholders left in), for the JSON.parse baseline.
 */
function writeProviderTranscript(provider, file, count) {
  if (provider.writeScenario) return provider.writeScenario(file, count);
  const lines = [...provider.head()];
  const printed = [];
  for (let start = 0; start < count; start += BURST) {
    const burst = [];
    for (let index = start; index < Math.min(count, start + BURST); index++) {
      burst.push(JSON.stringify(provider.frame(index)));
    }
    printed.push(...burst);
    lines.push({ $raw: burst.join("\n") });
  }
  lines.push(...provider.tail(count));
  for (const line of [...provider.head(), ...provider.tail(count)]) {
    if (!Object.keys(line).some((key) => key.startsWith("$"))) printed.push(JSON.stringify(line));
  }
  return { scenario: writeTranscript(file, lines), printed };
}

/**
 * Wraps an adapter to time its stream: when it emitted its first event of the measured type.
 * With `capture`, it also keeps every event, how they were grouped (the events emitted before
 * the next `setImmediate` tick, which the pipeline writes in one transaction) and the result,
 * for the in-process replay. The same wrapper is on both sides, so its (tiny) cost is too.
 */
class ProbedAdapter {
  specificationVersion = "v1";
  firstTargetAt = undefined;
  firstTargetCpu = undefined;
  events = [];
  groups = [];
  result = undefined;
  #groupOpen = false;

  constructor(inner, targetType, capture) {
    this.inner = inner;
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    this.targetType = targetType;
    this.capture = capture;
  }

  async execute(request, sink, signal) {
    const probed = {
      emit: (event) => {
        if (this.firstTargetAt === undefined && event.type === this.targetType) {
          this.firstTargetAt = performance.now();
          this.firstTargetCpu = process.cpuUsage();
        }
        if (this.capture) this.#record(event);
        sink.emit(event);
      },
    };
    const result = await this.inner.execute(request, probed, signal);
    if (this.capture) this.result = result;
    return result;
  }

  cancel(runId) {
    return this.inner.cancel(runId);
  }

  #record(event) {
    this.events.push(event);
    if (!this.#groupOpen) {
      this.#groupOpen = true;
      this.groups.push(0);
      setImmediate(() => {
        this.#groupOpen = false;
      });
    }
    this.groups[this.groups.length - 1]++;
  }
}

/**
 * Emits a recorded run's events again, grouped as the real adapter emitted them (one group per
 * `setImmediate` tick, so the pipeline's transactions are the same size), and returns its result.
 */
class ReplayAdapter {
  specificationVersion = "v1";
  constructor({ name, capabilities, events, groups, result }) {
    this.name = name;
    this.capabilities = capabilities;
    this.recorded = events;
    this.groups = groups;
    this.recordedResult = result;
  }

  async execute(_request, sink, signal) {
    const events = this.recorded;
    let emitted = 0;
    for (const size of this.groups) {
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new Error("replay aborted");
      const end = emitted + size;
      for (; emitted < end; emitted++) sink.emit(events[emitted]);
    }
    return this.recordedResult;
  }

  async cancel() {
    return false;
  }
}

/**
 * One `runOnce` of `adapter` into a fresh SQLite file. The per-event figure is the steady
 * state: from the adapter's first event of the measured type to that type's last event stored
 * (delivered to `onEvent`), over `count - 1` events; the run's wall time is kept too, and the
 * difference is the run's fixed cost (process start, SDK handshake, exit).
 */
async function pipelineRun(provider, adapter, count, what) {
  const { dir, remove } = tempDir("adapter-overhead");
  const path = join(dir, "asm.db");
  const store = await openSqliteStore({ path });
  try {
    let transactions = 0;
    const appendEvents = store.appendEvents.bind(store);
    store.appendEvents = (drafts) => {
      transactions++;
      return appendEvents(drafts);
    };
    const manager = new SessionManager({ store, adapter });
    let stored = 0;
    let lastTargetAt;
    let cpu;
    const onEvent = (event) => {
      if (event.type === provider.targetType && ++stored === count) {
        lastTargetAt = performance.now();
        cpu = process.cpuUsage(adapter.firstTargetCpu);
      }
    };
    collectGarbage();
    const start = performance.now();
    const result = await manager.runOnce("bench", { onEvent });
    const wallMs = performance.now() - start;
    const totalEvents = verifyLog(provider, path, result.sessionId, count, what);
    const steadyMs = lastTargetAt - adapter.firstTargetAt;
    return {
      usPerEvent: (steadyMs * 1000) / (count - 1),
      eventsPerSecond: ((count - 1) / steadyMs) * 1000,
      cpuUsPerEvent: (cpu.user + cpu.system) / (count - 1),
      steadyMs,
      wallMs,
      fixedMs: wallMs - steadyMs,
      transactions,
      eventsPerTransaction: totalEvents / transactions,
    };
  } finally {
    await store.close();
    remove();
  }
}

/**
 * Fails the benchmark unless the log holds exactly the expected events: `count` of the measured
 * type, in frame order with their text intact, the adapter's few other events and the
 * manager's, with sequences 1..total. Returns the total.
 */
function verifyLog(provider, path, sessionId, count, what) {
  const expected = { ...MANAGER_EVENTS, ...provider.adapterEvents };
  expected[provider.targetType] = (expected[provider.targetType] ?? 0) + count;
  const total = Object.values(expected).reduce((sum, n) => sum + n, 0);
  const db = openRawConnection(path);
  try {
    const stats = db
      .prepare(
        "SELECT count(*) AS count, min(sequence) AS minSequence, max(sequence) AS maxSequence FROM events WHERE session_id = ?",
      )
      .get(sessionId);
    const byType = Object.fromEntries(
      db
        .prepare("SELECT type, count(*) AS n FROM events WHERE session_id = ? GROUP BY type")
        .all(sessionId)
        .map((row) => [row.type, row.n]),
    );
    const sameTypes =
      Object.keys(byType).length === Object.keys(expected).length &&
      Object.entries(expected).every(([type, n]) => byType[type] === n);
    if (!sameTypes || stats.count !== total || stats.minSequence !== 1 || stats.maxSequence !== total) {
      throw new Error(
        `${what}: expected ${JSON.stringify(expected)} with sequences 1..${total}, found ${JSON.stringify(byType)}, ${JSON.stringify(stats)}`,
      );
    }
    const texts = db
      .prepare("SELECT data FROM events WHERE session_id = ? AND type = ? ORDER BY sequence")
      .pluck()
      .all(sessionId, provider.targetType);
    texts.forEach((data, index) => {
      const text = provider.textOf(JSON.parse(data));
      if (text !== frameText(index)) {
        throw new Error(
          `${what}: event ${index} of type ${provider.targetType} holds ${JSON.stringify(text?.slice(0, 40))}`,
        );
      }
    });
    return total;
  } finally {
    db.close();
  }
}

/** Through the scripted CLI and the real adapter; returns the figures and the events it emitted. */
async function adapterSample(name, provider, scenario, cwd, count) {
  const adapter = new ProbedAdapter(
    provider.adapter(cwd, provider.env ? provider.env(scenario) : scriptedCliEnv({ scenario })),
    provider.targetType,
    true,
  );
  const figures = await pipelineRun(provider, adapter, count, `${name} through the adapter`);
  const { events, groups, result } = adapter;
  return {
    figures,
    recorded: { name: adapter.name, capabilities: adapter.capabilities, events, groups, result },
  };
}

/** The same events, emitted by an in-process adapter into the same pipeline. */
async function replaySample(name, provider, recorded, count) {
  const adapter = new ProbedAdapter(new ReplayAdapter(recorded), provider.targetType, false);
  return pipelineRun(provider, adapter, count, `${name} pipeline-only`);
}

/** JSON.parse of every frame line of the transcript: what any reader of the stream must do at least. */
function parseSample(lines, count) {
  collectGarbage();
  const start = performance.now();
  let keep = 0;
  for (const line of lines) {
    const frame = JSON.parse(line);
    // A CLI frame's type, or a JSON-RPC message's method (ACP).
    keep += (frame.type ?? frame.method).length;
  }
  const ms = performance.now() - start;
  if (keep === 0) throw new Error("parse baseline parsed nothing");
  return { usPerEvent: (ms * 1000) / count, ms };
}

/**
 * The scripted CLI alone, read by a minimal consumer (split lines, JSON.parse): how fast the
 * fake CLI itself produces frames, from its first stdout chunk to its end. If this is close to
 * the adapter's figure, the fake CLI (not the adapter) sets the pace.
 */
async function cliAloneSample(name, provider, scenario, cwd, count, frameCount) {
  // The ACP agent answers only a client: its pace shows in the adapter's figure.
  if (!provider.cliAlone) return undefined;
  const child = spawn(scriptedCliPath(name), provider.cliAlone.args, {
    cwd,
    env: { ...process.env, ...scriptedCliEnv({ scenario }) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  child.stdin.end(provider.cliAlone.stdin);
  let firstChunkAt;
  let pending = "";
  let frames = 0;
  child.stdout.setEncoding("utf8");
  const exited = new Promise((resolve) => child.once("close", (code) => resolve(code)));
  for await (const chunk of child.stdout) {
    firstChunkAt ??= performance.now();
    pending += chunk;
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      const frame = JSON.parse(pending.slice(0, newline));
      if (frame.type !== "control_response") frames++;
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  }
  const ms = performance.now() - firstChunkAt;
  const code = await exited;
  if (code !== 0 || frames !== frameCount) {
    throw new Error(`${name} scripted CLI alone: exit ${code}, ${frames} of ${frameCount} frames`);
  }
  return { usPerEvent: (ms * 1000) / count, ms };
}

async function providerBench(name, provider, { events, repetitions, warmupEvents }) {
  const { dir, remove } = tempDir(`adapter-overhead-${name}`);
  try {
    const { scenario, printed } = writeProviderTranscript(provider, join(dir, "transcript.jsonl"), events);
    const warmup = writeProviderTranscript(provider, join(dir, "warmup.jsonl"), warmupEvents);

    // One small unmeasured round of each side warms up the JIT, the SDK imports and the launchers.
    const warm = await adapterSample(name, provider, warmup.scenario, dir, warmupEvents);
    await replaySample(name, provider, warm.recorded, warmupEvents);
    await cliAloneSample(name, provider, warmup.scenario, dir, warmupEvents, warmup.printed.length);
    parseSample(printed, events);

    const adapter = [];
    const pipeline = [];
    const parse = [];
    const cliAlone = [];
    // Interleaved, so drift in machine speed hits every side alike.
    for (let i = 0; i < repetitions; i++) {
      const sample = await adapterSample(name, provider, scenario, dir, events);
      adapter.push(sample.figures);
      pipeline.push(await replaySample(name, provider, sample.recorded, events));
      sample.recorded = undefined;
      cliAlone.push(await cliAloneSample(name, provider, scenario, dir, events, printed.length));
      parse.push(parseSample(printed, events));
    }
    const adapterUs = median(adapter.map((sample) => sample.usPerEvent));
    const pipelineUs = median(pipeline.map((sample) => sample.usPerEvent));
    const parseUs = median(parse.map((sample) => sample.usPerEvent));
    const cliAloneUs = provider.cliAlone ? median(cliAlone.map((sample) => sample.usPerEvent)) : null;
    const figures = {
      path: provider.path,
      frame: provider.frameKind,
      eventType: provider.targetType,
      adapterUsPerEvent: adapterUs,
      adapterEventsPerSecond: 1e6 / adapterUs,
      pipelineOnlyUsPerEvent: pipelineUs,
      pipelineOnlyEventsPerSecond: 1e6 / pipelineUs,
      overheadUsPerEvent: adapterUs - pipelineUs,
      ratio: adapterUs / pipelineUs,
      adapterCpuUsPerEvent: median(adapter.map((sample) => sample.cpuUsPerEvent)),
      pipelineOnlyCpuUsPerEvent: median(pipeline.map((sample) => sample.cpuUsPerEvent)),
      jsonParseUsPerEvent: parseUs,
      scriptedCliAloneUsPerEvent: cliAloneUs,
      adapterRunFixedMs: median(adapter.map((sample) => sample.fixedMs)),
      pipelineOnlyRunFixedMs: median(pipeline.map((sample) => sample.fixedMs)),
      adapterEventsPerTransaction: median(adapter.map((sample) => sample.eventsPerTransaction)),
      pipelineOnlyEventsPerTransaction: median(pipeline.map((sample) => sample.eventsPerTransaction)),
    };
    const samples = { adapter, pipelineOnly: pipeline, jsonParse: parse, scriptedCliAlone: cliAlone };
    return { figures, samples };
  } finally {
    remove();
  }
}

const us = (value) => `${value.toFixed(1)} µs/event`;

export async function adapterOverheadBench({
  events,
  repetitions,
  warmupEvents = 500,
  providers: names = Object.keys(PROVIDERS),
}) {
  const providers = {};
  const samples = {};
  for (const name of names) {
    const provider = PROVIDERS[name];
    if (!provider) throw new Error(`adapter-overhead: no provider ${name}`);
    const result = await providerBench(name, provider, { events, repetitions, warmupEvents });
    const f = result.figures;
    console.log(
      `adapter-overhead ${name}: ${us(f.adapterUsPerEvent)} through ${f.path}, pipeline-only ${us(f.pipelineOnlyUsPerEvent)},` +
        ` overhead ${us(f.overheadUsPerEvent)} (ratio ${f.ratio.toFixed(1)})`,
    );
    console.log(
      `  ${name}: ${formatRate(f.adapterEventsPerSecond)} vs ${formatRate(f.pipelineOnlyEventsPerSecond)} events/s;` +
        ` this process's CPU ${us(f.adapterCpuUsPerEvent)} vs ${us(f.pipelineOnlyCpuUsPerEvent)};` +
        ` JSON.parse alone ${f.jsonParseUsPerEvent.toFixed(2)} µs/event;` +
        (f.scriptedCliAloneUsPerEvent === null
          ? ""
          : ` scripted CLI alone ${us(f.scriptedCliAloneUsPerEvent)};`) +
        ` fixed cost per run ${f.adapterRunFixedMs.toFixed(0)} vs ${f.pipelineOnlyRunFixedMs.toFixed(0)} ms;` +
        ` ${f.adapterEventsPerTransaction.toFixed(0)} vs ${f.pipelineOnlyEventsPerTransaction.toFixed(0)} events/transaction`,
    );
    providers[name] = f;
    samples[name] = result.samples;
  }
  const [worst, worstFigures] = Object.entries(providers).reduce((a, b) => (b[1].ratio > a[1].ratio ? b : a));
  return {
    figures: { events, providers },
    samples,
    ratio: worstFigures.ratio,
    summary:
      `adapter-overhead (${events} events per provider): ` +
      Object.entries(providers)
        .map(
          ([name, f]) => `${name} ${f.overheadUsPerEvent >= 0 ? "+" : ""}${f.overheadUsPerEvent.toFixed(1)}`,
        )
        .join(", ") +
      ` µs/event over pipeline-only; largest ratio ${worst}`,
  };
}
