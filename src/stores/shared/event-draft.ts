import { AsmError } from "../../core/errors.js";
import { type AsmEvent, type EventDraft, isEventType } from "../../core/events.js";
import {
  checkStorable,
  EVENT_LIMITS,
  isStorableText,
  type StorableProblemKind,
} from "../../core/storable.js";
import { validationError } from "./errors.js";
import { requireObject, requireText } from "./fields.js";

/**
 * Checks one draft before it is appended and returns a normalized copy of its envelope:
 * `timestamp` rewritten by `toISOString()` (so stored timestamps compare as strings for
 * `since`), `metadata` defaulted to `{}`, and absent optional fields left out rather than
 * `undefined`. `data` and `metadata` are the caller's objects, not copies.
 *
 * Every store refuses, with the same `validation_error`, what one of them could not hold or
 * would hold differently: `data` and `metadata` must be storable values within `EVENT_LIMITS`
 * (see `core/storable.ts`: nesting, string and event size, no NaN, bigint, function, Date or
 * class instance, no NUL or lone surrogate), and so must the envelope's text. The
 * SessionManager brings every event within these limits before it appends it
 * (`makeEventStorable`); a store does not rewrite what it is given.
 *
 * `index` is the draft's position in a batch, reported in error details.
 */
export function normalizeEventDraft(draft: EventDraft, index = 0): EventDraft {
  // Typed callers cannot get most of this wrong; JavaScript callers and JSON input can.
  if (typeof draft !== "object" || draft === null) {
    throw validationError("an event draft must be an object", { index });
  }
  const fields: Record<string, unknown> = draft;
  const { type } = fields;
  if (!isEventType(type)) {
    throw new AsmError("invalid_event_type", `unknown event type ${JSON.stringify(type)}`, {
      details: { type, index, id: fields.id },
    });
  }
  const id = requireText(fields, "id", "event", { index });
  const details = { index, id };
  const sessionId = requireText(fields, "sessionId", "event", details);
  const runId = fields.runId === undefined ? undefined : requireText(fields, "runId", "event", details);
  const provider =
    fields.provider === undefined ? undefined : requireText(fields, "provider", "event", details);
  const timestamp = normalizeTimestamp(fields.timestamp, details);
  const data = requireObject(fields, "data", "event", details);
  const metadata = fields.metadata === undefined ? {} : requireObject(fields, "metadata", "event", details);
  requireStorableText(id, "id", details);
  requireStorableText(sessionId, "sessionId", details);
  if (runId !== undefined) requireStorableText(runId, "runId", details);
  if (provider !== undefined) requireStorableText(provider, "provider", details);
  requireStorable(data, metadata, details);
  // Built field by field rather than with conditional spreads: this runs once per appended event.
  const normalized = {
    id,
    type,
    sessionId,
    timestamp,
    data,
    metadata,
  } as EventDraft;
  if (runId !== undefined) normalized.runId = runId;
  if (provider !== undefined) normalized.provider = provider;
  return normalized;
}

/** The timestamp as `toISOString()` writes it; `validation_error` unless it is a date. */
function normalizeTimestamp(value: unknown, details: Record<string, unknown>): string {
  if (typeof value === "string" && isCanonicalTimestamp(value)) return value;
  const time = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw validationError("event timestamp must be an ISO 8601 date", {
      ...details,
      field: "timestamp",
      value,
    });
  }
  return new Date(time).toISOString();
}

const CHAR_0 = 48;
/** The form `toISOString()` writes for years 0000 to 9999 (`\d` is ASCII digits only). */
const ISO_FORM = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\dZ$/;

/**
 * Whether `text` is already what `new Date(text).toISOString()` makes of it: the
 * `YYYY-MM-DDTHH:mm:ss.sssZ` form of a real date and time (no February 30, no 24:00). Checked
 * by hand because the round trip through `Date` costs more than every other check of a draft
 * together (~650 ns against ~50), and the drafts the SessionManager appends all have this form.
 */
export function isCanonicalTimestamp(text: string): boolean {
  if (!ISO_FORM.test(text)) return false;
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(digitsAt(text, 0, 4), month) &&
    digitsAt(text, 11, 2) <= 23 &&
    digitsAt(text, 14, 2) <= 59 &&
    digitsAt(text, 17, 2) <= 59
  );
}

/** The number written by `length` digits of `text` from `start` (checked to be digits). */
function digitsAt(text: string, start: number, length: number): number {
  let value = 0;
  for (let position = start; position < start + length; position++) {
    value = value * 10 + text.charCodeAt(position) - CHAR_0;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Refuses envelope text PostgreSQL cannot hold (the other stores could, differently). */
function requireStorableText(text: string, field: string, details: Record<string, unknown>): void {
  if (!isStorableText(text)) {
    throw unstorable(
      `event ${field} holds a NUL character or a lone surrogate`,
      { ...details, field },
      "text",
    );
  }
}

/** Refuses an event some store could not hold as it is; see `normalizeEventDraft`. */
function requireStorable(
  data: Record<string, unknown>,
  metadata: Record<string, unknown>,
  details: Record<string, unknown>,
): void {
  const dataCheck = checkStorable(data, EVENT_LIMITS.maxEventLength, "data");
  const check = dataCheck.ok
    ? checkStorable(metadata, EVENT_LIMITS.maxEventLength - dataCheck.length, "metadata")
    : dataCheck;
  if (check.ok) return;
  const { kind, path, message } = check.problem;
  throw unstorable(
    `event is not storable: ${message}`,
    { ...details, field: path.split(".", 1)[0], path, problem: kind, limits: EVENT_LIMITS },
    kind,
  );
}

function unstorable(message: string, details: Record<string, unknown>, kind: StorableProblemKind): AsmError {
  const fix =
    kind === "text"
      ? "PostgreSQL text and jsonb cannot hold the NUL character (\\u0000) or a lone surrogate; replace them (U+FFFD)."
      : "Keep events within EVENT_LIMITS and to JSON values.";
  return new AsmError("validation_error", message, {
    details,
    hint: `${fix} makeEventStorable (core) does this for any value, as the SessionManager does before it appends.`,
  });
}

/** The stored form of a normalized draft. Much cheaper than `{ ...draft, sequence }` on the append path. */
export function toStoredEvent(draft: EventDraft, sequence: number): AsmEvent {
  const event = {
    id: draft.id,
    type: draft.type,
    sessionId: draft.sessionId,
    sequence,
    timestamp: draft.timestamp,
    data: draft.data,
    metadata: draft.metadata,
  } as AsmEvent;
  if (draft.runId !== undefined) event.runId = draft.runId;
  if (draft.provider !== undefined) event.provider = draft.provider;
  return event;
}

/** `normalizeEventDraft` over a batch. */
export function normalizeEventDrafts(drafts: readonly EventDraft[]): EventDraft[] {
  if (!Array.isArray(drafts)) throw validationError("events must be an array of event drafts", {});
  return drafts.map((draft, index) => normalizeEventDraft(draft, index));
}
