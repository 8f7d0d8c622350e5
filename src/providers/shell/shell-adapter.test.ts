import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AsmError, type ErrorCode } from "../../core/errors.js";
import {
  type AdapterEvent,
  type EventType,
  isTerminalRunEventType,
  validateEventData,
} from "../../core/events.js";
import { newId } from "../../core/ids.js";
import type { RunInput } from "../../core/run.js";
import type { JsonObject } from "../../core/session.js";
import type { EventSink, ExecuteRequest, ExecuteResult } from "../../ports/provider-adapter.js";
import { makeExecuteRequest } from "../../testing/adapter-conformance.js";
import { ShellAdapter } from "./index.js";

// ---------------------------------------------------------------------------------------------
// Helpers. Every wait is bounded; nothing asserts on how fast the (slow, shared) machine is.
// ---------------------------------------------------------------------------------------------

type EventOfType<T extends EventType> = Extract<AdapterEvent, { type: T }>;

class RecordingSink implements EventSink {
  readonly events: AdapterEvent[] = [];
  readonly #waiters = new Set<() => void>();

  emit(event: AdapterEvent): void {
    this.events.push(event);
    for (const waiter of this.#waiters) waiter();
  }

  types(): EventType[] {
    return this.events.map((event) => event.type);
  }

  of<T extends EventType>(type: T): EventOfType<T>[] {
    return this.events.filter((event): event is EventOfType<T> => event.type === type);
  }

  one<T extends EventType>(type: T): EventOfType<T> {
    const found = this.of(type);
    expect(found).toHaveLength(1);
    const [event] = found;
    if (event === undefined) throw new Error(`no ${type} event`);
    return event;
  }

  deltas(stream: "stdout" | "stderr"): string[] {
    return this.of("message_streamed")
      .filter((event) => event.data.stream === stream)
      .map((event) => event.data.delta);
  }

  streamed(stream: "stdout" | "stderr"): string {
    return this.deltas(stream).join("");
  }

  /** The pid (and so the process group id) the command was started with. */
  pid(): number {
    const pid = this.one("run_started").data.pid;
    if (typeof pid !== "number") throw new Error("run_started carries no pid");
    return pid;
  }

  waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}

/** Every sink a test creates is checked after it against the adapter contract. */
const sinks: RecordingSink[] = [];
function newSink(): RecordingSink {
  const sink = new RecordingSink();
  sinks.push(sink);
  return sink;
}

afterEach(() => {
  for (const sink of sinks.splice(0)) {
    for (const event of sink.events) {
      // The SessionManager alone writes how a run ended.
      expect(isTerminalRunEventType(event.type), `adapter emitted ${event.type}`).toBe(false);
      expect(validateEventData(event.type, event.data), `${event.type} data`).toEqual([]);
    }
    if (sink.events.length > 0) expect(sink.events[0]?.type).toBe("run_started");
  }
});

/** A request with `options` as the shell's own per-run options (`providerOptions.shell`). */
function makeRequest(input: RunInput, options: JsonObject = {}, runId = newId("run")): ExecuteRequest {
  return makeExecuteRequest(input, { providerOptions: { shell: options }, runId });
}

/** `node -e <script>` with the node running the tests. */
function nodeCommand(script: string): string[] {
  return [process.execPath, "-e", script];
}

const neverAborted = (): AbortSignal => new AbortController().signal;

type Outcome = { ok: true; result: ExecuteResult } | { ok: false; error: unknown };

/** Captures the outcome without leaving a rejection unhandled while the test does other things. */
function outcome(promise: Promise<ExecuteResult>): Promise<Outcome> {
  return promise.then(
    (result) => ({ ok: true, result }),
    (error: unknown) => ({ ok: false, error }),
  );
}

async function expectResult(promise: Promise<ExecuteResult>): Promise<ExecuteResult> {
  const settled = await outcome(promise);
  if (!settled.ok) throw new Error(`expected success, got ${String(settled.error)}`);
  return settled.result;
}

async function expectAsmError(promise: Promise<unknown>, code: ErrorCode): Promise<AsmError> {
  const error = await promise.then(
    () => new Error(`expected rejection with ${code}, but it resolved`),
    (caught: unknown) => caught,
  );
  if (!AsmError.is(error)) throw new Error(`expected AsmError ${code}, got ${String(error)}`);
  expect(error.code, error.message).toBe(code);
  return error;
}

function expectConstructorError(options: ConstructorParameters<typeof ShellAdapter>[0]): AsmError {
  try {
    new ShellAdapter(options);
  } catch (error) {
    if (AsmError.is(error, "validation_error")) return error;
    throw error;
  }
  throw new Error("expected the constructor to throw validation_error");
}

interface ProcessInfo {
  pid: number;
  state: string;
}

/** Members of a process group, from ps — deliberately not the adapter's own /proc reading. */
function groupMembers(pgid: number): ProcessInfo[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,pgid=,stat="], { encoding: "utf8" });
  const members: ProcessInfo[] = [];
  for (const line of out.split("\n")) {
    const [pid, group, state] = line.trim().split(/\s+/);
    if (Number(group) === pgid) members.push({ pid: Number(pid), state: state ?? "" });
  }
  return members;
}

/** Members still running: a zombie has exited and only waits for its parent (or init) to reap it. */
function liveGroupMembers(pgid: number): ProcessInfo[] {
  return groupMembers(pgid).filter((member) => !member.state.startsWith("Z"));
}

function processExists(pid: number): boolean {
  return execFileSync("ps", ["-e", "-o", "pid="], { encoding: "utf8" })
    .split("\n")
    .some((line) => Number(line.trim()) === pid);
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ESRCH") return false;
    throw error;
  }
}

