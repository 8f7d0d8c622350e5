import { describe, expect, it } from "vitest";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { expectCode } from "../stores/test-support/fixtures.js";
import { until } from "../testing/wait.js";
import { RunControl } from "./run-control.js";
import { SessionServer } from "./session-server.js";
import { GatedAdapter } from "./test-support/gated-adapter.js";

async function setup(maxConcurrentRuns = 1) {
  const store = new MemorySessionStore();
  const adapter = new GatedAdapter();
  const manager = new SessionManager({ store, adapter });
  const server = await SessionServer.start({ manager, session: { agentId: "agent" }, maxConcurrentRuns });
  return { store, adapter, manager, server, control: new RunControl(server) };
}

describe("RunControl", () => {
  it("interrupts a running run once; asking again is a no-op; other operations on it are invalid_operation", async () => {
    const { adapter, server, control } = await setup();
    const runId = await server.submitRun("a");
    await until(() => adapter.started.length === 1, "the run");

    const status = await control.interrupt(runId);
    expect(status).toMatchObject({ runId, state: "interrupted", lastOperation: "interrupt" });
    const again = await control.interrupt(runId);
    expect(again.history.map((record) => [record.operation, record.outcome, record.state])).toEqual([
      ["interrupt", "applied", "interrupted"],
      ["interrupt", "no_op", "interrupted"],
    ]);
    const refused = await expectCode(control.cancel(runId), "invalid_operation");
    expect(refused.details).toMatchObject({ runId, operation: "cancel", state: "interrupted" });
    await expectCode(control.resume(runId), "invalid_operation");
    expect((await control.status(runId)).history.map((record) => record.outcome)).toEqual([
      "applied",
      "no_op",
      "refused",
      "refused",
    ]);
    await expectCode(server.awaitRun(runId), "cancelled");
    await server.close();
  });

  it("cancels through the server: a queued run leaves its queue; pause and resume are not supported", async () => {
    const { adapter, server, control } = await setup();
    const running = await server.submitRun("a");
    const queued = await server.submitRun("b");
    await until(() => adapter.started.length === 1, "the first run");

    await expectCode(control.pause(running), "capability_not_supported");
    await expectCode(control.resume(queued), "capability_not_supported");
    expect((await control.cancel(queued)).state).toBe("cancelled");
    expect(server.status().queuedRuns).toEqual([]);
    expect((await control.cancel(queued)).history.map((record) => record.outcome)).toEqual([
      "refused",
      "applied",
      "no_op",
    ]);
    adapter.release("a");
    await server.awaitRun(running);
    expect((await control.status(running)).state).toBe("completed");
    await expectCode(control.cancel(running), "invalid_operation");
    await expectCode(control.interrupt(running), "invalid_operation");
    await expectCode(control.cancel("run_missing"), "run_not_found");
    await expectCode(control.status("run_missing"), "run_not_found");
    await server.close();
  });

  it("cancelAll cancels every unended run of the session; interruptSession only the running ones", async () => {
    const { adapter, server, control } = await setup(2);
    const [a, b, c] = [await server.submitRun("a"), await server.submitRun("b"), await server.submitRun("c")];
    await until(() => adapter.started.length === 2, "two runs");

    const interrupted = await control.interruptSession(server.sessionId);
    expect(Object.keys(interrupted).sort()).toEqual([a, b].sort());
    expect(Object.values(interrupted).map((result) => result.ok && result.status.state)).toEqual([
      "interrupted",
      "interrupted",
    ]);
    // c took a freed slot; cancelAll stops it and leaves the ended runs out.
    await until(() => adapter.started.length === 3, "c started");
    const cancelled = await control.cancelAll(server.sessionId);
    expect(Object.keys(cancelled)).toEqual([c]);
    expect(cancelled[c]).toMatchObject({ ok: true, status: { state: "cancelled" } });
    expect(await control.cancelAll(server.sessionId)).toEqual({});
    await server.close();
  });

  it("drives a SessionManager directly too", async () => {
    const store = new MemorySessionStore();
    const adapter = new GatedAdapter();
    const manager = new SessionManager({ store, adapter });
    const session = await manager.startSession({ agentId: "agent" });
    await manager.activateSession(session.id);
    const run = await manager.startRun(session.id, "x");
    const control = new RunControl(manager);
    expect(await control.status(run.id)).toEqual({ runId: run.id, state: "pending", history: [] });
    expect((await control.cancel(run.id)).state).toBe("cancelled");
  });
});
