/**
 * One worker process for the multi-process tests and the bench:
 *
 *   node --import tsx worker-process.ts <url> <schema> <leaseMs> <concurrency>
 *
 * It executes shell runs from the queue of the store in `schema` and prints `ready <pid>` once it
 * takes jobs. SIGTERM stops it gracefully (a 5 s grace) and it exits 0.
 */
import { ShellAdapter } from "../../providers/shell/index.js";
import { SessionManager } from "../../session-manager.js";
import { openPostgresStore } from "../../stores/postgres/index.js";
import { Worker } from "../worker.js";

const [connectionString, schema, leaseText = "30000", concurrencyText = "2"] = process.argv.slice(2);
if (connectionString === undefined || schema === undefined) {
  process.stderr.write("usage: worker-process.ts <url> <schema> [leaseMs] [concurrency]\n");
  process.exit(2);
}
// Leases, not the store's pid probe, decide a dead worker here: recovery on open stays off.
const store = await openPostgresStore({ connectionString, schema, recover: false, poolSize: 4 });
const manager = new SessionManager({
  store,
  adapter: new ShellAdapter({ timeoutMs: 0, killGraceMs: 500 }),
  cancelGraceMs: 2000,
});
const worker = new Worker({
  connectionString,
  schema,
  managers: [manager],
  leaseMs: Number(leaseText),
  concurrency: Number(concurrencyText),
});
await worker.start();
process.stdout.write(`ready ${process.pid}\n`);
process.once("SIGTERM", () => {
  void worker
    .stop({ graceMs: 5000 })
    .then(() => store.close())
    .then(() => process.exit(0));
});
