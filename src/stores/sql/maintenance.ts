import { AsmError } from "../../core/errors.js";
import type { AsmEvent, EventDraft } from "../../core/events.js";
import { newId } from "../../core/ids.js";
import { type Run, type RunOwner, transitionRun } from "../../core/run.js";
import { ONE_SHOT_OWNER_KEY, oneShotOwner, type Session, transitionSession } from "../../core/session.js";
import type {
  HealthCheckOptions,
  HealthIssue,
  HealthReport,
  Maintenance,
  RecoveryOptions,
  RecoveryReport,
  RetentionPolicy,
  RetentionReport,
} from "../../ports/maintenance.js";
import type { SaveRunOptions } from "../../ports/session-store.js";
import { validationError } from "../shared/errors.js";
import type { SaveSessionOptions } from "../shared/records.js";
import type { SqlBackend } from "./backend.js";
import { guarded } from "./errors.js";
import { normalizeHealthCheckOptions, normalizeRetentionPolicy } from "./inputs.js";
import { isOwnerProcessAlive } from "./owner-probe.js";
import { rowToRun, rowToSession } from "./rows.js";
import { RUN_COLUMNS, SESSION_COLUMNS } from "./schema.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The last step of opening a SQL store: with `recover`, fails the runs of dead owners
 * (`recoverOrphanedRuns`), closing the store if that fails; resolves with the store.
 */
