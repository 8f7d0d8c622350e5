import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { aborted, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import type { SessionStore } from "../ports/session-store.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { ApprovalGate, decisionEventId } from "./approvals.js";
import { APPROVAL_REQUESTED_REASON, cancelForApproval } from "./cancel-for-approval.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");

/** A clock the test moves by hand. */
function manualClock(start = T0) {
  let now = start;
  return { now: () => now, set: (ms: number) => (now = ms) };
}

async function sessionIn(store: SessionStore): Promise<string> {
  const manager = new SessionManager({
    store,
    adapter: new ScriptedAdapter(async () => ({ output: { content: "" } })),
  });
  const session = await manager.startSession({ agentId: "reviewer" });
  await manager.activateSession(session.id);
  return session.id;
}

const decisionsOf = (events: readonly AsmEvent[]) =>
  events.filter((event) => event.type === "tool_approval_granted" || event.type === "tool_approval_denied");

const ask = {
  toolName: "bash",
  toolCallId: "call-1",
  toolInput: { command: "rm -rf build" },
  policyName: "ops",
};

describe("ApprovalGate", () => {
  it("grants a pending request once; later decisions learn what stands", async () => {
    const store = new MemorySessionStore();
    const sessionId = await sessionIn(store);
    const clock = manualClock();
    const gate = new ApprovalGate(store, clock);
    const request = await gate.request({ sessionId }, { ...ask, ttlMs: 60_000 });
    expect(request).toMatchObject({
      sessionId,
      toolName: "bash",
      policyName: "ops",
      requestedAt: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + 60_000).toISOString(),
    });
    expect(await gate.pending(sessionId)).toEqual([request]);
    expect((await gate.get(sessionId, request.approvalId)).state).toBe("pending");

    const granted = await gate.approve(sessionId, request.approvalId, {
      by: "alice",
      note: "build dir only",
    });
    expect(granted).toEqual({
      decidedNow: true,
      decision: {
        approvalId: request.approvalId,
        status: "granted",
        by: "alice",
        note: "build dir only",
        decidedAt: new Date(T0).toISOString(),
      },
    });
    expect(await gate.approve(sessionId, request.approvalId, { by: "alice" })).toEqual({
      decidedNow: false,
      decision: granted.decision,
    });
    expect(await gate.deny(sessionId, request.approvalId, { by: "bob" })).toEqual({
      decidedNow: false,
      decision: granted.decision,
    });

    const decisions = decisionsOf(await store.getEvents(sessionId));
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      id: decisionEventId(request.approvalId),
      type: "tool_approval_granted",
      data: { approvalId: request.approvalId, toolName: "bash", toolCallId: "call-1", by: "alice" },
    });
    expect(await gate.pending(sessionId)).toEqual([]);
    expect(await gate.get(sessionId, request.approvalId)).toMatchObject({
      state: "granted",
      decision: granted.decision,
    });
  });

  it("lets exactly one of two racing decisions be stored", async () => {
    const store = new MemorySessionStore();
    const sessionId = await sessionIn(store);
    const gate = new ApprovalGate(store);
    const { approvalId } = await gate.request({ sessionId }, ask);
    // Both read the request as open before either writes.
    const results = await Promise.all([
      gate.approve(sessionId, approvalId, { by: "alice" }),
      gate.deny(sessionId, approvalId, { by: "bob", reason: "too risky" }),
      gate.approve(sessionId, approvalId, { by: "alice" }),
    ]);
    expect(results.filter((result) => result.decidedNow)).toHaveLength(1);
    const [first] = results;
    expect(
      results.every((result) => JSON.stringify(result.decision) === JSON.stringify(first?.decision)),
    ).toBe(true);
    expect(decisionsOf(await store.getEvents(sessionId))).toHaveLength(1);
  });

  it("treats a request past its expiry as denied, and logs the denial once", async () => {
    const store = new MemorySessionStore();
    const sessionId = await sessionIn(store);
    const clock = manualClock();
    const gate = new ApprovalGate(store, clock);
    const first = await gate.request({ sessionId }, { ...ask, ttlMs: 1_000 });
    const second = await gate.request({ sessionId }, { ...ask, toolCallId: "call-2", ttlMs: 5_000 });

    clock.set(T0 + 999);
    expect((await gate.pending(sessionId)).map((request) => request.approvalId)).toEqual([
      first.approvalId,
      second.approvalId,
    ]);
    clock.set(T0 + 1_000);
    expect((await gate.pending(sessionId)).map((request) => request.approvalId)).toEqual([second.approvalId]);
    expect((await gate.get(sessionId, first.approvalId)).state).toBe("expired");

    const late = await gate.approve(sessionId, first.approvalId, { by: "alice" });
    expect(late).toMatchObject({ decidedNow: false, decision: { status: "denied", reason: "expired" } });
    expect(late.decision).not.toHaveProperty("by");

    clock.set(T0 + 5_000);
    const expired = await gate.expire(sessionId);
    expect(expired).toMatchObject([{ approvalId: second.approvalId, status: "denied", reason: "expired" }]);
    expect(await gate.expire(sessionId)).toEqual([]);
    const denials = decisionsOf(await store.getEvents(sessionId));
    expect(denials.map((event) => [event.type, event.data.approvalId])).toEqual([
      ["tool_approval_denied", first.approvalId],
      ["tool_approval_denied", second.approvalId],
    ]);
  });

  it("denies with the decider's reason, 'denied' by default", async () => {
    const store = new MemorySessionStore();
    const sessionId = await sessionIn(store);
    const gate = new ApprovalGate(store);
    const a = await gate.request({ sessionId }, ask);
    const b = await gate.request({ sessionId }, ask);
    expect((await gate.deny(sessionId, a.approvalId)).decision.reason).toBe("denied");
    expect((await gate.deny(sessionId, b.approvalId, { reason: "not on prod" })).decision.reason).toBe(
      "not on prod",
    );
  });

  it("rejects an unknown approval with not_found", async () => {
    const store = new MemorySessionStore();
    const sessionId = await sessionIn(store);
    const error = await new ApprovalGate(store)
      .approve(sessionId, "apr_missing")
      .catch((caught: unknown) => caught);
    expect(AsmError.is(error, "not_found")).toBe(true);
  });
});

