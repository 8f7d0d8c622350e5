import {
  type EventDraft,
  type EventMetadata,
  type EventType,
  isEventType,
  isTerminalRunEventType,
  type ValidationIssue,
  validateEventData,
} from "../core/events.js";
import { newId } from "../core/ids.js";
import type { Redactor } from "../core/redaction.js";
import { isStorableText, makeEventStorable, mergeStorableReports } from "../core/storable.js";
import { isRecord } from "../utils/is-record.js";

/** Who an event belongs to. */
export interface EventContext {
  sessionId: string;
  runId?: string;
  provider?: string;
}

/** Where an event comes from: adapters may not write terminal run events, the manager must. */
export type EventSource = "adapter" | "manager";

/**
 * Turns whatever an adapter (or the manager) reports into a storable draft. Never throws and
 * never drops: an unknown type or a terminal event from an adapter becomes an `error_occurred`
 * that carries the original; data that is not an object is kept as `data.value`, and data that
 * fails its schema is kept, with the problems recorded in `metadata.validationIssues`; secrets
 * are redacted when a redactor is given.
 *
 * Every draft is storable in every store (see `core/storable.ts`): values JSON cannot hold are
 * replaced, and nesting, strings and the event beyond `EVENT_LIMITS` are cut with a marker, the
 * changes listed in `metadata.truncated`. That happens before the redactor runs, so it never
 * walks unbounded input, and again after it, since a replacement may be longer than the secret.
 */
export function buildEventDraft(
  raw: unknown,
  context: EventContext,
  source: EventSource,
  redactor: Redactor | undefined,
  now: Date = new Date(),
): EventDraft {
  const input = readEnvelope(raw);
  const issues: ValidationIssue[] = [];
  let metadata: EventMetadata = {};
  if (isPlainRecord(input.metadata)) metadata = { ...input.metadata };
  else if (input.metadata !== undefined) metadata = { value: input.metadata };
  const timestamp = normalizeTimestamp(input.timestamp, now, metadata);
  let id = input.id;
  if (id !== undefined && !isUsableId(id)) {
    metadata.invalidId = boundedText(id);
    id = undefined;
  }

  const declared = input.type;
  let type: EventType = "error_occurred";
  // Absent data is empty data; anything else that is not an object is kept, wrapped, below.
  let data: unknown = input.data === undefined ? {} : input.data;
  if (!isEventType(declared)) {
    data = contractViolation(`unknown event type ${describeType(declared)}`, declared, data);
  } else if (source === "adapter" && isTerminalRunEventType(declared)) {
    data = contractViolation(
      `adapters must not emit ${declared}: the SessionManager writes the one terminal event of a run`,
      declared,
      data,
    );
  } else {
    type = declared;
  }
  if (!isPlainRecord(data)) {
    issues.push({ path: "", message: `expected an object, received ${kindOf(data)}: kept as data.value` });
    data = { value: data };
  }

  const bounded = makeEventStorable(data as Record<string, unknown>, metadata);
  data = bounded.data;
  metadata = bounded.metadata;
  for (const issue of validateEventData(type, data)) issues.push(issue);
  if (issues.length > 0) metadata = { ...metadata, validationIssues: issues };

  if (redactor) {
    const redacted = redactor.redactEvent({ data, metadata }).value;
    data = redacted.data;
    metadata = redacted.metadata;
  }

  // Only what was added since the first pass can break the limits again: redactions, issues.
  const stored =
    redactor || issues.length > 0
      ? makeEventStorable(data as Record<string, unknown>, metadata)
      : { data: data as Record<string, unknown>, metadata, report: undefined };
  const truncated = mergeStorableReports(bounded.report, stored.report);
  // Built field by field rather than with conditional spreads: this runs once per event.
  const draft = {
    id: typeof id === "string" ? id : newId("evt"),
    type,
    sessionId: context.sessionId,
    timestamp,
    // The schema check above recorded any mismatch; the union cannot express "as received".
    data: stored.data as EventDraft["data"],
    metadata: truncated ? { ...stored.metadata, truncated } : stored.metadata,
  } as EventDraft;
  if (context.runId) draft.runId = context.runId;
  if (context.provider) draft.provider = context.provider;
  return draft;
}

function contractViolation(message: string, originalType: unknown, originalData: unknown) {
  return {
    errorCode: "invalid_event_type",
    errorMessage: message,
    fatal: false,
    details: { originalType: originalType === undefined ? null : originalType, originalData },
  };
}

function normalizeTimestamp(value: unknown, now: Date, metadata: EventMetadata): string {
  if (value === undefined) return isoText(now);
  const parsed = typeof value === "string" || value instanceof Date ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) {
    metadata.invalidTimestamp = boundedText(value);
    return now.toISOString();
  }
  return parsed.toISOString();
}

/** The last time formatted: a stream's events come many to a millisecond, and formatting is dear. */
let lastFormatted = { time: Number.NaN, text: "" };

function isoText(date: Date): string {
  const time = date.getTime();
  if (time !== lastFormatted.time) lastFormatted = { time, text: date.toISOString() };
  return lastFormatted.text;
}

interface Envelope {
  type: unknown;
  data: unknown;
  metadata: unknown;
  timestamp: unknown;
  id: unknown;
}

/** The fields of what was emitted; a value whose getters throw is kept as unreadable data. */
function readEnvelope(raw: unknown): Envelope {
  if (!isRecord(raw))
    return { type: undefined, data: raw, metadata: undefined, timestamp: undefined, id: undefined };
  try {
    const { type, data, metadata, timestamp, id } = raw;
    return { type, data, metadata, timestamp, id };
  } catch (error) {
    return {
      type: undefined,
      data: { unreadable: error instanceof Error ? error.message : boundedText(error) },
      metadata: undefined,
      timestamp: undefined,
      id: undefined,
    };
  }
}

/** An id every store can hold and look up: printable, non-empty, at most 200 characters. */
function isUsableId(id: unknown): id is string {
  return typeof id === "string" && id.length > 0 && id.length <= 200 && isStorableText(id);
}

/** Any value as text of at most 200 characters, never throwing (a value may be anything). */
function boundedText(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? value : String(value);
  } catch {
    text = `[${typeof value}]`;
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** An object literal or `JSON.parse` result, not a Date, Map or class instance. */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "a non-plain object" : `a ${typeof value}`;
}

/** The declared type for a message: quoted when it is a string, bounded, never throwing. */
function describeType(type: unknown): string {
  return typeof type === "string" ? JSON.stringify(boundedText(type)) : boundedText(type);
}
