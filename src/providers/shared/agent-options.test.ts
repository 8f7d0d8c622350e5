import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkPermissionMode, isPermissionMode, PERMISSION_MODES } from "../../core/permission-mode.js";
import { promptFromInput, resolveAgentOptions } from "./agent-options.js";

describe("permission modes", () => {
  it("lists the five modes and checks values", () => {
    expect(PERMISSION_MODES).toEqual([
      "default",
      "accept_edits",
      "plan",
      "full_auto",
      "dangerously_skip_permissions",
    ]);
    expect(isPermissionMode("plan")).toBe(true);
    expect(isPermissionMode("bypassPermissions")).toBe(false);
    const bad = checkPermissionMode("yolo");
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toContain("full_auto");
  });
});

describe("resolveAgentOptions", () => {
  it("applies defaults and resolves cwd", () => {
    const resolved = resolveAgentOptions({ cwd: "sub" });
    expect(resolved).toMatchObject({
      cwd: path.resolve("sub"),
      permissionMode: "default",
      allowedTools: [],
      deniedTools: [],
      env: {},
      providerOptions: {},
    });
  });

  it.each([
    [{ permissionMode: "yolo" }, "permissionMode"],
    [{ maxTurns: 0 }, "maxTurns"],
    [{ env: { "A=B": "x" } }, "env"],
    [{ executablePath: "" }, "executablePath"],
    [{ typo: true }, "typo"],
  ])("rejects %j as validation_error naming %s", (options, field) => {
    expect(() => resolveAgentOptions(options as never)).toThrowError(
      expect.objectContaining({ code: "validation_error", message: expect.stringContaining(field) }),
    );
  });
});

describe("promptFromInput", () => {
  it("takes the prompt, a lone user message, or a labelled conversation", () => {
    expect(promptFromInput({ prompt: "hi" }, "x")).toBe("hi");
    expect(promptFromInput({ messages: [{ role: "user", content: "one" }] }, "x")).toBe("one");
    expect(
      promptFromInput(
        {
          messages: [
            { role: "user", content: "q" },
            { role: "assistant", content: "a" },
            { role: "user", content: "q2" },
          ],
        },
        "x",
      ),
    ).toBe("user: q\n\nassistant: a\n\nuser: q2");
  });

  it("rejects commands and empty input", () => {
    expect(() => promptFromInput({ command: ["ls"] }, "claude")).toThrowError(
      expect.objectContaining({ code: "validation_error" }),
    );
    expect(() => promptFromInput({}, "claude")).toThrowError(
      expect.objectContaining({ code: "validation_error" }),
    );
    expect(() => promptFromInput({ prompt: "  " }, "claude")).toThrowError(
      expect.objectContaining({ code: "validation_error" }),
    );
  });
});
