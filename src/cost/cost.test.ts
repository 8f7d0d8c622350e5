import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { costOf, priceFor, runCost } from "./cost.js";
import { DEFAULT_PRICING, definePricingTable } from "./pricing-table.js";

function validationError(run: () => unknown): AsmError {
  try {
    run();
  } catch (error) {
    if (AsmError.is(error)) return error;
    throw error;
  }
  throw new Error("expected a validation_error");
}

describe("priceFor", () => {
  it("finds the exact model, then the longest prefix at a '-' boundary", () => {
    expect(priceFor("claude-haiku-4-5")).toBe(DEFAULT_PRICING["claude-haiku-4-5"]);
    expect(priceFor("claude-haiku-4-5-20251001")).toBe(DEFAULT_PRICING["claude-haiku-4-5"]);
    expect(priceFor("claude-opus-4-1-20250805")).toBe(DEFAULT_PRICING["claude-opus-4-1"]);
    expect(priceFor("claude-opus-4-20250514")).toBe(DEFAULT_PRICING["claude-opus-4"]);
    expect(priceFor("gpt-5-2025-08-07")).toBe(DEFAULT_PRICING["gpt-5"]);
    expect(priceFor("gemini-2.5-flash-preview-09-2025")).toBe(DEFAULT_PRICING["gemini-2.5-flash"]);
    expect(priceFor("gemini-2.5-flash-lite")).toBe(DEFAULT_PRICING["gemini-2.5-flash-lite"]);
  });

  it("does not lend a price to a different model that merely shares characters", () => {
    expect(priceFor("gpt-5.6-sol")).toBeUndefined();
    expect(priceFor("claude-opus-45")).toBeUndefined();
    expect(priceFor("mystery-model")).toBeUndefined();
  });
});

describe("costOf", () => {
  it("prices all four buckets at their own rates", () => {
    const price = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      cacheReadTokens: 2_000_000,
      cacheWriteTokens: 400_000,
      reasoningTokens: 50_000,
    };
    // 3 + 1.5 + 0.6 + 1.5; reasoning tokens are already inside outputTokens.
    expect(costOf(usage, price)).toBeCloseTo(6.6, 10);
  });

  it("prices absent cache rates at the input rate and absent token counts as 0, never NaN", () => {
    // 1M cache-read and 1M cache-write tokens at the input rate 2, plus 1M output at 10.
    const usage = { outputTokens: 1_000_000, cacheReadTokens: 1_000_000, cacheWriteTokens: 1_000_000 };
    expect(costOf(usage, { input: 2, output: 10 })).toBe(14);
    expect(costOf({}, { input: 2, output: 10 })).toBe(0);
    expect(costOf({ inputTokens: Number.NaN, outputTokens: -5 }, { input: 2, output: 10 })).toBe(0);
  });
});

describe("definePricingTable", () => {
  it("fills absent cache rates with the input rate and keeps given ones", () => {
    expect(
      definePricingTable({
        partial: { input: 2, output: 10 },
        full: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
      }),
    ).toEqual({
      partial: { input: 2, output: 10, cacheRead: 2, cacheWrite: 2 },
      full: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
    });
  });

  it.each([
    ["a negative rate", { m: { input: -1, output: 1 } }, "m.input"],
    ["a rate that is not a number", { m: { input: "3", output: 1 } }, "m.input"],
    ["an infinite rate", { m: { input: 1, output: Number.POSITIVE_INFINITY } }, "m.output"],
    ["a missing output rate", { m: { input: 1 } }, "m.output"],
    ["an unknown field", { m: { input: 1, output: 1, cached: 1 } }, "cached"],
    ["a table that is not an object", [1], ""],
  ])("rejects %s with validation_error", (_what, table, where) => {
    const error = validationError(() => definePricingTable(table));
    expect(error.code).toBe("validation_error");
    expect(error.message).toContain("pricing table");
    expect(error.message).toContain(where);
  });

  it("is checked when the SessionManager is built, and a partial table prices a run", async () => {
    const bad = validationError(
      () =>
        new SessionManager({
          store: new MemorySessionStore(),
          adapter: new ScriptedAdapter(async () => ({ output: { content: "" } })),
          pricing: { m: { input: -1, output: 1 } },
        }),
    );
    expect(bad.code).toBe("validation_error");

    const adapter = new ScriptedAdapter(async () => ({
      output: { content: "ok" },
      model: "my-model",
      // No inputTokens at all, as a provider reporting only some buckets might.
      tokenUsage: { outputTokens: 1_000_000, cacheReadTokens: 1_000_000 } as never,
    }));
    const manager = new SessionManager({
      store: new MemorySessionStore(),
      adapter,
      pricing: { "my-model": { input: 2, output: 10 } },
    });
    const result = await manager.runOnce("price me");
    expect(result.costUsd).toBe(12);
  });
});

describe("runCost", () => {
  const usage = { inputTokens: 1000, outputTokens: 500 };

  it("prefers the provider's reported cost", () => {
    expect(runCost({ usage, model: "gpt-5", reportedCostUsd: 0.42 })).toEqual({ costUsd: 0.42 });
  });

  it("prices known models and gives null with a warning for unknown ones", () => {
    expect(runCost({ usage, model: "claude-sonnet-4-5-20250929" }).costUsd).toBeCloseTo(0.0105, 10);
    const unknown = runCost({ usage, model: "gpt-5.6-sol" });
    expect(unknown.costUsd).toBeNull();
    expect(unknown.warning).toContain("gpt-5.6-sol");
    expect(runCost({ usage }).costUsd).toBeNull();
  });

  it("charges nothing for no tokens, whatever the model", () => {
    expect(runCost({ usage: { inputTokens: 0, outputTokens: 0 } })).toEqual({ costUsd: 0 });
  });

  it("uses a caller's table", () => {
    const table = { "my-model": { input: 1, output: 1, cacheRead: 1, cacheWrite: 1 } };
    expect(runCost({ usage, model: "my-model", table }).costUsd).toBeCloseTo(0.0015, 10);
  });
});
