import { randomBytes } from "node:crypto";
import type { Pool, PoolClient, QueryResultRow } from "pg";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent, EventDraft } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import type { Maintenance } from "../../ports/maintenance.js";
import type { QueryApi } from "../../ports/query-api.js";
import type {
  EventQuery,
  RunListQuery,
  SaveRunOptions,
  SessionListQuery,
  SessionStore,
} from "../../ports/session-store.js";
import { SESSION_STORE_SPECIFICATION } from "../../ports/session-store.js";
import { AppendNotifier, longPoll } from "../shared/append-notifier.js";
import { planAppend, type SequencedAppend, soleEvent } from "../shared/append-plan.js";
import { runNotFound, sessionNotFound, storeClosed, validationError } from "../shared/errors.js";
import { normalizeEventDrafts } from "../shared/event-draft.js";
import { checkEmptyPage, type NormalizedEventQuery, normalizeEventQuery } from "../shared/event-query.js";
import {
  normalizeRunListQuery,
  normalizeSessionListQuery,
  type SaveSessionOptions,
  validateRun,
  validateSession,
} from "../shared/records.js";
import { checkRunSave, checkSessionSave } from "../shared/transitions.js";
import { postgresBackend, postgresFlavor, recoverOnOpen, SqlMaintenance, SqlQueryApi } from "../sql/index.js";
import { rowToEvent, rowToRun, rowToSession, runToRow, sessionToRow } from "../sql/rows.js";
import type { SelectedEvent, SelectedRun, SelectedSession } from "../sql/schema.js";
import { ChannelListener } from "./listener.js";
import { MIGRATIONS, type Migration, migrate } from "./migrations.js";
import {
  type ConnectionSettings,
  type ConnectionTarget,
  connectionTarget,
  createClient,
  createPool,
  describeTarget,
  loadPg,
  type PgDriver,
} from "./pg-driver.js";
import { isDuplicateEventId, serverError, toStorageError } from "./pg-errors.js";

export interface PostgresStoreOptions {
  /**
   * Where the database is: a `postgres://user:password@host:port/database` URL, with any
   * parameters pg understands (`?sslmode=require`, `?application_name=…`).
   */
  connectionString: string;
  /**
   * The schema that holds the store's tables; it is created when missing. Lower-case letters,
   * digits and `_`, starting with a letter or `_` (so it never needs quoting in SQL you write
   * against it). Several stores can share one database in different schemas. Default `"public"`.
   */
  schema?: string;
  /**
   * Upgrade a schema of an older version on open, in one transaction. Default `false`: an older
   * schema is `migration_required`, so a library upgrade never rewrites a database unasked (back
   * it up first). A missing or empty schema is initialized either way.
   */
  autoMigrate?: boolean;
  /**
   * Most connections the store's pool opens at once. A long-polling store holds one more, its
   * LISTEN connection. Default 10.
   */
  poolSize?: number;
  /**
   * How long opening a connection may take before the operation fails with
   * `storage_connection_failed` (pg itself would wait for ever). Default 10000.
   */
  connectionTimeoutMs?: number;
  /**
   * On open, fail the runs left `running` by a process that died (`maintenance.recoverOrphanedRuns`
   * with its default probe), each with one `run_failed` event. Default `true`.
   */
  recover?: boolean;
  /**
   * Open an existing store to read it only: nothing is created or migrated — a missing or empty
   * schema is `not_found`, an older one `migration_required` (whatever `autoMigrate` says) — and
   * no recovery runs (`recover` is ignored). Default `false`.
   */
  readOnly?: boolean;
}

const DEFAULT_SCHEMA = "public";
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
/** The forms pg's connection-string parser understands: URLs, and Unix socket paths. */
const CONNECTION_STRING = /^(postgres(ql)?:\/\/|socket:|\/)/i;
/** Unquoted-identifier characters only, and PostgreSQL's 63-byte identifier limit. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** NOTIFY payloads are capped at 8000 bytes; a longer session id wakes every waiter instead. */
const MAX_NOTIFIED_SESSION_ID = 1000;
/**
 * A unique violation on `events.id` means a concurrent append of the same id committed between
 * this append's id lookup and its insert; the retry's lookup finds it (idempotent retry).
 */