async function eventually(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Once the adapter has settled, nothing of the group may still run; the zombies left are reaped
 * by init (this machine's within a second or so), after which kill(-pgid, 0) reports ESRCH.
 */
async function expectGroupGone(pgid: number, pids: readonly number[] = []): Promise<void> {
  expect(liveGroupMembers(pgid)).toEqual([]);
  await eventually(() => !groupExists(pgid), `process group ${pgid} is gone (ESRCH)`);
  for (const pid of pids) expect(processExists(pid), `pid ${pid} still exists`).toBe(false);
}

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), "asm-shell-")));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe("ShellAdapter: successful commands", () => {
  it("declares its name and capabilities", () => {
    const adapter = new ShellAdapter();
    expect(adapter.name).toBe("shell");
    expect(adapter.capabilities).toEqual([
      { name: "command_execution", type: "code_execution" },
      { name: "streaming", type: "sampling" },
    ]);
  });

  it("runs argv directly, streams stdout and stderr, and emits the events in order", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    const command = nodeCommand(
      "process.stdout.write('hello '); process.stderr.write('warn'); console.log('world')",
    );

    const result = await expectResult(adapter.execute(makeRequest({ command }), sink, neverAborted()));

    expect(result).toEqual({
      output: { content: "hello world\n", exitCode: 0, stderr: "warn" },
      stopReason: "exit_code_0",
      tokenUsage: { inputTokens: 0, outputTokens: 0 },
    });

    const types = sink.types();
    expect(types.filter((type) => type !== "message_streamed")).toEqual([
      "run_started",
      "tool_call_started",
      "tool_call_completed",
      "message_received",
    ]);
    // Output streams between the tool call's start and its end.
    const firstDelta = types.indexOf("message_streamed");
    const lastDelta = types.lastIndexOf("message_streamed");
    expect(firstDelta).toBeGreaterThan(types.indexOf("tool_call_started"));
    expect(lastDelta).toBeLessThan(types.indexOf("tool_call_completed"));
    expect(sink.streamed("stdout")).toBe("hello world\n");
    expect(sink.streamed("stderr")).toBe("warn");

    const started = sink.one("run_started").data;
    expect(started).toEqual({ command, cwd: process.cwd(), pid: expect.any(Number) });

    const toolStarted = sink.one("tool_call_started").data;
    expect(toolStarted.toolCallId).toMatch(/^tc_[0-9a-f]{16}$/);
    expect(toolStarted).toEqual({
      toolCallId: toolStarted.toolCallId,
      toolName: "shell",
      toolInput: { command, cwd: process.cwd() },
    });

    expect(sink.one("tool_call_completed").data).toEqual({
      toolCallId: toolStarted.toolCallId,
      toolName: "shell",
      toolOutput: { exitCode: 0, durationMs: expect.any(Number) },
    });
    expect(sink.one("message_received").data).toEqual({ role: "tool", content: "hello world\n" });
  });

  it("never splits a multibyte character across message_streamed deltas", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    // The child writes up to the middle of the 4-byte emoji, then waits for the test to create
    // `go` before writing the rest: two reads, with the character split between them.
    const script = `
      const fs = require("node:fs");
      const bytes = Buffer.from("héllo ✓ 😀 done", "utf8");
      const cut = bytes.indexOf(0xf0) + 2;
      process.stdout.write(bytes.subarray(0, cut));
      const rest = () => (fs.existsSync("go") ? process.stdout.write(bytes.subarray(cut)) : setTimeout(rest, 20));
      rest();`;
    const workDir = mkdtempSync(path.join(dir, "split-"));
    const running = outcome(
      adapter.execute(makeRequest({ command: nodeCommand(script) }, { cwd: workDir }), sink, neverAborted()),
    );

    await sink.waitFor(() => sink.deltas("stdout").length > 0, "the first part");
    expect(sink.deltas("stdout")).toEqual(["héllo ✓ "]);
    writeFileSync(path.join(workDir, "go"), "");

    const settled = await running;
    if (!settled.ok) throw settled.error;
    expect(sink.deltas("stdout")).toEqual(["héllo ✓ ", "😀 done"]);
    expect(settled.result.output.content).toBe("héllo ✓ 😀 done");
  });

  it("counts any exit code in successExitCodes as success", async () => {
    const adapter = new ShellAdapter({ successExitCodes: [0, 1] });
    const sink = newSink();
    const result = await expectResult(
      adapter.execute(
        makeRequest({ command: ["sh", "-c", "echo found-none; exit 1"] }),
        sink,
        neverAborted(),
      ),
    );
    expect(result.stopReason).toBe("exit_code_1");
    expect(result.output).toEqual({ content: "found-none\n", exitCode: 1, stderr: "" });
    expect(sink.one("tool_call_completed").data.toolOutput).toEqual({
      exitCode: 1,
      durationMs: expect.any(Number),
    });
  });

  it("cuts the result to maxOutputBytes on a character boundary while streaming everything", async () => {
    const adapter = new ShellAdapter({ maxOutputBytes: 5 });
    const sink = newSink();
    // "ééé" is 6 bytes: 5 kept would end inside the third é, so the result keeps 4.
    const result = await expectResult(
      adapter.execute(
        makeRequest({
          command: nodeCommand("process.stdout.write('ééé'); process.stderr.write('abcdefgh')"),
        }),
        sink,
        neverAborted(),
      ),
    );
    expect(result.output).toEqual({
      content: "éé",
      exitCode: 0,
      stderr: "defgh",
      truncated: true,
      stderrTruncated: true,
    });
    expect(sink.streamed("stdout")).toBe("ééé");
    expect(sink.streamed("stderr")).toBe("abcdefgh");
    expect(sink.one("message_received").data.content).toBe("éé");
  });

  it("merges env over process.env (run over adapter) and honours cwd, relative to the adapter's", async () => {
    mkdirSync(path.join(dir, "sub"), { recursive: true });
    const adapter = new ShellAdapter({
      cwd: dir,
      env: { ASM_FROM_ADAPTER: "adapter", ASM_OVERRIDDEN: "adapter" },
    });
    const sink = newSink();
    const script =
      "console.log(JSON.stringify({ cwd: process.cwd(), adapter: process.env.ASM_FROM_ADAPTER, " +
      "overridden: process.env.ASM_OVERRIDDEN, hasPath: typeof process.env.PATH === 'string' }))";

    const result = await expectResult(
      adapter.execute(
        makeRequest({ command: nodeCommand(script) }, { cwd: "sub", env: { ASM_OVERRIDDEN: "run" } }),
        sink,
        neverAborted(),
      ),
    );
    expect(JSON.parse(result.output.content)).toEqual({
      cwd: path.join(dir, "sub"),
      adapter: "adapter",
      overridden: "run",
      hasPath: true,
    });
    expect(sink.one("run_started").data.cwd).toBe(path.join(dir, "sub"));
  });

  it("runs input.prompt through /bin/sh -c only with allowShellString", async () => {
    const adapter = new ShellAdapter({ allowShellString: true });
    const sink = newSink();
    const prompt = "printf 'a\\nb\\nc\\n' | wc -l";
    const result = await expectResult(adapter.execute(makeRequest({ prompt }), sink, neverAborted()));
    expect(result.output.content.trim()).toBe("3");
    expect(sink.one("run_started").data.command).toEqual(["/bin/sh", "-c", prompt]);
  });

  it("stops processes the command left behind and does not wait for them", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    // The background sleep keeps stdout open: waiting for the pipes alone would take a minute.
    const result = await expectResult(
      adapter.execute(makeRequest({ command: ["sh", "-c", "sleep 60 & echo $!"] }), sink, neverAborted()),
    );
    const leftover = Number(result.output.content.trim());
    expect(leftover).toBeGreaterThan(0);
    await expectGroupGone(sink.pid(), [leftover]);
  });

  it("runs concurrent commands independently", async () => {
    const adapter = new ShellAdapter();
    const [a, b] = [newSink(), newSink()];
    const [ra, rb] = await Promise.all([
      expectResult(adapter.execute(makeRequest({ command: ["sh", "-c", "echo a"] }), a, neverAborted())),
      expectResult(adapter.execute(makeRequest({ command: ["sh", "-c", "echo b"] }), b, neverAborted())),
    ]);
    expect([ra.output.content, rb.output.content]).toEqual(["a\n", "b\n"]);
    expect(a.one("tool_call_started").data.toolCallId).not.toBe(b.one("tool_call_started").data.toolCallId);
  });
});

