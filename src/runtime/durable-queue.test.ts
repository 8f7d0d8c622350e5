import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { expectCode } from "../stores/test-support/fixtures.js";
import { workerArgs } from "../stores/test-support/workers.js";
import { until } from "../testing/wait.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { SERVER_QUEUE_KEY, SessionServer } from "./session-server.js";
import { GatedAdapter } from "./test-support/gated-adapter.js";

const dir = mkdtempSync(join(tmpdir(), "asm-durable-queue-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A server over a fresh manager and store on `path`, with every run released at once. */
async function reopen(path: string, sessionId: string) {
  const store = await openSqliteStore({ path });
  const adapter = new GatedAdapter();
  for (const prompt of ["one", "two", "three"]) adapter.release(prompt);
  const manager = new SessionManager({ store, adapter });
  // Start options among the defaults apply to new runs only; restored runs are already stored.
  const server = await SessionServer.start({
    manager,
    sessionId,
    defaultRunOptions: { metadata: { restarted: true }, timeoutMs: 30_000 },
  });
  return { store, adapter, server };
}

describe("SessionServer: the durable queue", () => {
  it("queues again, in order, the runs a closed server left queued, when a new process opens the session", async () => {
    const path = join(dir, "closed.db");
    const store = await openSqliteStore({ path });
    const adapter = new GatedAdapter();
    const manager = new SessionManager({ store, adapter });
    // Every run slot is taken elsewhere: nothing this server queues can start.
    const limiter = new ConcurrencyLimiter({ maxParallelRuns: 1 });
    await limiter.acquireRun("elsewhere");
    const server = await SessionServer.start({ manager, session: { agentId: "agent" }, limiter });
    const runIds = [
      await server.submitRun("one"),
      await server.submitRun("two"),
      await server.submitRun("three"),
    ];
    await until(() => limiter.status().runs.waiting === 1, "the first run waiting for a slot");
    await server.close();
    await store.close();
    expect(adapter.started).toEqual([]);

    const next = await reopen(path, server.sessionId);
    expect(next.server.status().queuedCount + next.server.status().inFlightCount).toBe(3);
    const results = await Promise.all(runIds.map((id) => next.server.awaitRun(id)));
    expect(next.adapter.started).toEqual(["one", "two", "three"]);
    expect(results.map((result) => result.output.content)).toEqual(["done one", "done two", "done three"]);
    const positions = await Promise.all(
      runIds.map(async (id) => (await next.store.getRun(id)).metadata[SERVER_QUEUE_KEY]),
    );
    expect(positions.map((entry) => (entry as { position: number }).position)).toEqual([1, 2, 3]);
    // A run submitted now goes after them.
    const fourth = await next.server.submitRun("four");
    expect((await next.store.getRun(fourth)).metadata).toMatchObject({
      restarted: true,
      [SERVER_QUEUE_KEY]: { position: 4, options: { timeoutMs: 30_000 } },
    });
    next.adapter.release("four");
    await next.server.awaitRun(fourth);
    await next.server.close();
    await next.store.close();
  });

  it("two servers on one session share its stored queue: one executes each run, the other follows it", async () => {
    const store = new MemorySessionStore();
    const parked = new SessionManager({ store, adapter: new GatedAdapter() });
    const limiter = new ConcurrencyLimiter({ maxParallelRuns: 1 });
    await limiter.acquireRun("elsewhere");
    const first = await SessionServer.start({ manager: parked, session: { agentId: "agent" }, limiter });
    const [one, two] = [await first.submitRun("one"), await first.submitRun("two")];
    await until(() => limiter.status().runs.waiting === 1, "the first run waiting for a slot");
    await first.close();

    const adapters = [new GatedAdapter(), new GatedAdapter()];
    const servers = await Promise.all(
      adapters.map((adapter) =>
        SessionServer.start({ manager: new SessionManager({ store, adapter }), sessionId: first.sessionId }),
      ),
    );
    await until(() => adapters.some((adapter) => adapter.started.length === 1), "one server started it");
    for (const adapter of adapters) adapter.release("one");
    const results = await Promise.all(servers.map((server) => server.awaitRun(one)));
    expect(results.map((result) => result.output.content)).toEqual(["done one", "done one"]);
    const started = await store.getEvents(first.sessionId, { runId: one, types: ["run_started"] });
    expect(started).toHaveLength(1);

    // The next run: cancelled from the server that only follows it, both servers' awaiters get `cancelled`.
    await until(() => adapters.some((adapter) => adapter.started.includes("two")), "one server started two");
    expect(adapters.flatMap((adapter) => adapter.started).sort()).toEqual(["one", "two"]);
    const follower = adapters[0]?.started.includes("two") ? servers[1] : servers[0];
    await until(() => follower?.status().inFlightRuns.includes(two), "the follower holding it");
    expect((await follower?.cancelRun(two))?.status).toBe("cancelled");
    await expectCode(follower?.awaitRun(two) ?? Promise.resolve(), "cancelled");
    // The executing server learns of a cancel stored by another writer when its run ends.
    for (const adapter of adapters) adapter.release("two");
    for (const server of servers) await expectCode(server.awaitRun(two), "cancelled");
    await Promise.all(servers.map((server) => server.close()));
  });

  it("after a killed process: recovery fails the run it was executing, the queued runs run in order", async () => {
    const path = join(dir, "killed.db");
    const worker = spawn(
      process.execPath,
      workerArgs(new URL("./test-support/queue-worker.ts", import.meta.url), [path]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    worker.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const exited = once(worker, "exit");
    const lines = createInterface({ input: worker.stdout ?? process.stdin });
    const [line] = (await Promise.race([
      once(lines, "line"),
      exited.then(() => {
        throw new Error(`the worker exited early: ${stderr}`);
      }),
    ])) as [string];
    const { sessionId, runIds } = JSON.parse(line) as { sessionId: string; runIds: string[] };
    worker.kill("SIGKILL");
    await exited;

    // Opening the store recovers the run the dead process left running.
    const next = await reopen(path, sessionId);
    const [first, second, third] = runIds as [string, string, string];
    const crashed = await next.store.getRun(first);
    expect(crashed.status).toBe("failed");
    expect(crashed.error?.code).toBe("internal_error");
    const failed = await next.server.awaitRun(first).then(
      () => undefined,
      (error: { code: string }) => error.code,
    );
    expect(failed).toBe("internal_error");

    await next.server.awaitRun(second);
    await next.server.awaitRun(third);
    expect(next.adapter.started).toEqual(["two", "three"]);
    // The queued run kept its JSON options across the restart.
    expect(next.adapter.calls[0]?.providerOptions).toEqual({ scripted: { tag: "two" } });
    const log = await next.store.getEvents(sessionId, { limit: 1000 });
    expect(
      log
        .filter((event) => event.type.startsWith("run_") && event.type !== "run_started")
        .map((event) => [event.runId, event.type]),
    ).toEqual([
      [first, "run_failed"],
      [second, "run_completed"],
      [third, "run_completed"],
    ]);
    await next.server.close();
    await next.store.close();
  }, 90_000);
});