describe("approvals across a store reopen (SQLite)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "asm-approvals-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps a run's request open across a restart, consumes its decision once, and expires the rest", async () => {
    const path = join(dir, "asm.db");
    let store = await openSqliteStore({ path });
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async (_request, sink) => {
        sink.emit({
          type: "tool_call_started",
          data: { toolCallId: "c1", toolName: "bash", toolInput: { command: "make" } },
        });
        return { output: { content: "built" } };
      }),
    });
    const result = await manager.runOnce("build it", {
      policy: {
        name: "ops",
        toolRules: [{ deny: ["bash"] }],
        onViolation: "request_approval",
        approvalTtlMs: 3_600_000,
      },
    });
    const [requested] = result.policy?.approvals ?? [];
    if (!requested) throw new Error("the run asked for no approval");
    const { sessionId, approvalId } = requested;
    const other = await new ApprovalGate(store).request({ sessionId }, { ...ask, ttlMs: 1_000 });
    await store.close();

    store = await openSqliteStore({ path });
    const clock = manualClock(Date.parse(requested.requestedAt) + 60_000);
    const gate = new ApprovalGate(store, clock);
    expect((await gate.pending(sessionId)).map((request) => request.approvalId)).toEqual([approvalId]);
    expect(await gate.approve(sessionId, approvalId, { by: "alice" })).toMatchObject({
      decidedNow: true,
      decision: { status: "granted", by: "alice" },
    });
    await store.close();

    store = await openSqliteStore({ path });
    const again = new ApprovalGate(store, clock);
    expect(await again.approve(sessionId, approvalId, { by: "mallory" })).toMatchObject({
      decidedNow: false,
      decision: { status: "granted", by: "alice" },
    });
    expect(await again.expire(sessionId)).toMatchObject([
      { approvalId: other.approvalId, reason: "expired" },
    ]);
    const decisions = decisionsOf(await store.getEvents(sessionId, { limit: 1000 }));
    expect(decisions.map((event) => [event.type, event.data.approvalId])).toEqual([
      ["tool_approval_granted", approvalId],
      ["tool_approval_denied", other.approvalId],
    ]);
    await store.close();
  });

  it("stores one decision when two connections decide at once", async () => {
    const path = join(dir, "asm.db");
    const first = await openSqliteStore({ path });
    const second = await openSqliteStore({ path });
    try {
      const sessionId = await sessionIn(first);
      const { approvalId } = await new ApprovalGate(first).request({ sessionId }, ask);
      const results = await Promise.all([
        new ApprovalGate(first).approve(sessionId, approvalId, { by: "alice" }),
        new ApprovalGate(second).deny(sessionId, approvalId, { by: "bob" }),
      ]);
      expect(results.filter((result) => result.decidedNow)).toHaveLength(1);
      expect(results[0]?.decision).toEqual(results[1]?.decision);
      expect(decisionsOf(await second.getEvents(sessionId))).toHaveLength(1);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe("cancelForApproval", () => {
  it("logs the request, cancels the run with reason approval_requested, and a new run resumes after the grant", async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async (request, sink, signal) => {
        if (request.run.input.prompt === "resume") return { output: { content: "resumed" } };
        sink.emit({
          type: "tool_call_started",
          data: { toolCallId: "c9", toolName: "deploy", toolInput: { env: "prod" } },
        });
        await aborted(signal);
        throw new AsmError("cancelled", "stopped");
      }),
    });
    const session = await manager.startSession({ agentId: "deployer" });
    await manager.activateSession(session.id);
    const run = await manager.startRun(session.id, "deploy");
    let paused: ReturnType<typeof cancelForApproval> | undefined;
    const execution = manager.executeRun(run.id, {
      onEvent: (event) => {
        if (event.type === "tool_call_started") {
          const { toolName, toolCallId, toolInput } = event.data;
          paused = cancelForApproval(manager, run.id, {
            toolName,
            toolCallId,
            toolInput,
            policyName: "deploys",
          });
        }
      },
    });
    const error = await execution.catch((caught: unknown) => caught);
    expect(AsmError.is(error, "cancelled")).toBe(true);
    if (!paused) throw new Error("no tool call was seen");
    const { run: cancelled, request } = await paused;
    expect(cancelled.status).toBe("cancelled");

    const log = await store.getEvents(session.id, { runId: run.id });
    expect(log.slice(-3).map((event) => [event.type, event.data])).toEqual([
      [
        "tool_approval_requested",
        expect.objectContaining({ approvalId: request.approvalId, toolName: "deploy", toolCallId: "c9" }),
      ],
      // The manager closes the call the cancel left open.
      ["tool_call_failed", expect.objectContaining({ toolCallId: "c9", reason: "cancelled" })],
      ["run_cancelled", { reason: APPROVAL_REQUESTED_REASON }],
    ]);

    const gate = new ApprovalGate(store);
    expect(await gate.pending(session.id)).toEqual([request]);
    expect((await gate.approve(session.id, request.approvalId, { by: "alice" })).decidedNow).toBe(true);
    const resumed = await manager.executeRun((await manager.startRun(session.id, "resume")).id);
    expect(resumed.output.content).toBe("resumed");
  });
});

