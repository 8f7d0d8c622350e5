import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { workerArgs } from "../stores/test-support/workers.js";
import { isProcessAlive } from "../testing/adapter-conformance.js";
import { STALLING_PROVIDERS, startStalledRun } from "./test-support/stalled-run.js";

/*
 * Nothing a run started may outlive the process running it, however that process ends — even by
 * SIGKILL, which runs no handler (see shared/watchdog.ts) — and a cancel resolves only once the
 * run's process tree is confirmed gone. On every provider, with a CLI that ignores SIGTERM.
 */

const HOST = new URL("./test-support/stalled-run-host.ts", import.meta.url);
/** How long the tree may outlive its SIGKILLed host before the test fails: generous, not a speed target. */
const GONE_WITHIN_MS = 5000;

const dir = mkdtempSync(path.join(tmpdir(), "asm-host-death-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pids of `pids` still running once they all stopped, or `GONE_WITHIN_MS` passed. */
async function survivors(pids: readonly number[]): Promise<number[]> {
  const deadline = Date.now() + GONE_WITHIN_MS;
  for (;;) {
    const alive = pids.filter(isProcessAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await sleep(25);
  }
}

describe.each(STALLING_PROVIDERS)("%s: the provider's process tree", (provider) => {
  it("is gone soon after the host process is SIGKILLed", async () => {
    const workDir = mkdtempSync(path.join(dir, `${provider}-`));
    const host = spawn(process.execPath, workerArgs(HOST, [provider, workDir]), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    host.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(host, "exit");
    try {
      const [line] = (await once(host.stdout, "data")) as [Buffer];
      const { pids } = JSON.parse(line.toString()) as { pids: number[] };
      expect(pids.length, stderr).toBeGreaterThanOrEqual(2); // the CLI and the child it started
      expect(pids.filter(isProcessAlive)).toEqual(pids);

      host.kill("SIGKILL");
      await exited;
      expect(await survivors(pids), "processes still running after the host died").toEqual([]);
    } finally {
      host.kill("SIGKILL");
    }
  });

  it("is gone when adapter.cancel(runId) resolves", async () => {
    const run = startStalledRun(provider, mkdtempSync(path.join(dir, `${provider}-`)));
    const pids = await run.tree();
    expect(pids.filter(isProcessAlive)).toEqual(pids);

    expect(await run.adapter.cancel(run.request.run.id)).toBe(true);
    expect(pids.filter(isProcessAlive), "processes running when cancel() resolved").toEqual([]);
    expect(await run.outcome).toMatchObject({ code: "cancelled" });
  });
});
