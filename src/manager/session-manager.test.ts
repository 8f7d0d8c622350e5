import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { isTerminalRunEventType } from "../core/events.js";
import { AsmError as CoreAsmError } from "../core/index.js";
import type { SessionStore } from "../ports/session-store.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { aborted, type Script, ScriptedAdapter } from "./test-support/scripted-adapter.js";

const answer: Script = async (request, sink) => {
  sink.emit({ type: "run_started", data: { model: "m-1", providerSessionId: "native-1" } });
  sink.emit({ type: "message_streamed", data: { delta: "Hel" } });
  sink.emit({ type: "message_streamed", data: { delta: "lo" } });
  sink.emit({ type: "token_usage_updated", data: { inputTokens: 10, outputTokens: 2 } });
  sink.emit({ type: "message_received", data: { role: "assistant", content: "Hello" } });
  return { output: { content: `Hello (${request.run.input.prompt})` }, stopReason: "end_turn", model: "m-1" };
};

function setup(script: Script, options: { redaction?: boolean; cancelGraceMs?: number } = {}) {
  const store = new MemorySessionStore();
  const adapter = new ScriptedAdapter(script);
  const manager = new SessionManager({ store, adapter, ...options });
  return { store, adapter, manager };
}

async function activeSession(manager: SessionManager) {
  const session = await manager.startSession({ agentId: "agent" });
  await manager.activateSession(session.id);
  return session;
}

async function expectAsmError(promise: Promise<unknown>, code: string): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CoreAsmError);
  expect((error as AsmError).code).toBe(code);
  return error as AsmError;
}

function terminalEvents(events: readonly AsmEvent[], runId: string) {
  return events.filter((event) => event.runId === runId && isTerminalRunEventType(event.type));
}

describe("SessionManager.runOnce", () => {
  it("runs a session end to end and logs every step in order", async () => {
    const { store, manager } = setup(answer);
    const seen: AsmEvent[] = [];
    const result = await manager.runOnce("say hello", { onEvent: (event) => seen.push(event) });

    expect(result.output.content).toBe("Hello (say hello)");
    expect(result.tokenUsage).toEqual({ inputTokens: 10, outputTokens: 2 });
    expect(result.stopReason).toBe("end_turn");
    expect(result.model).toBe("m-1");
    expect(result.events.map((event) => event.type)).toEqual([
      "message_sent",
      "run_started",
      "message_streamed",
      "message_streamed",
      "token_usage_updated",
      "message_received",
      "run_completed",
    ]);
    const log = await store.getEvents(result.sessionId, { limit: 1000 });
    // runOnce owns the session, so its listener sees the whole session's log.
    expect(seen).toEqual(log);
    expect(log.map((event) => event.sequence)).toEqual(log.map((_, index) => index + 1));
    expect(log.map((event) => event.type)).toEqual([
      "session_created",
      "session_started",
      ...result.events.map((event) => event.type),
      "session_completed",
    ]);
    expect(log[2]?.data).toEqual({ role: "user", content: "say hello" });
    expect(log.every((event) => event.sessionId === result.sessionId)).toBe(true);
    const runEvents = log.filter((event) => event.runId === result.runId);
    expect(runEvents.every((event) => event.provider === "scripted")).toBe(true);

    const run = await store.getRun(result.runId);
    expect(run.status).toBe("completed");
    expect(run.output?.content).toBe("Hello (say hello)");
    expect(run.tokenUsage).toEqual({ inputTokens: 10, outputTokens: 2 });
    expect(run.provider).toBe("scripted");
    expect(run.providerMetadata).toEqual({ model: "m-1" });
    expect(run.owner).toEqual({ hostname: hostname(), pid: process.pid });
    // "m-1" has no price: the cost is unknown, and the run says why.
    expect(run.costUsd).toBeNull();
    expect(run.metadata.costWarning).toContain('"m-1"');
    expect(run.startedAt).toBeDefined();
    expect(run.endedAt).toBeDefined();
    expect((await store.getSession(result.sessionId)).status).toBe("completed");
  });

  it("fails the run and the session with the provider's error code", async () => {
    const { store, manager } = setup(async (_request, sink) => {
      sink.emit({ type: "run_started", data: {} });
      throw new AsmError("provider_rate_limited", "slow down", { details: { retryAfterMs: 1000 } });
    });
    const error = await expectAsmError(manager.runOnce("hi"), "provider_rate_limited");
    expect(error.retryable).toBe(true);
    const runId = String(error.details.runId);
    const sessionId = String(error.details.sessionId);

    const run = await store.getRun(runId);
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ code: "provider_rate_limited", message: "slow down" });
    const log = await store.getEvents(sessionId);
    const terminal = terminalEvents(log, runId);
    expect(terminal).toHaveLength(1);
    expect(terminal[0]).toMatchObject({ type: "run_failed", data: { errorCode: "provider_rate_limited" } });
    expect(log.at(-1)).toMatchObject({
      type: "session_failed",
      data: { errorCode: "provider_rate_limited" },
    });
    expect((await store.getSession(sessionId)).status).toBe("failed");
  });

  it("wraps a plain exception from an adapter as provider_error", async () => {
    const { manager } = setup(async () => {
      throw new Error("socket hang up");
    });
    const error = await expectAsmError(manager.runOnce("hi"), "provider_error");
    expect(error.message).toBe("socket hang up");
  });
});