describe("ShellAdapter: failures", () => {
  it("rejects a non-zero exit with command_failed, the exit code and the stderr tail", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    const command = nodeCommand(
      "process.stdout.write('partial'); console.error('first line'); console.error('boom: disk full'); process.exitCode = 3",
    );
    const error = await expectAsmError(
      adapter.execute(makeRequest({ command }), sink, neverAborted()),
      "command_failed",
    );

    expect(error.message).toContain("exited with code 3");
    expect(error.details).toEqual({ exitCode: 3, durationMs: expect.any(Number) });
    expect(error.providerError).toEqual({
      provider: "shell",
      kind: "transport_exit",
      message: "boom: disk full",
      exitCode: 3,
      stderr: "first line\nboom: disk full\n",
    });
    expect(sink.types().filter((type) => type !== "message_streamed")).toEqual([
      "run_started",
      "tool_call_started",
      "tool_call_failed",
    ]);
    const failed = sink.one("tool_call_failed").data;
    expect(failed).toEqual({
      toolCallId: sink.one("tool_call_started").data.toolCallId,
      toolName: "shell",
      toolOutput: { exitCode: 3, durationMs: expect.any(Number) },
      errorMessage: error.message,
    });
    expect(sink.streamed("stdout")).toBe("partial");
  });

  it("keeps only the tail of a long stderr in providerError", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    // process.exitCode, not process.exit(): exiting at once can drop writes still queued on the pipe.
    const command = nodeCommand(
      "for (let i = 0; i < 300; i++) console.error('line ' + i); process.exitCode = 2",
    );
    const error = await expectAsmError(
      adapter.execute(makeRequest({ command }), sink, neverAborted()),
      "command_failed",
    );

    const stderr = error.providerError?.stderr ?? "";
    const lines = stderr.trimEnd().split("\n");
    expect(error.providerError?.truncated).toBe(true);
    expect(lines).toHaveLength(200);
    expect(lines[0]).toBe("line 100");
    expect(lines.at(-1)).toBe("line 299");
    // The stream itself was not cut.
    expect(sink.streamed("stderr").split("\n")).toHaveLength(301);
  });

  it("reports a command killed by a signal with the signal, not an exit code", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    const command = nodeCommand("process.kill(process.pid, 'SIGKILL')");
    const error = await expectAsmError(
      adapter.execute(makeRequest({ command }), sink, neverAborted()),
      "command_failed",
    );
    expect(error.details).toEqual({ signal: "SIGKILL", durationMs: expect.any(Number) });
    expect(error.providerError).toMatchObject({
      kind: "transport_exit",
      message: expect.stringContaining("SIGKILL"),
    });
    expect(sink.one("tool_call_failed").data.toolOutput).toEqual({
      signal: "SIGKILL",
      durationMs: expect.any(Number),
    });
  });

  it("rejects a missing program with command_not_found and emits nothing", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    const error = await expectAsmError(
      adapter.execute(makeRequest({ command: ["asm-test-no-such-program", "x"] }), sink, neverAborted()),
      "command_not_found",
    );
    expect(error.hint).toContain("PATH");
    expect(error.providerError).toMatchObject({ provider: "shell", kind: "cli_not_found" });
    expect(error.details).toMatchObject({ errno: "ENOENT" });
    expect(sink.events).toEqual([]);
  });

  it("hints at argv words when a whole command line was passed as the program", async () => {
    const adapter = new ShellAdapter();
    const error = await expectAsmError(
      adapter.execute(makeRequest({ command: ["ls -la"] }), newSink(), neverAborted()),
      "command_not_found",
    );
    expect(error.hint).toMatch(/each argv word separately/);
    expect(error.hint).toMatch(/allowShellString/);
  });

  it("rejects a file without the exec bit with command_failed (EACCES)", async () => {
    const script = path.join(dir, "not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    chmodSync(script, 0o644);
    const sink = newSink();
    const error = await expectAsmError(
      new ShellAdapter().execute(makeRequest({ command: [script] }), sink, neverAborted()),
      "command_failed",
    );
    expect(error.details).toMatchObject({ errno: "EACCES" });
    expect(error.providerError).toMatchObject({ kind: "process_error" });
    expect(error.hint).toContain("chmod");
    expect(sink.events).toEqual([]);
  });
});

