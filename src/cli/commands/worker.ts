import { AsmError } from "../../core/errors.js";
import { cliAdapterOptions } from "../../providers/cli-face.js";
import { checkCredentials, getProvider } from "../../providers/registry.js";
import { SessionManager } from "../../session-manager.js";
import { openDurableStore, parseStoreTarget } from "../../stores/open-store.js";
import type { QueueLimits } from "../../workers/run-queue.js";
import { Worker } from "../../workers/worker.js";
import { databaseLocation } from "../open-store.js";
import { EXIT, reportError } from "../output.js";

export interface WorkerCommandOptions {
  db?: string;
  concurrency?: number;
  /** Comma-separated provider names. */
  providers?: string;
  leaseMs?: number;
  graceMs?: number;
  maxRuns?: number;
  /** `provider=n`, repeatable. */
  providerLimit?: string[];
  /** `--no-redact` sets it false. */
  redact?: boolean;
}

/** Where the queue of a `postgres://` store is: a SQLite or memory store has none. */
export function queueLocationOf(db: string | undefined): { connectionString: string; schema: string } {
  const target = parseStoreTarget(databaseLocation(db));
  if (target.kind !== "postgres") {
    throw new AsmError("validation_error", "the run queue needs a PostgreSQL database", {
      details: { field: "--db" },
      hint: "pass --db postgres://user@host:5432/db?schema=name (or set ASM_DB)",
    });
  }
  return { connectionString: target.connectionString, schema: target.schema ?? "public" };
}

/**
 * `asm worker`: executes queued runs of the given providers until SIGTERM or SIGINT, then stops
 * taking jobs, lets running runs finish within the grace, cancels the rest, and exits 0.
 */
export async function workerCommand(options: WorkerCommandOptions): Promise<number> {
  let store: Awaited<ReturnType<typeof openDurableStore>> | undefined;
  try {
    const location = queueLocationOf(options.db);
    // Leases decide a dead worker here, not the store's same-host pid probe.
    store = await openDurableStore(databaseLocation(options.db), { autoMigrate: true, recover: false });
    const names = (options.providers ?? "shell")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    const managers: SessionManager[] = [];
    for (const name of names) {
      const descriptor = getProvider(name);
      const adapterOptions = cliAdapterOptions(descriptor);
      const credentials = checkCredentials(descriptor.name, {
        ...(typeof adapterOptions.executablePath === "string"
          ? { executablePath: adapterOptions.executablePath }
          : {}),
      });
      if (!credentials.ok) throw credentials.error;
      const adapter = await descriptor.create(adapterOptions);
      managers.push(new SessionManager({ store, adapter, redaction: options.redact !== false }));
    }
    const worker = new Worker({
      ...location,
      managers,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
      ...(limitsOf(options) ? { limits: limitsOf(options) } : {}),
    });
    await worker.start();
    process.stderr.write(`asm: worker ${worker.id} taking ${worker.providers.join(", ")} runs\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    process.stderr.write(`asm: ${signal}: stopping (running runs get ${options.graceMs ?? 30_000} ms)\n`);
    await worker.stop({ graceMs: options.graceMs ?? 30_000 });
    return EXIT.ok;
  } catch (error) {
    return reportError(error, false);
  } finally {
    await store?.close();
  }
}

function limitsOf(options: WorkerCommandOptions): QueueLimits | undefined {
  const perProvider: Record<string, number> = {};
  for (const entry of options.providerLimit ?? []) {
    const [name, value] = entry.split("=");
    const max = Number(value);
    if (!name || !Number.isInteger(max) || max < 1) {
      throw new AsmError("validation_error", `--provider-limit takes provider=n (n >= 1), got ${entry}`, {
        details: { field: "--provider-limit" },
      });
    }
    perProvider[name] = max;
  }
  if (options.maxRuns === undefined && Object.keys(perProvider).length === 0) return undefined;
  return { ...(options.maxRuns === undefined ? {} : { maxRuns: options.maxRuns }), perProvider };
}