describe.each([
  ["memory", async () => ({ store: new MemorySessionStore() as SessionStore, cleanup: async () => {} })],
  [
    "SQLite",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "asm-cancel-approval-"));
      const store = await openSqliteStore({ path: join(dir, "asm.db") });
      return {
        store: store as SessionStore,
        cleanup: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
])("cancelForApproval on a run that has ended (%s store)", (_name, open) => {
  async function endedRun(store: SessionStore) {
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async () => ({ output: { content: "done" } })),
    });
    const session = await manager.startSession({ agentId: "deployer" });
    await manager.activateSession(session.id);
    const result = await manager.executeRun((await manager.startRun(session.id, "deploy")).id);
    return { manager, sessionId: session.id, runId: result.runId };
  }

  async function invalidStatus(promise: Promise<unknown>): Promise<AsmError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!AsmError.is(error)) throw new Error(`expected an AsmError, got ${String(error)}`);
    expect(error.code).toBe("invalid_status");
    return error;
  }

  it("rejects with invalid_status and writes nothing", async () => {
    const { store, cleanup } = await open();
    try {
      const { manager, sessionId, runId } = await endedRun(store);
      const before = await store.getEvents(sessionId, { limit: 1000 });
      const error = await invalidStatus(cancelForApproval(manager, runId, ask));
      expect(error.details).toMatchObject({ runId, status: "completed" });
      expect(await store.getEvents(sessionId, { limit: 1000 })).toEqual(before);
      expect((await store.getRun(runId)).status).toBe("completed");
      expect(await new ApprovalGate(store).pending(sessionId)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it("writes nothing when the run ends between the status read and the request", async () => {
    const { store, cleanup } = await open();
    try {
      const { manager, sessionId, runId } = await endedRun(store);
      const before = await store.getEvents(sessionId, { limit: 1000 });
      // The first read sees the run still running, as a read just before its end would.
      let staleReads = 1;
      const staleGetRun = async (id: string) => {
        const run = await store.getRun(id);
        return staleReads-- > 0 ? { ...run, status: "running" } : run;
      };
      const racing = new Proxy(store, {
        get(target, property) {
          if (property === "getRun") return staleGetRun;
          const value: unknown = Reflect.get(target, property);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      await invalidStatus(
        cancelForApproval({ store: racing, cancelRun: manager.cancelRun.bind(manager) }, runId, ask),
      );
      expect(staleReads).toBe(-1);
      expect(await store.getEvents(sessionId, { limit: 1000 })).toEqual(before);
      expect((await store.getRun(runId)).status).toBe("completed");
    } finally {
      await cleanup();
    }
  });
});
