/**
 * Admission with library Workers in this process (two of them, as two machines would): the
 * per-provider cap, a session's extra slots, a queued run cancelled before it starts, and the
 * options' validation.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import type { Run } from "../core/run.js";
import { ShellAdapter } from "../providers/shell/index.js";
import { SessionManager } from "../session-manager.js";
import type { PostgresSessionStore } from "../stores/postgres/index.js";
import { dropSchemas, TEST_DATABASE_URL } from "../stores/postgres/test-support/database.js";
import { useTestSchemas } from "../stores/postgres/test-support/harness.js";
import { RunQueue } from "./run-queue.js";
import { waitFor } from "./test-support/cluster.js";
import { Worker } from "./worker.js";

const schemas = useTestSchemas();
const workDir = mkdtempSync(path.join(tmpdir(), "asm-limits-"));
const cleanups: (() => Promise<unknown>)[] = [];
const queueSchemas: string[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await dropSchemas(queueSchemas);
  rmSync(workDir, { recursive: true, force: true });
});

async function setup(label: string, workerCount: number) {
  const schema = schemas.newSchema(label);
  queueSchemas.push(`${schema}_queue`);
  const store = await schemas.openIn(schema, { recover: false });
  const manager = new SessionManager({ store, adapter: new ShellAdapter({ timeoutMs: 20_000 }) });
  const queue = await RunQueue.open({ connectionString: TEST_DATABASE_URL, schema });
  cleanups.push(
    () => store.close(),
    () => queue.close(),
  );
  const workers: Worker[] = [];
  for (let i = 0; i < workerCount; i++) {
    const worker = new Worker({
      connectionString: TEST_DATABASE_URL,
      schema,
      managers: [manager],
      leaseMs: 5000,
      admissionWaitMs: 500,
    });
    workers.push(worker);
  }
  return { schema, store, manager, queue, workers };
}

async function start(workers: Worker[]): Promise<void> {
  for (const worker of workers) {
    await worker.start();
    cleanups.push(() => worker.stop({ graceMs: 1000 }));
  }
}

async function session(manager: SessionManager): Promise<string> {
  const created = await manager.startSession({ agentId: "limits" });
  await manager.activateSession(created.id);
  return created.id;
}

function ended(store: PostgresSessionStore, runId: string): Promise<Run> {
  return waitFor(`run ${runId} to end`, async () => {
    const run = await store.getRun(runId);
    return ["pending", "running"].includes(run.status) ? undefined : run;
  });
}

/** Most runs executing at once, from their stored start and end times (ends first at a tie). */
function peak(runs: Run[]): number {
  const edges = runs.flatMap((run) => [
    { at: Date.parse(run.startedAt ?? ""), delta: 1 },
    { at: Date.parse(run.endedAt ?? ""), delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const edge of edges) {
    running += edge.delta;
    most = Math.max(most, running);
  }
  return most;
}

describe("Worker admission", () => {
  it("keeps a provider's cap across workers", async () => {
    const c = await setup("provider_cap", 2);
    await c.queue.setLimits({ perProvider: { shell: 1 } });
    await start(c.workers);
    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const run = await c.queue.enqueue(c.manager, {
        sessionId: await session(c.manager),
        input: { command: ["sleep", "0.1"] },
      });
      runIds.push(run.id);
    }
    const runs = await Promise.all(runIds.map((runId) => ended(c.store, runId)));
    expect(runs.map((run) => run.status)).toEqual(runIds.map(() => "completed"));
    expect(peak(runs)).toBe(1);
    await waitFor("the queue to drain", async () =>
      (await c.queue.status()).byProvider.length === 0 ? true : undefined,
    );
  }, 60_000);

  it("runs two of a session at once when it has two slots, starting them in submission order", async () => {
    const c = await setup("slots", 2);
    await start(c.workers);
    const sessionId = await session(c.manager);
    const flag = path.join(workDir, "second-started");
    // The first run ends only once the second has started: with one slot it could never end.
    const waiting = await c.queue.enqueue(c.manager, {
      sessionId,
      sessionSlots: 2,
      input: { command: ["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.05; done', flag] },
    });
    const signalling = await c.queue.enqueue(c.manager, {
      sessionId,
      sessionSlots: 2,
      input: { command: ["touch", flag] },
    });
    const third = await c.queue.enqueue(c.manager, {
      sessionId,
      sessionSlots: 2,
      input: { command: ["true"] },
    });
    const runs = await Promise.all([waiting, signalling, third].map((run) => ended(c.store, run.id)));
    expect(runs.map((run) => run.status)).toEqual(["completed", "completed", "completed"]);
    expect(existsSync(flag)).toBe(true);
    const starts = runs.map((run) => Date.parse(run.startedAt ?? ""));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(peak(runs)).toBeLessThanOrEqual(2);
  }, 60_000);

  it("drops a queued run cancelled before it starts, and the session's next run goes on", async () => {
    const c = await setup("cancel_queued", 1);
    await start(c.workers);
    const sessionId = await session(c.manager);
    const gate = path.join(workDir, "gate");
    const head = await c.queue.enqueue(c.manager, {
      sessionId,
      input: { command: ["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.05; done', gate] },
    });
    const dropped = await c.queue.enqueue(c.manager, { sessionId, input: { command: ["echo", "never"] } });
    const last = await c.queue.enqueue(c.manager, { sessionId, input: { command: ["echo", "last"] } });
    await waitFor("the head to run", async () =>
      (await c.store.getRun(head.id)).status === "running" ? true : undefined,
    );
    expect((await c.manager.cancelRun(dropped.id)).status).toBe("cancelled");
    // A pending run started without the queue is no worker's to execute.
    const unqueued = await c.manager.startRun(sessionId, { command: ["true"] });
    writeFileSync(gate, "");
    expect(await ended(c.store, last.id)).toMatchObject({
      status: "completed",
      output: { content: "last\n" },
    });
    const events = await c.store.getEvents(sessionId, { runId: dropped.id });
    expect(events.map((event) => event.type)).toEqual(["run_cancelled"]);
    // A run's end is stored before its worker releases the lease.
    await waitFor("the queue to drain", async () => {
      const status = await c.queue.status();
      return status.queued === 0 && status.running === 0 ? true : undefined;
    });
    expect((await c.store.getRun(unqueued.id)).status).toBe("pending");
  }, 60_000);

  it("refuses bad options with validation_error", async () => {
    const c = await setup("validation", 0);
    const sessionId = await session(c.manager);
    for (const options of [{ sessionSlots: 0 }, { maxAttempts: 1.5 }]) {
      const error = await c.queue
        .enqueue(c.manager, { sessionId, input: "x", ...options })
        .catch((e: unknown) => e);
      expect(AsmError.is(error, "validation_error")).toBe(true);
    }
    expect(() => new Worker({ connectionString: TEST_DATABASE_URL, managers: [] })).toThrow(
      expect.objectContaining({ code: "validation_error" }),
    );
    expect(
      () => new Worker({ connectionString: TEST_DATABASE_URL, managers: [c.manager], concurrency: 0 }),
    ).toThrow(expect.objectContaining({ code: "validation_error", details: { field: "concurrency" } }));
    await expect(
      RunQueue.open({ connectionString: TEST_DATABASE_URL, schema: "Bad-Name" }),
    ).rejects.toMatchObject({
      code: "validation_error",
    });
    await expect(c.queue.setLimits({ maxRuns: 0 })).rejects.toMatchObject({ code: "validation_error" });
    expect(await c.store.listRuns(sessionId)).toEqual([]);
  }, 30_000);
});