const APPEND_ATTEMPTS = 3;
/**
 * A create whose id a concurrent create took is checked again as an update of that row; only a
 * row created and deleted again between each try (never in practice) exhausts these.
 */
const CREATE_ATTEMPTS = 3;

/** Opens (creating or migrating as `options` allow) a PostgreSQL-backed `SessionStore`. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresSessionStore> {
  return openPostgresStoreWithMigrations(options, MIGRATIONS);
}

/**
 * `openPostgresStore` with another migration list, or another way to load pg. Internal: tests
 * use it to fake a newer schema or a missing driver.
 */
export async function openPostgresStoreWithMigrations(
  options: PostgresStoreOptions,
  migrations: readonly Migration[],
  loadDriver: () => Promise<PgDriver> = loadPg,
): Promise<PostgresSessionStore> {
  const settings = checkOptions(options);
  const pg = await loadDriver();
  let target: ConnectionTarget;
  try {
    target = connectionTarget(pg, settings);
  } catch (error) {
    throw new AsmError("validation_error", `connectionString cannot be parsed: ${String(error)}`, {
      cause: error,
      details: { field: "connectionString" },
      hint: "Use a URL like postgres://user:password@host:5432/database.",
    });
  }
  const pool = createPool(pg, settings);
  try {
    const client = await pool.connect();
    try {
      await migrate(client, migrations, {
        schema: settings.schema,
        autoMigrate: options.autoMigrate ?? false,
        readOnly: options.readOnly === true,
        where: describeTarget(target),
        quote: pg.escapeIdentifier,
      });
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw toStorageError(error, target);
  }
  const recover = options.readOnly !== true && options.recover !== false;
  return recoverOnOpen(new PostgresSessionStore(pg, pool, settings, target), recover);
}

function checkOptions(options: PostgresStoreOptions): ConnectionSettings {
  const {
    connectionString,
    schema = DEFAULT_SCHEMA,
    poolSize = DEFAULT_POOL_SIZE,
    connectionTimeoutMs = DEFAULT_CONNECTION_TIMEOUT_MS,
  } = options;
  // pg would read anything else as a relative URL on a host named "base" and fail later, obscurely.
  if (typeof connectionString !== "string" || !CONNECTION_STRING.test(connectionString)) {
    throw new AsmError("validation_error", "connectionString must be a PostgreSQL connection URL", {
      details: { field: "connectionString" },
      hint: "Use a URL like postgres://user:password@host:5432/database.",
    });
  }
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
    throw validationError(
      "schema must be 1 to 63 lower-case letters, digits or _, starting with a letter or _",
      { field: "schema", value: schema },
    );
  }
  for (const [field, value] of [
    ["poolSize", poolSize],
    ["connectionTimeoutMs", connectionTimeoutMs],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw validationError(`${field} must be a positive integer`, { field, value });
    }
  }
  return { connectionString, schema, poolSize, connectionTimeoutMs };
}

const SESSION_COLUMNS =
  "id, agent_id, status, parent_session_id, metadata, context, tags, created_at, updated_at, deleted_at";
const RUN_COLUMNS =
  "id, session_id, status, input, output, error, metadata, turn_count, token_usage, cost_usd, provider, " +
  "provider_metadata, owner, created_at, started_at, ended_at";
const EVENT_COLUMNS = 'id, session_id, sequence, type, run_id, "timestamp", provider, data, metadata';

const placeholders = (columns: string): string =>
  columns
    .split(", ")
    .map((_, index) => `$${index + 1}`)
    .join(", ");
const updates = (columns: string, source: (column: string, index: number) => string): string =>
  columns
    .split(", ")
    .map((column, index) => (column === "id" ? "" : `${column} = ${source(column, index)}`))
    .filter((assignment) => assignment !== "")
    .join(", ");

