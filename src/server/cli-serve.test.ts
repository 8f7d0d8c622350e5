import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { asm, collect, start } from "../cli/test-support/cli.js";
import { AsmClient } from "../client/index.js";
import { until } from "../testing/wait.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("asm serve", () => {
  it("serves the API, logs a JSON line per request, and shuts down on SIGTERM ending streams with a comment", async () => {
    dir = await mkdtemp(join(tmpdir(), "asm-serve-"));
    const child = start([
      "serve",
      "--dev",
      "--port",
      "0",
      "--provider",
      "shell",
      "--db",
      join(dir, "asm.db"),
    ]);
    const outcome = collect(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const url = await until(() => /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1], "the listening line");
    const client = new AsmClient({ baseUrl: url });
    const session = await client.createSession({ agentId: "cli" });
    const { runId } = await client.submitRun(session.id, { input: { command: ["echo", "hello"] } });
    const awaited = await client.awaitRun(session.id, runId, { timeoutMs: 60_000 });
    expect(awaited).toMatchObject({ done: true, run: { status: "completed" } });
    expect(awaited.run.output?.content).toContain("hello");

    const stream = await fetch(`${url}/api/v1/sessions/${session.id}/events/stream`);
    const reader = stream.body?.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const read = (async () => {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return;
        text += chunk.value;
      }
    })();
    await until(() => text.includes("event: run_completed") || undefined, "the backfill");
    child.kill("SIGTERM");
    await read;
    const { code, stdout } = await outcome;
    expect(code).toBe(0);
    expect(text.endsWith(": server shutting down\n\n")).toBe(true);
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { method: string; path: string; status: number });
    expect(lines.slice(0, 2)).toMatchObject([
      { method: "POST", path: "/api/v1/sessions", status: 201 },
      { method: "POST", path: `/api/v1/sessions/${session.id}/runs`, status: 202 },
    ]);
    expect(stderr).toContain("SIGTERM, shutting down");
  });

  it("refuses a non-loopback address without a token", async () => {
    dir = await mkdtemp(join(tmpdir(), "asm-serve-"));
    const { code, stderr } = await asm(
      ["serve", "--host", "0.0.0.0", "--dev", "--provider", "shell", "--db", join(dir, "asm.db")],
      {
        ASM_TOKEN: "",
      },
    );
    expect(code).not.toBe(0);
    expect(stderr).toContain("refusing to serve on 0.0.0.0 without a token");
  });
});