describe("ShellAdapter: timeout and cancellation", () => {
  it("kills the whole group on timeout and rejects with timeout", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    const error = await expectAsmError(
      adapter.execute(
        makeRequest({ command: ["sh", "-c", "sleep 30 & sleep 30 & echo ready; wait"] }, { timeoutMs: 500 }),
        sink,
        neverAborted(),
      ),
      "timeout",
    );
    expect(error.details).toEqual({ timeoutMs: 500, durationMs: expect.any(Number) });
    expect(error.providerError).toMatchObject({ provider: "shell", kind: "timeout" });
    expect(sink.one("tool_call_failed").data.errorMessage).toContain("timed out after 500 ms");
    await expectGroupGone(sink.pid());
  });

  it("on abort kills the whole process group: no child survives", async () => {
    const adapter = new ShellAdapter({ killGraceMs: 10_000 });
    const sink = newSink();
    const controller = new AbortController();
    const running = outcome(
      adapter.execute(
        makeRequest({ command: ["sh", "-c", "sleep 60 & sleep 60 & echo ready; wait"] }),
        sink,
        controller.signal,
      ),
    );
    await sink.waitFor(() => sink.streamed("stdout").includes("ready"), "ready");
    const pgid = sink.pid();
    const members = liveGroupMembers(pgid).map((member) => member.pid);
    expect(members).toContain(pgid);
    expect(members.length).toBeGreaterThanOrEqual(3); // sh and its two sleeps
    const grandchildren = members.filter((pid) => pid !== pgid);

    controller.abort();
    const settled = await running;
    expect(settled.ok).toBe(false);
    if (settled.ok) return;
    expect(AsmError.is(settled.error, "cancelled")).toBe(true);

    // SIGTERM was enough: the adapter did not need to wait out the 10 s grace for a SIGKILL.
    expect(sink.one("tool_call_failed").data).toMatchObject({
      toolOutput: { signal: "SIGTERM" },
      errorMessage: "cancelled",
    });
    await expectGroupGone(pgid, grandchildren);
  });

  it("cancels through adapter.cancel(runId)", async () => {
    const adapter = new ShellAdapter();
    const sink = newSink();
    const runId = newId("run");
    const running = outcome(
      adapter.execute(
        makeRequest({ command: ["sh", "-c", "echo ready; sleep 60"] }, {}, runId),
        sink,
        neverAborted(),
      ),
    );
    await sink.waitFor(() => sink.streamed("stdout").includes("ready"), "ready");

    expect(await adapter.cancel("run_not_executing")).toBe(false);
    expect(await adapter.cancel(runId)).toBe(true);
    const settled = await running;
    if (settled.ok) throw new Error("expected the run to be cancelled");
    expect(AsmError.is(settled.error, "cancelled")).toBe(true);
    expect(await adapter.cancel(runId)).toBe(false);
    await expectGroupGone(sink.pid());
  });

  it("SIGKILLs a group that ignores SIGTERM once killGraceMs has passed", async () => {
    const adapter = new ShellAdapter({ killGraceMs: 300 });
    const sink = newSink();
    const controller = new AbortController();
    // `trap '' TERM` is inherited by the background sleep: nobody in the group obeys SIGTERM.
    const running = outcome(
      adapter.execute(
        makeRequest({ command: ["sh", "-c", "trap '' TERM; sleep 60 & echo ready; wait"] }),
        sink,
        controller.signal,
      ),
    );
    await sink.waitFor(() => sink.streamed("stdout").includes("ready"), "ready");
    const pgid = sink.pid();
    const grandchildren = liveGroupMembers(pgid)
      .map((member) => member.pid)
      .filter((pid) => pid !== pgid);

    controller.abort();
    const settled = await running;
    if (settled.ok) throw new Error("expected the run to be cancelled");
    expect(AsmError.is(settled.error, "cancelled")).toBe(true);
    expect(sink.one("tool_call_failed").data.toolOutput).toEqual({
      signal: "SIGKILL",
      durationMs: expect.any(Number),
    });
    await expectGroupGone(pgid, grandchildren);
  });

  it("kills running groups when the host process exits mid-run", async () => {
    // A host that calls process.exit() (a CLI's SIGINT handler, say) while a command runs.
    const host = path.join(dir, "exiting-host.mts");
    const adapterModule = path.join(import.meta.dirname, "index.ts");
    writeFileSync(
      host,
      `import { ShellAdapter } from ${JSON.stringify(adapterModule)};
      let pid = 0;
      const run = { id: "run_host", sessionId: "ses_host", status: "running", metadata: {}, turnCount: 0,
        tokenUsage: { inputTokens: 0, outputTokens: 0 }, providerMetadata: {}, createdAt: "",
        input: { command: ["sh", "-c", "sleep 60 & echo ready; wait"] } };
      const sink = { emit(event) {
        if (event.type === "run_started") pid = event.data.pid;
        if (event.type === "message_streamed" && event.data.delta.includes("ready")) {
          process.stdout.write("pgid " + pid + "\\n");
          process.exit(0);
        }
      } };
      new ShellAdapter().execute({ run, session: {}, providerOptions: {} }, sink, new AbortController().signal);`,
    );
    const child = spawnSync(process.execPath, ["--import", "tsx", host], {
      cwd: path.resolve(import.meta.dirname, "../../.."),
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(child.stderr).toBe("");
    const pgid = Number(/pgid (\d+)/.exec(child.stdout)?.[1]);
    expect(pgid).toBeGreaterThan(0);
    // SIGKILL was sent synchronously on exit; dying and being reaped happen shortly after.
    await eventually(() => liveGroupMembers(pgid).length === 0, `group ${pgid} has no live member`);
    await eventually(() => !groupExists(pgid), `process group ${pgid} is gone (ESRCH)`);
  });

  it("rejects with cancelled without spawning when the signal is already aborted", async () => {
    const sink = newSink();
    await expectAsmError(
      new ShellAdapter().execute(
        makeRequest({ command: ["sh", "-c", "echo no"] }),
        sink,
        AbortSignal.abort(),
      ),
      "cancelled",
    );
    expect(sink.events).toEqual([]);
  });
});

describe("ShellAdapter: validation", () => {
  async function expectInvalid(
    input: RunInput,
    options: JsonObject = {},
    adapter = new ShellAdapter(),
  ): Promise<AsmError> {
    const sink = newSink();
    const error = await expectAsmError(
      adapter.execute(makeRequest(input, options), sink, neverAborted()),
      "validation_error",
    );
    expect(sink.events).toEqual([]);
    return error;
  }

  it("refuses a shell string unless allowShellString is set, pointing to argv", async () => {
    const error = await expectInvalid({ prompt: "ls -la | head" });
    expect(error.hint).toContain("input.command");
    expect(error.hint).toContain("allowShellString");
  });

  it("refuses input with neither command nor prompt, or with both", async () => {
    const neither = await expectInvalid({ messages: [{ role: "user", content: "ls" }] });
    expect(neither.hint).toContain("input.command");
    await expectInvalid({ command: ["ls"], prompt: "ls" }, {}, new ShellAdapter({ allowShellString: true }));
  });

  it("refuses an empty argv or an empty program", async () => {
    await expectInvalid({ command: [] });
    await expectInvalid({ command: ["", "x"] });
    await expectInvalid({ command: ["echo", "nul\0byte"] });
  });

  it("validates per-run options", async () => {
    const negative = await expectInvalid({ command: ["true"] }, { timeoutMs: -1 });
    expect(negative.details.issues).toEqual([{ path: "timeoutMs", message: expect.any(String) }]);
    const typo = await expectInvalid({ command: ["true"] }, { timeout: 5 });
    expect(typo.message).toContain("timeout");
    await expectInvalid({ command: ["true"] }, { env: { A: 1 } });
    const missing = await expectInvalid({ command: ["true"] }, { cwd: path.join(dir, "does-not-exist") });
    expect(missing.details).toEqual({ cwd: path.join(dir, "does-not-exist") });
  });

  it("validates constructor options", () => {
    expect(expectConstructorError({ cwd: path.join(dir, "does-not-exist") }).details).toEqual({
      cwd: path.join(dir, "does-not-exist"),
    });
    expectConstructorError({ timeoutMs: 1.5 });
    expectConstructorError({ killGraceMs: -1 });
    expectConstructorError({ successExitCodes: [] });
    expect(expectConstructorError({ shell: "/bin/bash" }).hint).toContain("allowShellString");
    expect(new ShellAdapter({ shell: "/bin/bash", allowShellString: true }).name).toBe("shell");
  });
});
