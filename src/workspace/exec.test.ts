import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { processIsLive } from "../providers/shared/process-group.js";
import { exec, execStream } from "./exec.js";

const dir = mkdtempSync(join(tmpdir(), "asm-exec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rejection(promise: Promise<unknown>): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!AsmError.is(error)) throw new Error(`expected an AsmError, got ${String(error)}`);
  return error;
}

describe("exec", () => {
  it("runs argv without a shell, in cwd, with the env given", async () => {
    const result = await exec(["sh", "-c", 'printf "%s|%s|%s" "$1" "$PWD" "$ASM_X"', "sh", "a b; echo no"], {
      cwd: dir,
      env: { PATH: process.env.PATH, ASM_X: "x-value" },
    });
    expect(result.stdout).toBe(`a b; echo no|${dir}|x-value`);
    expect(result).toMatchObject({ command: "sh", exitCode: 0, cwd: dir, stdoutTruncated: false });
  });

  it("does not interpret shell syntax in a program name", async () => {
    const error = await rejection(exec(["echo hi; touch pwned"], { cwd: dir }));
    expect(error.code).toBe("command_not_found");
  });

  it("rejects a missing program, an empty argv and a missing cwd with typed errors", async () => {
    expect((await rejection(exec(["asm-no-such-program-xyz"]))).code).toBe("command_not_found");
    expect((await rejection(exec([]))).code).toBe("validation_error");
    const missing = await rejection(exec(["true"], { cwd: join(dir, "nope") }));
    expect(missing).toMatchObject({ code: "validation_error", details: { cwd: join(dir, "nope") } });
    expect((await rejection(exec(["echo", "a\0b"]))).code).toBe("validation_error");
  });

  it("fails with command_failed and the exit code and output", async () => {
    const error = await rejection(exec(["sh", "-c", "echo out; echo bad >&2; exit 3"]));
    expect(error).toMatchObject({ code: "command_failed", details: { exitCode: 3, stdout: "out\n" } });
    expect(error.message).toContain("bad");
    const allowed = await exec(["sh", "-c", "exit 1"], { successExitCodes: [0, 1] });
    expect(allowed.exitCode).toBe(1);
  });

  it("kills the whole process group on timeout", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const error = await rejection(
      exec(["sh", "-c", `sleep 60 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 }),
    );
    expect(error).toMatchObject({ code: "timeout", details: { timeoutMs: 300 } });
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(processIsLive(grandchild)).toBe(false);
  });

  it("cancels on abort", async () => {
    const controller = new AbortController();
    const running = exec(["sleep", "60"], { signal: controller.signal, timeoutMs: 0 });
    controller.abort();
    expect((await rejection(running)).code).toBe("cancelled");
  });

  it("caps the kept output and says so", async () => {
    const result = await exec(["head", "-c", "5000", "/dev/zero"], { maxOutputBytes: 100 });
    expect(result.stdout.length).toBe(100);
    expect(result.stdoutTruncated).toBe(true);
  });

  it("feeds input to stdin", async () => {
    const result = await exec(["cat"], { input: "from stdin" });
    expect(result.stdout).toBe("from stdin");
  });

  it("leaves no process of the group behind a command that exits", async () => {
    const result = await exec(["sh", "-c", `sleep 60 >/dev/null 2>&1 & echo $!`]);
    const pid = Number(result.stdout.trim());
    expect(processIsLive(pid)).toBe(false);
  });
});

describe("execStream", () => {
  it("delivers every chunk in order and the result", async () => {
    const stream = execStream(["sh", "-c", "for i in 1 2 3; do echo line$i; done; echo err >&2"], {
      maxOutputBytes: 4,
    });
    const chunks: string[] = [];
    for await (const chunk of stream) if (chunk.stream === "stdout") chunks.push(chunk.data.toString());
    expect(chunks.join("")).toBe("line1\nline2\nline3\n");
    const result = await stream.result;
    expect(result).toMatchObject({ stdout: "line", stdoutTruncated: true, stderr: "err\n" });
  });

  it("ends iteration and rejects result for a failing command", async () => {
    const stream = execStream(["sh", "-c", "echo partial; exit 7"]);
    const seen: string[] = [];
    for await (const chunk of stream) seen.push(chunk.data.toString());
    expect(seen.join("")).toBe("partial\n");
    expect((await rejection(stream.result)).details).toMatchObject({ exitCode: 7 });
  });

  it("keeps up with output larger than its high-water mark", async () => {
    const stream = execStream(["head", "-c", String(5 * 1024 * 1024), "/dev/zero"]);
    let bytes = 0;
    for await (const chunk of stream) bytes += chunk.data.length;
    expect(bytes).toBe(5 * 1024 * 1024);
    expect((await stream.result).exitCode).toBe(0);
  });
});
