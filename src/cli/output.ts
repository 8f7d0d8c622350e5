import { constants } from "node:os";
import { AsmError } from "../core/errors.js";
import { type Color, paint as colorize, neutralise } from "../rendering/terminal.js";

/**
 * Exit codes: 0 ok, 1 the operation failed, 2 the request was invalid. A command stopped by a
 * signal ends with 128 + its number (`signalExitCode`: 130 for Ctrl-C, 143 for SIGTERM), as a
 * shell reports a process a signal ended.
 */
export const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

/** 128 + the number of `signal`: the exit code of a command it ended. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

const INVALID_CATEGORIES = new Set(["validation", "resource"]);

export interface Style {
  color: boolean;
}

export function styleFor(stream: NodeJS.WriteStream): Style {
  return { color: stream.isTTY === true && !process.env.NO_COLOR };
}

export function paint(style: Style, color: Color, text: string): string {
  return colorize(style.color, color, text);
}

/** Prints one clear line (and a hint) for an error; returns the exit code it deserves. */
export function reportError(error: unknown, json: boolean): number {
  const failure = AsmError.from(error);
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: failure.toJSON() })}\n`);
  } else {
    const style = styleFor(process.stderr);
    // A message can quote a provider's stderr: written through `neutralise`, as provider output is.
    process.stderr.write(
      `${paint(style, "red", "asm: error")} ${neutralise(failure.message)} [${failure.code}]\n`,
    );
    const hint = cliHint(failure) ?? failure.hint ?? defaultHint(failure);
    if (hint) process.stderr.write(`  ${paint(style, "gray", `hint: ${neutralise(hint)}`)}\n`);
  }
  return INVALID_CATEGORIES.has(failure.category) ? EXIT.invalid : EXIT.failed;
}

/** Where the library's hint starts to name its API for the fix: the CLI says its flag instead. */
const LIBRARY_OPTION_HINT = "pass providerOptions";

/**
 * A hint in the CLI's words where the library's speaks of its API: the `--provider-option` that
 * fixes the failure (`details.suggestedProviderOption`: "run Codex in a git repository, or pass
 * --provider-option skipGitRepoCheck=true"), how a CLI user upgrades a schema.
 */
function cliHint(error: AsmError): string | undefined {
  const suggested = error.details.suggestedProviderOption;
  if (typeof suggested === "object" && suggested !== null && "key" in suggested && "value" in suggested) {
    const { value } = suggested;
    const flag = `--provider-option ${String(suggested.key)}=${typeof value === "string" ? value : JSON.stringify(value)}`;
    const cut = error.hint?.indexOf(LIBRARY_OPTION_HINT) ?? -1;
    return cut > 0 ? `${error.hint?.slice(0, cut)}pass ${flag}` : `pass ${flag}`;
  }
  if (error.code === "migration_required" && error.details.direction === "upgrade") {
    return "back the database up, then run a command that writes (asm run, asm import, asm maintenance run): it upgrades the schema";
  }
  return undefined;
}

function defaultHint(error: AsmError): string | undefined {
  switch (error.code) {
    case "session_not_found":
      return "list sessions with: asm sessions list";
    case "invalid_cursor":
      return "the log is shorter than --after; see the latest sequence with: asm sessions show <id>";
    default:
      return typeof error.details.sessionId === "string"
        ? `the whole log: asm events ${error.details.sessionId}`
        : undefined;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
