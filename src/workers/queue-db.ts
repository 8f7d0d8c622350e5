/**
 * The tables of the distributed run queue, beside pg-boss's own in one schema
 * (`<store schema>_queue` by default), and the connection to them.
 *
 * pg-boss delivers the jobs (one per queued run, `FOR UPDATE SKIP LOCKED`), retries and
 * expires them. What pg-boss 10 cannot do — a cap on active jobs across the cluster, per
 * provider, and per session in submission order — is decided here, in one transaction that
 * holds a cluster-wide advisory lock while it counts the leases and takes one.
 */
import type { Pool, PoolClient } from "pg";
import { AsmError } from "../core/errors.js";
import { loadPg, type PgDriver } from "../stores/postgres/pg-driver.js";
import { lazyImport } from "../utils/lazy-import.js";

export type PgBossModule = typeof import("pg-boss");
export type PgBossInstance = InstanceType<PgBossModule>;

/** Loads pg-boss, an optional peer; missing, it is `dependency_not_available` with the install command. */
export const loadPgBoss: () => Promise<PgBossModule> = lazyImport(
  async () => {
    const module = await import("pg-boss");
    return (module as { default?: PgBossModule }).default ?? (module as unknown as PgBossModule);
  },
  (cause) =>
    new AsmError("dependency_not_available", "the distributed run queue needs the pg-boss package", {
      cause,
      details: { dependency: "pg-boss" },
      hint: "Install it next to agent-session-manager: npm install pg-boss@10 pg",
    }),
);

/** Where the queue lives: the run store's database and schema. */
export interface QueueLocation {
  /** The PostgreSQL the run store uses (`postgres://…`). */
  connectionString: string;
  /** The run store's schema. Default `"public"`. */
  schema?: string;
  /**
   * The schema of the queue's tables and pg-boss's. Default `<schema>_queue`. Lower-case
   * letters, digits and `_`.
   */
  queueSchema?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** pg-boss queue names: one queue per provider, so a worker fetches only what it can execute. */
export const JOB_QUEUE_PREFIX = "asm-runs-";
/** Key of the advisory lock every admission holds: admissions are serialized cluster-wide. */
export const ADMISSION_LOCK_KEY = 0x61736d71; // "asmq"

export interface ResolvedLocation {
  connectionString: string;
  schema: string;
  queueSchema: string;
  /** NOTIFY channel of the queue: a run queued or a lease released (payload: provider or ""). */
  queueChannel: string;
  /** The store's NOTIFY channel (appends; a cancel is one), payload `origin:sessionId`. */
  eventsChannel: string;
}

export function resolveLocation(location: QueueLocation): ResolvedLocation {
  const schema = location.schema ?? "public";
  const queueSchema = location.queueSchema ?? `${schema}_queue`;
  for (const [field, value] of [
    ["schema", schema],
    ["queueSchema", queueSchema],
  ] as const) {
    if (!SCHEMA_NAME.test(value)) {
      throw new AsmError("validation_error", `${field} must be a lower-case identifier, got ${value}`, {
        details: { field },
      });
    }
  }
  if (typeof location.connectionString !== "string" || location.connectionString === "") {
    throw new AsmError("validation_error", "connectionString is required", {
      details: { field: "connectionString" },
    });
  }
  return {
    connectionString: location.connectionString,
    schema,
    queueSchema,
    queueChannel: `asm_queue_${queueSchema}`.slice(0, 63),
    eventsChannel: `asm_events_${schema}`.slice(0, 63),
  };
}

export function jobQueueName(provider: string): string {
  return `${JOB_QUEUE_PREFIX}${provider}`;
}

/**
 * `runs`: one row per queued run until it ends — FIFO position, per-session slots, and the lease
 * of the worker executing it. `limits`: the cluster's caps (`global`, `provider:<name>`).
 * `workers`: the workers seen, with their last heartbeat.
 */
function schemaSql(queueSchema: string): string {
  const s = `"${queueSchema}"`;
  return `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.asm_queued_runs (
      run_id text PRIMARY KEY,
      session_id text NOT NULL,
      provider text NOT NULL,
      position bigserial NOT NULL,
      session_slots integer NOT NULL DEFAULT 1,
      retryable boolean NOT NULL DEFAULT false,
      attempt integer NOT NULL DEFAULT 1,
      max_attempts integer NOT NULL DEFAULT 1,
      options jsonb NOT NULL DEFAULT '{}',
      state text NOT NULL DEFAULT 'queued',
      worker_id text,
      job_id text,
      parked boolean NOT NULL DEFAULT false,
      lease_expires_at timestamptz,
      submitted_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS asm_queued_runs_session ON ${s}.asm_queued_runs (session_id, position);
    CREATE TABLE IF NOT EXISTS ${s}.asm_limits (scope text PRIMARY KEY, max_runs integer NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.asm_workers (
      id text PRIMARY KEY,
      hostname text NOT NULL,
      pid integer NOT NULL,
      providers text[] NOT NULL,
      concurrency integer NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      stopped_at timestamptz
    );`;
}

/** The queue's pool (its own: the store's pool is private to the store) and pg-boss. */
export class QueueDb {
  readonly location: ResolvedLocation;
  readonly pg: PgDriver;
  readonly pool: Pool;
  readonly boss: PgBossInstance;
  #closed = false;

