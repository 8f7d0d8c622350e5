import { describe, expect, it } from "vitest";
import { z } from "zod";
import { frameCheck, openUnion } from "./frame-check.js";

const BLOCKS = openUnion("type", {
  text: z.looseObject({ text: z.string() }),
  tool_use: z.looseObject({ id: z.string().min(1) }),
});

const RESULTS = openUnion(
  "subtype",
  { success: z.looseObject({ result: z.string() }) },
  {
    shape: { type: z.literal("result"), is_error: z.boolean() },
    other: z.looseObject({ errors: z.array(z.string()) }),
  },
);

const check = frameCheck({
  message: z.looseObject({
    type: z.literal("message"),
    content: z.union([z.string(), z.array(BLOCKS.schema)]),
  }),
  result: RESULTS.schema,
});

describe("frameCheck", () => {
  it("returns a listed frame as checked, unknown fields kept", () => {
    const frame = { type: "message", content: [{ type: "text", text: "hi", extra: 1 }], future: true };
    expect(check(frame)).toEqual({ ok: true, frame });
  });

  it("refuses a listed type of the wrong shape with the paths of the issues", () => {
    expect(
      check({
        type: "message",
        content: [
          { type: "text", text: "ok" },
          { type: "tool_use", id: "" },
        ],
      }),
    ).toEqual({
      ok: false,
      problem: {
        reason: "invalid_frame",
        message: expect.stringContaining("content.1.id: "),
        frameType: "message",
        issues: [{ path: "content.1.id", message: expect.any(String) }],
      },
    });
  });

  it("names the field a union's closest branch misses, not just 'invalid input'", () => {
    const checked = check({ type: "message", content: [{ type: "text", text: 5 }] });
    expect(checked.ok ? [] : checked.problem.issues?.map((issue) => issue.path)).toEqual(["content.0.text"]);
  });

  it("an unlisted type, no type, or a type that names an Object.prototype member is unknown", () => {
    for (const value of [
      { type: "other" },
      {},
      { type: 7 },
      { type: "constructor" },
      { type: "__proto__" },
    ]) {
      const checked = check(value);
      expect(checked.ok ? undefined : checked.problem.reason, JSON.stringify(value)).toBe("unknown_frame");
    }
  });

  it("cuts a long type in the report", () => {
    const checked = check({ type: "x".repeat(10_000) });
    expect(checked.ok ? undefined : checked.problem.frameType?.length).toBeLessThanOrEqual(101);
  });

  it("keeps at most five issues", () => {
    const checked = check({ type: "message", content: Array.from({ length: 20 }, () => ({ type: "text" })) });
    expect(checked.ok ? undefined : checked.problem.issues).toHaveLength(5);
  });
});

describe("openUnion", () => {
  it("checks listed variants, lets other values of the key through, requires the key to be a string", () => {
    expect(BLOCKS.schema.safeParse({ type: "image", anything: [1] }).success).toBe(true);
    expect(BLOCKS.schema.safeParse({ type: "text" }).success).toBe(false);
    expect(BLOCKS.schema.safeParse({ text: "no type" }).success).toBe(false);
    expect(BLOCKS.schema.safeParse(null).success).toBe(false);
  });

  it("checks the common shape on every member and `other` on the unlisted ones", () => {
    expect(
      RESULTS.schema.safeParse({ type: "result", subtype: "success", is_error: false, result: "x" }).success,
    ).toBe(true);
    expect(
      RESULTS.schema.safeParse({ type: "result", subtype: "error_max_turns", is_error: true, errors: ["e"] })
        .success,
    ).toBe(true);
    expect(
      RESULTS.schema.safeParse({ type: "result", subtype: "error_max_turns", is_error: true }).success,
    ).toBe(false);
    expect(RESULTS.schema.safeParse({ type: "result", subtype: "success", result: "x" }).success).toBe(false);
  });

  it("narrows a checked member with is / isOther", () => {
    const parsed = RESULTS.schema.parse({
      type: "result",
      subtype: "error_during_execution",
      is_error: true,
      errors: ["boom"],
    });
    expect(RESULTS.is(parsed, "success")).toBe(false);
    expect(RESULTS.isOther(parsed) ? parsed.errors : undefined).toEqual(["boom"]);
    const block = BLOCKS.schema.parse({ type: "text", text: "hi" });
    expect(BLOCKS.is(block, "text") ? block.text : undefined).toBe("hi");
    expect(BLOCKS.isOther(block)).toBe(false);
  });
});
