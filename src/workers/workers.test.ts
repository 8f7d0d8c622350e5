/**
 * The distributed run queue with real worker processes on the real PostgreSQL: three workers
 * and this process submitting, a SIGKILLed worker, and a cancel from here of a run executing there.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../core/run.js";
import { ShellAdapter } from "../providers/shell/index.js";
import { SessionManager } from "../session-manager.js";
import type { PostgresSessionStore } from "../stores/postgres/index.js";
import { dropSchemas, TEST_DATABASE_URL } from "../stores/postgres/test-support/database.js";
import { useTestSchemas } from "../stores/postgres/test-support/harness.js";
import { isProcessAlive } from "../testing/adapter-conformance.js";
import { RunQueue } from "./run-queue.js";
import { startWorkerProcess, type WorkerProcess, waitFor } from "./test-support/cluster.js";
import { LEASE_EXPIRED } from "./worker.js";

const schemas = useTestSchemas();
const workDir = mkdtempSync(path.join(tmpdir(), "asm-workers-"));
const processes: WorkerProcess[] = [];
const queues: RunQueue[] = [];
const stores: PostgresSessionStore[] = [];
/** pg-boss's and the queue's tables, beside each store schema (which the harness drops). */
const queueSchemas: string[] = [];

afterAll(async () => {
  for (const worker of processes) worker.child.kill("SIGKILL");
  await Promise.all(queues.map((queue) => queue.close()));
  await Promise.all(stores.map((store) => store.close()));
  await dropSchemas(queueSchemas);
  rmSync(workDir, { recursive: true, force: true });
});

interface Cluster {
  schema: string;
  store: PostgresSessionStore;
  manager: SessionManager;
  queue: RunQueue;
}

async function cluster(label: string): Promise<Cluster> {
  const schema = schemas.newSchema(label);
  const store = await schemas.openIn(schema, { recover: false });
  stores.push(store);
  const manager = new SessionManager({ store, adapter: new ShellAdapter() });
  const queue = await RunQueue.open({ connectionString: TEST_DATABASE_URL, schema });
  queues.push(queue);
  queueSchemas.push(`${schema}_queue`);
  return { schema, store, manager, queue };
}

async function workers(schema: string, count: number, options: { leaseMs?: number; concurrency?: number }) {
  const started = await Promise.all(
    Array.from({ length: count }, () => startWorkerProcess(TEST_DATABASE_URL, schema, options)),
  );
  processes.push(...started);
  return started;
}

async function activeSession(manager: SessionManager): Promise<string> {
  const session = await manager.startSession({ agentId: "queue-test" });
  await manager.activateSession(session.id);
  return session.id;
}

/** The stored run once it has ended. */
function ended(store: PostgresSessionStore, runId: string, timeoutMs = 60_000): Promise<Run> {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const run = await store.getRun(runId);
      return ["pending", "running"].includes(run.status) ? undefined : run;
    },
    timeoutMs,
  );
}