export async function recoverOnOpen<Store extends { maintenance: Maintenance; close(): Promise<void> }>(
  store: Store,
  recover: boolean,
): Promise<Store> {
  if (recover) {
    try {
      await store.maintenance.recoverOrphanedRuns();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

/**
 * The writes recovery makes through the store on the same database, so that they get its state
 * machine checks, its event sequencing and its wake-ups. `saveSession` is the store's internal
 * session save with a compare-and-set and events (the port's `saveSession` has neither).
 */
export interface RecoveryWriter {
  saveRun(run: Run, options: SaveRunOptions): Promise<AsmEvent[]>;
  saveSession(session: Session, options: SaveSessionOptions): Promise<AsmEvent[]>;
}

/** Statuses a session can still leave: a one-shot session in one of them has not ended. */
const OPEN_SESSION_STATUSES = ["pending", "active", "paused"] as const;

/**
 * The `Maintenance` of the SQL stores, one implementation for SQLite and PostgreSQL.
 *
 * How pruned events are told from lost ones: every sequence from 1 to `sessions.last_sequence`
 * was handed out exactly once, so each is either stored or was deleted. Pruning adds the number
 * of events it deletes to `sessions.pruned_events` in the same transaction (an import sets it to
 * the gaps its export had). A session is healthy when `count(events) + pruned_events` equals its
 * highest sequence, and that equals `last_sequence` — pruning always keeps the newest event of
 * each type, so the highest sequence is never pruned. Sequences are never renumbered.
 *
 * Retention writes with plain statements, not through the `SessionStore`: a hard delete does not
 * wake long-polls parked on the deleted sessions (they end at their timeout); sessions soft-deleted
 * for days are not being followed.
 */
export class SqlMaintenance implements Maintenance {
  readonly #backend: SqlBackend;
  readonly #store: RecoveryWriter;

  /** `store` writes to the same database: recovery ends runs and sessions through it. */
  constructor(backend: SqlBackend, store: RecoveryWriter) {
    this.#backend = backend;
    this.#store = store;
  }

  applyRetention(policy: RetentionPolicy): Promise<RetentionReport> {
    return this.#guard(async () => {
      const started = performance.now();
      const { maxAgeDays, exemptTags, hardDeleteAfterDays, pruneEvents } = normalizeRetentionPolicy(policy);
      const { db, flavor } = this.#backend;
      // One "now" for every step: a session soft-deleted by this call is never also hard-deleted by it.
      const now = Date.now();
      const daysAgo = (days: number): string => new Date(now - days * DAY_MS).toISOString();
      const report: RetentionReport = {
        sessionsSoftDeleted: 0,
        sessionsHardDeleted: 0,
        eventsPruned: 0,
        durationMs: 0,
      };

      if (maxAgeDays.length > 0) {
        const result = await db
          .updateTable("sessions")
          .set({ deleted_at: new Date(now).toISOString() })
          .where("sessions.deleted_at", "is", null)
          .where((eb) =>
            eb.or(
              maxAgeDays.map(([status, days]) =>
                eb.and([eb("sessions.status", "=", status), eb("sessions.updated_at", "<", daysAgo(days))]),
              ),
            ),
          )
          .$if(exemptTags.length > 0, (query) =>
            query.where(({ not, ref }) => not(flavor.hasAnyTag(ref("sessions.tags"), exemptTags))),
          )
          .executeTakeFirst();
        report.sessionsSoftDeleted = Number(result.numUpdatedRows);
      }

      if (hardDeleteAfterDays !== undefined) {
        // Runs and events go with their session: ON DELETE CASCADE.
        const result = await db
          .deleteFrom("sessions")
          .where("sessions.deleted_at", "<", daysAgo(hardDeleteAfterDays))
          .executeTakeFirst();
        report.sessionsHardDeleted = Number(result.numDeletedRows);
      }

      if (pruneEvents !== undefined) {
        const plan = flavor.planPrune(db, pruneEvents.types, pruneEvents.keepLast);
        report.eventsPruned = plan.pruned(await this.#backend.transact(plan.statements, "write"));
      }

      report.durationMs = Math.round(performance.now() - started);
      return report;
    });
  }

  healthCheck(options?: HealthCheckOptions): Promise<HealthReport> {
    return this.#guard(async () => {
      const { stuckAfterMs } = normalizeHealthCheckOptions(options);
      const { db, flavor } = this.#backend;
      const checkedAt = new Date();
      const stuckBefore = new Date(checkedAt.getTime() - stuckAfterMs).toISOString();
      const [counters, orphanedRuns, eventsWithoutSession, eventsWithoutRun, stuckRuns] =
        await this.#backend.transact(
          [
            db
              .selectFrom("sessions")
              .leftJoin("events", "events.session_id", "sessions.id")
              .select((eb) => [
                "sessions.id",
                "sessions.last_sequence",
                "sessions.pruned_events",
                eb.fn.count<number | string>("events.id").as("event_count"),
                eb.fn.max<number | string | null>("events.sequence").as("max_sequence"),
              ])
              .groupBy(["sessions.id", "sessions.last_sequence", "sessions.pruned_events"])
              // Only the sessions whose numbers disagree come back: a healthy store answers no rows.
              .having((eb) => {
                const highest = eb.fn.coalesce(eb.fn.max("events.sequence"), eb.lit(0));
                return eb.or([
                  eb(highest, "<>", eb.ref("sessions.last_sequence")),
                  eb(eb(eb.fn.count("events.id"), "+", eb.ref("sessions.pruned_events")), "<>", highest),
                ]);
              })
              .orderBy("sessions.id"),
            db
              .selectFrom("runs")
              .select(["runs.id", "runs.session_id"])
              .where(({ exists, not, selectFrom }) =>
                not(
                  exists(
                    selectFrom("sessions")
                      .select("sessions.id")
                      .whereRef("sessions.id", "=", "runs.session_id"),
                  ),
                ),
              )
              .orderBy("runs.id"),
            db
              .selectFrom("events")
              .select((eb) => ["events.session_id", eb.fn.countAll<number | string>().as("count")])
              .where(({ exists, not, selectFrom }) =>
                not(
                  exists(
                    selectFrom("sessions")
                      .select("sessions.id")
                      .whereRef("sessions.id", "=", "events.session_id"),
                  ),
                ),
              )
              .groupBy("events.session_id")
              .orderBy("events.session_id"),
            // Events whose session exists but whose run does not (the ones above are reported once).
            db
              .selectFrom("events")
              .innerJoin("sessions", "sessions.id", "events.session_id")
              .select((eb) => [
                "events.session_id",
                "events.run_id",
                eb.fn.countAll<number | string>().as("count"),
              ])
              .where("events.run_id", "is not", null)
              .where(({ exists, not, selectFrom }) =>
                not(exists(selectFrom("runs").select("runs.id").whereRef("runs.id", "=", "events.run_id"))),
              )
              .groupBy(["events.session_id", "events.run_id"])
              .orderBy("events.session_id")
              .orderBy("events.run_id"),
            db
              .selectFrom("runs")
              .select(["runs.id", "runs.session_id", "runs.started_at", "runs.created_at"])
              .where("runs.status", "=", "running")
              .where((eb) => eb(eb.fn.coalesce("runs.started_at", "runs.created_at"), "<", stuckBefore))
              .orderBy("runs.id"),
          ],
          "read",
        );

      const issues: HealthIssue[] = [];
      for (const row of counters.rows) {
        const sessionId = row.id;
        const last = flavor.number(row.last_sequence);
        const pruned = flavor.number(row.pruned_events);
        const count = flavor.number(row.event_count);
        const highest = row.max_sequence === null ? 0 : flavor.number(row.max_sequence);
        if (highest !== last) {
          issues.push({
            kind: "sequence_counter_mismatch",
            sessionId,
            message:
              highest > last
                ? `session ${sessionId}: last_sequence is ${last} but sequence ${highest} is stored; the next append would reuse ${last + 1}`
                : `session ${sessionId}: last_sequence is ${last} but the highest stored sequence is ${highest}`,
          });
        }
        const accounted = count + pruned;
        if (accounted < highest) {
          issues.push({
            kind: "sequence_gap",
            sessionId,
            message: `session ${sessionId}: ${highest - accounted} of sequences 1..${highest} are missing (${count} stored, ${pruned} pruned by retention)`,
          });
        } else if (accounted > highest) {
          issues.push({
            kind: "sequence_counter_mismatch",
            sessionId,
            message: `session ${sessionId}: ${count} events stored and ${pruned} counted as pruned, more than its ${highest} sequences`,
          });
        }
      }
      for (const row of orphanedRuns.rows) {
        issues.push({
          kind: "orphaned_run",
          sessionId: row.session_id,
          runId: row.id,
          message: `run ${row.id} belongs to session ${row.session_id}, which is not stored`,
        });
      }
      for (const row of eventsWithoutSession.rows) {
        issues.push({
          kind: "orphaned_event",
          sessionId: row.session_id,
          message: `${flavor.number(row.count)} events belong to session ${row.session_id}, which is not stored`,
        });
      }
      for (const row of eventsWithoutRun.rows) {
        const runId = row.run_id ?? "";
        issues.push({
          kind: "orphaned_event",
          sessionId: row.session_id,
          runId,
          message: `${flavor.number(row.count)} events of session ${row.session_id} refer to run ${runId}, which is not stored`,
        });
      }
      for (const row of stuckRuns.rows) {
        const since = flavor.timestamp(row.started_at ?? row.created_at);
        issues.push({
          kind: "stuck_run",
          sessionId: row.session_id,
          runId: row.id,
          message: `run ${row.id} has been running since ${since}, longer than ${stuckAfterMs} ms`,
        });
      }
      return { ok: issues.length === 0, issues, checkedAt: checkedAt.toISOString() };
    });
  }

  recoverOrphanedRuns(options: RecoveryOptions = {}): Promise<RecoveryReport> {
    return this.#guard(async () => {
      const isOwnerAlive = options.isOwnerAlive ?? ((owner) => isOwnerProcessAlive(owner));
      if (typeof isOwnerAlive !== "function") {
        throw validationError("isOwnerAlive must be a function", { field: "isOwnerAlive" });
      }
      const { db, flavor } = this.#backend;
      const rows = await db
        .selectFrom("runs")
        .select(RUN_COLUMNS)
        .where("runs.status", "=", "running")
        .orderBy("runs.created_at")
        .orderBy("runs.id")
        .execute();
      const recoveredRunIds: string[] = [];
      for (const run of rows.map((row) => rowToRun(row, flavor))) {
        if (run.owner !== undefined && isOwnerAlive(run.owner)) continue;
        if (await this.#failRun(run, run.owner, "running")) recoveredRunIds.push(run.id);
      }

      // One-shot sessions of dead processes, after their runs: so the log reads run_failed,
      // then session_failed, as when the process itself fails them.
      const sessions = await db
        .selectFrom("sessions")
        .select(SESSION_COLUMNS)
        .where("sessions.status", "in", OPEN_SESSION_STATUSES)
        .where(({ ref }) => flavor.jsonText(ref("sessions.metadata"), ONE_SHOT_OWNER_KEY), "is not", null)
        .orderBy("sessions.created_at")
        .orderBy("sessions.id")
        .execute();
      const recoveredSessionIds: string[] = [];
      for (const session of sessions.map((row) => rowToSession(row, flavor))) {
        const owner = oneShotOwner(session);
        if (owner === undefined || isOwnerAlive(owner)) continue;
        if (await this.#failOneShotSession(session, owner, recoveredRunIds)) {
          recoveredSessionIds.push(session.id);
        }
      }
      return { recoveredRunIds, recoveredSessionIds };
    });
  }

  /**
   * Fails a one-shot session whose process died, after failing its runs that never started
   * (adding them to `recoveredRunIds`). Answers whether this call ended the session; it leaves the
   * session alone while one of its runs is still running (its owner is alive), or when another
   * writer moved the session or one of its runs meanwhile.
   */
  async #failOneShotSession(session: Session, owner: RunOwner, recoveredRunIds: string[]): Promise<boolean> {
    const { db, flavor } = this.#backend;
    const unended = await db
      .selectFrom("runs")
      .select(RUN_COLUMNS)
      .where("runs.session_id", "=", session.id)
      .where("runs.status", "in", ["pending", "running"])
      .orderBy("runs.created_at")
      .orderBy("runs.id")
      .execute();
    const runs = unended.map((row) => rowToRun(row, flavor));
    if (runs.some(({ status }) => status === "running")) return false;
    for (const run of runs) {
      if (!(await this.#failRun(run, owner, "pending"))) return false;
      recoveredRunIds.push(run.id);
    }
    const { failed, event } = orphanedSessionFailure(session, owner, new Date());
    try {
      // As for runs: of concurrent recoveries, exactly one moves the session and logs session_failed.
      await this.#store.saveSession(failed, { expectedStatus: session.status, events: [event] });
      return true;
    } catch (error) {
      if (AsmError.is(error, "invalid_transition") || AsmError.is(error, "session_not_found")) return false;
      throw error;
    }
  }

  /**
   * Fails a run left `from` by a dead process, with its one `run_failed` event. Answers whether
   * this call ended it.
   */
  async #failRun(run: Run, owner: RunOwner | undefined, from: "pending" | "running"): Promise<boolean> {
    const { failed, event } = orphanedRunFailure(run, new Date(), owner);
    try {
      // The compare-and-set is what makes recovery safe to run anywhere, any number of times at
      // once: exactly one writer ends the run and writes its one terminal event; the others find
      // it ended and leave it.
      await this.#store.saveRun(failed, { expectedStatus: from, events: [event] });
      return true;
    } catch (error) {
      // Ended meanwhile: by its own process, by another recovery, or deleted with its session.
      if (AsmError.is(error, "invalid_transition") || AsmError.is(error, "run_not_found")) return false;
      if (AsmError.is(error, "session_not_found")) return false;
      throw error;
    }
  }

  #guard<T>(work: () => Promise<T>): Promise<T> {
    return guarded(this.#backend, "maintenance_error", work);
  }
}

