import { describe, expect, it } from "vitest";
import type { EventDraft } from "../../core/events.js";
import { isCanonicalTimestamp, normalizeEventDraft } from "./event-draft.js";

/** What a store stored before the shortcut: the timestamp through a Date and back. */
const roundTrip = (text: string): string | undefined => {
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
};

const draftAt = (timestamp: string): EventDraft => ({
  id: "evt_t",
  type: "message_streamed",
  sessionId: "ses_t",
  timestamp,
  data: { delta: "x" },
  metadata: {},
});

describe("a draft's timestamp", () => {
  it("is taken as it is only when the Date round trip would give it back unchanged", () => {
    // A fixed linear congruential sequence: the same cases on every run.
    let state = 7;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const digit = () => String(Math.floor(random() * 10));
    const texts: string[] = [
      // toISOString's own output over the years a 4-digit year holds
      ...Array.from({ length: 2000 }, () => new Date(Math.floor(random() * 253402300800000)).toISOString()),
      // the canonical shape with any digits: month 13, day 00, February 30, hour 24, minute 60…
      ...Array.from({ length: 20000 }, () => {
        const d = () => digit();
        return `${d()}${d()}${d()}${d()}-${d()}${d()}-${d()}${d()}T${d()}${d()}:${d()}${d()}:${d()}${d()}.${d()}${d()}${d()}Z`;
      }),
      "2024-02-29T12:00:00.000Z",
      "2023-02-29T12:00:00.000Z",
      "1900-02-29T00:00:00.000Z",
      "2000-02-29T00:00:00.000Z",
      "0000-01-01T00:00:00.000Z",
      "9999-12-31T23:59:59.999Z",
      "2024-04-31T00:00:00.000Z",
      "2024-01-01T24:00:00.000Z",
      "2024-01-01T23:60:00.000Z",
      "2024-01-01T23:59:60.000Z",
      // other forms Date accepts, which a store rewrites
      "2024-01-01T00:00:00Z",
      "2024-01-01T00:00:00.000+00:00",
      "2024-01-01",
      "2024-01-01 00:00:00.000Z",
      "+002024-01-01T00:00:00.000Z",
      "2024-01-01T00:00:00.000z",
      "Mon, 01 Jan 2024 00:00:00 GMT",
      "２024-01-01T00:00:00.000Z",
    ];
    let accepted = 0;
    for (const text of texts) {
      if (!isCanonicalTimestamp(text)) continue;
      accepted += 1;
      expect(roundTrip(text), text).toBe(text);
    }
    // Every toISOString output and the valid hand-written ones take the shortcut.
    expect(accepted).toBeGreaterThan(2005);
    for (let index = 0; index < 2000; index++)
      expect(isCanonicalTimestamp(texts[index] as string)).toBe(true);
  });

  it("is stored as toISOString writes it, whether or not it was already in that form", () => {
    for (const [given, stored] of [
      ["2024-02-30T00:00:00.000Z", "2024-03-01T00:00:00.000Z"],
      ["2024-02-29T12:00:00.000Z", "2024-02-29T12:00:00.000Z"],
      ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z"],
      ["2024-01-01T02:00:00.000+02:00", "2024-01-01T00:00:00.000Z"],
      ["2024-01-01T24:00:00.000Z", "2024-01-02T00:00:00.000Z"],
    ] as const) {
      expect(normalizeEventDraft(draftAt(given)).timestamp).toBe(stored);
    }
  });

  it("that is no date is refused with validation_error", () => {
    for (const timestamp of ["2024-13-01T00:00:00.000Z", "yesterday", "2024-02-30T00:00:00.000Z!"]) {
      expect(() => normalizeEventDraft(draftAt(timestamp))).toThrow(
        expect.objectContaining({
          code: "validation_error",
          details: expect.objectContaining({ field: "timestamp" }),
        }),
      );
    }
  });
});
