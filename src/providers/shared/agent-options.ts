import path from "node:path";
import { z } from "zod";
import { AsmError } from "../../core/errors.js";
import { PERMISSION_MODES, type PermissionMode } from "../../core/permission-mode.js";
import type { RunInput } from "../../core/run.js";
import { parseWith } from "../../core/validation.js";

/**
 * Options every coding-agent adapter (Claude Code, Codex, Amp) takes, fixed for the runs it
 * executes. Each adapter documents how it maps them to its provider and may add its own.
 */
export interface AgentAdapterOptions {
  /**
   * The CLI to run. Default: the one the provider's SDK finds (for Claude, the binary of the
   * SDK's platform package), else the provider's command on `PATH`.
   */
  executablePath?: string;
  /** Model name as the provider spells it. Default: the provider's default model. */
  model?: string;
  /** Working directory of the agent; relative paths resolve against `process.cwd()`. Default `process.cwd()`. */
  cwd?: string;
  /** Replaces the provider's system prompt. Default: the adapter's documented default. */
  systemPrompt?: string;
  /** Most agent turns (model round trips) per run. Default: the provider's own limit. */
  maxTurns?: number;
  /** How much the agent may do without approval; see `PermissionMode`. Default `"default"`. */
  permissionMode?: PermissionMode;
  /** Tools the agent may use without asking, in the provider's naming. Default none. */
  allowedTools?: string[];
  /** Tools the agent must not use, in the provider's naming. Default none. */
  deniedTools?: string[];
  /**
   * Environment variables for the CLI, merged over `process.env` as it is when each run starts
   * (never replacing it, whatever the SDK does with its own `env`). Default none.
   */
  env?: Record<string, string>;
  /**
   * Provider-specific settings passed through to the provider's SDK or CLI as they are (see each
   * adapter). Typed options above win where both set the same thing. Default none.
   */
  providerOptions?: Record<string, unknown>;
}

/** `AgentAdapterOptions` with `cwd` resolved and list defaults applied. */
export interface ResolvedAgentOptions {
  executablePath?: string;
  model?: string;
  cwd: string;
  systemPrompt?: string;
  maxTurns?: number;
  permissionMode: PermissionMode;
  allowedTools: readonly string[];
  deniedTools: readonly string[];
  env: Readonly<Record<string, string>>;
  providerOptions: Readonly<Record<string, unknown>>;
}

// spawn() throws synchronously on NUL bytes in argv, env or paths: reject them as bad input instead.
const noNul = z.string().refine((value) => !value.includes("\0"), "must not contain NUL characters");
const nonEmpty = noNul.min(1);

/** A delay in ms that `setTimeout` honours (it caps at 2^31 - 1 and fires at once beyond). */
export const timerMsSchema = z.number().int().nonnegative().max(2_147_483_647);

/**
 * A value that becomes a CLI argument on its own (a model, a mode, a file): non-empty, no NUL,
 * and it must not look like a flag to the CLI's parser.
 */
export const cliArgumentSchema = nonEmpty.refine(
  (value) => !value.startsWith("-"),
  "must not start with '-'",
);

export const permissionModeSchema = z.enum(PERMISSION_MODES);

export const agentEnvSchema = z.record(
  noNul.refine((key) => key.length > 0 && !key.includes("="), "must be a non-empty name without '='"),
  noNul,
);

/** The zod schema of `AgentAdapterOptions`; adapters `.extend()` it with their own keys. */
export const agentAdapterOptionsSchema = z.strictObject({
  executablePath: nonEmpty.optional(),
  model: nonEmpty.optional(),
  cwd: nonEmpty.optional(),
  systemPrompt: noNul.optional(),
  maxTurns: z.number().int().positive().optional(),
  permissionMode: permissionModeSchema.optional(),
  allowedTools: z.array(nonEmpty).optional(),
  deniedTools: z.array(nonEmpty).optional(),
  env: agentEnvSchema.optional(),
  providerOptions: z.record(z.string(), z.unknown()).optional(),
});

/** Validates the common options (throws `validation_error`) and applies their defaults. */
export function resolveAgentOptions(
  options: AgentAdapterOptions,
  what = "adapter options",
): ResolvedAgentOptions {
  const value = parseWith(agentAdapterOptionsSchema, options, what);
  return {
    ...(value.executablePath !== undefined ? { executablePath: value.executablePath } : {}),
    ...(value.model !== undefined ? { model: value.model } : {}),
    cwd: path.resolve(value.cwd ?? process.cwd()),
    ...(value.systemPrompt !== undefined ? { systemPrompt: value.systemPrompt } : {}),
    ...(value.maxTurns !== undefined ? { maxTurns: value.maxTurns } : {}),
    permissionMode: value.permissionMode ?? "default",
    allowedTools: Object.freeze([...(value.allowedTools ?? [])]),
    deniedTools: Object.freeze([...(value.deniedTools ?? [])]),
    env: Object.freeze({ ...value.env }),
    providerOptions: Object.freeze({ ...value.providerOptions }),
  };
}

/**
 * The prompt text of a run: `input.prompt`, else the `messages` (a lone user message as it is;
 * several as `role: content` paragraphs, so a replayed conversation keeps who said what).
 * Throws `validation_error` for an input with neither, or with a `command` (a shell run).
 */
export function promptFromInput(input: RunInput, provider: string): string {
  if (input.command !== undefined) {
    throw new AsmError("validation_error", `the ${provider} adapter takes a prompt, not a command`, {
      hint: "pass input.prompt (or input.messages)",
    });
  }
  if (input.prompt !== undefined) {
    if (input.prompt.trim() === "") throw new AsmError("validation_error", "input.prompt is empty");
    return input.prompt;
  }
  const messages = (input.messages ?? []).filter((message) => message.content.trim() !== "");
  const [only] = messages;
  if (only === undefined) {
    throw new AsmError("validation_error", `the ${provider} adapter needs input.prompt or input.messages`);
  }
  if (messages.length === 1 && only.role === "user") return only.content;
  return messages.map((message) => `${message.role}: ${message.content}`).join("\n\n");
}

/**
 * Refuses `providerOptions` keys the adapter sets itself (each with the hint saying what to use
 * instead): a pass-through must not override what the adapter manages.
 */
export function rejectReservedProviderOptions(
  providerOptions: Readonly<Record<string, unknown>> | undefined,
  reserved: Readonly<Record<string, string>>,
  what: string,
): void {
  for (const [key, instead] of Object.entries(reserved)) {
    if (providerOptions && key in providerOptions) {
      throw new AsmError(
        "validation_error",
        `invalid ${what}: providerOptions.${key} is set by the adapter`,
        {
          details: { option: key },
          hint: instead,
        },
      );
    }
  }
}
