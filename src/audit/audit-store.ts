import { AsmError } from "../core/errors.js";
import type { JsonObject } from "../core/session.js";

/** What an audit entry records. */
export const AUDIT_ACTIONS = [
  "session_created",
  "session_completed",
  "session_failed",
  "session_cancelled",
  "run_submitted",
  "run_cancelled",
  "run_interrupted",
  "approval_decided",
  "policy_attached",
  "maintenance_executed",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One line of the audit trail: who did what, when, to which session or run. */
export interface AuditEntry {
  /** Unique; appending an id that is stored already changes nothing (one entry per fact). */
  id: string;
  /** Position in the trail, 1, 2, 3…, assigned by the store: the cursor of `AuditQuery.after`. */
  sequence: number;
  /** ISO 8601 UTC. */
  at: string;
  action: AuditAction;
  /** Who did it (`withActor`, the trail's `actor`, an approval's `by`); absent when unknown. */
  actor?: string;
  sessionId?: string;
  runId?: string;
  /** The facts of the action (a reason, a decision, a policy, a report), redacted. */
  details: JsonObject;
}

/** An entry to append: the store assigns its sequence. */
export type AuditEntryDraft = Omit<AuditEntry, "sequence">;

/** Filters for `AuditStore.query`; all given filters combine with AND. */
export interface AuditQuery {
  /** Only entries with `sequence > after`. Default 0. */
  after?: number;
  /** At most this many, lowest sequence first. Default 100, at most 1000. */
  limit?: number;
  actions?: readonly AuditAction[];
  sessionId?: string;
  runId?: string;
  actor?: string;
  /** Only entries with `at >= since` (ISO 8601). */
  since?: string;
  /** Only entries with `at < until` (ISO 8601). */
  until?: string;
}

/** Largest page `AuditStore.query` returns. */
export const MAX_AUDIT_PAGE = 1000;
const DEFAULT_AUDIT_PAGE = 100;

/**
 * Where audit entries are kept: append-only, beside the session log (never inside it), so
 * retention and deletion of sessions leave the trail of what happened to them.
 */
export interface AuditStore {
  /** Appends entries in order, atomically; ids already stored are skipped. */
  append(entries: readonly AuditEntryDraft[]): Promise<void>;
  query(query?: AuditQuery): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/** A query with its defaults applied and checked (`validation_error`). */
export function normalizeAuditQuery(
  query: AuditQuery = {},
): Required<Pick<AuditQuery, "after" | "limit">> & AuditQuery {
  const { after = 0, limit = DEFAULT_AUDIT_PAGE } = query;
  if (!Number.isInteger(after) || after < 0) {
    throw new AsmError("validation_error", "after must be a non-negative integer", { details: { after } });
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
    throw new AsmError("validation_error", `limit must be an integer from 1 to ${MAX_AUDIT_PAGE}`, {
      details: { limit },
    });
  }
  return { ...query, after, limit };
}

/** Whether `entry` passes the query's filters (cursor and limit aside). */
export function matchesAuditQuery(entry: AuditEntry, query: AuditQuery): boolean {
  return (
    (query.actions === undefined || query.actions.includes(entry.action)) &&
    (query.sessionId === undefined || entry.sessionId === query.sessionId) &&
    (query.runId === undefined || entry.runId === query.runId) &&
    (query.actor === undefined || entry.actor === query.actor) &&
    (query.since === undefined || entry.at >= query.since) &&
    (query.until === undefined || entry.at < query.until)
  );
}

/** An audit store in memory, for tests and processes that export their trail before exiting. */
export class MemoryAuditStore implements AuditStore {
  private readonly entries: AuditEntry[] = [];
  private readonly ids = new Set<string>();

  async append(entries: readonly AuditEntryDraft[]): Promise<void> {
    for (const entry of entries) {
      if (this.ids.has(entry.id)) continue;
      this.ids.add(entry.id);
      this.entries.push(structuredClone({ ...entry, sequence: this.entries.length + 1 }));
    }
  }

  async query(query?: AuditQuery): Promise<AuditEntry[]> {
    const normalized = normalizeAuditQuery(query);
    const found: AuditEntry[] = [];
    for (const entry of this.entries) {
      if (found.length >= normalized.limit) break;
      if (entry.sequence > normalized.after && matchesAuditQuery(entry, normalized))
        found.push(structuredClone(entry));
    }
    return found;
  }

  async close(): Promise<void> {}
}
