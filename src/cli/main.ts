#!/usr/bin/env node
// Keep this file's imports minimal: `asm --help` must start fast, so every command loads its
// implementation (stores, adapters, SDKs) only when it runs. `asm run`'s provider names and
// variables come from the provider registry (descriptors and their zod option schemas, no
// adapter), which is loaded only when the command line is about `run`.
import { Command, InvalidArgumentError, Option } from "commander";
import { PERMISSION_MODES } from "../core/permission-mode.js";
import { TEXT_RENDERER_NAMES } from "../rendering/renderer-names.js";

function integer(name: string, min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    }
    return parsed;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const program = new Command("asm")
  .description("Run AI coding agents behind one durable log of sessions, runs and events.")
  .version("0.1.0")
  .showSuggestionAfterError()
  // Usage errors (unknown option, bad choice) are invalid requests: exit 2, like ours.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .configureOutput({ outputError: (text, write) => write(text.startsWith("error") ? `asm: ${text}` : text) });

/** The providers' names and each one's `ASM_<PROVIDER>_<OPTION>` variables, for `asm run`'s help. */
async function providerHelp(): Promise<{ names: string; environment: string }> {
  if (!process.argv.slice(2).some((word) => word === "run" || word === "help")) {
    return { names: "the provider (see asm run --help)", environment: "  (see asm run --help)" };
  }
  const [{ listProviders }, { cliEnvironmentVariable, cliFlag }] = await Promise.all([
    import("../providers/registry.js"),
    import("../providers/cli-face.js"),
  ]);
  const providers = listProviders();
  return {
    names: providers.map((provider) => provider.name).join(", "),
    environment: providers
      .flatMap((provider) =>
        provider.cli.env.map(
          (option) =>
            `  ${cliEnvironmentVariable(provider.name, option).padEnd(26)} ${cliFlag(option)} for ${provider.name}`,
        ),
      )
      .join("\n"),
  };
}

const providers = await providerHelp();
const dbOption = "--db <path>";
const renderOption = () =>
  new Option(
    "--render <renderer>",
    "how events are shown: studio (symbols, tool summaries, a spinner on a terminal), compact (tokens), verbose ([type] key=value lines)",
  )
    .choices(TEXT_RENDERER_NAMES)
    .default("studio");
const logFileHelp = "also write the rendered output to this file, as plain text (created owner-only)";
const jsonlFileHelp = "also write every event to this file, one JSON per line (created owner-only)";
const dbHelp = "SQLite file or postgres:// URL (default: $ASM_DB or ./.asm/asm.db)";

program
  .command("run")
  .description("run one prompt (or, for the shell provider, one command) in a new session")
  .argument("<words...>", "the prompt; for --provider shell, the command and its arguments")
  .option("-p, --provider <name>", providers.names, "claude")
  .option("-m, --model <model>", "model for the provider (default: the provider's own)")
  .addOption(
    new Option("--permission-mode <mode>", "what the agent may do without asking").choices(PERMISSION_MODES),
  )
  .option("--executable <path>", "the provider's CLI to run (default: the one its SDK ships)")
  .option("--system-prompt <text>", "instructions added to the provider's system prompt")
  .option("--max-turns <n>", "stop the agent after this many turns")
  .option("--allowed-tools <a,b>", "the only tools the agent may use (comma-separated)")
  .option("--denied-tools <a,b>", "tools the agent must not use (comma-separated)")
  .option(
    "--provider-option <key=value>",
    "one of the provider's own options, e.g. skipGitRepoCheck=true for codex (repeatable)",
    collect,
  )
  .option(dbOption, dbHelp)
  .option("--json", "print one JSON event per line")
  .addOption(renderOption())
  .option("--log-file <path>", logFileHelp)
  .option("--jsonl-file <path>", jsonlFileHelp)
  .option("--cwd <dir>", "working directory for the provider (default: the current one)")
  .option("--timeout <ms>", "end the run with status timeout after this long", integer("--timeout", 1))
  .option("--shell", "shell provider: run the words as one /bin/sh command line (opt-in)")
  .option(
    "--agent-command <argv>",
    "acp provider: the agent to run — a preset (gemini, claude-code, codex) or its command line, split into words without a shell",
  )
  .option(
    "--session <id>",
    "run in this existing session, queued behind the runs already waiting in it (default: a new session)",
  )
  .option(
    "--queue",
    "enqueue the run for asm worker processes (needs a postgres:// --db) and follow it until it ends",
  )
  .option(
    "--continue [mode]",
    "with --session: carry the session's conversation into the run — auto (the default: native when the same provider ran it before, else replay), native (resume the provider's own session) or replay (the transcript before the prompt)",
  )
  .option(
    "--workspace",
    "snapshot the working directory (--cwd) before and after the run and print what changed (git or hash backend)",
  )
  .option(
    "--rollback-on-failure",
    "with --workspace: put the directory back if the run fails, is cancelled or times out",
  )
  .option(
    "--no-redact",
    "store secrets as they are (default: secrets are redacted before anything is stored)",
  )
  .addHelpText(
    "after",
    `
Examples:
  $ asm run "explain what this repository does"
  $ asm run --provider codex --permission-mode plan "review the last commit"
  $ asm run --provider shell -- echo "hello world"
  $ asm run --provider shell --shell 'ls | wc -l'
  $ asm run --provider claude --executable ./my-claude --max-turns 3 "fix the failing test"
  $ asm run --provider codex --provider-option skipGitRepoCheck=true "summarize this folder"
  $ asm run --session ses_0193… "and now the tests"
  $ asm run --session ses_0193… --continue -p codex "what was the code?"
  $ asm run --workspace --rollback-on-failure "fix the failing test"

Environment (a flag wins over its variable):
${providers.environment}

Ctrl-C (or SIGTERM, SIGHUP) cancels the run and records it; a second one kills the provider's
processes at once. Exit code 128 + the signal's number (130 for Ctrl-C).`,
  )
  .action(async (words: string[], options) => {
    const { runCommand } = await import("./commands/run.js");
    process.exitCode = await runCommand(words, options);
  });

