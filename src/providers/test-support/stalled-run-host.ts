/**
 * A host process for process-tree.test.ts: starts the stalled run of the provider named by its
 * first argument (working in the directory named by the second), prints the pids of the run's
 * process tree as one JSON line once it is all running, and then waits to be killed.
 */
import { type StallingProvider, startStalledRun } from "./stalled-run.js";

const [provider, dir] = process.argv.slice(2) as [StallingProvider, string];
const pids = await startStalledRun(provider, dir).tree();
process.stdout.write(`${JSON.stringify({ pids })}\n`);
setInterval(() => {}, 60_000);
