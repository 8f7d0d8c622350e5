import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { type AsmEvent, isTerminalRunEventType } from "../core/events.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { ProviderRouter } from "./provider-router.js";
import { fail, held, ManualClock, ScriptedProvider, succeed } from "./test-support/scripted-provider.js";

function setup(claude: ScriptedProvider, codex: ScriptedProvider) {
  const router = new ProviderRouter({ clock: new ManualClock().now });
  router.register("claude", claude);
  router.register("codex", codex);
  const store = new MemorySessionStore();
  return { store, router, manager: new SessionManager({ store, adapter: router }) };
}

function runEvents(log: readonly AsmEvent[], runId: string) {
  return log.filter((event) => event.runId === runId);
}

const summary = (events: readonly AsmEvent[]) =>
  events.map((event) => [event.type, event.provider, event.metadata.routing]);

describe("ProviderRouter under the SessionManager", () => {
  it("stores every provider event with its routing, and one terminal event after a failover", async () => {
    const claude = new ScriptedProvider("claude", fail("provider_unavailable"));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { store, manager } = setup(claude, codex);

    const result = await manager.runOnce("hello");
    expect(result.output.content).toBe("from codex");
    const events = runEvents(await store.getEvents(result.sessionId), result.runId);
    expect(summary(events)).toEqual([
      ["message_sent", "router", undefined],
      ["run_started", "router", { provider: "claude", attempt: 1 }],
      ["error_occurred", "router", { provider: "claude", attempt: 1 }],
      ["run_started", "router", { provider: "codex", attempt: 2 }],
      ["message_streamed", "router", { provider: "codex", attempt: 2 }],
      ["message_received", "router", { provider: "codex", attempt: 2 }],
      ["run_completed", "router", undefined],
    ]);
    expect(events.filter((event) => isTerminalRunEventType(event.type))).toHaveLength(1);
    expect(events.every((event) => event.metadata.validationIssues === undefined)).toBe(true);

    const run = await store.getRun(result.runId);
    expect(run.status).toBe("completed");
    // The run names the provider that did the work, not the router in front of it.
    expect(run.provider).toBe("codex");
    expect(run.metadata.routing).toEqual({
      routedProvider: "codex",
      attempt: 2,
      candidates: ["claude", "codex"],
      failoverFrom: "claude",
      failoverReason: "provider_unavailable",
    });
  });

  it("fails the run once, keeping the partial output, when a provider dies mid-stream", async () => {
    const claude = new ScriptedProvider(
      "claude",
      fail("provider_timeout", { afterStreaming: "Half an ans" }),
    );
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { store, manager } = setup(claude, codex);

    const error = await manager.runOnce("hello").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(AsmError.is(error, "provider_timeout")).toBe(true);
    const runId = String((error as AsmError).details.runId);
    const events = runEvents(await store.getEvents(String((error as AsmError).details.sessionId)), runId);
    expect(events.map((event) => event.type)).toEqual([
      "message_sent",
      "run_started",
      "message_streamed",
      "run_failed",
    ]);
    expect(events[2]?.data).toEqual({ delta: "Half an ans" });
    expect(events[3]?.data).toMatchObject({
      errorCode: "provider_timeout",
      details: { routing: { routedProvider: "claude", failoverSkipped: "mid_stream" } },
    });
    expect(codex.calls).toHaveLength(0);
  });

  it("cancelRun stops the routed provider and ends the run cancelled, without failover", async () => {
    const step = held();
    const claude = new ScriptedProvider("claude", step.step);
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { store, manager } = setup(claude, codex);
    const session = await manager.startSession({ agentId: "agent" });
    await manager.activateSession(session.id);
    const run = await manager.startRun(session.id, "hello");

    const executing = manager.executeRun(run.id).catch((caught: unknown) => caught);
    await step.started;
    expect((await manager.cancelRun(run.id)).status).toBe("cancelled");
    expect(AsmError.is(await executing, "cancelled")).toBe(true);
    expect(step.signal()?.aborted).toBe(true);
    expect(codex.calls).toHaveLength(0);
    const events = runEvents(await store.getEvents(session.id), run.id);
    expect(events.filter((event) => isTerminalRunEventType(event.type)).map((event) => event.type)).toEqual([
      "run_cancelled",
    ]);
  });
});
