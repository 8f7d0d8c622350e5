import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { type Run, transitionRun } from "../core/run.js";
import type { JsonObject } from "../core/session.js";
import type { ExecuteRequest, ExecuteResult, ProviderTotals } from "../ports/provider-adapter.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { deriveResumePoints } from "./resume-points.js";
import { SessionManagerBase } from "./session-manager.js";
import { aborted, type Script, ScriptedAdapter } from "./test-support/scripted-adapter.js";

const FIRST: ProviderTotals = { costUsd: 0.5, tokenUsage: { inputTokens: 100, outputTokens: 10 } };
const SECOND: ProviderTotals = { costUsd: 0.75, tokenUsage: { inputTokens: 180, outputTokens: 25 } };

/** Completes in native session `providerSessionId`, reporting `totals` for it. */
function completes(providerSessionId: string, totals?: ProviderTotals): Script {
  return async (_request, sink) => {
    sink.emit({ type: "run_started", data: { providerSessionId } });
    const result: ExecuteResult = { output: { content: "ok" }, providerSessionId };
    return totals ? { ...result, providerTotals: totals } : result;
  };
}

/** Announces native session `providerSessionId`, then fails with `details`. */
function fails(providerSessionId: string, details: Record<string, unknown>): Script {
  return async (_request, sink) => {
    sink.emit({ type: "run_started", data: { providerSessionId } });
    throw new AsmError("provider_error", "scripted failure", { details });
  };
}

/** Announces native session `providerSessionId`, then waits to be cancelled. */
function waitsForCancel(providerSessionId: string): Script {
  return async (request, sink, signal) => {
    sink.emit({ type: "run_started", data: { providerSessionId } });
    await aborted(signal);
    throw new AsmError("cancelled", `run ${request.run.id} was cancelled`);
  };
}

/** An adapter playing `scripts` in turn, one per run, keeping every request. */
function playing(scripts: Script[]): ScriptedAdapter {
  const queue = [...scripts];
  return new ScriptedAdapter((request, sink, signal) => {
    const next = queue.shift();
    if (next === undefined) throw new Error("no script left");
    return next(request, sink, signal);
  });
}

async function sessionOn(manager: SessionManagerBase): Promise<string> {
  const session = await manager.startSession({ agentId: "agent" });
  await manager.activateSession(session.id);
  return session.id;
}

async function runIn(manager: SessionManagerBase, sessionId: string, options: { cancel?: boolean } = {}) {
  const run = await manager.startRun(sessionId, "go");
  const controller = new AbortController();
  const executing = manager.executeRun(run.id, {
    signal: controller.signal,
    onEvent: (event) => {
      if (options.cancel && event.type === "run_started") controller.abort();
    },
  });
  await executing.catch(() => undefined);
  return run.id;
}

