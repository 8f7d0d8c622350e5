import { statSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { AsmError } from "../../core/errors.js";
import type { RunInput } from "../../core/run.js";
import type { JsonObject } from "../../core/session.js";
import { parseWith } from "../../core/validation.js";

/** Options of a `ShellAdapter`, fixed for every run it executes. */
export interface ShellAdapterOptions {
  /**
   * Working directory of commands; relative paths resolve against `process.cwd()`. Must be an
   * existing directory, else the constructor throws `validation_error`. Default `process.cwd()`.
   */
  cwd?: string;
  /** Extra environment variables, merged over `process.env` as it is when each run starts. Default none. */
  env?: Record<string, string>;
  /**
   * After this many milliseconds the command's whole process group is killed and the run rejects
   * with `timeout`. `0` means no limit. Default `30_000`.
   */
  timeoutMs?: number;
  /**
   * Bytes of stdout kept for the result's `content` (and of stderr, from its end, for `stderr`).
   * Beyond it, `content` is cut on a UTF-8 character boundary and the output says `truncated: true`.
   * `message_streamed` events still carry everything. Default `1_048_576` (1 MiB).
   */
  maxOutputBytes?: number;
  /**
   * Milliseconds between SIGTERM and SIGKILL when the process group is stopped (cancel, timeout,
   * or processes left behind by the command). Default `2000`.
   */
  killGraceMs?: number;
  /**
   * Accept `input.prompt` as a shell command line, run as `[shell, "-c", prompt]`. Default `false`:
   * only `input.command` (an argv array, never interpreted by a shell) is accepted.
   */
  allowShellString?: boolean;
  /** The shell that runs `input.prompt`. Only allowed together with `allowShellString`. Default `"/bin/sh"`. */
  shell?: string;
  /** Exit codes that count as success. Default `[0]`. */
  successExitCodes?: readonly number[];
}

/**
 * Per-run options: the `shell` namespace of `executeRun({ providerOptions })`; each overrides the
 * adapter's. Unknown keys are a `validation_error`.
 */
export interface ShellRunOptions {
  /** Replaces the adapter's `timeoutMs` for this run; `0` means no limit. */
  timeoutMs?: number;
  /** Working directory for this run; a relative path resolves against the adapter's `cwd`. */
  cwd?: string;
  /** Merged over the adapter's `env` (itself over `process.env`). */
  env?: Record<string, string>;
}

export const SHELL_ADAPTER_DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  maxOutputBytes: 1_048_576,
  killGraceMs: 2000,
  allowShellString: false,
  shell: "/bin/sh",
  successExitCodes: Object.freeze([0]) as readonly number[],
});

/** The adapter's options with defaults applied and `cwd` made absolute. */
export interface ResolvedShellOptions {
  cwd: string;
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  maxOutputBytes: number;
  killGraceMs: number;
  allowShellString: boolean;
  shell: string;
  successExitCodes: readonly number[];
}

/** `setTimeout` fires at once for delays above this, so larger timeouts would be silently ignored. */
const MAX_TIMER_MS = 2_147_483_647;

// spawn() throws synchronously on NUL bytes in argv, env or paths; reject them as bad input instead.
const noNul = z.string().refine((value) => !value.includes("\0"), "must not contain NUL characters");
const delayMs = z.number().int().nonnegative().max(MAX_TIMER_MS);
const envSchema = z.record(
  noNul.refine((key) => key.length > 0 && !key.includes("="), "must be a non-empty name without '='"),
  noNul,
);
const cwdSchema = noNul.min(1);

const adapterOptionsSchema = z.strictObject({
  cwd: cwdSchema.optional(),
  env: envSchema.optional(),
  timeoutMs: delayMs.optional(),
  maxOutputBytes: z.number().int().nonnegative().optional(),
  killGraceMs: delayMs.optional(),
  allowShellString: z.boolean().optional(),
  shell: noNul.min(1).optional(),
  successExitCodes: z.array(z.number().int().min(0).max(255)).min(1).optional(),
});

const runOptionsSchema = z.strictObject({
  timeoutMs: delayMs.optional(),
  cwd: cwdSchema.optional(),
  env: envSchema.optional(),
});

