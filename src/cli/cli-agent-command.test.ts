import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScriptedAcpRecord, scriptedAcpAgentCommand, scriptedAcpAgentEnv } from "../testing/index.js";
import { asm, jsonLines, requireBuiltCli } from "./test-support/cli.js";

let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "asm-cli-agent-command-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The argv as one command line a user would type, each word single-quoted. */
const commandLine = (argv: readonly string[]): string => argv.map((word) => `'${word}'`).join(" ");

describe("asm run -p acp --agent-command", () => {
  it("runs the agent given as a command line, split into its argv without a shell", async () => {
    const record = join(dir, "record.json");
    const argv = scriptedAcpAgentCommand();
    const ran = await asm(
      [
        "run",
        "-p",
        "acp",
        "--agent-command",
        commandLine(argv),
        "--db",
        join(dir, "asm.db"),
        "--json",
        "hello",
      ],
      scriptedAcpAgentEnv({ scenario: "text", record }),
    );
    expect(ran.code, ran.stderr).toBe(0);
    const events = jsonLines(ran.stdout);
    expect(events.filter((event) => event.type.startsWith("run_")).map((event) => event.type)).toEqual([
      "run_started",
      "run_completed",
    ]);
    expect(events.some((event) => event.type === "message_received")).toBe(true);
    // The agent that answered is the scripted one, started from the argv the words gave.
    expect(readScriptedAcpRecord(record)?.prompts).toEqual(["hello"]);
  });

  it("is refused off the acp provider, and an unterminated quote is a usage error (exit 2)", async () => {
    const db = join(dir, "refused.db");
    const shell = await asm(["run", "-p", "shell", "--agent-command", "gemini", "--db", db, "--", "true"]);
    expect(shell.code).toBe(2);
    expect(shell.stderr).toMatch(/--agent-command is for the acp provider, not shell/);
    const quote = await asm(["run", "-p", "acp", "--agent-command", "agent 'oops", "--db", db, "hi"]);
    expect(quote.code).toBe(2);
    expect(quote.stderr).toMatch(/unterminated ' quote/);
  });
});
