import { describe, expect, it } from "vitest";
import { splitWords } from "./split-words.js";

describe("splitWords", () => {
  it("splits on blanks and keeps quoted text whole, with no expansion", () => {
    expect(splitWords("  npx  @zed-industries/claude-code-acp ")).toEqual([
      "npx",
      "@zed-industries/claude-code-acp",
    ]);
    expect(splitWords(`agent --name 'two words' "say \\"hi\\"" a\\ b $HOME *`)).toEqual([
      "agent",
      "--name",
      "two words",
      'say "hi"',
      "a b",
      "$HOME",
      "*",
    ]);
    expect(splitWords(`x '' ""`)).toEqual(["x", "", ""]);
    expect(splitWords("   ")).toEqual([]);
  });

  it("refuses an unterminated quote with validation_error", () => {
    expect(() => splitWords("agent 'oops")).toThrowError(
      expect.objectContaining({ code: "validation_error" }),
    );
  });
});
