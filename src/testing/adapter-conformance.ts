import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AsmError, type ErrorCode, errorCategory } from "../core/errors.js";
import {
  type AdapterEvent,
  type EventType,
  isTerminalRunEventType,
  validateEventData,
} from "../core/events.js";
import { newId } from "../core/ids.js";
import type { Run, RunInput } from "../core/run.js";
import type { JsonObject, Session } from "../core/session.js";
import type {
  EventSink,
  ExecuteRequest,
  ExecuteResult,
  ProviderAdapter,
  ResumePoint,
} from "../ports/provider-adapter.js";
import type { TestFramework } from "./session-store-conformance.js";
import { until } from "./wait.js";

/**
 * The situations every adapter is tested in. Each harness maps them to its provider: a
 * transcript for a scripted CLI, a command for the shell.
 *
 * - `text`: the agent answers with text containing `expectedText`;
 * - `tool_call`: the agent calls one tool, which succeeds, then finishes;
 * - `failure`: the provider fails (an error result, a non-zero exit with a stderr line);
 * - `stall`: the provider starts, starts a child process, and then never finishes;
 * - `malformed_line`: one output line is not valid JSON, and the run otherwise succeeds;
 * - `auth_failure`: the provider rejects the credentials (HTTP 401);
 * - `rate_limited`: the provider is rate limited or overloaded (HTTP 429/529).
 */
export const ADAPTER_SCENARIOS = [
  "text",
  "tool_call",
  "failure",
  "stall",
  "malformed_line",
  "auth_failure",
  "rate_limited",
] as const;
export type AdapterScenario = (typeof ADAPTER_SCENARIOS)[number];

export interface AdapterScenarioContext {
  scenario: AdapterScenario;
  /** A fresh directory for this case, removed after it. */
  tmpDir: string;
}

/** What one case runs: an adapter, and the request to execute on it. */
export interface AdapterScenarioSetup {
  adapter: ProviderAdapter;
  input: RunInput;
  /** `request.providerOptions`, namespaced by provider name. Default `{}`. */
  providerOptions?: Readonly<Record<string, JsonObject>>;
  /** Fields of the request's session (metadata, context). */
  session?: Partial<Pick<Session, "metadata" | "context" | "agentId">>;
  /** `text`: text the answer (output.content and the messages) must contain. */
  expectedText?: string;
  /**
   * `stall`: the pids of every process the run started (the CLI and its child), once they are
   * all running; `undefined` until then. The suite polls it with the events emitted so far.
   */
  processIds?(events: readonly AdapterEvent[]): number[] | undefined | Promise<number[] | undefined>;
  /** Cleanup after the case (the temp dir is removed by the suite). */
  dispose?(): Promise<void>;
}

/** How the suite gets adapters for each scenario. */
export interface AdapterConformanceHarness {
  /** Names the suite's top-level `describe`. */
  name: string;
  adapterFor(scenario: AdapterScenario, context: AdapterScenarioContext): Promise<AdapterScenarioSetup>;
  /**
   * Scenarios this provider cannot exhibit, each with the reason (the shell has no credentials
   * to reject). The suite still lists them, as skipped, with the reason in the test name.
   */
  unsupported?: Partial<Record<AdapterScenario, string>>;
  /** The provider has its own session ids: `run_started` and the result must carry one. Default false. */
  providerSessionIds?: boolean;
  /** The code the `failure` scenario rejects with. Default `provider_error`. */
  failureCode?: ErrorCode;
  /** Longest wait from abort to the rejection in the `stall` cases. Default 15 000 ms. */
  cancelWithinMs?: number;
}

/** `describe`/`it`, plus `skip` (vitest's `it.skip`, node:test's `it.skip`) to list unsupported cases. */
export interface AdapterTestFramework extends TestFramework {
  skip?(name: string, body: () => Promise<void>): unknown;
}

type EventOf<T extends EventType> = Extract<AdapterEvent, { type: T }>;

/** A sink that keeps what it is given, for assertions. */
export class RecordingSink implements EventSink {
  readonly events: AdapterEvent[] = [];

  emit(event: AdapterEvent): void {
    this.events.push(event);
  }

  of<T extends EventType>(type: T): EventOf<T>[] {
    return this.events.filter((event): event is EventOf<T> => event.type === type);
  }
}

