import { existsSync, realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database, { type Statement } from "better-sqlite3";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent, EventDraft } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import type { Maintenance } from "../../ports/maintenance.js";
import type { QueryApi } from "../../ports/query-api.js";
import {
  type EventQuery,
  type RunListQuery,
  type SaveRunOptions,
  SESSION_STORE_SPECIFICATION,
  type SessionListQuery,
  type SessionStore,
} from "../../ports/session-store.js";
import { type AppendNotifier, longPoll } from "../shared/append-notifier.js";
import { type SequencedAppend, sequenceAppend, soleEvent } from "../shared/append-plan.js";
import { runNotFound, sessionNotFound, storeClosed, validationError } from "../shared/errors.js";
import { normalizeEventDrafts, toStoredEvent } from "../shared/event-draft.js";
import { checkEmptyPage, type NormalizedEventQuery, normalizeEventQuery } from "../shared/event-query.js";
import { createOwnerOnlyFile, makeOwnerOnlyDirectory } from "../shared/owner-only-files.js";
import {
  normalizeRunListQuery,
  normalizeSessionListQuery,
  type SaveSessionOptions,
  validateRun,
  validateSession,
} from "../shared/records.js";
import { checkRunSave, checkSessionSave } from "../shared/transitions.js";
import { recoverOnOpen, SqlMaintenance, SqlQueryApi, sqliteBackend } from "../sql/index.js";
import { CheckpointScheduler } from "./checkpoints.js";
import { checkSchema, MIGRATIONS, type Migration, migrate } from "./migrations.js";
import { checkPages } from "./page-check.js";
import {
  type EventRow,
  eventToParams,
  type RunRow,
  rowToEvent,
  rowToRun,
  rowToSession,
  runToRow,
  type SessionRow,
  sessionToRow,
} from "./rows.js";
import { type ErrorContext, toStorageError } from "./sqlite-errors.js";
import { attachNotifier, DataVersionWatcher } from "./wake-ups.js";

