import type { PoolClient } from "pg";
import { AsmError } from "../core/errors.js";
import type { Run, RunInput } from "../core/run.js";
import type { JsonObject } from "../core/session.js";
import type { SessionManagerBase } from "../manager/session-manager.js";
import { jobQueueName, QueueDb, type QueueLocation, resolveLocation } from "./queue-db.js";

/**
 * Where a run queued for the workers keeps its queue facts in its stored metadata
 * (`run.metadata.workerQueue`), as `SessionServer` keeps `serverQueue`: a run stored `pending`
 * with this entry waits for a worker.
 */
export const WORKER_QUEUE_KEY = "workerQueue";

export interface EnqueueRunOptions {
  /** The session, which must be active. */
  sessionId: string;
  input: RunInput | string;
  /**
   * Runs of this session that may execute at once, across the cluster: a positive integer.
   * Default 1 (one after the other, in submission order).
   */
  sessionSlots?: number;
  /**
   * When the worker executing the run dies (its lease expires), queue the run again as a new
   * run (`metadata.workerQueue.retryOf`) in the same place of the session's order, up to
   * `maxAttempts`. Default `false`: the run ends `failed`.
   */
  retryable?: boolean;
  /** Attempts of a retryable run, the first included: a positive integer. Default 3. */
  maxAttempts?: number;
  /** The run's `timeoutMs` on the worker. Default: none. */
  timeoutMs?: number;
  /** The run's `providerOptions` on the worker. Default `{}`. */
  providerOptions?: Record<string, JsonObject>;
  /** Stored on the run. */
  metadata?: JsonObject;
}

export interface QueueLimits {
  /** Runs executing at once across every worker: a positive integer, or `null` for no cap. */
  maxRuns?: number | null;
  /** Runs executing at once per provider, e.g. `{ claude: 2 }`; `null` removes a provider's cap. */
  perProvider?: Record<string, number | null>;
}

export interface QueueStatus {
  queued: number;
  running: number;
  bySession: { sessionId: string; queued: number; running: number }[];
  byProvider: { provider: string; queued: number; running: number; limit: number | null }[];
  maxRuns: number | null;
  /** Workers with a heartbeat within `seenWithinMs` (default 60 s), or stopped within it. */
  workers: {
    id: string;
    hostname: string;
    pid: number;
    providers: string[];
    concurrency: number;
    lastSeenAt: string;
    stopped: boolean;
  }[];
}

export interface RunQueueOptions extends QueueLocation {
  /** Connections of the queue's pool. Default 4. */
  poolSize?: number;
}

/**
 * The submitting side of the distributed run queue: `enqueue` stores a pending run and its
 * pg-boss job; `asm worker` processes (or a library `Worker`) on any machine execute it.
 */
export class RunQueue {
  readonly #db: QueueDb;
  readonly #ensured = new Set<string>();

  private constructor(db: QueueDb) {
    this.#db = db;
  }

  /** Connects to (creating when missing) the queue of the store at `options`. */
  static async open(options: RunQueueOptions): Promise<RunQueue> {
    const location = resolveLocation(options);
    return new RunQueue(await QueueDb.open(location, { poolSize: options.poolSize ?? 4, supervise: false }));
  }

