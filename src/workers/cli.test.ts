/** The built CLI: `asm worker`, `asm run --queue` and `asm queue status` on the real PostgreSQL. */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asm, jsonLines, requireBuiltCli, start } from "../cli/test-support/cli.js";
import {
  dropSchemas,
  requirePostgres,
  TEST_DATABASE_URL,
  uniqueSchema,
} from "../stores/postgres/test-support/database.js";

const schema = uniqueSchema("cli");
const db = `${TEST_DATABASE_URL}?schema=${schema}`;
const workDir = mkdtempSync(path.join(tmpdir(), "asm-queue-cli-"));
let worker: ChildProcess;
let workerStderr = "";
let workerExit: Promise<number | null>;

beforeAll(async () => {
  requireBuiltCli();
  await requirePostgres();
  worker = start(["worker", "--db", db, "--lease-ms", "3000", "--max-runs", "2", "--grace-ms", "2000"]);
  workerExit = new Promise((resolve) => worker.once("close", resolve));
  await new Promise<void>((resolve, reject) => {
    worker.stderr?.on("data", (chunk: Buffer) => {
      workerStderr += chunk.toString();
      if (workerStderr.includes("taking shell runs")) resolve();
    });
    void workerExit.then((code) => reject(new Error(`asm worker exited ${code}: ${workerStderr}`)));
  });
}, 60_000);

afterAll(async () => {
  if (worker.exitCode === null) worker.kill("SIGKILL");
  await dropSchemas([schema, `${schema}_queue`]);
  rmSync(workDir, { recursive: true, force: true });
});

describe("asm run --queue with asm worker", () => {
  it("follows a queued run to its end and exits as a local run would", async () => {
    const failed = await asm([
      "run",
      "--queue",
      "-p",
      "shell",
      "--db",
      db,
      "--json",
      "--",
      "sh",
      "-c",
      "echo hi; exit 3",
    ]);
    expect(failed.code).toBe(3);
    const events = jsonLines(failed.stdout);
    expect(events.map((event) => event.type)).toContain("run_started");
    expect(events.at(-1)).toMatchObject({ type: "run_failed", data: { errorCode: "command_failed" } });
    expect(
      events.some((event) => event.type === "message_streamed" && JSON.stringify(event.data).includes("hi")),
    ).toBe(true);

    const completed = await asm(["run", "--queue", "-p", "shell", "--db", db, "--json", "--", "echo", "ok"]);
    expect(completed.code).toBe(0);
    expect(jsonLines(completed.stdout).at(-1)).toMatchObject({ type: "run_completed" });
  }, 60_000);

  it("asm queue status shows the caps and the worker", async () => {
    const status = await asm(["queue", "status", "--db", db, "--json"]);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      maxRuns: number;
      workers: { pid: number; providers: string[] }[];
    };
    expect(parsed).toMatchObject({ maxRuns: 2, workers: [{ pid: worker.pid, providers: ["shell"] }] });
  }, 30_000);

  it("refuses a database that is not PostgreSQL (exit 2)", async () => {
    const outcome = await asm(["queue", "status", "--db", path.join(workDir, "local.db")]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain("the run queue needs a PostgreSQL database");
  }, 30_000);

  it("asm worker stops on SIGTERM and exits 0", async () => {
    worker.kill("SIGTERM");
    expect(await workerExit).toBe(0);
    expect(workerStderr).toContain("SIGTERM: stopping");
  }, 30_000);
});
