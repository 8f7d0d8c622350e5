import type { AsmEvent, EventType } from "../core/events.js";
import type { Run, RunStatus } from "../core/run.js";
import type { Session, SessionStatus } from "../core/session.js";
import type { TokenUsage } from "../core/token-usage.js";

/** One page of results and the opaque cursor of the next page (`undefined` on the last). */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface SessionSearch {
  agentId?: string;
  status?: SessionStatus | readonly SessionStatus[];
  /** Sessions with at least one run executed by this provider. */
  provider?: string;
  /** Sessions carrying every one of these tags. */
  tags?: readonly string[];
  /** Inclusive bounds on `createdAt` (ISO 8601). */
  createdAfter?: string;
  createdBefore?: string;
  /** Include soft-deleted sessions. Default false. */
  includeDeleted?: boolean;
  /** Default `created_desc`. */
  orderBy?: "created_desc" | "created_asc" | "updated_desc";
  /** Default 50, at most 1000. */
  limit?: number;
  /** From a previous page; must come from a search with the same `orderBy` (`invalid_cursor`). */
  cursor?: string;
}

export interface SessionStats {
  sessionId: string;
  runCount: number;
  /** Runs by status. */
  runStatuses: Partial<Record<RunStatus, number>>;
  eventCount: number;
  tokenUsage: TokenUsage;
  /** Sum of the runs' known costs; `unpricedRuns` counts finished runs whose cost is unknown. */
  costUsd: number;
  unpricedRuns: number;
  providers: string[];
  firstEventAt?: string;
  lastEventAt?: string;
  /** From the first run's start to the last run's end, in ms. */
  durationMs?: number;
}

export interface UsageFilter {
  sessionId?: string;
  agentId?: string;
  provider?: string;
  /** Inclusive bounds on the run's `createdAt`. */
  since?: string;
  until?: string;
}

export interface UsageTotals {
  runCount: number;
  tokenUsage: TokenUsage;
  costUsd: number;
  /** Finished runs whose cost is unknown (`costUsd: null`: no price for their model). */
  unpricedRuns: number;
}

/** Usage and cost of runs, in total and grouped by provider and by model. */
export interface UsageSummary extends UsageTotals {
  byProvider: Record<string, UsageTotals>;
  /** Keyed by `providerMetadata.model`; runs without a model fall under `"unknown"`. */
  byModel: Record<string, UsageTotals>;
}

export interface EventSearch {
  sessionIds?: readonly string[];
  runIds?: readonly string[];
  types?: readonly EventType[];
  providers?: readonly string[];
  /** Inclusive bounds on `timestamp`. */
  since?: string;
  until?: string;
  /** Default `timestamp_asc`. */
  orderBy?: "timestamp_asc" | "timestamp_desc";
  /** Default 100, at most 1000. */
  limit?: number;
  cursor?: string;
}

/** An artifact a session refers to (its body stays in the artifact store). */
export interface ArtifactRef {
  key: string;
  size?: number;
  sha256?: string;
}

/** A whole session, portable between stores. */
export interface SessionExport {
  format: "agent-session-manager/session";
  version: 1;
  exportedAt: string;
  session: Session;
  runs: Run[];
  /** Every event in sequence order, sequences as stored (gaps from pruning kept). */
  events: AsmEvent[];
  artifacts: ArtifactRef[];
}

/**
 * Questions across sessions, answered by the database. Every method rejects with an
 * `AsmError` (`validation_error`, `invalid_cursor`, `session_not_found`, `query_error`, …).
 */
export interface QueryApi {
  searchSessions(search?: SessionSearch): Promise<Page<Session>>;
  getSessionStats(sessionId: string): Promise<SessionStats>;
  getUsageSummary(filter?: UsageFilter): Promise<UsageSummary>;
  searchEvents(search?: EventSearch): Promise<Page<AsmEvent>>;
  /** The session with its runs, every event and the artifact keys its events mention. */
  exportSession(sessionId: string): Promise<SessionExport>;
  /**
   * Writes an export into this store exactly (ids and sequences kept), atomically.
   * An existing session id is `already_exists`; a malformed export is `validation_error`.
   */
  importSession(data: SessionExport): Promise<{ sessionId: string }>;
}