  /**
   * Stores a pending run through `manager` (whose adapter names the provider that will execute
   * it) and queues it: its queue row and its job commit together, and the workers are woken.
   */
  async enqueue(manager: SessionManagerBase, options: EnqueueRunOptions): Promise<Run> {
    const slots = positiveInt(options.sessionSlots ?? 1, "sessionSlots");
    const maxAttempts = positiveInt(options.maxAttempts ?? 3, "maxAttempts");
    const provider = manager.adapter.name;
    const execOptions: JsonObject = {
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.providerOptions === undefined ? {} : { providerOptions: options.providerOptions }),
    };
    const run = await manager.startRun(options.sessionId, options.input, {
      metadata: {
        ...options.metadata,
        [WORKER_QUEUE_KEY]: { provider, submittedAt: new Date().toISOString(), attempt: 1 },
      },
    });
    await this.#ensureQueue(provider);
    await insertQueued(this.#db, {
      runId: run.id,
      sessionId: run.sessionId,
      provider,
      slots,
      retryable: options.retryable === true,
      attempt: 1,
      maxAttempts: options.retryable === true ? maxAttempts : 1,
      options: execOptions,
    });
    return run;
  }

  async #ensureQueue(provider: string): Promise<void> {
    if (this.#ensured.has(provider)) return;
    await this.#db.ensureJobQueue(provider);
    this.#ensured.add(provider);
  }

  /** Sets the cluster's caps (every worker's next admission obeys them). */
  async setLimits(limits: QueueLimits): Promise<void> {
    await setQueueLimits(this.#db, limits);
  }

  async status(options: { seenWithinMs?: number } = {}): Promise<QueueStatus> {
    return queueStatus(this.#db, options.seenWithinMs ?? 60_000);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

/** A queue row to insert; `position` keeps a retry in its attempt's place. */
export interface QueueRow {
  runId: string;
  sessionId: string;
  provider: string;
  slots: number;
  retryable: boolean;
  attempt: number;
  maxAttempts: number;
  options: JsonObject;
  position?: string;
}

/** The row, its pg-boss job and the wake-up, in one transaction. */
export async function insertQueued(db: QueueDb, row: QueueRow): Promise<void> {
  await db.transaction(async (client) => {
    await insertQueuedIn(client, db, row);
    await client.query("SELECT pg_notify($1, $2)", [db.location.queueChannel, row.provider]);
  });
}

/** The row and its pg-boss job, inside the caller's transaction (NOTIFY is the caller's). */
export async function insertQueuedIn(client: PoolClient, db: QueueDb, row: QueueRow): Promise<void> {
  await client.query(
    `INSERT INTO ${db.table} (run_id, session_id, provider, session_slots, retryable, attempt, max_attempts, options, position)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9::bigint, nextval(pg_get_serial_sequence('${db.table}', 'position'))))`,
    [
      row.runId,
      row.sessionId,
      row.provider,
      row.slots,
      row.retryable,
      row.attempt,
      row.maxAttempts,
      JSON.stringify(row.options),
      row.position ?? null,
    ],
  );
  await sendJob(client, db, row.provider, row.runId);
}

/** The run's pg-boss job, inside the caller's transaction. */
export async function sendJob(
  client: PoolClient,
  db: QueueDb,
  provider: string,
  runId: string,
): Promise<void> {
  await db.boss.send(
    jobQueueName(provider),
    { runId },
    {
      db: { executeSql: (text, values) => client.query(text, values) },
      // A job a worker cannot admit yet (a cap is full) goes back as a "retry": not a failure count.
      retryLimit: 1_000_000,
      retryDelay: 1,
      // The lease, not pg-boss's expiry, decides a dead worker; this only bounds a lost job.
      expireInHours: 23,
    },
  );
}

export async function setQueueLimits(db: QueueDb, limits: QueueLimits): Promise<void> {
  const entries: [string, number | null][] = [];
  if (limits.maxRuns !== undefined) entries.push(["global", limits.maxRuns]);
  for (const [provider, max] of Object.entries(limits.perProvider ?? {}))
    entries.push([`provider:${provider}`, max]);
  await db.transaction(async (client) => {
    for (const [scope, max] of entries) {
      if (max === null) {
        await client.query(`DELETE FROM ${db.limitsTable} WHERE scope = $1`, [scope]);
      } else {
        positiveInt(max, scope === "global" ? "maxRuns" : `perProvider.${scope.slice(9)}`);
        await client.query(
          `INSERT INTO ${db.limitsTable} (scope, max_runs) VALUES ($1, $2)
           ON CONFLICT (scope) DO UPDATE SET max_runs = EXCLUDED.max_runs`,
          [scope, max],
        );
      }
    }
  });
}

async function queueStatus(db: QueueDb, seenWithinMs: number): Promise<QueueStatus> {
  const [runs, limits, workers] = await Promise.all([
    db.pool.query<{ session_id: string; provider: string; state: string; n: string }>(
      `SELECT session_id, provider, state, count(*) AS n FROM ${db.table} GROUP BY 1, 2, 3 ORDER BY 1, 2`,
    ),
    db.pool.query<{ scope: string; max_runs: number }>(`SELECT scope, max_runs FROM ${db.limitsTable}`),
    db.pool.query<{
      id: string;
      hostname: string;
      pid: number;
      providers: string[];
      concurrency: number;
      last_seen_at: Date;
      stopped_at: Date | null;
    }>(
      `SELECT * FROM ${db.workersTable}
       WHERE last_seen_at > now() - $1 * interval '1 millisecond' ORDER BY started_at, id`,
      [seenWithinMs],
    ),
  ]);
  const limitOf = new Map(limits.rows.map((row) => [row.scope, row.max_runs]));
  const sessions = new Map<string, { sessionId: string; queued: number; running: number }>();
  const providers = new Map<
    string,
    { provider: string; queued: number; running: number; limit: number | null }
  >();
  let queued = 0;
  let running = 0;
  for (const row of runs.rows) {
    const n = Number(row.n);
    const isQueued = row.state === "queued";
    const session = sessions.get(row.session_id) ?? { sessionId: row.session_id, queued: 0, running: 0 };
    const provider = providers.get(row.provider) ?? {
      provider: row.provider,
      queued: 0,
      running: 0,
      limit: limitOf.get(`provider:${row.provider}`) ?? null,
    };
    if (isQueued) {
      queued += n;
      session.queued += n;
      provider.queued += n;
    } else {
      running += n;
      session.running += n;
      provider.running += n;
    }
    sessions.set(row.session_id, session);
    providers.set(row.provider, provider);
  }
  return {
    queued,
    running,
    bySession: [...sessions.values()],
    byProvider: [...providers.values()],
    maxRuns: limitOf.get("global") ?? null,
    workers: workers.rows.map((row) => ({
      id: row.id,
      hostname: row.hostname,
      pid: row.pid,
      providers: row.providers,
      concurrency: row.concurrency,
      lastSeenAt: row.last_seen_at.toISOString(),
      stopped: row.stopped_at !== null,
    })),
  };
}

function positiveInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new AsmError("validation_error", `${field} must be a positive integer, got ${String(value)}`, {
      details: { field },
    });
  }
  return value;
}