export interface SqliteStoreOptions {
  /**
   * The database file. Its parent directory is created when missing. `":memory:"` opens a
   * private in-memory database that no other store sees and that is gone on close.
   */
  path: string;
  /**
   * Upgrade a database with an older schema on open, in one transaction. Default `false`: an
   * older schema is `migration_required`, so a library upgrade never rewrites a database
   * unasked (back it up first). A new, empty database is initialized either way.
   */
  autoMigrate?: boolean;
  /**
   * How long a write waits for another connection's lock before failing with `storage_busy`.
   * Default 5000.
   */
  busyTimeoutMs?: number;
  /**
   * On open, fail the runs left `running` by a process that died (`maintenance.recoverOrphanedRuns`
   * with its default probe), each with one `run_failed` event. Default `true`.
   */
  recover?: boolean;
  /**
   * Open only an existing database file: a missing one (or `":memory:"`) is `not_found`, and
   * nothing is created, neither the file nor its directory. For commands that only read.
   * Default `false`.
   */
  mustExist?: boolean;
  /**
   * Open an existing database to read it only (the CLI's read commands): implies `mustExist`,
   * and nothing is written — a file without the store's tables is `not_found`, an older schema
   * `migration_required` (whatever `autoMigrate` says), no recovery runs (`recover` is ignored).
   * Writes through the store fail with `storage_connection_failed`. Default `false`.
   */
  readOnly?: boolean;
  /**
   * On opening an existing file for writing, check every page of its tables and indexes before
   * anything is written (see `checkPages`): a damaged file is `storage_corrupt`, naming the
   * path, rather than found by the first write that lands on the damage. Costs one read of the
   * file: 0.3–0.8 s for 1 GB in the page cache. Default `true`.
   */
  checkPagesOnOpen?: boolean;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const IN_MEMORY = ":memory:";

/** Opens (creating or migrating as `options` allow) a SQLite-backed `SessionStore`. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteSessionStore> {
  return openSqliteStoreWithMigrations(options, MIGRATIONS);
}

/** `openSqliteStore` with another migration list. Internal: tests use it to fake a newer schema. */
export async function openSqliteStoreWithMigrations(
  options: SqliteStoreOptions,
  migrations: readonly Migration[],
): Promise<SqliteSessionStore> {
  const {
    path: given,
    autoMigrate = false,
    busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
    readOnly = false,
    checkPagesOnOpen = true,
  } = options;
  const mustExist = options.mustExist === true || readOnly;
  const recover = !readOnly && options.recover !== false;
  if (typeof given !== "string" || given === "") {
    throw validationError("path must be a non-empty string", { field: "path", value: given });
  }
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw validationError("busyTimeoutMs must be a non-negative integer", {
      field: "busyTimeoutMs",
      value: busyTimeoutMs,
    });
  }
  const path = given === IN_MEMORY ? IN_MEMORY : resolve(given);
  const context: ErrorContext = { path, busyTimeoutMs };
  if (mustExist && (path === IN_MEMORY || !existsSync(path))) {
    throw new AsmError("not_found", `no SQLite database at ${path}`, {
      details: { path },
      hint: "check the path (in the CLI: --db or ASM_DB)",
    });
  }
  // Only a file that holds something can be damaged: a new or empty one is initialized below.
  const existing = path !== IN_MEMORY && existsSync(path) && statSync(path).size > 0;
  if (path !== IN_MEMORY && !mustExist) {
    try {
      makeOwnerOnlyDirectory(dirname(path));
      // SQLite creates the -wal and -shm files with the database file's mode: 0600 it is.
      createOwnerOnlyFile(path);
    } catch (error) {
      throw new AsmError("storage_connection_failed", `cannot create ${path} or its directory`, {
        cause: error,
        details: { path },
        hint: `Check that ${dirname(path)} can be created by this process.`,
      });
    }
  }
  let db: Database.Database | undefined;
  let store: SqliteSessionStore;
  try {
    db = new Database(path, { timeout: busyTimeoutMs, fileMustExist: mustExist, readonly: readOnly });
    db.pragma("foreign_keys = ON");
    if (readOnly) checkSchema(db, migrations, path);
    else {
      if (existing && checkPagesOnOpen) checkPages(db, path);
      db.pragma("journal_mode = WAL");
      // NORMAL under WAL survives a process crash; only an OS crash can lose the last commits.
      db.pragma("synchronous = NORMAL");
      migrate(db, migrations, { autoMigrate, path });
    }
    store = new SqliteSessionStore(db, context, path === IN_MEMORY ? undefined : realpathSync(path));
  } catch (error) {
    db?.close();
    throw toStorageError(error, context);
  }
  return recoverOnOpen(store, recover);
}

const SESSION_COLUMNS =
  "id, agent_id, status, parent_session_id, metadata, context, tags, created_at, updated_at, deleted_at";
const RUN_COLUMNS =
  "id, session_id, status, input, output, error, metadata, turn_count, token_usage, cost_usd, provider, " +
  "provider_metadata, owner, created_at, started_at, ended_at";
const EVENT_COLUMNS = "id, session_id, sequence, type, run_id, timestamp, provider, data, metadata";

const named = (columns: string): string =>
  columns
    .split(", ")
    .map((column) => `@${column}`)
    .join(", ");
const updates = (columns: string): string =>
  columns
    .split(", ")
    .filter((column) => column !== "id")
    .map((column) => `${column} = excluded.${column}`)
    .join(", ");

/**
 * The default `SessionStore`: one SQLite file in WAL mode through better-sqlite3, safe to share
 * between processes. Sequences are reserved with `UPDATE sessions SET last_sequence = …
 * RETURNING` inside `BEGIN IMMEDIATE`, so concurrent writers in any process get contiguous,
 * unique ranges. Long-polls: see `wake-ups.ts`.
 *
 * Open it with `openSqliteStore`.
 */
export class SqliteSessionStore implements SessionStore {
  readonly specificationVersion = SESSION_STORE_SPECIFICATION;
  /** Questions across sessions (search, stats, usage, export/import), answered in SQL. */
  readonly query: QueryApi;
  /** Retention, health check and recovery of runs whose process died. */
  readonly maintenance: Maintenance;
  readonly #db: Database.Database;
  readonly #context: ErrorContext;
  readonly #notifier: AppendNotifier;
  readonly #detachNotifier: () => void;
  readonly #watcher: DataVersionWatcher;
  readonly #checkpoints: CheckpointScheduler;
  /** Statements whose SQL depends on the query's shape, by SQL text. */
  readonly #byShape = new Map<string, Statement>();
  readonly #sql;
  readonly #appendBatch;
  readonly #appendFresh;
  readonly #saveRunWithEvents;
  readonly #saveSessionWithEvents;
  #closed = false;

