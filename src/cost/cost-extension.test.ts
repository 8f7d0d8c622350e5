import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { type Script, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import type { ExecuteResult } from "../ports/provider-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";

function setup(script: Script) {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: new ScriptedAdapter(script) });
  return { store, manager };
}

const answer = (result: Omit<ExecuteResult, "output">): Script => {
  return async () => ({ output: { content: "ok" }, ...result });
};

const usage = { inputTokens: 1_000_000, outputTokens: 100_000 };

describe("costExtension: where a run's cost came from", () => {
  it("provider: the provider's figure, with a warning when the pricing table does not know the model", async () => {
    // Claude Code's total_cost_usd for a model the table has never heard of.
    const { store, manager } = setup(answer({ model: "claude-mystery-9", costUsd: 0.42, tokenUsage: usage }));
    const result = await manager.runOnce("x");
    const warning =
      'model "claude-mystery-9" is not in the pricing table; the cost is the provider\'s own figure';
    expect(result.costUsd).toBe(0.42);
    expect(result.cost).toEqual({ usd: 0.42, source: "provider", warning });
    const run = await store.getRun(result.runId);
    expect(run.costUsd).toBe(0.42);
    expect(run.metadata).toMatchObject({ costSource: "provider", costWarning: warning });
  });

  it("provider: no warning for a model the table knows", async () => {
    const { store, manager } = setup(answer({ model: "claude-sonnet-4-5", costUsd: 0.5, tokenUsage: usage }));
    const result = await manager.runOnce("x");
    expect(result.cost).toEqual({ usd: 0.5, source: "provider" });
    expect((await store.getRun(result.runId)).metadata).not.toHaveProperty("costWarning");
  });

  it("priced: the tokens at the table's rates", async () => {
    const { store, manager } = setup(answer({ model: "claude-sonnet-4-5-20250929", tokenUsage: usage }));
    const result = await manager.runOnce("x");
    // 1M input at $3 + 100k output at $15 per million.
    expect(result.cost?.usd).toBeCloseTo(4.5, 10);
    expect(result.cost).toMatchObject({ source: "priced" });
    expect(result.cost).not.toHaveProperty("warning");
    expect((await store.getRun(result.runId)).metadata).toMatchObject({ costSource: "priced" });
  });

  it("unknown: null with a warning when the provider names no model (Codex's default model)", async () => {
    const { store, manager } = setup(answer({ tokenUsage: usage }));
    const result = await manager.runOnce("x");
    expect(result.costUsd).toBeNull();
    expect(result.cost).toEqual({
      usd: null,
      source: "unknown",
      warning: "the provider did not name the model, so its tokens have no price",
    });
    const run = await store.getRun(result.runId);
    expect(run.costUsd).toBeNull();
    expect(run.metadata).toMatchObject({ costSource: "unknown", costWarning: result.cost?.warning });
  });

  it("a failed run records its cost's source and warning on the run too", async () => {
    const { store, manager } = setup(async (_request, sink) => {
      sink.emit({ type: "run_started", data: { model: "m-unpriced" } });
      sink.emit({ type: "token_usage_updated", data: { inputTokens: 10, outputTokens: 5 } });
      throw new AsmError("provider_error", "boom");
    });
    const error = await manager.runOnce("x").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!AsmError.is(error)) throw new Error("expected an AsmError");
    const run = await store.getRun(String(error.details.runId));
    expect(run.status).toBe("failed");
    expect(run.costUsd).toBeNull();
    expect(run.metadata).toMatchObject({
      costSource: "unknown",
      costWarning: expect.stringContaining('"m-unpriced"'),
    });
  });
});