describe("3 worker processes and one submitter", () => {
  let c: Cluster;
  let started: WorkerProcess[];
  beforeAll(async () => {
    c = await cluster("three");
    started = await workers(c.schema, 3, { leaseMs: 5000, concurrency: 2 });
  }, 60_000);

  it("execute 60 runs over 10 sessions exactly once, in each session's order, never more than the global limit at once", async () => {
    const maxRuns = 4;
    await c.queue.setLimits({ maxRuns });
    const ledger = path.join(workDir, "ledger");
    const sessionIds = await Promise.all(Array.from({ length: 10 }, () => activeSession(c.manager)));
    const submitted = new Map<string, string[]>(sessionIds.map((id) => [id, []]));
    for (let round = 0; round < 6; round++) {
      for (const sessionId of sessionIds) {
        const token = `${sessionId}:${round}`;
        const run = await c.queue.enqueue(c.manager, {
          sessionId,
          // argv, no shell string from input: the token and the ledger are the script's $0 and $1.
          input: { command: ["sh", "-c", 'echo "$0" >> "$1"; sleep 0.02', token, ledger] },
        });
        submitted.get(sessionId)?.push(run.id);
      }
    }
    const allRunIds = [...submitted.values()].flat();
    const runs = await Promise.all(allRunIds.map((runId) => ended(c.store, runId, 80_000)));

    // Exactly once: every run completed, and the ledger holds each token once.
    expect(runs.map((run) => run.status)).toEqual(allRunIds.map(() => "completed"));
    const lines = readFileSync(ledger, "utf8").trim().split("\n");
    expect(lines).toHaveLength(60);
    expect(new Set(lines).size).toBe(60);
    const workerPids = new Set(started.map((worker) => worker.pid));
    expect(runs.every((run) => run.owner !== undefined && workerPids.has(run.owner.pid))).toBe(true);
    // The work was shared: more than one worker executed runs.
    expect(new Set(runs.map((run) => run.owner?.pid)).size).toBeGreaterThan(1);

    const byId = new Map(runs.map((run) => [run.id, run]));
    for (const [sessionId, runIds] of submitted) {
      // Per-session FIFO: each run started after the one submitted before it ended.
      const ordered = runIds.map((runId) => byId.get(runId) as Run);
      for (let i = 1; i < ordered.length; i++) {
        const previous = ordered[i - 1] as Run;
        const current = ordered[i] as Run;
        expect(Date.parse(current.startedAt ?? "")).toBeGreaterThanOrEqual(
          Date.parse(previous.endedAt ?? ""),
        );
      }
      // The log: contiguous sequences from 1, one run_started and one run_completed per run.
      const events = await c.store.getEvents(sessionId, { limit: 1000 });
      expect(events.map((event) => event.sequence)).toEqual(events.map((_, index) => index + 1));
      for (const runId of runIds) {
        const types = events.filter((event) => event.runId === runId).map((event) => event.type);
        expect(types.filter((type) => type === "run_started")).toHaveLength(1);
        expect(types.filter((type) => type === "run_completed")).toHaveLength(1);
      }
    }

    // The global limit, from the stored start and end times: an end at the same ms as a start
    // counts first (the run ended before its lease was released and the next admitted).
    const edges = runs.flatMap((run) => [
      { at: Date.parse(run.startedAt ?? ""), delta: 1 },
      { at: Date.parse(run.endedAt ?? ""), delta: -1 },
    ]);
    edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let running = 0;
    let peak = 0;
    for (const edge of edges) {
      running += edge.delta;
      peak = Math.max(peak, running);
    }
    expect(peak).toBeLessThanOrEqual(maxRuns);
    expect(peak).toBeGreaterThan(1);

    // A run's end is stored before its worker releases the lease.
    const status = await waitFor("the queue to drain", async () => {
      const seen = await c.queue.status();
      return seen.queued === 0 && seen.running === 0 ? seen : undefined;
    });
    expect(status.maxRuns).toBe(maxRuns);
    expect(status.workers.map((worker) => worker.pid).sort()).toEqual([...workerPids].sort());
  }, 90_000);

  it("stop gracefully on SIGTERM: exit 0 and marked stopped", async () => {
    const worker = started[2] as WorkerProcess;
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    const status = await c.queue.status();
    expect(status.workers.find((seen) => seen.pid === worker.pid)?.stopped).toBe(true);
  }, 30_000);
});