/** What `makeExecuteRequest` puts in a request besides the run's input. */
export interface ExecuteRequestParts {
  /** `request.providerOptions`, namespaced by provider name. Default `{}`. */
  providerOptions?: Readonly<Record<string, JsonObject>>;
  /** `request.resumePoints`, keyed by provider name. Default: none. */
  resumePoints?: Readonly<Record<string, ResumePoint>>;
  /** Fields of the request's session (its id, metadata, context). Default: a fresh session. */
  session?: Partial<Pick<Session, "id" | "metadata" | "context" | "agentId">>;
  /** The run's id. Default: a fresh one. */
  runId?: string;
}

/** A request as the SessionManager would build it, for running adapters directly in tests. */
export function makeExecuteRequest(input: RunInput, parts: ExecuteRequestParts = {}): ExecuteRequest {
  const { session = {}, providerOptions = {}, resumePoints, runId = newId("run") } = parts;
  const now = new Date().toISOString();
  const fullSession: Session = {
    id: session.id ?? newId("ses"),
    agentId: session.agentId ?? "conformance",
    status: "active",
    metadata: session.metadata ?? {},
    context: session.context ?? {},
    tags: [],
    createdAt: now,
    updatedAt: now,
  };
  const run: Run = {
    id: runId,
    sessionId: fullSession.id,
    status: "running",
    input,
    metadata: {},
    turnCount: 0,
    tokenUsage: { inputTokens: 0, outputTokens: 0 },
    costUsd: null,
    providerMetadata: {},
    createdAt: now,
  };
  return { run, session: fullSession, providerOptions, ...(resumePoints ? { resumePoints } : {}) };
}

/**
 * Whether `pid` is a running process. Zombies (exited, not yet reaped: in a container whose init
 * does not reap, possibly forever) count as gone; Linux tells them apart through /proc.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return !(error instanceof Error && "code" in error && error.code === "ESRCH");
  }
  if (process.platform !== "linux") return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

type Settled = { ok: true; result: ExecuteResult } | { ok: false; error: unknown };

function settle(promise: Promise<ExecuteResult>): Promise<Settled> {
  return promise.then(
    (result) => ({ ok: true, result }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function expectOk(settled: Settled, events: readonly AdapterEvent[]): ExecuteResult {
  if (!settled.ok) {
    const error = settled.error;
    const text = error instanceof AsmError ? `${error.code}: ${error.message}` : String(error);
    assert.fail(`expected the run to succeed, it rejected with ${text}; events: ${JSON.stringify(events)}`);
  }
  return settled.result;
}

function expectAsmError(settled: Settled, code: ErrorCode): AsmError {
  assert.equal(settled.ok, false, `expected a rejection with ${code}, the run succeeded`);
  if (settled.ok) throw new Error("unreachable");
  const { error } = settled;
  assert.ok(error instanceof AsmError, `expected an AsmError, got ${String(error)}`);
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
  return error;
}

/**
 * Defines the `ProviderAdapter` contract as test cases in the caller's framework, on the
 * adapters `harness` sets up for each scenario. Assertions use `node:assert/strict`; waits are
 * bounded and loose, so the suite is safe on slow machines (give each test at least 30 s).
 *
 * Every case also checks, on everything the adapter emitted: `run_started` comes first, no
 * terminal run event (`run_completed`, `run_failed`, …) is ever emitted, each event's data
 * matches its schema, and `token_usage_updated` carries non-negative integers whose
 * `cumulative` covers the step.
 */
