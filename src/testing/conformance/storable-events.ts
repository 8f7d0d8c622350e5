import assert from "node:assert/strict";
import type { EventDraft } from "../../core/events.js";
import { EVENT_LIMITS, makeEventStorable } from "../../core/storable.js";
import type { SessionStore } from "../../ports/session-store.js";
import { rejectsWith } from "../assertions.js";
import { iso, makeRun, makeSession, saved, uniqueId, untypedDraft } from "../fixtures.js";
import type { SessionStoreHarness, TestFramework } from "../session-store-conformance.js";
import { storeCase } from "../store-case.js";

/**
 * What every store holds and refuses, part of the `SessionStore` conformance suite: an event's
 * `data` and `metadata` are stored exactly when they are storable values within `EVENT_LIMITS`
 * (`core/storable.ts`), and anything else — too deep, too long, text PostgreSQL cannot hold,
 * values JSON cannot hold — is `validation_error` on every store, before anything of the batch
 * is written. A store never rewrites an event and never overflows the stack on one; the
 * SessionManager makes events storable (`makeEventStorable`) before it appends them, and that
 * form round-trips unchanged.
 */
export function defineStorableEventCases(harness: SessionStoreHarness, framework: TestFramework): void {
  const { describe, it } = framework;
  const dispose = (store: SessionStore): Promise<void> =>
    harness.close ? harness.close(store) : store.close();
  const test = storeCase<SessionStore>(it, () => harness.open(), dispose);

  /** Appends `data` (and `metadata`) to a fresh session: stored and read back unchanged. */
  async function storesUnchanged(
    store: SessionStore,
    data: Record<string, unknown>,
    metadata: Record<string, unknown> = {},
  ): Promise<void> {
    const session = await saved(store, makeSession());
    const event = draft(session.id, data, metadata);
    const stored = await store.appendEvent(event);
    assert.deepEqual(stored, { ...event, sequence: 1 });
    assert.deepEqual(await store.getEvents(session.id), [stored]);
  }

  /** Appends `data` (and `metadata`) in the middle of a batch: refused, nothing written. */
  async function refused(
    store: SessionStore,
    data: unknown,
    metadata: unknown = {},
    context = "",
  ): Promise<void> {
    const session = await saved(store, makeSession());
    const bad = untypedDraft({ ...draft(session.id, {}), data, metadata });
    await rejectsWith(
      store.appendEvents([draft(session.id, { n: 1 }), bad, draft(session.id, { n: 3 })]),
      "validation_error",
      { index: 1, id: bad.id },
      context,
    );
    assert.equal(await store.getLatestSequence(session.id), 0, `${context}: nothing of the batch is stored`);
  }

  describe("storable events", () => {
    test("stores nesting up to maxDepth levels and refuses one level more, however deep", async (store) => {
      const limit = EVENT_LIMITS.maxDepth;
      await storesUnchanged(store, nestedData(limit));
      await storesUnchanged(store, {}, nestedData(limit));
      await refused(store, nestedData(limit + 1), {}, "one level too deep");
      await refused(store, {}, nestedData(limit + 1), "metadata one level too deep");
      // Deep enough to overflow a recursive JSON.stringify or structuredClone.
      await refused(store, nestedData(100_000), {}, "100,000 levels");
      const cyclic: Record<string, unknown> = { name: "loop" };
      cyclic.self = cyclic;
      await refused(store, cyclic, {}, "cyclic");
    });

    test("stores strings and keys of maxStringLength and refuses one character more", async (store) => {
      const limit = EVENT_LIMITS.maxStringLength;
      const longest = "s".repeat(limit);
      await storesUnchanged(store, { text: longest, [longest]: 1 });
      await refused(store, { text: `${longest}s` }, {}, "string");
      await refused(store, { [`${longest}k`]: 1 }, {}, "key");
      await refused(store, {}, { note: `${longest}m` }, "metadata string");
      await refused(store, { text: "x".repeat(10_000_000) }, {}, "10 MB string");
    });

    test("stores an event of maxEventLength characters of JSON and refuses one more", async (store) => {
      // data { a, b, c, d } of plain ASCII: JSON.stringify's length is the length counted.
      const empty = JSON.stringify({ a: "", b: "", c: "", d: "" }).length + JSON.stringify({}).length;
      const fill = EVENT_LIMITS.maxEventLength - empty;
      const part = Math.ceil(fill / 4);
      const data = (extra: number) => ({
        a: "a".repeat(part),
        b: "b".repeat(part),
        c: "c".repeat(part),
        d: "d".repeat(fill - 3 * part + extra),
      });
      assert.equal(JSON.stringify(data(0)).length + 2, EVENT_LIMITS.maxEventLength);
      await storesUnchanged(store, data(0));
      await refused(store, data(1), {}, "one character over");
      // The limit is the event's: metadata counts too.
      const { d, ...rest } = data(0);
      // `,"d":…` leaves data (length + 7) and `{"d":…}` replaces metadata's `{}` (length + 8 − 2).
      const metadata = { d: `${d}dd` };
      assert.equal(
        JSON.stringify(rest).length + JSON.stringify(metadata).length,
        EVENT_LIMITS.maxEventLength + 1,
      );
      await refused(store, rest, metadata, "over with metadata");
      // Wide rather than long: many small members.
      await refused(store, { list: Array.from({ length: 300_000 }, (_, index) => index) }, {}, "wide");
    });

    test("refuses text PostgreSQL cannot hold: NUL and lone surrogates, anywhere", async (store) => {
      const cases: [string, unknown, unknown][] = [
        ["NUL in a value", { text: "a\u0000b" }, {}],
        ["NUL in a key", { "a\u0000b": 1 }, {}],
        ["lone high surrogate", { text: "a\ud800b" }, {}],
        ["lone low surrogate", { list: ["\udc00"] }, {}],
        ["NUL in metadata", {}, { note: "\u0000" }],
      ];
      for (const [context, data, metadata] of cases) await refused(store, data, metadata, context);
      const session = await saved(store, makeSession());
      for (const field of ["id", "runId", "provider"]) {
        await rejectsWith(
          store.appendEvent(untypedDraft({ ...draft(session.id, {}), [field]: "x\u0000y" })),
          "validation_error",
          { field },
          field,
        );
      }
      assert.equal(await store.getLatestSequence(session.id), 0);
      // A well-formed pair and the replacement character are text like any other.
      await storesUnchanged(store, { emoji: "😀 \ufffd", "k😀": "é" });
    });

    test("refuses values JSON cannot hold, which stores would otherwise keep differently", async (store) => {
      class Point {
        x = 1;
      }
      const cases: [string, unknown][] = [
        ["NaN", { n: Number.NaN }],
        ["Infinity", { n: Number.POSITIVE_INFINITY }],
        ["bigint", { n: 1n }],
        ["function", { f: () => 1 }],
        ["symbol", { s: Symbol("s") }],
        ["Date", { at: new Date(0) }],
        ["Map", { m: new Map([["k", "v"]]) }],
        ["class instance", { p: new Point() }],
        ["data that is a Date", new Date(0)],
        ["data that is a string", "not an object"],
        ["data that is null", null],
      ];
      for (const [context, data] of cases) await refused(store, data, {}, context);
    });

    test("refuses an unstorable event given with saveRun, storing neither the run nor its events", async (store) => {
      const session = await saved(store, makeSession());
      const run = makeRun(session.id);
      const good = draft(session.id, { n: 1 }, {}, run.id);
      const bad = draft(session.id, nestedData(EVENT_LIMITS.maxDepth + 1), {}, run.id);
      await rejectsWith(store.saveRun(run, { events: [good, bad] }), "validation_error", { index: 1 });
      await rejectsWith(store.getRun(run.id), "run_not_found");
      assert.equal(await store.getLatestSequence(session.id), 0);
    });

    test("what the SessionManager makes storable is stored and read back unchanged", async (store) => {
      const cyclic: Record<string, unknown> = { name: "loop" };
      cyclic.self = cyclic;
      const hostile = {
        // First: nested members are kept in order until the event's budget runs out.
        ...JSON.parse('{"__proto__": {"kept": "as an own member"}}'),
        deep: nestedData(6000),
        long: "L".repeat(3 * EVENT_LIMITS.maxStringLength),
        nul: "a\u0000b",
        lone: "\ud800",
        nan: Number.NaN,
        big: 2n ** 70n,
        at: new Date(0),
        cyclic,
        wide: Array.from({ length: 200_000 }, (_, index) => ({ index })),
      };
      const { data, metadata, report } = makeEventStorable(hostile, { nested: nestedData(200) });
      assert.ok(report, "the hostile event needed changes");
      const session = await saved(store, makeSession());
      const event = draft(session.id, data, { ...metadata, truncated: report });
      const [stored] = await store.appendEvents([draft(session.id, { before: true }), event]);
      assert.equal(stored?.sequence, 1);
      const read = await store.getEvents(session.id);
      assert.deepEqual(read[1], { ...event, sequence: 2 });
      const readData = read[1]?.data ?? {};
      assert.equal(Object.getPrototypeOf(readData), Object.prototype);
      assert.deepEqual(Object.getOwnPropertyDescriptor(readData, "__proto__")?.value, {
        kept: "as an own member",
      });
    });
  });
}

/** A draft of `message_streamed` with free-form data: stores never check data against its schema. */
function draft(
  sessionId: string,
  data: Record<string, unknown>,
  metadata: Record<string, unknown> = {},
  runId?: string,
): EventDraft {
  return untypedDraft({
    id: uniqueId("evt"),
    type: "message_streamed",
    sessionId,
    ...(runId === undefined ? {} : { runId }),
    timestamp: iso(0),
    data,
    metadata,
  });
}

/** An object `levels` levels deep counting itself (`{ a: { a: … { leaf } } }`), built without recursion. */
function nestedData(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: "bottom" };
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
}
