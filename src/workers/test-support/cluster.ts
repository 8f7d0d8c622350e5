/** Worker processes on a test schema, and bounded waits on stored state, for the queue's tests and bench. */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { until } from "../../testing/wait.js";

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const workerScript = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Starts a worker process and resolves once it takes jobs (rejects if it exits first, or after 30 s). */
export function startWorkerProcess(
  connectionString: string,
  schema: string,
  options: { leaseMs?: number; concurrency?: number } = {},
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      tsxLoader,
      workerScript,
      connectionString,
      schema,
      String(options.leaseMs ?? 30_000),
      String(options.concurrency ?? 2),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`worker did not start in 30 s: ${stderr}`));
    }, 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("ready")) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid as number, stderr: () => stderr, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

/** `until` with the workers' argument order: polls every 50 ms, failing after `timeoutMs` (30 s). */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  return until(probe, what, timeoutMs, 50);
}
