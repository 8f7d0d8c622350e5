import { describe, expect, it } from "vitest";
import { newId } from "./ids.js";

describe("newId", () => {
  it("is a prefix and 32 hex characters, unique", () => {
    const ids = Array.from({ length: 1000 }, () => newId("evt"));
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("sorts by creation time", () => {
    const earlier = newId("run", Date.UTC(2026, 0, 1));
    const later = newId("run", Date.UTC(2026, 0, 1) + 1);
    expect(earlier < later).toBe(true);
    expect(earlier.slice(4, 16)).toBe(Date.UTC(2026, 0, 1).toString(16).padStart(12, "0"));
  });
});
