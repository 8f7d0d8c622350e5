import { describe, expect, it } from "vitest";
import { Redactor } from "../core/redaction.js";
import { checkStorable, EVENT_LIMITS } from "../core/storable.js";
import { buildEventDraft, type EventContext } from "./event-builder.js";

const context: EventContext = { sessionId: "ses_1", runId: "run_1", provider: "scripted" };
const build = (raw: unknown, redactor?: Redactor) => buildEventDraft(raw, context, "adapter", redactor);

/** `{ a: { a: … } }`, `levels` deep, built without recursion. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

/** Every draft must pass the check every store makes before it writes. */
function expectStorableDraft(draft: { data: unknown; metadata: unknown }) {
  const data = checkStorable(draft.data, EVENT_LIMITS.maxEventLength);
  expect(data).toMatchObject({ ok: true });
  const used = data.ok ? data.length : 0;
  expect(checkStorable(draft.metadata, EVENT_LIMITS.maxEventLength - used, "metadata")).toMatchObject({
    ok: true,
  });
}

describe("buildEventDraft makes every event storable", () => {
  it("keeps data that is not an object as data.value and flags it", () => {
    for (const value of ["not an object", 42, null, [1, 2], true]) {
      const draft = build({ type: "message_received", data: value });
      expect(draft.type).toBe("message_received");
      expect(draft.data).toEqual({ value });
      expect(draft.metadata.validationIssues?.[0]).toEqual({
        path: "",
        message: expect.stringMatching(/^expected an object, received .*: kept as data\.value$/),
      });
      // The schema's own complaints about the wrapped value follow.
      expect(draft.metadata.validationIssues?.map((issue) => issue.path)).toContain("role");
      expectStorableDraft(draft);
    }
  });

  it("keeps metadata that is not an object as metadata.value", () => {
    const draft = build({ type: "message_streamed", data: { delta: "x" }, metadata: "note" });
    expect(draft.metadata).toEqual({ value: "note" });
  });

  it("cuts a tool input nested 6,000 levels at the depth cap, with a marker and a report", () => {
    const draft = build({
      type: "tool_call_started",
      data: { toolCallId: "call-1", toolName: "Bash", toolInput: nested(6000) },
    });
    expectStorableDraft(draft);
    expect(draft.type).toBe("tool_call_started");
    expect(draft.metadata.validationIssues).toBeUndefined();
    expect(draft.metadata.truncated).toMatchObject({ depth: 1 });
    expect(JSON.stringify(draft.data)).toContain(`"[truncated: depth > ${EVENT_LIMITS.maxDepth}]"`);
  });

  it("cuts a 10 MB line to the string cap and keeps the event's other fields", () => {
    const draft = build({
      type: "message_streamed",
      data: { delta: "x".repeat(10_000_000), stream: "stdout" },
    });
    expectStorableDraft(draft);
    const { delta, stream } = draft.data as { delta: string; stream: string };
    expect(stream).toBe("stdout");
    expect(delta.length).toBeLessThanOrEqual(EVENT_LIMITS.maxStringLength);
    expect(delta.endsWith("…[truncated: 10000000 chars]")).toBe(true);
    expect(draft.metadata.truncated).toEqual({ strings: 1, paths: ["data.delta"] });
  });

  it("replaces NUL characters and lone surrogates, which PostgreSQL refuses", () => {
    const draft = build({ type: "message_streamed", data: { delta: "a\u0000b\ud800c" } });
    expect(draft.data).toEqual({ delta: "a\ufffdb\ufffdc" });
    expect(draft.metadata.truncated).toEqual({ unrepresentable: 1, paths: ["data.delta"] });
  });

  it("validates the data as stored: a NaN token count is null and flagged", () => {
    const draft = build({ type: "token_usage_updated", data: { inputTokens: Number.NaN, outputTokens: 1 } });
    expect(draft.data).toEqual({ inputTokens: null, outputTokens: 1 });
    expect(draft.metadata.validationIssues?.map((issue) => issue.path)).toEqual(["inputTokens"]);
  });

  it("never throws on hostile input: throwing getters, bad timestamps and ids", () => {
    const hostile = {
      get type(): string {
        throw new Error("no type for you");
      },
    };
    const draft = build(hostile);
    expect(draft.type).toBe("error_occurred");
    expect(JSON.stringify(draft.data)).toContain("no type for you");

    const weird = build({
      type: "message_streamed",
      data: { delta: "x" },
      timestamp: Object.create(null) as object,
      id: "bad\u0000id",
    });
    expect(weird.metadata.invalidTimestamp).toBe("[object]");
    expect(weird.metadata.invalidId).toBe("bad\ufffdid");
    expect(weird.id).toMatch(/^evt_/);
    expectStorableDraft(weird);
  });

  it("redacts before the final cut, so a replacement longer than its secret cannot overflow", () => {
    const redactor = new Redactor({
      extraPatterns: [{ category: "digit", regex: /\d/g }],
      replacement: "[REDACTED-A-LONG-REPLACEMENT]",
    });
    const draft = build(
      { type: "message_streamed", data: { delta: "1".repeat(EVENT_LIMITS.maxStringLength) } },
      redactor,
    );
    expectStorableDraft(draft);
    const { delta } = draft.data as { delta: string };
    expect(delta.startsWith("[REDACTED-A-LONG-REPLACEMENT]")).toBe(true);
    expect(delta.replace(/…\[truncated: \d+ chars\]$/, "")).not.toMatch(/1/);
    expect(draft.metadata.truncated).toMatchObject({ strings: 1 });
  });
});
