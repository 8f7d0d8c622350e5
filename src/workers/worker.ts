import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { PoolClient } from "pg";
import { AsmError } from "../core/errors.js";
import type { EventDraft } from "../core/events.js";
import { newId } from "../core/ids.js";
import { isTerminalRunStatus, type Run, transitionRun } from "../core/run.js";
import type { JsonObject } from "../core/session.js";
import { EMPTY_TOKEN_USAGE } from "../core/token-usage.js";
import type { ExecuteRunOptions, SessionManagerBase } from "../manager/session-manager.js";
import type { SessionStore } from "../ports/session-store.js";
import { ChannelListener } from "../stores/postgres/listener.js";
import {
  ADMISSION_LOCK_KEY,
  jobQueueName,
  QueueDb,
  type QueueLocation,
  type ResolvedLocation,
  resolveLocation,
} from "./queue-db.js";
import { insertQueuedIn, type QueueLimits, sendJob, setQueueLimits, WORKER_QUEUE_KEY } from "./run-queue.js";

export interface WorkerOptions extends QueueLocation {
  /**
   * One manager per provider this worker executes, all on the run store at `connectionString`
   * and `schema` (a `PostgresSessionStore`). The worker takes only jobs of these providers.
   */
  managers: readonly SessionManagerBase[];
  /** Runs this worker executes (or holds while waiting for admission) at once. Default 2. */
  concurrency?: number;
  /**
   * How long a run's lease lasts without a heartbeat: a worker that dies (SIGKILL, lost host)
   * stops renewing it, and once it expires any worker fails the run (or queues its retry).
   * Heartbeats come every third of it. Default 30000 ms.
   */
  leaseMs?: number;
  /**
   * How long a job whose run cannot start yet (its session's earlier run, or a limit) waits here,
   * woken when a lease is released, before it goes back to the queue. Default 2000 ms.
   */
  admissionWaitMs?: number;
  /** Fetch anyway this often when no NOTIFY woke the worker. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Cluster limits to write when the worker starts (every worker obeys the stored ones). Default: none written. */
  limits?: QueueLimits;
  /** Default: `<hostname>-<pid>-<random>`. */
  workerId?: string;
  /** Run pg-boss's maintenance (job expiry, retention) in this worker. Default true. */
  supervise?: boolean;
}

export interface WorkerStopOptions {
  /**
   * How long running runs may go on to finish after taking new jobs stops; the ones still
   * running then are cancelled (recorded, their process trees stopped). Jobs still waiting for
   * admission go back to the queue at once. Default 30000 ms.
   */
  graceMs?: number;
}

/** The error `details.reason` of a run failed because its worker's lease expired. */
export const LEASE_EXPIRED = "worker_lease_expired";

interface QueuedRow {
  run_id: string;
  session_id: string;
  provider: string;
  position: string;
  session_slots: number;
  retryable: boolean;
  attempt: number;
  max_attempts: number;
  options: JsonObject;
  state: string;
  worker_id: string | null;
  job_id: string | null;
  parked: boolean;
}

interface InFlight {
  sessionId: string;
  controller: AbortController;
  checking: boolean;
}

/**
 * `parked`: the run waits for its session (an earlier run, or no free slot): its job is cancelled
 * and the release of a run of that session sends it a new one. `blocked`: it waits for a cap.
 */
type Admission =
  | { kind: "admitted"; row: QueuedRow }
  | { kind: "parked" }
  | { kind: "blocked" }
  | { kind: "gone" };

/**
 * Executes runs queued with `RunQueue.enqueue`, from any process, through its managers into the
 * shared PostgreSQL store. Any number of workers on any number of machines share the work:
 *
 * - **Delivery** is pg-boss's (one job per run, one queue per provider).
 * - **Admission** — per-session FIFO with the session's slots, the cluster's global and
 *   per-provider caps — is one transaction under a cluster-wide advisory lock that counts the
 *   leases and takes one; a job that cannot start yet waits (woken by releases) or goes back.
 * - **Leases** are renewed by heartbeat; an expired one fails its run (`internal_error`,
 *   `details.reason: "worker_lease_expired"`) or queues a retry, and a worker that loses its
 *   lease stops the run. The run's own pending→running compare-and-set means no run executes twice.
 * - **Cancel** from any process (`cancelRun`) is seen through the store's NOTIFY and stops the
 *   provider's process tree here.
 */