/**
 * Statements on the hot paths, prepared once per connection by name (pg's named statements).
 * Their SQL never changes with the input: a batch of any size is one `jsonb_to_recordset`.
 */
const SQL = {
  session: { name: "asm_session", text: `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1` },
  // Notifies in the same statement: NOTIFY is transactional, delivered only if the delete commits.
  deleteSession: {
    name: "asm_delete_session",
    text: "DELETE FROM sessions WHERE id = $1 RETURNING pg_notify($2, $3)",
  },
  lastSequence: { name: "asm_last_sequence", text: "SELECT last_sequence FROM sessions WHERE id = $1" },
  // The row lock this UPDATE takes serializes the session's appends across connections and
  // processes until commit; the notification goes out with the commit.
  reserveSequences: {
    name: "asm_reserve_sequences",
    text: "UPDATE sessions SET last_sequence = last_sequence + $1 WHERE id = $2 RETURNING last_sequence, pg_notify($3, $4)",
  },
  run: { name: "asm_run", text: `SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1` },
  eventsByIds: {
    name: "asm_events_by_ids",
    text: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ANY($1::text[])`,
  },
  // One parameter for the whole batch: a JSON array of rows, as cheap to build as to parse.
  insertEvents: {
    name: "asm_insert_events",
    text: `INSERT INTO events (${EVENT_COLUMNS})
           SELECT ${EVENT_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS batch (
             id TEXT, session_id TEXT, sequence BIGINT, type TEXT, run_id TEXT, "timestamp" TIMESTAMPTZ,
             provider TEXT, data JSONB, metadata JSONB
           )`,
  },
} as const;

type Statement = { readonly name: string; readonly text: string };

/** The statements of a checked save of one table's rows; see `#writeChecked`. */
interface CheckedWrites {
  /** The stored status, with the row locked until commit. */
  lockStatus: Statement;
  /** Inserts the row unless its id is taken, returning its id when it did. */
  insert: Statement;
  update: Statement;
}

/** The checked writes of a table whose row parameters are `columns` in order, the id first. */
function checkedWrites(table: "sessions" | "runs", columns: string): CheckedWrites {
  return {
    lockStatus: {
      name: `asm_lock_${table}_status`,
      text: `SELECT status FROM ${table} WHERE id = $1 FOR UPDATE`,
    },
    insert: {
      name: `asm_insert_${table}`,
      text: `INSERT INTO ${table} (${columns}) VALUES (${placeholders(columns)})
             ON CONFLICT (id) DO NOTHING RETURNING id`,
    },
    update: {
      name: `asm_update_${table}`,
      text: `UPDATE ${table} SET ${updates(columns, (_, index) => `$${index + 1}`)} WHERE id = $1`,
    },
  };
}

const SESSION_WRITES = checkedWrites("sessions", SESSION_COLUMNS);
const RUN_WRITES = checkedWrites("runs", RUN_COLUMNS);
type Queryable = Pool | PoolClient;

/**
 * A `SessionStore` in PostgreSQL, shared safely by any number of processes.
 *
 * - Appends: one transaction that looks up the drafts' ids (idempotency, `planAppend`), bumps
 *   `sessions.last_sequence` by the number of new events (`UPDATE … RETURNING`, whose row lock
 *   serializes the session's writers everywhere; sessions in sorted order, so multi-session
 *   batches cannot deadlock), and inserts the batch in one statement.
 * - Long-polls park on the shared `AppendNotifier`. Appends through this store wake them right
 *   after commit; appends through any other store or process reach them through
 *   `pg_notify('asm_events_<schema>', …)`, sent inside the appending transaction (so only on
 *   commit), and this store's LISTEN connection (`listener.ts`). No polling.
 *
 * Open it with `openPostgresStore`.
 */
export class PostgresSessionStore implements SessionStore {
  readonly specificationVersion = SESSION_STORE_SPECIFICATION;
  /** Questions across sessions (search, stats, usage, export/import), answered in SQL. */
  readonly query: QueryApi;
  /** Retention, health check and recovery of runs whose process died. */
  readonly maintenance: Maintenance;
  readonly #pool: Pool;
  readonly #target: ConnectionTarget;
  readonly #notifier = new AppendNotifier();
  readonly #listener: ChannelListener;
  /** The NOTIFY channel of the schema: identifiers are cut at 63 bytes, so the name is too. */
  readonly #channel: string;
  /** Tags this store's notifications, so its listener skips the ones it already acted on. */
  readonly #origin = randomBytes(8).toString("hex");
  /** Statement names of the list and `getEvents` query shapes, by SQL text. */
  readonly #shapes = new Map<string, string>();
  #closed = false;

  /** Internal: use `openPostgresStore`. */
  constructor(pg: PgDriver, pool: Pool, settings: ConnectionSettings, target: ConnectionTarget) {
    this.#pool = pool;
    this.#target = target;
    this.#channel = `asm_events_${settings.schema}`.slice(0, 63);
    this.#listener = new ChannelListener({
      createClient: () => createClient(pg, settings),
      listenSql: `LISTEN ${pg.escapeIdentifier(this.#channel)}`,
      onNotification: (payload) => this.#onNotification(payload),
      onListening: () => this.#notifier.notifyAll(),
    });
    // The shared query layer runs on this pool, so its connections have the schema as search_path.
    const backend = postgresBackend(pool, {
      assertOpen: () => {
        if (this.#closed) throw storeClosed("PostgreSQL");
      },
      toError: (error) => toStorageError(error, target),
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
    return this.#run(async () => {
      const [row] = await this.#query<SelectedSession>(this.#pool, SQL.session, [sessionId]);
      if (row === undefined) throw sessionNotFound(sessionId);
      return rowToSession(row, postgresFlavor);
    });
  }

  async listSessions(query?: SessionListQuery): Promise<Session[]> {
    return this.#run(async () => {
      const { status, agentId, limit } = normalizeSessionListQuery(query);
      const params: unknown[] = [];
      const where: string[] = [];
      if (status !== undefined) where.push(`status = $${params.push(status)}`);
      if (agentId !== undefined) where.push(`agent_id = $${params.push(agentId)}`);
      // Ids break createdAt ties: the store's ids are time-ordered, so the latest created comes first.
      const rows = await this.#query<SelectedSession>(
        this.#pool,
        this.#shaped(
          `SELECT ${SESSION_COLUMNS} FROM sessions ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
           ORDER BY created_at DESC, id DESC LIMIT $${params.push(limit)}`,
        ),
        params,
      );
      return rows.map((row) => rowToSession(row, postgresFlavor));
    });
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.#run(async () => {
      // Runs and events go with it: ON DELETE CASCADE.
      const deleted = await this.#query(this.#pool, SQL.deleteSession, [
        sessionId,
        this.#channel,
        this.#payload(sessionId),
      ]);
      // Parked readers re-read and learn the session is gone.
      if (deleted.length > 0) this.#notifier.notify(sessionId);
    });
  }

  async saveRun(run: Run, options: SaveRunOptions = {}): Promise<AsmEvent[]> {
    return this.#run(async () => {
      validateRun(run, options);
      const drafts = normalizeEventDrafts(options.events ?? []);
      const params = runParams(run);
      const { inserted, results } = await this.#write((client) =>
        this.#transaction(client, async () => {
          await this.#writeRun(client, run, params, options);
          return this.#append(client, drafts);
        }),
      );
      this.#notifier.notifyAppended(inserted);
      return results;
    });
  }

  async getRun(runId: string): Promise<Run> {
    return this.#run(async () => {
      const [row] = await this.#query<SelectedRun>(this.#pool, SQL.run, [runId]);
      if (row === undefined) throw runNotFound(runId);
      return rowToRun(row, postgresFlavor);
    });
  }

  async listRuns(sessionId: string, query?: RunListQuery): Promise<Run[]> {
    return this.#run(async () => {
      const { status, limit } = normalizeRunListQuery(query);
      const params: unknown[] = [sessionId];
      const rows = await this.#query<SelectedRun>(
        this.#pool,
        this.#shaped(
          `SELECT ${RUN_COLUMNS} FROM runs WHERE session_id = $1
           ${status === undefined ? "" : `AND status = $${params.push(status)}`}
           ORDER BY created_at, id LIMIT $${params.push(limit)}`,
        ),
        params,
      );
      return rows.map((row) => rowToRun(row, postgresFlavor));
    });
  }

  async appendEvent(event: EventDraft): Promise<AsmEvent> {
    return soleEvent(await this.appendEvents([event]));
  }

  async appendEvents(events: readonly EventDraft[]): Promise<AsmEvent[]> {
    return this.#run(async () => {
      const drafts = normalizeEventDrafts(events);
      if (drafts.length === 0) return [];
      const { inserted, results } = await this.#write((client) =>
        this.#transaction(client, () => this.#append(client, drafts)),
      );
      this.#notifier.notifyAppended(inserted);
      return results;
    });
  }

  async getEvents(sessionId: string, query?: EventQuery): Promise<AsmEvent[]> {
    const normalized = await this.#run(async () => normalizeEventQuery(query));
    return longPoll({
      notifier: this.#notifier,
      sessionId,
      waitTimeoutMs: normalized.waitTimeoutMs,
      signal: normalized.signal,
      watcher: this.#listener,
      read: () => this.#run(() => this.#readEvents(sessionId, normalized)),
    });
  }

  async getLatestSequence(sessionId: string): Promise<number> {
    return this.#run(async () => {
      const latest = await this.#lastSequence(sessionId);
      if (latest === undefined) throw sessionNotFound(sessionId);
      return latest;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#notifier.close();
    await this.#listener.close();
    try {
      await this.#pool.end();
    } catch (error) {
      throw toStorageError(error, this.#target);
    }
  }

  /**
   * Inside a transaction: idempotency by id, sequence reservation, one insert. Sessions are
   * locked in sorted order, the same in every process, so two multi-session batches cannot
   * deadlock.
   */
  async #append(client: PoolClient, drafts: readonly EventDraft[]): Promise<SequencedAppend> {
    if (drafts.length === 0) return { inserted: [], results: [] };
    const plan = planAppend(drafts, await this.#storedEvents(client, drafts));
    const lastSequences = new Map<string, number>();
    for (const [sessionId, count] of [...plan.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const [row] = await this.#query<{ last_sequence: string }>(client, SQL.reserveSequences, [
        count,
        sessionId,
        this.#channel,
        this.#payload(sessionId),
      ]);
      if (row === undefined) throw sessionNotFound(sessionId);
      lastSequences.set(sessionId, Number(row.last_sequence));
    }
    const append = plan.complete(lastSequences);
    if (append.inserted.length > 0) {
      const batch = append.inserted.map((event) => ({
        id: event.id,
        session_id: event.sessionId,
        sequence: event.sequence,
        type: event.type,
        // Absent fields are left out of the JSON and read as NULL by jsonb_to_recordset.
        run_id: event.runId,
        timestamp: event.timestamp,
        provider: event.provider,
        data: event.data,
        metadata: event.metadata,
      }));
      await this.#query(client, SQL.insertEvents, [JSON.stringify(batch)]);
    }
    return append;
  }

  /** The events already stored under the drafts' ids. */
  async #storedEvents(client: PoolClient, drafts: readonly EventDraft[]): Promise<Map<string, AsmEvent>> {
    const rows = await this.#query<SelectedEvent>(client, SQL.eventsByIds, [drafts.map(({ id }) => id)]);
    return new Map(rows.map((row) => [row.id, rowToEvent(row, postgresFlavor)]));
  }

  /** `saveSession`, and recovery's compare-and-set with events: one transaction. */
  async #saveSession(session: Session, options: SaveSessionOptions): Promise<AsmEvent[]> {
    return this.#run(async () => {
      validateSession(session);
      const drafts = normalizeEventDrafts(options.events ?? []);
      const params = sessionParams(session);
      const { inserted, results } = await this.#write((client) =>
        this.#transaction(client, async () => {
          await this.#writeChecked(client, SESSION_WRITES, session.id, params, (stored) =>
            checkSessionSave(session, stored, options.expectedStatus),
          );
          return this.#append(client, drafts);
        }),
      );
      this.#notifier.notifyAppended(inserted);
      return results;
    });
  }

  /**
   * Inside a transaction: the run's row, written after the state machine's check against the
   * stored status (which is also the compare-and-set on `expectedStatus`).
   */
  async #writeRun(
    client: PoolClient,
    run: Run,
    params: unknown[],
    { expectedStatus }: SaveRunOptions,
  ): Promise<void> {
    try {
      await this.#writeChecked(client, RUN_WRITES, run.id, params, (stored) =>
        checkRunSave(run, stored, expectedStatus),
      );
    } catch (error) {
      // The run's only foreign key is its session.
      if (serverError(error)?.code === "23503") throw sessionNotFound(run.sessionId);
      throw error;
    }
  }

  /**
   * Inside a transaction: writes a row once `check` has approved the move from its stored status
   * (`undefined`: no row). The stored row stays locked (`FOR UPDATE`) until commit, so no other
   * writer can move it between the check and the write; of two compare-and-sets, the second waits
   * and then checks the first's result. A create inserts with `ON CONFLICT DO NOTHING`: when a
   * concurrent create of the same id committed first, its row is locked and checked as an update.
   */
  async #writeChecked(
    client: PoolClient,
    writes: CheckedWrites,
    id: string,
    params: unknown[],
    check: (stored: string | undefined) => void,
  ): Promise<void> {
    for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
      const [stored] = await this.#query<{ status: string }>(client, writes.lockStatus, [id]);
      check(stored?.status);
      if (stored !== undefined) {
        await this.#query(client, writes.update, params);
        return;
      }
      if ((await this.#query(client, writes.insert, params)).length > 0) return;
    }
    throw new AsmError(
      "storage_busy",
      `${id} was created and deleted again while this save tried to create it`,
      {
        details: { id },
      },
    );
  }

  async #readEvents(sessionId: string, query: NormalizedEventQuery): Promise<AsmEvent[]> {
    const params: unknown[] = [sessionId, query.after];
    const clauses = ["session_id = $1", "sequence > $2"];
    if (query.before !== undefined) clauses.push(`sequence < $${params.push(query.before)}`);
    if (query.runId !== undefined) clauses.push(`run_id = $${params.push(query.runId)}`);
    if (query.types !== undefined) clauses.push(`type = ANY($${params.push(query.types)}::text[])`);
    if (query.since !== undefined) clauses.push(`"timestamp" >= $${params.push(query.since)}::timestamptz`);
    const rows = await this.#query<SelectedEvent>(
      this.#pool,
      this.#shaped(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE ${clauses.join(" AND ")}
         ORDER BY sequence LIMIT $${params.push(query.limit)}`,
      ),
      params,
    );
    if (rows.length === 0) checkEmptyPage(sessionId, query.after, await this.#lastSequence(sessionId));
    return rows.map((row) => rowToEvent(row, postgresFlavor));
  }

  async #lastSequence(sessionId: string): Promise<number | undefined> {
    const [row] = await this.#query<{ last_sequence: string }>(this.#pool, SQL.lastSequence, [sessionId]);
    return row === undefined ? undefined : Number(row.last_sequence);
  }

  #onNotification(payload: string): void {
    const separator = payload.indexOf(":");
    // This store woke its own waiters right after its commit; the echo would only re-read.
    if (separator >= 0 && payload.slice(0, separator) === this.#origin) return;
    const sessionId = separator < 0 ? "" : payload.slice(separator + 1);
    if (sessionId === "") this.#notifier.notifyAll();
    else this.#notifier.notify(sessionId);
  }

  /** `origin:sessionId`; an empty session (too long for NOTIFY) means "any session". */
  #payload(sessionId: string): string {
    return `${this.#origin}:${sessionId.length > MAX_NOTIFIED_SESSION_ID ? "" : sessionId}`;
  }

  /**
   * Runs a write on a pooled connection, retrying when a concurrent append of the same event id
   * won the race (see `APPEND_ATTEMPTS`). After a connection failure this store's waiters are
   * woken: the commit may have happened before the connection broke, and the echo of its
   * notification is skipped as this store's own.
   */
  async #write<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await this.#pool.connect();
        let broken: unknown;
        try {
          return await work(client);
        } catch (error) {
          if (isBelowSql(error)) broken = error;
          throw error;
        } finally {
          // A connection that failed below SQL (socket, protocol) is discarded, not reused.
          client.release(broken instanceof Error ? broken : undefined);
        }
      } catch (error) {
        if (attempt < APPEND_ATTEMPTS && isDuplicateEventId(error)) continue;
        if (isBelowSql(error)) this.#notifier.notifyAll();
        throw error;
      }
    }
  }

  /** `work` between BEGIN and COMMIT, rolled back when it throws. */
  async #transaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
    await client.query("BEGIN");
    try {
      const result = await work();
      await client.query("COMMIT");
      return result;
    } catch (error) {
      // An aborted transaction must end before the connection goes back to the pool. If the
      // connection is broken the ROLLBACK fails too, and the server rolls back on its own.
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  }

  async #query<Row extends QueryResultRow = QueryResultRow>(
    queryable: Queryable,
    statement: Statement,
    values: unknown[],
  ): Promise<Row[]> {
    const result = await queryable.query<Row>({ name: statement.name, text: statement.text, values });
    return result.rows;
  }

  /** A named statement for one query shape. Shapes are few: each filter is on or off. */
  #shaped(text: string): Statement {
    let name = this.#shapes.get(text);
    if (name === undefined) {
      name = `asm_shape_${this.#shapes.size + 1}`;
      this.#shapes.set(text, name);
    }
    return { name, text };
  }

  /** Every database access goes through here: refused once closed, and errors become AsmErrors. */
  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw storeClosed("PostgreSQL");
    try {
      return await operation();
    } catch (error) {
      // A call that was in flight when the store closed fails on the ended pool.
      if (this.#closed && !AsmError.is(error)) throw storeClosed("PostgreSQL");
      throw toStorageError(error, this.#target);
    }
  }
}