describe("a worker SIGKILLed mid-run", () => {
  it("fails its run when the lease expires, retries a retryable one, and the sessions go on", async () => {
    const c = await cluster("sigkill");
    const leaseMs = 1500;
    const [doomed] = await workers(c.schema, 1, { leaseMs, concurrency: 2 });
    const marker = path.join(workDir, "retry-marker");
    const plain = await activeSession(c.manager);
    const retried = await activeSession(c.manager);
    // Both long commands write their pid, so the test can end what the dead worker left behind.
    const orphanPids = [path.join(workDir, "orphan-1.pid"), path.join(workDir, "orphan-2.pid")];
    const first = await c.queue.enqueue(c.manager, {
      sessionId: plain,
      input: { command: ["sh", "-c", 'echo $$ > "$0"; exec sleep 20', orphanPids[0] as string] },
    });
    // Sleeps on its first attempt only: the retry finds the marker and completes.
    const flaky = await c.queue.enqueue(c.manager, {
      sessionId: retried,
      input: {
        command: [
          "sh",
          "-c",
          'if [ -e "$0" ]; then echo again; else touch "$0"; echo $$ > "$1"; exec sleep 20; fi',
          marker,
          orphanPids[1] as string,
        ],
      },
      retryable: true,
    });
    const next = await c.queue.enqueue(c.manager, { sessionId: plain, input: { command: ["echo", "next"] } });
    // Both commands are in their sleep (they wrote their pids) before the worker dies.
    await waitFor("both long commands to run", async () =>
      orphanPids.every((file) => existsSync(file) && readFileSync(file, "utf8").trim() !== "")
        ? true
        : undefined,
    );
    expect((await c.store.getRun(first.id)).status).toBe("running");
    const [survivor] = await workers(c.schema, 1, { leaseMs, concurrency: 2 });
    (doomed as WorkerProcess).child.kill("SIGKILL");

    const failed = await ended(c.store, first.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({
      code: "internal_error",
      details: { reason: LEASE_EXPIRED, retried: false },
    });

    const nextRun = await ended(c.store, next.id);
    expect(nextRun).toMatchObject({ status: "completed", owner: { pid: survivor?.pid } });

    const lost = await ended(c.store, flaky.id);
    expect(lost.error).toMatchObject({ details: { reason: LEASE_EXPIRED, retried: true } });
    const sessionRuns = await c.store.listRuns(retried);
    const retry = sessionRuns.find((run) => run.id !== flaky.id) as Run;
    expect(retry.metadata).toMatchObject({ workerQueue: { attempt: 2, retryOf: flaky.id } });
    const retryEnded = await ended(c.store, retry.id);
    expect(retryEnded).toMatchObject({ status: "completed", output: { content: "again\n" } });
    // A run's end is stored before its worker releases the lease.
    await waitFor("the queue to drain", async () => {
      const status = await c.queue.status();
      return status.queued === 0 && status.running === 0 ? true : undefined;
    });
    for (const file of orphanPids) {
      const pid = Number(readFileSync(file, "utf8").trim());
      if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
    }
  }, 90_000);
});

describe("a cancel from the submitting process", () => {
  it("reaches the worker executing the run and stops the provider's process tree there", async () => {
    const c = await cluster("cancel");
    const [worker] = await workers(c.schema, 1, { leaseMs: 5000, concurrency: 1 });
    const pidFile = path.join(workDir, "grandchild.pid");
    const sessionId = await activeSession(c.manager);
    // The command's own child (a sleep in the background) is the tree's leaf.
    const run = await c.queue.enqueue(c.manager, {
      sessionId,
      input: { command: ["sh", "-c", 'sleep 30 & echo $! > "$0"; wait', pidFile] },
    });
    const leaf = await waitFor("the leaf's pid", async () => {
      try {
        const text = readFileSync(pidFile, "utf8").trim();
        return text === "" ? undefined : Number(text);
      } catch {
        return undefined;
      }
    });
    expect(isProcessAlive(leaf)).toBe(true);
    const cancelled = await c.manager.cancelRun(run.id, "stop it");
    expect(cancelled.status).toBe("cancelled");
    await waitFor(
      "the process tree to be gone",
      async () => (isProcessAlive(leaf) ? undefined : true),
      15_000,
    );
    await waitFor("the lease to be released", async () =>
      (await c.queue.status()).running === 0 ? true : undefined,
    );
    const stored = await c.store.getRun(run.id);
    expect(stored).toMatchObject({ status: "cancelled", owner: { pid: worker?.pid } });
    const types = (await c.store.getEvents(sessionId, { runId: run.id })).map((event) => event.type);
    expect(types.filter((type) => type === "run_cancelled")).toHaveLength(1);
  }, 60_000);
});
