import {
  type EventDraft,
  type EventMetadata,
  type EventType,
  isEventType,
  isTerminalRunEventType,
  validateEventData,
} from "../core/events.js";
import { newId } from "../core/ids.js";
import type { Redactor } from "../core/redaction.js";

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
 * that carries the original; data that fails its schema is kept, with the problems recorded in
 * `metadata.validationIssues`; secrets are redacted when a redactor is given.
 */
export function buildEventDraft(
  raw: unknown,
  context: EventContext,
  source: EventSource,
  redactor: Redactor | undefined,
  now: Date = new Date(),
): EventDraft {
  const input = isRecord(raw) ? raw : { type: undefined, data: raw };
  const metadata: EventMetadata = isRecord(input.metadata) ? { ...input.metadata } : {};
  const timestamp = normalizeTimestamp(input.timestamp, now, metadata);

  const declared = input.type;
  let type: EventType = "error_occurred";
  let data: unknown = input.data ?? {};
  if (!isEventType(declared)) {
    data = contractViolation(`unknown event type ${JSON.stringify(declared)}`, declared, data);
  } else if (source === "adapter" && isTerminalRunEventType(declared)) {
    data = contractViolation(
      `adapters must not emit ${declared}: the SessionManager writes the one terminal event of a run`,
      declared,
      data,
    );
  } else {
    type = declared;
  }

  const issues = validateEventData(type, data);
  if (issues.length > 0) metadata.validationIssues = issues;

  const draft = {
    id: typeof input.id === "string" && input.id.length > 0 ? input.id : newId("evt"),
    type,
    sessionId: context.sessionId,
    ...(context.runId ? { runId: context.runId } : {}),
    ...(context.provider ? { provider: context.provider } : {}),
    timestamp,
    // The schema check above recorded any mismatch; the union cannot express "as received".
    data: data as EventDraft["data"],
    metadata,
  } as EventDraft;
  return redactor ? redactor.redactEvent(draft).value : draft;
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
  if (value === undefined) return now.toISOString();
  const parsed = typeof value === "string" || value instanceof Date ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) {
    metadata.invalidTimestamp = String(value);
    return now.toISOString();
  }
  return parsed.toISOString();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
