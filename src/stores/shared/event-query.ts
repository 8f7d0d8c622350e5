import { AsmError } from "../../core/errors.js";
import { type AsmEvent, type EventType, isEventType } from "../../core/events.js";
import { DEFAULT_EVENT_PAGE, type EventQuery, MAX_EVENT_PAGE } from "../../ports/session-store.js";
import { sessionNotFound, validationError } from "./errors.js";

/** The longest delay `setTimeout` honours; a longer one would fire at once. */
export const MAX_WAIT_TIMEOUT_MS = 2_147_483_647;

/** An `EventQuery` with its defaults applied and every value checked. */
export interface NormalizedEventQuery {
  after: number;
  before: number | undefined;
  limit: number;
  runId: string | undefined;
  /** Distinct types in first-seen order; `undefined` when the query does not filter on type. */
  types: readonly EventType[] | undefined;
  /** ISO 8601 as produced by `Date.prototype.toISOString`, so it compares as a string. */
  since: string | undefined;
  waitTimeoutMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Validates a query and applies its defaults. Bad values are `validation_error` (with the
 * offending field in `details`); an unknown type in `types` is `invalid_event_type`.
 */
export function normalizeEventQuery(query: EventQuery = {}): NormalizedEventQuery {
  const after = query.after ?? 0;
  if (!isNonNegativeInteger(after)) {
    throw validationError("after must be a non-negative integer", { field: "after", value: after });
  }
  if (query.before !== undefined && !isNonNegativeInteger(query.before)) {
    throw validationError("before must be a non-negative integer", { field: "before", value: query.before });
  }
  const limit = query.limit ?? DEFAULT_EVENT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE) {
    throw validationError(`limit must be an integer from 1 to ${MAX_EVENT_PAGE}`, {
      field: "limit",
      value: limit,
      max: MAX_EVENT_PAGE,
    });
  }
  if (query.runId !== undefined && (typeof query.runId !== "string" || query.runId === "")) {
    throw validationError("runId must be a non-empty string", { field: "runId", value: query.runId });
  }
  const waitTimeoutMs = query.waitTimeoutMs ?? 0;
  if (typeof waitTimeoutMs !== "number" || !(waitTimeoutMs >= 0 && waitTimeoutMs <= MAX_WAIT_TIMEOUT_MS)) {
    throw validationError(`waitTimeoutMs must be a number from 0 to ${MAX_WAIT_TIMEOUT_MS}`, {
      field: "waitTimeoutMs",
      value: waitTimeoutMs,
    });
  }
  return {
    after,
    before: query.before,
    limit,
    runId: query.runId,
    types: query.types === undefined ? undefined : normalizeTypes(query.types),
    since: query.since === undefined ? undefined : normalizeSince(query.since),
    waitTimeoutMs,
    signal: query.signal,
  };
}

function normalizeTypes(types: readonly unknown[]): EventType[] {
  if (!Array.isArray(types) || types.length === 0) {
    // An empty list would match nothing; that is almost always a caller bug, so say so.
    throw validationError("types must be a non-empty array of event types", { field: "types", value: types });
  }
  const distinct = new Set<EventType>();
  for (const type of types) {
    if (!isEventType(type)) {
      throw new AsmError("invalid_event_type", `unknown event type ${JSON.stringify(type)}`, {
        details: { field: "types", type },
      });
    }
    distinct.add(type);
  }
  return [...distinct];
}

function normalizeSince(since: unknown): string {
  const time = typeof since === "string" ? Date.parse(since) : Number.NaN;
  if (Number.isNaN(time)) {
    throw validationError("since must be an ISO 8601 date", { field: "since", value: since });
  }
  return new Date(time).toISOString();
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/**
 * Whether an event passes the query's `runId`, `types` and `since` filters. The sequence
 * window (`after`, `before`) and `limit` are left to the caller, which can usually apply
 * them more cheaply than by testing every event.
 */
export function matchesEventFilters(event: AsmEvent, query: NormalizedEventQuery): boolean {
  return (
    (query.runId === undefined || event.runId === query.runId) &&
    (query.types === undefined || query.types.includes(event.type)) &&
    (query.since === undefined || event.timestamp >= query.since)
  );
}

/**
 * What an empty page means, given the session's highest sequence (`undefined` when the
 * session does not exist): `session_not_found`, `invalid_cursor` for a cursor past the end
 * of the log (a client bug, or a log deleted and re-created under it), or nothing — an
 * empty page at `after == latestSequence` is the normal "caught up" answer.
 *
 * Stores call this only when a page comes back empty, so a non-empty read costs nothing
 * extra, and a long-poll calls it before parking so it never waits on a bad cursor.
 */
export function checkEmptyPage(sessionId: string, after: number, latestSequence: number | undefined): void {
  if (latestSequence === undefined) throw sessionNotFound(sessionId);
  if (after > latestSequence) {
    throw new AsmError(
      "invalid_cursor",
      `cursor after=${after} is past the end of session ${sessionId} (latest sequence ${latestSequence})`,
      {
        details: { sessionId, after, latestSequence },
        hint: "Resume from a sequence this store returned, or from 0 to read the log again.",
      },
    );
  }
}
