import { describe, expect, it } from "vitest";
import { StickyBindings } from "./sticky-bindings.js";
import { ManualClock } from "./test-support/scripted-provider.js";

describe("StickyBindings", () => {
  it("keeps a binding for the TTL, and every rebind refreshes it with the same TTL", () => {
    const clock = new ManualClock();
    const sticky = new StickyBindings(1_000, clock.now);
    sticky.bind("ses_1", "claude");
    clock.advance(999);
    expect(sticky.get("ses_1")).toBe("claude");
    sticky.bind("ses_1", "claude");
    clock.advance(999);
    expect(sticky.get("ses_1")).toBe("claude");
    clock.advance(1);
    expect(sticky.get("ses_1")).toBeUndefined();
    expect(sticky.list()).toEqual([]);
  });

  it("rebinding to another provider moves the key", () => {
    const clock = new ManualClock();
    const sticky = new StickyBindings(1_000, clock.now);
    sticky.bind("ses_1", "claude");
    sticky.bind("ses_1", "codex");
    expect(sticky.list()).toEqual([{ key: "ses_1", provider: "codex", expiresAt: clock.now() + 1_000 }]);
  });

  it("a clock stepping back cannot keep a lapsed binding alive behind a live one", () => {
    const clock = new ManualClock();
    const sticky = new StickyBindings(1_000, clock.now);
    sticky.bind("a", "claude");
    clock.advance(-5_000);
    sticky.bind("b", "codex"); // inserted after "a" but lapses 5 s before it
    clock.advance(2_000);
    expect(sticky.get("a")).toBe("claude");
    expect(sticky.get("b")).toBeUndefined();
    expect(sticky.list().map((binding) => binding.key)).toEqual(["a"]);
  });

  it("drops the bindings of an unregistered provider", () => {
    const clock = new ManualClock();
    const sticky = new StickyBindings(1_000, clock.now);
    sticky.bind("a", "claude");
    sticky.bind("b", "codex");
    sticky.unbindProvider("claude");
    expect(sticky.list().map((binding) => binding.key)).toEqual(["b"]);
  });

  it("binds nothing with a TTL of 0", () => {
    const sticky = new StickyBindings(0, new ManualClock().now);
    sticky.bind("a", "claude");
    expect(sticky.get("a")).toBeUndefined();
  });
});
