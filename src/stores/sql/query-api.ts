import { expressionBuilder } from "kysely";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import type { RunStatus } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import type {
  ArtifactRef,
  EventSearch,
  Page,
  QueryApi,
  SessionExport,
  SessionSearch,
  SessionStats,
  UsageFilter,
  UsageSummary,
} from "../../ports/query-api.js";
import { sessionNotFound, validationError } from "../shared/errors.js";
import type { SqlBackend } from "./backend.js";
import { encodeCursor } from "./cursor.js";
import { guarded } from "./errors.js";
import { parseSessionExport } from "./export-format.js";
import { normalizeEventSearch, normalizeSessionSearch, normalizeUsageFilter } from "./inputs.js";
import { eventToRow, rowToEvent, rowToRun, rowToSession, runToRow, sessionToRow } from "./rows.js";
import { type AsmDatabase, EVENT_COLUMNS, RUN_COLUMNS, SESSION_COLUMNS } from "./schema.js";
import { addUsageTotals, EMPTY_USAGE_TOTALS, toUsageTotals, usageSelection } from "./usage.js";

/**
 * Fields of an event's `data` that name an artifact by its key; `exportSession` lists every key
 * found there (top level of `data` only, string values). `patchRef` is where a workspace diff
 * records its stored patch; `artifactKey` is the general convention for any other artifact.
 */
export const ARTIFACT_KEY_FIELDS = ["patchRef", "artifactKey"] as const;

/** Rows per multi-row INSERT on import: 9–16 parameters a row stays far below both databases' limits. */
const IMPORT_CHUNK_ROWS = 500;

/**
 * The `QueryApi` of the SQL stores, one implementation for SQLite and PostgreSQL: every filter,
 * aggregate and page is computed by the database, and what the two write differently goes
 * through the backend's `SqlFlavor`.
 *
 * - Pages use keyset cursors (see `cursor.ts`): `(sort value, id)` strictly after the last item,
 *   ordered by the same pair, so equal timestamps never skip or repeat an item.
 * - Timestamp filters compare with the stored values, which the library writes with
 *   `toISOString()`; bounds are normalized to that form.
 * - Usage counts the runs of soft-deleted sessions too: what was spent stays spent. Runs without
 *   a provider (never started) group under `"unknown"` in `byProvider`, as runs without a model
 *   do in `byModel`; `unpricedRuns` counts finished runs whose `costUsd` is null.
 * - Stats and exports read in one transaction, so they describe one moment of the log.
 */
export class SqlQueryApi implements QueryApi {
  readonly #backend: SqlBackend;

  constructor(backend: SqlBackend) {
    this.#backend = backend;
  }

