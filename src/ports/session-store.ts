import type { AsmEvent, EventDraft, EventType } from "../core/events.js";
import type { Run, RunStatus } from "../core/run.js";
import type { Session, SessionStatus } from "../core/session.js";

/**
 * The `SessionStore` contract this package drives. A store declares the one it implements, so a
 * store written against another version is refused up front instead of being misdriven.
 */
export const SESSION_STORE_SPECIFICATION = "v1";

/** Largest page `getEvents` returns in one call. */
export const MAX_EVENT_PAGE = 1000;
/** Page size of `getEvents` when `limit` is not given. */
export const DEFAULT_EVENT_PAGE = 100;

/** Filters for `getEvents`. All given filters combine with AND. */
export interface EventQuery {
  /** Only events with `sequence > after`. Default 0. A cursor past the log's end is `invalid_cursor`. */
  after?: number;
  /** Only events with `sequence < before`. */
  before?: number;
  /** At most this many events, the lowest sequences first. Default 100, at most 1000. */
  limit?: number;
  /** Only events of this run. */
  runId?: string;
  /** Only events of these types. */
  types?: readonly EventType[];
  /** Only events with `timestamp >= since` (ISO 8601). */
  since?: string;
  /**
   * When no event matches yet, wait up to this long for one to be appended, then answer
   * (possibly with `[]`). Default 0: answer at once.
   */
  waitTimeoutMs?: number;
  /** Aborts a long-poll early; the call then resolves with `[]`. */
  signal?: AbortSignal;
}

export interface SessionListQuery {
  status?: SessionStatus;
  agentId?: string;
  /** Default 50, at most 1000. Newest first. */
  limit?: number;
}

export interface RunListQuery {
  status?: RunStatus;
  /** Default 50, at most 1000. Oldest first. */
  limit?: number;
}

export interface SaveRunOptions {
  /**
   * Optimistic concurrency: save only if the stored run still has this status, else throw
   * `invalid_transition` with `details.actual` and write nothing. This is how exactly one
   * writer gets to start a run, and exactly one gets to end it.
   */
  expectedStatus?: RunStatus;
  /**
   * Events appended in the same transaction as the run (e.g. the run's terminal event), so a
   * reader never sees a finished run without its terminal event, or the other way round.
   */
  events?: readonly EventDraft[];
}

/**
 * Durable sessions, runs and the per-session event log.
 *
 * Every method rejects with an `AsmError`. Storage failures use the storage codes
 * (`storage_error`, `storage_busy`, `storage_corrupt`, `storage_connection_failed`, …).
 */
export interface SessionStore {
  /** `SESSION_STORE_SPECIFICATION`. */
  readonly specificationVersion: typeof SESSION_STORE_SPECIFICATION;
  /**
   * Insert or replace a session by id. Never changes the session's event log. The move from the
   * stored status must be in `SESSION_TRANSITIONS` (or keep the status); a new session must be
   * `pending`. Otherwise `invalid_transition` (`details.id`, `from`, `to`) and nothing is written.
   */
  saveSession(session: Session): Promise<void>;
  /** Rejects with `session_not_found`. */
  getSession(sessionId: string): Promise<Session>;
  /** Sessions matching the query, most recently created first. */
  listSessions(query?: SessionListQuery): Promise<Session[]>;
  /** Deletes the session with its runs and events. Deleting a missing session is a no-op. */
  deleteSession(sessionId: string): Promise<void>;

  /**
   * Insert or replace a run, atomically with `options.events`; returns those events as stored
   * (empty when none were given). Its session must exist (`session_not_found`). The move from the
   * stored status is checked as for `saveSession` (`RUN_TRANSITIONS`; a new run is `pending`).
   */
  saveRun(run: Run, options?: SaveRunOptions): Promise<AsmEvent[]>;
  /** Rejects with `run_not_found`. */
  getRun(runId: string): Promise<Run>;
  /** Runs of a session, oldest first. */
  listRuns(sessionId: string, query?: RunListQuery): Promise<Run[]>;

  /**
   * Appends one event and returns it with its sequence: the session's previous highest plus one,
   * starting at 1, contiguous, unique even under concurrent writers. Appending an id that is
   * already stored returns the stored event unchanged (idempotent retry). The session must exist
   * (`session_not_found`); an unknown `type` is `invalid_event_type`.
   */
  appendEvent(event: EventDraft): Promise<AsmEvent>;
  /**
   * Appends events atomically (all or none), keeping their order; same rules as `appendEvent`,
   * per event. Returns the stored events in input order.
   */
  appendEvents(events: readonly EventDraft[]): Promise<AsmEvent[]>;
  /** Events of one session in ascending sequence order, filtered by `query`. */
  getEvents(sessionId: string, query?: EventQuery): Promise<AsmEvent[]>;
  /** The highest sequence in the session's log, 0 when it has none. */
  getLatestSequence(sessionId: string): Promise<number>;

  /** Releases connections and wakes pending long-polls with `[]`. Idempotent. */
  close(): Promise<void>;
}
