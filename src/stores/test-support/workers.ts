/** Running a TypeScript test worker (a test-support script) as a separate OS process, through tsx. */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const run = promisify(execFile);

/** The node arguments that run `script` under tsx with `args`. */
export function workerArgs(script: URL, args: readonly string[]): string[] {
  return ["--import", tsxLoader, fileURLToPath(script), ...args];
}

/** Runs `script` to completion (60 s at the most); rejects when it fails. */
export async function runWorker(script: URL, args: readonly string[]): Promise<void> {
  await run(process.execPath, workerArgs(script, args), { timeout: 60_000 });
}