program
  .command("worker")
  .description("execute runs queued with asm run --queue, sharing a PostgreSQL database with other workers")
  .option(dbOption, "postgres:// URL of the store, ?schema= for its schema (default: $ASM_DB)")
  .option("--concurrency <n>", "runs this worker executes at once (default 2)", integer("--concurrency", 1))
  .option("--providers <a,b>", "providers this worker executes, e.g. claude,codex,shell (default: shell)")
  .option(
    "--lease-ms <ms>",
    "a run whose worker stops renewing its lease this long is failed or retried (default 30000)",
    integer("--lease-ms", 100),
  )
  .option(
    "--grace-ms <ms>",
    "on SIGTERM, how long running runs may finish before they are cancelled (default 30000)",
    integer("--grace-ms", 0),
  )
  .option("--max-runs <n>", "set the cluster's cap on runs executing at once", integer("--max-runs", 1))
  .option("--provider-limit <provider=n>", "set the cluster's cap for one provider (repeatable)", collect)
  .option(
    "--no-redact",
    "store secrets as they are (default: secrets are redacted before anything is stored)",
  )
  .action(async (options) => {
    const { workerCommand } = await import("./commands/worker.js");
    process.exitCode = await workerCommand(options);
  });

const queue = program.command("queue").description("the run queue shared by asm worker processes");
queue
  .command("status")
  .description("queued and running runs per session and provider, the caps, and the workers seen")
  .option(dbOption, "postgres:// URL of the store (default: $ASM_DB)")
  .option("--json", "print the status as JSON")
  .action(async (options) => {
    const { queueStatusCommand } = await import("./commands/queue.js");
    process.exitCode = await queueStatusCommand(options);
  });

const sessions = program.command("sessions").description("inspect stored sessions");
sessions
  .command("list")
  .description("list sessions, newest first")
  .option(dbOption, dbHelp)
  .option("--status <status>", "only sessions with this status")
  .option("--limit <n>", "at most this many", integer("--limit", 1), 20)
  .option("--json", "print one JSON session per line")
  .action(async (options) => {
    const { listSessionsCommand } = await import("./commands/sessions.js");
    process.exitCode = await listSessionsCommand(options);
  });
sessions
  .command("search")
  .description("search sessions across the database, one page at a time")
  .option(dbOption, dbHelp)
  .option("--agent <id>", "only this agent's sessions")
  .option("--status <list>", "only these statuses (comma-separated)")
  .option("--provider <name>", "only sessions with a run by this provider")
  .option("--tag <tag>", "only sessions with this tag (repeat for all of several)", collect, [])
  .option(
    "--since <when>",
    "created at or after this time: ISO 8601 (2026-01-31, 2026-01-31T09:00Z) or ago (24h, 7d)",
  )
  .option("--until <when>", "created at or before this time (same forms as --since)")
  .option("--include-deleted", "include soft-deleted sessions")
  .option("--order <order>", "created_desc, created_asc or updated_desc")
  .option("--limit <n>", "page size", integer("--limit", 1), 50)
  .option("--cursor <cursor>", "the next page, as printed by the previous one")
  .option("--json", "print the page as JSON")
  .action(async (options) => {
    const { searchSessionsCommand } = await import("./commands/search.js");
    process.exitCode = await searchSessionsCommand(options);
  });
