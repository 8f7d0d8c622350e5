import type { EventType } from "../core/events.js";
import type { RunOwner } from "../core/run.js";
import type { SessionStatus } from "../core/session.js";

/** What retention keeps and removes. Every rule is off unless given. */
export interface RetentionPolicy {
  /**
   * Soft-delete sessions whose last update is older than this many days, per status
   * (e.g. `{ completed: 90, failed: 30 }`). Statuses not listed are kept.
   */
  maxAgeDays?: Partial<Record<SessionStatus, number>>;
  /** Sessions with any of these tags are never soft-deleted. Default `["pinned"]`. */
  exemptTags?: readonly string[];
  /** Hard-delete (cascade) sessions soft-deleted more than this many days ago. */
  hardDeleteAfterDays?: number;
  /**
   * Per session, keep only the last `keepLast` events of each listed type; older ones are
   * deleted. Sequence numbers of the remaining events never change.
   */
  pruneEvents?: { types: readonly EventType[]; keepLast: number };
}

export interface RetentionReport {
  sessionsSoftDeleted: number;
  sessionsHardDeleted: number;
  eventsPruned: number;
  durationMs: number;
}

/** One problem the health check found. */
export interface HealthIssue {
  kind: "sequence_gap" | "sequence_counter_mismatch" | "orphaned_run" | "orphaned_event" | "stuck_run";
  sessionId?: string;
  runId?: string;
  message: string;
}

export interface HealthReport {
  ok: boolean;
  issues: HealthIssue[];
  checkedAt: string;
}

export interface HealthCheckOptions {
  /** A run `running` for longer than this is reported as stuck. Default 1 hour. */
  stuckAfterMs?: number;
}

export interface RecoveryOptions {
  /**
   * Whether the process that owns a run (or runs a one-shot session) is alive. Default: on the
   * same host, a signal-0 probe of its pid; an owner on another host counts as alive (it cannot
   * be probed from here).
   */
  isOwnerAlive?: (owner: RunOwner) => boolean;
}

export interface RecoveryReport {
  /**
   * Runs that were `running` with a dead owner, or `pending` in a one-shot session whose process
   * died, now `failed` with a terminal event.
   */
  recoveredRunIds: string[];
  /** One-shot sessions whose process died, now `failed` with a `session_failed` event. */
  recoveredSessionIds: string[];
}

/**
 * Keeping a store healthy over time. Nothing here runs on a schedule by itself; a store runs
 * `recoverOrphanedRuns` when it opens (unless told not to).
 */
export interface Maintenance {
  applyRetention(policy: RetentionPolicy): Promise<RetentionReport>;
  healthCheck(options?: HealthCheckOptions): Promise<HealthReport>;
  /**
   * Fails runs left `running` by a process that died (crash, SIGKILL), each with
   * `error.code: "internal_error"`, a reason naming the dead owner, and one `run_failed` event.
   * Then fails the one-shot sessions (`runOnce`, `asm run`) whose process died, which nothing
   * else could end: their runs that never started get a `run_failed`, the session one
   * `session_failed` with the reason. Long-lived sessions stay as they are.
   */
  recoverOrphanedRuns(options?: RecoveryOptions): Promise<RecoveryReport>;
}
