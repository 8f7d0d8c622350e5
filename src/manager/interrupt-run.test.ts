import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import type { ProviderAdapter } from "../ports/provider-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { expectCode } from "../stores/test-support/fixtures.js";
import { aborted, type Script, ScriptedAdapter } from "./test-support/scripted-adapter.js";

/** A turn that streams once, then waits until something stops it. */
function endlessTurn(started: () => void): Script {
  return async (_request, sink, signal) => {
    sink.emit({ type: "run_started", data: { providerSessionId: "native-7" } });
    sink.emit({ type: "message_streamed", data: { delta: "thinking" } });
    started();
    await aborted(signal);
    throw new AsmError("cancelled", "aborted");
  };
}

/** An adapter with a native interrupt: the turn stops without its signal aborting. */
class InterruptibleAdapter extends ScriptedAdapter implements ProviderAdapter {
  readonly interrupted: string[] = [];
  readonly signals: AbortSignal[] = [];
  private stopTurn: (() => void) | undefined;

  constructor(started: () => void) {
    super(async (_request, sink, signal) => {
      this.signals.push(signal);
      sink.emit({ type: "run_started", data: { providerSessionId: "native-9" } });
      await new Promise<void>((resolve) => {
        this.stopTurn = resolve;
        started();
      });
      throw new AsmError("cancelled", "turn interrupted", {
        details: { interrupted: true, providerSessionId: "native-9" },
      });
    });
  }

  async interrupt(runId: string): Promise<boolean> {
    this.interrupted.push(runId);
    this.stopTurn?.();
    return this.stopTurn !== undefined;
  }
}

async function runningRun(adapter: ProviderAdapter, started: Promise<void>) {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter });
  const session = await manager.startSession({ agentId: "agent" });
  await manager.activateSession(session.id);
  const run = await manager.startRun(session.id, "go");
  const result = manager.executeRun(run.id);
  result.catch(() => undefined);
  await started;
  return { store, manager, run, result };
}

describe("SessionManager.interruptRun", () => {
  it("cancels the run when the adapter has no native interrupt, marking it interrupted", async () => {
    let started!: () => void;
    const ready = new Promise<void>((resolve) => {
      started = resolve;
    });
    const { store, manager, run, result } = await runningRun(
      new ScriptedAdapter(endlessTurn(started)),
      ready,
    );

    const stored = await manager.interruptRun(run.id);

    expect(stored.status).toBe("cancelled");
    const error = await expectCode(result, "cancelled");
    expect(error.details).toMatchObject({ interrupted: true, runId: run.id });
    const events = await store.getEvents(run.sessionId, { runId: run.id });
    expect(events.at(-1)).toMatchObject({
      type: "run_cancelled",
      data: { reason: "interrupted by caller", interrupted: true },
    });
    // The native session stays known, to be resumed by the next run.
    expect((await store.getRun(run.id)).providerMetadata.providerSessionId).toBe("native-7");
  });

  it("uses the adapter's native interrupt: the turn stops without an abort and the run ends cancelled", async () => {
    let started!: () => void;
    const ready = new Promise<void>((resolve) => {
      started = resolve;
    });
    const adapter = new InterruptibleAdapter(started);
    const { store, manager, run, result } = await runningRun(adapter, ready);

    const stored = await manager.interruptRun(run.id);

    expect(adapter.interrupted).toEqual([run.id]);
    expect(stored.status).toBe("cancelled");
    const error = await expectCode(result, "cancelled");
    expect(error.details.interrupted).toBe(true);
    // The outcome is the provider's own report of its interrupt, not the manager's fallback cancel.
    expect(adapter.signals[0]?.reason).toEqual({
      status: "cancelled",
      reason: "turn interrupted",
      interrupted: true,
    });
    const events = await store.getEvents(run.sessionId, { runId: run.id });
    expect(events.map((event) => event.type)).toEqual(["message_sent", "run_started", "run_cancelled"]);
    expect(events.at(-1)?.data).toEqual({ reason: "turn interrupted", interrupted: true });
    expect(stored.providerMetadata.providerSessionId).toBe("native-9");
  });

  it("cancels a pending run as interrupted, and leaves an ended run as it is", async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async () => ({ output: { content: "done" } })),
    });
    const session = await manager.startSession({ agentId: "agent" });
    await manager.activateSession(session.id);
    const pending = await manager.startRun(session.id, "later");

    expect((await manager.interruptRun(pending.id, "stop")).status).toBe("cancelled");
    const [cancelEvent] = await store.getEvents(session.id, { runId: pending.id });
    expect(cancelEvent).toMatchObject({ type: "run_cancelled", data: { reason: "stop", interrupted: true } });

    const done = await manager.startRun(session.id, "now");
    await manager.executeRun(done.id);
    const again = await manager.interruptRun(done.id);
    expect(again.status).toBe("completed");
    expect((await store.getEvents(session.id, { runId: done.id })).at(-1)?.type).toBe("run_completed");
  });
});
