import { describe, expect, it } from "vitest";
import {
  checkStorable,
  EVENT_LIMITS,
  isStorableText,
  makeEventStorable,
  mergeStorableReports,
  STORABLE_REPORT_RESERVE,
  type StorableLimits,
} from "./storable.js";

/** `{ a: { a: … { leaf } } }`, `levels` objects deep, built without recursion. */
function nested(levels: number, leaf: unknown = "leaf"): Record<string, unknown> {
  let value: unknown = leaf;
  for (let level = 0; level < levels; level++) value = { a: value };
  return value as Record<string, unknown>;
}

/** Levels of nested objects and the leaf, walked without recursion. */
function depthOf(value: unknown): { levels: number; leaf: unknown } {
  let levels = 0;
  let current = value;
  while (typeof current === "object" && current !== null && "a" in current) {
    levels += 1;
    current = (current as { a: unknown }).a;
  }
  return { levels, leaf: current };
}

/** The exact JSON length of what makeEventStorable returned (it must serialize without throwing). */
function eventLength(data: unknown, metadata: unknown): number {
  return JSON.stringify(data).length + JSON.stringify(metadata).length;
}

/** Whatever makeEventStorable returns must pass the stores' check and keep the reserve free. */
function expectStorable(data: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  const result = makeEventStorable(data, metadata);
  const metadataCheck = checkStorable(result.metadata, EVENT_LIMITS.maxEventLength, "metadata");
  expect(metadataCheck).toMatchObject({ ok: true });
  const budget =
    EVENT_LIMITS.maxEventLength - STORABLE_REPORT_RESERVE - (metadataCheck.ok ? metadataCheck.length : 0);
  expect(checkStorable(result.data, budget)).toMatchObject({ ok: true });
  expect(JSON.stringify(result.report ?? {}).length).toBeLessThan(STORABLE_REPORT_RESERVE);
  return result;
}

describe("checkStorable", () => {
  it("answers the JSON length of a storable value", () => {
    const value = { a: "xyz", b: [1, 22, null, true, false], c: {}, d: [], e: -1.5, skipped: undefined };
    const { skipped: _, ...serialized } = value;
    expect(checkStorable(value, 1000)).toEqual({ ok: true, length: JSON.stringify(serialized).length });
  });

  it("names the first problem and where it is", () => {
    const cases: [unknown, string, string][] = [
      [nested(65), "depth", "data.a.a"],
      [{ s: "x".repeat(EVENT_LIMITS.maxStringLength + 1) }, "string_length", "data.s"],
      [{ s: "nul\u0000" }, "text", "data.s"],
      [{ s: "lone \ud800 surrogate" }, "text", "data.s"],
      [{ "key\u0000": 1 }, "text", "data.key\ufffd"],
      [{ n: Number.NaN }, "unrepresentable", "data.n"],
      [{ n: 10n }, "unrepresentable", "data.n"],
      [{ f: () => 1 }, "unrepresentable", "data.f"],
      [{ d: new Date(0) }, "unrepresentable", "data.d"],
      [{ m: new Map() }, "unrepresentable", "data.m"],
    ];
    for (const [value, kind, path] of cases) {
      const check = checkStorable(value, EVENT_LIMITS.maxEventLength);
      expect(check.ok, `${kind} at ${path}`).toBe(false);
      if (!check.ok) {
        expect(check.problem.kind).toBe(kind);
        expect(check.problem.path.startsWith(path)).toBe(true);
      }
    }
  });

  it("accepts exactly the limits and refuses one more", () => {
    expect(checkStorable(nested(64), EVENT_LIMITS.maxEventLength).ok).toBe(true);
    expect(checkStorable(nested(65), EVENT_LIMITS.maxEventLength).ok).toBe(false);
    expect(
      checkStorable({ s: "x".repeat(EVENT_LIMITS.maxStringLength) }, EVENT_LIMITS.maxEventLength).ok,
    ).toBe(true);
    const value = { s: "x".repeat(100) };
    const length = JSON.stringify(value).length;
    expect(checkStorable(value, length)).toEqual({ ok: true, length });
    expect(checkStorable(value, length - 1)).toMatchObject({ ok: false, problem: { kind: "event_length" } });
  });

  it("stops on a cycle or a 100,000-level nesting without overflowing the stack", () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    expect(checkStorable(cyclic, EVENT_LIMITS.maxEventLength)).toMatchObject({
      ok: false,
      problem: { kind: "depth" },
    });
    expect(checkStorable(nested(100_000), EVENT_LIMITS.maxEventLength)).toMatchObject({
      ok: false,
      problem: { kind: "depth" },
    });
  });

  it("bounds its work by the budget, even on a graph that shares subtrees exponentially", () => {
    let shared: unknown = "leaf";
    for (let level = 0; level < 60; level++) shared = [shared, shared];
    expect(checkStorable(shared, EVENT_LIMITS.maxEventLength)).toMatchObject({
      ok: false,
      problem: { kind: "event_length" },
    });
  });

  it("reports a throwing getter as unrepresentable instead of throwing", () => {
    const value = {
      get broken(): string {
        throw new Error("no");
      },
    };
    expect(checkStorable(value, 1000)).toMatchObject({ ok: false, problem: { kind: "unrepresentable" } });
  });
});

