import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { asm, jsonLines } from "../cli/test-support/cli.js";

// The CLI's flags over the pipeline, on the built binary: --render, --log-file, --jsonl-file.
const dir = mkdtempSync(path.join(tmpdir(), "asm-cli-render-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("asm run / asm events --render, --log-file, --jsonl-file", () => {
  it("renders with the chosen renderer, and writes the plain log and every event to owner-only files", async () => {
    const db = path.join(dir, "a.db");
    const logFile = path.join(dir, "run.log");
    const jsonlFile = path.join(dir, "run.jsonl");
    const args = [
      "run",
      "-p",
      "shell",
      "--db",
      db,
      "--render",
      "verbose",
      "--log-file",
      logFile,
      "--jsonl-file",
      jsonlFile,
    ];
    const run = await asm([...args, "--", "sh", "-c", "echo hello; echo world"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\[run_started\] model=unknown session_id=ses_\w+ run_id=run_\w+ seq=4$/m);
    expect(run.stdout).toMatch(/^hello\nworld\n\[tool_call_completed\] name=shell seq=7$/m);
    expect(run.stdout).toMatch(/^--- 10 events, 1 tools ---$/m);
    // The log holds what stdout showed (the cost line after it is the command's, not the renderer's).
    expect(run.stdout.startsWith(readFileSync(logFile, "utf8"))).toBe(true);
    const stored = jsonLines(readFileSync(jsonlFile, "utf8"));
    expect(stored.map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
    expect(statSync(jsonlFile).mode & 0o777).toBe(0o600);

    const sessionId = stored[0]?.sessionId ?? "";
    const events = await asm(["events", sessionId, "--db", db, "--render", "compact"]);
    expect(events.stdout).toBe(
      "?session_created ?session_started ?message_sent r+ t+shell >> hello\nworld\n" +
        "t-shell msg hello world r-:exit_code_0 ?session_completed\n10 events, 1 tools\n",
    );
    // From a cursor past the tool's start: its summary lacks the command, the message is shown whole.
    const studio = await asm(["events", sessionId, "--db", db, "--after", "6"]);
    expect(studio.stdout).toMatch(
      /^#7 ✓ Ran: bash \(exit 0\)\n\n#8 hello\n#8 world\n\n#9 ✓ run completed · exit_code_0 · \d+ ms\n#10 ● session completed\n$/,
    );
  });

  it("reports a file it cannot write once, on stderr, and the run goes on", async () => {
    const missing = path.join(dir, "no-such-dir", "run.log");
    const run = await asm([
      "run",
      "-p",
      "shell",
      "--db",
      path.join(dir, "b.db"),
      "--log-file",
      missing,
      "--",
      "echo",
      "ok",
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      `asm: file ${missing}: ENOENT: no such file or directory, open '${missing}' [internal_error]\n`,
    );
    expect(run.stdout).toMatch(/✓ run completed · exit_code_0/);
  });

  it("refuses an unknown renderer, naming the choices (exit 2)", async () => {
    const run = await asm(["run", "-p", "shell", "--render", "fancy", "--", "echo"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Allowed choices are compact, verbose, studio");
  });
});