describe("cost", () => {
  it("prices a run's tokens by its model, and lets a provider-reported cost win", async () => {
    const priced = setup(async (_request, sink) => {
      sink.emit({ type: "run_started", data: { model: "claude-haiku-4-5-20251001" } });
      sink.emit({ type: "token_usage_updated", data: { inputTokens: 1_000_000, outputTokens: 100_000 } });
      return { output: { content: "ok" } };
    });
    const result = await priced.manager.runOnce("x");
    // $1 input + $0.5 output at Haiku 4.5 list prices, with the model named only in run_started.
    expect(result.costUsd).toBeCloseTo(1.5, 10);
    expect((await priced.store.getRun(result.runId)).costUsd).toBeCloseTo(1.5, 10);
    const terminal = result.events.at(-1);
    expect(terminal?.type === "run_completed" ? terminal.data.costUsd : undefined).toBeCloseTo(1.5, 10);

    const reported = setup(async () => ({
      output: { content: "ok" },
      model: "claude-haiku-4-5",
      tokenUsage: { inputTokens: 5, outputTokens: 5 },
      costUsd: 0.25,
    }));
    expect((await reported.manager.runOnce("x")).costUsd).toBe(0.25);
  });

  it("keeps the cost a failed provider reported", async () => {
    const { store, manager } = setup(async () => {
      throw new AsmError("provider_error", "max turns", { details: { costUsd: 0.0421 } });
    });
    const error = await expectAsmError(manager.runOnce("x"), "provider_error");
    expect((await store.getRun(String(error.details.runId))).costUsd).toBe(0.0421);
  });

  it("prices the tokens a failed run spent", async () => {
    const { store, manager } = setup(async (_request, sink) => {
      sink.emit({ type: "run_started", data: { model: "gpt-5" } });
      sink.emit({ type: "token_usage_updated", data: { inputTokens: 1_000_000, outputTokens: 0 } });
      throw new AsmError("provider_error", "boom");
    });
    const error = await expectAsmError(manager.runOnce("x"), "provider_error");
    const run = await store.getRun(String(error.details.runId));
    expect(run.costUsd).toBeCloseTo(1.25, 10);
    expect(run.tokenUsage).toEqual({ inputTokens: 1_000_000, outputTokens: 0 });
  });
});

describe("event normalization", () => {
  it("keeps an unknown event type as error_occurred with the original", async () => {
    const { manager } = setup(async (_request, sink) => {
      // A JavaScript adapter can emit anything; the pipeline must keep it, typed.
      (sink.emit as (event: unknown) => void)({ type: "thinking_delta", data: { text: "hmm" } });
      return { output: { content: "" } };
    });
    const result = await manager.runOnce("x");
    const event = result.events.find((candidate) => candidate.type === "error_occurred");
    expect(event?.data).toMatchObject({
      errorCode: "invalid_event_type",
      fatal: false,
      details: { originalType: "thinking_delta", originalData: { text: "hmm" } },
    });
  });

  it("turns a terminal event emitted by an adapter into error_occurred, keeping one terminal", async () => {
    const { manager } = setup(async (_request, sink) => {
      (sink.emit as (event: unknown) => void)({ type: "run_completed", data: { stopReason: "x" } });
      return { output: { content: "done" } };
    });
    const result = await manager.runOnce("x");
    expect(terminalEvents(result.events, result.runId).map((event) => event.type)).toEqual(["run_completed"]);
    const violation = result.events.find((event) => event.type === "error_occurred");
    expect(violation?.data).toMatchObject({ details: { originalType: "run_completed" } });
  });

  it("stores an event whose data fails its schema, with the problems in metadata", async () => {
    const { manager } = setup(async (_request, sink) => {
      (sink.emit as (event: unknown) => void)({
        type: "tool_call_started",
        data: { toolName: "bash" },
        timestamp: "not a date",
      });
      return { output: { content: "" } };
    });
    const result = await manager.runOnce("x");
    const event = result.events.find((candidate) => candidate.type === "tool_call_started");
    expect(event?.data).toEqual({ toolName: "bash" });
    expect(event?.metadata.validationIssues?.map((issue) => issue.path).sort()).toEqual([
      "toolCallId",
      "toolInput",
    ]);
    expect(event?.metadata.invalidTimestamp).toBe("not a date");
  });

  it("redacts secrets before they are stored and before listeners see them", async () => {
    const secret = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123";
    const { store, manager } = setup(
      async (_request, sink) => {
        sink.emit({ type: "message_received", data: { role: "assistant", content: `key is ${secret}` } });
        return { output: { content: "ok" } };
      },
      { redaction: true },
    );
    const seen: AsmEvent[] = [];
    const result = await manager.runOnce(`use ${secret}`, { onEvent: (event) => seen.push(event) });
    const stored = await store.getEvents(result.sessionId, { runId: result.runId });
    const texts = JSON.stringify(stored) + JSON.stringify(seen);
    expect(texts).not.toContain(secret);
    const received = stored.find((event) => event.type === "message_received");
    expect(received?.data).toMatchObject({ content: "key is [REDACTED]" });
    expect(received?.metadata.redactions).toBe(1);
  });
});