  /** Internal: use `openSqliteStore`. `fileKey` is the file's real path, `undefined` in memory. */
  constructor(db: Database.Database, context: ErrorContext, fileKey: string | undefined) {
    this.#db = db;
    this.#context = context;
    const { notifier, detach } = attachNotifier(fileKey);
    this.#notifier = notifier;
    this.#detachNotifier = detach;
    const dataVersion = db.prepare("PRAGMA data_version").pluck();
    this.#watcher = new DataVersionWatcher(
      () => Number(dataVersion.get()),
      () => notifier.notifyAll(),
    );
    const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    this.#checkpoints = new CheckpointScheduler(() => checkpoint.get());
    this.#sql = {
      upsertSession: db.prepare(
        `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${named(SESSION_COLUMNS)})
         ON CONFLICT (id) DO UPDATE SET ${updates(SESSION_COLUMNS)}`,
      ),
      session: db.prepare<[string], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`),
      sessionStatus: db.prepare<[string], string>("SELECT status FROM sessions WHERE id = ?").pluck(),
      deleteSession: db.prepare("DELETE FROM sessions WHERE id = ?"),
      lastSequence: db.prepare<[string], number>("SELECT last_sequence FROM sessions WHERE id = ?").pluck(),
      reserveSequences: db
        .prepare<[number, string], number>(
          "UPDATE sessions SET last_sequence = last_sequence + ? WHERE id = ? RETURNING last_sequence",
        )
        .pluck(),
      upsertRun: db.prepare(
        `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${named(RUN_COLUMNS)})
         ON CONFLICT (id) DO UPDATE SET ${updates(RUN_COLUMNS)}`,
      ),
      run: db.prepare<[string], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`),
      runStatus: db.prepare<[string], string>("SELECT status FROM runs WHERE id = ?").pluck(),
      insertEvent: db.prepare(
        `INSERT INTO events (${EVENT_COLUMNS}) VALUES (${EVENT_COLUMNS.replace(/\w+/g, "?")})`,
      ),
      eventById: db.prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`),
      // One statement for any batch size: the ids travel as one JSON array.
      eventsByIds: db.prepare<[string], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each(?))`,
      ),
    };
    this.#appendBatch = db.transaction((drafts: readonly EventDraft[]) => this.#append(drafts));
    this.#appendFresh = db.transaction((drafts: readonly EventDraft[], sessionId: string) =>
      this.#insertFresh(drafts, sessionId),
    );
    this.#saveRunWithEvents = db.transaction(
      (run: Run, options: SaveRunOptions, drafts: readonly EventDraft[]) => {
        this.#writeRun(run, options);
        return this.#append(drafts);
      },
    );
    // The status is read under the write lock `BEGIN IMMEDIATE` takes: no writer can move the
    // session between the check and the write.
    this.#saveSessionWithEvents = db.transaction(
      (session: Session, { expectedStatus }: SaveSessionOptions, drafts: readonly EventDraft[]) => {
        checkSessionSave(session, this.#sql.sessionStatus.get(session.id), expectedStatus);
        this.#sql.upsertSession.run(sessionToRow(session));
        return this.#append(drafts);
      },
    );
    const backend = sqliteBackend(db, {
      assertOpen: () => {
        if (this.#closed) throw storeClosed("SQLite");
      },
      toError: (error) => toStorageError(error, context),
    });
    this.query = new SqlQueryApi(backend);
    this.maintenance = new SqlMaintenance(backend, {
      saveRun: (run, options) => this.saveRun(run, options),
      saveSession: (session, options) => this.#saveSession(session, options),
    });
  }

  async saveSession(session: Session): Promise<void> {
    await this.#saveSession(session, {});
  }

  async getSession(sessionId: string): Promise<Session> {
    return this.#run(() => {
      const row = this.#sql.session.get(sessionId);
      if (row === undefined) throw sessionNotFound(sessionId);
      return rowToSession(row);
    });
  }

  async listSessions(query?: SessionListQuery): Promise<Session[]> {
    return this.#run(() => {
      const { status, agentId, limit } = normalizeSessionListQuery(query);
      const where = [
        status === undefined ? "" : "status = @status",
        agentId === undefined ? "" : "agent_id = @agentId",
      ]
        .filter((clause) => clause !== "")
        .join(" AND ");
      // rowid breaks createdAt ties: the latest inserted first, as in the memory store.
      const rows = this.#shaped<SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM sessions ${where === "" ? "" : `WHERE ${where}`}
         ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
      ).all({ status, agentId, limit });
      return rows.map(rowToSession);
    });
  }

  async deleteSession(sessionId: string): Promise<void> {
    this.#run(() => {
      // Runs and events go with it: ON DELETE CASCADE.
      const { changes } = this.#sql.deleteSession.run(sessionId);
      // Parked readers re-read and learn the session is gone.
      if (changes > 0) this.#notifier.notify(sessionId);
    });
  }

  async saveRun(run: Run, options: SaveRunOptions = {}): Promise<AsmEvent[]> {
    return this.#run(() => {
      validateRun(run, options);
      const drafts = normalizeEventDrafts(options.events ?? []);
      const { inserted, results } = this.#saveRunWithEvents.immediate(run, options, drafts);
      this.#notifier.notifyAppended(inserted);
      this.#checkpoints.committed(inserted.length);
      return results;
    });
  }

  async getRun(runId: string): Promise<Run> {
    return this.#run(() => {
      const row = this.#sql.run.get(runId);
      if (row === undefined) throw runNotFound(runId);
      return rowToRun(row);
    });
  }

  async listRuns(sessionId: string, query?: RunListQuery): Promise<Run[]> {
    return this.#run(() => {
      const { status, limit } = normalizeRunListQuery(query);
      const rows = this.#shaped<RunRow>(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE session_id = @sessionId
         ${status === undefined ? "" : "AND status = @status"} ORDER BY created_at, rowid LIMIT @limit`,
      ).all({ sessionId, status, limit });
      return rows.map(rowToRun);
    });
  }

  async appendEvent(event: EventDraft): Promise<AsmEvent> {
    return soleEvent(await this.appendEvents([event]));
  }

  async appendEvents(events: readonly EventDraft[]): Promise<AsmEvent[]> {
    return this.#run(() => {
      const drafts = normalizeEventDrafts(events);
      if (drafts.length === 0) return [];
      const { inserted, results } = this.#appendOptimistic(drafts) ?? this.#appendBatch.immediate(drafts);
      this.#notifier.notifyAppended(inserted);
      this.#checkpoints.committed(inserted.length);
      return results;
    });
  }

  async getEvents(sessionId: string, query?: EventQuery): Promise<AsmEvent[]> {
    const normalized = this.#run(() => normalizeEventQuery(query));
    return longPoll({
      notifier: this.#notifier,
      sessionId,
      waitTimeoutMs: normalized.waitTimeoutMs,
      signal: normalized.signal,
      watcher: this.#watcher,
      read: () => this.#run(() => this.#readEvents(sessionId, normalized)),
    });
  }

  async getLatestSequence(sessionId: string): Promise<number> {
    return this.#run(() => {
      const latest = this.#sql.lastSequence.get(sessionId);
      if (latest === undefined) throw sessionNotFound(sessionId);
      return latest;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.stop();
    this.#checkpoints.stop();
    this.#notifier.close();
    this.#detachNotifier();
    try {
      this.#db.close();
    } catch (error) {
      throw toStorageError(error, this.#context);
    }
  }

  /**
   * The common append — new events of one session — written without looking their ids up
   * first: the events' UNIQUE id index refuses an id that is stored (or repeated in the batch),
   * which rolls the whole transaction back, sequences included; `undefined` then sends the
   * append down the careful path (`#append`), which answers the stored events for such ids.
   * Saves an indexed read per event on every append that is not a retry.
   */
  #appendOptimistic(drafts: readonly EventDraft[]): SequencedAppend | undefined {
    const sessionId = (drafts[0] as EventDraft).sessionId;
    for (const draft of drafts) if (draft.sessionId !== sessionId) return undefined;
    try {
      return this.#appendFresh.immediate(drafts, sessionId);
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code === "SQLITE_CONSTRAINT_UNIQUE")
        return undefined;
      throw error;
    }
  }

  /** Inside a write transaction: `drafts`, all of `sessionId`, inserted under new sequences. */
  #insertFresh(drafts: readonly EventDraft[], sessionId: string): SequencedAppend {
    const last = this.#sql.reserveSequences.get(drafts.length, sessionId);
    if (last === undefined) throw sessionNotFound(sessionId);
    let sequence = last - drafts.length;
    const inserted = drafts.map((draft) => {
      const event = toStoredEvent(draft, ++sequence);
      this.#sql.insertEvent.run(eventToParams(event));
      return event;
    });
    return { inserted, results: inserted };
  }

  /** Inside a write transaction: idempotency by id, sequence reservation, inserts. */
  #append(drafts: readonly EventDraft[]): SequencedAppend {
    const append = sequenceAppend(drafts, this.#storedEvents(drafts), (sessionId, count) => {
      const last = this.#sql.reserveSequences.get(count, sessionId);
      if (last === undefined) throw sessionNotFound(sessionId);
      return last;
    });
    for (const event of append.inserted) this.#sql.insertEvent.run(eventToParams(event));
    return append;
  }

  /** The events already stored under the drafts' ids. */
  #storedEvents(drafts: readonly EventDraft[]): Map<string, AsmEvent> {
    const first = drafts[0];
    if (first === undefined) return new Map();
    // A lone id (the common single append) takes the point lookup: json_each costs ~3× more for one.
    const rows =
      drafts.length === 1
        ? this.#sql.eventById.all(first.id)
        : this.#sql.eventsByIds.all(JSON.stringify(drafts.map(({ id }) => id)));
    return new Map(rows.map((row) => [row.id, rowToEvent(row)]));
  }

  /** `saveSession`, and recovery's compare-and-set with events: one immediate transaction. */
  async #saveSession(session: Session, options: SaveSessionOptions): Promise<AsmEvent[]> {
    return this.#run(() => {
      validateSession(session);
      const drafts = normalizeEventDrafts(options.events ?? []);
      const { inserted, results } = this.#saveSessionWithEvents.immediate(session, options, drafts);
      this.#notifier.notifyAppended(inserted);
      this.#checkpoints.committed(inserted.length);
      return results;
    });
  }

  /**
   * Inside a write transaction: the run upsert, after the state machine's check against the
   * stored status (which is also the compare-and-set on `expectedStatus`).
   */
  #writeRun(run: Run, { expectedStatus }: SaveRunOptions): void {
    try {
      checkRunSave(run, this.#sql.runStatus.get(run.id), expectedStatus);
      this.#sql.upsertRun.run(runToRow(run));
    } catch (error) {
      // The run's only foreign key is its session.
      if (error instanceof Database.SqliteError && error.code === "SQLITE_CONSTRAINT_FOREIGNKEY") {
        throw sessionNotFound(run.sessionId);
      }
      throw error;
    }
  }

  #readEvents(sessionId: string, query: NormalizedEventQuery): AsmEvent[] {
    const clauses = ["session_id = ?", "sequence > ?"];
    const params: unknown[] = [sessionId, query.after];
    if (query.before !== undefined) {
      clauses.push("sequence < ?");
      params.push(query.before);
    }
    if (query.runId !== undefined) {
      clauses.push("run_id = ?");
      params.push(query.runId);
    }
    if (query.types !== undefined) {
      clauses.push(`type IN (${query.types.map(() => "?").join(", ")})`);
      params.push(...query.types);
    }
    if (query.since !== undefined) {
      clauses.push("timestamp >= ?");
      params.push(query.since);
    }
    params.push(query.limit);
    const rows = this.#shaped<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${clauses.join(" AND ")} ORDER BY sequence LIMIT ?`,
    ).all(...params);
    if (rows.length === 0) checkEmptyPage(sessionId, query.after, this.#sql.lastSequence.get(sessionId));
    return rows.map(rowToEvent);
  }

  /** A statement for one query shape, prepared once. Shapes are few: filters are on or off. */
  #shaped<Row>(sql: string): Statement<unknown[], Row> {
    let statement = this.#byShape.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#byShape.set(sql, statement);
    }
    return statement as Statement<unknown[], Row>;
  }

  /** Every database access goes through here: refused once closed, and errors become AsmErrors. */
  #run<T>(operation: () => T): T {
    if (this.#closed) throw storeClosed("SQLite");
    try {
      return operation();
    } catch (error) {
      throw toStorageError(error, this.#context);
    }
  }
}
