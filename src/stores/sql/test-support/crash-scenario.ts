/**
 * The crash test both SQL stores run: a worker process streams a run into the store and is
 * SIGKILLed mid-run; the store reopened afterwards must hold every event the worker saw
 * acknowledged, and recovery must fail the orphaned run exactly once — and its session too when
 * it was one-shot (`runOnce`, as `asm run`), while a long-lived session stays active for its
 * next run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { hostname } from "node:os";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { isTerminalRunEventType } from "../../../core/events.js";
import type { RecoveryReport } from "../../../ports/maintenance.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../../ports/provider-adapter.js";
import { SessionManager } from "../../../session-manager.js";
import type { DurableSessionStore } from "../../../testing/index.js";
import { workerArgs } from "../../test-support/workers.js";

/** Where the worker finds the store: passed to it as JSON. */
export type CrashStoreSpec =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; connectionString: string; schema: string };

/** An event the worker printed after the store acknowledged it. */
export interface AcknowledgedEvent {
  id: string;
  sequence: number;
  type: string;
  sessionId: string;
  runId?: string;
}

const workerScript = new URL("./crash-worker.ts", import.meta.url);
/** Generous: a worker loads tsx and the store first, which takes seconds on a slow machine. */
const WORKER_TIMEOUT_MS = 60_000;

/** The session the worker streams its run in: one-shot (`runOnce`) or long-lived. */
export type CrashedSession = "one-shot" | "long-lived";