describe("resume points derived from the stored runs", () => {
  it("hand each run its provider's native session and totals as the previous run stored them", async () => {
    const store = new MemorySessionStore();
    const adapter = playing([completes("native-1", FIRST), completes("native-1", SECOND)]);
    const manager = new SessionManagerBase({ store, adapter });
    const sessionId = await sessionOn(manager);

    const first = await runIn(manager, sessionId);
    expect(adapter.calls[0]?.resumePoints).toEqual({});
    expect((await store.getRun(first)).providerMetadata).toEqual({
      providerSessionId: "native-1",
      providerTotals: FIRST,
    });

    const second = await runIn(manager, sessionId);
    expect(adapter.calls[1]?.resumePoints).toEqual({
      scripted: { providerSessionId: "native-1", runId: first, totals: FIRST },
    });

    // Another manager and adapter on the same store (a restart, another process) derive the same.
    const fresh = playing([completes("native-1")]);
    await runIn(new SessionManagerBase({ store, adapter: fresh }), sessionId);
    expect(fresh.calls[0]?.resumePoints).toEqual({
      scripted: { providerSessionId: "native-1", runId: second, totals: SECOND },
    });
    // A session of its own knows nothing of the other's native sessions.
    const other = playing([completes("native-9")]);
    const otherManager = new SessionManagerBase({ store, adapter: other });
    await runIn(otherManager, await sessionOn(otherManager));
    expect(other.calls[0]?.resumePoints).toEqual({});
  });

  it("keep the totals a failed provider reported, and fall back to the last known ones after a cancel", async () => {
    const store = new MemorySessionStore();
    const adapter = playing([
      completes("native-1", FIRST),
      fails("native-1", { providerSessionId: "native-1", providerTotals: SECOND }),
      waitsForCancel("native-1"),
      completes("native-1"),
      waitsForCancel("native-2"),
      completes("native-2"),
    ]);
    const manager = new SessionManagerBase({ store, adapter });
    const sessionId = await sessionOn(manager);

    await runIn(manager, sessionId);
    const failed = await runIn(manager, sessionId);
    expect(await store.getRun(failed)).toMatchObject({
      status: "failed",
      providerMetadata: { providerSessionId: "native-1", providerTotals: SECOND },
    });
    const cancelled = await runIn(manager, sessionId, { cancel: true });
    // The cancelled run records the native session its run_started announced, and no totals.
    expect(await store.getRun(cancelled)).toMatchObject({
      status: "cancelled",
      providerMetadata: { providerSessionId: "native-1" },
    });
    expect((await store.getRun(cancelled)).providerMetadata).not.toHaveProperty("providerTotals");

    await runIn(manager, sessionId);
    // The latest run of native-1 is the cancelled one; its totals are the failed run's.
    expect(adapter.calls[3]?.resumePoints).toEqual({
      scripted: { providerSessionId: "native-1", runId: cancelled, totals: SECOND },
    });

    // A new native session cancelled before any total: nothing earlier of it to fall back to.
    const newSession = await runIn(manager, sessionId, { cancel: true });
    await runIn(manager, sessionId);
    expect(adapter.calls[5]?.resumePoints).toEqual({
      scripted: { providerSessionId: "native-2", runId: newSession },
    });
  });

  it("come with every provider's namespace of options, keyed by the provider each run stored", async () => {
    const store = new MemorySessionStore();
    const seen: ExecuteRequest[] = [];
    const adapter = new ScriptedAdapter(async (request) => {
      seen.push(request);
      return { output: { content: "ok" } };
    });
    const manager = new SessionManagerBase({ store, adapter });
    const sessionId = await sessionOn(manager);
    await stored(store, sessionId, "claude", { providerSessionId: "sess-c", providerTotals: { costUsd: 1 } });
    await stored(store, sessionId, "codex", { providerSessionId: "thread-x", providerTotals: SECOND });
    const providerOptions = { claude: { resumeSessionId: "sess-c" }, codex: { resumeThreadId: "thread-x" } };
    const run = await manager.startRun(sessionId, "go");
    await manager.executeRun(run.id, { providerOptions });
    expect(seen[0]?.providerOptions).toEqual(providerOptions);
    expect(seen[0]?.resumePoints).toEqual({
      claude: { providerSessionId: "sess-c", runId: expect.any(String), totals: { costUsd: 1 } },
      codex: { providerSessionId: "thread-x", runId: expect.any(String), totals: SECOND },
    });
  });
});

describe("executeRun({ providerOptions })", () => {
  it("refuses namespaces that are not objects with validation_error, leaving the run pending", async () => {
    const store = new MemorySessionStore();
    const adapter = playing([]);
    const manager = new SessionManagerBase({ store, adapter });
    const run = await manager.startRun(await sessionOn(manager), "go");
    for (const providerOptions of [{ claude: "resume" }, { claude: ["a"] }, { "": {} }, ["a"]]) {
      const error = await manager.executeRun(run.id, { providerOptions } as never).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(AsmError.is(error, "validation_error"), JSON.stringify(providerOptions)).toBe(true);
    }
    expect((await store.getRun(run.id)).status).toBe("pending");
    expect(adapter.calls).toHaveLength(0);
  });
});

