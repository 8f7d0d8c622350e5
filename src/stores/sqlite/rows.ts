import type { AsmEvent } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import {
  type EventRow,
  type RunRow,
  rowToEvent as readEvent,
  rowToRun as readRun,
  rowToSession as readSession,
  type SessionRow,
  TEXT_CODEC,
} from "../sql/rows.js";

/**
 * SQLite rows: the row shapes and mapping both SQL stores share (`../sql/rows.ts`), read back
 * with SQLite's codec (JSON as TEXT, timestamps as the ISO strings written).
 */
export { type EventRow, type RunRow, runToRow, type SessionRow, sessionToRow } from "../sql/rows.js";

export function rowToSession(row: SessionRow): Session {
  return readSession(row, TEXT_CODEC);
}

export function rowToRun(row: RunRow): Run {
  return readRun(row, TEXT_CODEC);
}

export function rowToEvent(row: EventRow): AsmEvent {
  return readEvent(row, TEXT_CODEC);
}

/** Positional, in the column order of the events insert: it runs once per appended event. */
export function eventToParams(event: AsmEvent): unknown[] {
  return [
    event.id,
    event.sessionId,
    event.sequence,
    event.type,
    event.runId ?? null,
    event.timestamp,
    event.provider ?? null,
    JSON.stringify(event.data),
    JSON.stringify(event.metadata),
  ];
}