export function defineAdapterConformance(
  harness: AdapterConformanceHarness,
  framework: AdapterTestFramework,
): void {
  const { describe, it } = framework;
  const cancelWithinMs = harness.cancelWithinMs ?? 15_000;
  const failureCode = harness.failureCode ?? "provider_error";

  const scenarioTest = (
    scenario: AdapterScenario,
    name: string,
    body: (setup: AdapterScenarioSetup, sink: RecordingSink) => Promise<void>,
  ): void => {
    const reason = harness.unsupported?.[scenario];
    if (reason !== undefined) {
      const title = `${name} [skipped by design: ${reason}]`;
      if (framework.skip) framework.skip(title, async () => {});
      else it(title, async () => {});
      return;
    }
    it(name, async () => {
      const tmpDir = await mkdtemp(path.join(tmpdir(), "asm-adapter-conformance-"));
      let setup: AdapterScenarioSetup | undefined;
      try {
        setup = await harness.adapterFor(scenario, { scenario, tmpDir });
        const sink = new RecordingSink();
        await body(setup, sink);
        checkContract(sink.events);
      } finally {
        await setup?.dispose?.();
        await rm(tmpDir, { recursive: true, force: true });
      }
    });
  };

  const execute = (
    setup: AdapterScenarioSetup,
    sink: RecordingSink,
    signal = new AbortController().signal,
  ) => {
    const request = makeExecuteRequest(setup.input, {
      ...(setup.providerOptions ? { providerOptions: setup.providerOptions } : {}),
      ...(setup.session ? { session: setup.session } : {}),
    });
    return { request, settled: settle(setup.adapter.execute(request, sink, signal)) };
  };

  const stallAndStop = async (
    setup: AdapterScenarioSetup,
    sink: RecordingSink,
    stop: (controller: AbortController, request: ExecuteRequest, pids: readonly number[]) => Promise<void>,
  ): Promise<void> => {
    const controller = new AbortController();
    const { request, settled } = execute(setup, sink, controller.signal);
    const probe = setup.processIds;
    assert.ok(probe, "the stall scenario needs processIds() to check the process tree");
    const pids = await until(
      async () => {
        const early = await Promise.race([settled, sleep(0).then(() => undefined)]);
        if (early) assert.fail(`the stalled run ended before it was cancelled: ${JSON.stringify(early)}`);
        const ids = await probe(sink.events);
        return ids && ids.length > 0 ? ids : undefined;
      },
      "the stalled run's processes",
      20_000,
      25,
    );
    for (const pid of pids)
      assert.ok(isProcessAlive(pid), `process ${pid} should be running before the cancel`);
    await stop(controller, request, pids);
    const outcome = await Promise.race([settled, sleep(cancelWithinMs).then(() => "hung" as const)]);
    assert.notEqual(outcome, "hung", `the run did not end within ${cancelWithinMs} ms of the cancel`);
    if (outcome === "hung") return;
    const error = expectAsmError(outcome, "cancelled");
    assert.equal(error.category, "runtime");
    // A cancel settles only once the tree is confirmed gone: nothing of it may still run now.
    const alive = pids.filter(isProcessAlive);
    assert.deepEqual(alive, [], `processes still running when the run settled: ${alive.join(", ")}`);
  };

  describe(`${harness.name}: ProviderAdapter conformance`, () => {
    scenarioTest(
      "text",
      "a text answer: run_started first, messages, output.content",
      async (setup, sink) => {
        const { settled } = execute(setup, sink);
        const result = expectOk(await settled, sink.events);
        const expected = setup.expectedText;
        assert.ok(expected, "the text scenario needs expectedText");
        assert.ok(
          result.output.content.includes(expected),
          `output.content ${JSON.stringify(result.output.content)}`,
        );
        const received = sink.of("message_received").map((event) => event.data.content);
        const streamed = sink
          .of("message_streamed")
          .map((event) => event.data.delta)
          .join("");
        assert.ok(
          received.some((content) => content.includes(expected)) || streamed.includes(expected),
          `no message carried ${JSON.stringify(expected)}: ${JSON.stringify(sink.events)}`,
        );
        if (harness.providerSessionIds) {
          const [started] = sink.of("run_started");
          const id = started?.data.providerSessionId;
          assert.ok(typeof id === "string" && id.length > 0, "run_started should carry providerSessionId");
          assert.equal(
            result.providerSessionId,
            id,
            "the result's providerSessionId should match run_started's",
          );
        }
      },
    );

    scenarioTest(
      "tool_call",
      "a tool call: started then completed, same id, canonical keys",
      async (setup, sink) => {
        const { settled } = execute(setup, sink);
        expectOk(await settled, sink.events);
        const started = sink.of("tool_call_started");
        assert.ok(started.length >= 1, "expected tool_call_started");
        for (const start of started) {
          const index = sink.events.indexOf(start);
          const done = sink.events.findIndex(
            (event, at) =>
              at > index &&
              (event.type === "tool_call_completed" || event.type === "tool_call_failed") &&
              event.data.toolCallId === start.data.toolCallId,
          );
          assert.ok(done > index, `tool call ${start.data.toolCallId} never completed after it started`);
          const end = sink.events[done];
          assert.equal(end?.type, "tool_call_completed");
          if (end?.type === "tool_call_completed") assert.equal(end.data.toolName, start.data.toolName);
          assert.equal(typeof start.data.toolInput, "object");
        }
        const ids = started.map((event) => event.data.toolCallId);
        assert.equal(new Set(ids).size, ids.length, "each tool call should start once");
      },
    );

    scenarioTest("failure", `a provider failure rejects with ${failureCode}`, async (setup, sink) => {
      const { settled } = execute(setup, sink);
      const error = expectAsmError(await settled, failureCode);
      assert.equal(error.category, errorCategory(failureCode));
      assert.ok(error.providerError, "a provider failure should carry providerError");
      assert.equal(error.providerError?.provider, setup.adapter.name);
    });

    scenarioTest(
      "stall",
      "abort stops a stalled run promptly: rejects cancelled, process tree gone",
      (setup, sink) => stallAndStop(setup, sink, async (controller) => controller.abort()),
    );

    scenarioTest(
      "stall",
      "cancel(runId) stops a stalled run the same way, resolving once the tree is gone",
      (setup, sink) =>
        stallAndStop(setup, sink, async (_controller, request, pids) => {
          assert.equal(await setup.adapter.cancel(request.run.id), true);
          const alive = pids.filter(isProcessAlive);
          assert.deepEqual(alive, [], `processes still running when cancel() resolved: ${alive.join(", ")}`);
        }),
    );

    scenarioTest("text", "an already aborted signal rejects cancelled", async (setup, sink) => {
      const controller = new AbortController();
      controller.abort();
      const { settled } = execute(setup, sink, controller.signal);
      const outcome = await Promise.race([settled, sleep(cancelWithinMs).then(() => "hung" as const)]);
      assert.notEqual(outcome, "hung", "the run did not end");
      if (outcome !== "hung") expectAsmError(outcome, "cancelled");
    });

    scenarioTest("text", "cancel() of a run it is not executing resolves false", async (setup) => {
      assert.equal(await setup.adapter.cancel(newId("run")), false);
    });

    scenarioTest(
      "malformed_line",
      "a malformed output line: error_occurred parse_error (fatal: false), and the run completes",
      async (setup, sink) => {
        const { settled } = execute(setup, sink);
        expectOk(await settled, sink.events);
        const parseErrors = sink
          .of("error_occurred")
          .filter((event) => event.data.providerError?.kind === "parse_error");
        assert.equal(parseErrors.length, 1, `expected one parse_error: ${JSON.stringify(sink.events)}`);
        const [event] = parseErrors;
        assert.equal(event?.data.fatal, false);
        assert.equal(typeof event?.data.details?.line, "string");
      },
    );

    scenarioTest(
      "auth_failure",
      "rejected credentials: provider_authentication_failed, with a hint",
      async (setup, sink) => {
        const { settled } = execute(setup, sink);
        const error = expectAsmError(await settled, "provider_authentication_failed");
        assert.equal(error.retryable, false);
        assert.ok(error.hint, "an authentication failure should say how to log in");
      },
    );

    scenarioTest("rate_limited", "rate limited: provider_rate_limited, retryable", async (setup, sink) => {
      const { settled } = execute(setup, sink);
      const error = expectAsmError(await settled, "provider_rate_limited");
      assert.equal(error.retryable, true);
    });
  });
}

function checkContract(events: readonly AdapterEvent[]): void {
  if (events.length > 0) assert.equal(events[0]?.type, "run_started", "run_started must be the first event");
  assert.ok(
    events.filter((event) => event.type === "run_started").length <= 1,
    "run_started must be emitted once",
  );
  for (const event of events) {
    assert.equal(isTerminalRunEventType(event.type), false, `adapters never emit ${event.type}`);
    assert.deepEqual(
      validateEventData(event.type, event.data),
      [],
      `${event.type} data: ${JSON.stringify(event.data)}`,
    );
    if (event.type === "token_usage_updated") {
      const { cumulative } = event.data;
      if (cumulative) {
        assert.ok(cumulative.inputTokens >= event.data.inputTokens, "cumulative input covers the step");
        assert.ok(cumulative.outputTokens >= event.data.outputTokens, "cumulative output covers the step");
      }
    }
  }
}