  private constructor(location: ResolvedLocation, pg: PgDriver, pool: Pool, boss: PgBossInstance) {
    this.location = location;
    this.pg = pg;
    this.pool = pool;
    this.boss = boss;
  }

  /**
   * Connects, creates the tables when missing and starts pg-boss (which creates or migrates its
   * own tables). `supervise` runs pg-boss's maintenance (expiry of jobs, retention) here.
   */
  static async open(
    location: ResolvedLocation,
    options: { poolSize: number; supervise: boolean; maintenanceIntervalSeconds?: number },
  ): Promise<QueueDb> {
    const [pg, PgBoss] = await Promise.all([loadPg(), loadPgBoss()]);
    const pool = new pg.Pool({
      connectionString: location.connectionString,
      max: options.poolSize,
      application_name: "agent-session-manager-queue",
    });
    pool.on("error", () => undefined); // an idle client's failure surfaces on the next query
    const boss = new PgBoss({
      connectionString: location.connectionString,
      schema: location.queueSchema,
      max: Math.max(2, Math.ceil(options.poolSize / 2)),
      application_name: "agent-session-manager-queue",
      supervise: options.supervise,
      schedule: false,
      ...(options.maintenanceIntervalSeconds === undefined
        ? {}
        : { maintenanceIntervalSeconds: options.maintenanceIntervalSeconds }),
    });
    boss.on("error", () => undefined); // pg-boss retries its own maintenance; runs see their own errors
    try {
      await withSchemaLock(pool, location.queueSchema, (client) =>
        client.query(schemaSql(location.queueSchema)),
      );
      await boss.start();
    } catch (error) {
      await Promise.allSettled([pool.end(), boss.stop({ graceful: false, wait: false })]);
      throw new AsmError("storage_connection_failed", "could not open the run queue", {
        cause: error,
        details: { queueSchema: location.queueSchema },
      });
    }
    return new QueueDb(location, pg, pool, boss);
  }

  get table(): string {
    return `"${this.location.queueSchema}".asm_queued_runs`;
  }

  get limitsTable(): string {
    return `"${this.location.queueSchema}".asm_limits`;
  }

  get workersTable(): string {
    return `"${this.location.queueSchema}".asm_workers`;
  }

  /**
   * Creates pg-boss's queue of `provider` when missing (idempotent). One process at a time:
   * pg-boss's `createQueue` run by two processes at once can deadlock (40P01, seen when three
   * workers start together), so it runs under the schema's DDL lock, checked again inside it.
   */
  async ensureJobQueue(provider: string): Promise<void> {
    const name = jobQueueName(provider);
    if ((await this.boss.getQueue(name)) !== null) return;
    await withSchemaLock(this.pool, this.location.queueSchema, async () => {
      if ((await this.boss.getQueue(name)) === null)
        await this.boss.createQueue(name, { name, policy: "standard" });
    });
  }

  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}

/** DDL under a transaction-level advisory lock: concurrent `CREATE … IF NOT EXISTS` can still collide. */
async function withSchemaLock(
  pool: Pool,
  queueSchema: string,
  work: (client: PoolClient) => Promise<unknown>,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`asm-queue-ddl:${queueSchema}`]);
    await work(client);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