export class Worker {
  readonly id: string;
  readonly #options: Required<Omit<WorkerOptions, "limits" | "workerId" | "managers" | keyof QueueLocation>>;
  readonly #location: ResolvedLocation;
  readonly #managers = new Map<string, SessionManagerBase>();
  readonly #store: SessionStore;
  readonly #limits: QueueLimits | undefined;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #handling = new Set<Promise<void>>();
  readonly #wake = new Wakeup();
  readonly #released = new Wakeup();
  #db: QueueDb | undefined;
  #queueListener: ChannelListener | undefined;
  #eventsListener: ChannelListener | undefined;
  #loop: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];
  #stopping = false;
  #providerTurn = 0;

  constructor(options: WorkerOptions) {
    this.#location = resolveLocation(options);
    if (!Array.isArray(options.managers) || options.managers.length === 0) {
      throw new AsmError("validation_error", "a worker needs at least one manager", {
        details: { field: "managers" },
      });
    }
    for (const manager of options.managers) this.#managers.set(manager.adapter.name, manager);
    const first = options.managers[0] as SessionManagerBase;
    this.#store = first.store;
    this.#limits = options.limits;
    this.#options = {
      concurrency: positive(options.concurrency ?? 2, "concurrency"),
      leaseMs: positive(options.leaseMs ?? 30_000, "leaseMs"),
      admissionWaitMs: positive(options.admissionWaitMs ?? 2000, "admissionWaitMs"),
      pollIntervalMs: positive(options.pollIntervalMs ?? 1000, "pollIntervalMs"),
      supervise: options.supervise ?? true,
    };
    this.id = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  }

  /** Providers this worker executes. */
  get providers(): string[] {
    return [...this.#managers.keys()];
  }

  /** Runs executing here now. */
  get runningRunIds(): string[] {
    return [...this.#inFlight.keys()];
  }

  /** Connects, registers, and starts taking jobs. */
  async start(): Promise<void> {
    if (this.#db) throw new AsmError("invalid_operation", "the worker is already started");
    const db = await QueueDb.open(this.#location, {
      poolSize: this.#options.concurrency + 3,
      supervise: this.#options.supervise,
    });
    this.#db = db;
    for (const provider of this.providers) await db.ensureJobQueue(provider);
    if (this.#limits) await setQueueLimits(db, this.#limits);
    await db.pool.query(
      `INSERT INTO ${db.workersTable} (id, hostname, pid, providers, concurrency) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), stopped_at = NULL`,
      [this.id, hostname(), process.pid, this.providers, this.#options.concurrency],
    );
    const createClient = () =>
      new db.pg.Client({
        connectionString: this.#location.connectionString,
        keepAlive: true,
        application_name: "agent-session-manager-worker",
      });
    this.#queueListener = new ChannelListener({
      createClient,
      listenSql: `LISTEN ${db.pg.escapeIdentifier(this.#location.queueChannel)}`,
      onNotification: () => {
        this.#wake.notify();
        this.#released.notify();
      },
      onListening: () => this.#wake.notify(),
    });
    this.#eventsListener = new ChannelListener({
      createClient,
      listenSql: `LISTEN ${db.pg.escapeIdentifier(this.#location.eventsChannel)}`,
      onNotification: (payload) => this.#onSessionActivity(payload),
      onListening: () => this.#onSessionActivity(""),
    });
    this.#queueListener.retain();
    this.#eventsListener.retain();
    const heartbeatMs = Math.max(1, Math.floor(this.#options.leaseMs / 3));
    this.#timers.push(
      setInterval(() => void this.#heartbeat().catch(() => undefined), heartbeatMs),
      setInterval(
        () => void this.reapExpiredLeases().catch(() => undefined),
        Math.max(1, this.#options.leaseMs / 2),
      ),
    );
    await this.reapExpiredLeases();
    this.#loop = this.#fetchLoop();
  }

  /**
   * Stops taking jobs, gives running runs `graceMs` to finish, cancels the rest, and
   * disconnects. Safe to call more than once.
   */
  async stop(options: WorkerStopOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? 30_000;
    const db = this.#db;
    if (!db || this.#stopping) {
      await this.#loop;
      return;
    }
    this.#stopping = true;
    this.#wake.notify();
    this.#released.notify();
    await this.#loop;
    const settled = Promise.all([...this.#handling]);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace">((resolve) => {
      timer = setTimeout(() => resolve("grace"), graceMs);
    });
    if ((await Promise.race([settled.then(() => "done" as const), graceOver])) === "grace") {
      for (const flight of this.#inFlight.values()) flight.controller.abort();
      await settled;
    }
    clearTimeout(timer);
    for (const interval of this.#timers) clearInterval(interval);
    await db.pool
      .query(`UPDATE ${db.workersTable} SET stopped_at = now(), last_seen_at = now() WHERE id = $1`, [
        this.id,
      ])
      .catch(() => undefined);
    await Promise.allSettled([this.#queueListener?.close(), this.#eventsListener?.close()]);
    await db.close();
  }

  async #fetchLoop(): Promise<void> {
    const db = this.#requireDb();
    const providers = this.providers;
    while (!this.#stopping) {
      const free = this.#options.concurrency - this.#handling.size;
      let fetched = 0;
      if (free > 0) {
        for (let i = 0; i < providers.length && fetched < free && !this.#stopping; i++) {
          const provider = providers[(this.#providerTurn + i) % providers.length] as string;
          const jobs = await db.boss
            .fetch<{ runId: string }>(jobQueueName(provider), { batchSize: free - fetched })
            .catch(() => []);
          for (const job of jobs ?? []) {
            fetched++;
            this.#track(this.#handle(provider, job.id, job.data.runId));
          }
        }
        this.#providerTurn++;
      }
      if (fetched === 0 || this.#handling.size >= this.#options.concurrency) {
        await this.#wake.wait(this.#options.pollIntervalMs);
      }
    }
  }

  #track(handling: Promise<void>): void {
    this.#handling.add(handling);
    void handling.finally(() => {
      this.#handling.delete(handling);
      this.#wake.notify();
    });
  }

  async #handle(provider: string, jobId: string, runId: string): Promise<void> {
    const db = this.#requireDb();
    const queue = jobQueueName(provider);
    try {
      let admission = await this.#admit(runId, jobId);
      const deadline = Date.now() + this.#options.admissionWaitMs;
      while (admission.kind === "blocked" && !this.#stopping && Date.now() < deadline) {
        await this.#released.wait(deadline - Date.now());
        admission = await this.#admit(runId, jobId);
      }
      if (admission.kind === "parked") return;
      if (admission.kind === "blocked") {
        // Back to the queue: pg-boss offers it again after its retry delay.
        await db.boss.fail(queue, jobId, { deferred: true });
        return;
      }
      if (admission.kind === "admitted") await this.#execute(admission.row);
      await db.boss.complete(queue, jobId);
    } catch (error) {
      await db.boss.fail(queue, jobId, { error: AsmError.from(error).toJSON() }).catch(() => undefined);
    }
  }

  /**
   * One admission decision, serialized with every other worker's by the advisory lock: the run
   * starts when no earlier queued run of its session waits, its session has a free slot, and
   * the global and provider caps have room — all counted from the leases.
   */
  async #admit(runId: string, jobId: string): Promise<Admission> {
    const db = this.#requireDb();
    const run = await this.#store.getRun(runId).catch((error: unknown) => {
      if (AsmError.is(error, "run_not_found")) return undefined;
      throw error;
    });
    if (run === undefined || run.status !== "pending") {
      // Cancelled (or deleted) before it started: its queue row goes, and the session moves on.
      await this.#release(runId, null);
      return { kind: "gone" };
    }
    return db.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [ADMISSION_LOCK_KEY]);
      const own = await client.query<QueuedRow>(`SELECT * FROM ${db.table} WHERE run_id = $1`, [runId]);
      const row = own.rows[0];
      if (row === undefined || row.state !== "queued") return { kind: "gone" };
      const counts = await client.query<{
        ahead: string;
        session_running: string;
        running: string;
        provider_running: string;
      }>(
        `SELECT
           count(*) FILTER (WHERE session_id = $1 AND state = 'queued' AND position < $2) AS ahead,
           count(*) FILTER (WHERE session_id = $1 AND state = 'leased') AS session_running,
           count(*) FILTER (WHERE state = 'leased') AS running,
           count(*) FILTER (WHERE state = 'leased' AND provider = $3) AS provider_running
         FROM ${db.table}`,
        [row.session_id, row.position, row.provider],
      );
      const limits = await client.query<{ scope: string; max_runs: number }>(
        `SELECT scope, max_runs FROM ${db.limitsTable} WHERE scope IN ('global', $1)`,
        [`provider:${row.provider}`],
      );
      const c = counts.rows[0] as {
        ahead: string;
        session_running: string;
        running: string;
        provider_running: string;
      };
      const cap = (scope: string) => limits.rows.find((limit) => limit.scope === scope)?.max_runs ?? Infinity;
      if (Number(c.ahead) > 0 || Number(c.session_running) >= row.session_slots) {
        // Only a release in its session can let it start; holding a slot for it meanwhile would
        // starve other sessions behind a long run. Under the lock, so that release cannot be missed.
        await client.query(`UPDATE ${db.table} SET parked = true, job_id = NULL WHERE run_id = $1`, [runId]);
        await db.boss.cancel(jobQueueName(row.provider), jobId, { db: executor(client) });
        return { kind: "parked" };
      }
      if (
        Number(c.running) >= cap("global") ||
        Number(c.provider_running) >= cap(`provider:${row.provider}`)
      ) {
        return { kind: "blocked" };
      }
      await client.query(
        `UPDATE ${db.table} SET state = 'leased', worker_id = $2, job_id = $3,
           lease_expires_at = now() + $4 * interval '1 millisecond' WHERE run_id = $1`,
        [runId, this.id, jobId, this.#options.leaseMs],
      );
      return { kind: "admitted", row };
    });
  }

  async #execute(row: QueuedRow): Promise<void> {
    const manager = this.#managers.get(row.provider);
    if (!manager) throw new AsmError("provider_not_found", `this worker has no manager for ${row.provider}`);
    const flight: InFlight = {
      sessionId: row.session_id,
      controller: new AbortController(),
      checking: false,
    };
    this.#inFlight.set(row.run_id, flight);
    const options: ExecuteRunOptions = { signal: flight.controller.signal };
    const stored = row.options as { timeoutMs?: number; providerOptions?: Record<string, JsonObject> };
    if (stored.timeoutMs !== undefined) options.timeoutMs = stored.timeoutMs;
    if (stored.providerOptions !== undefined) options.providerOptions = stored.providerOptions;
    try {
      // The outcome (completed, failed, cancelled, timeout) is stored by the manager either way.
      await manager.executeRun(row.run_id, options).catch(() => undefined);
    } finally {
      this.#inFlight.delete(row.run_id);
      await this.#release(row.run_id, this.id);
    }
  }

  /**
   * Deletes the run's queue row — this worker's lease, or (`workerId` null) a row still queued,
   * never another worker's lease — wakes its session's parked runs that may start now, and the
   * workers waiting for a slot.
   */
  async #release(runId: string, workerId: string | null): Promise<void> {
    const db = this.#requireDb();
    await db.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [ADMISSION_LOCK_KEY]);
      const gone = await client.query<{ session_id: string }>(
        `DELETE FROM ${db.table} WHERE run_id = $1
           AND (($2::text IS NULL AND state = 'queued') OR worker_id = $2) RETURNING session_id`,
        [runId, workerId],
      );
      const sessionId = gone.rows[0]?.session_id;
      if (sessionId === undefined) return;
      await wakeSession(client, db, sessionId);
      await client.query("SELECT pg_notify($1, '')", [this.#location.queueChannel]);
    });
  }

  /** Renews this worker's leases; a run whose lease is no longer ours (reaped) is stopped here. */
  async #heartbeat(): Promise<void> {
    const db = this.#requireDb();
    await db.pool.query(`UPDATE ${db.workersTable} SET last_seen_at = now() WHERE id = $1`, [this.id]);
    const runIds = [...this.#inFlight.keys()];
    if (runIds.length === 0) return;
    const renewed = await db.pool.query<{ run_id: string }>(
      `UPDATE ${db.table} SET lease_expires_at = now() + $3 * interval '1 millisecond'
       WHERE run_id = ANY($1) AND worker_id = $2 AND state = 'leased' RETURNING run_id`,
      [runIds, this.id, this.#options.leaseMs],
    );
    const kept = new Set(renewed.rows.map((row) => row.run_id));
    for (const runId of runIds) {
      if (!kept.has(runId)) this.#inFlight.get(runId)?.controller.abort();
    }
  }

  /**
   * Ends the runs whose worker stopped renewing their lease: a running run fails (or, when
   * retryable and attempts remain, a new attempt takes its place in the session's order); one
   * its worker never started goes back to the queue. Every worker calls this on a timer; row
   * locks (`SKIP LOCKED`) keep two from reaping the same lease.
   */
  async reapExpiredLeases(): Promise<string[]> {
    const db = this.#requireDb();
    const reaped: string[] = [];
    const any = await db.pool.query(
      `SELECT 1 FROM ${db.table} WHERE state = 'leased' AND lease_expires_at < now() LIMIT 1`,
    );
    if (any.rowCount === 0) return reaped;
    await db.transaction(async (client) => {
      // The admission lock first, as every writer of leases takes it: no lock-order deadlock.
      await client.query("SELECT pg_advisory_xact_lock($1)", [ADMISSION_LOCK_KEY]);
      const expired = await client.query<QueuedRow>(
        `SELECT * FROM ${db.table} WHERE state = 'leased' AND lease_expires_at < now() ORDER BY position`,
      );
      for (const row of expired.rows) {
        await this.#reap(client, row);
        reaped.push(row.run_id);
      }
    });
    if (reaped.length > 0) this.#wake.notify();
    return reaped;
  }

  async #reap(client: PoolClient, row: QueuedRow): Promise<void> {
    const db = this.#requireDb();
    const run = await this.#store.getRun(row.run_id).catch(() => undefined);
    if (row.job_id)
      await db.boss.complete(jobQueueName(row.provider), row.job_id, { reaped: true }).catch(() => undefined);
    if (run?.status === "pending") {
      // Its worker died between admission and start: the run never ran, so it simply waits again.
      await client.query(`DELETE FROM ${db.table} WHERE run_id = $1`, [row.run_id]);
      await requeue(client, db, row);
      return;
    }
    if (run?.status === "running") await this.#failLost(run, row);
    await client.query(`DELETE FROM ${db.table} WHERE run_id = $1`, [row.run_id]);
    if (run && row.retryable && row.attempt < row.max_attempts) {
      const retry = await this.#storeRetry(run, row);
      await requeue(client, db, { ...row, run_id: retry.id, attempt: row.attempt + 1 });
    }
    await wakeSession(client, db, row.session_id);
    await client.query("SELECT pg_notify($1, '')", [this.#location.queueChannel]);
  }

  async #failLost(run: Run, row: QueuedRow): Promise<void> {
    const now = new Date();
    const message = `the worker ${row.worker_id ?? "?"} executing this run stopped renewing its lease (it died or lost the database)`;
    const details = {
      reason: LEASE_EXPIRED,
      workerId: row.worker_id,
      attempt: row.attempt,
      retried: row.retryable && row.attempt < row.max_attempts,
    };
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
    await this.#store
      .saveRun(failed, { expectedStatus: "running", events: [event] })
      .catch((error: unknown) => {
        // Ended meanwhile (its worker finished after all, or a cancel): that outcome stands.
        if (!AsmError.is(error, "invalid_transition")) throw error;
      });
  }

  /** A new pending run with the lost attempt's input, for the next attempt. */
  async #storeRetry(run: Run, row: QueuedRow): Promise<Run> {
    const queueEntry = (run.metadata[WORKER_QUEUE_KEY] ?? {}) as JsonObject;
    const retry: Run = {
      id: newId("run"),
      sessionId: run.sessionId,
      status: "pending",
      input: run.input,
      metadata: {
        ...run.metadata,
        [WORKER_QUEUE_KEY]: { ...queueEntry, attempt: row.attempt + 1, retryOf: run.id },
      },
      turnCount: 0,
      tokenUsage: { ...EMPTY_TOKEN_USAGE },
      costUsd: null,
      providerMetadata: {},
      createdAt: new Date().toISOString(),
    };
    await this.#store.saveRun(retry);
    return retry;
  }

  /** A store NOTIFY: a run of that session executing here may have been cancelled elsewhere. */
  #onSessionActivity(payload: string): void {
    const separator = payload.indexOf(":");
    const sessionId = separator < 0 ? "" : payload.slice(separator + 1);
    for (const [runId, flight] of this.#inFlight) {
      if ((sessionId === "" || flight.sessionId === sessionId) && !flight.checking) {
        flight.checking = true;
        void this.#store
          .getRun(runId)
          .then((run) => {
            if (isTerminalRunStatus(run.status)) flight.controller.abort();
          })
          .catch(() => undefined)
          .finally(() => {
            flight.checking = false;
          });
      }
    }
  }

  #requireDb(): QueueDb {
    if (!this.#db) throw new AsmError("invalid_operation", "the worker is not started");
    return this.#db;
  }
}