const commandSchema = z
  .array(noNul)
  .min(1)
  .refine(([program]) => program !== undefined && program.length > 0, {
    message: "the program (first word) must not be empty",
  });

/** Validates constructor options and applies defaults. Throws `validation_error`. */
export function resolveShellAdapterOptions(options: ShellAdapterOptions): ResolvedShellOptions {
  const value = parseWith(adapterOptionsSchema, options, "shell adapter options");
  if (value.shell !== undefined && value.allowShellString !== true) {
    // A configured shell that is never used is almost certainly a misunderstanding of the option.
    throw new AsmError(
      "validation_error",
      "invalid shell adapter options: shell is only used with allowShellString",
      {
        details: { shell: value.shell },
        hint: "set allowShellString: true to run input.prompt through this shell, or drop the shell option",
      },
    );
  }
  const cwd = path.resolve(value.cwd ?? process.cwd());
  assertDirectorySync(cwd);
  return {
    cwd,
    env: Object.freeze({ ...value.env }),
    timeoutMs: value.timeoutMs ?? SHELL_ADAPTER_DEFAULTS.timeoutMs,
    maxOutputBytes: value.maxOutputBytes ?? SHELL_ADAPTER_DEFAULTS.maxOutputBytes,
    killGraceMs: value.killGraceMs ?? SHELL_ADAPTER_DEFAULTS.killGraceMs,
    allowShellString: value.allowShellString ?? SHELL_ADAPTER_DEFAULTS.allowShellString,
    shell: value.shell ?? SHELL_ADAPTER_DEFAULTS.shell,
    successExitCodes: Object.freeze([...(value.successExitCodes ?? SHELL_ADAPTER_DEFAULTS.successExitCodes)]),
  };
}

/** Validates the run's `shell` options. Unknown keys are rejected so that a typo never silently drops a limit. */
export function parseShellRunOptions(options: JsonObject): ShellRunOptions {
  return parseWith(runOptionsSchema, options, "shell run options");
}

const ARGV_HINT = 'pass the command as an argv array in input.command, e.g. ["ls", "-la"]';

/** Turns the run's input into the argv to spawn. Throws `validation_error`. */
export function commandFromInput(input: RunInput, config: ResolvedShellOptions): string[] {
  const hasCommand = input.command !== undefined;
  const hasPrompt = input.prompt !== undefined;
  if (hasCommand && hasPrompt) {
    throw new AsmError("validation_error", "shell input has both command and prompt; pass exactly one", {
      hint: ARGV_HINT,
    });
  }
  if (hasCommand) {
    return parseWith(commandSchema, input.command, "input.command", { hint: ARGV_HINT });
  }
  if (hasPrompt) {
    if (!config.allowShellString) {
      throw new AsmError("validation_error", "the shell adapter does not run shell strings (input.prompt)", {
        hint: `${ARGV_HINT}, or construct the ShellAdapter with { allowShellString: true } to run input.prompt with ${config.shell} -c`,
      });
    }
    return [config.shell, "-c", parseWith(noNul.min(1), input.prompt, "input.prompt")];
  }
  throw new AsmError("validation_error", "shell input needs input.command (an argv array)", {
    hint: config.allowShellString ? `${ARGV_HINT}, or a shell command line in input.prompt` : ARGV_HINT,
  });
}

/** The run's working directory: the override resolved against the adapter's, checked to be a directory. */
export async function resolveRunCwd(adapterCwd: string, override: string | undefined): Promise<string> {
  const cwd = override === undefined ? adapterCwd : path.resolve(adapterCwd, override);
  // Checked before every spawn, not only at construction: spawn reports a missing cwd as ENOENT,
  // which would otherwise be indistinguishable from a missing executable.
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(cwd)).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) throw missingCwd(cwd);
  return cwd;
}

function assertDirectorySync(cwd: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(cwd).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) throw missingCwd(cwd);
}

export function missingCwd(cwd: string): AsmError {
  return new AsmError("validation_error", `working directory ${cwd} does not exist or is not a directory`, {
    details: { cwd },
  });
}

/** The schemas of `ShellAdapterOptions` and `ShellRunOptions` (the provider's descriptor publishes them). */
export { adapterOptionsSchema as shellOptionsSchema, runOptionsSchema as shellRunOptionsSchema };
