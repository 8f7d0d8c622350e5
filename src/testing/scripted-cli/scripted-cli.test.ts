import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { isProcessAlive } from "../adapter-conformance.js";
import {
  readScriptedCliRecord,
  SCRIPTED_CODEX_THREAD_ID,
  type ScriptedCliProvider,
  scriptedCliEnv,
  scriptedCliPath,
  type TranscriptLine,
  writeTranscript,
} from "./index.js";

const dir = mkdtempSync(path.join(tmpdir(), "asm-scripted-cli-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

interface Ran {
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  recordPath: string;
}

/** Runs a scripted CLI directly (as the Codex SDK does: the path itself, no shell, no node). */
function run(
  provider: ScriptedCliProvider,
  lines: TranscriptLine[],
  { args = [] as string[], stdin = "", env = {} as Record<string, string> } = {},
): Promise<Ran> {
  counter += 1;
  const scenario = writeTranscript(path.join(dir, `t${counter}.jsonl`), lines);
  const recordPath = path.join(dir, `r${counter}.json`);
  const child = spawn(scriptedCliPath(provider), args, {
    cwd: dir,
    env: { ...process.env, ...env, ...scriptedCliEnv({ scenario, record: recordPath }) },
  });
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => (stderr += String(chunk)));
  child.stdin.end(stdin);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      const bytes = Buffer.concat(stdout);
      resolve({ stdout: bytes.toString("utf8"), stdoutBytes: bytes, stderr, code, signal, recordPath });
    });
  });
}

describe("scripted CLIs", () => {
  it("plays frames and directives, fills placeholders, records argv, stdin and a redacted env", async () => {
    const ran = await run(
      "codex",
      [
        { $awaitStdin: "eof" },
        { type: "thread.started", thread_id: "{{threadId}}" },
        { $delay: 5 },
        { $raw: "not json" },
        { $oversized: 3000 },
        {
          type: "item.completed",
          item: { id: "item_1", type: "agent_message", text: "you said {{prompt}}" },
        },
        { $exit: 2, $stderr: "fatal: scripted" },
      ],
      {
        args: ["exec", "--experimental-json", "resume", "thread-9"],
        stdin: "hello",
        env: { MY_API_KEY: "s3cret" },
      },
    );
    expect(ran.code).toBe(2);
    expect(ran.stderr).toBe("fatal: scripted\n");
    const lines = ran.stdout.split("\n");
    expect(JSON.parse(lines[0] ?? "")).toEqual({ type: "thread.started", thread_id: "thread-9" });
    expect(lines[1]).toBe("not json");
    expect(Buffer.byteLength(lines[2] ?? "")).toBe(3000);
    expect(JSON.parse(lines[2] ?? "")).toMatchObject({ type: "oversized" });
    expect(JSON.parse(lines[3] ?? "")).toMatchObject({ item: { text: "you said hello" } });
    const record = readScriptedCliRecord(ran.recordPath);
    expect(record).toMatchObject({
      provider: "codex",
      argv: ["exec", "--experimental-json", "resume", "thread-9"],
      stdin: ["hello"],
      stdinClosed: true,
      exitCode: 2,
    });
    expect(record?.env.MY_API_KEY).toBe("[redacted]");
    expect(record?.env.PATH).toBe(process.env.PATH);
  });

  it("$bytes writes any bytes exactly, repeated, with no newline added", async () => {
    const odd = Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x0d, 0x0a, 0xc3]);
    const ran = await run("codex", [
      { $awaitStdin: "eof" },
      { $bytes: odd.toString("base64") },
      { $bytes: Buffer.from("ab").toString("base64"), $repeat: 3 },
      { $raw: "end" },
    ]);
    expect(ran.code).toBe(0);
    expect(ran.stdoutBytes).toEqual(Buffer.concat([odd, Buffer.from("ababab"), Buffer.from("end\n")]));
  });

  it("codex reads the prompt to EOF before playing; the default thread id when not resuming", async () => {
    const ran = await run(
      "codex",
      [{ type: "thread.started", thread_id: "{{threadId}}", prompt: "{{prompt}}" }],
      {
        stdin: "the whole prompt",
      },
    );
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({
      type: "thread.started",
      thread_id: SCRIPTED_CODEX_THREAD_ID,
      prompt: "the whole prompt",
    });
  });

  it("claude: answers control requests, waits for the user message, exits on stdin EOF", async () => {
    const stdin = [
      { type: "control_request", request_id: "r1", request: { subtype: "initialize" } },
      {
        type: "user",
        session_id: "",
        message: { role: "user", content: [{ type: "text", text: "hi" }] },
        parent_tool_use_id: null,
      },
    ]
      .map((frame) => JSON.stringify(frame))
      .join("\n");
    const ran = await run(
      "claude",
      [{ $awaitStdin: "user" }, { type: "result", result: "{{prompt}}", session_id: "{{sessionId}}" }],
      {
        args: ["--resume=abc"],
        stdin: `${stdin}\n`,
      },
    );
    expect(ran.code).toBe(0);
    const frames = ran.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(frames[0]).toMatchObject({
      type: "control_response",
      response: { subtype: "success", request_id: "r1" },
    });
    expect(frames[1]).toEqual({ type: "result", result: "hi", session_id: "abc" });
  });

  it("$stall starts a child in its process group and hangs until the group is killed", async () => {
    counter += 1;
    const scenario = writeTranscript(path.join(dir, `t${counter}.jsonl`), [
      { type: "started" },
      { $stall: true },
    ]);
    const recordPath = path.join(dir, `r${counter}.json`);
    const child = spawn(scriptedCliPath("amp"), [], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
      env: { ...process.env, ...scriptedCliEnv({ scenario, record: recordPath }) },
    });
    const closed = new Promise((resolve) => child.on("close", resolve));
    child.stdin.end();
    let childPids: number[] = [];
    for (let i = 0; i < 400 && childPids.length === 0; i += 1) {
      await sleep(25);
      childPids = readScriptedCliRecord(recordPath)?.childPids ?? [];
    }
    expect(childPids).toHaveLength(1);
    const pids = [child.pid ?? 0, ...childPids];
    expect(pids.every(isProcessAlive)).toBe(true);
    process.kill(-(child.pid ?? 0), "SIGKILL");
    await closed;
    for (let i = 0; i < 40 && pids.some(isProcessAlive); i += 1) await sleep(25);
    expect(pids.filter(isProcessAlive)).toEqual([]);
  });
});
