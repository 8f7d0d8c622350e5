import { describe, expect, it } from "vitest";
import { contentText, toolInputObject } from "./content.js";

describe("contentText", () => {
  it("keeps strings and joins the text of blocks, skipping the others", () => {
    expect(contentText("plain")).toBe("plain");
    expect(
      contentText([
        { type: "text", text: "a" },
        { type: "image", source: {} },
        { type: "text", text: "b" },
      ]),
    ).toBe("a\nb");
    expect(contentText(undefined)).toBe("");
    expect(contentText({ text: "not a list" })).toBe("");
  });
});

describe("toolInputObject", () => {
  it("copies objects, maps nothing to {} and wraps anything else", () => {
    const input = { cmd: "ls" };
    const copy = toolInputObject(input);
    expect(copy).toEqual(input);
    expect(copy).not.toBe(input);
    expect(toolInputObject(undefined)).toEqual({});
    expect(toolInputObject("ls -la")).toEqual({ value: "ls -la" });
    expect(toolInputObject([1, 2])).toEqual({ value: [1, 2] });
    expect(toolInputObject(null)).toEqual({ value: null });
  });
});