/** A failure of the connection itself (socket, protocol), as opposed to a SQL error or one of ours. */
function isBelowSql(error: unknown): boolean {
  return serverError(error) === undefined && !AsmError.is(error);
}

/** The session's row as positional parameters, in `SESSION_COLUMNS` order, with checked timestamps. */
function sessionParams(session: Session): unknown[] {
  const row = sessionToRow(session);
  return [
    row.id,
    row.agent_id,
    row.status,
    row.parent_session_id,
    row.metadata,
    row.context,
    row.tags,
    timestamp(row.created_at, "createdAt", "session", row.id),
    timestamp(row.updated_at, "updatedAt", "session", row.id),
    row.deleted_at === null ? null : timestamp(row.deleted_at, "deletedAt", "session", row.id),
  ];
}

/** The run's row as positional parameters, in `RUN_COLUMNS` order, with checked timestamps. */
function runParams(run: Run): unknown[] {
  const row = runToRow(run);
  const at = (value: string | null, field: string): string | null =>
    value === null ? null : timestamp(value, field, "run", row.id);
  return [
    row.id,
    row.session_id,
    row.status,
    row.input,
    row.output,
    row.error,
    row.metadata,
    row.turn_count,
    row.token_usage,
    row.cost_usd,
    row.provider,
    row.provider_metadata,
    row.owner,
    at(row.created_at, "createdAt"),
    at(row.started_at, "startedAt"),
    at(row.ended_at, "endedAt"),
  ];
}

/**
 * A record's timestamp in `toISOString()` form, which is how `timestamptz` reads back. A string
 * that is no date is `validation_error` here, rather than something PostgreSQL might accept
 * ("now", "yesterday") or reject with a storage error.
 */
function timestamp(value: string, field: string, entity: string, id: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw validationError(`${entity} ${field} must be an ISO 8601 date`, { id, field, value });
  }
  return new Date(time).toISOString();
}