function startWorker(
  command: "stream" | "stream-long-lived" | "recover",
  spec: CrashStoreSpec,
): ChildProcess {
  return spawn(process.execPath, workerArgs(workerScript, [command, JSON.stringify(spec)]), {
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Reads a worker's stdout lines and stderr; `closed` resolves once both streams have ended. */
function watchOutput(child: ChildProcess): { lines: string[]; stderr: () => string; closed: Promise<void> } {
  const lines: string[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  if (child.stdout === null) throw new Error("the worker has no stdout pipe");
  const reader = createInterface({ input: child.stdout });
  reader.on("line", (line) => lines.push(line));
  return { lines, stderr: () => stderr, closed: once(child, "close").then(() => undefined) };
}

/** Resolves once `ready()` holds after a stdout line; rejects if the worker exits first, or on timeout. */
async function waitFor(child: ChildProcess, ready: () => boolean, describe: () => string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!ready()) return;
      cleanup();
      resolve();
    };
    const exited = (code: number | null): void => {
      cleanup();
      reject(new Error(`the worker exited (${code}) too early: ${describe()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`the worker did not get there within ${WORKER_TIMEOUT_MS} ms: ${describe()}`));
    }, WORKER_TIMEOUT_MS);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", exited);
    };
    // A line is pushed by the reader on the same chunk; check after it has been split.
    const onData = (): void => {
      setImmediate(check);
    };
    child.stdout?.on("data", onData);
    child.on("exit", exited);
    check();
  });
}

/**
 * Starts a worker streaming a run in a `session` of that kind, waits until it has printed at least
 * `streamed` acknowledged `message_streamed` events, SIGKILLs it, and answers what it printed
 * (everything, read to the end of its stdout: a line still in the pipe was acknowledged too) and
 * its pid.
 */
export async function crashWhileStreaming(
  spec: CrashStoreSpec,
  session: CrashedSession = "one-shot",
  streamed = 5,
): Promise<{ pid: number; acknowledged: AcknowledgedEvent[] }> {
  const child = startWorker(session === "one-shot" ? "stream" : "stream-long-lived", spec);
  const output = watchOutput(child);
  const parsed = (): AcknowledgedEvent[] => output.lines.map((line) => JSON.parse(line) as AcknowledgedEvent);
  try {
    await waitFor(
      child,
      () => parsed().filter(({ type }) => type === "message_streamed").length >= streamed,
      () => `stdout ${output.lines.length} lines, stderr ${output.stderr()}`,
    );
  } finally {
    child.kill("SIGKILL");
    await output.closed;
  }
  const { pid } = child;
  if (pid === undefined) throw new Error("the worker had no pid");
  return { pid, acknowledged: parsed() };
}

/** Runs `count` recovering workers released at the same moment; answers their reports. */
export async function recoverFromProcesses(spec: CrashStoreSpec, count: number): Promise<RecoveryReport[]> {
  const workers = Array.from({ length: count }, () => {
    const child = startWorker("recover", spec);
    return { child, output: watchOutput(child) };
  });
  try {
    await Promise.all(
      workers.map(({ child, output }) =>
        waitFor(
          child,
          () => output.lines.includes("ready"),
          () => output.stderr(),
        ),
      ),
    );
    for (const { child } of workers) child.stdin?.write("go\n");
    await Promise.all(workers.map(({ output }) => output.closed));
  } finally {
    for (const { child } of workers) if (child.exitCode === null) child.kill("SIGKILL");
  }
  return workers.map(({ child, output }) => {
    const report = output.lines.at(-1);
    if (child.exitCode !== 0 || report === undefined) {
      throw new Error(`a recovering worker failed (${child.exitCode}): ${output.stderr()}`);
    }
    return JSON.parse(report) as RecoveryReport;
  });
}

/**
 * The assertions of the crash test, on the store reopened after the crash (and after whatever
 * recovery ran): every acknowledged event is stored as acknowledged, the log's sequences run
 * 1..N without a hole, and the run is `failed` for its dead owner with exactly one terminal
 * event, `run_failed`, its last. A one-shot session is then `failed` for its dead process, with
 * one `session_failed`, the log's last event; a long-lived one is still `active`.
 */
export async function expectRecoveredCrash(
  store: DurableSessionStore,
  crash: { pid: number; acknowledged: readonly AcknowledgedEvent[] },
  session: CrashedSession = "one-shot",
): Promise<void> {
  const runId = crash.acknowledged.find((event) => event.runId !== undefined)?.runId;
  const sessionId = crash.acknowledged[0]?.sessionId;
  if (runId === undefined || sessionId === undefined) throw new Error("no run event was acknowledged");

  const events = await store.getEvents(sessionId, { limit: 1000 });
  const stored = new Map(events.map((event) => [event.id, event]));
  for (const acknowledged of crash.acknowledged) {
    expect(stored.get(acknowledged.id), `acknowledged ${acknowledged.type}`).toMatchObject({
      sequence: acknowledged.sequence,
      type: acknowledged.type,
    });
  }

  const run = await store.getRun(runId);
  expect(run.status).toBe("failed");
  expect(run.owner).toEqual({ hostname: hostname(), pid: crash.pid });
  expect(run.error).toMatchObject({
    code: "internal_error",
    message: `the process executing this run (pid ${crash.pid} on host ${hostname()}) exited before the run ended`,
  });
  const ofRun = events.filter((event) => event.runId === runId);
  const terminal = ofRun.filter((event) => isTerminalRunEventType(event.type));
  expect(terminal.map(({ type }) => type)).toEqual(["run_failed"]);
  expect(ofRun.at(-1)?.type).toBe("run_failed");
  expect(events.map(({ sequence }) => sequence)).toEqual(events.map((_, index) => index + 1));

  const sessionFailures = events.filter(({ type }) => type === "session_failed");
  if (session === "one-shot") {
    expect((await store.getSession(sessionId)).status).toBe("failed");
    expect(sessionFailures).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      type: "session_failed",
      data: {
        errorCode: "internal_error",
        errorMessage: `the process running this one-shot session (pid ${crash.pid} on host ${hostname()}) exited before the session ended`,
        details: { owner: { hostname: hostname(), pid: crash.pid } },
      },
    });
  } else {
    expect((await store.getSession(sessionId)).status).toBe("active");
    expect(sessionFailures).toEqual([]);
    expect(events.at(-1)?.type).toBe("run_failed");
  }
  expect(await store.maintenance.healthCheck()).toMatchObject({ ok: true, issues: [] });
}

/** The crashed run's session, from what the worker printed. */
function crashedSessionId(crash: { acknowledged: readonly AcknowledgedEvent[] }): string {
  const sessionId = crash.acknowledged[0]?.sessionId;
  if (sessionId === undefined) throw new Error("no event was acknowledged");
  return sessionId;
}

/** The crash tests, for the store `open` opens at a fresh `newSpec()`. */
export function defineCrashRecoveryTests<Spec extends CrashStoreSpec>(
  name: string,
  newSpec: () => Spec,
  open: (spec: Spec, options?: { recover: false }) => Promise<DurableSessionStore>,
): void {
  describe(`${name} after its process is killed mid-run`, () => {
    it("reopens with every acknowledged event, the run and its one-shot session failed for their dead process", async () => {
      const spec = newSpec();
      const crash = await crashWhileStreaming(spec);
      const store = await open(spec);
      try {
        await expectRecoveredCrash(store, crash);
      } finally {
        await store.close();
      }
    });

    it("leaves a long-lived session active, its run failed, and the next run proceeds", async () => {
      const spec = newSpec();
      const crash = await crashWhileStreaming(spec, "long-lived");
      const store = await open(spec);
      try {
        await expectRecoveredCrash(store, crash, "long-lived");
        const sessionId = crashedSessionId(crash);
        const manager = new SessionManager({
          store,
          adapter: {
            specificationVersion: PROVIDER_ADAPTER_SPECIFICATION,
            name: "answers",
            capabilities: [],
            async execute() {
              return { output: { content: "after the crash" } };
            },
            async cancel() {
              return false;
            },
          },
        });
        const next = await manager.executeRun((await manager.startRun(sessionId, "again")).id);
        expect(next.output.content).toBe("after the crash");
        expect((await store.getSession(sessionId)).status).toBe("active");
        const runs = await store.listRuns(sessionId);
        expect(runs.map(({ status }) => status)).toEqual(["failed", "completed"]);
      } finally {
        await store.close();
      }
    });

    it("fails the run and its session exactly once when two processes recover them at the same moment", async () => {
      const spec = newSpec();
      const crash = await crashWhileStreaming(spec);
      const reports = await recoverFromProcesses(spec, 2);
      const runId = crash.acknowledged.find((event) => event.runId !== undefined)?.runId;
      expect(reports.flatMap(({ recoveredRunIds }) => recoveredRunIds)).toEqual([runId]);
      expect(reports.flatMap(({ recoveredSessionIds }) => recoveredSessionIds)).toEqual([
        crashedSessionId(crash),
      ]);
      const store = await open(spec, { recover: false });
      try {
        await expectRecoveredCrash(store, crash);
      } finally {
        await store.close();
      }
    });
  });
}