describe("run lifecycle and cancellation", () => {
  it("cancels a running run: one run_cancelled, status cancelled, the adapter saw the abort", async () => {
    let sawAbort = false;
    const { store, manager } = setup(async (_request, sink, signal) => {
      sink.emit({ type: "run_started", data: {} });
      await aborted(signal);
      sawAbort = true;
      sink.emit({ type: "message_streamed", data: { delta: "partial" } });
      throw new AsmError("cancelled", "stopped");
    });
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "work");
    const seen: AsmEvent[] = [];
    const execution = manager.executeRun(run.id, {
      onEvent: (event) => {
        seen.push(event);
        if (event.type === "run_started") void manager.cancelRun(run.id, "user pressed stop");
      },
    });
    await expectAsmError(execution, "cancelled");
    expect(sawAbort).toBe(true);
    expect((await store.getRun(run.id)).status).toBe("cancelled");
    const log = await store.getEvents(session.id, { runId: run.id });
    expect(terminalEvents(log, run.id)).toHaveLength(1);
    // The provider's last words are logged before the terminal event.
    expect(log.map((event) => event.type)).toEqual([
      "message_sent",
      "run_started",
      "message_streamed",
      "run_cancelled",
    ]);
    expect(log.at(-1)?.data).toEqual({ reason: "user pressed stop" });
  });

  it("lets completion win when the provider finished before the cancel arrived", async () => {
    let started: () => void = () => undefined;
    const adapterStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    let finish: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const { store, manager } = setup(async () => {
      started();
      await gate;
      return { output: { content: "done" } };
    });
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "work");
    const execution = manager.executeRun(run.id);
    await adapterStarted;
    finish();
    // The adapter's promise settles within this turn's microtasks; the cancel comes after it.
    await new Promise((resolve) => setImmediate(resolve));
    const cancelled = await manager.cancelRun(run.id);
    const result = await execution;
    expect(result.output.content).toBe("done");
    expect(cancelled.status).toBe("completed");
    const log = await store.getEvents(session.id, { runId: run.id });
    expect(terminalEvents(log, run.id).map((event) => event.type)).toEqual(["run_completed"]);
  });

  it("keeps exactly one terminal event when cancel and completion race at any moment", async () => {
    const { store, manager } = setup(async (_request, _sink, signal) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new AsmError("cancelled", "aborted");
      return { output: { content: "done" } };
    });
    const session = await activeSession(manager);
    const outcomes = new Set<string>();
    for (let round = 0; round < 30; round += 1) {
      const run = await manager.startRun(session.id, `round ${round}`);
      const execution = manager.executeRun(run.id).then(
        () => "completed",
        (error: AsmError) => error.code,
      );
      // Cancel after 0..5 turns of the event loop: before start, mid-run, or after the provider finished.
      for (let tick = 0; tick < round % 6; tick += 1) await new Promise((resolve) => setImmediate(resolve));
      const [outcome, final] = await Promise.all([execution, manager.cancelRun(run.id)]);
      const stored = await store.getRun(run.id);
      expect(final.status).toBe(stored.status);
      // A cancel that lands before the run started leaves nothing to execute.
      expect(outcome).toBe(outcome === "invalid_transition" ? "invalid_transition" : stored.status);
      if (outcome === "invalid_transition") expect(stored.status).toBe("cancelled");
      outcomes.add(outcome);
      const terminal = terminalEvents(await store.getEvents(session.id, { runId: run.id }), run.id);
      expect(terminal.map((event) => event.type)).toEqual([`run_${stored.status}`]);
    }
    // The rounds really exercised more than one side of the race.
    expect(outcomes.size).toBeGreaterThan(1);
  });

  it("cancels through the caller's AbortSignal", async () => {
    const { store, manager } = setup(async (_request, _sink, signal) => {
      await aborted(signal);
      throw new AsmError("cancelled", "aborted");
    });
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "work");
    const controller = new AbortController();
    const execution = manager.executeRun(run.id, { signal: controller.signal });
    controller.abort();
    await expectAsmError(execution, "cancelled");
    expect((await store.getRun(run.id)).status).toBe("cancelled");
  });

  it("ends a run that exceeds timeoutMs with status timeout and run_timeout", async () => {
    const { store, manager } = setup(async (_request, _sink, signal) => {
      await aborted(signal);
      throw new AsmError("cancelled", "aborted");
    });
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "slow");
    const error = await expectAsmError(manager.executeRun(run.id, { timeoutMs: 50 }), "timeout");
    expect(error.details.timeoutMs).toBe(50);
    expect((await store.getRun(run.id)).status).toBe("timeout");
    const terminal = terminalEvents(await store.getEvents(session.id), run.id);
    expect(terminal).toMatchObject([{ type: "run_timeout", data: { timeoutMs: 50 } }]);
  });

  it("does not hang on an adapter that ignores the abort, and still logs its late events", async () => {
    let emitLate: () => void = () => undefined;
    const { store, manager } = setup(
      (_request, sink) =>
        new Promise(() => {
          emitLate = () => sink.emit({ type: "message_streamed", data: { delta: "late" } });
        }),
      { cancelGraceMs: 20 },
    );
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "stuck");
    const execution = manager.executeRun(run.id);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const final = await manager.cancelRun(run.id);
    expect(final.status).toBe("cancelled");
    await expectAsmError(execution, "cancelled");
    emitLate();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const log = await store.getEvents(session.id, { runId: run.id });
    expect(log.map((event) => event.type)).toEqual(["message_sent", "run_cancelled", "message_streamed"]);
    expect(terminalEvents(log, run.id)).toHaveLength(1);
  });

  it("cancels a pending run without executing it", async () => {
    const { store, manager, adapter } = setup(answer);
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "never");
    const cancelled = await manager.cancelRun(run.id, "changed my mind");
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.endedAt).toBeDefined();
    await expectAsmError(manager.executeRun(run.id), "invalid_transition");
    expect(adapter.calls).toHaveLength(0);
    const log = await store.getEvents(session.id, { runId: run.id });
    expect(log).toMatchObject([{ type: "run_cancelled", data: { reason: "changed my mind" } }]);
    // Cancelling again changes nothing.
    expect((await manager.cancelRun(run.id)).status).toBe("cancelled");
    expect(await store.getEvents(session.id, { runId: run.id })).toHaveLength(1);
  });

  it("lets one writer end a run when another manager on the same store cancels it", async () => {
    const store = new MemorySessionStore();
    const executor = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async (_request, sink) => {
        sink.emit({ type: "run_started", data: {} });
        await new Promise((resolve) => setTimeout(resolve, 30));
        return { output: { content: "finished anyway" } };
      }),
    });
    const other = new SessionManager({ store, adapter: new ScriptedAdapter(answer) });
    const session = await activeSession(executor);
    const run = await executor.startRun(session.id, "work");
    const execution = executor.executeRun(run.id);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await other.cancelRun(run.id, "from elsewhere")).status).toBe("cancelled");
    await expectAsmError(execution, "cancelled");
    expect((await store.getRun(run.id)).status).toBe("cancelled");
    const terminal = terminalEvents(await store.getEvents(session.id), run.id);
    expect(terminal).toMatchObject([{ type: "run_cancelled", data: { reason: "from elsewhere" } }]);
  });
});

