import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AsmEvent } from "../core/events.js";
import { listProviders } from "../providers/registry.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { corruptMiddleLeafPage, writeStoreWithEvents } from "../stores/sqlite/test-support/corrupt-page.js";
import { readScriptedCliRecord, scriptedCliEnv, scriptedCliPath } from "../testing/scripted-cli/index.js";
import { asm, collect, jsonLines, Lines, requireBuiltCli, shellRunArgs, start } from "./test-support/cli.js";

let dir: string;
let db: string;

const CLAUDE_TRANSCRIPTS = fileURLToPath(new URL("../providers/claude/transcripts", import.meta.url));
const CODEX_TRANSCRIPTS = fileURLToPath(new URL("../providers/codex/transcripts", import.meta.url));

/** An environment in which no provider finds credentials. */
function noCredentials(home: string): Record<string, string> {
  return {
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, ".claude"),
    CODEX_HOME: join(home, ".codex"),
    ANTHROPIC_API_KEY: "",
    ANTHROPIC_AUTH_TOKEN: "",
    CLAUDE_CODE_OAUTH_TOKEN: "",
    CLAUDE_CODE_USE_BEDROCK: "",
    CLAUDE_CODE_USE_VERTEX: "",
    CODEX_API_KEY: "",
    OPENAI_API_KEY: "",
    AMP_API_KEY: "",
  };
}

beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "asm-cli-"));
  db = join(dir, "asm.db");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("asm run", () => {
  it("runs a shell command as argv and prints one JSON event per line", async () => {
    const result = await asm(shellRunArgs(db, ["echo", "hello world"]));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const events = jsonLines(result.stdout);
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(["message_sent", "run_started", "message_streamed", "run_completed"]),
    );
    expect(events.map((event) => event.type).slice(-2)).toEqual(["run_completed", "session_completed"]);
    const streamed = events.filter((event) => event.type === "message_streamed");
    expect(
      streamed.map((event) => (event.type === "message_streamed" ? event.data.delta : "")).join(""),
    ).toBe("hello world\n");
    const sequences = events.map((event) => event.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  });

  it("renders compact human output when not asked for JSON", async () => {
    const result = await asm(["run", "--provider", "shell", "--db", db, "--", "printf", "a\\nb"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\n#(\d+) a\n#\1 b\n/);
    expect(result.stdout).toMatch(/✓ run completed · exit_code_0/);
    expect(result.stdout).toMatch(/● session completed/);
  });

  it("neutralises terminal control sequences in human output; the log and --json keep them raw", async () => {
    const raw = "\u001b[31mred\u001b]0;title\u0007";
    const script = "printf '\\033[31mred\\033]0;title\\007\\n'; printf '\\033[2J' >&2";
    const human = await asm(["run", "--provider", "shell", "--db", db, "--shell", script]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("\\x1b[31mred\\x1b]0;title\\x07\n");
    expect(human.stdout).toContain("\\x1b[2J");
    expect(human.stdout).not.toContain("\u001b");
    expect(human.stdout).not.toContain("\u0007");

    const json = await asm(["run", "--provider", "shell", "--db", db, "--json", "--shell", script]);
    const deltas = jsonLines(json.stdout).flatMap((event) =>
      event.type === "message_streamed" ? [event.data.delta] : [],
    );
    expect(deltas.join("")).toContain(`${raw}\n`);
    const sessionId = jsonLines(json.stdout)[0]?.sessionId ?? "";
    const stored = jsonLines((await asm(["events", sessionId, "--db", db, "--json"])).stdout);
    expect(JSON.stringify(stored)).toContain(JSON.stringify(raw).slice(1, -1));
  });

  it("runs a shell string only with the explicit --shell opt-in", async () => {
    const refused = await asm(["run", "--provider", "shell", "--db", db, "--", "echo hi | tr a-z A-Z"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("[command_not_found]");
    expect(refused.stderr).toMatch(/hint: /);

    const allowed = await asm([
      "run",
      "--provider",
      "shell",
      "--db",
      db,
      "--json",
      "--shell",
      "echo hi | tr a-z A-Z",
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('"delta":"HI\\n"');
  });

  it("exits with the command's own exit code, as a shell would, and records it", async () => {
    const result = await asm(shellRunArgs(db, ["sh", "-c", "echo oops >&2; exit 3"]));
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stderr.trim())).toMatchObject({
      error: { code: "command_failed", details: { exitCode: 3 } },
    });
    const failed = jsonLines(result.stdout).at(-2);
    expect(failed).toMatchObject({ type: "run_failed", data: { errorCode: "command_failed" } });
    const show = await asm(["sessions", "show", String(failed?.sessionId), "--db", db, "--json"]);
    const shown = JSON.parse(show.stdout) as { session: { status: string }; runs: { status: string }[] };
    expect(shown.session.status).toBe("failed");
    expect(shown.runs.map((run) => run.status)).toEqual(["failed"]);
  });

  it("refuses --shell without the shell provider (exit 2), before anything starts", async () => {
    const fresh = join(dir, "no-shell.db");
    const result = await asm(["run", "--db", fresh, "--shell", "ls | wc -l"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--shell is for the shell provider, not claude [validation_error]");
    expect(existsSync(fresh)).toBe(false);
  });

  it("passes on a shell command's exit code: --shell 'exit 7' → 7, false → 1, a missing program → 127", async () => {
    const seven = await asm(["run", "--provider", "shell", "--db", db, "--shell", "exit 7"]);
    expect(seven.code).toBe(7);
    expect(seven.stderr).toContain("[command_failed]");
    expect((await asm(["run", "--provider", "shell", "--db", db, "--", "false"])).code).toBe(1);
    const missing = await asm(["run", "--provider", "shell", "--db", db, "--", "no-such-program-here"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("[command_not_found]");
  });

  it("rejects an unknown provider with one line, a hint and exit 2, creating nothing", async () => {
    const fresh = join(dir, "untouched.db");
    const result = await asm(["run", "--provider", "gpt-9", "--db", fresh, "--", "hi"]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines[0]).toBe('asm: error unknown provider "gpt-9" [provider_not_found]');
    const names = listProviders().map((provider) => provider.name);
    expect(names).toEqual(expect.arrayContaining(["claude", "codex", "amp", "shell"]));
    expect(lines[1]).toBe(`  hint: choose one of: ${names.join(", ")}`);
    expect(existsSync(fresh)).toBe(false);
  });

  it("reaches an explicit --executable with no credentials, passing the registry's flags and provider options", async () => {
    const home = mkdtempSync(join(tmpdir(), "asm-home-"));
    const record = join(home, "record.json");
    try {
      const result = await asm(
        [
          "run",
          "-p",
          "claude",
          "--executable",
          scriptedCliPath("claude"),
          "--max-turns",
          "3",
          "--system-prompt",
          "be brief",
          "--denied-tools",
          "Bash,WebFetch",
          "--db",
          join(home, "asm.db"),
          "--json",
          "hi",
        ],
        {
          ...noCredentials(home),
          ...scriptedCliEnv({ scenario: join(CLAUDE_TRANSCRIPTS, "text.jsonl"), record }),
        },
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(jsonLines(result.stdout).at(-1)?.type).toBe("session_completed");
      const invocation = readScriptedCliRecord(record);
      expect(invocation?.argv).toEqual(
        expect.arrayContaining(["--max-turns=3", "--disallowedTools=Bash,WebFetch"]),
      );
      // Claude Code gets its system prompt in the SDK's initialize request on stdin.
      expect(JSON.stringify(invocation?.stdin)).toContain('"systemPrompt":["be brief"]');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("ends a human run with one cost line: its figure, its source and any warning", async () => {
    const home = mkdtempSync(join(tmpdir(), "asm-home-"));
    const run = (provider: "claude" | "codex", transcripts: string) =>
      asm(
        [
          "run",
          "-p",
          provider,
          "--executable",
          scriptedCliPath(provider),
          "--db",
          join(home, "asm.db"),
          "hi",
        ],
        { ...noCredentials(home), ...scriptedCliEnv({ scenario: join(transcripts, "text.jsonl") }) },
      );
    try {
      const claude = await run("claude", CLAUDE_TRANSCRIPTS);
      expect(claude.code).toBe(0);
      expect(claude.stdout.trim().split("\n").at(-1)).toMatch(
        /^cost \$\d+\.\d{4} · reported by the provider$/,
      );
      const codex = await run("codex", CODEX_TRANSCRIPTS);
      expect(codex.code).toBe(0);
      expect(codex.stdout.trim().split("\n").at(-1)).toBe(
        "cost unknown · warning: the provider did not name the model, so its tokens have no price",
      );
      // A run that spent nothing has nothing to say; --json has no cost line (the figure is in run_completed).
      const shell = await asm(["run", "-p", "shell", "--db", join(home, "asm.db"), "--", "true"]);
      expect(shell.stdout).not.toContain("cost");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("a hint that names a provider option says the --provider-option flag", async () => {
    const home = mkdtempSync(join(tmpdir(), "asm-home-"));
    try {
      const result = await asm(
        ["run", "-p", "codex", "--executable", scriptedCliPath("codex"), "--db", join(home, "asm.db"), "hi"],
        {
          ...noCredentials(home),
          ...scriptedCliEnv({ scenario: join(CODEX_TRANSCRIPTS, "not-a-git-repo.jsonl") }),
        },
      );
      expect(result.code).toBe(1);
      const hint = result.stderr.trim().split("\n").at(-1);
      expect(hint).toMatch(/^ {2}hint: .*pass --provider-option skipGitRepoCheck=true$/);
      expect(hint).not.toContain("providerOptions");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("validates --provider-option against the provider's schema, naming the key (exit 2)", async () => {
    const unknown = await asm([
      "run",
      "-p",
      "codex",
      "--provider-option",
      "skipGitRepoCheck=maybe",
      "--db",
      join(dir, "x.db"),
      "hi",
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/skipGitRepoCheck/);
    const typo = await asm([
      "run",
      "-p",
      "codex",
      "--provider-option",
      "skipGitRepoChek=true",
      "--db",
      join(dir, "x.db"),
      "hi",
    ]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown provider option "skipGitRepoChek" for codex/);
    const shellOnly = await asm(["run", "-p", "codex", "--shell", "--db", join(dir, "x.db"), "hi"]);
    expect(shellOnly.code).toBe(2);
    expect(shellOnly.stderr).toMatch(/--shell is for the shell provider/);
    expect(existsSync(join(dir, "x.db"))).toBe(false);
  });

  it("fails fast without provider credentials, saying how to log in", async () => {
    const home = mkdtempSync(join(tmpdir(), "asm-home-"));
    const fresh = join(dir, "no-credentials.db");
    try {
      for (const [provider, variable] of [
        ["claude", "ANTHROPIC_API_KEY"],
        ["codex", "CODEX_API_KEY"],
        ["amp", "AMP_API_KEY"],
      ] as const) {
        // claude is the default provider, so it is also reached with no --provider at all.
        const args =
          provider === "claude"
            ? ["run", "--db", fresh, "hello"]
            : ["run", "-p", provider, "--db", fresh, "hi"];
        const result = await asm(args, noCredentials(home));
        expect(result.code).toBe(1);
        const lines = result.stderr.trim().split("\n");
        expect(lines).toHaveLength(2);
        expect(lines[0]).toMatch(/^asm: error no .+ credentials found \[provider_authentication_failed\]$/);
        expect(lines[1]).toContain(variable);
      }
      expect(existsSync(fresh)).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("rejects an unknown permission mode as a usage error (exit 2)", async () => {
    const result = await asm(["run", "--provider", "shell", "--permission-mode", "yolo", "--", "true"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Allowed choices are default, accept_edits, plan, full_auto");
  });

  it("uses ASM_DB when --db is not given", async () => {
    const envDb = join(dir, "from-env.db");
    const result = await asm(["run", "--provider", "shell", "--json", "--", "true"], { ASM_DB: envDb });
    expect(result.code).toBe(0);
    expect(existsSync(envDb)).toBe(true);
    const listed = await asm(["sessions", "list", "--json"], { ASM_DB: envDb });
    expect(jsonLines(listed.stdout)).toHaveLength(1);
  });

  it("cancels the run on Ctrl-C: exit 130, run cancelled, no child left behind", async () => {
    const child = start(shellRunArgs(db, ["sh", "-c", "echo ready; exec sleep 30"]));
    const lines = new Lines(child);
    const outcome = collect(child);
    const started = JSON.parse(await lines.waitFor((line) => line.includes('"run_started"'))) as AsmEvent;
    await lines.waitFor((line) => line.includes("ready"));
    const pid = started.type === "run_started" ? Number(started.data.pid) : Number.NaN;
    expect(Number.isInteger(pid)).toBe(true);
    child.kill("SIGINT");
    const result = await outcome;
    expect(result.code).toBe(130);
    expect(jsonLines(result.stdout).slice(-2)).toMatchObject([
      { type: "run_cancelled" },
      { type: "session_cancelled" },
    ]);
    expect(() => process.kill(pid, 0)).toThrow();
    const show = await asm(["sessions", "show", started.sessionId, "--db", db, "--json"]);
    expect(JSON.parse(show.stdout)).toMatchObject({
      session: { status: "cancelled" },
      runs: [{ status: "cancelled" }],
    });
  });
});

describe("asm sessions and asm events", () => {
  it("lists, shows and pages through a session's log from a cursor", async () => {
    const run = await asm(shellRunArgs(db, ["echo", "paged"]));
    const sessionId = jsonLines(run.stdout)[0]?.sessionId ?? "";

    const list = await asm(["sessions", "list", "--db", db, "--json", "--limit", "1"]);
    expect(jsonLines(list.stdout).map((session) => session.id)).toEqual([sessionId]);

    const show = await asm(["sessions", "show", sessionId, "--db", db]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(sessionId);
    expect(show.stdout).toMatch(/run_\w+ {2}completed/);

    const all = jsonLines((await asm(["events", sessionId, "--db", db, "--json"])).stdout);
    expect(all.map((event) => event.sequence)).toEqual(all.map((_, index) => index + 1));
    expect(all[0]?.type).toBe("session_created");
    expect(all.at(-1)?.type).toBe("session_completed");

    const tail = jsonLines((await asm(["events", sessionId, "--db", db, "--json", "--after", "3"])).stdout);
    expect(tail).toEqual(all.slice(3));
  });

  it("reports a cursor past the end as invalid_cursor with a hint", async () => {
    const run = await asm(shellRunArgs(db, ["true"]));
    const sessionId = jsonLines(run.stdout)[0]?.sessionId ?? "";
    const result = await asm(["events", sessionId, "--db", db, "--after", "999"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("[invalid_cursor]");
    expect(result.stderr).toMatch(/hint: /);
  });

  it("reports an unknown session by code", async () => {
    const result = await asm(["sessions", "show", "ses_nope", "--db", db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("[session_not_found]");
  });

  it("follows a session live while another process writes to it", async () => {
    const writer = start(shellRunArgs(db, ["sh", "-c", "echo first; sleep 1; echo second"]));
    const writerLines = new Lines(writer);
    const writerDone = collect(writer);
    const first = JSON.parse(await writerLines.waitFor(() => true)) as AsmEvent;

    // It ends by itself once the session has ended, after printing the session's last event.
    const result = await asm(["events", first.sessionId, "--db", db, "--json", "--follow"]);
    expect(result.code).toBe(0);
    expect((await writerDone).code).toBe(0);
    const events = jsonLines(result.stdout);
    const text = events.map((event) => (event.type === "message_streamed" ? event.data.delta : "")).join("");
    expect(text).toBe("first\nsecond\n");
    expect(events.map((event) => event.sequence)).toEqual(events.map((_, index) => index + 1));
    expect(events.at(-1)?.type).toBe("session_completed");
  });

  it("--follow on an ended session prints the rest and ends; --keep-following waits on", async () => {
    const run = await asm(shellRunArgs(db, ["echo", "done"]));
    const all = jsonLines(run.stdout);
    const sessionId = all[0]?.sessionId ?? "";
    const followed = await asm(["events", sessionId, "--db", db, "--json", "--follow", "--after", "2"]);
    expect(followed.code).toBe(0);
    expect(jsonLines(followed.stdout)).toEqual(all.slice(2));

    const keeper = start(["events", sessionId, "--db", db, "--json", "--keep-following"]);
    const keeperLines = new Lines(keeper);
    const kept = collect(keeper);
    await keeperLines.waitFor((line) => line.includes('"session_completed"'));
    // Still following: an event appended after the session's end reaches it.
    const store = await openSqliteStore({ path: db });
    try {
      await store.appendEvent({
        id: "evt_after_the_end",
        type: "error_occurred",
        sessionId,
        timestamp: new Date().toISOString(),
        data: { errorCode: "internal_error", errorMessage: "late" },
        metadata: {},
      });
    } finally {
      await store.close();
    }
    await keeperLines.waitFor((line) => line.includes("evt_after_the_end"));
    keeper.kill("SIGINT");
    expect((await kept).code).toBe(0);
  });

  it("names a corrupt database file and exits non-zero", async () => {
    const corrupt = join(dir, "corrupt.db");
    writeFileSync(corrupt, "this is not a database, just text ".repeat(200));
    const result = await asm(["sessions", "list", "--db", corrupt]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("[storage_corrupt]");
    expect(result.stderr).toContain("corrupt.db");
  });
});

describe("a damaged database", () => {
  it("asm run reports a garbage page in the middle of a table before the run writes anything", async () => {
    const damaged = join(dir, "damaged.db");
    await writeStoreWithEvents(damaged, 2000);
    corruptMiddleLeafPage(damaged, "events");
    const before = readFileSync(damaged);
    const result = await asm(["run", "--provider", "shell", "--db", damaged, "--", "echo", "never"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const [line, hint] = result.stderr.trim().split("\n");
    expect(line).toMatch(
      new RegExp(
        `^asm: error ${damaged} is damaged: a page of table events is unreadable .*\\[storage_corrupt\\]$`,
      ),
    );
    expect(hint).toContain("Restore it from a backup");
    expect(readFileSync(damaged).equals(before)).toBe(true);
  });
});

describe("asm --help", () => {
  it("lists the commands", async () => {
    const result = await asm(["--help"]);
    expect(result.code).toBe(0);
    for (const command of ["run", "sessions", "events"]) expect(result.stdout).toContain(command);
  });
});
