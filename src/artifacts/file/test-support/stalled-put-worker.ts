/**
 * Starts a put of a large body into a file artifact store and stalls it halfway, so a test can
 * kill this process in the middle of the write:
 *
 *   node --import tsx stalled-put-worker.ts <root> <key> <bytes>
 *
 * After the first chunk of the body is written it prints `mid-write` and never continues.
 */
import { open, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileArtifactStore } from "../index.js";

const [root, key, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
if (root === undefined || key === undefined || !Number.isInteger(size) || size <= 0) {
  process.stderr.write("usage: stalled-put-worker.ts <root> <key> <bytes>\n");
  process.exit(2);
}

// FileHandle is not exported; its prototype is reachable from any open handle.
const probePath = join(tmpdir(), `asm-probe-${process.pid}`);
const probe = await open(probePath, "w");
const prototype = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
await probe.close();
await unlink(probePath);
const write = prototype.write;
let stalled = false;
prototype.write = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
  const result = await write.apply(this, args);
  if (!stalled && size > 1024 * 1024) {
    stalled = true;
    process.stdout.write("mid-write\n");
    // A pending promise alone would let Node exit; the timer keeps the process waiting for its kill.
    setInterval(() => undefined, 60_000);
    await new Promise<never>(() => undefined);
  }
  return result;
};

await new FileArtifactStore({ root }).put(key, new Uint8Array(size).fill(0x6e));
process.stdout.write("finished\n");