sessions
  .command("show")
  .description("show a session with its runs")
  .argument("<sessionId>")
  .option(dbOption, dbHelp)
  .option("--json", "print the session and its runs as JSON")
  .action(async (sessionId: string, options) => {
    const { showSessionCommand } = await import("./commands/sessions.js");
    process.exitCode = await showSessionCommand(sessionId, options);
  });

program
  .command("events")
  .description("print a session's events from a cursor, optionally following new ones")
  .argument("<sessionId>")
  .option(dbOption, dbHelp)
  .option("--after <n>", "start after this sequence number", integer("--after", 0), 0)
  .option("-f, --follow", "keep printing new events until the session ends (or until interrupted)")
  .option("--keep-following", "like --follow, but do not stop when the session ends")
  .option("--json", "print one JSON event per line")
  .addOption(renderOption())
  .option("--log-file <path>", logFileHelp)
  .option("--jsonl-file <path>", jsonlFileHelp)
  .action(async (sessionId: string, options) => {
    const { eventsCommand } = await import("./commands/events.js");
    process.exitCode = await eventsCommand(sessionId, options);
  });

program
  .command("export")
  .description("write a whole session (session, runs, events, artifact refs) as JSON")
  .argument("<sessionId>")
  .option(dbOption, dbHelp)
  .option("-o, --out <file>", "write to this file (created owner-only) instead of stdout")
  .option("--no-redact", "write secrets as stored (default: secrets are redacted from the export)")
  .action(async (sessionId: string, options) => {
    const { exportCommand } = await import("./commands/transfer.js");
    process.exitCode = await exportCommand(sessionId, options);
  });

program
  .command("import")
  .description("import a session written by asm export (ids and sequence numbers kept)")
  .argument("<file>", "the export file, or - for stdin")
  .option(dbOption, dbHelp)
  .option("--json", "print the result as JSON")
  .option("--no-redact", "store secrets as they are in the file (default: secrets are redacted)")
  .action(async (file: string, options) => {
    const { importCommand } = await import("./commands/transfer.js");
    process.exitCode = await importCommand(file, options);
  });

const maintenance = program.command("maintenance").description("retention and health of the database");
maintenance
  .command("run")
  .description("apply a retention policy")
  .option(dbOption, dbHelp)
  .option(
    "--max-age <status=days>",
    "soft-delete sessions of a status idle this long (repeatable)",
    collect,
    [],
  )
  .option(
    "--exempt-tag <tag>",
    "never soft-delete sessions with this tag (default: pinned)",
    collect,
    undefined,
  )
  .option(
    "--hard-delete-after <days>",
    "delete soft-deleted sessions after this many days",
    integer("--hard-delete-after", 0),
  )
  .option(
    "--prune <types>",
    "event types to prune (comma-separated), keeping the last --keep-last per session",
  )
  .option("--keep-last <n>", "events of each pruned type to keep per session", integer("--keep-last", 0))
  .option("--json", "print the report as JSON")
  .action(async (options) => {
    const { maintenanceRunCommand } = await import("./commands/maintenance.js");
    process.exitCode = await maintenanceRunCommand(options);
  });
maintenance
  .command("health")
  .description("report sequence gaps, orphaned and stuck runs; exit 1 if any")
  .option(dbOption, dbHelp)
  .option("--stuck-after-ms <ms>", "a run running longer than this is stuck", integer("--stuck-after-ms", 1))
  .option("--json", "print the report as JSON")
  .action(async (options) => {
    const { healthCommand } = await import("./commands/maintenance.js");
    process.exitCode = await healthCommand(options);
  });

program
  .command("serve")
  .description("serve the HTTP API (sessions, runs, events over SSE) on this store")
  .option("--host <host>", "address to bind (a non-loopback one requires a token)", "127.0.0.1")
  .option("--port <port>", "port to listen on (0 picks a free one)", integer("--port", 0), 7411)
  .option("--token <token>", "bearer token clients must send (default: $ASM_TOKEN)")
  .option("--dev", "serve without a token (loopback addresses only)")
  .option(dbOption, dbHelp)
  .option("-p, --provider <name>", providers.names, "claude")
  .option("--provider-option <key=value>", "one of the provider's own options (repeatable)", collect)
  .option("--executable <path>", "the provider's CLI to run (default: the one its SDK ships)")
  .option("--cwd <dir>", "working directory for the provider (default: the current one)")
  .option("--workspace-root <dir>", "a directory runs may snapshot as their workspace (repeatable)", collect)
  .option("--cors-origin <origin>", "an origin allowed by CORS (repeatable; default: CORS off)", collect)
  .option(
    "--no-redact",
    "store secrets as they are (default: secrets are redacted before anything is stored)",
  )
  .action(async (options) => {
    const { serveCommand } = await import("./commands/serve.js");
    process.exitCode = await serveCommand(options);
  });

await program.parseAsync();
