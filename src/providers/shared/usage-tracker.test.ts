import { describe, expect, it } from "vitest";
import type { AdapterEvent } from "../../core/events.js";
import { costFromCumulative, tokenUsage, UsageTracker, usageDifference } from "./usage-tracker.js";

function collect(): { events: AdapterEvent[]; sink: { emit(event: AdapterEvent): void } } {
  const events: AdapterEvent[] = [];
  return { events, sink: { emit: (event) => events.push(event) } };
}

describe("UsageTracker", () => {
  it("reports per-step usage as increments with the running cumulative; zero steps emit nothing", () => {
    const { events, sink } = collect();
    const tracker = new UsageTracker(sink);
    tracker.addStep({ inputTokens: 10, outputTokens: 2, cacheReadTokens: 5 }, { messageId: "m1" });
    tracker.addStep({ inputTokens: 0, outputTokens: 0 });
    tracker.addStep({ inputTokens: 1, outputTokens: 3 });
    expect(events.map((event) => event.data)).toEqual([
      {
        messageId: "m1",
        inputTokens: 10,
        outputTokens: 2,
        cacheReadTokens: 5,
        cumulative: { inputTokens: 10, outputTokens: 2, cacheReadTokens: 5 },
      },
      {
        inputTokens: 1,
        outputTokens: 3,
        cumulative: { inputTokens: 11, outputTokens: 5, cacheReadTokens: 5 },
      },
    ]);
    expect(tracker.total).toEqual({ inputTokens: 11, outputTokens: 5, cacheReadTokens: 5 });
  });

  it("turns provider totals into increments, from the baseline of a resumed session", () => {
    const { events, sink } = collect();
    // Codex thread-cumulative usage: the previous turn ended at 20 in / 5 out.
    const tracker = new UsageTracker(sink, { baseline: { inputTokens: 20, outputTokens: 5 } });
    expect(tracker.observeTotal({ inputTokens: 140, outputTokens: 30 })).toEqual({
      inputTokens: 120,
      outputTokens: 25,
    });
    expect(tracker.observeTotal({ inputTokens: 150, outputTokens: 31 })).toEqual({
      inputTokens: 10,
      outputTokens: 1,
    });
    expect(tracker.total).toEqual({ inputTokens: 130, outputTokens: 26 });
    expect(tracker.providerTotal).toEqual({ inputTokens: 150, outputTokens: 31 });
    expect(events).toHaveLength(2);
  });

  it("takes a total that went down as a restarted count", () => {
    const { sink } = collect();
    const tracker = new UsageTracker(sink, { baseline: { inputTokens: 500, outputTokens: 50 } });
    expect(tracker.observeTotal({ inputTokens: 40, outputTokens: 4 })).toEqual({
      inputTokens: 40,
      outputTokens: 4,
    });
  });
});

describe("usage helpers", () => {
  it("sanitizes provider counts and keeps unreported buckets absent", () => {
    expect(tokenUsage({ input: 3.9, output: -1, cacheRead: null, cacheWrite: 0 })).toEqual({
      inputTokens: 3,
      outputTokens: 0,
      cacheWriteTokens: 0,
    });
  });

  it("usageDifference is undefined when a bucket went down", () => {
    expect(
      usageDifference({ inputTokens: 5, outputTokens: 5 }, { inputTokens: 6, outputTokens: 0 }),
    ).toBeUndefined();
  });
});

describe("costFromCumulative", () => {
  it("is the cumulative minus the previous cumulative, without float noise", () => {
    expect(costFromCumulative(0.00183, 0.00132)).toEqual({ costUsd: 0.00051, reset: false });
    expect(costFromCumulative(0.002, 0)).toEqual({ costUsd: 0.002, reset: false });
  });

  it("takes a cumulative that went down as a restarted count", () => {
    expect(costFromCumulative(0.001, 0.005)).toEqual({ costUsd: 0.001, reset: true });
  });
});
