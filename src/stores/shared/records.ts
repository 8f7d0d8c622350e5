import type { EventDraft } from "../../core/events.js";
import { RUN_STATUSES, type Run, type RunStatus } from "../../core/run.js";
import { SESSION_STATUSES, type Session, type SessionStatus } from "../../core/session.js";
import type { RunListQuery, SaveRunOptions, SessionListQuery } from "../../ports/session-store.js";
import { validationError } from "./errors.js";
import { requireObject, requireText } from "./fields.js";

/**
 * A session save as the SQL stores' recovery needs it, like `SaveRunOptions`: a compare-and-set
 * on the stored status, with events appended in the same transaction. Internal to the stores
 * (the `SessionStore` port's `saveSession` takes no options).
 */
export interface SaveSessionOptions {
  expectedStatus?: SessionStatus;
  events?: readonly EventDraft[];
}

/** Page size of `listSessions` / `listRuns` when `limit` is not given. */
export const DEFAULT_LIST_LIMIT = 50;
/** Largest page `listSessions` / `listRuns` return. */
export const MAX_LIST_LIMIT = 1000;

/**
 * Checks the fields a store relies on before saving, so a malformed session fails the same
 * way in every store instead of as a storage-specific constraint error.
 */
export function validateSession(session: Session): void {
  const fields: Readonly<Record<string, unknown>> = { ...session };
  const details = { id: fields.id };
  for (const field of ["id", "agentId", "createdAt", "updatedAt"])
    requireText(fields, field, "session", details);
  requireStatus(fields, SESSION_STATUSES, "session");
  for (const field of ["metadata", "context"]) requireObject(fields, field, "session", details);
  if (!Array.isArray(session.tags) || !session.tags.every((tag) => typeof tag === "string")) {
    throw validationError("session tags must be an array of strings", { field: "tags", id: session.id });
  }
}

export function validateRun(run: Run, options: SaveRunOptions = {}): void {
  const fields: Readonly<Record<string, unknown>> = { ...run };
  const details = { id: fields.id };
  for (const field of ["id", "sessionId", "createdAt"]) requireText(fields, field, "run", details);
  requireStatus(fields, RUN_STATUSES, "run");
  for (const field of ["input", "metadata", "tokenUsage", "providerMetadata"]) {
    requireObject(fields, field, "run", details);
  }
  if (!Number.isInteger(run.turnCount) || run.turnCount < 0) {
    throw validationError("run turnCount must be a non-negative integer", { field: "turnCount", id: run.id });
  }
  if (options.expectedStatus !== undefined && !RUN_STATUSES.includes(options.expectedStatus)) {
    throw validationError("expectedStatus must be a run status", {
      field: "expectedStatus",
      value: options.expectedStatus,
    });
  }
}

export interface NormalizedSessionListQuery {
  status: SessionStatus | undefined;
  agentId: string | undefined;
  limit: number;
}

export function normalizeSessionListQuery(query: SessionListQuery = {}): NormalizedSessionListQuery {
  if (query.status !== undefined && !SESSION_STATUSES.includes(query.status)) {
    throw validationError("status must be a session status", { field: "status", value: query.status });
  }
  if (query.agentId !== undefined && typeof query.agentId !== "string") {
    throw validationError("agentId must be a string", { field: "agentId", value: query.agentId });
  }
  return { status: query.status, agentId: query.agentId, limit: normalizeListLimit(query.limit) };
}

export interface NormalizedRunListQuery {
  status: RunStatus | undefined;
  limit: number;
}

export function normalizeRunListQuery(query: RunListQuery = {}): NormalizedRunListQuery {
  if (query.status !== undefined && !RUN_STATUSES.includes(query.status)) {
    throw validationError("status must be a run status", { field: "status", value: query.status });
  }
  return { status: query.status, limit: normalizeListLimit(query.limit) };
}

function normalizeListLimit(limit: number = DEFAULT_LIST_LIMIT): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw validationError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`, {
      field: "limit",
      value: limit,
      max: MAX_LIST_LIMIT,
    });
  }
  return limit;
}

function requireStatus(
  fields: Readonly<Record<string, unknown>>,
  statuses: readonly string[],
  entity: string,
): void {
  const { status } = fields;
  if (typeof status !== "string" || !statuses.includes(status)) {
    throw validationError(`${entity} status must be one of ${statuses.join(", ")}`, {
      id: fields.id,
      field: "status",
      value: status,
    });
  }
}