describe("deriveResumePoints", () => {
  it("takes, per provider, the run that ended last; ignores runs not ended and totals that do not fit", async () => {
    const store = new MemorySessionStore();
    const sessionId = await newSession(store);
    // Created first but ended last: its totals are the newest.
    const late = await stored(
      store,
      sessionId,
      "codex",
      { providerSessionId: "t-1", providerTotals: SECOND },
      "2026-01-01T00:00:09.000Z",
    );
    await stored(
      store,
      sessionId,
      "codex",
      { providerSessionId: "t-1", providerTotals: FIRST },
      "2026-01-01T00:00:05.000Z",
    );
    const claude = await stored(store, sessionId, "claude", {
      providerSessionId: "s-1",
      providerTotals: { costUsd: 2 },
    });
    // Totals a store holds in the wrong shape are treated as unknown: the earlier run's count.
    const corrupt = await stored(store, sessionId, "claude", {
      providerSessionId: "s-1",
      providerTotals: { costUsd: -1, tokenUsage: "many" },
    });
    // Still running, and a run of a provider that recorded no native session.
    await stored(store, sessionId, "claude", { providerSessionId: "s-2" }, undefined, "running");
    await stored(store, sessionId, "shell", {});

    expect(await deriveResumePoints(store, sessionId)).toEqual({
      codex: { providerSessionId: "t-1", runId: late, totals: SECOND },
      claude: { providerSessionId: "s-1", runId: corrupt, totals: { costUsd: 2 } },
    });
    expect(claude).not.toBe(corrupt);
  });

  it("finds runs past the first page listRuns answers, through their run_started events", async () => {
    const store = new MemorySessionStore();
    const sessionId = await newSession(store);
    const base = Date.UTC(2026, 0, 1);
    let last = "";
    for (let index = 0; index <= 1000; index += 1) {
      const at = new Date(base + index * 1000).toISOString();
      const native = index === 1000 ? "newest" : "older";
      last = await stored(
        store,
        sessionId,
        "claude",
        { providerSessionId: native, providerTotals: { costUsd: index } },
        at,
      );
      await store.appendEvent({
        id: `evt_${index}`,
        sessionId,
        runId: last,
        type: "run_started",
        timestamp: at,
        data: { providerSessionId: native },
        metadata: {},
      });
    }
    expect((await store.listRuns(sessionId, { limit: 1000 })).some((run) => run.id === last)).toBe(false);
    expect(await deriveResumePoints(store, sessionId)).toEqual({
      claude: { providerSessionId: "newest", runId: last, totals: { costUsd: 1000 } },
    });
  });
});

async function newSession(store: MemorySessionStore): Promise<string> {
  const manager = new SessionManagerBase({ store, adapter: playing([]) });
  return sessionOn(manager);
}

let counter = 0;

/** Saves a run of `provider` through its lifecycle, ending (or not) at `endedAt`; returns its id. */
async function stored(
  store: MemorySessionStore,
  sessionId: string,
  provider: string,
  providerMetadata: JsonObject,
  endedAt = new Date(Date.UTC(2026, 0, 1) + counter * 1000).toISOString(),
  status: "completed" | "running" = "completed",
): Promise<string> {
  counter += 1;
  const pending: Run = {
    id: `run_stored_${counter}`,
    sessionId,
    status: "pending",
    input: { prompt: "go" },
    metadata: {},
    turnCount: 0,
    tokenUsage: { inputTokens: 0, outputTokens: 0 },
    costUsd: null,
    providerMetadata: {},
    createdAt: new Date(Date.UTC(2025, 0, 1) + counter).toISOString(),
  };
  await store.saveRun(pending);
  const running = { ...transitionRun(pending, "running"), provider, providerMetadata };
  await store.saveRun(running);
  if (status === "completed") await store.saveRun({ ...transitionRun(running, "completed"), endedAt });
  return pending.id;
}
