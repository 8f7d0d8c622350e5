import { describe, expect, it } from "vitest";
import { fuzzTranscript } from "./fuzz.js";

describe("fuzzTranscript", () => {
  it("is reproducible: the same seed gives the same transcript, another seed another one", () => {
    const options = { lines: 300, hugeBytes: 4096 };
    expect(fuzzTranscript("claude", { seed: 7, ...options })).toEqual(
      fuzzTranscript("claude", { seed: 7, ...options }),
    );
    expect(fuzzTranscript("claude", { seed: 8, ...options }).lines).not.toEqual(
      fuzzTranscript("claude", { seed: 7, ...options }).lines,
    );
  });

  it.each(["claude", "codex", "amp"] as const)(
    "%s: counts add up, and every kind of line is there",
    (provider) => {
      const fuzz = fuzzTranscript(provider, { seed: 3, lines: 2000, hugeLines: 4, hugeBytes: 4096 });
      const total = Object.values(fuzz.kinds).reduce((sum, count) => sum + count, 0);
      expect(total).toBe(2000);
      expect(fuzz.markers).toHaveLength(fuzz.kinds.marker);
      expect(new Set(fuzz.markers).size).toBe(fuzz.markers.length);
      expect(fuzz.badLines).toBe(2000 - fuzz.kinds.marker - fuzz.kinds.blank);
      for (const [kind, count] of Object.entries(fuzz.kinds)) expect(count, kind).toBeGreaterThan(0);
      expect(fuzz.kinds.huge).toBe(4);
    },
  );

  it("onlyMarkers: a clean transcript of as many plain markers", () => {
    const fuzz = fuzzTranscript("codex", { seed: 3, lines: 100, onlyMarkers: true });
    expect(fuzz.markers).toHaveLength(100);
    expect(fuzz.badLines).toBe(0);
    expect(fuzz.kinds.huge).toBe(0);
  });
});
