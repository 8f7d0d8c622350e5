#!/usr/bin/env node
// Keep this file's imports minimal: `asm --help` must start fast, so every command loads its
// implementation (store, providers, zod) only when it runs.
import { Command, InvalidArgumentError } from "commander";

function integer(name: string, min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    }
    return parsed;
  };
}

const program = new Command("asm")
  .description("Run AI coding agents behind one durable log of sessions, runs and events.")
  .version("0.1.0")
  .showSuggestionAfterError()
  .configureOutput({ outputError: (text, write) => write(text.startsWith("error") ? `asm: ${text}` : text) });

const dbOption = "--db <path>";
const dbHelp = "database file (default: $ASM_DB or ./.asm/asm.db)";

program
  .command("run")
  .description("run one prompt (or, for the shell provider, one command) in a new session")
  .argument("<words...>", "the prompt; for --provider shell, the command and its arguments")
  .option("-p, --provider <name>", "provider to run", "shell")
  .option(dbOption, dbHelp)
  .option("--json", "print one JSON event per line")
  .option("--cwd <dir>", "working directory for the provider")
  .option("--timeout <ms>", "end the run with status timeout after this long", integer("--timeout", 1))
  .option("--shell", "shell provider: run the words as one /bin/sh command line (opt-in)")
  .addHelpText(
    "after",
    `
Examples:
  $ asm run --provider shell -- echo "hello world"
  $ asm run --provider shell --shell 'ls | wc -l'`,
  )
  .action(async (words: string[], options) => {
    const { runCommand } = await import("./commands/run.js");
    process.exitCode = await runCommand(words, options);
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
  .option("-f, --follow", "keep printing new events until interrupted")
  .option("--json", "print one JSON event per line")
  .action(async (sessionId: string, options) => {
    const { eventsCommand } = await import("./commands/events.js");
    process.exitCode = await eventsCommand(sessionId, options);
  });

await program.parseAsync();
