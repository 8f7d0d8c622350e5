import { describe, expect, it } from "vitest";
import { costOf, priceFor, runCost } from "./cost.js";
import { DEFAULT_PRICING } from "./pricing-table.js";

describe("priceFor", () => {
  it("finds the exact model, then the longest prefix at a '-' boundary", () => {
    expect(priceFor("claude-haiku-4-5")).toBe(DEFAULT_PRICING["claude-haiku-4-5"]);
    expect(priceFor("claude-haiku-4-5-20251001")).toBe(DEFAULT_PRICING["claude-haiku-4-5"]);
    expect(priceFor("claude-opus-4-1-20250805")).toBe(DEFAULT_PRICING["claude-opus-4-1"]);
    expect(priceFor("claude-opus-4-20250514")).toBe(DEFAULT_PRICING["claude-opus-4"]);
    expect(priceFor("gpt-5-2025-08-07")).toBe(DEFAULT_PRICING["gpt-5"]);
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