  searchSessions(search?: SessionSearch): Promise<Page<Session>> {
    return this.#guard(async () => {
      const criteria = normalizeSessionSearch(search);
      const { db, flavor } = this.#backend;
      const column = criteria.orderBy === "updated_desc" ? "updated_at" : "created_at";
      const direction = criteria.orderBy === "created_asc" ? "asc" : "desc";
      const { agentId, statuses, provider, tags, createdAfter, createdBefore, after } = criteria;
      const rows = await db
        .selectFrom("sessions")
        .select(SESSION_COLUMNS)
        .$if(!criteria.includeDeleted, (query) => query.where("sessions.deleted_at", "is", null))
        .$if(agentId !== undefined, (query) => query.where("sessions.agent_id", "=", agentId ?? ""))
        .$if(statuses !== undefined, (query) => query.where("sessions.status", "in", statuses ?? []))
        .$if(provider !== undefined, (query) =>
          query.where(({ exists, selectFrom }) =>
            exists(
              selectFrom("runs")
                .select("runs.id")
                .whereRef("runs.session_id", "=", "sessions.id")
                .where("runs.provider", "=", provider ?? ""),
            ),
          ),
        )
        .$if(tags !== undefined, (query) =>
          query.where(({ ref }) => flavor.hasAllTags(ref("sessions.tags"), tags ?? [])),
        )
        .$if(createdAfter !== undefined, (query) =>
          query.where("sessions.created_at", ">=", createdAfter ?? ""),
        )
        .$if(createdBefore !== undefined, (query) =>
          query.where("sessions.created_at", "<=", createdBefore ?? ""),
        )
        .$if(after !== undefined, (query) =>
          query.where(({ eb, refTuple, tuple }) =>
            eb(
              refTuple(`sessions.${column}`, "sessions.id"),
              direction === "asc" ? ">" : "<",
              tuple(after?.value ?? "", after?.id ?? ""),
            ),
          ),
        )
        .orderBy(`sessions.${column}`, direction)
        .orderBy("sessions.id", direction)
        .limit(criteria.limit + 1)
        .execute();
      return toPage(
        rows.map((row) => rowToSession(row, flavor)),
        criteria.limit,
        (session) =>
          encodeCursor(criteria.orderBy, {
            value: column === "updated_at" ? session.updatedAt : session.createdAt,
            id: session.id,
          }),
      );
    });
  }

  getSessionStats(sessionId: string): Promise<SessionStats> {
    return this.#guard(async () => {
      requireId(sessionId, "sessionId");
      const { db, flavor } = this.#backend;
      const runs = db.selectFrom("runs").where("runs.session_id", "=", sessionId);
      const [session, statuses, usage, providers, events] = await this.#backend.transact(
        [
          db.selectFrom("sessions").select("sessions.id").where("sessions.id", "=", sessionId),
          runs
            .select((eb) => ["runs.status", eb.fn.countAll<number | string>().as("count")])
            .groupBy("runs.status"),
          runs.select((eb) => [
            ...usageSelection(eb, flavor),
            eb.fn.min("runs.started_at").as("first_started_at"),
            eb.fn.max("runs.ended_at").as("last_ended_at"),
          ]),
          runs
            .select("runs.provider")
            .distinct()
            .where("runs.provider", "is not", null)
            .orderBy("runs.provider"),
          db
            .selectFrom("events")
            .select((eb) => [
              eb.fn.countAll<number | string>().as("count"),
              eb.fn.min("events.timestamp").as("first_at"),
              eb.fn.max("events.timestamp").as("last_at"),
            ])
            .where("events.session_id", "=", sessionId),
        ],
        "read",
      );
      if (session.rows.length === 0) throw sessionNotFound(sessionId);
      const sums = usage.rows[0];
      const totals = sums === undefined ? EMPTY_USAGE_TOTALS : toUsageTotals(sums, flavor);
      const eventSums = events.rows[0];
      const firstStart = sums?.first_started_at ?? null;
      const lastEnd = sums?.last_ended_at ?? null;
      const runStatuses: Partial<Record<RunStatus, number>> = {};
      // Only validated statuses are ever written.
      for (const row of statuses.rows) runStatuses[row.status as RunStatus] = flavor.number(row.count);
      return {
        sessionId,
        runCount: totals.runCount,
        runStatuses,
        eventCount: eventSums === undefined ? 0 : flavor.number(eventSums.count),
        tokenUsage: totals.tokenUsage,
        costUsd: totals.costUsd,
        unpricedRuns: totals.unpricedRuns,
        providers: providers.rows.flatMap(({ provider }) => (provider === null ? [] : [provider])),
        ...(eventSums?.first_at == null ? {} : { firstEventAt: flavor.timestamp(eventSums.first_at) }),
        ...(eventSums?.last_at == null ? {} : { lastEventAt: flavor.timestamp(eventSums.last_at) }),
        ...(firstStart === null || lastEnd === null
          ? {}
          : {
              durationMs: Date.parse(flavor.timestamp(lastEnd)) - Date.parse(flavor.timestamp(firstStart)),
            }),
      };
    });
  }

  getUsageSummary(filter?: UsageFilter): Promise<UsageSummary> {
    return this.#guard(async () => {
      const { sessionId, agentId, provider, since, until } = normalizeUsageFilter(filter);
      const { db, flavor } = this.#backend;
      const model = flavor.jsonText(
        expressionBuilder<AsmDatabase, "runs">().ref("runs.provider_metadata"),
        "model",
      );
      // One row per (provider, model); the totals and both groupings are sums of these rows.
      const groups = await db
        .selectFrom("runs")
        .select((eb) => ["runs.provider", model.as("model"), ...usageSelection(eb, flavor)])
        .$if(sessionId !== undefined, (query) => query.where("runs.session_id", "=", sessionId ?? ""))
        .$if(agentId !== undefined, (query) =>
          query.where("runs.session_id", "in", (eb) =>
            eb
              .selectFrom("sessions")
              .select("sessions.id")
              .where("sessions.agent_id", "=", agentId ?? ""),
          ),
        )
        .$if(provider !== undefined, (query) => query.where("runs.provider", "=", provider ?? ""))
        .$if(since !== undefined, (query) => query.where("runs.created_at", ">=", since ?? ""))
        .$if(until !== undefined, (query) => query.where("runs.created_at", "<=", until ?? ""))
        .groupBy(["runs.provider", model])
        .execute();
      let summary: UsageSummary = { ...EMPTY_USAGE_TOTALS, byProvider: {}, byModel: {} };
      for (const group of groups) {
        const totals = toUsageTotals(group, flavor);
        const providerKey = group.provider ?? "unknown";
        const modelKey = group.model === null ? "unknown" : String(group.model);
        summary = {
          ...addUsageTotals(summary, totals),
          byProvider: {
            ...summary.byProvider,
            [providerKey]: addUsageTotals(summary.byProvider[providerKey] ?? EMPTY_USAGE_TOTALS, totals),
          },
          byModel: {
            ...summary.byModel,
            [modelKey]: addUsageTotals(summary.byModel[modelKey] ?? EMPTY_USAGE_TOTALS, totals),
          },
        };
      }
      return summary;
    });
  }

  searchEvents(search?: EventSearch): Promise<Page<AsmEvent>> {
    return this.#guard(async () => {
      const criteria = normalizeEventSearch(search);
      const { db, flavor } = this.#backend;
      const direction = criteria.orderBy === "timestamp_asc" ? "asc" : "desc";
      const { sessionIds, runIds, types, providers, since, until, after } = criteria;
      const rows = await db
        .selectFrom("events")
        .select(EVENT_COLUMNS)
        .$if(sessionIds !== undefined, (query) => query.where("events.session_id", "in", sessionIds ?? []))
        .$if(runIds !== undefined, (query) => query.where("events.run_id", "in", runIds ?? []))
        .$if(types !== undefined, (query) => query.where("events.type", "in", types ?? []))
        .$if(providers !== undefined, (query) => query.where("events.provider", "in", providers ?? []))
        .$if(since !== undefined, (query) => query.where("events.timestamp", ">=", since ?? ""))
        .$if(until !== undefined, (query) => query.where("events.timestamp", "<=", until ?? ""))
        .$if(after !== undefined, (query) =>
          query.where(({ eb, refTuple, tuple }) =>
            eb(
              refTuple("events.timestamp", "events.id"),
              direction === "asc" ? ">" : "<",
              tuple(after?.value ?? "", after?.id ?? ""),
            ),
          ),
        )
        .orderBy("events.timestamp", direction)
        .orderBy("events.id", direction)
        .limit(criteria.limit + 1)
        .execute();
      return toPage(
        rows.map((row) => rowToEvent(row, flavor)),
        criteria.limit,
        (event) => encodeCursor(criteria.orderBy, { value: event.timestamp, id: event.id }),
      );
    });
  }

  exportSession(sessionId: string): Promise<SessionExport> {
    return this.#guard(async () => {
      requireId(sessionId, "sessionId");
      const { db, flavor } = this.#backend;
      // One snapshot: no event appended meanwhile can show up without its run, or the other way.
      const [sessions, runs, events] = await this.#backend.transact(
        [
          db.selectFrom("sessions").select(SESSION_COLUMNS).where("sessions.id", "=", sessionId),
          db
            .selectFrom("runs")
            .select(RUN_COLUMNS)
            .where("runs.session_id", "=", sessionId)
            .orderBy("runs.created_at")
            .orderBy("runs.id"),
          db
            .selectFrom("events")
            .select(EVENT_COLUMNS)
            .where("events.session_id", "=", sessionId)
            .orderBy("events.sequence"),
        ],
        "read",
      );
      const [session] = sessions.rows;
      if (session === undefined) throw sessionNotFound(sessionId);
      const log = events.rows.map((row) => rowToEvent(row, flavor));
      return {
        format: "agent-session-manager/session",
        version: 1,
        exportedAt: new Date().toISOString(),
        session: rowToSession(session, flavor),
        runs: runs.rows.map((row) => rowToRun(row, flavor)),
        events: log,
        artifacts: artifactRefs(log),
      };
    });
  }

  importSession(data: SessionExport): Promise<{ sessionId: string }> {
    return this.#guard(async () => {
      const { session, runs, events } = parseSessionExport(data);
      const { db, flavor } = this.#backend;
      const existing = await db
        .selectFrom("sessions")
        .select("sessions.id")
        .where("sessions.id", "=", session.id)
        .executeTakeFirst();
      if (existing !== undefined) throw alreadyExists(`session ${session.id} already exists`, session.id);
      const lastSequence = events.at(-1)?.sequence ?? 0;
      // Plain inserts, deliberately not saveSession/saveRun: an import copies history as it was
      // (a completed session, ended runs), a create of records that already lived their lifecycle
      // elsewhere, not a transition; the state machines' checks do not apply.
      const statements = [
        db.insertInto("sessions").values({
          ...sessionToRow(session),
          // The next append continues after the highest sequence; the missing ones were pruned
          // where the export came from (sequences are kept as exported), so they are not a gap here.
          last_sequence: lastSequence,
          pruned_events: lastSequence - events.length,
        }),
        ...chunks(runs.map(runToRow)).map((rows) => db.insertInto("runs").values(rows)),
        ...chunks(events.map(eventToRow)).map((rows) => db.insertInto("events").values(rows)),
      ];
      try {
        await this.#backend.transact(statements, "write");
      } catch (error) {
        // Lost a race for the session id, or a run or event id is taken by another session.
        if (flavor.isUniqueViolation(error)) {
          throw alreadyExists(
            `session ${session.id} cannot be imported: it, or one of its run or event ids, already exists`,
            session.id,
            error,
          );
        }
        throw error;
      }
      return { sessionId: session.id };
    });
  }

  #guard<T>(work: () => Promise<T>): Promise<T> {
    return guarded(this.#backend, "query_error", work);
  }
}

