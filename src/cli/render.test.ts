import { describe, expect, it } from "vitest";
import { makeRun } from "../testing/fixtures.js";
import { costLine } from "./render.js";

describe("costLine", () => {
  const usage = { inputTokens: 10, outputTokens: 5 };
  const line = (costUsd: number | null, metadata: Record<string, unknown>, tokenUsage = usage) =>
    costLine(makeRun("ses_1", { status: "failed", costUsd, metadata, tokenUsage }), { color: false });

  it("says the figure, its source and any warning", () => {
    expect(line(0.0123, { costSource: "provider" })).toBe("cost $0.0123 · reported by the provider");
    expect(line(0.5, { costSource: "priced" })).toBe("cost $0.5000 · priced from token usage");
    expect(line(0.01, { costSource: "provider", costWarning: 'model "x" is not in the pricing table' })).toBe(
      'cost $0.0100 · reported by the provider · warning: model "x" is not in the pricing table',
    );
    expect(line(null, { costSource: "unknown", costWarning: "no price" })).toBe(
      "cost unknown · warning: no price",
    );
  });

  it("has nothing to say for a run nobody priced, or one that spent nothing", () => {
    expect(line(null, {})).toBeUndefined();
    expect(line(0, { costSource: "priced" }, { inputTokens: 0, outputTokens: 0 })).toBeUndefined();
  });
});
