import { describe, expect, it } from "vitest";
import { fitWidth, neutralise, stripAnsi } from "./terminal.js";

describe("neutralise", () => {
  it("writes ESC, CSI, OSC, BEL, CR, DEL and C1 controls as visible escapes; keeps tab and newline", () => {
    expect(neutralise("\u001b[31mred\u001b[0m")).toBe("\\x1b[31mred\\x1b[0m");
    expect(neutralise("\u001b]0;owned\u0007")).toBe("\\x1b]0;owned\\x07");
    expect(neutralise("\u009b2J\u007f")).toBe("\\x9b2J\\x7f");
    expect(neutralise("over\rwrite")).toBe("over\\x0dwrite");
    expect(neutralise("a\tb\r\nc\n")).toBe("a\tb\nc\n");
    expect(neutralise("ünïcode → ✓")).toBe("ünïcode → ✓");
  });
});

describe("stripAnsi", () => {
  it("removes colours, cursor moves and erasures, and nothing else", () => {
    expect(stripAnsi("\u001b[0;31mred\u001b[0m \u001b[2K\u001b[1A[x] ✓")).toBe("red [x] ✓");
  });
});

describe("fitWidth", () => {
  it("cuts by code points with an ellipsis, and leaves what fits", () => {
    expect(fitWidth("✓ Read a.ts", 6)).toBe("✓ Rea…");
    expect(fitWidth("short", 5)).toBe("short");
    expect(fitWidth("anything", undefined)).toBe("anything");
  });
});