function toPage<T>(items: readonly T[], limit: number, cursorOf: (item: T) => string): Page<T> {
  // One row more than the page was read: its presence says whether a next page exists.
  const page = items.slice(0, limit);
  const last = page.at(-1);
  return items.length > limit && last !== undefined
    ? { items: page, nextCursor: cursorOf(last) }
    : { items: page };
}

function requireId(value: unknown, field: string): void {
  if (typeof value !== "string" || value === "") {
    throw validationError(`${field} must be a non-empty string`, { field, value });
  }
}

function artifactRefs(events: readonly AsmEvent[]): ArtifactRef[] {
  const keys = new Set<string>();
  for (const event of events) {
    const data: Readonly<Record<string, unknown>> = event.data;
    for (const field of ARTIFACT_KEY_FIELDS) {
      const key = data[field];
      if (typeof key === "string" && key !== "") keys.add(key);
    }
  }
  return [...keys].map((key) => ({ key }));
}

function chunks<T>(rows: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < rows.length; start += IMPORT_CHUNK_ROWS) {
    result.push(rows.slice(start, start + IMPORT_CHUNK_ROWS));
  }
  return result;
}

function alreadyExists(message: string, sessionId: string, cause?: unknown): AsmError {
  return new AsmError("already_exists", message, {
    details: { sessionId },
    ...(cause === undefined ? {} : { cause }),
    hint: "Delete the stored session first, or import into another store.",
  });
}