/** pg-boss's `db` option: its statement runs on `client`, inside the caller's transaction. */
function executor(client: PoolClient) {
  return { executeSql: (text: string, values: unknown[]) => client.query(text, values) };
}

/**
 * Under the admission lock, after a run of the session left its queue: the first queued runs
 * of the session (as many as its slots) that are parked get a new job.
 */
async function wakeSession(client: PoolClient, db: QueueDb, sessionId: string): Promise<void> {
  const head = await client.query<QueuedRow>(
    `SELECT * FROM ${db.table} WHERE session_id = $1 AND state = 'queued' ORDER BY position
     LIMIT (SELECT COALESCE(max(session_slots), 1) FROM ${db.table} WHERE session_id = $1)`,
    [sessionId],
  );
  for (const row of head.rows) {
    if (!row.parked) continue;
    await client.query(`UPDATE ${db.table} SET parked = false WHERE run_id = $1`, [row.run_id]);
    await sendJob(client, db, row.provider, row.run_id);
  }
}

/** Re-queues `row` in the same place of its session's order, with a new job. */
async function requeue(client: PoolClient, db: QueueDb, row: QueuedRow): Promise<void> {
  await insertQueuedIn(client, db, {
    runId: row.run_id,
    sessionId: row.session_id,
    provider: row.provider,
    slots: row.session_slots,
    retryable: row.retryable,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    options: row.options,
    position: row.position,
  });
}

/**
 * A wake-up many can wait on with a timeout. A `notify` with nobody waiting is kept for the next
 * `wait` (a NOTIFY that arrives while the loop is fetching must not wait out the poll interval).
 */
class Wakeup {
  #waiters = new Set<() => void>();
  #pending = false;

  notify(): void {
    if (this.#waiters.size === 0) {
      this.#pending = true;
      return;
    }
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
    });
  }
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new AsmError("validation_error", `${field} must be a positive number, got ${String(value)}`, {
      details: { field },
    });
  }
  return value;
}