describe("checked transitions and input", () => {
  it("rejects illegal session transitions with invalid_transition", async () => {
    const { manager } = setup(answer);
    const session = await activeSession(manager);
    const error = await expectAsmError(manager.activateSession(session.id), "invalid_transition");
    expect(error.details).toMatchObject({ entity: "session", from: "active", to: "active" });
    await manager.completeSession(session.id);
    await expectAsmError(manager.pauseSession(session.id), "invalid_transition");
  });

  it("pauses and resumes a session, logging both", async () => {
    const { store, manager } = setup(answer);
    const session = await activeSession(manager);
    await manager.pauseSession(session.id, "lunch");
    await expectAsmError(manager.startRun(session.id, "x"), "invalid_status");
    await manager.resumeSession(session.id);
    const types = (await store.getEvents(session.id)).map((event) => event.type);
    expect(types).toEqual(["session_created", "session_started", "session_paused", "session_resumed"]);
  });

  it("refuses to execute a run twice", async () => {
    const { manager } = setup(answer);
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "once");
    await manager.executeRun(run.id);
    await expectAsmError(manager.executeRun(run.id), "invalid_transition");
  });

  it("rejects bad options and input with validation_error", async () => {
    const { manager } = setup(answer);
    const session = await activeSession(manager);
    await expectAsmError(manager.startSession({ agentId: "" }), "validation_error");
    await expectAsmError(manager.startRun(session.id, {}), "validation_error");
    const run = await manager.startRun(session.id, "x");
    const error = await expectAsmError(manager.executeRun(run.id, { timeoutMs: -5 }), "validation_error");
    expect(error.message).toContain("timeoutMs");
    await expectAsmError(
      manager.executeRun(run.id, { bogus: true } as unknown as Parameters<SessionManager["executeRun"]>[1]),
      "validation_error",
    );
    // A rejected option leaves the run untouched and executable.
    expect((await manager.executeRun(run.id)).output.content).toBe("Hello (x)");
  });

  it("checks capabilities before a run is created", async () => {
    const { manager, store } = setup(answer);
    const session = await activeSession(manager);
    const error = await expectAsmError(
      manager.startRun(session.id, "x", { requiredCapabilities: ["code_execution"] }),
      "missing_required_capability",
    );
    expect(error.details.missing).toEqual(["code_execution"]);
    expect(await store.listRuns(session.id)).toEqual([]);
    const run = await manager.startRun(session.id, "x", {
      requiredCapabilities: [{ type: "tool", name: "bash" }],
      optionalCapabilities: ["network_access"],
    });
    expect(run.metadata.capabilities).toMatchObject({ status: "degraded" });
  });

  it("reports unknown sessions and runs by code", async () => {
    const { manager } = setup(answer);
    await expectAsmError(manager.activateSession("ses_missing"), "session_not_found");
    await expectAsmError(manager.executeRun("run_missing"), "run_not_found");
  });
});