/**
 * The run failed with `internal_error` naming the dead process — its owner when it was running,
 * the process of its one-shot session (`owner`) when it never started — and its `run_failed`
 * event. Built from core helpers, as the SessionManager builds its drafts (stores cannot import
 * the manager).
 */
export function orphanedRunFailure(
  run: Run,
  now: Date,
  owner: RunOwner | undefined = run.owner,
): { failed: Run; event: EventDraft } {
  const message =
    owner === undefined
      ? "the run was left running with no recorded owner process, so no process can end it"
      : run.status === "pending"
        ? `the process running this run's one-shot session (pid ${owner.pid} on host ${owner.hostname}) exited before the run started`
        : `the process executing this run (pid ${owner.pid} on host ${owner.hostname}) exited before the run ended`;
  const details = { owner: owner === undefined ? null : { hostname: owner.hostname, pid: owner.pid } };
  const failed: Run = {
    ...transitionRun(run, "failed", now),
    error: { code: "internal_error", message, details },
  };
  const event: EventDraft = {
    id: newId("evt", now.getTime()),
    type: "run_failed",
    sessionId: run.sessionId,
    runId: run.id,
    ...(run.provider === undefined ? {} : { provider: run.provider }),
    timestamp: now.toISOString(),
    data: { errorCode: "internal_error", errorMessage: message, details },
    metadata: {},
  };
  return { failed, event };
}

/** A one-shot session failed for its dead process, and its `session_failed` event. */
export function orphanedSessionFailure(
  session: Session,
  owner: RunOwner,
  now: Date,
): { failed: Session; event: EventDraft } {
  const message = `the process running this one-shot session (pid ${owner.pid} on host ${owner.hostname}) exited before the session ended`;
  const details = { owner: { hostname: owner.hostname, pid: owner.pid } };
  const event: EventDraft = {
    id: newId("evt", now.getTime()),
    type: "session_failed",
    sessionId: session.id,
    timestamp: now.toISOString(),
    data: { errorCode: "internal_error", errorMessage: message, details },
    metadata: {},
  };
  return { failed: transitionSession(session, "failed", now), event };
}