describe("makeEventStorable", () => {
  it("returns storable data and metadata unchanged, without a report", () => {
    const data = { delta: "hello", nested: { list: [1, 2, 3] } };
    const metadata = { source: "test" };
    const result = makeEventStorable(data, metadata);
    expect(result.data).toBe(data);
    expect(result.metadata).toBe(metadata);
    expect(result.report).toBeUndefined();
  });

  it("cuts nesting beyond the depth cap with a marker and reports where", () => {
    const { data, report } = expectStorable({ toolInput: nested(6000) });
    const { levels, leaf } = depthOf(data.toolInput);
    // data is level 1, toolInput level 2: 63 more levels fit under it, the 64th is the marker.
    expect(levels).toBe(EVENT_LIMITS.maxDepth - 1);
    expect(leaf).toBe(`[truncated: depth > ${EVENT_LIMITS.maxDepth}]`);
    expect(report).toMatchObject({ depth: 1 });
    expect(report?.paths).toEqual([`data.toolInput${".a".repeat(EVENT_LIMITS.maxDepth - 1)}`]);
  });

  it("cuts long strings and keys with a marker that says how long they were", () => {
    const long = "y".repeat(3_000_000);
    const { data, report } = expectStorable({ content: long, [long]: 1 });
    const content = data.content as string;
    expect(content.length).toBeLessThanOrEqual(EVENT_LIMITS.maxStringLength);
    expect(content.endsWith("…[truncated: 3000000 chars]")).toBe(true);
    expect(content.startsWith("yyyy")).toBe(true);
    const keys = Object.keys(data).filter((key) => key !== "content");
    expect(keys).toHaveLength(1);
    expect(keys[0]?.endsWith("…[truncated: 3000000 chars]")).toBe(true);
    expect(report).toMatchObject({
      strings: 2,
      paths: ["data.content", expect.stringMatching(/^data\.y+…$/)],
    });
  });

  it("never cuts a surrogate pair in half", () => {
    const limits: StorableLimits = { maxDepth: 8, maxStringLength: 40, maxEventLength: 100_000 };
    for (let offset = 0; offset < 4; offset++) {
      const text = `${"a".repeat(offset)}${"😀".repeat(40)}`;
      const { data } = makeEventStorable({ text }, {}, limits);
      expect(isStorableText(data.text as string)).toBe(true);
      expect((data.text as string).length).toBeLessThanOrEqual(40);
    }
  });

  it("replaces what JSON or PostgreSQL cannot hold, and counts it", () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const { data, report } = expectStorable({
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      big: 12345678901234567890n,
      fn: () => 1,
      list: [undefined, () => 1, Symbol("s")],
      nul: "a\u0000b",
      lone: "x\udc00y",
      date: new Date(0),
      error: new TypeError("bad"),
      map: new Map([["k", "v"]]),
      cyclic,
      boxed: new String("boxed"),
    });
    expect(data).toEqual({
      nan: null,
      inf: null,
      big: "12345678901234567890",
      list: [null, null, null],
      nul: "a\ufffdb",
      lone: "x\ufffdy",
      date: "1970-01-01T00:00:00.000Z",
      error: { name: "TypeError", message: "bad" },
      map: {},
      cyclic: { name: "loop", self: "[circular]" },
      boxed: "boxed",
    });
    // nan, inf, big, fn, two in list, nul, lone, error, map, circular
    expect(report?.unrepresentable).toBe(11);
    expect(report?.paths.length).toBe(10);
  });

  it("keeps __proto__ as an own member instead of setting the copy's prototype", () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "n": NaN}'.replace("NaN", "1")) as Record<
      string,
      unknown
    >;
    data.bad = Number.NaN;
    const result = makeEventStorable(data, {});
    expect(Object.getPrototypeOf(result.data)).toBe(Object.prototype);
    expect(Object.hasOwn(result.data, "__proto__")).toBe(true);
    expect(JSON.parse(JSON.stringify(result.data))).toEqual(
      JSON.parse('{"__proto__":{"polluted":true},"n":1,"bad":null}'),
    );
  });

  it("keeps an oversized event within the event cap, keeping plain members before nested ones", () => {
    const items = Array.from({ length: 20_000 }, (_, index) => ({ index, text: "z".repeat(100) }));
    const { data, report } = expectStorable({ toolOutput: items, toolCallId: "call-1", toolName: "Read" });
    expect(data.toolCallId).toBe("call-1");
    expect(data.toolName).toBe("Read");
    expect(Object.keys(data)).toEqual(["toolOutput", "toolCallId", "toolName"]);
    const output = data.toolOutput as unknown[];
    const marker = output.at(-1) as string;
    const kept = output.length - 1;
    expect(marker).toBe(`[truncated: ${20_000 - kept} more items]`);
    // Whole items up to the cut; the item the budget ran out in keeps its first members and a marker.
    expect(output.slice(0, kept - 1)).toEqual(items.slice(0, kept - 1));
    expect(output[kept - 1]).toMatchObject({ index: kept - 1 });
    expect(kept).toBeGreaterThan(5_000);
    expect(report?.members).toBeGreaterThanOrEqual(1);
    expect(report?.paths).toContain("data.toolOutput");
    expect(eventLength(data, {})).toBeLessThanOrEqual(EVENT_LIMITS.maxEventLength);
  });

  it("stays bounded on wide, deep, shared and cyclic inputs together", () => {
    let shared: unknown = "s".repeat(1000);
    for (let level = 0; level < 40; level++) shared = { left: shared, right: shared };
    const wide = Object.fromEntries(Array.from({ length: 50_000 }, (_, index) => [`key${index}`, { index }]));
    const cyclic: unknown[] = [];
    cyclic.push(cyclic, nested(500));
    const { data, metadata, report } = expectStorable(
      { shared, wide, cyclic, deep: nested(100_000) },
      { adapterNote: "m".repeat(2_000_000), extra: wide },
    );
    expect(report?.members).toBeGreaterThan(0);
    expect(eventLength(data, metadata)).toBeLessThanOrEqual(
      EVENT_LIMITS.maxEventLength - STORABLE_REPORT_RESERVE,
    );
    // The metadata got its quarter; the rest went to data.
    expect(JSON.stringify(metadata).length).toBeLessThanOrEqual(EVENT_LIMITS.maxEventLength / 4);
  });

  it("marks the members a budget cut from an object, keeping the first ones in order", () => {
    const limits: StorableLimits = { maxDepth: 8, maxStringLength: 1000, maxEventLength: 30_000 };
    const data = Object.fromEntries(
      Array.from({ length: 100 }, (_, index) => [`k${index}`, { v: "x".repeat(300) }]),
    );
    const result = makeEventStorable(data, {}, limits);
    const keys = Object.keys(result.data);
    const marker = keys.at(-1);
    expect(marker).toBe("[truncated]");
    const kept = keys.slice(0, -1);
    expect(kept).toEqual(Object.keys(data).slice(0, kept.length));
    expect(result.data["[truncated]"]).toBe(`${100 - kept.length} more members`);
    expect(JSON.stringify(result.data).length).toBeLessThanOrEqual(30_000 - STORABLE_REPORT_RESERVE);
  });

  it("sums two reports and keeps at most 10 paths", () => {
    const first = { depth: 1, paths: ["data.a", "data.b", "data.c", "data.d", "data.e", "data.f"] };
    const second = { strings: 2, depth: 1, paths: ["data.g", "data.h", "data.i", "data.j", "data.k"] };
    expect(mergeStorableReports(first, second)).toEqual({
      depth: 2,
      strings: 2,
      paths: [
        "data.a",
        "data.b",
        "data.c",
        "data.d",
        "data.e",
        "data.f",
        "data.g",
        "data.h",
        "data.i",
        "data.j",
      ],
    });
    expect(mergeStorableReports(undefined, second)).toBe(second);
    expect(mergeStorableReports(undefined, undefined)).toBeUndefined();
  });
});