describe("streamSessionEvents", () => {
  it("reads from a cursor and follows live appends until aborted", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { manager } = setup(async (_request, sink) => {
      sink.emit({ type: "run_started", data: {} });
      await gate;
      sink.emit({ type: "message_received", data: { role: "assistant", content: "later" } });
      return { output: { content: "later" } };
    });
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "go");

    const page = [];
    for await (const event of manager.streamSessionEvents(session.id, { after: 1 }))
      page.push(event.sequence);
    expect(page).toEqual([2]);

    const controller = new AbortController();
    const followed: AsmEvent[] = [];
    const follower = (async () => {
      for await (const event of manager.streamSessionEvents(session.id, {
        after: 2,
        follow: true,
        signal: controller.signal,
        pageSize: 2,
      })) {
        followed.push(event);
        if (event.type === "run_completed") controller.abort();
      }
    })();
    const execution = manager.executeRun(run.id);
    release();
    await execution;
    await follower;
    expect(followed.map((event) => event.type)).toEqual([
      "message_sent",
      "run_started",
      "message_received",
      "run_completed",
    ]);
    expect(followed.map((event) => event.sequence)).toEqual([3, 4, 5, 6]);
  });
});

describe("storage failures", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("fails the run with a storage code and stops the provider when the database goes away", async () => {
    dir = mkdtempSync(join(tmpdir(), "asm-manager-"));
    const store: SessionStore = await openSqliteStore({ path: join(dir, "asm.db") });
    let providerStopped = false;
    const adapter = new ScriptedAdapter(async (_request, sink, signal) => {
      sink.emit({ type: "run_started", data: {} });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await store.close();
      sink.emit({ type: "message_streamed", data: { delta: "lost?" } });
      await aborted(signal);
      providerStopped = true;
      throw new AsmError("cancelled", "stopped");
    });
    const manager = new SessionManager({ store, adapter });
    const session = await activeSession(manager);
    const run = await manager.startRun(session.id, "write");
    const error = await manager.executeRun(run.id).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CoreAsmError);
    expect((error as AsmError).category).toBe("storage");
    expect(providerStopped).toBe(true);
  });
});
